//! WebSocket wire protocol, version 1. JSON text frames tagged by `type`.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use schema::entities::reservation_event;
use serde::{Deserialize, Serialize};

use crate::services::board::{Board, BoardItem};

/// What a client may send.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClientMessage {
    /// First message when the token is not in the URL.
    Auth {
        token: String,
    },
    /// Store code -> last seq seen (null: send a snapshot).
    Subscribe {
        stores: BTreeMap<String, Option<i64>>,
    },
    Unsubscribe {
        stores: Vec<String>,
    },
    Ping,
}

/// Who caused an event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventBy {
    pub kind: String,
    pub id: Option<String>,
    pub name: Option<String>,
}

/// One store event as clients see it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EventBody {
    pub kind: String,
    /// The reservation as it stands now (apply as an upsert by number).
    pub reservation: BoardItem,
    pub at: DateTime<Utc>,
    pub by: EventBy,
}

/// What the server sends.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMessage {
    Hello {
        staff_id: i64,
        name: String,
        protocol: u32,
    },
    Snapshot {
        store: String,
        seq: i64,
        board: Box<Board>,
    },
    Event {
        store: String,
        seq: i64,
        event: Box<EventBody>,
    },
    /// Replay of missed events is complete; live events follow.
    Subscribed {
        store: String,
        seq: i64,
        mode: String,
    },
    Error {
        error: String,
        message: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        store: Option<String>,
    },
    Pong,
}

impl ServerMessage {
    pub fn error(code: &str, message: impl Into<String>, store: Option<&str>) -> Self {
        ServerMessage::Error {
            error: code.into(),
            message: message.into(),
            store: store.map(str::to_string),
        }
    }

    pub fn to_json(&self) -> String {
        // Serialising these plain structs cannot fail.
        serde_json::to_string(self).unwrap_or_else(|_| "{}".into())
    }
}

/// The `event` frame of a stored event.
pub fn event_frame(
    store: &str,
    event: &reservation_event::Model,
    item: BoardItem,
) -> ServerMessage {
    ServerMessage::Event {
        store: store.to_string(),
        seq: event.seq,
        event: Box::new(EventBody {
            kind: event.kind.clone(),
            reservation: item,
            at: event.at,
            by: EventBy {
                kind: event.actor_kind.clone(),
                id: event.actor_id.clone(),
                name: event.actor_name.clone(),
            },
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_messages_parse_and_unknown_ones_do_not() {
        let sub: ClientMessage =
            serde_json::from_str(r#"{"type":"subscribe","stores":{"PAR01":12,"LYO01":null}}"#)
                .unwrap();
        let ClientMessage::Subscribe { stores } = sub else {
            panic!()
        };
        assert_eq!(stores.get("PAR01"), Some(&Some(12)));
        assert_eq!(stores.get("LYO01"), Some(&None));
        assert!(serde_json::from_str::<ClientMessage>(r#"{"type":"dance"}"#).is_err());
    }

    #[test]
    fn errors_name_their_store() {
        let json = ServerMessage::error("not_your_store", "no", Some("LYO01")).to_json();
        assert_eq!(
            json,
            r#"{"type":"error","error":"not_your_store","message":"no","store":"LYO01"}"#
        );
    }
}
