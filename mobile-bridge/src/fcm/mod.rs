//! Firebase Cloud Messaging, HTTP v1 API. The `fcm` crate speaks only the
//! legacy API Google shut down in 2024, so this is a small client of our own:
//! an OAuth token from the service account (gcp_auth caches and refreshes
//! it), then `POST {base}/v1/projects/{project}/messages:send`.

use std::sync::Arc;

use gcp_auth::{CustomServiceAccount, TokenProvider};

use crate::{PushError, PushMessage, PushSender, PushTarget, classify, retry_after_seconds};

const SCOPE: &str = "https://www.googleapis.com/auth/firebase.messaging";

pub struct FcmSender {
    client: reqwest::Client,
    auth: Arc<CustomServiceAccount>,
    project_id: String,
    base_url: String,
}

impl FcmSender {
    /// `credentials_json`: the service-account file's content. `token_uri`
    /// replaces the file's own (a local fake in tests); `base_url` is
    /// `https://fcm.googleapis.com` in production.
    pub fn new(
        client: reqwest::Client,
        credentials_json: &str,
        base_url: &str,
        token_uri: Option<&str>,
    ) -> Result<Self, String> {
        let mut credentials: serde_json::Value = serde_json::from_str(credentials_json)
            .map_err(|e| format!("the FCM credentials are not JSON: {e}"))?;
        let project_id = credentials["project_id"]
            .as_str()
            .ok_or("the FCM credentials have no project_id")?
            .to_string();
        if let Some(uri) = token_uri {
            credentials["token_uri"] = serde_json::Value::String(uri.to_string());
        }
        let auth = CustomServiceAccount::from_json(&credentials.to_string())
            .map_err(|e| format!("the FCM credentials are not a service account: {e}"))?;
        Ok(Self {
            client,
            auth: Arc::new(auth),
            project_id,
            base_url: base_url.trim_end_matches('/').to_string(),
        })
    }

    /// The v1 message body.
    pub fn body(token: &str, message: &PushMessage) -> serde_json::Value {
        let mut data: serde_json::Map<String, serde_json::Value> = message
            .data
            .iter()
            .map(|(k, v)| {
                let text = v
                    .as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| v.to_string());
                (k.clone(), serde_json::Value::String(text))
            })
            .collect();
        if let Some(url) = &message.url {
            data.insert("url".into(), url.clone().into());
        }
        if !message.actions.is_empty() {
            data.insert(
                "actions".into(),
                serde_json::to_string(&message.actions)
                    .unwrap_or_default()
                    .into(),
            );
        }
        let mut android = serde_json::json!({
            "priority": if message.urgent { "HIGH" } else { "NORMAL" },
            "ttl": format!("{}s", message.ttl_seconds),
            "notification": {"tag": message.topic},
        });
        if let Some(topic) = &message.topic {
            android["collapse_key"] = topic.clone().into();
        }
        serde_json::json!({
            "message": {
                "token": token,
                "notification": {"title": message.title, "body": message.body},
                "data": data,
                "android": android,
                "apns": {"headers": {
                    "apns-priority": if message.urgent { "10" } else { "5" },
                    "apns-collapse-id": message.topic,
                }},
            }
        })
    }
}

#[async_trait::async_trait]
impl PushSender for FcmSender {
    async fn send(&self, target: &PushTarget, message: &PushMessage) -> Result<(), PushError> {
        let PushTarget::Fcm { token } = target else {
            return Err(PushError::Rejected("not an FCM token".into()));
        };
        let access = self
            .auth
            .token(&[SCOPE])
            .await
            .map_err(|e| PushError::Retry {
                reason: format!("FCM token endpoint: {e}"),
                after_seconds: None,
            })?;
        let url = format!(
            "{}/v1/projects/{}/messages:send",
            self.base_url, self.project_id
        );
        let response = self
            .client
            .post(url)
            .bearer_auth(access.as_str())
            .json(&Self::body(token, message))
            .send()
            .await
            .map_err(|e| PushError::Retry {
                reason: format!("FCM unreachable: {e}"),
                after_seconds: None,
            })?;
        let status = response.status().as_u16();
        let retry_after = retry_after_seconds(response.headers());
        let text = response.text().await.unwrap_or_default();
        // v1 reports a vanished app install as 404, or 400 with UNREGISTERED.
        if text.contains("UNREGISTERED") {
            return Err(PushError::Gone(format!("{status}: {text}")));
        }
        classify(status, retry_after, &text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_carries_priority_collapse_key_and_string_data() {
        let mut data = serde_json::Map::new();
        data.insert("number".into(), "K7Q4-MZ2P".into());
        data.insert("seq".into(), 12.into());
        let message = PushMessage {
            title: "New reservation".into(),
            body: "Marie, 1 article".into(),
            topic: Some("res-K7Q4-MZ2P".into()),
            urgent: true,
            ttl_seconds: 3600,
            url: Some("https://hub/app/#r/K7Q4-MZ2P".into()),
            actions: vec![],
            data,
        };
        let body = FcmSender::body("device-token", &message);
        assert_eq!(body["message"]["token"], "device-token");
        assert_eq!(body["message"]["android"]["priority"], "HIGH");
        assert_eq!(body["message"]["android"]["collapse_key"], "res-K7Q4-MZ2P");
        assert_eq!(body["message"]["android"]["ttl"], "3600s");
        assert_eq!(
            body["message"]["data"]["seq"], "12",
            "FCM data values are strings"
        );
        assert_eq!(body["message"]["apns"]["headers"]["apns-priority"], "10");
    }
}
