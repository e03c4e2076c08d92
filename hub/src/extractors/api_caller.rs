//! `Authorization: Bearer <api key>` -> the integration calling.

use std::future::Future;
use std::pin::Pin;

use actix_web::{FromRequest, HttpRequest, dev::Payload, web};

use crate::context::AppContext;
use crate::error::ApiError;
use crate::services::{Caller, api_keys};

/// An authenticated integration (web shop, till).
pub struct ApiCaller(pub Caller);

fn bearer(req: &HttpRequest) -> Option<String> {
    let header = req.headers().get(actix_web::http::header::AUTHORIZATION)?;
    let text = header.to_str().ok()?;
    let (scheme, token) = text.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_string())
}

impl FromRequest for ApiCaller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let ctx = req.app_data::<web::Data<AppContext>>().cloned();
        let token = bearer(req);
        Box::pin(async move {
            let ctx = ctx.ok_or_else(|| anyhow::anyhow!("AppContext missing"))?;
            let token = token.ok_or_else(|| {
                ApiError::unauthorized(
                    "missing_api_key",
                    "Send your API key as `Authorization: Bearer <key>`.",
                )
            })?;
            api_keys::authenticate(&ctx, &token)
                .await?
                .map(ApiCaller)
                .ok_or_else(|| {
                    ApiError::unauthorized("invalid_api_key", "This API key is unknown or revoked.")
                })
        })
    }
}
