//! `FiringQueue`: one per hub. Reservation actors whose timer is due hand
//! their id here; the queue fires everything due in shared write
//! transactions (`services::timers::fire_batch`) and answers each actor with
//! its row as it stands afterwards.
//!
//! Why one queue: SQLite has one writer, and a transaction per firing made
//! the commit, the write lock and the store and settings reads the cost of
//! every reminder. A batch pays them once. One batch runs at a time; what
//! falls due meanwhile waits for the next, so a busy hub batches more.

use std::collections::{HashMap, VecDeque};
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

/// What waits for the next batch, taken in the order it came, so the
/// longest due go first.
///
/// Taken in a hash map's own order, a batch picked ids at random across a
/// backlog: some reservations waited without bound, and the rows a batch
/// moved lay on scattered pages, so a hub once behind fell further behind
/// (BENCHMARKS.md, Timers).
#[derive(Default)]
struct Backlog {
    queued: HashMap<i64, Queued>,
    /// The keys of `queued`, each once, oldest first.
    arrival: VecDeque<i64>,
}

impl Backlog {
    /// Adds an asker for `id`; a second asker for a queued id keeps its place.
    fn push(&mut self, id: i64, hint: Option<TimerHint>, sender: oneshot::Sender<Fired>) {
        let arrival = &mut self.arrival;
        let queued = self.queued.entry(id).or_insert_with(|| {
            arrival.push_back(id);
            Queued {
                hint,
                senders: Vec::new(),
            }
        });
        // Two askers with different hints: read the row rather than guess.
        if queued.hint != hint {
            queued.hint = None;
        }
        queued.senders.push(sender);
    }

    /// Takes up to `most` ids, oldest first.
    fn take(&mut self, most: usize) -> Vec<(i64, Queued)> {
        let mut taken = Vec::with_capacity(most.min(self.queued.len()));
        while taken.len() < most
            && let Some(id) = self.arrival.pop_front()
        {
            if let Some(queued) = self.queued.remove(&id) {
                taken.push((id, queued));
            }
        }
        taken
    }

    fn is_empty(&self) -> bool {
        self.queued.is_empty()
    }
}

pub struct FiringQueue {
    app: AppContext,
    backlog: Backlog,
    /// A batch is running, or one is about to start.
    busy: bool,
}

impl FiringQueue {
    pub fn new(app: AppContext) -> Self {
        Self {
            app,
            backlog: Backlog::default(),
            busy: false,
        }
    }

    /// Starts the next batch with what is queued.
    fn run_batch(&mut self, ctx: &mut Context<Self>) {
        if self.backlog.is_empty() {
            self.busy = false;
            return;
        }
        self.busy = true;
        let (requests, waiting): (Vec<_>, Vec<_>) = self
            .backlog
            .take(MAX_BATCH)
            .into_iter()
            .map(|(id, Queued { hint, senders })| ((id, hint), (id, senders)))
            .unzip();
        let app = self.app.clone();
        let work = async move {
            metrics::histogram!("storehub_timer_batch_size").record(requests.len() as f64);
            // On SQLite's writer thread, next to the writer connection.
            let db = app.db.clone();
            let batch = async move { timers::fire_batch(&app, &requests).await };
            let mut results = match db.on_writer_thread(batch).await {
                Ok(results) => results,
                Err(err) => {
                    tracing::error!(error = %err, "a timer batch could not run");
                    HashMap::new()
                }
            };
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
        self.backlog.push(id, hint, sender);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn asker() -> oneshot::Sender<Fired> {
        oneshot::channel().0
    }

    #[test]
    fn a_backlog_is_taken_oldest_first_and_an_id_asked_twice_keeps_its_place() {
        let mut backlog = Backlog::default();
        // More than a batch, in an order no hash map keeps.
        let ids: Vec<i64> = (0..1_500).map(|n| (n * 7_919) % 1_500).collect();
        for id in &ids {
            backlog.push(*id, None, asker());
        }
        backlog.push(ids[3], None, asker());

        let first = backlog.take(MAX_BATCH);
        let first_ids: Vec<i64> = first.iter().map(|(id, _)| *id).collect();
        assert_eq!(first_ids, ids[..MAX_BATCH]);
        assert_eq!(first[3].1.senders.len(), 2);
        let rest: Vec<i64> = backlog.take(usize::MAX).iter().map(|(id, _)| *id).collect();
        assert_eq!(rest, ids[MAX_BATCH..]);
        assert!(backlog.is_empty());
    }

    #[test]
    fn askers_with_different_hints_leave_the_row_to_be_read() {
        let at = chrono::Utc::now();
        let hint = |minutes| {
            Some(TimerHint {
                timer: crate::domain::timers::Timer::Reminder,
                at: at + chrono::Duration::minutes(minutes),
                store_id: 1,
            })
        };
        let mut backlog = Backlog::default();
        backlog.push(1, hint(0), asker());
        backlog.push(2, hint(0), asker());
        backlog.push(2, hint(5), asker());
        let taken = backlog.take(2);
        assert_eq!(taken[0].1.hint, hint(0));
        assert_eq!(taken[1].1.hint, None);
    }
}
