//! `Authorization: Bearer <api key or staff token>` -> who is calling.

use std::future::Future;
use std::pin::Pin;

use actix_web::{FromRequest, HttpRequest, dev::Payload, web};

use crate::context::AppContext;
use crate::error::ApiError;
use crate::services::{Caller, api_keys, staff};

/// An authenticated caller: an integration (web shop, till) or a staff member.
pub struct ApiCaller(pub Caller);

/// A caller allowed to manage catalogue, stock, settings and keys.
pub struct AdminCaller(pub Caller);

/// The bearer token of a request, if any.
pub fn bearer_token(req: &HttpRequest) -> Option<String> {
    let header = req.headers().get(actix_web::http::header::AUTHORIZATION)?;
    let text = header.to_str().ok()?;
    let (scheme, token) = text.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_string())
}

/// Resolves an API key (`shk_...`) or a staff session token (`sht_...`).
pub async fn authenticate(ctx: &AppContext, token: &str) -> Result<Caller, ApiError> {
    if token.starts_with(staff::TOKEN_PREFIX) {
        return staff::authenticate(ctx, token).await?.ok_or_else(|| {
            ApiError::unauthorized(
                "invalid_token",
                "This sign-in has expired or was signed out; sign in again.",
            )
        });
    }
    api_keys::authenticate(ctx, token).await?.ok_or_else(|| {
        ApiError::unauthorized("invalid_api_key", "This API key is unknown or revoked.")
    })
}

impl FromRequest for ApiCaller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let ctx = req.app_data::<web::Data<AppContext>>().cloned();
        let token = bearer_token(req);
        Box::pin(async move {
            let ctx = ctx.ok_or_else(|| anyhow::anyhow!("AppContext missing"))?;
            let token = token.ok_or_else(|| {
                ApiError::unauthorized(
                    "missing_api_key",
                    "Send your API key or staff token as `Authorization: Bearer <key>`.",
                )
            })?;
            authenticate(&ctx, &token).await.map(ApiCaller)
        })
    }
}

impl FromRequest for AdminCaller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let caller = ApiCaller::from_request(req, payload);
        Box::pin(async move {
            let ApiCaller(caller) = caller.await?;
            caller.require_admin()?;
            Ok(AdminCaller(caller))
        })
    }
}
