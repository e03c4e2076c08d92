//! Editing message templates: validation on save, preview, use.

use serde_json::json;
use storehub_tests::services::SmtpServer;
use storehub_tests::{identified, reservation_body};

use super::hub_with;

#[actix_web::test]
async fn templates_are_validated_previewed_and_used() {
    let smtp = SmtpServer::start().await;
    let app = hub_with(Some(&smtp), false, None).await;
    app.shop_with_stock(5).await;

    let current = app.get("/api/v1/templates/request_received/fr").await;
    assert_eq!(current.status, 200);
    assert!(current.body["subject"].as_str().unwrap().contains("reçue"));

    let unknown_var = app
        .put(
            "/api/v1/templates/request_received/fr",
            &json!({"subject": "Hi", "text": "Hello\n{{ coupon.code }}", "html": "<p>x</p>"}),
        )
        .await;
    assert_eq!(
        (unknown_var.status, unknown_var.error()),
        (400, "invalid_template")
    );
    let message = unknown_var.body["message"].as_str().unwrap();
    assert!(
        message.contains("text part, line 2") && message.contains("coupon"),
        "{message}"
    );
    let syntax = app
        .put(
            "/api/v1/templates/request_received/fr",
            &json!({"subject": "Hi", "text": "ok", "html": "<p>{% if x %}</p>"}),
        )
        .await;
    assert_eq!(syntax.error(), "invalid_template");
    assert!(
        syntax.body["message"]
            .as_str()
            .unwrap()
            .contains("html part, line 1")
    );
    assert_eq!(
        app.get("/api/v1/templates/nope/fr").await.error(),
        "unknown_template"
    );
    assert_eq!(
        app.get("/api/v1/templates/ready/de").await.error(),
        "invalid_language"
    );

    let draft = json!({
        "subject": "Bien reçu, {{ shopper.first_name }} ({{ reservation.number }})",
        "text": "Merci {{ shopper.first_name }} !",
        "html": "<p>Merci <b>{{ shopper.first_name }}</b> !</p>"
    });
    let preview = app
        .post("/api/v1/templates/request_received/fr/preview", &draft)
        .await;
    assert_eq!(preview.status, 200, "{preview:?}");
    assert_eq!(preview.body["subject"], "Bien reçu, Marie (K7Q4-MZ2P)");
    assert_eq!(preview.body["html"], "<p>Merci <b>Marie</b> !</p>");
    let saved = app
        .put("/api/v1/templates/request_received/fr", &draft)
        .await;
    assert_eq!(saved.status, 200);

    let created = app
        .reserve(
            &reservation_body("PAR01", "SKU1", 1, identified("c1")),
            None,
        )
        .await;
    let number = created.body["number"].as_str().unwrap();
    let messages = smtp.wait_for(2).await;
    let mine = messages
        .iter()
        .find(|m| m["to"] == "c1@example.fr")
        .unwrap();
    assert_eq!(mine["subject"], format!("Bien reçu, Marie ({number})"));
    assert_eq!(mine["text"].as_str().unwrap().trim(), "Merci Marie !");
}
