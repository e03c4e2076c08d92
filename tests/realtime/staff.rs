//! Staff sign-in, roles, store membership and alert lists.

use reqwest::Method;
use serde_json::json;
use storehub_tests::{STAFF_PASSWORD, identified, reservation_body, spawn_app};

#[actix_web::test]
async fn login_me_logout_and_bad_credentials() {
    let app = spawn_app().await;
    app.seed_store("PAR01").await;
    let token = app.staff("julie@shop.test", "staff", &["PAR01"]).await;
    let me = app.as_staff(&token, Method::GET, "/api/v1/me", None).await;
    assert_eq!(me.status, 200);
    assert_eq!(me.body["email"], "julie@shop.test");
    assert_eq!(me.body["role"], "staff");
    assert_eq!(me.body["stores"], json!(["PAR01"]));

    let wrong = app
        .post_anonymous_json(
            "/api/v1/auth/login",
            &json!({"email": "julie@shop.test", "password": "nope"}),
        )
        .await;
    assert_eq!((wrong.status, wrong.error()), (401, "invalid_credentials"));
    let nobody = app
        .post_anonymous_json(
            "/api/v1/auth/login",
            &json!({"email": "ghost@shop.test", "password": STAFF_PASSWORD}),
        )
        .await;
    assert_eq!(nobody.error(), "invalid_credentials");

    let out = app
        .as_staff(&token, Method::POST, "/api/v1/auth/logout", None)
        .await;
    assert_eq!(out.status, 204);
    let after = app.as_staff(&token, Method::GET, "/api/v1/me", None).await;
    assert_eq!((after.status, after.error()), (401, "invalid_token"));

    // Sessions expire.
    let token = app.login("julie@shop.test").await;
    app.clock.advance(chrono::Duration::days(8));
    let expired = app.as_staff(&token, Method::GET, "/api/v1/me", None).await;
    assert_eq!(expired.error(), "invalid_token");

    let weak = app
        .post(
            "/api/v1/staff",
            &json!({"email": "x@shop.test", "name": "X", "password": "short", "role": "staff"}),
        )
        .await;
    assert_eq!(weak.error(), "weak_password");
    let twice = app
        .post("/api/v1/staff", &json!({"email": "julie@shop.test", "name": "J", "password": STAFF_PASSWORD, "role": "staff"}))
        .await;
    assert_eq!(twice.error(), "staff_exists");
}

#[actix_web::test]
async fn a_token_carries_every_store_of_its_account_and_only_while_active() {
    use sea_orm::ConnectionTrait;
    let app = spawn_app().await;
    for code in ["PAR01", "LYO01", "NAN01"] {
        app.seed_store(code).await;
    }
    let both = app
        .staff("julie@shop.test", "staff", &["PAR01", "LYO01"])
        .await;
    let none = app.staff("root@shop.test", "admin", &[]).await;
    let me = app.as_staff(&both, Method::GET, "/api/v1/me", None).await;
    assert_eq!(me.body["stores"], json!(["LYO01", "PAR01"]));
    let me = app.as_staff(&none, Method::GET, "/api/v1/me", None).await;
    assert_eq!((me.status, me.body["stores"].clone()), (200, json!([])));

    // An account switched off loses its open sessions at once.
    app.ctx
        .db
        .conn()
        .execute_unprepared("UPDATE staff SET active = false WHERE email = 'julie@shop.test'")
        .await
        .unwrap();
    let after = app.as_staff(&both, Method::GET, "/api/v1/me", None).await;
    assert_eq!((after.status, after.error()), (401, "invalid_token"));
    let other = app.as_staff(&none, Method::GET, "/api/v1/me", None).await;
    assert_eq!(other.status, 200, "only that account is off");
}

#[actix_web::test]
async fn staff_act_only_on_their_stores_and_not_as_admins() {
    let app = spawn_app().await;
    app.shop_with_stock(5).await;
    app.seed_store("LYO01").await;
    let paris = app.staff("julie@shop.test", "staff", &["PAR01"]).await;
    let lyon = app.staff("karim@shop.test", "staff", &["LYO01"]).await;
    let created = app
        .reserve(
            &reservation_body("PAR01", "SKU1", 1, identified("c1")),
            None,
        )
        .await;
    let number = created.body["number"].as_str().unwrap();

    let seen = app
        .as_staff(
            &paris,
            Method::GET,
            &format!("/api/v1/reservations/{number}"),
            None,
        )
        .await;
    assert_eq!(seen.status, 200);
    let hidden = app
        .as_staff(
            &lyon,
            Method::GET,
            &format!("/api/v1/reservations/{number}"),
            None,
        )
        .await;
    assert_eq!((hidden.status, hidden.error()), (403, "not_your_store"));
    let refused = app
        .as_staff(
            &lyon,
            Method::POST,
            &format!("/api/v1/reservations/{number}/set-aside"),
            None,
        )
        .await;
    assert_eq!(refused.error(), "not_your_store");
    // A staff search only covers their stores.
    let lyon_search = app
        .as_staff(&lyon, Method::GET, "/api/v1/reservations", None)
        .await;
    assert_eq!(lyon_search.body["total"], 0);
    let paris_search = app
        .as_staff(&paris, Method::GET, "/api/v1/reservations", None)
        .await;
    assert_eq!(paris_search.body["total"], 1);
    // Catalogue and settings are for admins.
    let settings = app
        .as_staff(
            &paris,
            Method::PATCH,
            "/api/v1/settings",
            Some(&json!({"hold_days": 9})),
        )
        .await;
    assert_eq!((settings.status, settings.error()), (403, "admin_only"));
    let board = app
        .as_staff(&lyon, Method::GET, "/api/v1/stores/PAR01/board", None)
        .await;
    assert_eq!(board.error(), "not_your_store");
    let admin = app.staff("boss@shop.test", "admin", &[]).await;
    let allowed = app
        .as_staff(&admin, Method::GET, "/api/v1/stores/PAR01/board", None)
        .await;
    assert_eq!(allowed.status, 200);
}

#[actix_web::test]
async fn alert_lists_subscribe_change_and_show_to_managers() {
    let app = spawn_app().await;
    app.seed_store("PAR01").await;
    app.seed_store("LYO01").await;
    let julie = app.staff("julie@shop.test", "staff", &["PAR01"]).await;
    let manon = app
        .staff("manon@shop.test", "manager", &["PAR01", "LYO01"])
        .await;
    let joined = app
        .as_staff(
            &julie,
            Method::PUT,
            "/api/v1/stores/PAR01/alert-list/me",
            Some(&json!({"channels": ["ws", "web_push", "email"], "quiet_hours": {"from": "22:00", "to": "07:00"}})),
        )
        .await;
    assert_eq!(joined.status, 200, "{joined:?}");
    let bad = app
        .as_staff(
            &julie,
            Method::PUT,
            "/api/v1/stores/PAR01/alert-list/me",
            Some(&json!({"channels": ["pigeon"]})),
        )
        .await;
    assert_eq!(bad.error(), "unknown_channel");
    let none = app
        .as_staff(
            &julie,
            Method::PUT,
            "/api/v1/stores/PAR01/alert-list/me",
            Some(&json!({"channels": []})),
        )
        .await;
    assert_eq!(none.error(), "no_channels");
    let elsewhere = app
        .as_staff(
            &julie,
            Method::PUT,
            "/api/v1/stores/LYO01/alert-list/me",
            Some(&json!({"channels": ["ws"]})),
        )
        .await;
    assert_eq!(elsewhere.error(), "not_your_store");
    // Managers subscribe to the lists of the stores they manage.
    for store in ["PAR01", "LYO01"] {
        let ok = app
            .as_staff(
                &manon,
                Method::PUT,
                &format!("/api/v1/stores/{store}/alert-list/me"),
                Some(&json!({"channels": ["email"]})),
            )
            .await;
        assert_eq!(ok.status, 200);
    }
    // Each person sees the lists they are on, for the app's settings screen.
    let mine = app
        .as_staff(&manon, Method::GET, "/api/v1/me/alert-lists", None)
        .await;
    assert_eq!(mine.status, 200, "{mine:?}");
    let stores: Vec<&str> = mine
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["store"].as_str().unwrap())
        .collect();
    assert_eq!(stores, ["PAR01", "LYO01"]);
    let julies = app
        .as_staff(&julie, Method::GET, "/api/v1/me/alert-lists", None)
        .await;
    assert_eq!(julies.body[0]["quiet_hours"]["to"], "07:00:00");
    assert_eq!(julies.body.as_array().unwrap().len(), 1);
    let members = app
        .as_staff(&manon, Method::GET, "/api/v1/stores/PAR01/alert-list", None)
        .await;
    assert_eq!(members.status, 200);
    let list = members.body.as_array().unwrap();
    assert_eq!(list.len(), 2);
    let julie_entry = list
        .iter()
        .find(|m| m["email"] == "julie@shop.test")
        .unwrap();
    assert_eq!(julie_entry["channels"], json!(["ws", "web_push", "email"]));
    assert_eq!(julie_entry["quiet_hours"]["from"], "22:00:00");
    let not_manager = app
        .as_staff(&julie, Method::GET, "/api/v1/stores/PAR01/alert-list", None)
        .await;
    assert_eq!(not_manager.error(), "manager_only");
    let left = app
        .as_staff(
            &julie,
            Method::DELETE,
            "/api/v1/stores/PAR01/alert-list/me",
            None,
        )
        .await;
    assert_eq!(left.status, 204);
    let again = app
        .as_staff(
            &julie,
            Method::DELETE,
            "/api/v1/stores/PAR01/alert-list/me",
            None,
        )
        .await;
    assert_eq!(again.error(), "not_subscribed");
}

#[actix_web::test]
async fn every_user_setting_alerts_all_store_members_on_their_channels() {
    let app = spawn_app().await;
    app.shop_with_stock(5).await;
    let julie = app.staff("julie@shop.test", "staff", &["PAR01"]).await;
    let _karim = app.staff("karim@shop.test", "staff", &["PAR01"]).await;
    // Of another store: never alerted for PAR01.
    app.seed_store("LYO01").await;
    let _lea = app.staff("lea@shop.test", "staff", &["LYO01"]).await;
    app.join_alert_list(&julie, "PAR01", &["ws", "fcm"]).await;
    let team_rows = |app: &storehub_tests::TestApp| {
        let conn = app.ctx.db.conn().clone();
        async move {
            let rows = hub::store::outbox::with_prefix(&conn, "ev:").await.unwrap();
            let mut out: Vec<(String, String)> = rows
                .iter()
                .filter(|r| r.topic == "team.alert")
                .map(|r| serde_json::from_str::<serde_json::Value>(&r.payload).unwrap())
                .map(|p| {
                    (
                        p["to"]
                            .as_str()
                            .unwrap_or(&p["staff_id"].to_string())
                            .to_string(),
                        p["channel"].as_str().unwrap().to_string(),
                    )
                })
                .collect();
            out.sort();
            out
        }
    };
    // Team list (default): only Julie, on FCM.
    app.reserve(
        &reservation_body("PAR01", "SKU1", 1, identified("c1")),
        None,
    )
    .await;
    let rows = team_rows(&app).await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].1, "fcm");

    // Every user: Karim too, with default channels, though not on the list.
    app.patch(
        "/api/v1/stores/PAR01/settings",
        &json!({"alert_recipients": "all_users"}),
    )
    .await;
    app.reserve(
        &reservation_body("PAR01", "SKU1", 1, identified("c2")),
        None,
    )
    .await;
    let rows = team_rows(&app).await;
    assert!(
        rows.contains(&("karim@shop.test".to_string(), "email".to_string())),
        "{rows:?}"
    );
    assert!(
        rows.iter().all(|(who, _)| who != "lea@shop.test"),
        "{rows:?}"
    );
    assert_eq!(rows.iter().filter(|(_, c)| c == "web_push").count(), 1);
    assert_eq!(
        rows.len(),
        1 + 1 + 2,
        "first alert + Julie on fcm + Karim on web_push and email"
    );
}
