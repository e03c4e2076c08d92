//! Web Push (RFC 8030 delivery, RFC 8291 aes128gcm payloads, RFC 8292 VAPID).
//!
//! Encryption and the VAPID JWT come from the `web-push` crate (OpenSSL
//! backed). The request goes through the hub's own reqwest client: the crate's
//! `build_request` targets `http` 0.2 while reqwest speaks `http` 1, so the
//! few headers it sets are copied over here.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use web_push::{
    ContentEncoding, PartialVapidSignatureBuilder, SubscriptionInfo, Urgency, VapidSignature,
    VapidSignatureBuilder, WebPushMessageBuilder,
};

use crate::{PushError, PushMessage, PushSender, PushTarget, classify, retry_after_seconds};

/// Largest payload a push service must accept (RFC 8291 leaves 4096 for the record).
pub const MAX_PAYLOAD: usize = 3800;

/// A VAPID key pair, base64url without padding.
#[derive(Clone)]
pub struct VapidKeys {
    pub private_key: String,
    pub public_key: String,
}

impl std::fmt::Debug for VapidKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VapidKeys")
            .field("public_key", &self.public_key)
            .field("private_key", &"***")
            .finish()
    }
}

/// Makes a new P-256 key pair for VAPID.
pub fn generate_vapid_keys() -> Result<VapidKeys, String> {
    use openssl::bn::BigNumContext;
    use openssl::ec::{EcGroup, EcKey, PointConversionForm};
    use openssl::nid::Nid;
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).map_err(|e| e.to_string())?;
    let key = EcKey::generate(&group).map_err(|e| e.to_string())?;
    let mut ctx = BigNumContext::new().map_err(|e| e.to_string())?;
    let public = key
        .public_key()
        .to_bytes(&group, PointConversionForm::UNCOMPRESSED, &mut ctx)
        .map_err(|e| e.to_string())?;
    let private = key
        .private_key()
        .to_vec_padded(32)
        .map_err(|e| e.to_string())?;
    Ok(VapidKeys {
        private_key: URL_SAFE_NO_PAD.encode(private),
        public_key: URL_SAFE_NO_PAD.encode(public),
    })
}

/// How long one VAPID token is reused. The crate signs for 12 hours; half
/// that leaves a wide margin for clock skew at the push service.
const SIGNATURE_REUSE: Duration = Duration::from_secs(6 * 3600);

/// Sends Web Push messages signed with the hub's VAPID key.
pub struct WebPushSender {
    client: reqwest::Client,
    signer: PartialVapidSignatureBuilder,
    public_key: String,
    /// `mailto:` or `https:` contact for push services (the JWT `sub`).
    subject: String,
    /// Signed tokens by push-service origin, with when they were made.
    /// Signing (pure-Rust P-256 in jwt-simple) costs more than encrypting,
    /// and RFC 8292 lets one token serve every request to that origin.
    signatures: Mutex<HashMap<String, (VapidSignature, Instant)>>,
}

impl WebPushSender {
    /// `private_key`: base64url (no padding) P-256 private key.
    pub fn new(client: reqwest::Client, private_key: &str, subject: &str) -> Result<Self, String> {
        let signer = VapidSignatureBuilder::from_base64_no_sub(private_key.trim())
            .map_err(|e| format!("the VAPID private key is not usable: {e}"))?;
        let public_key = URL_SAFE_NO_PAD.encode(signer.get_public_key());
        Ok(Self {
            client,
            signer,
            public_key,
            subject: subject.to_string(),
            signatures: Mutex::new(HashMap::new()),
        })
    }

    /// The VAPID token for `origin`: reused while fresh, signed otherwise.
    fn signature_for(
        &self,
        origin: &str,
        info: &SubscriptionInfo,
    ) -> Result<VapidSignature, PushError> {
        let now = Instant::now();
        if let Ok(cache) = self.signatures.lock()
            && let Some((signature, made)) = cache.get(origin)
            && now.duration_since(*made) < SIGNATURE_REUSE
        {
            return Ok(signature.clone());
        }
        let mut builder = self.signer.clone().add_sub_info(info);
        builder.add_claim("sub", self.subject.as_str());
        builder.add_claim("aud", origin);
        let signature = builder
            .build()
            .map_err(|e| PushError::Rejected(format!("VAPID signature: {e}")))?;
        if let Ok(mut cache) = self.signatures.lock() {
            cache.insert(origin.to_string(), (signature.clone(), now));
        }
        Ok(signature)
    }

    /// The application server key browsers subscribe with.
    pub fn public_key(&self) -> &str {
        &self.public_key
    }

    /// The JSON the service worker receives.
    pub fn payload(message: &PushMessage) -> Vec<u8> {
        let body = serde_json::json!({
            "title": message.title,
            "body": message.body,
            "tag": message.topic,
            "url": message.url,
            "actions": message.actions,
            "data": message.data,
        });
        body.to_string().into_bytes()
    }
}

/// Topics are at most 32 URL-safe base64 characters (RFC 8030 5.4).
fn topic_header(topic: &str) -> String {
    let cleaned: String = topic
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if cleaned.len() <= 32 {
        cleaned
    } else {
        use std::hash::{Hash, Hasher};
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        topic.hash(&mut hasher);
        format!("t{:016x}", hasher.finish())
    }
}

#[async_trait::async_trait]
impl PushSender for WebPushSender {
    async fn send(&self, target: &PushTarget, message: &PushMessage) -> Result<(), PushError> {
        let PushTarget::WebPush {
            endpoint,
            p256dh,
            auth,
        } = target
        else {
            return Err(PushError::Rejected("not a Web Push subscription".into()));
        };
        let info = SubscriptionInfo::new(endpoint.as_str(), p256dh.as_str(), auth.as_str());
        let payload = Self::payload(message);
        if payload.len() > MAX_PAYLOAD {
            return Err(PushError::Rejected(format!(
                "payload of {} bytes is too large",
                payload.len()
            )));
        }
        // The audience is the push service's origin, port included (RFC 8292);
        // the crate leaves a non-default port out, which strict services refuse.
        let origin = reqwest::Url::parse(endpoint)
            .map(|url| url.origin().ascii_serialization())
            .map_err(|e| PushError::Rejected(format!("endpoint `{endpoint}`: {e}")))?;
        let signature = self.signature_for(&origin, &info)?;
        let mut builder = WebPushMessageBuilder::new(&info);
        builder.set_payload(ContentEncoding::Aes128Gcm, &payload);
        builder.set_vapid_signature(signature);
        builder.set_ttl(message.ttl_seconds);
        builder.set_urgency(if message.urgent {
            Urgency::High
        } else {
            Urgency::Normal
        });
        if let Some(topic) = &message.topic {
            builder.set_topic(topic_header(topic));
        }
        let built = builder.build().map_err(|e| {
            PushError::Rejected(format!("cannot encrypt for this subscription: {e}"))
        })?;
        let mut request = self
            .client
            .post(built.endpoint.to_string())
            .header("TTL", built.ttl.to_string());
        if let Some(urgency) = built.urgency {
            request = request.header("Urgency", urgency.to_string());
        }
        if let Some(topic) = built.topic {
            request = request.header("Topic", topic);
        }
        if let Some(body) = built.payload {
            request = request
                .header("Content-Encoding", body.content_encoding.to_str())
                .header("Content-Type", "application/octet-stream");
            for (name, value) in body.crypto_headers {
                request = request.header(name, value);
            }
            request = request.body(body.content);
        }
        let response = request.send().await.map_err(|e| PushError::Retry {
            reason: format!("push service unreachable: {e}"),
            after_seconds: None,
        })?;
        let status = response.status().as_u16();
        let retry_after = retry_after_seconds(response.headers());
        let text = response.text().await.unwrap_or_default();
        classify(status, retry_after, &text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_sign() {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let keys = generate_vapid_keys().unwrap();
        assert_eq!(URL_SAFE_NO_PAD.decode(&keys.public_key).unwrap().len(), 65);
        let sender = WebPushSender::new(
            reqwest::Client::new(),
            &keys.private_key,
            "mailto:ops@shop.test",
        )
        .unwrap();
        assert_eq!(sender.public_key(), keys.public_key);
        assert!(format!("{keys:?}").contains("***"));
        assert!(WebPushSender::new(reqwest::Client::new(), "not-a-key", "mailto:x").is_err());
    }

    #[test]
    fn one_token_per_push_service_origin() {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let keys = generate_vapid_keys().unwrap();
        let phone = generate_vapid_keys().unwrap();
        let sender =
            WebPushSender::new(reqwest::Client::new(), &keys.private_key, "mailto:x@y.z").unwrap();
        let info = |endpoint: &str| {
            SubscriptionInfo::new(endpoint, &phone.public_key, "AAECAwQFBgcICQoLDA0ODw")
        };
        let first = sender
            .signature_for("https://push.a.test", &info("https://push.a.test/1"))
            .unwrap();
        let again = sender
            .signature_for("https://push.a.test", &info("https://push.a.test/2"))
            .unwrap();
        let other = sender
            .signature_for("https://push.b.test", &info("https://push.b.test/1"))
            .unwrap();
        assert_eq!(first, again, "reused for the same service");
        assert_ne!(
            first.auth_t, other.auth_t,
            "signed anew for another audience"
        );
    }

    #[test]
    fn topics_fit_the_header_rules() {
        assert_eq!(topic_header("res-K7Q4-MZ2P"), "res-K7Q4-MZ2P");
        assert_eq!(topic_header("a b:c"), "a_b_c");
        assert!(topic_header(&"x".repeat(60)).len() <= 32);
    }
}
