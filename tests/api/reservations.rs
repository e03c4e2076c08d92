//! Creating, reading, searching and cancelling reservations.

use serde_json::json;
use storehub_tests::{anonymous, identified, reservation_body, spawn_app};

#[actix_web::test]
async fn create_holds_stock_and_records_event_and_outbox() {
    let app = spawn_app().await;
    app.shop_with_stock(5).await;
    let created = app
        .reserve(
            &reservation_body("PAR01", "SKU1", 2, identified("c1")),
            None,
        )
        .await;
    assert_eq!(created.status, 201, "{created:?}");
    let body = &created.body;
    assert_eq!(body["state"], "pending");
    assert_eq!(body["store"], "PAR01");
    assert_eq!(body["lines"][0]["quantity"], 2);
    assert_eq!(body["lines"][0]["designation"], "Article SKU1");
    assert!(
        body["tracking_url"]
            .as_str()
            .unwrap()
            .starts_with(&app.address)
    );
    // Wednesday 10:00 + 2 opening hours = 12:00 Paris = 11:00 UTC.
    assert_eq!(body["confirm_by"], "2026-11-25T11:00:00Z");
    assert_eq!(body["events"][0]["kind"], "created");
    assert_eq!(body["events"][0]["seq"], 1);
    assert_eq!(body["events"][0]["by"]["kind"], "integration");
    assert_eq!(app.stock_of("PAR01", "SKU1").await, (5, 2, 3));

    let number = body["number"].as_str().unwrap();
    let fetched = app.get(&format!("/api/v1/reservations/{number}")).await;
    assert_eq!(fetched.body["number"], number);
    // Typed by a person: lower case, no dash.
    let typed = number.to_lowercase().replace('-', "");
    assert_eq!(
        app.get(&format!("/api/v1/reservations/{typed}"))
            .await
            .status,
        200
    );
    assert_eq!(
        app.get("/api/v1/reservations/ZZZZ-ZZZZ").await.error(),
        "unknown_reservation"
    );

    // The shopper is told and the team is alerted, through the outbox.
    assert_eq!(app.count("outbox").await, 2);
    app.assert_stock_invariant().await;
}

#[actix_web::test]
async fn every_refusal_has_a_code_and_changes_nothing() {
    let app = spawn_app().await;
    app.shop_with_stock(3).await;
    app.seed_article("LOCKED", false).await;
    app.set_stock("PAR01", "LOCKED", 3).await;
    app.seed_article("SKU2", true).await;
    let ok = reservation_body("PAR01", "SKU1", 1, identified("c1"));

    let cases = vec![
        (json!({"store": "NOPE"}), 404, "unknown_store"),
        (
            json!({"lines": [{"sku": "GHOST", "quantity": 1}]}),
            404,
            "unknown_sku",
        ),
        (
            json!({"lines": [{"sku": "LOCKED", "quantity": 1}]}),
            422,
            "article_not_reservable",
        ),
        (
            json!({"lines": [{"sku": "SKU1", "quantity": 0}]}),
            400,
            "invalid_quantity",
        ),
        (json!({"lines": []}), 400, "no_lines"),
        (
            json!({"lines": [{"sku": "SKU1", "quantity": 1}, {"sku": "SKU1", "quantity": 1}]}),
            400,
            "duplicate_line",
        ),
        (
            json!({"lines": [{"sku": "SKU1", "quantity": 1}, {"sku": "SKU2", "quantity": 1}]}),
            422,
            "too_many_lines",
        ),
        (
            json!({"lines": [{"sku": "SKU1", "quantity": 6}]}),
            422,
            "quantity_limit_exceeded",
        ),
        (json!({"accept_terms": false}), 400, "terms_not_accepted"),
        (
            json!({"customer": {"first_name": "A", "email": "nope", "identified": false}}),
            400,
            "invalid_email",
        ),
        (
            json!({"customer": {"first_name": "A", "email": "a@b.fr", "phone": "12"}}),
            400,
            "invalid_phone",
        ),
        (
            json!({"customer": {"first_name": "A", "identified": true}}),
            400,
            "missing_external_id",
        ),
        (
            json!({"customer": {"first_name": "", "email": "a@b.fr"}}),
            400,
            "invalid_customer",
        ),
        (
            json!({"customer": {"first_name": "A", "email": "a@b.fr", "language": "tlh"}}),
            400,
            "invalid_language",
        ),
    ];
    for (change, status, code) in cases {
        let mut body = ok.clone();
        for (key, value) in change.as_object().unwrap() {
            body[key] = value.clone();
        }
        let answer = app.reserve(&body, None).await;
        assert_eq!(
            (answer.status, answer.error()),
            (status, code),
            "{change}: {answer:?}"
        );
        assert!(
            answer.body["message"].as_str().unwrap().len() > 10,
            "{code} needs a sentence"
        );
    }

    // Out of stock says how many are left.
    app.patch(
        "/api/v1/settings",
        &json!({"max_quantity_per_article": {"anonymous": 2, "identified": 9}}),
    )
    .await;
    let short = app
        .reserve(
            &reservation_body("PAR01", "SKU1", 4, identified("c2")),
            None,
        )
        .await;
    assert_eq!((short.status, short.error()), (422, "out_of_stock"));
    assert!(
        short.body["message"].as_str().unwrap().contains("Only 3"),
        "{short:?}"
    );

    // Module off refuses everything.
    app.settings(json!({"module_active": false})).await;
    assert_eq!(app.reserve(&ok, None).await.error(), "module_inactive");

    // Nothing half-written by any refusal.
    assert_eq!(app.count("reservations").await, 0);
    assert_eq!(app.count("reservation_events").await, 0);
    assert_eq!(app.count("outbox").await, 0);
    assert_eq!(app.stock_of("PAR01", "SKU1").await, (3, 0, 3));
}

#[actix_web::test]
async fn limits_follow_customer_kind_and_store_overrides() {
    let app = spawn_app().await;
    app.shop_with_stock(100).await;
    app.seed_store("LYO01").await;
    app.set_stock("LYO01", "SKU1", 100).await;
    app.settings(json!({"email_validation_for_anonymous": false}))
        .await;

    // Anonymous: 2 per article; identified: 5.
    let anon = |q| reservation_body("PAR01", "SKU1", q, anonymous("paul@example.fr"));
    assert_eq!(
        app.reserve(&anon(3), None).await.error(),
        "quantity_limit_exceeded"
    );
    assert_eq!(app.reserve(&anon(2), None).await.status, 201);
    let ident = |q| reservation_body("PAR01", "SKU1", q, identified("marie"));
    assert_eq!(
        app.reserve(&ident(6), None).await.error(),
        "quantity_limit_exceeded"
    );

    // Identified: 10 open reservations at most.
    for _ in 0..10 {
        assert_eq!(app.reserve(&ident(1), None).await.status, 201);
    }
    let eleventh = app.reserve(&ident(1), None).await;
    assert_eq!(eleventh.error(), "open_reservations_limit_exceeded");
    assert!(
        eleventh.body["message"]
            .as_str()
            .unwrap()
            .contains("at most 10")
    );

    // Items held: a store override of 3 for anonymous shoppers in Lyon.
    let lyon = app
        .patch(
            "/api/v1/stores/LYO01/settings",
            &json!({"max_items_held": {"anonymous": 3, "identified": 45}}),
        )
        .await;
    assert_eq!(lyon.status, 200);
    let anon_lyon = |q| reservation_body("LYO01", "SKU1", q, anonymous("zoe@example.fr"));
    assert_eq!(app.reserve(&anon_lyon(2), None).await.status, 201);
    let over = app.reserve(&anon_lyon(2), None).await;
    assert_eq!(over.error(), "items_held_limit_exceeded");
    assert!(over.body["message"].as_str().unwrap().contains("at most 3"));
    assert_eq!(app.reserve(&anon_lyon(1), None).await.status, 201);
    // Paris keeps the global 30.
    assert_eq!(
        app.reserve(
            &reservation_body("PAR01", "SKU1", 2, anonymous("zoe@example.fr")),
            None
        )
        .await
        .status,
        201
    );

    // Lines per reservation: raised to 2 for Paris.
    app.seed_article("SKU2", true).await;
    app.set_stock("PAR01", "SKU2", 5).await;
    let two_lines = json!({"store": "PAR01", "customer": identified("lines"), "accept_terms": true,
        "lines": [{"sku": "SKU1", "quantity": 1}, {"sku": "SKU2", "quantity": 1}]});
    assert_eq!(
        app.reserve(&two_lines, None).await.error(),
        "too_many_lines"
    );
    app.patch(
        "/api/v1/stores/PAR01/settings",
        &json!({"max_lines_per_reservation": 2}),
    )
    .await;
    assert_eq!(app.reserve(&two_lines, None).await.status, 201);
    app.assert_stock_invariant().await;
}

#[actix_web::test]
async fn idempotency_key_replays_and_refuses_other_bodies() {
    let app = spawn_app().await;
    app.shop_with_stock(5).await;
    let body = reservation_body("PAR01", "SKU1", 1, identified("c1"));
    let first = app.reserve(&body, Some("order-123")).await;
    assert_eq!(first.status, 201);
    assert!(first.headers.get("idempotent-replayed").is_none());
    let again = app.reserve(&body, Some("order-123")).await;
    assert_eq!(again.status, 201);
    assert_eq!(again.headers.get("idempotent-replayed").unwrap(), "true");
    assert_eq!(again.body, first.body);
    assert_eq!(app.count("reservations").await, 1);
    assert_eq!(app.stock_of("PAR01", "SKU1").await.1, 1);

    let other = reservation_body("PAR01", "SKU1", 2, identified("c1"));
    let reused = app.reserve(&other, Some("order-123")).await;
    assert_eq!(
        (reused.status, reused.error()),
        (409, "idempotency_key_reused")
    );

    let bad_key = app.reserve(&body, Some(" ")).await;
    assert_eq!(bad_key.error(), "invalid_idempotency_key");
    // A refused create does not burn the key.
    let refused = app
        .reserve(
            &reservation_body("PAR01", "SKU1", 9, identified("c9")),
            Some("k2"),
        )
        .await;
    assert_eq!(refused.status, 422);
    assert_eq!(
        app.reserve(
            &reservation_body("PAR01", "SKU1", 1, identified("c9")),
            Some("k2")
        )
        .await
        .status,
        201
    );
}

#[actix_web::test]
async fn search_filters() {
    let app = spawn_app().await;
    app.shop_with_stock(50).await;
    app.seed_store("LYO01").await;
    app.seed_article("JEAN-40", true).await;
    app.put(
        "/api/v1/articles/JEAN-40",
        &json!({"designation": "Jean slim brut", "reservable": true}),
    )
    .await;
    app.set_stock("LYO01", "JEAN-40", 10).await;
    let mut marie = identified("m1");
    marie["first_name"] = json!("Marie");
    marie["last_name"] = json!("Dupont");
    let a = app
        .reserve(&reservation_body("PAR01", "SKU1", 1, marie), None)
        .await;
    app.clock.advance(chrono::Duration::hours(2));
    let mut jules = identified("j1");
    jules["first_name"] = json!("Jules");
    jules["last_name"] = json!("Verne");
    let b = app
        .reserve(&reservation_body("LYO01", "JEAN-40", 1, jules), None)
        .await;
    let a_number = a.body["number"].as_str().unwrap();
    let b_number = b.body["number"].as_str().unwrap();
    let cancelled = app
        .post(
            &format!("/api/v1/reservations/{a_number}/cancel"),
            &json!({}),
        )
        .await;
    assert_eq!(cancelled.status, 200, "{cancelled:?}");

    let numbers = |answer: &storehub_tests::Answer| -> Vec<String> {
        answer.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["number"].as_str().unwrap().to_string())
            .collect()
    };
    let all = app.get("/api/v1/reservations").await;
    assert_eq!(all.body["total"], 2);
    assert_eq!(numbers(&all), vec![b_number, a_number], "newest first");
    assert_eq!(
        numbers(&app.get("/api/v1/reservations?store=LYO01").await),
        vec![b_number]
    );
    assert_eq!(
        numbers(&app.get("/api/v1/reservations?state=cancelled").await),
        vec![a_number]
    );
    assert_eq!(
        numbers(
            &app.get("/api/v1/reservations?state=pending,cancelled")
                .await
        )
        .len(),
        2
    );
    assert_eq!(
        numbers(&app.get("/api/v1/reservations?customer=dupont").await),
        vec![a_number]
    );
    assert_eq!(
        numbers(&app.get("/api/v1/reservations?article=slim").await),
        vec![b_number]
    );
    assert_eq!(
        numbers(&app.get("/api/v1/reservations?q=verne").await),
        vec![b_number]
    );
    assert_eq!(
        numbers(
            &app.get(&format!("/api/v1/reservations?number={a_number}"))
                .await
        ),
        vec![a_number]
    );
    assert_eq!(
        numbers(&app.get("/api/v1/reservations?transferred=no").await).len(),
        2
    );
    assert!(numbers(&app.get("/api/v1/reservations?transferred=yes").await).is_empty());
    let from = (storehub_tests::wednesday_morning() + chrono::Duration::hours(1)).to_rfc3339();
    let from_query = format!("/api/v1/reservations?from={}", from.replace('+', "%2B"));
    assert_eq!(numbers(&app.get(&from_query).await), vec![b_number]);
    let paged = app.get("/api/v1/reservations?per_page=1&page=2").await;
    assert_eq!(numbers(&paged), vec![a_number]);
    assert_eq!(
        app.get("/api/v1/reservations?state=lost").await.error(),
        "invalid_query"
    );
    assert_eq!(
        app.get("/api/v1/reservations?store=NOPE").await.error(),
        "unknown_store"
    );
    assert_eq!(
        app.get("/api/v1/reservations?per_page=0").await.error(),
        "invalid_query"
    );
    assert_eq!(
        app.get("/api/v1/reservations?from=yesterday").await.error(),
        "invalid_query"
    );
}

#[actix_web::test]
async fn cancel_releases_the_hold_once() {
    let app = spawn_app().await;
    app.shop_with_stock(2).await;
    let created = app
        .reserve(
            &reservation_body("PAR01", "SKU1", 2, identified("c1")),
            None,
        )
        .await;
    let number = created.body["number"].as_str().unwrap();
    assert_eq!(app.stock_of("PAR01", "SKU1").await, (2, 2, 0));
    let cancelled = app
        .post(
            &format!("/api/v1/reservations/{number}/cancel"),
            &json!({"reason": "changed mind"}),
        )
        .await;
    assert_eq!(cancelled.status, 200, "{cancelled:?}");
    assert_eq!(cancelled.body["state"], "cancelled");
    assert_eq!(cancelled.body["reason"], "changed mind");
    assert_eq!(cancelled.body["events"][1]["kind"], "cancelled");
    assert_eq!(app.stock_of("PAR01", "SKU1").await, (2, 0, 2));

    let twice = app
        .post(&format!("/api/v1/reservations/{number}/cancel"), &json!({}))
        .await;
    assert_eq!(
        (twice.status, twice.error()),
        (409, "reservation_already_handled")
    );
    assert!(
        twice.body["message"].as_str().unwrap().contains("tests"),
        "{twice:?}"
    );
    // The same facts, structured, for apps to word.
    assert_eq!(twice.body["handled"]["number"], number);
    assert_eq!(twice.body["handled"]["state"], "cancelled");
    assert_eq!(twice.body["handled"]["by"], cancelled.body["handled_by"]);
    assert!(twice.body["handled"]["at"].is_string(), "{twice:?}");
    assert_eq!(app.stock_of("PAR01", "SKU1").await, (2, 0, 2));
    app.assert_stock_invariant().await;
}
