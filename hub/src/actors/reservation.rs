//! `ReservationActor`: one per live reservation, holding its next timer
//! (reminder, overdue escalation, validation or pickup expiry). When it is
//! due, the actor hands its id to the hub's `FiringQueue`, which fires it
//! with whatever else is due in one transaction and answers with the row;
//! the actor sleeps until the row's next due time, and stops when nothing
//! is left. It holds no application context: it is one of many thousands.

use std::sync::{Arc, PoisonError, RwLock};

use actix::prelude::*;
use chrono::{DateTime, Utc};

use super::directory::{Directory, Finished};
use super::firing::{Fire, FiringQueue};
use crate::clock::SharedClock;
use crate::domain::timers::TimerHint;
use crate::services::timers::{self, Fired};

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

/// What every reservation actor reaches, shared by all of them: an `Addr`
/// clone each would cost two allocations per actor, and a million actors
/// are one of the memory targets.
pub struct ReservationLinks {
    clock: SharedClock,
    directory: Addr<Directory>,
    /// Replaced when supervision restarts the queue.
    queue: RwLock<Addr<FiringQueue>>,
}

impl ReservationLinks {
    pub fn new(clock: SharedClock, queue: Addr<FiringQueue>, directory: Addr<Directory>) -> Self {
        Self {
            clock,
            directory,
            queue: RwLock::new(queue),
        }
    }

    pub fn queue(&self) -> Addr<FiringQueue> {
        self.queue
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The firing queue was restarted: every actor uses this one from now on
    /// (a firing that failed on the dead queue retries on its own timer).
    pub fn replace_queue(&self, queue: Addr<FiringQueue>) {
        *self.queue.write().unwrap_or_else(PoisonError::into_inner) = queue;
    }
}

pub struct ReservationActor {
    id: i64,
    links: Arc<ReservationLinks>,
    timer: Option<SpawnHandle>,
    /// The timer it sleeps for, from the last row it saw (at boot, the
    /// rebuild query's columns): the first sleep needs no read, and the
    /// firing queue can move a due reminder without reading the row.
    next: Option<TimerHint>,
}

impl ReservationActor {
    pub fn new(id: i64, links: Arc<ReservationLinks>) -> Self {
        Self {
            id,
            links,
            timer: None,
            next: None,
        }
    }

    pub fn sleeping_for(mut self, next: Option<TimerHint>) -> Self {
        self.next = next;
        self
    }

    /// Sleeps until `due`, then fires and reschedules.
    fn sleep_until(&mut self, due: DateTime<Utc>, ctx: &mut Context<Self>) {
        let sleep = self.links.clock.sleep_until(due);
        let handle = ctx.spawn(sleep.into_actor(self).map(|_, actor, ctx| {
            actor.timer = None;
            actor.refresh(true, ctx);
        }));
        self.timer = Some(handle);
    }

    /// The work of a refresh: fire what is due (through the queue), then
    /// sleep until the next due time of the row it answers with. `hinted`:
    /// nothing changed the row since it was last seen, so the queue may
    /// trust the timer known from it.
    fn fire(&mut self, hinted: bool) -> impl ActorFuture<Self, Output = ()> + 'static {
        let hint = if hinted { self.next } else { None };
        let sent = self
            .links
            .queue
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .send(Fire { id: self.id, hint });
        let id = self.id;
        let work = async move {
            sent.await.unwrap_or_else(|err| {
                Err(anyhow::anyhow!("firing queue unreachable for {id}: {err}").into())
            })
        };
        work.into_actor(self)
            .map(|result, actor, ctx| actor.schedule(result, ctx))
    }

    /// Sleeps until the next due time, or stops when nothing is left.
    fn schedule(&mut self, result: Fired, ctx: &mut Context<Self>) {
        if let Some(timer) = self.timer.take() {
            ctx.cancel_future(timer);
        }
        match result {
            Ok(Some(row)) => {
                self.next = timers::hint_of(&row);
                match self.next {
                    Some(next) => {
                        metrics::counter!("storehub_timers_scheduled_total").increment(1);
                        self.sleep_until(next.at, ctx);
                    }
                    None => ctx.stop(),
                }
            }
            Ok(None) => ctx.stop(),
            Err(err) => {
                // The database hiccuped: try again shortly rather than lose the timer.
                tracing::warn!(reservation = self.id, error = %err, "timer check failed; retrying");
                let handle = ctx.run_later(std::time::Duration::from_secs(1), |actor, ctx| {
                    actor.timer = None;
                    actor.refresh(false, ctx);
                });
                self.timer = Some(handle);
            }
        }
    }

    /// Fires what is due and reschedules, holding the mailbox so refreshes
    /// never overlap.
    fn refresh(&mut self, hinted: bool, ctx: &mut Context<Self>) {
        if let Some(timer) = self.timer.take() {
            ctx.cancel_future(timer);
        }
        let work = self.fire(hinted);
        ctx.wait(work);
    }
}

impl Actor for ReservationActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        match self.next {
            Some(next) if next.at > self.links.clock.now() => {
                // How far a restart's rebuild has got, among other things.
                metrics::counter!("storehub_timers_scheduled_total").increment(1);
                self.sleep_until(next.at, ctx);
            }
            // Due already (the hub was down), or nothing known.
            _ => self.refresh(true, ctx),
        }
    }

    fn stopped(&mut self, _: &mut Context<Self>) {
        // Also runs while a panic unwinds the actor: then it did not finish.
        self.links.directory.do_send(Finished {
            reservation_id: self.id,
            completed: !std::thread::panicking(),
        });
    }
}

impl Handler<Refresh> for ReservationActor {
    type Result = ();

    fn handle(&mut self, _: Refresh, ctx: &mut Context<Self>) {
        // The row changed: what the actor knew of it is stale.
        self.next = None;
        self.refresh(false, ctx);
    }
}

impl Handler<FireNow> for ReservationActor {
    type Result = AtomicResponse<Self, ()>;

    fn handle(&mut self, _: FireNow, ctx: &mut Context<Self>) -> Self::Result {
        if let Some(timer) = self.timer.take() {
            ctx.cancel_future(timer);
        }
        // The reply goes only once the firing is done (and holds the mailbox).
        AtomicResponse::new(Box::pin(self.fire(true)))
    }
}

impl Handler<CrashForTest> for ReservationActor {
    type Result = ();

    #[allow(clippy::panic)]
    fn handle(&mut self, _: CrashForTest, _: &mut Context<Self>) {
        panic!("reservation actor {} crashed on purpose", self.id);
    }
}
