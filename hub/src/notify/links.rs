//! Signed action links for email and push buttons: "set aside" or "reject"
//! one reservation, on behalf of one recipient, until an expiry, once.
//! A GET only shows a confirmation page (mail scanners prefetch links); the
//! POST acts.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

/// What a link allows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkClaims {
    /// Reservation number.
    pub r: String,
    /// `set_aside` or `reject`.
    pub a: String,
    /// Staff id of the recipient; 0 for the store's shared mailbox.
    pub s: i64,
    /// Expiry, seconds since the epoch.
    pub e: i64,
}

/// Why a link does not work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    #[error("this link is damaged or was not made by this hub")]
    Invalid,
    #[error("this link has expired")]
    Expired,
}

/// Signs and checks links with the hub's secret.
#[derive(Clone)]
pub struct LinkSigner {
    key: Vec<u8>,
}

impl std::fmt::Debug for LinkSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LinkSigner(***)")
    }
}

impl LinkSigner {
    pub fn new(key: &[u8]) -> Self {
        Self { key: key.to_vec() }
    }

    fn mac(&self, data: &[u8]) -> Vec<u8> {
        // HMAC takes keys of any length, so this never fails; an empty
        // signature would simply never verify.
        match <HmacSha256 as Mac>::new_from_slice(&self.key) {
            Ok(mut mac) => {
                mac.update(data);
                mac.finalize().into_bytes().to_vec()
            }
            Err(_) => Vec::new(),
        }
    }

    /// The token of a link: claims and signature, URL-safe.
    pub fn sign(&self, claims: &LinkClaims) -> String {
        let body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).unwrap_or_default());
        let signature = URL_SAFE_NO_PAD.encode(self.mac(body.as_bytes()));
        format!("{body}.{signature}")
    }

    /// Checks a token and returns its claims.
    pub fn verify(&self, token: &str, now: DateTime<Utc>) -> Result<LinkClaims, LinkError> {
        let (body, signature) = token.split_once('.').ok_or(LinkError::Invalid)?;
        let given = URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|_| LinkError::Invalid)?;
        let mut mac =
            <HmacSha256 as Mac>::new_from_slice(&self.key).map_err(|_| LinkError::Invalid)?;
        mac.update(body.as_bytes());
        mac.verify_slice(&given).map_err(|_| LinkError::Invalid)?;
        let claims: LinkClaims = serde_json::from_slice(
            &URL_SAFE_NO_PAD
                .decode(body)
                .map_err(|_| LinkError::Invalid)?,
        )
        .map_err(|_| LinkError::Invalid)?;
        if claims.e < now.timestamp() {
            return Err(LinkError::Expired);
        }
        Ok(claims)
    }
}

/// What the single-use table stores for a token.
pub fn used_key(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims() -> LinkClaims {
        LinkClaims {
            r: "K7Q4-MZ2P".into(),
            a: "set_aside".into(),
            s: 7,
            e: Utc::now().timestamp() + 60,
        }
    }

    #[test]
    fn signed_links_verify_and_tampering_does_not() {
        let signer = LinkSigner::new(b"secret");
        let token = signer.sign(&claims());
        assert_eq!(signer.verify(&token, Utc::now()), Ok(claims()));
        assert_eq!(
            LinkSigner::new(b"other").verify(&token, Utc::now()),
            Err(LinkError::Invalid)
        );
        let (body, signature) = token.split_once('.').unwrap();
        let mut forged = claims();
        forged.s = 1;
        let forged_body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&forged).unwrap());
        assert_eq!(
            signer.verify(&format!("{forged_body}.{signature}"), Utc::now()),
            Err(LinkError::Invalid)
        );
        assert_eq!(signer.verify(body, Utc::now()), Err(LinkError::Invalid));
        let later = Utc::now() + chrono::Duration::seconds(120);
        assert_eq!(signer.verify(&token, later), Err(LinkError::Expired));
    }
}
