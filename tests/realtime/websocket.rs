//! The staff WebSocket: auth, subscribe, live fan-out, catch-up, refusals.

use reqwest::Method;
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};
use std::time::Duration;
use storehub_tests::{identified, reservation_body, spawn_app};

/// Frames until one of `kind` (an event kind) arrives.
async fn next_event(ws: &mut storehub_tests::WsClient) -> Value {
    loop {
        let frame = ws.next_json().await;
        if frame["type"] == "event" {
            return frame;
        }
    }
}

#[actix_web::test]
async fn two_clients_see_the_same_events_and_another_store_sees_nothing() {
    let app = spawn_app().await;
    app.shop_with_stock(5).await;
    app.seed_store("LYO01").await;
    let julie = app.staff("julie@shop.test", "staff", &["PAR01"]).await;
    let karim = app.staff("karim@shop.test", "staff", &["PAR01"]).await;
    let lea = app.staff("lea@shop.test", "staff", &["LYO01"]).await;
    let mut a = app.websocket(&julie).await;
    let mut b = app.websocket(&karim).await;
    let mut other = app.websocket(&lea).await;
    for (ws, store) in [(&mut a, "PAR01"), (&mut b, "PAR01"), (&mut other, "LYO01")] {
        let frames = ws.subscribe(json!({ store: null })).await;
        assert_eq!(frames[0]["type"], "snapshot", "{frames:?}");
        assert_eq!(frames[0]["board"]["counts"]["pending"], 0);
    }

    let created = app
        .reserve(
            &reservation_body("PAR01", "SKU1", 1, identified("c1")),
            None,
        )
        .await;
    let number = created.body["number"].as_str().unwrap();
    for ws in [&mut a, &mut b] {
        let event = next_event(ws).await;
        assert_eq!(event["store"], "PAR01");
        assert_eq!(event["seq"], 1);
        assert_eq!(event["event"]["kind"], "created");
        assert_eq!(event["event"]["reservation"]["number"], number);
        assert_eq!(event["event"]["reservation"]["state"], "pending");
    }
    app.as_staff(
        &julie,
        Method::POST,
        &format!("/api/v1/reservations/{number}/set-aside"),
        None,
    )
    .await;
    for ws in [&mut a, &mut b] {
        let event = next_event(ws).await;
        assert_eq!(event["seq"], 2);
        assert_eq!(event["event"]["kind"], "set_aside");
        assert_eq!(event["event"]["by"]["name"], "julie");
        assert_eq!(event["event"]["reservation"]["state"], "set_aside");
    }
    assert!(
        other
            .try_next_json(Duration::from_millis(300))
            .await
            .is_none(),
        "Lyon hears nothing of Paris"
    );
}

/// PAR01 with stock, and Julie's phone gone after seeing one event: the
/// app, her token and the seq she reached.
async fn gone_after_one_event() -> (storehub_tests::TestApp, String, i64) {
    let app = spawn_app().await;
    app.shop_with_stock(50).await;
    let julie = app.staff("julie@shop.test", "staff", &["PAR01"]).await;
    let mut ws = app.websocket(&julie).await;
    ws.subscribe(json!({"PAR01": null})).await;
    app.reserve(
        &reservation_body("PAR01", "SKU1", 1, identified("c0")),
        None,
    )
    .await;
    let last_seq = next_event(&mut ws).await["seq"].as_i64().unwrap();
    (app, julie, last_seq)
}

#[actix_web::test]
async fn reconnecting_with_last_seq_replays_exactly_what_was_missed() {
    let (app, julie, last_seq) = gone_after_one_event().await;

    // Missed while away: three creates and a cancel.
    let mut numbers = Vec::new();
    for i in 1..=3 {
        let created = app
            .reserve(
                &reservation_body("PAR01", "SKU1", 1, identified(&format!("c{i}"))),
                None,
            )
            .await;
        numbers.push(created.body["number"].as_str().unwrap().to_string());
    }
    app.post(
        &format!("/api/v1/reservations/{}/cancel", numbers[0]),
        &json!({}),
    )
    .await;

    let mut ws = app.websocket(&julie).await;
    let frames = ws.subscribe(json!({"PAR01": last_seq})).await;
    let events: Vec<&Value> = frames.iter().filter(|f| f["type"] == "event").collect();
    let seqs: Vec<i64> = events.iter().map(|f| f["seq"].as_i64().unwrap()).collect();
    assert_eq!(
        seqs,
        vec![2, 3, 4, 5],
        "exactly the missed events, in order"
    );
    let kinds: Vec<&str> = events
        .iter()
        .map(|f| f["event"]["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, vec!["created", "created", "created", "cancelled"]);
    let done = frames.last().unwrap();
    assert_eq!(
        (
            done["type"].as_str(),
            done["mode"].as_str(),
            done["seq"].as_i64()
        ),
        (Some("subscribed"), Some("replay"), Some(5))
    );

    // Live events continue after the replay without a gap or a repeat.
    app.reserve(
        &reservation_body("PAR01", "SKU1", 1, identified("c9")),
        None,
    )
    .await;
    let live = next_event(&mut ws).await;
    assert_eq!(live["seq"], 6);
    assert!(
        ws.try_next_json(Duration::from_millis(200)).await.is_none(),
        "nothing repeated"
    );

    // A client with no history gets the live board at the current seq.
    let mut fresh = app.websocket(&julie).await;
    let frames = fresh.subscribe(json!({"PAR01": null})).await;
    assert_eq!(frames[0]["type"], "snapshot");
    assert_eq!(frames[0]["seq"], 6);
    assert_eq!(frames[0]["board"]["counts"]["pending"], 4);
    let listed: Vec<&str> = frames[0]["board"]["pending"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["number"].as_str().unwrap())
        .collect();
    assert!(
        !listed.contains(&numbers[0].as_str()),
        "the cancelled one is gone"
    );
}

#[actix_web::test]
async fn a_phone_already_at_the_stores_last_event_resumes_from_memory() {
    let (app, julie, last_seq) = gone_after_one_event().await;

    // The store's number in the database now says the client is ahead of
    // it, which the database path answers with a snapshot; a client the
    // store actor knows to be current gets no database read at all.
    let set_seq = |seq: i64| {
        let conn = app.ctx.db.conn().clone();
        async move {
            conn.execute_unprepared(&format!(
                "UPDATE stores SET event_seq = {seq} WHERE code = 'PAR01'"
            ))
            .await
            .unwrap();
        }
    };
    set_seq(0).await;
    let mut ws = app.websocket(&julie).await;
    let frames = ws.subscribe(json!({"PAR01": last_seq})).await;
    set_seq(last_seq).await;
    assert_eq!(frames.len(), 1, "{frames:?}");
    assert_eq!(
        (
            frames[0]["type"].as_str(),
            frames[0]["mode"].as_str(),
            frames[0]["seq"].as_i64()
        ),
        (Some("subscribed"), Some("replay"), Some(last_seq))
    );

    // Live events follow once each.
    app.reserve(
        &reservation_body("PAR01", "SKU1", 1, identified("c1")),
        None,
    )
    .await;
    assert_eq!(next_event(&mut ws).await["seq"], last_seq + 1);
    assert!(
        ws.try_next_json(Duration::from_millis(200)).await.is_none(),
        "nothing repeated"
    );

    // One behind: the missed event comes from the database as before.
    let mut behind = app.websocket(&julie).await;
    let frames = behind.subscribe(json!({"PAR01": last_seq})).await;
    let seqs: Vec<i64> = frames
        .iter()
        .filter(|f| f["type"] == "event")
        .map(|f| f["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(seqs, vec![last_seq + 1]);
}

#[actix_web::test]
async fn refusals_are_frames_or_close_reasons_never_crashes() {
    let app = spawn_app().await;
    app.seed_store("PAR01").await;
    app.seed_store("LYO01").await;
    let julie = app.staff("julie@shop.test", "staff", &["PAR01"]).await;

    // Bad token: closed with a reason.
    let url = format!(
        "{}/api/v1/ws?token=sht_nope",
        app.address.replace("http://", "ws://")
    );
    let (stream, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    let mut refused = storehub_tests::WsClient { stream };
    let reason = refused.close_reason().await.unwrap_or_default();
    assert!(reason.starts_with("invalid_token"), "{reason}");
    // An integration key is not a staff member.
    let url = format!(
        "{}/api/v1/ws?token={}",
        app.address.replace("http://", "ws://"),
        app.api_key
    );
    let (stream, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    let mut key_socket = storehub_tests::WsClient { stream };
    assert!(
        key_socket
            .close_reason()
            .await
            .unwrap_or_default()
            .starts_with("staff_only")
    );

    // Token as the first message works too.
    let url = format!("{}/api/v1/ws", app.address.replace("http://", "ws://"));
    let (stream, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    let mut ws = storehub_tests::WsClient { stream };
    ws.send_json(&json!({"type": "auth", "token": julie})).await;
    assert_eq!(ws.next_json().await["type"], "hello");

    // Another store is refused for that store only.
    let frames = ws
        .subscribe(json!({"PAR01": null, "LYO01": null, "NOPE": null}))
        .await;
    let errors: Vec<(&str, &str)> = frames
        .iter()
        .filter(|f| f["type"] == "error")
        .map(|f| (f["store"].as_str().unwrap(), f["error"].as_str().unwrap()))
        .collect();
    assert!(errors.contains(&("LYO01", "not_your_store")), "{frames:?}");
    assert!(errors.contains(&("NOPE", "unknown_store")));
    assert!(
        frames
            .iter()
            .any(|f| f["type"] == "subscribed" && f["store"] == "PAR01")
    );

    // Malformed frames get an error frame and the socket stays up.
    use futures_util::SinkExt;
    ws.stream
        .send(tokio_tungstenite::tungstenite::Message::text("{not json"))
        .await
        .unwrap();
    let error = ws.next_json().await;
    assert_eq!(error["error"], "malformed_message");
    ws.send_json(&json!({"type": "dance"})).await;
    assert_eq!(ws.next_json().await["error"], "malformed_message");
    ws.send_json(&json!({"type": "ping"})).await;
    assert_eq!(ws.next_json().await["type"], "pong");
    // Oversized frames close the socket (a client cannot make us buffer).
    let huge = format!(
        "{{\"type\":\"ping\",\"pad\":\"{}\"}}",
        "x".repeat(64 * 1024)
    );
    let _ = ws
        .stream
        .send(tokio_tungstenite::tungstenite::Message::text(huge))
        .await;
    assert!(ws.try_next_json(Duration::from_secs(2)).await.is_none());
    assert_eq!(app.get_anonymous("/health").await.status, 200);
}

#[actix_web::test]
async fn a_client_that_stops_reading_is_disconnected_not_buffered() {
    let app = storehub_tests::spawn_app_with(|settings| {
        settings.realtime.queue_frames = 32;
        settings.http.socket_send_buffer_bytes = 4096;
    })
    .await;
    app.shop_with_stock(2000).await;
    app.settings(
        json!({"max_open_reservations": {"anonymous": 15, "identified": 10000},
        "max_items_held": {"anonymous": 30, "identified": 10000}}),
    )
    .await;
    let julie = app.staff("julie@shop.test", "staff", &["PAR01"]).await;
    let mut slow = app.websocket_with_buffer(&julie, 4096).await;
    slow.subscribe(json!({"PAR01": null})).await;
    // The slow client never reads again; its queue (32 frames) overflows.
    for i in 0..300 {
        let answer = app
            .reserve(
                &reservation_body("PAR01", "SKU1", 1, identified(&format!("burst{i}"))),
                None,
            )
            .await;
        assert_eq!(answer.status, 201);
    }
    // Reading now: some frames, then the close with its reason.
    let mut reason = None;
    for _ in 0..1000 {
        use futures_util::StreamExt;
        match tokio::time::timeout(Duration::from_secs(5), slow.stream.next()).await {
            Ok(Some(Ok(tokio_tungstenite::tungstenite::Message::Close(Some(frame))))) => {
                reason = Some(frame.reason.to_string());
                break;
            }
            Ok(Some(Ok(_))) => continue,
            _ => break,
        }
    }
    let reason = reason.expect("the slow client is told why it is dropped");
    assert!(reason.starts_with("too_slow"), "{reason}");
}

#[actix_web::test]
async fn the_load_generator_is_off_unless_asked_for_and_stays_outside_the_sequence() {
    let app = spawn_app().await;
    app.shop_with_stock(5).await;
    let load = json!({"events_per_sec": 100, "seconds": 1});
    let off = app.post("/api/v1/load/fan-out", &load).await;
    assert_eq!(off.status, 403, "{off:?}");
    assert_eq!(off.error(), "load_generator_off");

    let app = storehub_tests::spawn_app_with(|s| s.realtime.load_generator = true).await;
    app.shop_with_stock(5).await;
    let julie = app.staff("julie@shop.test", "staff", &["PAR01"]).await;
    let as_staff = app
        .as_staff(&julie, Method::POST, "/api/v1/load/fan-out", Some(&load))
        .await;
    assert_eq!(as_staff.status, 403, "admins only: {as_staff:?}");
    let nobody = app.post("/api/v1/load/fan-out", &load).await;
    assert_eq!(nobody.status, 409, "{nobody:?}");
    assert_eq!(nobody.error(), "no_store_running");
    for (bad, code) in [
        (json!({"events_per_sec": 0, "seconds": 1}), "invalid_rate"),
        (
            json!({"events_per_sec": 10, "seconds": 0}),
            "invalid_duration",
        ),
        (
            json!({"events_per_sec": 10, "seconds": 1, "frame_bytes": 1_000_000}),
            "invalid_frame_bytes",
        ),
    ] {
        let answer = app.post("/api/v1/load/fan-out", &bad).await;
        assert_eq!(answer.status, 400, "{answer:?}");
        assert_eq!(answer.error(), code);
    }

    let mut ws = app.websocket(&julie).await;
    ws.subscribe(json!({"PAR01": null})).await;
    let answer = app
        .post(
            "/api/v1/load/fan-out",
            &json!({"events_per_sec": 20, "seconds": 1, "frame_bytes": 300}),
        )
        .await;
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(answer.body["events"], 20);
    assert_eq!(answer.body["stores"], 1);
    let mut seen = Vec::new();
    while seen.len() < 20 {
        let frame = ws.next_json().await;
        assert_eq!(frame["type"], "load", "{frame}");
        assert_eq!(frame["store"], "PAR01");
        assert!(frame["scheduled_us"].as_i64().unwrap() > 0);
        assert!(frame.to_string().len() >= 290, "padded to about 300 bytes");
        seen.push(frame["n"].as_u64().unwrap());
    }
    assert_eq!(seen, (0..20).collect::<Vec<_>>(), "in order, none lost");

    // Load frames take no sequence number: a real event right after is
    // still delivered live.
    let created = app
        .reserve(
            &reservation_body("PAR01", "SKU1", 1, identified("c1")),
            None,
        )
        .await;
    assert_eq!(created.status, 201);
    let event = next_event(&mut ws).await;
    assert_eq!(event["event"]["kind"], "created", "{event}");
}

#[actix_web::test]
async fn a_burst_of_due_timers_reaches_a_reader_that_keeps_up() {
    // A queue of 8 frames, and 40 reminders falling due at the same instant.
    let app = storehub_tests::spawn_app_with(|settings| settings.realtime.queue_frames = 8).await;
    app.shop_with_stock(50).await;
    for n in 0..40 {
        let body = reservation_body("PAR01", "SKU1", 1, identified(&format!("burst{n}")));
        assert_eq!(app.reserve(&body, None).await.status, 201);
    }
    let julie = app.staff("julie@shop.test", "staff", &["PAR01"]).await;
    let mut reader = app.websocket(&julie).await;
    reader.subscribe(json!({"PAR01": null})).await;
    app.advance_and_settle(chrono::Duration::minutes(21)).await;
    let mut reminders = 0;
    while reminders < 40 {
        let Some(frame) = reader.try_next_json(Duration::from_secs(5)).await else {
            break;
        };
        assert_ne!(frame["type"], "closing", "{frame}");
        if frame["type"] == "event" && frame["event"]["kind"] == "reminder" {
            reminders += 1;
        }
    }
    assert_eq!(
        reminders,
        40,
        "the reader was cut: {:?}",
        reader.close_reason().await
    );
}

/// The numbers on each list of a board, in order.
fn lists(board: &Value) -> Vec<Vec<String>> {
    ["pending", "set_aside", "to_put_back"]
        .iter()
        .map(|list| {
            board[*list]
                .as_array()
                .unwrap()
                .iter()
                .map(|item| item["number"].as_str().unwrap().to_string())
                .collect()
        })
        .collect()
}

#[actix_web::test]
async fn a_snapshot_kept_in_memory_matches_the_database_after_every_kind_of_change() {
    let app = spawn_app().await;
    app.shop_with_stock(50).await;
    let julie = app.staff("julie@shop.test", "staff", &["PAR01"]).await;
    let one = app
        .reserve_number(&reservation_body("PAR01", "SKU1", 1, identified("c0")))
        .await;
    // The first subscriber makes the store's actor read its board.
    let mut first = app.websocket(&julie).await;
    let frames = first.subscribe(json!({"PAR01": null})).await;
    assert_eq!(
        lists(&frames[0]["board"]),
        vec![vec![one.clone()], vec![], vec![]]
    );

    // Every change from then on reaches the kept board through events only.
    let mut numbers = vec![one];
    for i in 1..=4 {
        numbers.push(
            app.reserve_number(&reservation_body(
                "PAR01",
                "SKU1",
                1,
                identified(&format!("c{i}")),
            ))
            .await,
        );
    }
    for number in &numbers[..3] {
        let path = format!("/api/v1/reservations/{number}/set-aside");
        let done = app.as_staff(&julie, Method::POST, &path, None).await;
        assert_eq!(done.status, 200, "{:?}", done.body);
    }
    for number in [&numbers[0], &numbers[3]] {
        let done = app
            .post(&format!("/api/v1/reservations/{number}/cancel"), &json!({}))
            .await;
        assert_eq!(done.status, 200, "{:?}", done.body);
    }
    // 5 created, 3 set aside, 2 cancelled: seq 10 once all have gone out.
    let mut last = 0;
    while last < 10 {
        last = next_event(&mut first).await["seq"].as_i64().unwrap();
    }

    let mut later = app.websocket(&julie).await;
    let frames = later.subscribe(json!({"PAR01": null})).await;
    let snapshot = &frames[0];
    assert_eq!(
        (snapshot["type"].as_str(), snapshot["seq"].as_i64()),
        (Some("snapshot"), Some(10))
    );
    let from_database = app.get("/api/v1/stores/PAR01/board").await;
    assert_eq!(from_database.body["seq"], 10);
    assert_eq!(lists(&snapshot["board"]), lists(&from_database.body));
    assert_eq!(snapshot["board"]["counts"], from_database.body["counts"]);
    // Item for item too: a create's item is built from its rows at hand,
    // the database's from the rows read back.
    for list in ["pending", "set_aside", "to_put_back"] {
        assert_eq!(snapshot["board"][list], from_database.body[list], "{list}");
    }
    // Set aside at the same instant: same pickup deadline, then by number.
    let mut set_aside = vec![numbers[1].clone(), numbers[2].clone()];
    set_aside.sort();
    assert_eq!(
        lists(&snapshot["board"]),
        vec![
            vec![numbers[4].clone()],
            set_aside,
            vec![numbers[0].clone()]
        ],
        "pending, set aside, and the set-aside one cancelled goes back to the shelf"
    );
}

#[actix_web::test]
async fn a_store_keeps_no_board_until_a_snapshot_asks_for_it() {
    use hub::actors::directory::StoreAddr;
    use hub::actors::store::BoardLenForTest;
    let app = spawn_app().await;
    app.shop_with_stock(10).await;
    let julie = app.staff("julie@shop.test", "staff", &["PAR01"]).await;
    let store_id = hub::store::stores::find_by_code(app.ctx.db.conn(), "PAR01")
        .await
        .unwrap()
        .unwrap()
        .id;
    let board_len = || async {
        let directory = app.ctx.directory.get().unwrap().clone();
        let store = directory
            .send(StoreAddr { store_id })
            .await
            .unwrap()
            .unwrap();
        store.send(BoardLenForTest).await.unwrap()
    };
    // Events reach the store's actor, but no one has asked for its board.
    for i in 0..3 {
        let body = reservation_body("PAR01", "SKU1", 1, identified(&format!("b{i}")));
        app.reserve_number(&body).await;
    }
    app.settle().await;
    assert_eq!(board_len().await, 0, "a board kept before anyone asked");

    // A snapshot loads it, and from then on events keep it.
    let mut socket = app.websocket(&julie).await;
    let frames = socket.subscribe(json!({"PAR01": null})).await;
    assert_eq!(lists(&frames[0]["board"])[0].len(), 3);
    assert_eq!(board_len().await, 3);
    let body = reservation_body("PAR01", "SKU1", 1, identified("b3"));
    app.reserve_number(&body).await;
    assert_eq!(next_event(&mut socket).await["seq"], 4);
    assert_eq!(board_len().await, 4);
}

/// Sends a raw HTTP/1.1 request and reads the answer until the hub closes.
async fn raw_http(address: &str, request: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut tcp = tokio::net::TcpStream::connect(address.trim_start_matches("http://"))
        .await
        .unwrap();
    tcp.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), tcp.read_to_end(&mut answer))
        .await
        .expect("the hub answers and closes")
        .unwrap();
    String::from_utf8_lossy(&answer).into_owned()
}

#[actix_web::test]
async fn handshakes_fragments_pings_and_closes_follow_the_websocket_rules() {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    use tokio_tungstenite::tungstenite::protocol::CloseFrame;
    use tokio_tungstenite::tungstenite::protocol::frame::Frame;
    use tokio_tungstenite::tungstenite::protocol::frame::coding::{CloseCode, Data, OpCode};
    let app = spawn_app().await;
    app.seed_store("PAR01").await;
    let julie = app.staff("julie@shop.test", "staff", &["PAR01"]).await;

    // A plain GET is told to upgrade.
    let plain = app.get_anonymous("/api/v1/ws").await;
    assert_eq!(plain.status, 400);
    assert_eq!(plain.body["error"], "websocket_required");
    // A WebSocket elsewhere is not found, with the usual error body.
    let elsewhere = format!("{}/api/v1/nope", app.address.replace("http://", "ws://"));
    match tokio_tungstenite::connect_async(elsewhere).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 404);
            let body: Value = serde_json::from_slice(response.body().as_deref().unwrap()).unwrap();
            assert_eq!(body["error"], "not_found");
        }
        other => panic!("expected a 404, got {other:?}"),
    }
    // An old protocol version is refused with a reason.
    let old = raw_http(
        &app.address,
        "GET /api/v1/ws HTTP/1.1\r\nHost: hub\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
         Sec-WebSocket-Version: 8\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
    )
    .await;
    assert!(old.starts_with("HTTP/1.1 400"), "{old}");
    assert!(old.contains("\"websocket_handshake\""), "{old}");

    let mut ws = app.websocket(&julie).await;
    // Pings are answered with their payload.
    ws.stream
        .send(Message::Ping(b"are you there".to_vec().into()))
        .await
        .unwrap();
    loop {
        match ws.stream.next().await.unwrap().unwrap() {
            Message::Pong(payload) => {
                assert_eq!(&payload[..], b"are you there");
                break;
            }
            Message::Ping(_) => continue,
            other => panic!("expected a pong, got {other:?}"),
        }
    }
    // A message in three fragments is one message.
    for (part, opcode, last) in [
        ("{\"type\":", OpCode::Data(Data::Text), false),
        ("\"pi", OpCode::Data(Data::Continue), false),
        ("ng\"}", OpCode::Data(Data::Continue), true),
    ] {
        ws.stream
            .send(Message::Frame(Frame::message(
                part.as_bytes().to_vec(),
                opcode,
                last,
            )))
            .await
            .unwrap();
    }
    assert_eq!(ws.next_json().await["type"], "pong");
    // Our close is answered with its code, then the hub ends the connection.
    ws.stream
        .send(Message::Close(Some(CloseFrame {
            code: CloseCode::Normal,
            reason: "bye".into(),
        })))
        .await
        .unwrap();
    let mut answered = None;
    while let Some(Ok(message)) = ws.stream.next().await {
        if let Message::Close(frame) = message {
            answered = frame.map(|frame| frame.code);
        }
    }
    assert_eq!(answered, Some(CloseCode::Normal));

    // Fragments may not add up past the largest message either.
    let mut ws = app.websocket(&julie).await;
    let piece = "x".repeat(3000);
    let mut outcome = Ok(());
    for (opcode, last) in [
        (OpCode::Data(Data::Text), false),
        (OpCode::Data(Data::Continue), false),
        (OpCode::Data(Data::Continue), true),
    ] {
        outcome = outcome.and(
            ws.stream
                .send(Message::Frame(Frame::message(
                    piece.as_bytes().to_vec(),
                    opcode,
                    last,
                )))
                .await,
        );
    }
    let reason = ws.close_reason().await.unwrap_or_default();
    assert!(
        reason.starts_with("protocol_error"),
        "{reason} ({outcome:?})"
    );
    assert_eq!(app.get_anonymous("/health").await.status, 200);
}
