//! HTTP handlers: extract, call one service, map the answer.

pub mod actions;
pub mod alert_lists;
pub mod api_keys;
pub mod app;
pub mod articles;
pub mod board;
pub mod devices;
pub mod notifications;
pub mod openapi;
pub mod realtime;
pub mod reservations;
pub mod service;
pub mod settings;
pub mod staff;
pub mod stores;
pub mod tracking;

use actix_web::web;

/// Mounts every route.
///
/// The router tries routes in this order and runs a regex for each one with
/// a parameter: the API, and its busiest route (creates), go first.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/api/v1")
            .configure(reservations::configure)
            .configure(api_keys::configure)
            .configure(board::configure)
            .configure(devices::configure)
            .configure(notifications::configure)
            .configure(alert_lists::configure)
            .configure(staff::configure)
            .configure(stores::configure)
            .configure(articles::configure)
            .configure(settings::configure)
            .configure(tracking::configure_api)
            .configure(realtime::configure),
    )
    .configure(service::configure)
    .configure(openapi::configure)
    .configure(tracking::configure_pages)
    .configure(actions::configure)
    .configure(app::configure);
}
