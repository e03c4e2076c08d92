//! Stores, articles, settings.

use chrono::Datelike;
use sea_orm::ConnectionTrait;
use serde_json::json;
use storehub_tests::{identified, reservation_body, spawn_app, spawn_app_with};

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

/// Creates keep the store, its settings and articles in memory; every
/// change made through the API must still reach the very next create.
#[actix_web::test]
async fn every_catalogue_change_through_the_api_reaches_the_next_create() {
    let app = spawn_app().await;
    app.shop_with_stock(50).await;
    let mut shopper = 0;
    let mut reserve = || {
        shopper += 1;
        reservation_body("PAR01", "SKU1", 1, identified(&format!("c{shopper}")))
    };
    let first = app.reserve(&reserve(), None).await;
    assert_eq!(first.status, 201, "{first:?}");

    let off = json!({"skus": ["SKU1"], "reservable": false});
    assert_eq!(
        app.post("/api/v1/articles/reservable", &off).await.status,
        200
    );
    assert_eq!(
        app.reserve(&reserve(), None).await.error(),
        "article_not_reservable"
    );
    let on = json!({"skus": ["SKU1"], "reservable": true});
    assert_eq!(
        app.post("/api/v1/articles/reservable", &on).await.status,
        200
    );
    assert_eq!(app.reserve(&reserve(), None).await.status, 201);

    app.seed_article("SKU1", false).await;
    assert_eq!(
        app.reserve(&reserve(), None).await.error(),
        "article_not_reservable"
    );
    app.seed_article("SKU1", true).await;
    assert_eq!(app.reserve(&reserve(), None).await.status, 201);

    app.settings(json!({"module_active": false})).await;
    assert_eq!(
        app.reserve(&reserve(), None).await.error(),
        "module_inactive"
    );
    app.settings(json!({"module_active": true})).await;
    let store_off = json!({"module_active": false});
    let patched = app.patch("/api/v1/stores/PAR01/settings", &store_off).await;
    assert_eq!(patched.status, 200, "{patched:?}");
    assert_eq!(
        app.reserve(&reserve(), None).await.error(),
        "module_inactive"
    );
    let store_default = json!({"module_active": null});
    app.patch("/api/v1/stores/PAR01/settings", &store_default)
        .await;
    assert_eq!(app.reserve(&reserve(), None).await.status, 201);

    // Open on Thursdays only: the confirmation deadline moves to Thursday.
    let before = app.reserve(&reserve(), None).await;
    let thursdays = json!({
        "name": "Store PAR01", "email": "par01@shop.test", "time_zone": "Europe/Paris",
        "opening_hours": {"thu": [["09:00", "19:00"]]}, "address": "1 rue de la Paix, Paris"
    });
    assert_eq!(
        app.put("/api/v1/stores/PAR01", &thursdays).await.status,
        200
    );
    let after = app.reserve(&reserve(), None).await;
    let weekday = |answer: &storehub_tests::Answer| {
        let at = answer.body["confirm_by"].as_str().unwrap().to_string();
        chrono::DateTime::parse_from_rfc3339(&at).unwrap().weekday()
    };
    assert_eq!(weekday(&before), chrono::Weekday::Wed, "{before:?}");
    assert_eq!(weekday(&after), chrono::Weekday::Thu, "{after:?}");
}

/// A change made around the hub (SQL by hand) shows once what a create
/// kept has lived its `database.read_cache_secs`.
#[actix_web::test]
async fn a_change_made_in_sql_shows_after_the_read_cache_lifetime() {
    let app = spawn_app_with(|settings| settings.database.read_cache_secs = 3).await;
    app.shop_with_stock(10).await;
    let body = |id: &str| reservation_body("PAR01", "SKU1", 1, identified(id));
    assert_eq!(app.reserve(&body("a"), None).await.status, 201);
    app.ctx
        .db
        .conn()
        .execute_unprepared("UPDATE articles SET reservable = false WHERE sku = 'SKU1'")
        .await
        .unwrap();
    // Still the kept article: this is the cache at work.
    assert_eq!(app.reserve(&body("b"), None).await.status, 201);
    tokio::time::sleep(std::time::Duration::from_millis(3_200)).await;
    assert_eq!(
        app.reserve(&body("c"), None).await.error(),
        "article_not_reservable"
    );
}

/// Who a reservation's team alert went to by email, fallbacks left out.
async fn alerted_by_email(app: &storehub_tests::TestApp, number: &str) -> Vec<String> {
    use schema::entities::outbox;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let conn = app.ctx.db.conn();
    let reservation = hub::store::reservations::find_by_number(conn, number)
        .await
        .unwrap()
        .unwrap();
    let rows = outbox::Entity::find()
        .filter(outbox::Column::ReservationId.eq(reservation.id))
        .filter(outbox::Column::Topic.eq(hub::notify::TEAM_ALERT))
        .all(conn)
        .await
        .unwrap();
    let mut to: Vec<String> = rows
        .iter()
        .map(|row| serde_json::from_str::<serde_json::Value>(&row.payload).unwrap())
        .filter(|payload| payload["channel"] == "email" && payload.get("fallback").is_none())
        .map(|payload| payload["to"].as_str().unwrap().to_string())
        .collect();
    to.sort();
    to
}

/// Creates keep each store's team too; joining or leaving an alert list,
/// and a new staff account, must reach the very next create's alert.
#[actix_web::test]
async fn every_team_change_through_the_api_reaches_the_next_alert() {
    // Long enough that only the changes themselves can clear what is kept.
    let app = spawn_app_with(|settings| settings.database.read_cache_secs = 600).await;
    app.shop_with_stock(50).await;
    let julie = app.staff("julie@shop.test", "staff", &["PAR01"]).await;
    let mut shopper = 0;
    let mut reserve = async || {
        shopper += 1;
        let body = reservation_body("PAR01", "SKU1", 1, identified(&format!("c{shopper}")));
        let number = app.reserve_number(&body).await;
        alerted_by_email(&app, &number).await
    };
    assert!(reserve().await.is_empty(), "nobody is on the list yet");

    app.join_alert_list(&julie, "PAR01", &["email"]).await;
    assert_eq!(reserve().await, ["julie@shop.test"]);

    let left = app
        .as_staff(
            &julie,
            reqwest::Method::DELETE,
            "/api/v1/stores/PAR01/alert-list/me",
            None,
        )
        .await;
    assert_eq!(left.status, 204, "{left:?}");
    assert!(reserve().await.is_empty(), "Julie left the list");

    app.settings(json!({"alert_recipients": "all_users"})).await;
    assert_eq!(reserve().await, ["julie@shop.test"]);
    app.staff("karim@shop.test", "staff", &["PAR01"]).await;
    assert_eq!(reserve().await, ["julie@shop.test", "karim@shop.test"]);
}
