//! Wakes on a short interval and ends reservations whose deadline passed.
//! The due times are rows in the database; this actor only decides when to
//! look, so it holds nothing that a restart could lose.

use std::time::Duration;

use actix::prelude::*;

use crate::context::AppContext;
use crate::services::deadlines;

pub struct DeadlineSweeper {
    ctx: AppContext,
    every: Duration,
    /// A sweep still running is not started twice.
    busy: bool,
}

impl DeadlineSweeper {
    pub fn new(ctx: AppContext, every: Duration) -> Self {
        Self {
            ctx,
            every,
            busy: false,
        }
    }
}

/// Runs one sweep now (tests and the interval both send it).
#[derive(Message)]
#[rtype(result = "()")]
pub struct SweepNow;

impl Actor for DeadlineSweeper {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        ctx.run_interval(self.every, |_, ctx| ctx.notify(SweepNow));
    }
}

impl Handler<SweepNow> for DeadlineSweeper {
    type Result = ();

    fn handle(&mut self, _: SweepNow, ctx: &mut Context<Self>) {
        if self.busy {
            return;
        }
        self.busy = true;
        let app = self.ctx.clone();
        let sweep = async move { deadlines::expire_due(&app).await };
        ctx.spawn(sweep.into_actor(self).map(|result, actor, _| {
            actor.busy = false;
            match result {
                Ok(0) => {}
                Ok(expired) => tracing::info!(expired, "deadlines passed"),
                Err(err) => tracing::warn!(error = %err, "deadline sweep failed; will retry"),
            }
        }));
    }
}
