//! Health, readiness, metrics, OpenAPI, authentication and error shapes.

use serde_json::json;
use storehub_tests::spawn_app;

#[actix_web::test]
async fn health_ready_metrics_and_docs_answer() {
    let app = spawn_app().await;
    assert_eq!(app.get_anonymous("/health").await.status, 200);
    let ready = app.get_anonymous("/ready").await;
    assert_eq!(ready.status, 200);
    assert_eq!(ready.body["status"], "ready");

    // A create shows up in the metrics.
    app.shop_with_stock(3).await;
    let created = app
        .reserve(
            &storehub_tests::reservation_body("PAR01", "SKU1", 1, storehub_tests::identified("c1")),
            None,
        )
        .await;
    assert_eq!(created.status, 201);
    let metrics = app.get_anonymous("/metrics").await;
    assert_eq!(metrics.status, 200);
    assert!(
        metrics.text.contains("storehub_reservations_created_total"),
        "{}",
        metrics.text
    );

    let doc = app.get_anonymous("/api/openapi.json").await;
    assert_eq!(doc.status, 200);
    let paths = doc.body["paths"].as_object().unwrap();
    for path in [
        "/api/v1/reservations",
        "/api/v1/reservations/{number}",
        "/api/v1/stores/{code}/stock",
        "/api/v1/availability",
        "/api/v1/settings",
        "/api/v1/tracking/{token}",
        "/r/validate/{token}",
    ] {
        assert!(paths.contains_key(path), "{path} missing from OpenAPI");
    }
    let viewer = app.get_anonymous("/api/docs/").await;
    assert_eq!(viewer.status, 200);
    assert!(viewer.text.to_lowercase().contains("swagger"));
}

#[actix_web::test]
async fn api_key_is_required_and_checked() {
    let app = spawn_app().await;
    let missing = app.get_anonymous("/api/v1/stores").await;
    assert_eq!(missing.status, 401);
    assert_eq!(missing.error(), "missing_api_key");
    assert!(!missing.body["message"].as_str().unwrap().is_empty());

    let wrong = app
        .client
        .get(app.url("/api/v1/stores"))
        .bearer_auth("shk_not_a_real_key")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status().as_u16(), 401);
    let body: serde_json::Value = wrong.json().await.unwrap();
    assert_eq!(body["error"], "invalid_api_key");

    // A new key works until revoked; the answer is the only time it is shown.
    let made = app.post("/api/v1/api-keys", &json!({"name": "till"})).await;
    assert_eq!(made.status, 201);
    let key = made.body["key"].as_str().unwrap().to_string();
    let id = made.body["id"].as_i64().unwrap();
    let listed = app.get("/api/v1/api-keys").await;
    assert!(!listed.text.contains(&key), "listing must not show keys");
    let with_key = |k: String| {
        let client = app.client.clone();
        let url = app.url("/api/v1/stores");
        async move {
            client
                .get(url)
                .bearer_auth(k)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(with_key(key.clone()).await, 200);
    let revoked = app
        .client
        .delete(app.url(&format!("/api/v1/api-keys/{id}")))
        .bearer_auth(&app.api_key)
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status().as_u16(), 204);
    assert_eq!(with_key(key).await, 401);
}

#[actix_web::test]
async fn malformed_and_oversized_bodies_get_clear_errors() {
    let app = spawn_app().await;
    let bad = app
        .client
        .post(app.url("/api/v1/reservations"))
        .bearer_auth(&app.api_key)
        .header("content-type", "application/json")
        .body("{\"store\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status().as_u16(), 400);
    let body: serde_json::Value = bad.json().await.unwrap();
    assert_eq!(body["error"], "malformed_json");

    let huge = format!("{{\"store\": \"{}\"}}", "x".repeat(200_000));
    let big = app
        .client
        .post(app.url("/api/v1/reservations"))
        .bearer_auth(&app.api_key)
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(big.status().as_u16(), 413);
    let body: serde_json::Value = big.json().await.unwrap();
    assert_eq!(body["error"], "payload_too_large");

    let unknown_field = app
        .post(
            "/api/v1/reservations",
            &json!({"store": "X", "colour": "red"}),
        )
        .await;
    assert_eq!(unknown_field.status, 400);
    assert_eq!(unknown_field.error(), "malformed_json");

    let nowhere = app.get("/api/v1/nowhere").await;
    assert_eq!(nowhere.status, 404);
    assert_eq!(nowhere.error(), "not_found");
}

/// PostgreSQL can drop the hub's connections (a restart, an idle timeout
/// in a proxy). The pool skips its ping for a connection used within the
/// last second, so one idle for longer must still be tested, and replaced,
/// before a request uses it. (On SQLite the connections are the hub's own
/// files: nothing drops them, and the test has nothing to check.)
#[actix_web::test]
async fn connections_postgres_dropped_are_replaced_before_use() {
    use sea_orm::{ConnectionTrait, Database, DbBackend, Statement};
    use storehub_tests::{identified, reservation_body};
    if !storehub_tests::on_postgres() {
        return;
    }
    // Nothing in the background may touch (and so weed out) the dropped
    // connections before the requests do.
    let app = storehub_tests::spawn_app_with(|settings| settings.delivery.poll_ms = 600_000).await;
    app.shop_with_stock(10).await;
    let first = reservation_body("PAR01", "SKU1", 1, identified("before"));
    assert_eq!(app.reserve(&first, None).await.status, 201);
    tokio::time::sleep(std::time::Duration::from_millis(1_500)).await;

    let killer = Database::connect(&app.database_url).await.unwrap();
    let killed = killer
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT COUNT(pg_terminate_backend(pid)) AS n FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid()",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get::<i64>("", "n")
        .unwrap();
    assert!(killed >= 1, "the hub had no connection to drop");

    for shopper in 0..4 {
        let body = reservation_body("PAR01", "SKU1", 1, identified(&format!("after-{shopper}")));
        let created = app.reserve(&body, None).await;
        assert_eq!(created.status, 201, "{}", created.text);
    }
    assert_eq!(app.stock_of("PAR01", "SKU1").await, (10, 5, 5));
}
