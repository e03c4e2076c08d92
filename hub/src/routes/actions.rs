//! `/a/{token}`: signed action links from emails and push buttons. GET shows
//! what the link will do; POST does it (JSON for the service worker when
//! asked, an HTML page otherwise).

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use serde::Deserialize;

use crate::context::AppContext;
use crate::error::ApiError;
use crate::pages::{self, escape};
use crate::services::handling;

#[derive(Debug, Default, Deserialize)]
pub struct ReasonForm {
    pub reason: Option<String>,
}

/// Confirmation page: nothing happens until the button is pressed.
#[utoipa::path(tag = "staff", params(("token" = String, Path)), responses(
    (status = 200, description = "HTML confirmation page", content_type = "text/html"),
    (status = 400, description = "invalid_link, link_expired")))]
#[get("/a/{token}")]
pub async fn confirm_page(ctx: web::Data<AppContext>, token: web::Path<String>) -> HttpResponse {
    match ctx.links.verify(&token, ctx.clock.now()) {
        Ok(claims) => {
            let (title, button, extra) = match claims.a.as_str() {
                "reject" => (
                    "Refuser la réservation",
                    "Refuser",
                    "<p><label>Motif <input name=\"reason\" required></label></p>",
                ),
                _ => ("Mettre de côté", "Mettre de côté", ""),
            };
            let body = format!(
                "<h1>{title} {number}</h1><form method=\"post\">{extra}<button type=\"submit\">{button}</button></form>",
                number = escape(&claims.r)
            );
            pages::html(200, pages::layout_page("fr", title, &body))
        }
        Err(err) => pages::html(
            400,
            pages::layout_page(
                "fr",
                "Storehub",
                &format!("<p>{}</p>", escape(&err.to_string())),
            ),
        ),
    }
}

/// Performs the action once.
#[utoipa::path(tag = "staff", params(("token" = String, Path)), responses(
    (status = 200, description = "Done (JSON with Accept: application/json, else HTML)"),
    (status = 409, description = "link_already_used, reservation_already_handled")))]
#[post("/a/{token}")]
pub async fn act(
    ctx: web::Data<AppContext>,
    req: HttpRequest,
    token: web::Path<String>,
    body: String,
) -> Result<HttpResponse, ApiError> {
    // `reason=...` from the page's form; the service worker sends nothing.
    let form = web::Query::<ReasonForm>::from_query(&body)
        .map(web::Query::into_inner)
        .unwrap_or_default();
    let wants_json = req
        .headers()
        .get("accept")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json"));
    let result = handling::act_by_link(&ctx, &token, form.reason).await;
    if wants_json {
        return result.map(|view| HttpResponse::Ok().json(view));
    }
    Ok(match result {
        Ok(view) => pages::html(
            200,
            pages::layout_page(
                "fr",
                &view.number,
                &format!(
                    "<h1>{}</h1><p>Fait : {}.</p>",
                    escape(&view.number),
                    escape(view.state.as_str())
                ),
            ),
        ),
        Err(err) => pages::error_page(&err),
    })
}

/// The printable preparation slip of a reservation (signed link from the
/// "to handle" email; works until the link expires, any number of times).
#[utoipa::path(tag = "staff", params(("token" = String, Path)), responses(
    (status = 200, description = "Print-styled HTML page", content_type = "text/html"),
    (status = 400, description = "invalid_link, link_expired")))]
#[get("/slip/{token}")]
pub async fn slip(ctx: web::Data<AppContext>, token: web::Path<String>) -> HttpResponse {
    let claims = match ctx.links.verify(&token, ctx.clock.now()) {
        Ok(claims) if claims.a == "slip" => claims,
        Ok(_) => {
            return pages::error_page(&ApiError::invalid(
                "invalid_link",
                "This is not a slip link.",
            ));
        }
        Err(err) => {
            return pages::html(
                400,
                pages::layout_page(
                    "fr",
                    "Storehub",
                    &format!("<p>{}</p>", escape(&err.to_string())),
                ),
            );
        }
    };
    match crate::services::board::slip(&ctx, None, &claims.r).await {
        Ok(page) => pages::html(200, page),
        Err(err) => pages::error_page(&err),
    }
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(confirm_page).service(act).service(slip);
}
