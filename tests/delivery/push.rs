//! Web Push and FCM to real (local) push services.

use reqwest::Method;
use serde_json::json;
use storehub_tests::services::{FakeFcm, PushService};
use storehub_tests::{identified, reservation_body};

use super::{hub_with, settled};

async fn subscribe_device(
    app: &storehub_tests::TestApp,
    token: &str,
    subscription: &serde_json::Value,
) {
    let body = json!({"endpoint": subscription["endpoint"], "keys": {"p256dh": subscription["p256dh"], "auth": subscription["auth"]}});
    let answer = app
        .as_staff(
            token,
            Method::POST,
            "/api/v1/me/push-subscriptions",
            Some(&body),
        )
        .await;
    assert_eq!(answer.status, 201, "{answer:?}");
}

#[actix_web::test]
async fn web_push_is_encrypted_signed_and_decrypted_independently() {
    let service = PushService::start().await;
    let app = hub_with(None, true, None).await;
    app.shop_with_stock(5).await;
    let key = app.get_anonymous("/api/v1/push/public-key").await;
    assert_eq!(key.status, 200);
    let julie = app.staff("julie@shop.test", "staff", &["PAR01"]).await;
    app.join_alert_list(&julie, "PAR01", &["ws", "web_push"])
        .await;
    let phone = service.subscribe("status=201").await;
    subscribe_device(&app, &julie, &phone).await;

    let created = app
        .reserve(
            &reservation_body("PAR01", "SKU1", 1, identified("c1")),
            None,
        )
        .await;
    let number = created.body["number"].as_str().unwrap().to_string();
    let log = service.wait_for(1).await;
    assert_eq!(log.len(), 1, "{log:?}");
    let delivery = &log[0];
    assert!(delivery.get("error").is_none(), "{delivery}");
    assert_eq!(
        delivery["vapid"]["k"], key.body["public_key"],
        "signed with the key the app subscribed with"
    );
    assert_eq!(delivery["vapid"]["sub"], "mailto:ops@shop.test");
    assert_eq!(delivery["headers"]["Urgency"], "high");
    assert_eq!(delivery["headers"]["Content-Encoding"], "aes128gcm");
    assert_eq!(delivery["headers"]["Topic"], format!("res-{number}"));
    let payload = &delivery["payload"];
    assert_eq!(payload["title"], format!("Nouvelle réservation {number}"));
    assert!(
        payload["body"]
            .as_str()
            .unwrap()
            .starts_with("Marie, 1 article(s)")
    );
    assert_eq!(payload["data"]["number"], number);
    assert!(
        payload["data"]["id"].as_str().unwrap().starts_with("ev:"),
        "an id to drop repeats"
    );
    assert!(delivery["size"].as_u64().unwrap() < 4096);
    let rows = settled(&app, &number).await;
    let device_rows: Vec<_> = rows
        .iter()
        .filter(|r| r["topic"] == "push.device")
        .collect();
    assert_eq!(device_rows.len(), 1);
    assert_eq!(device_rows[0]["status"], "sent");
}

#[actix_web::test]
async fn gone_subscriptions_are_removed_and_busy_services_are_retried_after_retry_after() {
    let service = PushService::start().await;
    let app = hub_with(None, true, None).await;
    app.shop_with_stock(5).await;
    let julie = app.staff("julie@shop.test", "staff", &["PAR01"]).await;
    app.join_alert_list(&julie, "PAR01", &["web_push"]).await;
    let old_phone = service.subscribe("status=410").await;
    let busy_phone = service.subscribe("status=429,201&retry_after=120").await;
    subscribe_device(&app, &julie, &old_phone).await;
    subscribe_device(&app, &julie, &busy_phone).await;

    let created = app
        .reserve(
            &reservation_body("PAR01", "SKU1", 1, identified("c1")),
            None,
        )
        .await;
    let number = created.body["number"].as_str().unwrap().to_string();
    let log = service.wait_for(2).await;
    assert_eq!(log.len(), 2);
    // Let the worker record both answers.
    let mut rows = Vec::new();
    for _ in 0..100 {
        rows = app
            .get(&format!("/api/v1/reservations/{number}/notifications"))
            .await
            .body
            .as_array()
            .unwrap()
            .clone();
        let devices: Vec<_> = rows
            .iter()
            .filter(|r| r["topic"] == "push.device")
            .collect();
        if devices.len() == 2
            && devices.iter().all(|r| {
                r["attempts"] == 1 && (r["status"] != "queued" || r["last_error"].is_string())
            })
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(30)).await;
    }
    let devices: Vec<_> = rows
        .iter()
        .filter(|r| r["topic"] == "push.device")
        .collect();
    let gone = devices
        .iter()
        .find(|r| r["status"] == "gone")
        .expect("410 is gone");
    assert!(
        gone["last_error"]
            .as_str()
            .unwrap()
            .starts_with("subscription gone")
    );
    let busy = devices
        .iter()
        .find(|r| r["status"] == "queued")
        .expect("429 is retried");
    let next: chrono::DateTime<chrono::Utc> =
        busy["next_attempt_at"].as_str().unwrap().parse().unwrap();
    assert!(
        next >= app.clock_now() + chrono::Duration::seconds(119),
        "Retry-After respected: {next}"
    );

    // Not before Retry-After; then it goes through.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(service.log().await.len(), 2);
    app.clock.advance(chrono::Duration::seconds(121));
    let log = service.wait_for(3).await;
    assert_eq!(log.len(), 3);
    assert_eq!(log[2]["answered"], 201);
    let rows = settled(&app, &number).await;
    assert!(
        rows.iter()
            .filter(|r| r["topic"] == "push.device")
            .any(|r| r["status"] == "sent")
    );

    // The gone device was forgotten: the next alert goes to the other only.
    app.reserve(
        &reservation_body("PAR01", "SKU1", 1, identified("c2")),
        None,
    )
    .await;
    let log = service.wait_for(4).await;
    assert_eq!(log.len(), 4);
    let gone_subscription =
        log.iter().find(|d| d["answered"] == 410).unwrap()["subscription"].clone();
    assert_ne!(log[3]["subscription"], gone_subscription);
    assert_eq!(
        log.iter()
            .filter(|d| d["subscription"] == gone_subscription)
            .count(),
        1
    );
}

#[actix_web::test]
async fn fcm_v1_with_oauth_token_and_unregistered_tokens_removed() {
    let fcm = FakeFcm::start().await;
    let app = hub_with(None, false, Some(&fcm)).await;
    app.shop_with_stock(5).await;
    let julie = app.staff("julie@shop.test", "staff", &["PAR01"]).await;
    app.join_alert_list(&julie, "PAR01", &["fcm"]).await;
    for token in ["phone-token-1", "gone-token-2"] {
        let answer = app
            .as_staff(
                &julie,
                Method::POST,
                "/api/v1/me/fcm-tokens",
                Some(&json!({"token": token})),
            )
            .await;
        assert_eq!(answer.status, 201);
    }
    let created = app
        .reserve(
            &reservation_body("PAR01", "SKU1", 1, identified("c1")),
            None,
        )
        .await;
    let number = created.body["number"].as_str().unwrap().to_string();
    let sent = fcm.wait_for(2).await;
    assert_eq!(sent.len(), 2);
    let ok = sent
        .iter()
        .find(|m| m["message"]["token"] == "phone-token-1")
        .unwrap();
    assert_eq!(ok["message"]["android"]["priority"], "HIGH");
    assert_eq!(
        ok["message"]["android"]["collapse_key"],
        format!("res-{number}")
    );
    assert_eq!(ok["message"]["data"]["number"], number);
    assert_eq!(
        *fcm.tokens_issued.lock().unwrap(),
        1,
        "the OAuth token is cached"
    );
    let rows = settled(&app, &number).await;
    let devices: Vec<_> = rows
        .iter()
        .filter(|r| r["topic"] == "push.device")
        .collect();
    assert!(devices.iter().any(|r| r["status"] == "sent"));
    assert!(devices.iter().any(|r| r["status"] == "gone"));

    // Another alert: only the live token, and still one OAuth token.
    app.reserve(
        &reservation_body("PAR01", "SKU1", 1, identified("c2")),
        None,
    )
    .await;
    let sent = fcm.wait_for(3).await;
    assert_eq!(sent.len(), 3);
    assert_eq!(sent[2]["message"]["token"], "phone-token-1");
    assert_eq!(*fcm.tokens_issued.lock().unwrap(), 1);
}

#[actix_web::test]
async fn push_buttons_act_once_and_the_alert_is_replaced_when_handled() {
    let service = PushService::start().await;
    let app = hub_with(None, true, None).await;
    app.shop_with_stock(5).await;
    let julie = app.staff("julie@shop.test", "staff", &["PAR01"]).await;
    app.join_alert_list(&julie, "PAR01", &["web_push"]).await;
    let phone = service.subscribe("status=201").await;
    subscribe_device(&app, &julie, &phone).await;
    let created = app
        .reserve(
            &reservation_body("PAR01", "SKU1", 1, identified("c1")),
            None,
        )
        .await;
    let number = created.body["number"].as_str().unwrap().to_string();
    let log = service.wait_for(1).await;
    let actions = log[0]["payload"]["actions"].as_array().unwrap().clone();
    assert_eq!(actions.len(), 2, "{log:?}");
    let set_aside = actions.iter().find(|a| a["action"] == "set_aside").unwrap()["url"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(set_aside.starts_with(&format!("{}/a/", app.address)));

    // A mail scanner or preview fetching the link changes nothing.
    let page = app.client.get(&set_aside).send().await.unwrap();
    assert_eq!(page.status().as_u16(), 200);
    assert!(
        page.text()
            .await
            .unwrap()
            .contains("<form method=\"post\">")
    );
    assert_eq!(
        app.get(&format!("/api/v1/reservations/{number}"))
            .await
            .body["state"],
        "pending"
    );

    // The notification's button (the service worker POSTs, asking for JSON).
    let acted = app
        .client
        .post(&set_aside)
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(acted.status().as_u16(), 200);
    let view: serde_json::Value = acted.json().await.unwrap();
    assert_eq!(view["state"], "set_aside");
    assert_eq!(
        view["handled_by"], "julie",
        "acted as the recipient of the link"
    );
    let again = app
        .client
        .post(&set_aside)
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(again.status().as_u16(), 409);
    let error: serde_json::Value = again.json().await.unwrap();
    assert_eq!(error["error"], "link_already_used");
    let forged = app
        .client
        .post(format!("{set_aside}x"))
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status().as_u16(), 400);

    // The phone's "to handle" notification is replaced (same topic).
    let log = service.wait_for(2).await;
    assert_eq!(log.len(), 2);
    assert_eq!(log[1]["headers"]["Topic"], log[0]["headers"]["Topic"]);
    assert_eq!(log[1]["payload"]["title"], format!("Traitée : {number}"));
    assert_eq!(log[1]["payload"]["body"], "Mise de côté par julie");
    assert!(log[1]["payload"]["actions"].as_array().unwrap().is_empty());

    // Links expire.
    let other = app
        .reserve(
            &reservation_body("PAR01", "SKU1", 1, identified("c2")),
            None,
        )
        .await;
    let log = service.wait_for(3).await;
    let reject = log[2]["payload"]["actions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["action"] == "reject")
        .unwrap()["url"]
        .as_str()
        .unwrap()
        .to_string();
    app.clock.advance(chrono::Duration::days(4));
    let late = app
        .client
        .post(&reject)
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap();
    let error: serde_json::Value = late.json().await.unwrap();
    assert_eq!(error["error"], "link_expired");
    let other_number = other.body["number"].as_str().unwrap();
    assert_ne!(
        app.get(&format!("/api/v1/reservations/{other_number}"))
            .await
            .body["state"],
        "rejected"
    );
}

#[actix_web::test]
async fn a_crash_mid_delivery_loses_nothing_and_repeats_only_in_flight_pushes() {
    let service = PushService::start().await;
    let app = hub_with(None, true, None).await;
    app.shop_with_stock(1000).await;
    app.settings(
        json!({"max_open_reservations": {"anonymous": 15, "identified": 1000},
        "max_items_held": {"anonymous": 30, "identified": 1000}}),
    )
    .await;
    let julie = app.staff("julie@shop.test", "staff", &["PAR01"]).await;
    app.join_alert_list(&julie, "PAR01", &["web_push"]).await;
    // A slow push service: 60 ms per message.
    let phone = service.subscribe("status=201&delay=0.06").await;
    subscribe_device(&app, &julie, &phone).await;
    let total = 1000;
    for i in 0..total {
        let answer = app
            .reserve(
                &reservation_body("PAR01", "SKU1", 1, identified(&format!("k{i}"))),
                None,
            )
            .await;
        assert_eq!(answer.status, 201);
    }
    // Kill the hub while pushes are still going out.
    let before = service.log().await.len();
    assert!(
        before < total,
        "the queue must still hold work at the crash ({before})"
    );
    let app = app.restart().await;
    // Claims of the dead hub expire after their lease.
    app.clock.advance(chrono::Duration::seconds(61));
    let mut log = Vec::new();
    for _ in 0..1200 {
        // Counting is cheap; the whole log is read only once it can be complete.
        if service.count().await >= total {
            log = service.log().await;
            let ids: std::collections::HashSet<&str> = log
                .iter()
                .map(|d| d["payload"]["data"]["id"].as_str().unwrap_or_default())
                .collect();
            if ids.len() >= total {
                break;
            }
        }
        // Time passes: retries scheduled by backoff come due.
        app.clock.advance(chrono::Duration::seconds(5));
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let mut seen = std::collections::HashMap::new();
    for delivery in &log {
        assert!(delivery.get("error").is_none(), "{delivery}");
        *seen
            .entry(
                delivery["payload"]["data"]["id"]
                    .as_str()
                    .unwrap()
                    .to_string(),
            )
            .or_insert(0) += 1;
    }
    if seen.len() != total {
        let rows = hub::store::outbox::with_prefix(app.ctx.db.conn(), "ev:")
            .await
            .unwrap();
        for row in rows.iter().filter(|r| r.status != "sent") {
            eprintln!(
                "{} {} {} attempts={} next={} lease={:?} err={:?}",
                row.id,
                row.topic,
                row.status,
                row.attempts,
                row.next_attempt_at,
                row.lease_until,
                row.last_error
            );
        }
        eprintln!("now {}", app.clock_now());
    }
    assert_eq!(seen.len(), total, "every alert reached the phone");
    let repeats = seen.values().filter(|n| **n > 1).count();
    // What may repeat: pushes in flight at the crash (one per delivery
    // slot), and pushes done whose outcomes were still being gathered and
    // written (outcomes are written in batches, a few milliseconds each).
    // A push takes 60 ms here, so a slot finishes at most one more while
    // a batch is written: twice the slots in all.
    let concurrency = 16;
    assert!(
        repeats <= 2 * concurrency,
        "only pushes in flight or awaiting their outcome's write at the crash may repeat ({repeats}), and they carry the same id"
    );
    // Every queued message ends sent (those re-sent after the crash finish too).
    let rows = app.ctx.db.conn().clone();
    let mut statuses = Vec::new();
    for _ in 0..600 {
        statuses = hub::store::outbox::with_prefix(&rows, "ev:").await.unwrap();
        if statuses.iter().all(|r| r.status != "queued") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    // (Email is off in this hub: only pushes are expected out.)
    let stuck: Vec<_> = statuses
        .iter()
        .filter(|r| r.topic != "shopper.email" && r.status != "sent")
        .collect();
    assert!(
        stuck.is_empty(),
        "{} not sent: {:?}",
        stuck.len(),
        stuck.first()
    );
}

/// Two slots, ten pushes claimed at once and a slow phone: eight wait in
/// the worker for a slot. Time jumps past half their lease while they
/// wait, then past the lease's end. A message handed out that late could
/// be claimed again, by this worker or another, while it is in flight.
#[actix_web::test]
async fn messages_that_wait_past_half_their_lease_are_given_back_not_sent_twice() {
    let service = PushService::start().await;
    let vapid = mobile_bridge::webpush::generate_vapid_keys()
        .unwrap()
        .private_key;
    let app = storehub_tests::spawn_app_with(move |settings| {
        settings.push.vapid_private_key = Some(vapid);
        settings.push.vapid_subject = "mailto:ops@shop.test".into();
        settings.delivery.poll_ms = 20;
        settings.delivery.concurrency = 2;
        settings.delivery.claim_batch = 32;
        settings.delivery.lease_secs = 60;
    })
    .await;
    // A second a push: longer than the test takes to see one arrive.
    let phone = service.subscribe("status=201&delay=1").await;
    let total = 10;
    // Queued in one transaction, so that one claim takes them all.
    let pushes = (0..total)
        .map(|i| hub::store::outbox::NewMessage {
            topic: "push.device",
            dedup_key: format!("wait-test:{i}"),
            payload: json!({
                "device_id": 1,
                "message": {"title": "Alert", "body": format!("#{i}"), "topic": null,
                    "urgent": true, "ttl_seconds": 60, "url": null,
                    "data": {"id": format!("wait-test:{i}")}},
                "device": {"transport": "web_push", "address": phone["endpoint"],
                    "p256dh": phone["p256dh"], "auth": phone["auth"]},
            }),
            reservation_id: None,
        })
        .collect();
    let tx = app.ctx.db.write().await.unwrap();
    hub::store::outbox::enqueue_all(&*tx, pushes, app.clock_now())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let wait_for_count = |count: usize| {
        let service = &service;
        async move {
            for _ in 0..500 {
                if service.count().await >= count {
                    return;
                }
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
            panic!("fewer than {count} pushes arrived");
        }
    };
    wait_for_count(2).await;
    // Past half the lease of all ten...
    app.clock.advance(chrono::Duration::seconds(35));
    wait_for_count(4).await;
    // The two in flight at the first jump are recorded: only a message
    // handed out after it can still be on its way.
    let conn = app.ctx.db.conn().clone();
    let sent = || async {
        hub::store::outbox::with_prefix(&conn, "wait-test:")
            .await
            .unwrap()
            .iter()
            .filter(|row| row.status == "sent")
            .count()
    };
    for _ in 0..500 {
        if sent().await >= 4 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    // ...and past the end of it.
    app.clock.advance(chrono::Duration::seconds(30));
    let mut rows = Vec::new();
    for _ in 0..600 {
        rows = hub::store::outbox::with_prefix(&conn, "wait-test:")
            .await
            .unwrap();
        if rows.iter().all(|row| row.status != "queued") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let mut seen = std::collections::HashMap::new();
    for delivery in service.log().await {
        let id = delivery["payload"]["data"]["id"]
            .as_str()
            .unwrap()
            .to_string();
        *seen.entry(id).or_insert(0) += 1;
    }
    assert_eq!(seen.len(), total, "every push arrived");
    let repeated: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(repeated.is_empty(), "sent twice: {repeated:?}");
    assert_eq!(rows.len(), total);
    for row in &rows {
        assert_eq!(
            (row.status.as_str(), row.attempts),
            ("sent", 1),
            "{}: a give-back does not count as an attempt",
            row.dedup_key
        );
    }
}

#[actix_web::test]
async fn shoppers_get_pushes_in_their_browser_and_retailer_app() {
    let service = PushService::start().await;
    let fcm = FakeFcm::start().await;
    let app = hub_with(None, true, Some(&fcm)).await;
    app.shop_with_stock(5).await;
    let julie = app.staff("julie@shop.test", "staff", &["PAR01"]).await;
    let mut shopper = identified("c1");
    shopper["language"] = json!("en");
    let created = app
        .reserve(&reservation_body("PAR01", "SKU1", 1, shopper), None)
        .await;
    let number = created.body["number"].as_str().unwrap().to_string();
    let token = created.body["tracking_url"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    let browser = service.subscribe("status=201").await;
    let body = json!({"endpoint": browser["endpoint"], "keys": {"p256dh": browser["p256dh"], "auth": browser["auth"]}});
    assert_eq!(
        app.post_anonymous_json(
            &format!("/api/v1/tracking/{token}/push-subscriptions"),
            &body
        )
        .await
        .status,
        201
    );
    let app_token = app
        .post(
            &format!("/api/v1/reservations/{number}/fcm-tokens"),
            &json!({"token": "shopper-app-1"}),
        )
        .await;
    assert_eq!(app_token.status, 201);

    app.as_staff(
        &julie,
        Method::POST,
        &format!("/api/v1/reservations/{number}/set-aside"),
        None,
    )
    .await;
    let log = service.wait_for(1).await;
    assert_eq!(log[0]["payload"]["body"], "Ready: set aside at the store");
    assert_eq!(log[0]["payload"]["title"], format!("Reservation {number}"));
    assert!(
        log[0]["payload"]["actions"].as_array().unwrap().is_empty(),
        "no staff buttons for shoppers"
    );
    let sent = fcm.wait_for(1).await;
    assert_eq!(sent[0]["message"]["token"], "shopper-app-1");
    assert_eq!(
        sent[0]["message"]["notification"]["body"],
        "Ready: set aside at the store"
    );
}

#[actix_web::test]
async fn a_push_that_keeps_failing_ends_failed_with_its_last_error() {
    let service = PushService::start().await;
    let app = hub_with(None, true, None).await;
    app.shop_with_stock(5).await;
    let julie = app.staff("julie@shop.test", "staff", &["PAR01"]).await;
    app.join_alert_list(&julie, "PAR01", &["web_push"]).await;
    let broken = service.subscribe("status=503").await;
    subscribe_device(&app, &julie, &broken).await;
    let created = app
        .reserve(
            &reservation_body("PAR01", "SKU1", 1, identified("c1")),
            None,
        )
        .await;
    let number = created.body["number"].as_str().unwrap().to_string();
    // Four attempts (the hub's setting), with backoff in between.
    let mut device = json!(null);
    for _ in 0..600 {
        let rows = app
            .get(&format!("/api/v1/reservations/{number}/notifications"))
            .await
            .body;
        device = rows
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["topic"] == "push.device")
            .cloned()
            .unwrap_or(json!(null));
        if device["status"] == "failed" {
            break;
        }
        app.clock.advance(chrono::Duration::seconds(20));
        tokio::time::sleep(std::time::Duration::from_millis(30)).await;
    }
    assert_eq!(device["status"], "failed", "{device}");
    assert_eq!(device["attempts"], 4);
    assert!(device["last_error"].as_str().unwrap().contains("503"));
    assert_eq!(service.log().await.len(), 4);
}

#[actix_web::test]
async fn outcomes_are_recorded_only_under_the_lease_they_were_claimed_with() {
    use hub::store::outbox::{self, NewMessage, Settled};
    let app = storehub_tests::spawn_app().await;
    let conn = app.ctx.db.conn();
    // Due tomorrow: the hub's own worker (at the test clock's today) leaves them.
    let tomorrow = app.clock_now() + chrono::Duration::days(1);
    let messages = ["sent", "retried", "stale"].map(|name| NewMessage {
        topic: hub::notify::TEAM_ALERT,
        dedup_key: format!("lease-test:{name}"),
        payload: json!({"channel": "email"}),
        reservation_id: None,
    });
    outbox::enqueue_all(conn, messages.into(), tomorrow)
        .await
        .unwrap();
    let lease = tomorrow + chrono::Duration::minutes(1);
    let claimed = outbox::claim(conn, tomorrow, lease, 10).await.unwrap();
    assert_eq!(claimed.len(), 3, "{claimed:?}");
    let id_of = |name: &str| {
        claimed
            .iter()
            .find(|row| row.dedup_key == format!("lease-test:{name}"))
            .unwrap()
            .id
    };
    let retry_at = tomorrow + chrono::Duration::hours(2);
    let settled = |status, next_attempt_at, sent_at| Settled {
        status,
        next_attempt_at,
        last_error: (status != "sent").then(|| format!("{status} here")),
        sent_at,
    };
    let results = [
        (id_of("sent"), lease, settled("sent", None, Some(tomorrow))),
        (
            id_of("retried"),
            lease,
            settled("queued", Some(retry_at), None),
        ),
        // Someone else claimed it since: their lease, not ours.
        (
            id_of("stale"),
            lease - chrono::Duration::seconds(1),
            settled("failed", None, None),
        ),
    ];
    outbox::settle_all(conn, &results).await.unwrap();

    let rows = outbox::with_prefix(conn, "lease-test:").await.unwrap();
    let row = |name: &str| {
        rows.iter()
            .find(|r| r.dedup_key == format!("lease-test:{name}"))
            .unwrap()
    };
    let sent = row("sent");
    assert_eq!(
        (
            sent.status.as_str(),
            sent.lease_until,
            sent.last_error.as_deref()
        ),
        ("sent", None, None)
    );
    assert_eq!(sent.sent_at, Some(tomorrow));
    assert_eq!(
        sent.next_attempt_at, tomorrow,
        "an ended message keeps its due time"
    );
    let retried = row("retried");
    assert_eq!(
        (
            retried.status.as_str(),
            retried.lease_until,
            retried.next_attempt_at
        ),
        ("queued", None, retry_at)
    );
    assert_eq!(retried.last_error.as_deref(), Some("queued here"));
    let stale = row("stale");
    assert_eq!(
        (
            stale.status.as_str(),
            stale.lease_until,
            stale.last_error.as_deref()
        ),
        ("queued", Some(lease), None),
        "a settle under someone else's lease changes nothing"
    );
}
