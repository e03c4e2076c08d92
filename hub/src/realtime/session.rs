//! One task per staff WebSocket: authenticates, subscribes to stores
//! (replaying missed events from the database or sending a snapshot), then
//! forwards live frames from a bounded queue. A client that cannot keep up is
//! disconnected; it resumes from its last seq on reconnect.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use actix::Addr;
use actix_http::ws::{CloseCode, CloseReason};
use tokio::sync::{Notify, mpsc};

use super::protocol::{ClientMessage, ServerMessage, event_frame};
use super::socket::{Incoming, WsSocket};
use crate::actors::directory::StoreAddr;
use crate::actors::store::{Join, Leave, Outbound, SessionHandle, StoreActor};
use crate::context::AppContext;
use crate::extractors::api_caller::authenticate;
use crate::services::{Caller, StaffIdentity, board};
use crate::store as db;

/// Time allowed for the `auth` message when the token is not in the URL.
const AUTH_WAIT: Duration = Duration::from_secs(10);

/// Bytes of queued frames gathered into one write. Also what a stalled
/// client can hold beyond its queue's pointers, so it stays small.
const WRITE_BATCH: usize = 16 * 1024;

static NEXT_SESSION: AtomicU64 = AtomicU64::new(1);

fn close(code: CloseCode, description: &str) -> Option<CloseReason> {
    Some(CloseReason {
        code,
        description: Some(description.to_string()),
    })
}

/// Removes the session from its stores however the task ends.
struct Membership {
    session_id: u64,
    stores: HashMap<i64, (String, Addr<StoreActor>)>,
}

impl Drop for Membership {
    fn drop(&mut self) {
        for (_, addr) in self.stores.values() {
            addr.do_send(Leave {
                session_id: self.session_id,
            });
        }
        metrics::gauge!("storehub_ws_sessions").decrement(1.0);
    }
}

struct Live {
    app: AppContext,
    socket: WsSocket,
    staff: StaffIdentity,
    membership: Membership,
    handle: SessionHandle,
    /// Highest seq sent per store: later duplicates are skipped.
    sent: HashMap<i64, i64>,
}

impl Live {
    async fn send(&mut self, message: &ServerMessage) -> bool {
        self.socket.queue_text(message.to_json().as_bytes());
        self.flush().await
    }

    /// Writes what is queued. A peer that takes nothing for the client
    /// timeout is gone: this is the one write not raced against a kick.
    async fn flush(&mut self) -> bool {
        let timeout = self.app.realtime.client_timeout();
        matches!(
            tokio::time::timeout(timeout, self.socket.flush()).await,
            Ok(Ok(()))
        )
    }

    async fn subscribe(&mut self, stores: BTreeMap<String, Option<i64>>) -> bool {
        for (code, last_seq) in stores {
            let store = match db::stores::find_by_code(self.app.db.conn(), &code).await {
                Ok(Some(store)) => store,
                Ok(None) => {
                    let error = ServerMessage::error(
                        "unknown_store",
                        format!("There is no store `{code}`."),
                        Some(&code),
                    );
                    if !self.send(&error).await {
                        return false;
                    }
                    continue;
                }
                Err(err) => {
                    tracing::warn!(error = %err, "subscribe lookup failed");
                    let error = ServerMessage::error(
                        "internal_error",
                        "Try subscribing again.",
                        Some(&code),
                    );
                    if !self.send(&error).await {
                        return false;
                    }
                    continue;
                }
            };
            let allowed = Caller::Staff(self.staff.clone()).can_act_on(store.id);
            if !allowed {
                let error = ServerMessage::error(
                    "not_your_store",
                    format!("You are not a member of store `{code}`."),
                    Some(&code),
                );
                if !self.send(&error).await {
                    return false;
                }
                continue;
            }
            let Some(directory) = self.app.directory.get() else {
                return false;
            };
            let Ok(Some(addr)) = directory.send(StoreAddr { store_id: store.id }).await else {
                return false;
            };
            // Join first: anything the store sends from now on arrives live.
            let last_sent = addr
                .send(Join {
                    session_id: self.membership.session_id,
                    handle: self.handle.clone(),
                })
                .await
                .ok();
            self.membership
                .stores
                .insert(store.id, (code.clone(), addr));
            if !self.catch_up(&store, last_seq, last_sent).await {
                return false;
            }
        }
        true
    }

    /// Replays what the client missed, or sends the board when it is too far
    /// behind. `last_sent`: the store actor's last sent seq as it joined.
    async fn catch_up(
        &mut self,
        store: &schema::entities::store::Model,
        last_seq: Option<i64>,
        last_sent: Option<i64>,
    ) -> bool {
        let current = last_seq.filter(|last| *last >= 0 && Some(*last) == last_sent);
        let (frames, seq) = match current {
            // Already at the store's last event (a phone back after a
            // restart): nothing to read.
            Some(last) => {
                let subscribed = ServerMessage::Subscribed {
                    store: store.code.clone(),
                    seq: last,
                    mode: "replay".into(),
                };
                (vec![subscribed], Some(last))
            }
            None => {
                // Read under the gate, send after it: a slow client must not hold a permit.
                let Ok(_permit) = self.app.catch_up_gate.acquire().await else {
                    return false;
                };
                catch_up_frames(&self.app, store, last_seq).await
            }
        };
        if let Some(seq) = seq {
            self.sent.insert(store.id, seq);
        }
        for frame in &frames {
            self.socket.queue_text(frame.to_json().as_bytes());
        }
        self.flush().await
    }

    fn unsubscribe(&mut self, codes: Vec<String>) {
        let session_id = self.membership.session_id;
        self.membership.stores.retain(|store_id, (code, addr)| {
            if codes.contains(code) {
                addr.do_send(Leave { session_id });
                self.sent.remove(store_id);
                false
            } else {
                true
            }
        });
    }

    /// Queues a live frame unless it is for a store left or already sent.
    fn queue(&mut self, outbound: &Outbound) {
        if !self.membership.stores.contains_key(&outbound.store_id) {
            return;
        }
        if let Some(seq) = outbound.seq {
            let sent = self.sent.entry(outbound.store_id).or_insert(0);
            if seq <= *sent {
                return;
            }
            *sent = seq;
        }
        self.socket.queue_text(outbound.frame.as_bytes());
    }
}

/// The frames that bring a subscriber up to date on one store, and the seq
/// they reach (None when the store could not be read).
async fn catch_up_frames(
    app: &AppContext,
    store: &schema::entities::store::Model,
    last_seq: Option<i64>,
) -> (Vec<ServerMessage>, Option<i64>) {
    let conn = app.db.conn();
    let limit = app.realtime.replay_limit;
    let replay = match last_seq {
        Some(last) if last >= 0 => {
            match db::events::for_store_after(conn, store.id, last, limit + 1).await {
                Ok(events) if (events.len() as u64) <= limit => {
                    let current = db::stores::find_by_id(conn, store.id)
                        .await
                        .ok()
                        .flatten()
                        .map(|s| s.event_seq);
                    // A client ahead of the store (another database) gets a snapshot.
                    current.filter(|seq| last <= *seq).map(|_| events)
                }
                _ => None,
            }
        }
        _ => None,
    };
    let now = app.clock.now();
    if let Some(events) = replay {
        let mut frames = Vec::with_capacity(events.len() + 1);
        let mut last = last_seq.unwrap_or(0);
        for event in events {
            let Ok(Some(row)) = db::reservations::find_by_id(conn, event.reservation_id).await
            else {
                continue;
            };
            let Ok(item) = board::item(conn, &row, now).await else {
                continue;
            };
            last = event.seq;
            frames.push(event_frame(&store.code, &event, item));
        }
        frames.push(ServerMessage::Subscribed {
            store: store.code.clone(),
            seq: last,
            mode: "replay".into(),
        });
        return (frames, Some(last));
    }
    match board::board(app, store).await {
        Ok(board) => {
            let seq = board.seq;
            let frames = vec![
                ServerMessage::Snapshot {
                    store: store.code.clone(),
                    seq,
                    board: Box::new(board),
                },
                ServerMessage::Subscribed {
                    store: store.code.clone(),
                    seq,
                    mode: "snapshot".into(),
                },
            ];
            (frames, Some(seq))
        }
        Err(err) => {
            tracing::warn!(error = %err, "snapshot failed");
            let error = ServerMessage::error(
                "internal_error",
                "Try subscribing again.",
                Some(&store.code),
            );
            (vec![error], None)
        }
    }
}

/// Finds who the socket belongs to: `?token=` or a first `auth` message.
async fn identify(
    app: &AppContext,
    token: Option<String>,
    socket: &mut WsSocket,
) -> Result<StaffIdentity, &'static str> {
    let token = match token {
        Some(token) => token,
        None => match tokio::time::timeout(AUTH_WAIT, socket.next()).await {
            Ok(Ok(Some(Incoming::Text(text)))) => match serde_json::from_slice(&text) {
                Ok(ClientMessage::Auth { token }) => token,
                _ => return Err("auth_required: send {\"type\":\"auth\",\"token\":...} first"),
            },
            _ => return Err("auth_required: no token"),
        },
    };
    match authenticate(app, &token).await {
        Ok(Caller::Staff(staff)) => Ok(staff),
        Ok(Caller::Integration { .. }) => Err("staff_only: sign in as staff"),
        Err(_) => Err("invalid_token: unknown or expired; sign in again"),
    }
}

fn too_slow() -> Option<CloseReason> {
    close(
        CloseCode::Again,
        "too_slow: reconnect and resubscribe with your last seq",
    )
}

/// Writes what is queued; how the session ends if the write fails or the
/// store cuts it first (a peer that stopped reading blocks the write, so
/// the kick must still win).
async fn write_unless_cut(socket: &mut WsSocket, kick: &Notify) -> Option<Ending> {
    tokio::select! {
        written = socket.flush() => written.err().map(|_| Ending::Gone),
        _ = kick.notified() => Some(Ending::Close(too_slow())),
    }
}

/// How a session ends.
enum Ending {
    /// The stream is gone or failed: nothing more to send.
    Gone,
    /// We close, with this reason.
    Close(Option<CloseReason>),
    /// The client closed; its close frame is answered.
    Answer(Option<CloseReason>),
}

/// Runs one socket to its end.
pub async fn run(app: AppContext, mut socket: WsSocket, token: Option<String>) {
    let timeout = app.realtime.client_timeout();
    // Boxed: its reads would otherwise size every idle session's future.
    let staff = match Box::pin(identify(&app, token, &mut socket)).await {
        Ok(staff) => staff,
        Err(reason) => {
            let _ =
                tokio::time::timeout(timeout, socket.close(close(CloseCode::Policy, reason))).await;
            return;
        }
    };
    let (queue, mut inbox) = mpsc::channel(app.realtime.queue_frames.max(1));
    let kick = Arc::new(Notify::new());
    metrics::gauge!("storehub_ws_sessions").increment(1.0);
    let mut live = Live {
        membership: Membership {
            session_id: NEXT_SESSION.fetch_add(1, Ordering::Relaxed),
            stores: HashMap::new(),
        },
        handle: SessionHandle {
            queue,
            kick: kick.clone(),
        },
        sent: HashMap::new(),
        socket,
        staff,
        app,
    };
    let hello = ServerMessage::Hello {
        staff_id: live.staff.id,
        name: live.staff.name.clone(),
        protocol: 1,
    };
    if !live.send(&hello).await {
        return;
    }
    let mut heartbeat =
        tokio::time::interval(Duration::from_secs(live.app.realtime.heartbeat_secs.max(1)));
    let mut last_heard = Instant::now();
    let ending = loop {
        tokio::select! {
            message = live.socket.next() => {
                last_heard = Instant::now();
                let ok = match message {
                    Ok(Some(Incoming::Text(text))) => match serde_json::from_slice::<ClientMessage>(&text) {
                        // Boxed: its reads would otherwise size every idle session's future.
                        Ok(ClientMessage::Subscribe { stores }) => Box::pin(live.subscribe(stores)).await,
                        Ok(ClientMessage::Unsubscribe { stores }) => { live.unsubscribe(stores); true }
                        Ok(ClientMessage::Ping) => live.send(&ServerMessage::Pong).await,
                        Ok(ClientMessage::Auth { .. }) => live.send(&ServerMessage::error("already_authenticated", "This socket is already signed in.", None)).await,
                        Err(err) => live.send(&ServerMessage::error("malformed_message", format!("Not understood: {err}."), None)).await,
                    },
                    Ok(Some(Incoming::Binary)) => live.send(&ServerMessage::error("malformed_message", "Send JSON text frames.", None)).await,
                    Ok(Some(Incoming::Ping(payload))) => { live.socket.queue_pong(&payload); live.flush().await }
                    Ok(Some(Incoming::Pong)) => true,
                    Ok(Some(Incoming::Close(reason))) => break Ending::Answer(reason),
                    Ok(None) => break Ending::Gone,
                    Err(err) => break Ending::Close(close(CloseCode::Protocol, &format!("protocol_error: {err}"))),
                };
                if !ok { break Ending::Gone; }
            }
            Some(outbound) = inbox.recv() => {
                live.queue(&outbound);
                // Whatever else is waiting goes out in the same write.
                while live.socket.queued() < WRITE_BATCH {
                    let Ok(outbound) = inbox.try_recv() else { break };
                    live.queue(&outbound);
                }
                if let Some(ending) = write_unless_cut(&mut live.socket, &kick).await { break ending; }
            }
            _ = kick.notified() => break Ending::Close(too_slow()),
            _ = heartbeat.tick() => {
                if last_heard.elapsed() > timeout {
                    break Ending::Close(close(CloseCode::Normal, "timeout: no message from the client"));
                }
                live.socket.queue_ping();
                if let Some(ending) = write_unless_cut(&mut live.socket, &kick).await { break ending; }
            }
        }
    };
    let Live {
        socket, membership, ..
    } = live;
    drop(membership);
    // The close frame queues behind unsent frames; give a stalled peer a
    // bounded time to take it, then let the connection go.
    match ending {
        Ending::Gone => {}
        Ending::Close(reason) => {
            let _ = tokio::time::timeout(timeout, socket.close(reason)).await;
        }
        Ending::Answer(reason) => {
            let _ = tokio::time::timeout(timeout, socket.answer_close(reason)).await;
        }
    }
}
