//! The OpenAPI document and its viewer.

use actix_web::{HttpResponse, get, web};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_swagger_ui::SwaggerUi;

use crate::error::{COMMON_ERROR_CODES, ErrorBody};
use crate::routes;

struct BearerKey;

impl Modify for BearerKey {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("Integration API key from `storehub api-key create`"))
                    .build(),
            ),
        );
        let common = COMMON_ERROR_CODES.join(", ");
        if let Some(description) = openapi.info.description.as_mut() {
            description.push_str(&format!(
                "\n\nErrors are `{{\"error\": code, \"message\": sentence}}`. Codes any endpoint may answer: {common}."
            ));
        }
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Storehub",
        description = "Reserve online, pick up in store: reservations, stock holds, store alerts and shopper tracking.",
    ),
    modifiers(&BearerKey),
    paths(
        routes::service::health, routes::service::ready, routes::service::metrics,
        routes::api_keys::list, routes::api_keys::create, routes::api_keys::revoke,
        routes::stores::list, routes::stores::create, routes::stores::get_one, routes::stores::replace,
        routes::stores::put_stock, routes::stores::get_stock, routes::stores::request_restock,
        routes::stores::get_settings, routes::stores::patch_settings,
        routes::settings::get_global, routes::settings::patch_global,
        routes::articles::list, routes::articles::get_one, routes::articles::replace,
        routes::articles::bulk_reservable, routes::articles::availability,
        routes::reservations::create, routes::reservations::search,
        routes::reservations::get_one, routes::reservations::slip, routes::reservations::cancel,
        routes::reservations::set_aside, routes::reservations::reject,
        routes::reservations::collect, routes::reservations::put_back,
        routes::board::get_board, routes::alert_lists::members,
        routes::alert_lists::mine, routes::alert_lists::subscribe, routes::alert_lists::unsubscribe,
        routes::realtime::websocket, routes::realtime::fan_out_load, routes::actions::confirm_page, routes::actions::act, routes::actions::slip,
        routes::devices::public_key, routes::devices::add_web_push, routes::devices::remove_web_push,
        routes::devices::add_fcm, routes::devices::remove_fcm, routes::devices::add_shopper_web_push, routes::devices::add_shopper_fcm,
        routes::notifications::for_reservation, routes::notifications::get_template,
        routes::notifications::put_template, routes::notifications::preview,
        routes::staff::login, routes::staff::logout, routes::staff::me, routes::staff::create,
        routes::tracking::tracking_json, routes::tracking::tracking_cancel,
        routes::tracking::tracking_page, routes::tracking::after_request_page, routes::tracking::terms_page, routes::tracking::validate_page, routes::tracking::validate_json,
    ),
    components(schemas(ErrorBody))
)]
pub struct ApiDoc;

#[get("/api/openapi.json")]
pub async fn document() -> HttpResponse {
    HttpResponse::Ok().json(ApiDoc::openapi())
}

/// `/api/docs` without the slash: the viewer lives at `/api/docs/`.
async fn docs_redirect() -> HttpResponse {
    HttpResponse::PermanentRedirect()
        .insert_header(("Location", "/api/docs/"))
        .finish()
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(document)
        .route("/api/docs", web::get().to(docs_redirect))
        .service(
            SwaggerUi::new("/api/docs/{_:.*}").url("/api/openapi-viewer.json", ApiDoc::openapi()),
        );
}
