//! Shopper and store emails through a real SMTP server.

use reqwest::Method;
use serde_json::json;
use storehub_tests::services::SmtpServer;
use storehub_tests::{anonymous, identified, reservation_body};

use super::{hub_with, settled};

#[actix_web::test]
async fn shopper_hears_of_every_step_in_their_language() {
    let smtp = SmtpServer::start().await;
    let app = hub_with(Some(&smtp), false, None).await;
    app.shop_with_stock(5).await;
    let julie = app.staff("julie@shop.test", "staff", &["PAR01"]).await;
    let mut shopper = identified("c1");
    shopper["language"] = json!("en");
    let created = app
        .reserve(&reservation_body("PAR01", "SKU1", 1, shopper), None)
        .await;
    let number = created.body["number"].as_str().unwrap().to_string();

    // Received (shopper) + to handle (the store's mailbox: nobody on the list).
    let messages = smtp.wait_for(2).await;
    let received = messages
        .iter()
        .find(|m| m["to"] == "c1@example.fr")
        .expect("shopper email");
    assert_eq!(
        received["subject"],
        format!("Reservation {number} received")
    );
    assert_eq!(received["from"], "Storehub <hub@shop.test>");
    assert_eq!(received["content_type"], "multipart/alternative");
    assert!(received["text"].as_str().unwrap().contains("Hello Marie"));
    assert!(
        received["text"]
            .as_str()
            .unwrap()
            .contains("1 x Article SKU1 (Blue, M)")
    );
    let token = created.body["tracking_url"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    assert!(
        received["html"].as_str().unwrap().contains(&token),
        "the HTML links to the tracking page"
    );
    let store = messages
        .iter()
        .find(|m| m["to"] == "par01@shop.test")
        .expect("store email");
    assert!(
        store["subject"]
            .as_str()
            .unwrap()
            .starts_with(&format!("À traiter : réservation {number}"))
    );
    let store_text = store["text"].as_str().unwrap();
    assert!(
        store_text.contains("1 x Article SKU1"),
        "the checklist: {store_text}"
    );
    assert!(
        store_text.contains(&format!("Mettre de côté : {}/a/", app.address)),
        "quick links: {store_text}"
    );
    let slip = store_text
        .lines()
        .find_map(|l| l.strip_prefix("Bon de préparation : "))
        .expect("slip link")
        .trim()
        .to_string();
    let page = app.client.get(&slip).send().await.unwrap();
    assert_eq!(page.status().as_u16(), 200);
    let page = page.text().await.unwrap();
    assert!(
        page.contains(&format!(
            "Bon de préparation <span class=\"number\">{number}"
        )) && page.contains("aria-label=\"EAN 4006381333931\"")
            && page.contains("Marie"),
        "{page}"
    );

    app.as_staff(
        &julie,
        Method::POST,
        &format!("/api/v1/reservations/{number}/set-aside"),
        None,
    )
    .await;
    let messages = smtp.wait_for(3).await;
    let ready = messages
        .iter()
        .find(|m| {
            m["subject"]
                .as_str()
                .unwrap()
                .starts_with("Your article is waiting")
        })
        .expect("the ready email");
    assert_eq!(
        ready["subject"],
        format!("Your article is waiting: reservation {number}")
    );
    let text = ready["text"].as_str().unwrap();
    assert!(
        text.contains(&format!("Number to give at the till: {number}")),
        "{text}"
    );
    assert!(text.contains("Collect before 2026-11-28 19:00"), "{text}");
    // The QR code of the number, inline, for the till to scan.
    assert!(ready["html"].as_str().unwrap().contains("cid:qr-code"));
    let images = ready["images"].as_array().unwrap();
    assert_eq!(images.len(), 1, "{ready}");
    assert_eq!(images[0]["content_type"], "image/png");
    assert_eq!(images[0]["content_id"], "qr-code");
    assert_eq!(images[0]["png"], true);

    let rows = settled(&app, &number).await;
    assert!(rows.iter().all(|r| r["status"] == "sent"), "{rows:?}");
}

#[actix_web::test]
async fn validation_rejection_and_cancellation_emails() {
    let smtp = SmtpServer::start().await;
    let app = hub_with(Some(&smtp), false, None).await;
    app.shop_with_stock(5).await;
    let julie = app.staff("julie@shop.test", "staff", &["PAR01"]).await;

    // Anonymous, French: the validation email carries the working link.
    let created = app
        .reserve(
            &reservation_body("PAR01", "SKU1", 1, anonymous("paul@example.fr")),
            None,
        )
        .await;
    let number = created.body["number"].as_str().unwrap().to_string();
    let messages = smtp.wait_for(1).await;
    assert_eq!(
        messages[0]["subject"],
        format!("Confirmez votre réservation {number}")
    );
    let text = messages[0]["text"].as_str().unwrap();
    let link = text
        .lines()
        .find_map(|l| l.strip_prefix("Confirmer : "))
        .unwrap()
        .trim()
        .to_string();
    let clicked = app.client.get(&link).send().await.unwrap();
    assert_eq!(clicked.status().as_u16(), 200);

    let rejected = app
        .as_staff(
            &julie,
            Method::POST,
            &format!("/api/v1/reservations/{number}/reject"),
            Some(&json!({"reason": "abîmé"})),
        )
        .await;
    assert_eq!(rejected.status, 200);
    // validate + received + store alert + rejected
    let messages = smtp.wait_for(4).await;
    let refusal = messages
        .iter()
        .find(|m| m["subject"] == format!("Réservation {number} non disponible"))
        .unwrap();
    assert!(refusal["text"].as_str().unwrap().contains("Motif : abîmé"));
    assert!(refusal["html"].as_str().unwrap().contains("abîmé"));

    // The shopper cancels another one: a confirmation to them, a note to the store.
    let other = app
        .reserve(
            &reservation_body("PAR01", "SKU1", 1, identified("c2")),
            None,
        )
        .await;
    let token = other.body["tracking_url"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    app.post_anonymous(&format!("/api/v1/tracking/{token}/cancel"))
        .await;
    let other_number = other.body["number"].as_str().unwrap();
    let messages = smtp.wait_for(8).await;
    assert!(messages.iter().any(
        |m| m["subject"] == format!("Réservation {other_number} annulée")
            && m["to"] == "c2@example.fr"
    ));
    assert!(messages.iter().any(|m| m["subject"]
        == format!("Annulée par le client : réservation {other_number}")
        && m["to"] == "par01@shop.test"));
}

#[actix_web::test]
async fn quiet_hours_skip_a_member_and_email_alerts_reach_the_list() {
    let smtp = SmtpServer::start().await;
    let app = hub_with(Some(&smtp), false, None).await;
    app.shop_with_stock(5).await;
    let julie = app.staff("julie@shop.test", "staff", &["PAR01"]).await;
    let karim = app.staff("karim@shop.test", "staff", &["PAR01"]).await;
    app.join_alert_list(&julie, "PAR01", &["email"]).await;
    // Karim sleeps from 09:30 to 11:00 Paris; it is 10:00.
    app.as_staff(
        &karim,
        Method::PUT,
        "/api/v1/stores/PAR01/alert-list/me",
        Some(&json!({"channels": ["email"], "quiet_hours": {"from": "09:30", "to": "11:00"}})),
    )
    .await;
    app.reserve(
        &reservation_body("PAR01", "SKU1", 1, identified("c1")),
        None,
    )
    .await;
    let messages = smtp.wait_for(2).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let messages = if messages.len() < 3 {
        smtp.messages()
    } else {
        messages
    };
    let staff: Vec<&str> = messages
        .iter()
        .map(|m| m["to"].as_str().unwrap())
        .filter(|to| to.ends_with("@shop.test"))
        .collect();
    assert_eq!(
        staff,
        vec!["julie@shop.test"],
        "Karim is in his quiet hours, the store mailbox is not needed"
    );
}

#[actix_web::test]
async fn reminder_before_the_pickup_deadline_then_expired() {
    let smtp = SmtpServer::start().await;
    let app = hub_with(Some(&smtp), false, None).await;
    app.shop_with_stock(5).await;
    let julie = app.staff("julie@shop.test", "staff", &["PAR01"]).await;
    let mut shopper = identified("c1");
    shopper["language"] = json!("en");
    let created = app
        .reserve(&reservation_body("PAR01", "SKU1", 1, shopper), None)
        .await;
    let number = created.body["number"].as_str().unwrap().to_string();
    app.as_staff(
        &julie,
        Method::POST,
        &format!("/api/v1/reservations/{number}/set-aside"),
        None,
    )
    .await;
    let to_shopper = |messages: &[serde_json::Value]| {
        messages
            .iter()
            .filter(|m| m["to"] == "c1@example.fr")
            .map(|m| m["subject"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    // received, store alert, ready
    smtp.wait_for(3).await;
    // Pickup by Saturday 19:00 Paris: the reminder goes 24 hours before.
    app.advance_and_settle(chrono::Duration::hours(56)).await;
    assert_eq!(
        to_shopper(&smtp.messages()).len(),
        2,
        "not yet on Friday 18:00"
    );
    app.advance_and_settle(chrono::Duration::hours(2)).await;
    let messages = smtp.wait_for(4).await;
    assert!(
        to_shopper(&messages).contains(&format!("Not long left to collect {number}")),
        "{messages:?}"
    );
    app.advance_and_settle(chrono::Duration::days(1)).await;
    let messages = smtp.wait_for(6).await;
    assert!(to_shopper(&messages).contains(&format!("Reservation {number} expired")));
    // The team is told to put it back.
    assert!(
        messages
            .iter()
            .any(|m| m["subject"] == format!("À remettre en rayon : réservation {number}"))
    );
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
        vec!["created", "set_aside", "pickup_reminder", "expired"]
    );
}

#[actix_web::test]
async fn restock_alerts_go_out_once_when_the_article_is_back() {
    let smtp = SmtpServer::start().await;
    let app = hub_with(Some(&smtp), false, None).await;
    app.shop_with_stock(0).await;
    let julie = app.staff("julie@shop.test", "staff", &["PAR01"]).await;
    let asked = app
        .post(
            "/api/v1/stores/PAR01/restock-requests",
            &json!({"sku": "SKU1", "email": "zoe@example.fr", "language": "en"}),
        )
        .await;
    assert_eq!(asked.status, 201, "{asked:?}");
    let staff_asked = app
        .as_staff(
            &julie,
            Method::POST,
            "/api/v1/stores/PAR01/restock-requests",
            Some(&json!({"sku": "SKU1"})),
        )
        .await;
    assert_eq!(staff_asked.status, 201);
    let no_email = app
        .post(
            "/api/v1/stores/PAR01/restock-requests",
            &json!({"sku": "SKU1"}),
        )
        .await;
    assert_eq!(no_email.error(), "invalid_email");

    app.set_stock("PAR01", "SKU1", 3).await;
    let messages = smtp.wait_for(2).await;
    let shopper = messages
        .iter()
        .find(|m| m["to"] == "zoe@example.fr")
        .expect("the shopper is told");
    assert_eq!(shopper["subject"], "Back at Store PAR01: Article SKU1");
    assert!(
        shopper["text"]
            .as_str()
            .unwrap()
            .contains("Article SKU1 (Blue, M) is available again at Store PAR01")
    );
    assert!(messages.iter().any(|m| m["to"] == "julie@shop.test"
        && m["subject"] == "De retour chez Store PAR01 : Article SKU1"));

    // Another count changes nothing: each request is answered once.
    app.set_stock("PAR01", "SKU1", 0).await;
    app.set_stock("PAR01", "SKU1", 5).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(smtp.messages().len(), 2);
    let available = app
        .post(
            "/api/v1/stores/PAR01/restock-requests",
            &json!({"sku": "SKU1", "email": "zoe@example.fr"}),
        )
        .await;
    assert_eq!(
        (available.status, available.error()),
        (422, "already_available")
    );
}

#[actix_web::test]
async fn nobody_reachable_on_the_list_falls_back_to_the_store_and_its_managers() {
    let smtp = SmtpServer::start().await;
    let app = hub_with(Some(&smtp), false, None).await;
    app.shop_with_stock(5).await;
    let _manon = app.staff("manon@shop.test", "manager", &["PAR01"]).await;
    let karim = app.staff("karim@shop.test", "staff", &["PAR01"]).await;
    // The only listed member is in quiet hours (09:30-11:00; it is 10:00).
    app.as_staff(
        &karim,
        Method::PUT,
        "/api/v1/stores/PAR01/alert-list/me",
        Some(&json!({"channels": ["email"], "quiet_hours": {"from": "09:30", "to": "11:00"}})),
    )
    .await;
    let created = app
        .reserve(
            &reservation_body("PAR01", "SKU1", 1, identified("c1")),
            None,
        )
        .await;
    let number = created.body["number"].as_str().unwrap();
    let messages = smtp.wait_for(3).await;
    let mut to: Vec<&str> = messages.iter().map(|m| m["to"].as_str().unwrap()).collect();
    to.sort();
    assert_eq!(
        to,
        vec!["c1@example.fr", "manon@shop.test", "par01@shop.test"]
    );
    let manager = messages
        .iter()
        .find(|m| m["to"] == "manon@shop.test")
        .unwrap();
    assert!(manager["subject"].as_str().unwrap().contains(number));
    // The manager's quick links act as the manager.
    assert!(manager["text"].as_str().unwrap().contains("/a/"));
}
