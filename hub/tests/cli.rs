//! The `storehub` binary as a newcomer runs it: the demo answers, and the
//! one-shot commands print what the README promises.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn storehub() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_storehub"));
    command
        .env_remove("STOREHUB_DATABASE__URL")
        .env_remove("STOREHUB_PUBLIC_URL")
        .env("RUST_LOG", "warn");
    command
}

fn scratch_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("storehub-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Kills the child when the test ends, pass or fail.
struct Running(std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn demo_serves_ready_docs_and_api_on_a_fresh_directory() {
    let dir = scratch_dir("demo");
    let mut child = Running(
        storehub()
            .args(["demo", "--bind", "127.0.0.1:0"])
            .current_dir(&dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let stdout = child.0.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let started = Instant::now();
    let (mut docs, mut key) = (None, None);
    while key.is_none() && started.elapsed() < Duration::from_secs(60) {
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(200)) {
            if let Some(url) = line.trim().strip_prefix("API docs:") {
                docs = Some(url.trim().to_string());
            }
            if let Some(k) = line.trim().strip_prefix("API key:") {
                key = Some(k.trim().to_string());
            }
        }
    }
    let docs = docs.expect("the demo prints the docs URL");
    let key = key.expect("the demo prints an API key");
    let base = docs.trim_end_matches("/api/docs/").to_string();
    assert!(
        dir.join("storehub-demo.db").exists(),
        "the demo uses a local SQLite file"
    );

    hub::startup::install_crypto_provider();
    let client = reqwest::Client::new();
    let ready = client.get(format!("{base}/ready")).send().await.unwrap();
    assert_eq!(ready.status().as_u16(), 200);
    let viewer = client.get(&docs).send().await.unwrap();
    assert_eq!(viewer.status().as_u16(), 200);
    let openapi: serde_json::Value = client
        .get(format!("{base}/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(openapi["info"]["title"], "Storehub");

    let stores: serde_json::Value = client
        .get(format!("{base}/api/v1/stores"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stores.as_array().unwrap().len(), 3);
    // The demo brings Web Push, and its links use the port really bound.
    let push_key: serde_json::Value = client
        .get(format!("{base}/api/v1/push/public-key"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        push_key["public_key"].as_str().unwrap().len(),
        87,
        "{push_key}"
    );
    assert!(dir.join("storehub-demo.vapid").exists());
    let articles: serde_json::Value = client
        .get(format!("{base}/api/v1/articles"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(articles.as_array().unwrap().len(), 20);
    // The printed staff logins work.
    let login = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(
            &serde_json::json!({"email": "manon@demo.storehub.test", "password": "storehub-demo"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(login.status().as_u16(), 200);
    let reserved = client
        .post(format!("{base}/api/v1/reservations"))
        .bearer_auth(&key)
        .json(&serde_json::json!({
            "store": "PAR01",
            "customer": {"first_name": "Marie", "email": "marie@example.fr", "identified": true, "external_id": "C42"},
            "lines": [{"sku": "SNEAK-WHT-42", "quantity": 1}],
            "accept_terms": true
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(reserved.status().as_u16(), 201);
    let reservation: serde_json::Value = reserved.json().await.unwrap();
    assert!(
        reservation["tracking_url"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{base}/t/")),
        "{reservation}"
    );
    drop(child);
}

#[test]
fn api_key_create_prints_the_key_alone_on_its_last_line() {
    let dir = scratch_dir("keys");
    let url = format!("sqlite://{}/keys.db?mode=rwc", dir.display());
    let migrate = storehub()
        .arg("migrate")
        .env("STOREHUB_DATABASE__URL", &url)
        .output()
        .unwrap();
    assert!(migrate.status.success(), "{migrate:?}");
    let output = storehub()
        .args(["api-key", "create", "--name", "web shop"])
        .env("STOREHUB_DATABASE__URL", &url)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    let last = stdout.lines().last().unwrap();
    assert!(last.starts_with("shk_") && last.len() == 52, "{stdout}");
    assert!(last.chars().skip(4).all(|c| c.is_ascii_hexdigit()));
}

#[test]
fn bad_settings_are_refused_with_a_sentence() {
    let output = storehub()
        .arg("migrate")
        .env("STOREHUB_DATABASE__MAX_CONNECTIONS", "lots")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("settings could not be read"), "{stderr}");
}

#[test]
fn staff_create_reads_the_password_from_stdin() {
    use std::io::Write;
    let dir = scratch_dir("staff");
    let url = format!("sqlite://{}/staff.db?mode=rwc", dir.display());
    let mut child = storehub()
        .args([
            "staff",
            "create",
            "--email",
            "Admin@Shop.test",
            "--role",
            "admin",
        ])
        .env("STOREHUB_DATABASE__URL", &url)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"a long enough password\n")
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(stdout.contains("admin account admin@shop.test"), "{stdout}");

    let short = storehub()
        .args([
            "staff",
            "create",
            "--email",
            "x@shop.test",
            "--role",
            "staff",
        ])
        .env("STOREHUB_DATABASE__URL", &url)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!short.status.success());
    assert!(
        String::from_utf8(short.stderr)
            .unwrap()
            .contains("at least 10 characters")
    );
    let bad_role = storehub()
        .args([
            "staff",
            "create",
            "--email",
            "y@shop.test",
            "--role",
            "boss",
        ])
        .env("STOREHUB_DATABASE__URL", &url)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        String::from_utf8(bad_role.stderr)
            .unwrap()
            .contains("staff, manager or admin")
    );
}
