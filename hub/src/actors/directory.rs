//! The directory: starts store and reservation actors on demand, rebuilds
//! every live reservation's actor at boot, routes committed events, and
//! restarts actors that died (a panic in one never takes the hub down).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use futures_util::future::join_all;

use super::firing::FiringQueue;
use super::reservation::{FireNow, Refresh, ReservationActor, ReservationLinks};
use super::store::{Publish, StoreActor};
use crate::context::{AppContext, Committed, Published};
use crate::store as db;

/// How often dead actors are looked for.
const SUPERVISE_EVERY: Duration = Duration::from_secs(2);

/// Live reservations read per query at boot.
const REBUILD_PAGE: u64 = 5_000;

/// How long a failed boot read waits before it is tried again.
const REBUILD_RETRY: Duration = Duration::from_secs(1);

pub struct Directory {
    app: AppContext,
    links: Arc<ReservationLinks>,
    stores: HashMap<i64, Addr<StoreActor>>,
    reservations: HashMap<i64, Addr<ReservationActor>>,
}

impl Directory {
    /// Starts the directory, which first rebuilds every live reservation's actor.
    pub fn start_for(app: AppContext) -> Addr<Directory> {
        Directory::create(|ctx| {
            let firing = FiringQueue::new(app.clone()).start();
            let links = ReservationLinks::new(app.clock.clone(), firing, ctx.address());
            Self {
                app,
                links: Arc::new(links),
                stores: HashMap::new(),
                reservations: HashMap::new(),
            }
        })
    }

    fn start_reservation(&mut self, id: i64) -> Addr<ReservationActor> {
        let addr = self.reservation_actor(id).start();
        self.reservations.insert(id, addr.clone());
        addr
    }

    fn reservation_actor(&self, id: i64) -> ReservationActor {
        ReservationActor::new(id, self.links.clone())
    }

    /// Starts the actors of the live reservations after `after_id`, a page
    /// at a time. Each page holds the mailbox (`wait`) and queues the next,
    /// so nothing else is handled until every timer is back.
    fn rebuild_from(&mut self, after_id: i64, ctx: &mut Context<Self>) {
        let app = self.app.clone();
        let work = async move {
            db::reservations::live_timers_page(app.db.conn(), after_id, REBUILD_PAGE).await
        };
        ctx.wait(
            work.into_actor(self)
                .map(move |result, directory, ctx| match result {
                    Ok(page) => {
                        let more = page.len() as u64 == REBUILD_PAGE;
                        let last_id = page.last().map_or(after_id, |row| row.id);
                        for row in page {
                            let next = crate::services::timers::hint_of_live(&row);
                            let addr = directory
                                .reservation_actor(row.id)
                                .sleeping_for(next)
                                .start();
                            directory.reservations.insert(row.id, addr);
                        }
                        if more {
                            directory.rebuild_from(last_id, ctx);
                        } else {
                            tracing::info!(
                                reservations = directory.reservations.len(),
                                "reservation timers rebuilt"
                            );
                        }
                    }
                    Err(err) => {
                        // Giving up would lose these timers: try the page again.
                        tracing::error!(error = %err, after_id, "could not read reservation timers; retrying");
                        ctx.wait(
                            actix::clock::sleep(REBUILD_RETRY)
                                .into_actor(directory)
                                .map(move |_, directory, ctx| directory.rebuild_from(after_id, ctx)),
                        );
                    }
                }),
        );
    }

    /// Restarts the firing queue if it died, and forgets dead store actors
    /// (the next event starts a new one). Reservation actors are not walked:
    /// one that panics says so in its `Finished` as it unwinds, and walking
    /// 100,000 of them held this thread, and every timer, for milliseconds.
    fn supervise(&mut self) {
        if !self.links.queue().connected() {
            // Due times live in the rows: nothing was fired half-way.
            tracing::warn!("firing queue died; restarting it");
            metrics::counter!("storehub_actor_restarts_total").increment(1);
            self.links
                .replace_queue(FiringQueue::new(self.app.clone()).start());
        }
        self.stores.retain(|_, addr| addr.connected());
    }
}

impl Actor for Directory {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        // Rebuild every live reservation's timers before handling anything.
        self.rebuild_from(0, ctx);
        ctx.run_interval(SUPERVISE_EVERY, |directory, _| directory.supervise());
    }
}

impl Handler<Committed> for Directory {
    type Result = ();

    fn handle(&mut self, committed: Committed, _: &mut Context<Self>) {
        let Committed { events, by_timers } = committed;
        for Published { event, after } in events {
            let reservation_id = event.reservation_id;
            let store_id = event.store_id;
            let item = after.as_ref().map(|after| after.item.clone());
            let publish = Publish { event, item };
            match self.stores.get(&store_id) {
                Some(store) if store.connected() => store.do_send(publish),
                _ => {
                    // This event is the first the new actor sends.
                    let first_seq = publish.event.seq;
                    let store =
                        StoreActor::new(store_id, Some(first_seq), self.app.clone()).start();
                    store.do_send(publish);
                    self.stores.insert(store_id, store);
                }
            }
            match self.reservations.get(&reservation_id) {
                Some(addr) if addr.connected() => {
                    if !by_timers {
                        addr.do_send(Refresh);
                    }
                }
                // A new actor may trust the row its first event committed:
                // a later change refreshes it (and reads) in any order.
                _ => match after {
                    Some(after) => {
                        let next = crate::services::timers::hint_of(&after.row);
                        let addr = self
                            .reservation_actor(reservation_id)
                            .sleeping_for(next)
                            .start();
                        self.reservations.insert(reservation_id, addr);
                    }
                    None => {
                        self.start_reservation(reservation_id);
                    }
                },
            }
        }
    }
}

/// The store actor of a store, started if needed.
#[derive(Message)]
#[rtype(result = "Option<Addr<StoreActor>>")]
pub struct StoreAddr {
    pub store_id: i64,
}

impl Handler<StoreAddr> for Directory {
    type Result = Option<Addr<StoreActor>>;

    fn handle(&mut self, msg: StoreAddr, _: &mut Context<Self>) -> Self::Result {
        if let Some(addr) = self.stores.get(&msg.store_id).filter(|a| a.connected()) {
            return Some(addr.clone());
        }
        let addr = StoreActor::new(msg.store_id, None, self.app.clone()).start();
        self.stores.insert(msg.store_id, addr.clone());
        Some(addr)
    }
}

/// A reservation actor stopped: done, or crashed.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Finished {
    pub reservation_id: i64,
    /// False when it stopped because of a panic.
    pub completed: bool,
}

impl Handler<Finished> for Directory {
    type Result = ();

    fn handle(&mut self, msg: Finished, _: &mut Context<Self>) {
        let stale = self
            .reservations
            .get(&msg.reservation_id)
            .is_some_and(|addr| !addr.connected());
        if !stale {
            // A newer actor already took over.
            return;
        }
        if msg.completed {
            self.reservations.remove(&msg.reservation_id);
        } else {
            tracing::warn!(
                reservation = msg.reservation_id,
                "reservation actor crashed; restarting from the database"
            );
            metrics::counter!("storehub_actor_restarts_total").increment(1);
            self.start_reservation(msg.reservation_id);
        }
    }
}

/// Fires every due timer now and answers when all are done.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Settle;

impl Handler<Settle> for Directory {
    type Result = ResponseFuture<()>;

    fn handle(&mut self, _: Settle, _: &mut Context<Self>) -> Self::Result {
        self.supervise();
        let actors: Vec<Addr<ReservationActor>> = self.reservations.values().cloned().collect();
        Box::pin(async move {
            join_all(actors.iter().map(|addr| addr.send(FireNow))).await;
        })
    }
}

/// How many actors run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, MessageResponse)]
pub struct Counts {
    pub stores: usize,
    pub reservations: usize,
}

/// Asks how many actors run (for tests and metrics).
#[derive(Message)]
#[rtype(result = "Counts")]
pub struct Census;

impl Handler<Census> for Directory {
    type Result = Counts;

    fn handle(&mut self, _: Census, _: &mut Context<Self>) -> Counts {
        Counts {
            stores: self.stores.len(),
            reservations: self.reservations.values().filter(|a| a.connected()).count(),
        }
    }
}

/// Crashes the firing queue (supervision tests).
#[doc(hidden)]
#[derive(Message)]
#[rtype(result = "()")]
pub struct CrashFiringQueueForTest;

impl Handler<CrashFiringQueueForTest> for Directory {
    type Result = ();

    fn handle(&mut self, _: CrashFiringQueueForTest, _: &mut Context<Self>) {
        self.links.queue().do_send(super::firing::CrashForTest);
    }
}

/// Crashes one reservation actor (supervision tests).
#[doc(hidden)]
#[derive(Message)]
#[rtype(result = "bool")]
pub struct CrashReservationForTest(pub i64);

impl Handler<CrashReservationForTest> for Directory {
    type Result = bool;

    fn handle(&mut self, msg: CrashReservationForTest, _: &mut Context<Self>) -> bool {
        match self.reservations.get(&msg.0) {
            Some(addr) => {
                addr.do_send(super::reservation::CrashForTest);
                true
            }
            None => false,
        }
    }
}

/// Every running store actor that has been started (the load generator's targets).
#[derive(Message)]
#[rtype(result = "Vec<Addr<StoreActor>>")]
pub struct RunningStores;

impl Handler<RunningStores> for Directory {
    type Result = Vec<Addr<StoreActor>>;

    fn handle(&mut self, _: RunningStores, _: &mut Context<Self>) -> Self::Result {
        self.stores
            .values()
            .filter(|addr| addr.connected())
            .cloned()
            .collect()
    }
}
