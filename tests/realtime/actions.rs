//! What the team does with reservations, and the board that shows it.

use futures_util::future::join;
use reqwest::Method;
use serde_json::json;
use storehub_tests::{anonymous, identified, reservation_body, spawn_app};

#[actix_web::test]
async fn set_aside_then_collect_with_barcodes_and_order_ref() {
    let app = spawn_app().await;
    app.shop_with_stock(5).await;
    let julie = app.staff("julie@shop.test", "staff", &["PAR01"]).await;
    let created = app
        .reserve(
            &reservation_body("PAR01", "SKU1", 2, identified("c1")),
            None,
        )
        .await;
    let number = created.body["number"].as_str().unwrap();

    let aside = app
        .as_staff(
            &julie,
            Method::POST,
            &format!("/api/v1/reservations/{number}/set-aside"),
            None,
        )
        .await;
    assert_eq!(aside.status, 200, "{aside:?}");
    assert_eq!(aside.body["state"], "set_aside");
    // Wednesday + 3 days = Saturday; the store closes at 19:00 Paris (18:00 UTC).
    assert_eq!(aside.body["pickup_by"], "2026-11-28T18:00:00Z");
    assert_eq!(aside.body["handled_by"], "julie");
    assert_eq!(aside.body["events"][1]["by"]["kind"], "staff");
    assert_eq!(
        app.stock_of("PAR01", "SKU1").await,
        (5, 2, 3),
        "still held while set aside"
    );

    let board = app
        .as_staff(&julie, Method::GET, "/api/v1/stores/PAR01/board", None)
        .await;
    assert_eq!(
        board.body["counts"],
        json!({"pending": 0, "set_aside": 1, "to_put_back": 0})
    );
    assert_eq!(board.body["set_aside"][0]["number"], number);

    let wrong_scan = app
        .as_staff(
            &julie,
            Method::POST,
            &format!("/api/v1/reservations/{number}/collect"),
            Some(&json!({"scanned": ["4006381333931"]})),
        )
        .await;
    assert_eq!(
        (wrong_scan.status, wrong_scan.error()),
        (422, "scan_mismatch")
    );
    assert!(
        wrong_scan.body["message"]
            .as_str()
            .unwrap()
            .contains("expected 2, scanned 1")
    );

    // The till scans the shopper's QR code: the tracking link finds it too.
    let tracking_url = created.body["tracking_url"].as_str().unwrap();
    let token = tracking_url.rsplit('/').next().unwrap();
    let scanned = app
        .as_staff(
            &julie,
            Method::GET,
            &format!("/api/v1/reservations/{token}"),
            None,
        )
        .await;
    assert_eq!(scanned.body["number"], number);
    let collected = app
        .as_staff(&julie, Method::POST, &format!("/api/v1/reservations/{token}/collect"),
            Some(&json!({"scanned": ["4006381333931", "4006381333931"], "order_ref": "SALE-981",
                "customer": {"first_name": "Marie", "last_name": "Curie", "email": "marie@example.fr"}})))
        .await;
    assert_eq!(collected.status, 200, "{collected:?}");
    assert_eq!(collected.body["state"], "collected");
    assert_eq!(collected.body["order_ref"], "SALE-981");
    assert_eq!(collected.body["customer"]["first_name"], "Marie");
    // Handed over: the units leave the store.
    assert_eq!(app.stock_of("PAR01", "SKU1").await, (3, 0, 3));
    let transferred = app.get("/api/v1/reservations?transferred=yes").await;
    assert_eq!(transferred.body["total"], 1);

    let late = app
        .as_staff(
            &julie,
            Method::POST,
            &format!("/api/v1/reservations/{number}/reject"),
            Some(&json!({"reason": "x"})),
        )
        .await;
    assert_eq!(
        (late.status, late.error()),
        (409, "reservation_already_handled")
    );
    assert!(late.body["message"].as_str().unwrap().contains("julie"));
    app.assert_stock_invariant().await;
}

#[actix_web::test]
async fn concurrent_set_aside_and_reject_one_wins() {
    let app = spawn_app().await;
    app.shop_with_stock(20).await;
    let julie = app.staff("julie@shop.test", "staff", &["PAR01"]).await;
    let karim = app.staff("karim@shop.test", "staff", &["PAR01"]).await;
    for round in 0..8 {
        let created = app
            .reserve(
                &reservation_body("PAR01", "SKU1", 1, identified(&format!("race{round}"))),
                None,
            )
            .await;
        let number = created.body["number"].as_str().unwrap().to_string();
        let set_aside_path = format!("/api/v1/reservations/{number}/set-aside");
        let reject_path = format!("/api/v1/reservations/{number}/reject");
        let reject_body = json!({"reason": "not found on the shelf"});
        let (a, b) = join(
            app.as_staff(&julie, Method::POST, &set_aside_path, None),
            app.as_staff(&karim, Method::POST, &reject_path, Some(&reject_body)),
        )
        .await;
        let statuses = [a.status, b.status];
        assert!(
            statuses.contains(&200) && statuses.contains(&409),
            "round {round}: {a:?} {b:?}"
        );
        let loser = if a.status == 409 { &a } else { &b };
        assert_eq!(loser.error(), "reservation_already_handled");
        let winner = if a.status == 200 { "julie" } else { "karim" };
        assert!(
            loser.body["message"].as_str().unwrap().contains(winner),
            "{loser:?}"
        );
        let events = app
            .get(&format!("/api/v1/reservations/{number}"))
            .await
            .body["events"]
            .clone();
        assert_eq!(
            events.as_array().unwrap().len(),
            2,
            "one created, one decision"
        );
    }
    app.assert_stock_invariant().await;
}

#[actix_web::test]
async fn reject_needs_a_reason_and_releases_the_stock() {
    let app = spawn_app().await;
    app.shop_with_stock(2).await;
    let julie = app.staff("julie@shop.test", "staff", &["PAR01"]).await;
    let created = app
        .reserve(
            &reservation_body("PAR01", "SKU1", 2, identified("c1")),
            None,
        )
        .await;
    let number = created.body["number"].as_str().unwrap();
    let path = format!("/api/v1/reservations/{number}/reject");
    let blank = app
        .as_staff(&julie, Method::POST, &path, Some(&json!({"reason": "  "})))
        .await;
    assert_eq!(blank.error(), "missing_reason");
    let rejected = app
        .as_staff(
            &julie,
            Method::POST,
            &path,
            Some(&json!({"reason": "damaged"})),
        )
        .await;
    assert_eq!(rejected.body["state"], "rejected");
    assert_eq!(rejected.body["reason"], "damaged");
    assert_eq!(app.stock_of("PAR01", "SKU1").await, (2, 0, 2));
}

#[actix_web::test]
async fn expired_set_aside_goes_to_put_back_then_reintegrates() {
    let app = spawn_app().await;
    app.shop_with_stock(4).await;
    app.settings(json!({"email_validation_for_anonymous": false}))
        .await;
    let julie = app.staff("julie@shop.test", "staff", &["PAR01"]).await;
    let created = app
        .reserve(
            &reservation_body("PAR01", "SKU1", 2, anonymous("paul@example.fr")),
            None,
        )
        .await;
    let number = created.body["number"].as_str().unwrap();
    app.as_staff(
        &julie,
        Method::POST,
        &format!("/api/v1/reservations/{number}/set-aside"),
        None,
    )
    .await;
    let early = app
        .as_staff(
            &julie,
            Method::POST,
            &format!("/api/v1/reservations/{number}/put-back"),
            Some(&json!({"lines": []})),
        )
        .await;
    assert_eq!(early.error(), "nothing_to_put_back");

    // Saturday 19:00 Paris passes: expired, stock released, on the put-back list.
    app.advance_and_settle(chrono::Duration::days(4)).await;
    let expired = app.get(&format!("/api/v1/reservations/{number}")).await;
    assert_eq!(expired.body["state"], "expired");
    assert_eq!(app.stock_of("PAR01", "SKU1").await, (4, 0, 4));
    let board = app
        .as_staff(&julie, Method::GET, "/api/v1/stores/PAR01/board", None)
        .await;
    assert_eq!(board.body["counts"]["to_put_back"], 1);
    assert_eq!(board.body["to_put_back"][0]["number"], number);

    // One unit came back, one was damaged: partial, and the damaged one leaves the stock.
    let put_back = app
        .as_staff(
            &julie,
            Method::POST,
            &format!("/api/v1/reservations/{number}/put-back"),
            Some(&json!({"lines": [{"sku": "SKU1", "quantity": 1}]})),
        )
        .await;
    assert_eq!(put_back.status, 200, "{put_back:?}");
    assert_eq!(put_back.body["reintegration"], "partial");
    assert_eq!(put_back.body["lines"][0]["put_back_quantity"], 1);
    assert_eq!(app.stock_of("PAR01", "SKU1").await, (3, 0, 3));
    let again = app
        .as_staff(
            &julie,
            Method::POST,
            &format!("/api/v1/reservations/{number}/put-back"),
            Some(&json!({"lines": []})),
        )
        .await;
    assert_eq!(again.error(), "already_put_back");
    let board = app
        .as_staff(&julie, Method::GET, "/api/v1/stores/PAR01/board", None)
        .await;
    assert_eq!(board.body["counts"]["to_put_back"], 0);
    let kinds: Vec<String> = app
        .get(&format!("/api/v1/reservations/{number}"))
        .await
        .body["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        kinds,
        vec![
            "created",
            "set_aside",
            "pickup_reminder",
            "expired",
            "put_back"
        ]
    );
    app.assert_stock_invariant().await;
}
