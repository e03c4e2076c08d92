//! Till counts: absolute updates, and what a lower count does to holds.

use serde_json::json;
use storehub_tests::{identified, reservation_body, spawn_app};

#[actix_web::test]
async fn lower_count_auto_cancels_newest_first_and_releases_once() {
    let app = spawn_app().await;
    app.shop_with_stock(5).await;
    let mut numbers = Vec::new();
    for i in 0..4 {
        let created = app
            .reserve(
                &reservation_body("PAR01", "SKU1", 1, identified(&format!("c{i}"))),
                None,
            )
            .await;
        numbers.push(created.body["number"].as_str().unwrap().to_string());
        app.clock.advance(chrono::Duration::minutes(1));
    }
    assert_eq!(app.stock_of("PAR01", "SKU1").await, (5, 4, 1));

    // Four held, the till now counts two: the two newest go.
    let update = app.set_stock("PAR01", "SKU1", 2).await;
    assert_eq!(update.status, 200, "{update:?}");
    assert_eq!(
        update.body["auto_cancelled"],
        json!([numbers[3], numbers[2]])
    );
    assert_eq!(app.stock_of("PAR01", "SKU1").await, (2, 2, 0));
    for (i, number) in numbers.iter().enumerate() {
        let state = app
            .get(&format!("/api/v1/reservations/{number}"))
            .await
            .body["state"]
            .clone();
        assert_eq!(state, if i >= 2 { "auto_cancelled" } else { "pending" });
    }

    // The same count again changes nothing and cancels nobody twice.
    let repeat = app.set_stock("PAR01", "SKU1", 2).await;
    assert_eq!(repeat.body["auto_cancelled"], json!([]));
    let events = app.count("reservation_events").await;
    assert_eq!(events, 4 + 2);
    app.assert_stock_invariant().await;

    // Bad counts are refused as a whole.
    let bad = app
        .put(
            "/api/v1/stores/PAR01/stock",
            &json!([{"sku": "SKU1", "on_hand": 9}, {"sku": "GHOST", "on_hand": 1}]),
        )
        .await;
    assert_eq!(bad.error(), "unknown_sku");
    assert_eq!(app.stock_of("PAR01", "SKU1").await, (2, 2, 0));
    let negative = app.set_stock("PAR01", "SKU1", -1).await;
    assert_eq!(negative.error(), "invalid_quantity");
    assert_eq!(
        app.set_stock("NOPE", "SKU1", 1).await.error(),
        "unknown_store"
    );
}
