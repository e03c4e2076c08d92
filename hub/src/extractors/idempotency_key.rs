//! The optional `Idempotency-Key` header, checked for shape.

use std::future::{Ready, ready};

use actix_web::{FromRequest, HttpRequest, dev::Payload};

use crate::error::ApiError;

/// A client-chosen key that makes a create safe to retry.
pub struct IdempotencyKey(pub Option<String>);

const MAX_LEN: usize = 200;

impl FromRequest for IdempotencyKey {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let Some(value) = req.headers().get("idempotency-key") else {
            return ready(Ok(Self(None)));
        };
        let key = value.to_str().map(str::trim).unwrap_or_default();
        if key.is_empty() || key.len() > MAX_LEN || !key.chars().all(|c| c.is_ascii_graphic()) {
            return ready(Err(ApiError::invalid(
                "invalid_idempotency_key",
                format!("Idempotency-Key must be 1 to {MAX_LEN} visible ASCII characters."),
            )));
        }
        ready(Ok(Self(Some(key.to_string()))))
    }
}
