//! `StoreActor`: one per store. Numbers its events in order for the
//! connected staff sessions and fans each one out as a ready-made frame.
//! Commits can publish out of order; frames wait in a small buffer until
//! the sequence has no gap (a missing one is read from the database).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use bytestring::ByteString;
use schema::entities::reservation_event;
use tokio::sync::{Notify, mpsc};

use crate::context::AppContext;
use crate::realtime::protocol::event_frame;
use crate::services::board::{self, Board, BoardItem};
use crate::store as db;

/// How long a gap in the sequence may last before it is filled from the database.
const GAP_WAIT: Duration = Duration::from_millis(200);

/// How often frames built without a read look again for room in the
/// sessions' queues, and how long they wait for it at most.
const ROOM_WAIT: Duration = Duration::from_millis(1);
const ROOM_PATIENCE: Duration = Duration::from_millis(50);

/// A frame for one session, tagged so the session can skip what it already sent.
#[derive(Debug, Clone)]
pub struct Outbound {
    pub store_id: i64,
    /// The store's event sequence number; None for frames outside the
    /// sequence (load-test frames), which are never skipped.
    pub seq: Option<i64>,
    /// Shared bytes: every session writes the same buffer, none copies it.
    pub frame: ByteString,
}

/// A connected staff session as the store sees it.
#[derive(Clone)]
pub struct SessionHandle {
    /// One pointer per slot: a queue's slots are allocated 32 at a time,
    /// idle or not, and every session of a store gets the same frame.
    pub queue: mpsc::Sender<Arc<Outbound>>,
    /// Told when the session cannot keep up and must go.
    pub kick: Arc<Notify>,
}

/// Answers with the last seq the store has sent: every later event will
/// reach the session, so a client already at that seq has nothing to catch up.
#[derive(Message)]
#[rtype(result = "i64")]
pub struct Join {
    pub session_id: u64,
    pub handle: SessionHandle,
}

#[derive(Message)]
#[rtype(result = "()")]
pub struct Leave {
    pub session_id: u64,
}

/// A committed event of this store, with its reservation's board item as
/// the commit left it when the publisher had it (then no read is needed).
#[derive(Message)]
#[rtype(result = "()")]
pub struct Publish {
    pub event: reservation_event::Model,
    pub item: Option<BoardItem>,
}

/// A synthetic frame from the load generator (`services::load`): takes the
/// same fan-out path as an event, outside the store's sequence.
#[derive(Message)]
#[rtype(result = "()")]
pub struct LoadFrame {
    pub n: u64,
    /// When the generator meant to send it (Unix microseconds), so clients
    /// measure latency from the schedule, not from a late send.
    pub scheduled_us: i64,
    /// Padded to this many bytes, the size of a typical event frame.
    pub frame_bytes: usize,
}

/// Frame built for an event.
struct Ready {
    seq: i64,
    frame: ByteString,
    item: Option<BoardItem>,
}

/// The live board, exactly as of the last event sent; the first ask loads
/// it. None while a gap is open or when it could not be read.
#[derive(Message)]
#[rtype(result = "Option<Board>")]
pub struct GetBoard;

pub struct StoreActor {
    store_id: i64,
    code: String,
    app: AppContext,
    sessions: HashMap<u64, SessionHandle>,
    /// The next sequence number to send.
    next_seq: i64,
    waiting: BTreeMap<i64, (ByteString, Option<BoardItem>)>,
    gap_check: Option<SpawnHandle>,
    /// What the board shows, by reservation number.
    board: HashMap<String, BoardItem>,
    board_loaded: bool,
    /// Bumped by each board load: items read by a build started before it
    /// are older than the board and must not overwrite it.
    board_generation: u64,
    /// Events whose frames are still to build (with their board item when
    /// the publisher had it), and whether a build runs.
    to_build: Vec<(reservation_event::Model, Option<BoardItem>)>,
    building: bool,
    /// How long the next burst has waited for room in the sessions' queues.
    waited_for_room: Duration,
}

impl StoreActor {
    /// `first_seq`: the first event to send; `None` starts after the store's
    /// current sequence number (sessions replay anything older themselves).
    pub fn new(store_id: i64, first_seq: Option<i64>, app: AppContext) -> Self {
        Self {
            store_id,
            code: String::new(),
            app,
            sessions: HashMap::new(),
            next_seq: first_seq.unwrap_or(0),
            waiting: BTreeMap::new(),
            gap_check: None,
            board: HashMap::new(),
            board_loaded: false,
            board_generation: 0,
            to_build: Vec::new(),
            building: false,
            waited_for_room: Duration::ZERO,
        }
    }

    /// Queues an event for its frame. Frames are built a batch at a time:
    /// one read of the reservations, lines and customers for all of them,
    /// or none when every item is at hand.
    fn build_frame(
        &mut self,
        event: reservation_event::Model,
        item: Option<BoardItem>,
        ctx: &mut Context<Self>,
    ) {
        self.to_build.push((event, item));
        self.build_next(ctx);
    }

    fn build_next(&mut self, ctx: &mut Context<Self>) {
        // A burst of frames bigger than a session's queue would cut even a
        // reader that keeps up: a build hands out a quarter of it at most.
        // After a read the sessions have had the read's time to drain;
        // without one, a burst waits until every session has room for it,
        // for `ROOM_PATIENCE` at most (then a session still full is cut).
        let burst = (self.app.realtime.queue_frames / 4).max(1);
        while !self.building && !self.to_build.is_empty() {
            let take = self.to_build.len().min(burst);
            if self.to_build[..take].iter().any(|(_, item)| item.is_none()) {
                self.build_by_reading(take, ctx);
                return;
            }
            let crowded = self
                .sessions
                .values()
                .any(|session| !session.queue.is_closed() && session.queue.capacity() < take);
            if crowded && self.waited_for_room < ROOM_PATIENCE {
                self.building = true;
                self.waited_for_room += ROOM_WAIT;
                ctx.run_later(ROOM_WAIT, |actor, ctx| {
                    actor.building = false;
                    actor.build_next(ctx);
                });
                return;
            }
            self.waited_for_room = Duration::ZERO;
            let built: Vec<Ready> = self
                .to_build
                .drain(..take)
                .filter_map(|(event, item)| item.map(|item| ready_frame(&self.code, &event, item)))
                .collect();
            for ready in built {
                self.accept(ready);
            }
            self.flush(ctx);
        }
    }

    /// Builds the first `take` frames from their reservations as they stand.
    fn build_by_reading(&mut self, take: usize, ctx: &mut Context<Self>) {
        self.building = true;
        self.waited_for_room = Duration::ZERO;
        let events: Vec<reservation_event::Model> = self
            .to_build
            .drain(..take)
            .map(|(event, _)| event)
            .collect();
        let app = self.app.clone();
        let code = self.code.clone();
        let generation = self.board_generation;
        let work = async move { frames_for(&app, &code, events).await };
        ctx.spawn(work.into_actor(self).map(move |built, actor, ctx| {
            actor.building = false;
            for mut ready in built {
                if generation != actor.board_generation {
                    ready.item = None;
                }
                actor.accept(ready);
            }
            actor.flush(ctx);
            actor.build_next(ctx);
        }));
    }

    fn accept(&mut self, ready: Ready) {
        if ready.seq >= self.next_seq {
            self.waiting.insert(ready.seq, (ready.frame, ready.item));
        }
    }

    fn flush(&mut self, ctx: &mut Context<Self>) {
        while let Some((frame, item)) = self.waiting.remove(&self.next_seq) {
            // Until a snapshot is asked for, there is no board to keep: its
            // load reads every item afresh. Kept anyway, it grew with every
            // live reservation that changed (timers bench: 100,000 items,
            // 37 MB, rehashed on the actor thread as it grew).
            if let Some(item) = item
                && self.board_loaded
            {
                if board::column(&item).is_some() {
                    self.board.insert(item.number.clone(), item);
                } else {
                    self.board.remove(&item.number);
                }
            }
            if !frame.is_empty() {
                self.fan_out(Some(self.next_seq), frame);
            }
            self.next_seq += 1;
        }
        // Older than what was already sent: a late duplicate.
        self.waiting.retain(|seq, _| *seq >= self.next_seq);
        if self.waiting.is_empty() {
            if let Some(check) = self.gap_check.take() {
                ctx.cancel_future(check);
            }
        } else if self.gap_check.is_none() {
            self.gap_check = Some(ctx.run_later(GAP_WAIT, |actor, ctx| {
                actor.gap_check = None;
                actor.fill_gap(ctx);
            }));
        }
    }

    /// Reads the events the buffer waits for from the database.
    fn fill_gap(&mut self, ctx: &mut Context<Self>) {
        let Some(&first_waiting) = self.waiting.keys().next() else {
            return;
        };
        let (from, to) = (self.next_seq, first_waiting);
        let app = self.app.clone();
        let store_id = self.store_id;
        let work =
            async move { db::events::for_store_range(app.db.conn(), store_id, from, to).await };
        ctx.wait(work.into_actor(self).map(move |result, actor, ctx| {
            match result {
                Ok(events) if !events.is_empty() => {
                    for event in events {
                        actor.build_frame(event, None, ctx);
                    }
                }
                // Not in the database either: give up on it; clients that
                // see the gap resubscribe with their last seq.
                _ => {
                    tracing::warn!(store = %actor.code, from, to, "sequence gap skipped");
                    actor.next_seq = to;
                    actor.flush(ctx);
                }
            }
        }));
    }

    /// Reads the board from the database, holding every other message until
    /// it is in: events handled after it apply on top of it.
    fn load_board(&mut self, ctx: &mut Context<Self>) {
        let app = self.app.clone();
        let (store_id, code) = (self.store_id, self.code.clone());
        let work = async move { board::load_board(&app, store_id, &code).await };
        ctx.wait(work.into_actor(self).map(|loaded, actor, _| match loaded {
            Ok(loaded) => {
                // What builds and gaps still hold was read before this board.
                actor.board_generation += 1;
                for (_, item) in actor.waiting.values_mut() {
                    *item = None;
                }
                actor.board = [loaded.pending, loaded.set_aside, loaded.to_put_back]
                    .into_iter()
                    .flatten()
                    .map(|item| (item.number.clone(), item))
                    .collect();
                actor.board_loaded = true;
            }
            Err(err) => {
                tracing::warn!(store = %actor.code, error = %err, "board not loaded");
            }
        }));
    }

    fn snapshot(&self) -> Option<Board> {
        if !self.board_loaded || !self.waiting.is_empty() {
            // Mid-gap: the database answers consistently instead.
            return None;
        }
        let items = self.board.values().cloned().collect::<Vec<_>>();
        Some(board::assemble(
            &self.code,
            self.next_seq - 1,
            items,
            self.app.clock.now(),
        ))
    }

    fn fan_out(&mut self, seq: Option<i64>, frame: ByteString) {
        let too_slow = offer(&self.sessions, self.store_id, seq, &frame);
        for id in too_slow {
            self.sessions.remove(&id);
            metrics::counter!("storehub_ws_dropped_slow_total").increment(1);
        }
        metrics::counter!("storehub_ws_frames_total").increment(self.sessions.len() as u64);
    }
}

/// Offers one encoded frame to every session without waiting (the frame is
/// shared, not copied); returns the sessions that cannot take it, which are
/// told to go.
pub fn offer(
    sessions: &HashMap<u64, SessionHandle>,
    store_id: i64,
    seq: Option<i64>,
    frame: &ByteString,
) -> Vec<u64> {
    let mut too_slow = Vec::new();
    let outbound = Arc::new(Outbound {
        store_id,
        seq,
        frame: frame.clone(),
    });
    for (id, session) in sessions {
        match session.queue.try_send(outbound.clone()) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => {
                session.kick.notify_one();
                too_slow.push(*id);
            }
            Err(mpsc::error::TrySendError::Closed(_)) => too_slow.push(*id),
        }
    }
    too_slow
}

impl Actor for StoreActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        // Learn the code and sequence before handling any message.
        let app = self.app.clone();
        let store_id = self.store_id;
        let work = async move { db::stores::find_by_id(app.db.conn(), store_id).await };
        ctx.wait(
            work.into_actor(self)
                .map(|result, actor, ctx| match result {
                    Ok(Some(store)) => {
                        actor.code = store.code;
                        if actor.next_seq == 0 {
                            actor.next_seq = store.event_seq + 1;
                        }
                    }
                    _ => {
                        tracing::error!(store = actor.store_id, "store actor without its store");
                        ctx.stop();
                    }
                }),
        );
    }
}

impl Handler<Join> for StoreActor {
    type Result = i64;
    fn handle(&mut self, join: Join, _: &mut Context<Self>) -> i64 {
        self.sessions.insert(join.session_id, join.handle);
        self.next_seq - 1
    }
}

impl Handler<Leave> for StoreActor {
    type Result = ();
    fn handle(&mut self, leave: Leave, _: &mut Context<Self>) {
        self.sessions.remove(&leave.session_id);
    }
}

impl Handler<GetBoard> for StoreActor {
    type Result = ResponseActFuture<Self, Option<Board>>;
    fn handle(&mut self, _: GetBoard, ctx: &mut Context<Self>) -> Self::Result {
        if !self.board_loaded {
            self.load_board(ctx);
        }
        // Answered once the load (a waiting future) is done.
        Box::pin(fut::ready(()).map(|(), actor: &mut Self, _| actor.snapshot()))
    }
}

/// How many items the actor's board holds: lets tests check that a board
/// nobody asked for is not kept.
#[doc(hidden)]
#[derive(Message)]
#[rtype(result = "usize")]
pub struct BoardLenForTest;

impl Handler<BoardLenForTest> for StoreActor {
    type Result = usize;
    fn handle(&mut self, _: BoardLenForTest, _: &mut Context<Self>) -> usize {
        self.board.len()
    }
}

impl Handler<Publish> for StoreActor {
    type Result = ();
    fn handle(&mut self, Publish { event, item }: Publish, ctx: &mut Context<Self>) {
        if event.seq < self.next_seq {
            return;
        }
        self.build_frame(event, item, ctx);
    }
}

impl Handler<LoadFrame> for StoreActor {
    type Result = ();
    fn handle(&mut self, load: LoadFrame, _: &mut Context<Self>) {
        let head = format!(
            r#"{{"type":"load","store":"{}","n":{},"scheduled_us":{},"pad":""#,
            self.code, load.n, load.scheduled_us
        );
        let pad = load.frame_bytes.saturating_sub(head.len() + 2);
        let frame = format!("{head}{}\"}}", "x".repeat(pad));
        self.fan_out(None, ByteString::from(frame));
    }
}

/// The frames of `events`, built from their reservations as they stand.
async fn frames_for(
    app: &AppContext,
    code: &str,
    events: Vec<reservation_event::Model>,
) -> Vec<Ready> {
    let ids: Vec<i64> = events.iter().map(|e| e.reservation_id).collect();
    let items = match board::items(app.db.conn(), &ids, app.clock.now()).await {
        Ok(items) => items,
        Err(err) => {
            tracing::warn!(store = %code, error = %err, "could not read the events' reservations");
            HashMap::new()
        }
    };
    events
        .into_iter()
        .map(|event| match items.get(&event.reservation_id) {
            Some(item) => ready_frame(code, &event, item.clone()),
            None => {
                tracing::warn!(store = %code, seq = event.seq, "event without its reservation; skipped");
                Ready {
                    seq: event.seq,
                    frame: ByteString::new(),
                    item: None,
                }
            }
        })
        .collect()
}

fn ready_frame(code: &str, event: &reservation_event::Model, item: BoardItem) -> Ready {
    Ready {
        seq: event.seq,
        frame: ByteString::from(event_frame(code, event, item.clone()).to_json()),
        item: Some(item),
    }
}
