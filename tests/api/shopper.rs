//! The shopper's side: validation link, tracking, cancel by token.

use chrono::Duration;
use serde_json::json;
use storehub_tests::{anonymous, identified, reservation_body, spawn_app};

fn token_of(url: &str) -> String {
    url.rsplit('/').next().unwrap().to_string()
}

/// The validation URL, as queued for the shopper's email.
async fn validation_url(app: &storehub_tests::TestApp, number: &str) -> String {
    let rows = hub::store::outbox::with_prefix(app.ctx.db.conn(), "ev:")
        .await
        .unwrap();
    rows.iter()
        .map(|row| serde_json::from_str::<serde_json::Value>(&row.payload).unwrap())
        .find(|p| p["number"] == number && p["template"] == "validate_request")
        .and_then(|p| p["validation_url"].as_str().map(str::to_string))
        .expect("a validation email is queued")
}

#[actix_web::test]
async fn anonymous_request_waits_for_validation_with_stock_held() {
    let app = spawn_app().await;
    app.shop_with_stock(3).await;
    let created = app
        .reserve(
            &reservation_body("PAR01", "SKU1", 2, anonymous("paul@example.fr")),
            None,
        )
        .await;
    assert_eq!(created.status, 201);
    assert_eq!(created.body["state"], "awaiting_validation");
    assert_eq!(created.body["events"][0]["kind"], "requested");
    assert_eq!(created.body["validate_by"], "2026-11-26T09:00:00Z");
    assert!(created.body["confirm_by"].is_null());
    assert_eq!(app.stock_of("PAR01", "SKU1").await, (3, 2, 1));
    let number = created.body["number"].as_str().unwrap();

    // The store hears nothing until the link is clicked: only the shopper email.
    assert_eq!(app.count("outbox").await, 1);
    let url = validation_url(&app, number).await;
    assert!(url.starts_with(&format!("{}/r/validate/", app.address)));

    app.clock.advance(Duration::hours(1));
    let page = app.client.get(&url).send().await.unwrap();
    assert_eq!(page.status().as_u16(), 200);
    let html = page.text().await.unwrap();
    // From the editable `page_validated` template, in the shopper's language.
    assert!(
        html.contains("<h1>Demande confirmée</h1>")
            && html.contains(&format!("<strong>{number}</strong>"))
            && html.contains("&#x2f;t&#x2f;"),
        "{html}"
    );
    let fetched = app.get(&format!("/api/v1/reservations/{number}")).await;
    assert_eq!(fetched.body["state"], "pending");
    // Confirmation deadline counts from validation: 11:00 + 2h Paris = 12:00 UTC.
    assert_eq!(fetched.body["confirm_by"], "2026-11-25T12:00:00Z");
    assert_eq!(fetched.body["events"][1]["kind"], "created");
    assert_eq!(app.count("outbox").await, 3, "received email + team alert");
    assert_eq!(app.stock_of("PAR01", "SKU1").await, (3, 2, 1));

    // A second click changes nothing; POST answers JSON for scripts.
    let again = app.post_anonymous(&url.replace(&app.address, "")).await;
    assert_eq!(again.status, 200);
    assert_eq!(again.body["outcome"], "already_validated");
    let unknown = app.post_anonymous("/r/validate/deadbeef").await;
    assert_eq!(unknown.error(), "unknown_validation_token");
}

#[actix_web::test]
async fn expired_validation_link_releases_the_stock() {
    let app = spawn_app().await;
    app.shop_with_stock(3).await;
    let created = app
        .reserve(
            &reservation_body("PAR01", "SKU1", 2, anonymous("paul@example.fr")),
            None,
        )
        .await;
    let number = created.body["number"].as_str().unwrap().to_string();
    let url = validation_url(&app, &number).await;

    // Not yet: 23 hours later the hold is still there.
    app.advance_and_settle(Duration::hours(23)).await;
    assert_eq!(app.stock_of("PAR01", "SKU1").await, (3, 2, 1));

    // The sweeper alone acts once the deadline passes.
    app.clock.advance(Duration::hours(1) + Duration::seconds(1));
    let mut state = String::new();
    for _ in 0..250 {
        let fetched = app.get(&format!("/api/v1/reservations/{number}")).await;
        state = fetched.body["state"].as_str().unwrap().to_string();
        if state == "expired" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(state, "expired");
    assert_eq!(app.stock_of("PAR01", "SKU1").await, (3, 0, 3));
    let fetched = app.get(&format!("/api/v1/reservations/{number}")).await;
    let kinds: Vec<&str> = fetched.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, vec!["requested", "expired"], "expired exactly once");
    assert_eq!(
        fetched.body["events"][1]["data"]["reason"],
        "validation_link_expired"
    );

    // The link now says so.
    let late = app.post_anonymous(&url.replace(&app.address, "")).await;
    assert_eq!(
        (late.status, late.error()),
        (409, "validation_link_expired")
    );
    app.assert_stock_invariant().await;
}

#[actix_web::test]
async fn tracking_shows_state_and_lets_the_shopper_cancel() {
    let app = spawn_app().await;
    app.shop_with_stock(3).await;
    let mut shopper = identified("c1");
    shopper["language"] = json!("en");
    let created = app
        .reserve(&reservation_body("PAR01", "SKU1", 1, shopper), None)
        .await;
    let token = token_of(created.body["tracking_url"].as_str().unwrap());

    let tracked = app
        .get_anonymous(&format!("/api/v1/tracking/{token}"))
        .await;
    assert_eq!(tracked.status, 200);
    assert_eq!(tracked.body["state"], "pending");
    assert_eq!(tracked.body["label"], "Sent to the store");
    assert_eq!(tracked.body["store"]["name"], "Store PAR01");
    assert_eq!(
        tracked.body["store"]["email"], "",
        "the team's mailbox is not shown"
    );
    assert_eq!(tracked.body["can_cancel"], true);
    assert_eq!(tracked.body["timeline"][0]["kind"], "created");

    let page = app.get_anonymous(&format!("/t/{token}")).await;
    assert_eq!(page.status, 200);
    assert!(page.text.contains("Sent to the store") && page.text.contains("Cancel my reservation"));
    let number = created.body["number"].as_str().unwrap();
    assert!(
        page.text
            .contains(&format!("aria-label=\"QR code of number {number}\"")),
        "the number as a QR code for the till"
    );

    // Staff print the slip from the app: the store's team only.
    let slip = app
        .get(&format!("/api/v1/reservations/{number}/slip"))
        .await;
    assert_eq!(slip.status, 200);
    assert!(slip.text.contains("aria-label=\"EAN 4006381333931\""));
    app.seed_store("LYO01").await;
    let elsewhere = app.staff("karim@shop.test", "staff", &["LYO01"]).await;
    let refused = app
        .as_staff(
            &elsewhere,
            reqwest::Method::GET,
            &format!("/api/v1/reservations/{number}/slip"),
            None,
        )
        .await;
    assert_eq!(refused.error(), "not_your_store");

    let cancelled = app
        .post_anonymous(&format!("/api/v1/tracking/{token}/cancel"))
        .await;
    assert_eq!(cancelled.status, 200);
    assert_eq!(cancelled.body["state"], "cancelled");
    assert_eq!(cancelled.body["can_cancel"], false);
    assert_eq!(app.stock_of("PAR01", "SKU1").await, (3, 0, 3));
    let again = app
        .post_anonymous(&format!("/api/v1/tracking/{token}/cancel"))
        .await;
    assert_eq!(again.error(), "reservation_already_handled");

    let history = app.get(&format!("/api/v1/reservations/{number}")).await;
    assert_eq!(history.body["events"][1]["by"]["kind"], "shopper");

    let unknown = app.get_anonymous("/api/v1/tracking/nope").await;
    assert_eq!(
        (unknown.status, unknown.error()),
        (404, "unknown_tracking_token")
    );
    let unknown_page = app.get_anonymous("/t/nope").await;
    assert_eq!(unknown_page.status, 404);
    assert!(unknown_page.text.contains("not valid"));
}

#[actix_web::test]
async fn after_request_and_terms_pages_come_from_the_editable_templates() {
    let app = spawn_app().await;
    app.shop_with_stock(3).await;
    let waiting = app
        .reserve(
            &reservation_body("PAR01", "SKU1", 1, anonymous("paul@example.fr")),
            None,
        )
        .await;
    let token = token_of(waiting.body["tracking_url"].as_str().unwrap());
    let page = app.get_anonymous(&format!("/t/{token}/done")).await;
    assert_eq!(page.status, 200);
    assert!(
        page.text.contains("Vérifiez votre boîte mail"),
        "{}",
        page.text
    );
    assert!(page.text.contains(waiting.body["number"].as_str().unwrap()));

    let mut shopper = identified("c1");
    shopper["language"] = json!("en");
    let direct = app
        .reserve(&reservation_body("PAR01", "SKU1", 1, shopper), None)
        .await;
    let token = token_of(direct.body["tracking_url"].as_str().unwrap());
    let page = app.get_anonymous(&format!("/t/{token}/done")).await;
    assert!(
        page.text.contains("Reservation sent") && page.text.contains("Store PAR01"),
        "{}",
        page.text
    );

    let terms = app.get_anonymous("/terms").await;
    assert!(
        terms
            .text
            .contains("Conditions de la réservation en magasin")
    );
    let edited = app
        .put(
            "/api/v1/templates/page_terms/en",
            &json!({"subject": "Our terms", "text": "Be nice.", "html": "<h1>Our terms</h1><p>Be nice.</p>"}),
        )
        .await;
    assert_eq!(edited.status, 200, "{edited:?}");
    let terms = app.get_anonymous("/terms?lang=en").await;
    assert!(
        terms.text.contains("<p>Be nice.</p>") && terms.text.contains("<title>Our terms</title>"),
        "{}",
        terms.text
    );
}
