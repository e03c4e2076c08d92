//! Real peers for delivery tests: an SMTP server (aiosmtpd), a Web Push
//! service that checks VAPID and decrypts with http_ece (both Python, not
//! our code), and a fake FCM HTTP v1 + OAuth token endpoint.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn scripts() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scripts")
}

async fn wait_for_port(port: u16) {
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("nothing listens on {port}");
}

/// Kills the child process when dropped.
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// aiosmtpd writing every message to a Maildir.
pub struct SmtpServer {
    pub port: u16,
    maildir: PathBuf,
    _process: Process,
}

impl SmtpServer {
    pub async fn start() -> SmtpServer {
        let port = free_port();
        let maildir =
            std::env::temp_dir().join(format!("storehub-mail-{port}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&maildir);
        let process = Command::new("python3")
            .args([
                "-m",
                "aiosmtpd",
                "-n",
                "-l",
                &format!("127.0.0.1:{port}"),
                "-c",
                "aiosmtpd.handlers.Mailbox",
            ])
            .arg(&maildir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 with aiosmtpd (pip install aiosmtpd)");
        wait_for_port(port).await;
        SmtpServer {
            port,
            maildir,
            _process: Process(process),
        }
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Every message received so far, parsed by Python's email library.
    pub fn messages(&self) -> Vec<Value> {
        if !self.maildir.join("new").exists() {
            return Vec::new();
        }
        let output = Command::new("python3")
            .arg(scripts().join("read_mail.py"))
            .arg(&self.maildir)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).unwrap()
    }

    /// Messages delivered so far, counted without parsing them.
    pub fn count(&self) -> usize {
        std::fs::read_dir(self.maildir.join("new"))
            .map(|entries| entries.count())
            .unwrap_or(0)
    }

    /// Waits until `count` messages arrived (or 30 s), returns them.
    pub async fn wait_for(&self, count: usize) -> Vec<Value> {
        for _ in 0..600 {
            if self.count() >= count {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.messages()
    }
}

/// The Python Web Push service.
pub struct PushService {
    pub port: u16,
    _process: Process,
}

impl PushService {
    pub async fn start() -> PushService {
        let port = free_port();
        let process = Command::new("python3")
            .arg(scripts().join("push_service.py"))
            .arg(port.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3 with http_ece and cryptography (pip install http-ece cryptography)");
        wait_for_port(port).await;
        PushService {
            port,
            _process: Process(process),
        }
    }

    /// A new browser subscription; `query` sets its answers, e.g. `status=410`.
    pub async fn subscribe(&self, query: &str) -> Value {
        reqwest::Client::new()
            .post(format!("http://127.0.0.1:{}/new?{query}", self.port))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    pub async fn log(&self) -> Vec<Value> {
        reqwest::Client::new()
            .get(format!("http://127.0.0.1:{}/log", self.port))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// Deliveries so far, without fetching them.
    pub async fn count(&self) -> usize {
        reqwest::Client::new()
            .get(format!("http://127.0.0.1:{}/count", self.port))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// Waits until `count` deliveries were logged (or 30 s).
    pub async fn wait_for(&self, count: usize) -> Vec<Value> {
        for _ in 0..600 {
            if self.count().await >= count {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.log().await
    }
}

/// A fake of FCM's OAuth token endpoint and HTTP v1 send endpoint.
pub struct FakeFcm {
    pub base_url: String,
    pub credentials_file: PathBuf,
    pub sent: Arc<Mutex<Vec<Value>>>,
    pub tokens_issued: Arc<Mutex<usize>>,
    _server: actix_web::dev::ServerHandle,
}

impl FakeFcm {
    /// Registration tokens starting with `gone` are answered UNREGISTERED.
    pub async fn start() -> FakeFcm {
        use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
        let sent: Arc<Mutex<Vec<Value>>> = Arc::default();
        let issued: Arc<Mutex<usize>> = Arc::default();
        let (sent_data, issued_data) = (sent.clone(), issued.clone());
        let server = HttpServer::new(move || {
            let sent = sent_data.clone();
            let issued = issued_data.clone();
            App::new()
                .route(
                    "/token",
                    web::post().to(move |form: String| {
                        let issued = issued.clone();
                        async move {
                            assert!(form.contains("assertion="), "JWT bearer grant expected: {form}");
                            *issued.lock().unwrap() += 1;
                            HttpResponse::Ok().json(json!({"access_token": "fake-access", "expires_in": 3600, "token_type": "Bearer"}))
                        }
                    }),
                )
                .route(
                    "/v1/projects/{project}/messages:send",
                    web::post().to(move |req: HttpRequest, body: web::Json<Value>| {
                        let sent = sent.clone();
                        async move {
                            let auth = req.headers().get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("");
                            if auth != "Bearer fake-access" {
                                return HttpResponse::Unauthorized().finish();
                            }
                            let token = body["message"]["token"].as_str().unwrap_or("").to_string();
                            sent.lock().unwrap().push(body.into_inner());
                            if token.starts_with("gone") {
                                return HttpResponse::NotFound().json(json!({"error": {"code": 404, "status": "NOT_FOUND",
                                    "details": [{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": "UNREGISTERED"}]}}));
                            }
                            HttpResponse::Ok().json(json!({"name": "projects/demo/messages/1"}))
                        }
                    }),
                )
        })
        .workers(1)
        .bind("127.0.0.1:0")
        .unwrap();
        let port = server.addrs()[0].port();
        let server = server.run();
        let handle = server.handle();
        actix_web::rt::spawn(server);
        let base_url = format!("http://127.0.0.1:{port}");
        let credentials_file = std::env::temp_dir().join(format!("storehub-fcm-{port}.json"));
        let rsa = openssl::rsa::Rsa::generate(2048).unwrap();
        let pem = String::from_utf8(
            openssl::pkey::PKey::from_rsa(rsa)
                .unwrap()
                .private_key_to_pem_pkcs8()
                .unwrap(),
        )
        .unwrap();
        let credentials = json!({
            "type": "service_account", "project_id": "storehub-test", "private_key_id": "k1",
            "private_key": pem, "client_email": "hub@storehub-test.iam.gserviceaccount.com",
            "client_id": "1", "token_uri": "https://oauth2.googleapis.com/token",
        });
        std::fs::write(&credentials_file, credentials.to_string()).unwrap();
        FakeFcm {
            base_url,
            credentials_file,
            sent,
            tokens_issued: issued,
            _server: handle,
        }
    }

    pub async fn wait_for(&self, count: usize) -> Vec<Value> {
        for _ in 0..600 {
            if self.sent.lock().unwrap().len() >= count {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.sent.lock().unwrap().clone()
    }
}
