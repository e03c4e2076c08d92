//! `/app/`: the installable staff web app (files embedded from
//! `mobile-bridge/webapp/`).

use actix_web::{HttpResponse, get, web};

/// `/app` without the slash: relative links need `/app/`.
#[get("/app")]
pub async fn app_redirect() -> HttpResponse {
    HttpResponse::PermanentRedirect()
        .insert_header(("Location", "/app/"))
        .finish()
}

#[get("/app/{path:.*}")]
pub async fn app_file(path: web::Path<String>) -> HttpResponse {
    match mobile_bridge::webapp::file(&path) {
        Some((body, media)) => HttpResponse::Ok()
            .content_type(media)
            // The service worker must be revalidated to update the app.
            .insert_header(("Cache-Control", "no-cache"))
            // Shoppers' tracking pages register it for `/t/` too.
            .insert_header(("Service-Worker-Allowed", "/"))
            .body(body.into_owned()),
        None => HttpResponse::NotFound()
            .content_type("text/plain; charset=utf-8")
            .body("Not part of the staff app."),
    }
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(app_redirect).service(app_file);
}
