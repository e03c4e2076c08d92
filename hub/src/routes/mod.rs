//! HTTP handlers: extract, call one service, map the answer.

pub mod api_keys;
pub mod articles;
pub mod openapi;
pub mod reservations;
pub mod service;
pub mod settings;
pub mod staff;
pub mod stores;
pub mod tracking;

use actix_web::web;

/// Mounts every route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.configure(service::configure)
        .configure(openapi::configure)
        .configure(tracking::configure_pages)
        .service(
            web::scope("/api/v1")
                .configure(api_keys::configure)
                .configure(staff::configure)
                .configure(stores::configure)
                .configure(articles::configure)
                .configure(settings::configure)
                .configure(reservations::configure)
                .configure(tracking::configure_api),
        );
}
