//! Reminders until handled, overdue escalation, expiries: driven by the test
//! clock, kept across restarts and actor crashes.

use chrono::Duration;
use reqwest::Method;
use sea_orm::ConnectionTrait;
use sea_orm::QueryTrait;
use serde_json::{Value, json};
use storehub_tests::{TestApp, anonymous, identified, on_postgres, reservation_body, spawn_app};

async fn events_of(app: &TestApp, number: &str, kind: &str) -> Vec<Value> {
    app.get(&format!("/api/v1/reservations/{number}"))
        .await
        .body["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == kind)
        .cloned()
        .collect()
}

/// `count` reservations of one SKU1 each in `store`, by as many identified
/// shoppers; their numbers.
async fn reserve_each(app: &TestApp, store: &str, prefix: &str, count: usize) -> Vec<String> {
    let mut numbers = Vec::new();
    for n in 0..count {
        let body = reservation_body(store, "SKU1", 1, identified(&format!("{prefix}{n}")));
        numbers.push(app.reserve_number(&body).await);
    }
    numbers
}

/// One pending reservation at PAR01: its number and id.
async fn reserve_one(app: &TestApp) -> (String, i64) {
    let number = app
        .reserve_number(&reservation_body("PAR01", "SKU1", 1, identified("c1")))
        .await;
    let id = hub::store::reservations::find_by_number(app.ctx.db.conn(), &number)
        .await
        .unwrap()
        .unwrap()
        .id;
    (number, id)
}

#[actix_web::test]
async fn reminders_every_twenty_open_minutes_until_handled() {
    let app = spawn_app().await;
    app.shop_with_stock(5).await;
    let julie = app.staff("julie@shop.test", "staff", &["PAR01"]).await;
    let number = app
        .reserve_number(&reservation_body("PAR01", "SKU1", 1, identified("c1")))
        .await;

    app.advance_and_settle(Duration::minutes(19)).await;
    assert!(events_of(&app, &number, "reminder").await.is_empty());
    app.advance_and_settle(Duration::minutes(42)).await;
    let reminders = events_of(&app, &number, "reminder").await;
    assert_eq!(
        reminders.len(),
        3,
        "61 open minutes, every 20: {reminders:?}"
    );
    let times: Vec<&str> = reminders
        .iter()
        .map(|e| e["at"].as_str().unwrap())
        .collect();
    assert_eq!(
        times,
        vec![
            "2026-11-25T09:20:00Z",
            "2026-11-25T09:40:00Z",
            "2026-11-25T10:00:00Z"
        ]
    );
    let seqs: Vec<i64> = reminders
        .iter()
        .map(|e| e["data"]["reminder"].as_i64().unwrap())
        .collect();
    assert_eq!(seqs, vec![1, 2, 3]);

    // Handled: no more reminders, however long.
    app.as_staff(
        &julie,
        Method::POST,
        &format!("/api/v1/reservations/{number}/set-aside"),
        None,
    )
    .await;
    app.advance_and_settle(Duration::hours(3)).await;
    assert_eq!(events_of(&app, &number, "reminder").await.len(), 3);
    assert!(events_of(&app, &number, "overdue").await.is_empty());
}

#[actix_web::test]
async fn no_reminders_while_the_store_is_closed() {
    let app = spawn_app().await;
    app.shop_with_stock(5).await;
    // Wednesday 18:50 Paris: ten minutes before closing.
    app.clock
        .advance(Duration::hours(8) + Duration::minutes(50));
    let number = app
        .reserve_number(&reservation_body("PAR01", "SKU1", 1, identified("c1")))
        .await;
    // Closed all night: nothing until Thursday 09:10 (10 minutes + 10 minutes).
    app.advance_and_settle(Duration::hours(14)).await;
    assert!(
        events_of(&app, &number, "reminder").await.is_empty(),
        "08:50 Thursday"
    );
    app.advance_and_settle(Duration::minutes(21)).await;
    let reminders = events_of(&app, &number, "reminder").await;
    assert_eq!(reminders.len(), 1);
    assert_eq!(reminders[0]["at"], "2026-11-26T08:10:00Z");
}

#[actix_web::test]
async fn overdue_escalates_to_the_managers_on_the_list_only() {
    let app = spawn_app().await;
    app.shop_with_stock(5).await;
    app.seed_store("LYO01").await;
    let listed_manager = app.staff("manon@shop.test", "manager", &["PAR01"]).await;
    let listed_staff = app.staff("julie@shop.test", "staff", &["PAR01"]).await;
    let _unlisted_manager = app.staff("paul@shop.test", "manager", &["PAR01"]).await;
    let other_store_manager = app.staff("lea@shop.test", "manager", &["LYO01"]).await;
    let subscribe = |token: String, store: &'static str| {
        let app = &app;
        async move {
            let answer = app
                .as_staff(
                    &token,
                    Method::PUT,
                    &format!("/api/v1/stores/{store}/alert-list/me"),
                    Some(&json!({"channels": ["ws", "email", "web_push"]})),
                )
                .await;
            assert_eq!(answer.status, 200);
        }
    };
    subscribe(listed_manager, "PAR01").await;
    subscribe(listed_staff, "PAR01").await;
    subscribe(other_store_manager, "LYO01").await;

    let number = app
        .reserve_number(&reservation_body("PAR01", "SKU1", 1, identified("c1")))
        .await;
    app.advance_and_settle(Duration::minutes(119)).await;
    assert!(events_of(&app, &number, "overdue").await.is_empty());
    app.advance_and_settle(Duration::minutes(2)).await;
    let overdue = events_of(&app, &number, "overdue").await;
    assert_eq!(overdue.len(), 1);
    assert_eq!(overdue[0]["at"], "2026-11-25T11:00:00Z");
    let board = app.get("/api/v1/stores/PAR01/board").await;
    assert_eq!(board.body["pending"][0]["overdue"], true);

    // Who is told: the alert rows queued for the overdue event.
    let rows = hub::store::outbox::with_prefix(app.ctx.db.conn(), "ev:")
        .await
        .unwrap();
    let overdue_rows: Vec<Value> = rows
        .iter()
        .map(|r| serde_json::from_str::<Value>(&r.payload).unwrap())
        .filter(|p| p["kind"] == "overdue")
        .collect();
    let mut recipients: Vec<(i64, String)> = overdue_rows
        .iter()
        .map(|p| {
            (
                p["staff_id"].as_i64().unwrap(),
                p["channel"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    recipients.sort();
    let manon = app
        .get("/api/v1/stores/PAR01/alert-list")
        .await
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["email"] == "manon@shop.test")
        .unwrap()["staff_id"]
        .as_i64()
        .unwrap();
    assert_eq!(
        recipients,
        vec![
            (manon, "email".to_string()),
            (manon, "web_push".to_string())
        ]
    );
    // The reminders kept going to the whole list meanwhile.
    let reminder_rows = rows
        .iter()
        .map(|r| serde_json::from_str::<Value>(&r.payload).unwrap())
        .filter(|p| p["kind"] == "reminder")
        .count();
    assert_eq!(
        reminder_rows,
        6 * 2 * 2,
        "6 reminders x 2 listed people x 2 channels"
    );
}

#[actix_web::test]
async fn restart_midway_loses_and_repeats_nothing() {
    let app = spawn_app().await;
    app.shop_with_stock(5).await;
    let number = app
        .reserve_number(&reservation_body("PAR01", "SKU1", 1, identified("c1")))
        .await;
    let waiting_number = app
        .reserve_number(&reservation_body(
            "PAR01",
            "SKU1",
            1,
            anonymous("paul@example.fr"),
        ))
        .await;
    app.advance_and_settle(Duration::minutes(30)).await;
    assert_eq!(events_of(&app, &number, "reminder").await.len(), 1);

    // Crash and come back on the same database; time moved on meanwhile.
    let app = app.restart().await;
    app.advance_and_settle(Duration::minutes(31)).await;
    let reminders = events_of(&app, &number, "reminder").await;
    let times: Vec<&str> = reminders
        .iter()
        .map(|e| e["at"].as_str().unwrap())
        .collect();
    assert_eq!(
        times,
        vec![
            "2026-11-25T09:20:00Z",
            "2026-11-25T09:40:00Z",
            "2026-11-25T10:00:00Z"
        ]
    );

    let app = app.restart().await;
    // The validation link (24 h) runs out after the second restart.
    app.advance_and_settle(Duration::hours(24)).await;
    let expired = events_of(&app, &waiting_number, "expired").await;
    assert_eq!(expired.len(), 1);
    assert_eq!(
        app.stock_of("PAR01", "SKU1").await.1,
        1,
        "only the pending one still holds"
    );
    app.assert_stock_invariant().await;
}

#[actix_web::test]
async fn a_crashed_reservation_actor_is_restarted_from_the_database() {
    let app = spawn_app().await;
    app.shop_with_stock(5).await;
    let (number, id) = reserve_one(&app).await;
    let directory = app.ctx.directory.get().unwrap().clone();
    app.settle().await;
    assert!(
        directory
            .send(hub::actors::directory::CrashReservationForTest(id))
            .await
            .unwrap()
    );
    app.clock.advance(Duration::minutes(20));
    let mut reminders = 0;
    for _ in 0..50 {
        app.settle().await;
        reminders = events_of(&app, &number, "reminder").await.len();
        if reminders == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(
        reminders, 1,
        "the restarted actor fired the due reminder once"
    );
    assert_eq!(app.get_anonymous("/health").await.status, 200);
    let counts = directory
        .send(hub::actors::directory::Census)
        .await
        .unwrap();
    assert_eq!(counts.reservations, 1);
}

/// `INSERT ... SELECT` making `copies` copies of reservation `id`, each with
/// its own number and tracking token; every third copy is cancelled.
fn copies_of(id: i64, copies: u32) -> String {
    use schema::entities::reservation::Column;
    use sea_orm::{Iden, Iterable};
    let mut columns = Vec::new();
    let mut values = Vec::new();
    for column in Column::iter() {
        let name = column.to_string();
        let value = match column {
            Column::Id => continue,
            Column::Number => "'COPY-' || n.i".to_string(),
            Column::TrackingToken => "'copy-token-' || n.i".to_string(),
            Column::ValidationToken => "NULL".to_string(),
            Column::State => "CASE WHEN n.i % 3 = 0 THEN 'cancelled' ELSE r.state END".to_string(),
            _ => format!("r.\"{name}\""),
        };
        columns.push(format!("\"{name}\""));
        values.push(value);
    }
    format!(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {copies}) \
         INSERT INTO reservations ({}) SELECT {} FROM n, reservations r WHERE r.id = {id}",
        columns.join(", "),
        values.join(", ")
    )
}

#[actix_web::test]
async fn a_restart_rebuilds_every_live_reservation_past_one_read_page() {
    let app = spawn_app().await;
    app.shop_with_stock(5).await;
    let (_, id) = reserve_one(&app).await;
    // The boot reads 5,000 live reservations a query: 5,000 live copies
    // and the original make two pages, with closed ones in between.
    app.ctx
        .db
        .conn()
        .execute_unprepared(&copies_of(id, 7_500))
        .await
        .unwrap();

    let app = app.restart().await;
    let directory = app.ctx.directory.get().unwrap().clone();
    let counts = directory
        .send(hub::actors::directory::Census)
        .await
        .unwrap();
    assert_eq!(counts.reservations, 5_001, "one actor per live reservation");
}

#[actix_web::test]
async fn timers_due_together_fire_once_each_and_a_broken_store_holds_back_no_other() {
    let app = spawn_app().await;
    app.shop_with_stock(30).await;
    app.seed_store("LYO01").await;
    assert_eq!(app.set_stock("LYO01", "SKU1", 5).await.status, 200);
    let paris = reserve_each(&app, "PAR01", "p", 25).await;
    let lyon = reserve_each(&app, "LYO01", "l", 3).await;
    // Lyon's reminders cannot be computed: their firings fail, and the
    // transaction they share with Paris's must not take Paris's down.
    let conn = app.ctx.db.conn();
    let hours: String = conn
        .query_one_raw(sea_orm::Statement::from_string(
            conn.get_database_backend(),
            "SELECT opening_hours FROM stores WHERE code = 'LYO01'",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get("", "opening_hours")
        .unwrap();
    conn.execute_unprepared("UPDATE stores SET opening_hours = 'broken' WHERE code = 'LYO01'")
        .await
        .unwrap();

    // All 28 reminders fall due at the same instant.
    app.advance_and_settle(Duration::minutes(21)).await;
    for number in &paris {
        assert_eq!(
            events_of(&app, number, "reminder").await.len(),
            1,
            "{number}"
        );
    }
    for number in &lyon {
        assert!(
            events_of(&app, number, "reminder").await.is_empty(),
            "{number}"
        );
    }

    // Repaired: Lyon's fire once, late, and Paris's do not fire again.
    let repair = format!(
        "UPDATE stores SET opening_hours = '{}' WHERE code = 'LYO01'",
        hours.replace('\'', "''")
    );
    conn.execute_unprepared(&repair).await.unwrap();
    app.settle().await;
    for number in paris.iter().chain(&lyon) {
        let reminders = events_of(&app, number, "reminder").await;
        assert_eq!(reminders.len(), 1, "{number}: {reminders:?}");
        assert_eq!(reminders[0]["at"], "2026-11-25T09:20:00Z");
    }
}

#[actix_web::test]
async fn a_reminder_moves_only_while_still_due_at_the_time_it_was_read() {
    let app = spawn_app().await;
    app.shop_with_stock(5).await;
    let mut ids = Vec::new();
    for number in reserve_each(&app, "PAR01", "g", 3).await {
        let row = hub::store::reservations::find_by_number(app.ctx.db.conn(), &number)
            .await
            .unwrap()
            .unwrap();
        ids.push((row.id, row.next_reminder_at.unwrap()));
    }
    let (first, second, third) = (ids[0], ids[1], ids[2]);
    let later = first.1 + Duration::minutes(20);
    let moves = [
        (first.0, first.1, later),
        // Read before someone else moved it: its due time no longer matches.
        (second.0, second.1 - Duration::seconds(1), later),
        // Set aside meanwhile: due, but no longer pending.
        (third.0, third.1, later),
    ];
    let conn = app.ctx.db.conn();
    conn.execute_unprepared(&format!(
        "UPDATE reservations SET state = 'set_aside' WHERE id = {}",
        third.0
    ))
    .await
    .unwrap();
    let moved = hub::store::reservations::advance_reminders(conn, &moves)
        .await
        .unwrap();
    let moved_ids: Vec<i64> = moved.iter().map(|row| row.id).collect();
    assert_eq!(moved_ids, vec![first.0]);
    // Returned as moved: the same row a read gives from now on.
    assert_eq!(moved[0].reminders_sent, 1);
    assert_eq!(moved[0].next_reminder_at, Some(later));
    let read_back = hub::store::reservations::find_many(conn, &[first.0])
        .await
        .unwrap();
    assert_eq!(read_back, moved);
    // Firing the same reminder twice moves nothing the second time.
    let again = hub::store::reservations::advance_reminders(conn, &moves[..1])
        .await
        .unwrap();
    assert!(again.is_empty(), "{again:?}");
}

#[actix_web::test]
async fn a_reminder_known_due_by_its_actor_is_not_fired_once_the_row_moved_it() {
    // The firing queue moves a reminder its actor knows due without reading
    // the row first; the guard must catch a row changed behind the actor.
    let app = spawn_app().await;
    app.shop_with_stock(5).await;
    let (number, id) = reserve_one(&app).await;
    let conn = app.ctx.db.conn();
    let row = hub::store::reservations::find_many(conn, &[id])
        .await
        .unwrap()
        .remove(0);
    let due = row.next_reminder_at.unwrap();
    let moved_to = due + Duration::minutes(30);
    // Nobody tells the actor: it still sleeps until `due`.
    let moved = hub::store::reservations::advance_reminders(conn, &[(id, due, moved_to)])
        .await
        .unwrap();
    assert_eq!(moved.len(), 1);

    app.advance_and_settle(Duration::minutes(21)).await;
    assert!(events_of(&app, &number, "reminder").await.is_empty());
    app.advance_and_settle(Duration::minutes(30)).await;
    let reminders = events_of(&app, &number, "reminder").await;
    assert_eq!(reminders.len(), 1, "{reminders:?}");
    assert_eq!(reminders[0]["data"]["reminder"], 2);
}

/// The steps of SQLite's plan for `statement`.
async fn sqlite_plan(app: &TestApp, statement: sea_orm::Statement) -> Vec<String> {
    let plan = app
        .ctx
        .db
        .conn()
        .query_all_raw(sea_orm::Statement::from_sql_and_values(
            statement.db_backend,
            format!("EXPLAIN QUERY PLAN {}", statement.sql),
            statement.values.map(|v| v.0).unwrap_or_default(),
        ))
        .await
        .unwrap();
    plan.iter()
        .map(|row| row.try_get::<String>("", "detail").unwrap())
        .collect()
}

#[actix_web::test]
async fn the_boot_reads_its_pages_along_the_key() {
    // Through the state index, SQLite read and sorted every open
    // reservation for each page of 5,000: quadratic in a million.
    if on_postgres() {
        return; // PostgreSQL plans from statistics; the case is SQLite's.
    }
    let app = spawn_app().await;
    let query = hub::store::reservations::live_timers_page_query(42, 5_000);
    let steps = sqlite_plan(&app, query.build(app.ctx.db.backend())).await;
    assert!(
        steps.iter().any(|s| s.contains("INTEGER PRIMARY KEY")),
        "{steps:?}"
    );
    assert!(
        !steps
            .iter()
            .any(|s| s.contains("INDEX") || s.contains("TEMP B-TREE")),
        "{steps:?}"
    );
}

#[actix_web::test]
async fn advancing_reminders_looks_the_reservations_up_by_key() {
    // SQLite's planner once walked the (state, next_reminder_at) index over
    // every pending reservation: 8x slower per reminder at 100,000 pending.
    if on_postgres() {
        return; // PostgreSQL plans from statistics; the case is SQLite's.
    }
    let app = spawn_app().await;
    let due = chrono::Utc::now();
    let moves: Vec<_> = (1..=200)
        .map(|id| (id, due, due + Duration::minutes(20)))
        .collect();
    let statement = hub::store::reservations::advance_reminders_statement(&moves);
    let steps = sqlite_plan(&app, app.ctx.db.backend().build(&statement)).await;
    assert!(
        steps.iter().any(|s| s.contains("INTEGER PRIMARY KEY")),
        "{steps:?}"
    );
    assert!(
        !steps.iter().any(|s| s.contains("USING INDEX")),
        "{steps:?}"
    );
}

#[actix_web::test]
async fn a_crashed_firing_queue_is_restarted_and_no_reminder_is_lost() {
    let app = spawn_app().await;
    app.shop_with_stock(5).await;
    let numbers = reserve_each(&app, "PAR01", "q", 3).await;
    app.settle().await;
    let directory = app.ctx.directory.get().unwrap().clone();
    directory
        .send(hub::actors::directory::CrashFiringQueueForTest)
        .await
        .unwrap();
    // The reminders fall due while the queue is dead; settling supervises
    // first, so it restarts the queue and points every actor at it.
    app.clock.advance(Duration::minutes(21));
    let mut fired = 0;
    for _ in 0..50 {
        app.settle().await;
        fired = 0;
        for number in &numbers {
            fired += events_of(&app, number, "reminder").await.len();
        }
        if fired == numbers.len() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(fired, numbers.len(), "each due reminder fired once");
    assert_eq!(app.get_anonymous("/health").await.status, 200);
}

/// Forty reservations of one store expire in one batch while two hundred
/// creates hold the same articles. On PostgreSQL a batch that ended them
/// one after the other held the store's row while it waited for the next
/// one's stock, which a create held while it waited for the store: a
/// deadlock. Here PostgreSQL is told to wait a minute before it breaks one,
/// so a deadlock would show as this test hanging past its bound.
#[actix_web::test]
async fn a_batch_of_expiries_and_creates_in_the_same_store_never_deadlock() {
    let app = storehub_tests::spawn_app_where_deadlocks_hang().await;
    app.shop_with_stock(1_000).await;
    let skus: Vec<String> = (1..=20).map(|n| format!("SKU{n}")).collect();
    for sku in &skus[1..] {
        app.seed_article(sku, true).await;
        assert_eq!(app.set_stock("PAR01", sku, 1_000).await.status, 200);
    }
    // Anonymous shoppers who never confirm: all expire at the same instant.
    let mut expiring = Vec::new();
    for n in 0..40 {
        let body = reservation_body(
            "PAR01",
            &skus[n % 20],
            1,
            anonymous(&format!("late{n}@example.fr")),
        );
        expiring.push(app.reserve_number(&body).await);
    }

    // Eight shoppers' streams of creates run throughout; the clock moves
    // (and the expiries fire) once the streams are under way.
    let done = std::sync::atomic::AtomicUsize::new(0);
    let streams = futures_util::future::join_all((0..8).map(|stream| {
        let (app, skus, done) = (&app, &skus, &done);
        async move {
            let mut answers = Vec::new();
            for n in 0..25 {
                let who = identified(&format!("rush{stream}-{n}"));
                let body = reservation_body("PAR01", &skus[(stream * 25 + n) % 20], 1, who);
                answers.push(app.reserve(&body, None).await);
                done.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            answers
        }
    }));
    let expiries = async {
        while done.load(std::sync::atomic::Ordering::Relaxed) < 16 {
            tokio::task::yield_now().await;
        }
        app.clock.advance(Duration::hours(25));
        app.settle().await;
    };
    let race = async { tokio::join!(streams, expiries) };
    let (streams, ()) = storehub_tests::without_deadlock("expiries and creates", race).await;
    let answers: Vec<_> = streams.into_iter().flatten().collect();
    let failed: Vec<_> = answers.iter().filter(|a| a.status != 201).collect();
    assert!(
        failed.is_empty(),
        "{} failed: {:?}",
        failed.len(),
        failed.first()
    );
    for number in &expiring {
        let ended = app.get(&format!("/api/v1/reservations/{number}")).await;
        assert_eq!(ended.body["state"], "expired", "{number}: {ended:?}");
    }
    for sku in &skus {
        assert_eq!(app.stock_of("PAR01", sku).await, (1_000, 10, 990), "{sku}");
    }
    app.assert_stock_invariant().await;
}
