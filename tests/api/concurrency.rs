//! Invariants under concurrency: no oversell, one reservation per key.

use futures_util::future::join_all;
use storehub_tests::{identified, reservation_body, spawn_app};

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
