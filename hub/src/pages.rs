//! Small server-rendered pages for shoppers (tracking, validation, errors).
//! The editable templates and the full look come with the delivery and app
//! issues; these pages already say everything a shopper needs.

use actix_web::{HttpResponse, ResponseError, http::StatusCode};

use crate::error::ApiError;
use crate::services::tracking::{TrackingView, ValidationOutcome, ValidationResult};

/// Escapes text for HTML bodies and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

fn layout(language: &str, title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>{title}</title><style>body{{font-family:system-ui,sans-serif;max-width:36rem;margin:1rem auto;padding:0 1rem;line-height:1.5;color:#1a1a1a}}\
.state{{font-size:1.25rem;font-weight:600}}button{{font-size:1rem;padding:.75rem 1.25rem;min-height:44px}}</style></head>\
<body><main>{body}</main></body></html>",
        lang = escape(language),
        title = escape(title),
    )
}

/// A page in the shopper pages' look.
pub fn layout_page(language: &str, title: &str, body: &str) -> String {
    layout(language, title, body)
}

pub fn html(status: u16, page: String) -> HttpResponse {
    HttpResponse::build(StatusCode::from_u16(status).unwrap_or(StatusCode::OK))
        .content_type("text/html; charset=utf-8")
        .body(page)
}

pub fn error_page(err: &ApiError) -> HttpResponse {
    let page = layout(
        "en",
        "Storehub",
        &format!("<h1>Sorry</h1><p>{}</p>", escape(&err.to_string())),
    );
    html(err.status_code().as_u16(), page)
}

pub fn tracking(view: &TrackingView, token: &str) -> String {
    let fr = view.language == "fr";
    let t = |fr_text: &'static str, en_text: &'static str| if fr { fr_text } else { en_text };
    let lines: String = view
        .lines
        .iter()
        .map(|l| {
            format!(
                "<li>{} {} × {}</li>",
                escape(&l.designation),
                escape(l.variant.as_deref().unwrap_or("")),
                l.quantity
            )
        })
        .collect();
    let deadline = match (view.pickup_by, view.confirm_by) {
        (Some(pickup), _) => format!(
            "<p>{} {}</p>",
            t("À retirer avant le", "Collect before"),
            pickup.to_rfc3339()
        ),
        (None, Some(confirm)) => format!(
            "<p>{} {}</p>",
            t(
                "Le magasin vous répond avant le",
                "The store answers before"
            ),
            confirm.to_rfc3339()
        ),
        _ => String::new(),
    };
    let cancel = if view.can_cancel {
        format!(
            "<button id=\"cancel\" data-token=\"{}\">{}</button>\
<script>document.getElementById('cancel').onclick=async e=>{{if(!confirm('{}'))return;\
const r=await fetch('/api/v1/tracking/'+e.target.dataset.token+'/cancel',{{method:'POST'}});if(r.ok)location.reload();}};</script>",
            escape(token),
            t("Annuler ma réservation", "Cancel my reservation"),
            t("Annuler cette réservation ?", "Cancel this reservation?"),
        )
    } else {
        String::new()
    };
    let body = format!(
        "<h1>{} {}</h1><p class=\"state\" id=\"state\">{}</p><ul>{lines}</ul>{deadline}\
<h2>{}</h2><p>{}<br>{}</p>{cancel}",
        t("Réservation", "Reservation"),
        escape(&view.number),
        escape(&view.label),
        escape(&view.store.name),
        escape(&view.store.name),
        escape(&view.store.address),
    );
    layout(&view.language, &view.number, &body)
}

pub fn validated(result: &ValidationResult) -> String {
    let fr = result.language == "fr";
    let message = match (result.outcome, fr) {
        (ValidationOutcome::Validated, true) => "Merci ! Votre demande est transmise au magasin.",
        (ValidationOutcome::Validated, false) => {
            "Thank you! Your request is on its way to the store."
        }
        (ValidationOutcome::AlreadyValidated, true) => "Votre demande était déjà confirmée.",
        (ValidationOutcome::AlreadyValidated, false) => "Your request was already confirmed.",
    };
    let link = if fr {
        "Suivre ma réservation"
    } else {
        "Follow my reservation"
    };
    layout(
        &result.language,
        &result.number,
        &format!(
            "<h1>{}</h1><p>{message}</p><p><a href=\"{}\">{link}</a></p>",
            escape(&result.number),
            escape(&result.tracking_url)
        ),
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_markup() {
        assert_eq!(
            super::escape("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}
