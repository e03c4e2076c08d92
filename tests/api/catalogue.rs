//! Stores, articles, settings.

use serde_json::json;
use storehub_tests::spawn_app;

#[actix_web::test]
async fn stores_are_created_validated_and_replaced() {
    let app = spawn_app().await;
    let body = json!({
        "code": "LYO01", "name": "Lyon", "email": "lyon@shop.test", "time_zone": "Europe/Paris",
        "opening_hours": {"mon": [["09:00", "12:30"], ["14:00", "19:00"]], "sun": []},
        "closed_dates": ["2026-12-25"], "address": "Place Bellecour"
    });
    let created = app.post("/api/v1/stores", &body).await;
    assert_eq!(created.status, 201, "{created:?}");
    assert_eq!(created.body["opening_hours"]["mon"][1][1], "19:00");
    assert_eq!(created.body["opening_hours"]["tue"], json!([]));
    assert_eq!(
        app.post("/api/v1/stores", &body).await.error(),
        "store_exists"
    );

    let fetched = app.get("/api/v1/stores/LYO01").await;
    assert_eq!(fetched.body["closed_dates"], json!(["2026-12-25"]));
    assert_eq!(
        app.get("/api/v1/stores/NOPE").await.error(),
        "unknown_store"
    );

    let mut bad = body.clone();
    bad["opening_hours"] = json!({"mon": [["19:00", "09:00"]]});
    let refused = app.put("/api/v1/stores/LYO01", &bad).await;
    assert_eq!(refused.status, 400);
    assert_eq!(refused.error(), "invalid_opening_hours");
    bad["opening_hours"] = json!({"mon": [["09:00", "19:00"]]});
    bad["time_zone"] = json!("Mars/Olympus");
    assert_eq!(
        app.put("/api/v1/stores/LYO01", &bad).await.error(),
        "invalid_opening_hours"
    );
    bad["time_zone"] = json!("Europe/Paris");
    bad["email"] = json!("not-an-email");
    assert_eq!(
        app.put("/api/v1/stores/LYO01", &bad).await.error(),
        "invalid_email"
    );

    let mut renamed = body.clone();
    renamed["name"] = json!("Lyon Bellecour");
    let replaced = app.put("/api/v1/stores/LYO01", &renamed).await;
    assert_eq!(replaced.status, 200);
    assert_eq!(
        app.get("/api/v1/stores").await.body[0]["name"],
        "Lyon Bellecour"
    );
}

#[actix_web::test]
async fn articles_and_bulk_reservable() {
    let app = spawn_app().await;
    app.seed_store("PAR01").await;
    for sku in ["TEE-BLU-M", "TEE-BLU-L", "JEAN-40"] {
        app.seed_article(sku, false).await;
    }
    let bad_ean = app
        .put(
            "/api/v1/articles/X1",
            &json!({"designation": "X", "ean": "12ab"}),
        )
        .await;
    assert_eq!(bad_ean.error(), "invalid_ean");
    assert_eq!(
        app.get("/api/v1/articles/NOPE").await.error(),
        "unknown_sku"
    );

    let by_filter = app
        .post(
            "/api/v1/articles/reservable",
            &json!({"filter": {"sku_prefix": "TEE-"}, "reservable": true}),
        )
        .await;
    assert_eq!(by_filter.body["updated"], 2, "{by_filter:?}");
    assert_eq!(
        app.get("/api/v1/articles/TEE-BLU-L").await.body["reservable"],
        true
    );
    assert_eq!(
        app.get("/api/v1/articles/JEAN-40").await.body["reservable"],
        false
    );

    let by_list = app
        .post(
            "/api/v1/articles/reservable",
            &json!({"skus": ["JEAN-40", "GHOST"], "reservable": true}),
        )
        .await;
    assert_eq!(by_list.body["updated"], 1);
    assert_eq!(by_list.body["unknown_skus"], json!(["GHOST"]));
    let both = app
        .post(
            "/api/v1/articles/reservable",
            &json!({"skus": ["A"], "filter": {"sku_prefix": "T"}, "reservable": true}),
        )
        .await;
    assert_eq!(both.error(), "invalid_selection");

    // Availability: reservable only once the module is on.
    app.set_stock("PAR01", "JEAN-40", 4).await;
    let before = app.get("/api/v1/availability?sku=JEAN-40").await;
    assert_eq!(
        before.body,
        json!([{"store": "PAR01", "available": 4, "reservable": false}])
    );
    app.settings(json!({"module_active": true})).await;
    let after = app.get("/api/v1/availability?sku=JEAN-40").await;
    assert_eq!(after.body[0]["reservable"], true);
    assert_eq!(
        app.get("/api/v1/availability").await.error(),
        "invalid_query"
    );
}

#[actix_web::test]
async fn settings_layers_and_validation() {
    let app = spawn_app().await;
    app.seed_store("PAR01").await;
    let global = app.get("/api/v1/settings").await;
    assert_eq!(global.body["module_active"], false);
    assert_eq!(
        global.body["max_open_reservations"],
        json!({"anonymous": 15, "identified": 10})
    );

    app.settings(json!({"hold_days": 5})).await;
    let store = app
        .patch(
            "/api/v1/stores/PAR01/settings",
            &json!({"hold_days": 2, "reminder_every_minutes": 10}),
        )
        .await;
    assert_eq!(store.status, 200, "{store:?}");
    assert_eq!(store.body["effective"]["hold_days"], 2);
    assert_eq!(
        store.body["overrides"],
        json!({"hold_days": 2, "reminder_every_minutes": 10})
    );

    // null removes the store's override: the global value is back.
    let cleared = app
        .patch("/api/v1/stores/PAR01/settings", &json!({"hold_days": null}))
        .await;
    assert_eq!(cleared.body["effective"]["hold_days"], 5);
    assert_eq!(cleared.body["effective"]["reminder_every_minutes"], 10);

    let unknown = app
        .patch("/api/v1/settings", &json!({"colour": "red"}))
        .await;
    assert_eq!(unknown.status, 400);
    assert_eq!(unknown.error(), "unknown_setting");
    let invalid = app
        .patch("/api/v1/settings", &json!({"reminder_every_minutes": 0}))
        .await;
    assert_eq!(invalid.error(), "invalid_setting");
    assert!(
        invalid.body["message"]
            .as_str()
            .unwrap()
            .contains("reminder_every_minutes")
    );
    let wrong_type = app
        .patch(
            "/api/v1/settings",
            &json!({"alert_recipients": "everybody"}),
        )
        .await;
    assert_eq!(wrong_type.error(), "invalid_setting");
    // A refused PATCH changes nothing, not even its valid keys.
    let mixed = app
        .patch(
            "/api/v1/settings",
            &json!({"hold_days": 9, "reminder_every_minutes": -1}),
        )
        .await;
    assert_eq!(mixed.status, 400);
    assert_eq!(app.get("/api/v1/settings").await.body["hold_days"], 5);
}
