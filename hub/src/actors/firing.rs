//! `FiringQueue`: one per hub. Reservation actors whose timer is due hand
//! their id here; the queue fires everything due in shared write
//! transactions (`services::timers::fire_batch`) and answers each actor with
//! its row as it stands afterwards.
//!
//! Why one queue: SQLite has one writer, and a transaction per firing made
//! the commit, the write lock and the store and settings reads the cost of
//! every reminder. A batch pays them once. One batch runs at a time; what
//! falls due meanwhile waits for the next, so a busy hub batches more.

use std::collections::HashMap;
use std::time::Duration;

use actix::prelude::*;
use tokio::sync::oneshot;

use crate::context::AppContext;
use crate::domain::timers::TimerHint;
use crate::error::ApiError;
use crate::services::timers::{self, Fired};

/// How long the first due id waits for others due at the same moment.
const GATHER: Duration = Duration::from_millis(1);

/// Most reservations fired in one batch (bounds a transaction's length).
const MAX_BATCH: usize = 512;

/// Fire what is due on this reservation; answers with its row afterwards.
#[derive(Message)]
#[rtype(result = "Fired")]
pub struct Fire {
    pub id: i64,
    /// The timer the actor expects, known from the row it last saw.
    pub hint: Option<TimerHint>,
}

/// The actors waiting on one reservation's firing.
struct Queued {
    hint: Option<TimerHint>,
    senders: Vec<oneshot::Sender<Fired>>,
}

pub struct FiringQueue {
    app: AppContext,
    queued: HashMap<i64, Queued>,
    /// A batch is running, or one is about to start.
    busy: bool,
}

impl FiringQueue {
    pub fn new(app: AppContext) -> Self {
        Self {
            app,
            queued: HashMap::new(),
            busy: false,
        }
    }

    /// Starts the next batch with what is queued.
    fn run_batch(&mut self, ctx: &mut Context<Self>) {
        if self.queued.is_empty() {
            self.busy = false;
            return;
        }
        self.busy = true;
        let ids: Vec<i64> = self.queued.keys().take(MAX_BATCH).copied().collect();
        let mut requests = Vec::with_capacity(ids.len());
        let mut waiting = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(Queued { hint, senders }) = self.queued.remove(&id) {
                requests.push((id, hint));
                waiting.push((id, senders));
            }
        }
        let app = self.app.clone();
        let work = async move {
            metrics::histogram!("storehub_timer_batch_size").record(requests.len() as f64);
            let mut results = timers::fire_batch(&app, &requests).await;
            for (id, senders) in waiting {
                let result = results.remove(&id).unwrap_or_else(|| {
                    Err(anyhow::anyhow!("reservation {id} was not fired").into())
                });
                answer(senders, result);
            }
        };
        ctx.spawn(
            work.into_actor(self)
                .map(|_, queue, ctx| queue.run_batch(ctx)),
        );
    }
}

/// Sends one result to every actor that asked (normally one).
fn answer(senders: Vec<oneshot::Sender<Fired>>, result: Fired) {
    let mut senders = senders.into_iter();
    let Some(last) = senders.next_back() else {
        return;
    };
    for sender in senders {
        let copy = match &result {
            Ok(row) => Ok(row.clone()),
            Err(err) => Err(anyhow::anyhow!("{err}").into()),
        };
        let _ = sender.send(copy);
    }
    let _ = last.send(result);
}

impl Actor for FiringQueue {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        // Many reservations fall due together after a restart; the rest
        // wait their turn (`send` waits while the mailbox is full).
        ctx.set_mailbox_capacity(MAX_BATCH * 8);
    }
}

/// Makes the queue panic: lets tests check that supervision restarts it.
#[doc(hidden)]
#[derive(Message)]
#[rtype(result = "()")]
pub struct CrashForTest;

impl Handler<CrashForTest> for FiringQueue {
    type Result = ();

    #[allow(clippy::panic)]
    fn handle(&mut self, _: CrashForTest, _: &mut Context<Self>) {
        panic!("firing queue crashed on purpose");
    }
}

impl Handler<Fire> for FiringQueue {
    type Result = ResponseFuture<Fired>;

    fn handle(&mut self, Fire { id, hint }: Fire, ctx: &mut Context<Self>) -> Self::Result {
        let (sender, receiver) = oneshot::channel();
        let queued = self.queued.entry(id).or_insert(Queued {
            hint,
            senders: Vec::new(),
        });
        // Two askers with different hints: read the row rather than guess.
        if queued.hint != hint {
            queued.hint = None;
        }
        queued.senders.push(sender);
        if !self.busy {
            self.busy = true;
            ctx.run_later(GATHER, |queue, ctx| queue.run_batch(ctx));
        }
        Box::pin(async move {
            receiver.await.unwrap_or_else(|_| {
                Err(ApiError::from(anyhow::anyhow!(
                    "the firing queue stopped before reservation {id} was fired"
                )))
            })
        })
    }
}
