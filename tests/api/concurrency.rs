//! Invariants under concurrency: no oversell, one reservation per key.

use futures_util::future::join_all;
use serde_json::json;
use storehub_tests::{
    Answer, identified, reservation_body, spawn_app, spawn_app_where_deadlocks_hang,
    without_deadlock,
};

/// Store PAR01 with 1,000 each of SKU1 and SKU2, two lines allowed.
async fn two_articles_in_stock(app: &storehub_tests::TestApp) {
    app.shop_with_stock(1_000).await;
    app.seed_article("SKU2", true).await;
    assert_eq!(app.set_stock("PAR01", "SKU2", 1_000).await.status, 200);
    app.settings(json!({"max_lines_per_reservation": 2})).await;
}

/// One line per article, SKU1 first or (`reversed`) SKU2 first.
fn one_of_each(reversed: bool, line: impl Fn(&str) -> serde_json::Value) -> Vec<serde_json::Value> {
    let mut lines = vec![line("SKU1"), line("SKU2")];
    if reversed {
        lines.reverse();
    }
    lines
}

/// A reservation of one of each article at PAR01 for `customer`.
fn two_line_body(customer: &str, reversed: bool) -> serde_json::Value {
    json!({
        "store": "PAR01",
        "customer": identified(customer),
        "lines": one_of_each(reversed, |sku| json!({"sku": sku, "quantity": 1})),
        "accept_terms": true
    })
}

/// Every answer is a 200 or a 201; otherwise shows the first that is not.
fn assert_all_succeeded<'a>(answers: impl IntoIterator<Item = &'a Answer>) {
    let failed: Vec<_> = answers
        .into_iter()
        .filter(|a| a.status != 200 && a.status != 201)
        .collect();
    assert!(
        failed.is_empty(),
        "{} failed: {:?}",
        failed.len(),
        failed.first()
    );
}

#[actix_web::test]
async fn two_hundred_concurrent_creates_for_ten_units() {
    let app = spawn_app().await;
    app.shop_with_stock(10).await;
    let requests = (0..200).map(|i| {
        let body = reservation_body("PAR01", "SKU1", 1, identified(&format!("rush{i}")));
        let app = &app;
        async move { app.reserve(&body, None).await }
    });
    let answers = join_all(requests).await;
    let created = answers.iter().filter(|a| a.status == 201).count();
    let out_of_stock = answers
        .iter()
        .filter(|a| a.error() == "out_of_stock")
        .count();
    assert_eq!(created, 10, "exactly the stock is sold");
    assert_eq!(
        out_of_stock,
        190,
        "{:?}",
        answers
            .iter()
            .find(|a| a.status != 201 && a.error() != "out_of_stock")
    );
    let (on_hand, held, available) = app.stock_of("PAR01", "SKU1").await;
    assert_eq!((on_hand, held, available), (10, 10, 0));
    assert_eq!(on_hand, available + held);
    assert_eq!(app.count("reservations").await, 10);
    app.assert_stock_invariant().await;
}

#[actix_web::test]
async fn same_idempotency_key_sent_concurrently_creates_one_reservation() {
    let app = spawn_app().await;
    app.shop_with_stock(10).await;
    let body = reservation_body("PAR01", "SKU1", 1, identified("twin"));
    let requests = (0..20).map(|_| {
        let app = &app;
        let body = body.clone();
        async move { app.reserve(&body, Some("same-key")).await }
    });
    let answers = join_all(requests).await;
    assert!(
        answers.iter().all(|a| a.status == 201),
        "{:?}",
        answers.iter().find(|a| a.status != 201)
    );
    let first = &answers[0].body["number"];
    assert!(answers.iter().all(|a| &a.body["number"] == first));
    assert_eq!(app.count("reservations").await, 1);
    assert_eq!(app.stock_of("PAR01", "SKU1").await, (10, 1, 9));
    app.assert_stock_invariant().await;
}

#[actix_web::test]
async fn per_store_event_numbers_have_no_gaps_under_concurrency() {
    let app = spawn_app().await;
    app.shop_with_stock(30).await;
    let requests = (0..40).map(|i| {
        let body = reservation_body("PAR01", "SKU1", 1, identified(&format!("seq{i}")));
        let app = &app;
        async move { app.reserve(&body, None).await }
    });
    join_all(requests).await;
    let search = app.get("/api/v1/reservations?per_page=200").await;
    let mut seqs = Vec::new();
    for item in search.body["items"].as_array().unwrap() {
        let full = app
            .get(&format!(
                "/api/v1/reservations/{}",
                item["number"].as_str().unwrap()
            ))
            .await;
        for event in full.body["events"].as_array().unwrap() {
            seqs.push(event["seq"].as_i64().unwrap());
        }
    }
    // 30 created + 10 refused (no event): seq 1..=30 exactly.
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=30).collect::<Vec<_>>());
}

/// Two-line reservations naming the same two articles in both orders,
/// created and cancelled at once: on PostgreSQL, stock rows locked in
/// request order deadlock and one side fails after a second.
#[actix_web::test]
async fn two_line_reservations_in_both_orders_never_deadlock() {
    let app = spawn_app().await;
    two_articles_in_stock(&app).await;
    let body = |i: usize| two_line_body(&format!("both{i}"), i % 2 == 1);
    let first: Vec<String> = join_all((0..40).map(|i| {
        let app = &app;
        let body = body(i);
        async move { app.reserve_number(&body).await }
    }))
    .await;
    // Cancels release both lines while new creates hold them.
    let cancels = first.iter().map(|number| {
        let app = &app;
        async move {
            app.post(&format!("/api/v1/reservations/{number}/cancel"), &json!({}))
                .await
        }
    });
    let creates = (40..80).map(|i| {
        let app = &app;
        let body = body(i);
        async move { app.reserve(&body, None).await }
    });
    let (cancelled, created) = tokio::join!(join_all(cancels), join_all(creates));
    assert_all_succeeded(cancelled.iter().chain(&created));
    assert_eq!(app.stock_of("PAR01", "SKU1").await, (1_000, 40, 960));
    assert_eq!(app.stock_of("PAR01", "SKU2").await, (1_000, 40, 960));
    app.assert_stock_invariant().await;
}

/// Hand-overs that add two articles, named in both orders, race each
/// other and creates of the same two articles. On PostgreSQL a hand-over
/// that took the added articles' stock in the order given held one while
/// it waited for the other, which another hand-over (or a create) held
/// while it waited for the first. PostgreSQL is told to wait a minute
/// before it breaks a deadlock, so a deadlock shows as a hang.
#[actix_web::test]
async fn hand_overs_adding_articles_and_creates_never_deadlock() {
    let app = spawn_app_where_deadlocks_hang().await;
    two_articles_in_stock(&app).await;
    let mut aside = Vec::new();
    for n in 0..60 {
        let body = reservation_body("PAR01", "SKU1", 1, identified(&format!("aside{n}")));
        let number = app.reserve_number(&body).await;
        let path = format!("/api/v1/reservations/{number}/set-aside");
        assert_eq!(app.post(&path, &json!({})).await.status, 200);
        aside.push(number);
    }

    let collects = aside.iter().enumerate().map(|(n, number)| {
        let app = &app;
        let lines = one_of_each(n % 2 == 1, |sku| json!({"sku": sku, "quantity": 1}));
        async move {
            let added = json!({ "add_lines": lines });
            app.post(&format!("/api/v1/reservations/{number}/collect"), &added)
                .await
        }
    });
    let creates = (0..300).map(|n| {
        let app = &app;
        let body = two_line_body(&format!("rush{n}"), false);
        async move { app.reserve(&body, None).await }
    });
    let race = async { tokio::join!(join_all(collects), join_all(creates)) };
    let (collected, created) = without_deadlock("hand-overs and creates", race).await;
    assert_all_succeeded(collected.iter().chain(&created));
    // Each hand-over sold its reserved unit and one more of each article.
    assert_eq!(app.stock_of("PAR01", "SKU1").await, (880, 300, 580));
    assert_eq!(app.stock_of("PAR01", "SKU2").await, (940, 300, 640));
    app.assert_stock_invariant().await;
}

/// Stock counts race creates of the same articles. A count reads what is
/// held, decides (fits, or cancels the newest), then writes the new count;
/// a create that held stock in between must not end up above the count.
/// Half the counts name the two articles in one order, half in the other.
#[actix_web::test]
async fn stock_counts_racing_creates_never_oversell_or_deadlock() {
    let app = spawn_app_where_deadlocks_hang().await;
    two_articles_in_stock(&app).await;
    let counts = (0..30).map(|n| {
        let app = &app;
        let body = one_of_each(n % 2 == 1, |sku| json!({"sku": sku, "on_hand": 100}));
        async move { app.put("/api/v1/stores/PAR01/stock", &json!(body)).await }
    });
    let creates = (0..200).map(|n| {
        let app = &app;
        let body = two_line_body(&format!("count{n}"), false);
        async move { app.reserve(&body, None).await }
    });
    let race = async { tokio::join!(join_all(counts), join_all(creates)) };
    let (counted, created) = without_deadlock("stock counts and creates", race).await;
    assert_all_succeeded(&counted);
    let refused: Vec<_> = created
        .iter()
        .filter(|a| a.status != 201 && a.error() != "out_of_stock")
        .collect();
    assert!(refused.is_empty(), "{:?}", refused.first());
    for sku in ["SKU1", "SKU2"] {
        let (on_hand, held, _) = app.stock_of("PAR01", sku).await;
        assert_eq!(on_hand, 100, "{sku}");
        assert!(held <= on_hand, "{sku}: {held} held of {on_hand}");
    }
    app.assert_stock_invariant().await;
}

/// A stock count down to nothing races staff rejecting the reservations it
/// cancels, round after round. A reject takes its reservation, then its
/// stock; a count that took the stock, then each reservation it cancelled,
/// deadlocked with it on PostgreSQL.
#[actix_web::test]
async fn counts_cancelling_reservations_and_rejects_never_deadlock() {
    let app = spawn_app_where_deadlocks_hang().await;
    app.shop_with_stock(1_000).await;
    for round in 0..15 {
        let mut numbers = Vec::new();
        for n in 0..10 {
            let customer = identified(&format!("round{round}-{n}"));
            let body = reservation_body("PAR01", "SKU1", 1, customer);
            numbers.push(app.reserve_number(&body).await);
        }
        // Newest first, as the count cancels them.
        let reason = json!({"reason": "not found on the shelf"});
        let paths: Vec<String> = numbers
            .iter()
            .rev()
            .map(|number| format!("/api/v1/reservations/{number}/reject"))
            .collect();
        let rejects = paths.iter().map(|path| app.post(path, &reason));
        let nothing_left = json!([{"sku": "SKU1", "on_hand": 0}]);
        let count = app.put("/api/v1/stores/PAR01/stock", &nothing_left);
        let race = async { tokio::join!(join_all(rejects), count) };
        let (rejected, counted) = without_deadlock("a count and rejects", race).await;
        assert_all_succeeded([&counted]);
        let lost = rejected
            .iter()
            .filter(|a| a.status != 200 && a.error() != "reservation_already_handled");
        assert_eq!(lost.count(), 0, "round {round}");
        assert_eq!(
            app.stock_of("PAR01", "SKU1").await,
            (0, 0, 0),
            "round {round}"
        );
        assert_eq!(app.set_stock("PAR01", "SKU1", 1_000).await.status, 200);
    }
    app.assert_stock_invariant().await;
}

/// A real deadlock on PostgreSQL: two transactions take two rows in
/// opposite orders. The one PostgreSQL aborts is seen as a lock conflict,
/// and the retry helper runs it again to success. (SQLite has one writer
/// and never deadlocks; there the test has nothing to check.)
#[actix_web::test]
async fn a_deadlock_postgres_breaks_is_run_again() {
    use hub::error::ApiError;
    use sea_orm::{ConnectionTrait, Database, TransactionTrait};
    if !storehub_tests::on_postgres() {
        return;
    }
    let url = storehub_tests::fresh_database_url().await;
    let (one, two) = (
        Database::connect(&url).await.unwrap(),
        Database::connect(&url).await.unwrap(),
    );
    one.execute_unprepared(
        "CREATE TABLE crossed (id int PRIMARY KEY, v int); \
         INSERT INTO crossed VALUES (1, 0), (2, 0)",
    )
    .await
    .unwrap();
    // Each takes its first row, then waits for the other's.
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(2));
    let crossed = |conn: sea_orm::DatabaseConnection,
                   first: i32,
                   barrier: std::sync::Arc<tokio::sync::Barrier>| async move {
        let tx = conn.begin().await?;
        let second = 3 - first;
        tx.execute_unprepared(&format!("UPDATE crossed SET v = v + 1 WHERE id = {first}"))
            .await?;
        barrier.wait().await;
        tx.execute_unprepared(&format!("UPDATE crossed SET v = v + 1 WHERE id = {second}"))
            .await?;
        tx.commit().await
    };
    let (a, b) = tokio::join!(
        crossed(one.clone(), 1, barrier.clone()),
        crossed(two.clone(), 2, barrier.clone())
    );
    let aborted: Vec<_> = [a, b].into_iter().filter_map(Result::err).collect();
    assert_eq!(aborted.len(), 1, "{aborted:?}");
    assert!(
        hub::store::is_lock_conflict(&aborted[0]),
        "{:?}",
        aborted[0]
    );
    assert!(!hub::store::is_lock_conflict(&sea_orm::DbErr::Custom(
        "other".into()
    )));

    // The helper runs an aborted attempt again; other errors it returns.
    let conflict = aborted.into_iter().next().unwrap();
    let mut attempts = 0;
    let outcome = hub::services::retrying_lock_conflicts(|| {
        attempts += 1;
        let result = if attempts == 1 {
            Err(ApiError::from(conflict.clone()))
        } else {
            Ok(attempts)
        };
        async move { result }
    })
    .await;
    assert_eq!(outcome.unwrap(), 2);
    let mut attempts = 0;
    let always = hub::services::retrying_lock_conflicts(|| {
        attempts += 1;
        let conflict = conflict.clone();
        async move { Err::<(), _>(ApiError::from(conflict)) }
    })
    .await;
    assert!(always.unwrap_err().is_lock_conflict());
    assert_eq!(attempts, 3, "three attempts, then the error");
}
