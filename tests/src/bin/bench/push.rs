//! The push pipeline end to end: reservations made through the API, each
//! alerting a team with 20 Web Push and 20 FCM devices, delivered by the
//! hub's outbox worker (encrypt, VAPID-sign, OAuth, HTTP) to local push
//! services that answer 201, 429 + Retry-After, 410/UNREGISTERED or slowly.
//! Then the same again with the hub killed (-9) halfway: every push must
//! still arrive. Baseline: the raw aes128gcm encrypt + VAPID sign loop with
//! the same crate, no HTTP, no database.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::{Value, json};

use super::Mode;
use super::create::{self, Endpoint, Load, STORE};
use super::measure::{Hub, Plan, Sample, Scratch, cpu_time, progress};

/// Devices per transport; ids 0..20 are Web Push, 20..40 FCM.
const DEVICES_PER_TRANSPORT: u64 = 20;

/// How a device's push service answers, by its id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answer {
    Gone,
    /// 429 with Retry-After: 1 the first time for each message, then 201.
    ThrottledOnce,
    Slow,
    Accepted,
}

fn answer_for(id: u64) -> Answer {
    match id % DEVICES_PER_TRANSPORT {
        0 => Answer::Gone,
        1 => Answer::ThrottledOnce,
        2 => Answer::Slow,
        _ => Answer::Accepted,
    }
}

/// Healthy devices (the gone ones are removed after their first answer).
fn expected_per_reservation() -> u64 {
    (0..2 * DEVICES_PER_TRANSPORT)
        .filter(|id| answer_for(*id) != Answer::Gone)
        .count() as u64
}

#[derive(Default)]
struct Received {
    /// (device id, topic) of every accepted push.
    accepted: HashSet<(u64, String)>,
    accepted_total: u64,
    throttled: HashSet<(u64, String)>,
}

type Shared = Arc<Mutex<Received>>;

/// The local Web Push endpoint (`/wp/{id}`), FCM token endpoint and FCM
/// HTTP v1 endpoint, on their own thread.
fn start_services(received: Shared) -> anyhow::Result<u16> {
    use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let port = listener.local_addr()?.port();
    std::thread::spawn(move || {
        let system = actix_web::rt::System::new();
        system.block_on(async move {
            let server = HttpServer::new(move || {
                let web_push = received.clone();
                let fcm = received.clone();
                App::new()
                    .route(
                        "/wp/{id}",
                        web::post().to(move |req: HttpRequest, path: web::Path<u64>| {
                            let received = web_push.clone();
                            async move {
                                let topic = req
                                    .headers()
                                    .get("topic")
                                    .and_then(|v| v.to_str().ok())
                                    .unwrap_or_default()
                                    .to_string();
                                match respond(&received, path.into_inner(), topic).await {
                                    Answer::Gone => HttpResponse::Gone().finish(),
                                    Answer::ThrottledOnce => HttpResponse::TooManyRequests()
                                        .insert_header(("Retry-After", "1"))
                                        .finish(),
                                    _ => HttpResponse::Created().finish(),
                                }
                            }
                        }),
                    )
                    .route(
                        "/token",
                        web::post().to(|| async {
                            HttpResponse::Ok().json(json!({"access_token": "bench-access", "expires_in": 3600, "token_type": "Bearer"}))
                        }),
                    )
                    .route(
                        "/v1/projects/{project}/messages:send",
                        web::post().to(move |body: web::Json<Value>| {
                            let received = fcm.clone();
                            async move {
                                let message = &body["message"];
                                let id = message["token"]
                                    .as_str()
                                    .and_then(|t| t.strip_prefix("tok-"))
                                    .and_then(|n| n.parse().ok())
                                    .unwrap_or(u64::MAX);
                                let topic = message["android"]["collapse_key"]
                                    .as_str()
                                    .unwrap_or_default()
                                    .to_string();
                                match respond(&received, id, topic).await {
                                    Answer::Gone => HttpResponse::NotFound().json(json!({"error": {"code": 404, "status": "NOT_FOUND",
                                        "details": [{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": "UNREGISTERED"}]}})),
                                    Answer::ThrottledOnce => HttpResponse::TooManyRequests()
                                        .insert_header(("Retry-After", "1"))
                                        .json(json!({"error": {"code": 429, "status": "RESOURCE_EXHAUSTED"}})),
                                    _ => HttpResponse::Ok().json(json!({"name": "projects/bench/messages/1"})),
                                }
                            }
                        }),
                    )
            })
            .workers(1)
            .listen(listener)
            .map(|server| server.run());
            if let Ok(server) = server {
                let _ = server.await;
            }
        });
    });
    Ok(port)
}

/// Decides and records the answer to one push.
async fn respond(received: &Shared, id: u64, topic: String) -> Answer {
    let planned = answer_for(id);
    if planned == Answer::Slow {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let Ok(mut state) = received.lock() else {
        return Answer::Gone;
    };
    match planned {
        Answer::Gone => Answer::Gone,
        Answer::ThrottledOnce if state.throttled.insert((id, topic.clone())) => {
            Answer::ThrottledOnce
        }
        _ => {
            state.accepted_total += 1;
            state.accepted.insert((id, topic));
            Answer::Accepted
        }
    }
}

fn distinct(received: &Shared) -> u64 {
    received
        .lock()
        .map(|r| r.accepted.len() as u64)
        .unwrap_or(0)
}

pub async fn run(plan: &Plan) -> anyhow::Result<Vec<Sample>> {
    let reservations = match plan.mode {
        Mode::Quick => 60,
        Mode::Full => 600,
    };
    let mut samples = Vec::new();
    for round in 1..=plan.rounds {
        progress(&format!(
            "push: round {round}/{}: hub, {reservations} reservations x 40 devices",
            plan.rounds
        ));
        samples.push(Sample {
            scenario: "push".into(),
            side: "hub",
            round,
            figures: hub_side(plan, reservations, round).await?,
        });
        progress(&format!(
            "push: round {round}/{}: raw crypto loop",
            plan.rounds
        ));
        samples.push(Sample {
            scenario: "push".into(),
            side: "baseline",
            round,
            figures: tokio::task::spawn_blocking(raw_crypto_loop).await??,
        });
    }
    Ok(samples)
}

async fn hub_side(plan: &Plan, reservations: u64, round: u32) -> anyhow::Result<Value> {
    let received: Shared = Arc::default();
    let port = start_services(received.clone())?;
    let base = format!("http://127.0.0.1:{port}");
    let scratch = Scratch::new("push", round)?;
    let credentials = scratch.dir.join("fcm.json");
    write_fcm_credentials(&credentials, &base)?;
    let vapid = mobile_bridge::webpush::generate_vapid_keys().map_err(anyhow::Error::msg)?;
    let url = scratch.url.clone();
    let credentials_path = credentials.display().to_string();
    let mut hub = Hub::start(
        &plan.hub,
        &url,
        &[
            ("STOREHUB_PUSH__VAPID_PRIVATE_KEY", &vapid.private_key),
            ("STOREHUB_FCM__CREDENTIALS_FILE", &credentials_path),
            ("STOREHUB_FCM__BASE_URL", &base),
            ("STOREHUB_FCM__TOKEN_URI", &format!("{base}/token")),
            // Slow services hold a slot each: more of them in flight.
            ("STOREHUB_DELIVERY__CONCURRENCY", "64"),
            // After the kill, the dead hub's claims come back when their
            // lease ends (60 s by default): 5 s is still 25 times the
            // slowest service here, and the run no longer waits a minute.
            ("STOREHUB_DELIVERY__LEASE_SECS", "5"),
            // A 429 asks for 1 s; the default base backoff (5 s) would
            // make the throttled pushes, not the hub, set the run's length.
            ("STOREHUB_DELIVERY__BASE_BACKOFF_SECS", "1"),
        ],
    )
    .await?;
    let load = Load {
        skus: 1,
        phase: Duration::ZERO,
        rate: 0,
    };
    create::seed(&hub, load).await?;
    let token = hub.admin_token(STORE).await?;
    register_devices(&hub, &token, &base).await?;
    let endpoint = Endpoint::of(&hub);
    let client = reqwest::Client::new();
    let per = expected_per_reservation();

    // Throughput: make the reservations, then time until every push is in.
    let cpu_before = cpu_time(hub.pid())?;
    let began = Instant::now();
    make_reservations(&client, &endpoint, load, 0, reservations).await?;
    let created = began.elapsed();
    let backlog_at = distinct(&received);
    let drain_cpu = cpu_time(hub.pid())?;
    let expected = reservations * per;
    // Throughput up to 90 %: the last pushes are the throttled ones, held
    // back by the retry delay (about 1 s after a 429), not by the hub.
    let most = expected * 9 / 10;
    wait_until(&received, most, Duration::from_secs(300)).await?;
    let most_in = began.elapsed();
    let cpu_after = cpu_time(hub.pid())?;
    let drained = most.saturating_sub(backlog_at);
    let drain_secs = (most_in - created).as_secs_f64();
    wait_until(&received, expected, Duration::from_secs(300)).await?;
    let all_in = began.elapsed();

    // Crash: the same again, killed (-9) a third of the way through.
    let crash_expected = expected + reservations * per;
    make_reservations(&client, &endpoint, load, reservations, reservations).await?;
    let third = expected + reservations * per / 3;
    wait_until(&received, third, Duration::from_secs(300)).await?;
    hub.restart().await?;
    let outcome = wait_until(&received, crash_expected, Duration::from_secs(300)).await;
    let lost = crash_expected.saturating_sub(distinct(&received));
    let (total, unique) = received
        .lock()
        .map(|r| (r.accepted_total, r.accepted.len() as u64))
        .unwrap_or_default();
    hub.stop().await;
    if let Err(err) = outcome {
        progress(&format!("push: {err}"));
    }
    Ok(json!({
        "pushes_per_sec": most as f64 / most_in.as_secs_f64(),
        "all_in_secs": all_in.as_secs_f64(),
        "drain_pushes_per_sec": drained as f64 / drain_secs.max(0.001),
        "cpu_us_per_push": (cpu_after - cpu_before).as_secs_f64() * 1e6 / most as f64,
        "drain_cpu_us_per_push": (cpu_after - drain_cpu).as_secs_f64() * 1e6 / drained.max(1) as f64,
        "lost_across_kill": lost as f64,
        "duplicates_after_kill": total.saturating_sub(unique) as f64,
    }))
}

async fn make_reservations(
    client: &reqwest::Client,
    endpoint: &Endpoint,
    load: Load,
    first: u64,
    count: u64,
) -> anyhow::Result<()> {
    use futures_util::StreamExt;
    let made = futures_util::stream::iter(first..first + count)
        .map(|serial| create::create_one(client, endpoint, load, 1_000_000 + serial))
        .buffer_unordered(16)
        .collect::<Vec<_>>()
        .await;
    for result in made {
        if result?.is_none() {
            bail!("a reservation was refused");
        }
    }
    Ok(())
}

async fn wait_until(received: &Shared, count: u64, limit: Duration) -> anyhow::Result<()> {
    let start = Instant::now();
    while distinct(received) < count {
        if start.elapsed() > limit {
            bail!("{} of {count} pushes after {limit:?}", distinct(received));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}

/// The team's phones: 20 Web Push subscriptions and 20 FCM tokens, all on
/// the store's alert list for both channels.
async fn register_devices(hub: &Hub, token: &str, base: &str) -> anyhow::Result<()> {
    let client = reqwest::Client::new();
    let keys = mobile_bridge::webpush::generate_vapid_keys().map_err(anyhow::Error::msg)?;
    let post = |path: String, body: Value| {
        let request = client
            .request(reqwest::Method::POST, format!("{}{path}", hub.base))
            .bearer_auth(token)
            .json(&body)
            .send();
        async move {
            let answer = request.await?;
            if !answer.status().is_success() {
                bail!("{}: {}", answer.status(), answer.text().await?);
            }
            Ok(())
        }
    };
    for id in 0..DEVICES_PER_TRANSPORT {
        post(
            "/api/v1/me/push-subscriptions".into(),
            json!({"endpoint": format!("{base}/wp/{id}"),
                   "keys": {"p256dh": keys.public_key, "auth": "AAECAwQFBgcICQoLDA0ODw"}}),
        )
        .await?;
        post(
            "/api/v1/me/fcm-tokens".into(),
            json!({"token": format!("tok-{}", DEVICES_PER_TRANSPORT + id)}),
        )
        .await?;
    }
    let joined = client
        .put(format!("{}/api/v1/stores/{STORE}/alert-list/me", hub.base))
        .bearer_auth(token)
        .json(&json!({"channels": ["web_push", "fcm"]}))
        .send()
        .await?;
    if !joined.status().is_success() {
        bail!("alert list: {}", joined.text().await?);
    }
    Ok(())
}

fn write_fcm_credentials(path: &std::path::Path, base: &str) -> anyhow::Result<()> {
    let rsa = openssl::rsa::Rsa::generate(2048)?;
    let pem = String::from_utf8(openssl::pkey::PKey::from_rsa(rsa)?.private_key_to_pem_pkcs8()?)?;
    let credentials = json!({
        "type": "service_account", "project_id": "storehub-bench", "private_key_id": "k1",
        "private_key": pem, "client_email": "hub@storehub-bench.iam.gserviceaccount.com",
        "client_id": "1", "token_uri": format!("{base}/token"),
    });
    std::fs::write(path, credentials.to_string()).context("writing FCM credentials")?;
    Ok(())
}

/// What the hub's Web Push sender does per message, minus HTTP and the
/// database: VAPID-sign and aes128gcm-encrypt a team alert, on one core.
fn raw_crypto_loop() -> anyhow::Result<Value> {
    use web_push::{
        ContentEncoding, SubscriptionInfo, VapidSignatureBuilder, WebPushMessageBuilder,
    };
    const MESSAGES: u32 = 1_500;
    let vapid = mobile_bridge::webpush::generate_vapid_keys().map_err(anyhow::Error::msg)?;
    let device = mobile_bridge::webpush::generate_vapid_keys().map_err(anyhow::Error::msg)?;
    let signer = VapidSignatureBuilder::from_base64_no_sub(&vapid.private_key)?;
    let info = SubscriptionInfo::new(
        "http://127.0.0.1:9/wp/1",
        &device.public_key,
        "AAECAwQFBgcICQoLDA0ODw",
    );
    let payload = json!({
        "title": "Nouvelle réservation R-2026-000123",
        "body": "Marie, 1 article(s) : Perceuse sans fil 18 V. À mettre de côté avant 18:30.",
        "data": {"id": "ev:1:123", "number": "R-2026-000123", "kind": "created", "url": "/app/#/r/R-2026-000123"},
        "actions": [{"action": "set_aside", "title": "Mettre de côté", "url": "http://127.0.0.1:8080/r/act?t=eyJhbGciOiJIUzI1NiJ9.eyJyIjoiUiJ9.sig"}],
        "tag": "res-R-2026-000123",
    })
    .to_string();
    let start = Instant::now();
    for _ in 0..MESSAGES {
        let mut signature = signer.clone().add_sub_info(&info);
        signature.add_claim("sub", "mailto:ops@bench.test");
        signature.add_claim("aud", "http://127.0.0.1:9");
        let mut builder = WebPushMessageBuilder::new(&info);
        builder.set_payload(ContentEncoding::Aes128Gcm, payload.as_bytes());
        builder.set_vapid_signature(signature.build()?);
        std::hint::black_box(builder.build()?);
    }
    let elapsed = start.elapsed().as_secs_f64();
    // The two halves apart: what a cached signature would save.
    let start = Instant::now();
    let mut signature = None;
    for _ in 0..MESSAGES {
        let mut builder = signer.clone().add_sub_info(&info);
        builder.add_claim("sub", "mailto:ops@bench.test");
        builder.add_claim("aud", "http://127.0.0.1:9");
        signature = Some(builder.build()?);
    }
    let sign = start.elapsed().as_secs_f64();
    let signature = signature.context("a signature")?;
    let start = Instant::now();
    for _ in 0..MESSAGES {
        let mut builder = WebPushMessageBuilder::new(&info);
        builder.set_payload(ContentEncoding::Aes128Gcm, payload.as_bytes());
        builder.set_vapid_signature(signature.clone());
        std::hint::black_box(builder.build()?);
    }
    let encrypt = start.elapsed().as_secs_f64();
    let per = |secs: f64| secs * 1e6 / f64::from(MESSAGES);
    Ok(json!({
        "pushes_per_sec": f64::from(MESSAGES) / elapsed,
        "cpu_us_per_push": per(elapsed),
        "vapid_sign_us": per(sign),
        "encrypt_us": per(encrypt),
    }))
}
