//! The hub's hot inner paths, one benchmark each: encoding an event frame,
//! offering it to a store's sessions, a state-machine step, and rendering a
//! message template. `cargo bench -p hub` runs them.

// A broken fixture should stop the benchmark loudly.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::collections::HashMap;
use std::hint::black_box;
use std::sync::Arc;

use chrono::{TimeZone, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use hub::actors::store::{SessionHandle, offer};
use hub::domain::reservation::{Action, State, transition};
use hub::notify::templates;
use hub::realtime::protocol::event_frame;
use hub::services::board::BoardItem;
use hub::services::reservations::LineView;
use schema::entities::reservation_event;
use tokio::sync::{Notify, mpsc};

fn sample_event() -> (reservation_event::Model, BoardItem) {
    let at = Utc.with_ymd_and_hms(2026, 11, 25, 9, 30, 0).unwrap();
    let event = reservation_event::Model {
        id: 41,
        store_id: 1,
        seq: 1234,
        reservation_id: 77,
        kind: "created".into(),
        actor_kind: "integration".into(),
        actor_id: Some("web-shop".into()),
        actor_name: None,
        at,
        data: "{}".into(),
    };
    let item = BoardItem {
        number: "K7Q4-MZ2P".into(),
        state: State::Pending,
        customer_name: "Marie".into(),
        lines: vec![LineView {
            sku: "SNEAK-WHT-42".into(),
            designation: "Baskets cuir".into(),
            variant: Some("Blanc, 42".into()),
            ean: Some("3760000000062".into()),
            quantity: 1,
            put_back_quantity: None,
        }],
        created_at: at,
        confirm_by: Some(at + chrono::Duration::hours(2)),
        pickup_by: None,
        set_aside_at: None,
        overdue: false,
        reminders_sent: 0,
        handled_by: None,
        reintegration: None,
    };
    (event, item)
}

fn encode_event(c: &mut Criterion) {
    let (event, item) = sample_event();
    c.bench_function("event_encode", |b| {
        b.iter(|| event_frame(black_box("PAR01"), &event, item.clone()).to_json())
    });
}

fn fan_out_hop(c: &mut Criterion) {
    // Ten phones of one store, as in the fan-out scenario; the queues are
    // drained between rounds so none fills up.
    let mut sessions = HashMap::new();
    let mut receivers = Vec::new();
    for id in 0..10u64 {
        let (queue, receiver) = mpsc::channel(64);
        sessions.insert(
            id,
            SessionHandle {
                queue,
                kick: Arc::new(Notify::new()),
            },
        );
        receivers.push(receiver);
    }
    let (event, item) = sample_event();
    let frame = bytestring::ByteString::from(event_frame("PAR01", &event, item).to_json());
    c.bench_function("fan_out_hop_10_sessions", |b| {
        b.iter(|| {
            let slow = offer(&sessions, 1, black_box(Some(1234)), &frame);
            for receiver in &mut receivers {
                while receiver.try_recv().is_ok() {}
            }
            slow
        })
    });
}

fn state_machine_step(c: &mut Criterion) {
    c.bench_function("state_machine_step", |b| {
        b.iter(|| transition(black_box(State::Pending), black_box(Action::SetAside)))
    });
}

fn template_render(c: &mut Criterion) {
    let source = templates::default_source("ready", "fr").expect("the ready template");
    let context = templates::sample_context("fr");
    c.bench_function("template_render_ready_fr", |b| {
        b.iter(|| templates::render(&source, black_box(&context)).expect("renders"))
    });
}

criterion_group!(
    hot_paths,
    encode_event,
    fan_out_hop,
    state_machine_step,
    template_render
);
criterion_main!(hot_paths);
