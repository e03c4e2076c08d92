//! `ReservationActor`: one per live reservation, holding its next timer
//! (reminder, overdue escalation, validation or pickup expiry). It reads its
//! due times from the row, fires what is due through `services::timers`,
//! sleeps until the next one, and stops when nothing is left.

use actix::prelude::*;

use super::directory::{Directory, Finished};
use crate::context::AppContext;
use crate::services::timers;

/// Re-reads the reservation and reschedules (sent after every change).
#[derive(Message)]
#[rtype(result = "()")]
pub struct Refresh;

/// Fires whatever is due now and answers when done (tests, settle).
#[derive(Message)]
#[rtype(result = "()")]
pub struct FireNow;

/// Makes the actor panic: lets tests check that supervision restarts it.
#[doc(hidden)]
#[derive(Message)]
#[rtype(result = "()")]
pub struct CrashForTest;

pub struct ReservationActor {
    id: i64,
    app: AppContext,
    directory: Addr<Directory>,
    timer: Option<SpawnHandle>,
}

impl ReservationActor {
    pub fn new(id: i64, app: AppContext, directory: Addr<Directory>) -> Self {
        Self {
            id,
            app,
            directory,
            timer: None,
        }
    }

    /// Fires what is due, then sleeps until the next due time or stops.
    /// Runs with the mailbox held, so refreshes never overlap.
    fn refresh(&mut self, ctx: &mut Context<Self>) {
        if let Some(timer) = self.timer.take() {
            ctx.cancel_future(timer);
        }
        let app = self.app.clone();
        let id = self.id;
        let work = async move { timers::fire_due(&app, id).await };
        ctx.wait(work.into_actor(self).map(|result, actor, ctx| match result {
            Ok(Some(row)) => match timers::next_due(&row) {
                Some(due) => {
                    let sleep = actor.app.clock.sleep_until(due);
                    let handle = ctx.spawn(sleep.into_actor(actor).map(|_, actor, ctx| {
                        actor.timer = None;
                        actor.refresh(ctx);
                    }));
                    actor.timer = Some(handle);
                }
                None => ctx.stop(),
            },
            Ok(None) => ctx.stop(),
            Err(err) => {
                // The database hiccuped: try again shortly rather than lose the timer.
                tracing::warn!(reservation = actor.id, error = %err, "timer check failed; retrying");
                let handle = ctx.run_later(std::time::Duration::from_secs(1), |actor, ctx| {
                    actor.timer = None;
                    actor.refresh(ctx);
                });
                actor.timer = Some(handle);
            }
        }));
    }
}

impl Actor for ReservationActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        self.refresh(ctx);
    }

    fn stopped(&mut self, _: &mut Context<Self>) {
        // Also runs while a panic unwinds the actor: then it did not finish.
        self.directory.do_send(Finished {
            reservation_id: self.id,
            completed: !std::thread::panicking(),
        });
    }
}

impl Handler<Refresh> for ReservationActor {
    type Result = ();

    fn handle(&mut self, _: Refresh, ctx: &mut Context<Self>) {
        self.refresh(ctx);
    }
}

impl Handler<FireNow> for ReservationActor {
    type Result = ();

    fn handle(&mut self, _: FireNow, ctx: &mut Context<Self>) {
        // `refresh` holds the mailbox until done, so the reply comes after.
        self.refresh(ctx);
    }
}

impl Handler<CrashForTest> for ReservationActor {
    type Result = ();

    #[allow(clippy::panic)]
    fn handle(&mut self, _: CrashForTest, _: &mut Context<Self>) {
        panic!("reservation actor {} crashed on purpose", self.id);
    }
}
