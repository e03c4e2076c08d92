//! Server-rendered pages for shoppers (tracking, validation, errors), in the
//! staff app's look; they work without JavaScript, which only adds the cancel
//! dialog and the push opt-in.

use actix_web::{HttpResponse, ResponseError, http::StatusCode};
use chrono::{DateTime, Datelike, Utc};
use chrono_tz::Tz;

use crate::domain::reservation::State;
use crate::error::ApiError;
use crate::services::tracking::TrackingView;

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
    app_look(
        language,
        title,
        &format!("<header><h1>Storehub</h1></header><main class=\"page\">{body}</main>"),
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

/// A date and time in the store's zone, as a shopper reads it.
fn local_time(at: DateTime<Utc>, time_zone: &str, fr: bool) -> String {
    const FR_DAYS: [&str; 7] = [
        "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche",
    ];
    let zone: Tz = time_zone.parse().unwrap_or(chrono_tz::UTC);
    let local = at.with_timezone(&zone);
    if fr {
        let day = FR_DAYS[local.weekday().num_days_from_monday() as usize];
        format!(
            "{day} {} à {}",
            local.format("%d/%m/%Y"),
            local.format("%H:%M")
        )
    } else {
        local.format("%A %d %B %Y, %H:%M").to_string()
    }
}

/// What each step of the timeline means to a shopper; staff-side steps
/// (reminders, put back) are not listed.
fn timeline_label(kind: &str, fr: bool) -> Option<&'static str> {
    Some(match (kind, fr) {
        ("requested", true) => "Demande envoyée",
        ("requested", false) => "Request sent",
        ("validated" | "created", true) => "Transmise au magasin",
        ("validated" | "created", false) => "Sent to the store",
        ("set_aside", true) => "Mise de côté : prête à retirer",
        ("set_aside", false) => "Set aside: ready to collect",
        ("pickup_reminder", true) => "Rappel : à retirer bientôt",
        ("pickup_reminder", false) => "Reminder: collect soon",
        ("collected", true) => "Retirée",
        ("collected", false) => "Collected",
        ("rejected", true) => "Refusée par le magasin",
        ("rejected", false) => "Declined by the store",
        ("cancelled", true) => "Annulée",
        ("cancelled", false) => "Cancelled",
        ("expired", true) => "Expirée : pas retirée à temps",
        ("expired", false) => "Expired: not collected in time",
        ("auto_cancelled", true) => "Annulée : article plus disponible",
        ("auto_cancelled", false) => "Cancelled: article no longer available",
        _ => return None,
    })
}

fn opening_hours_list(view: &TrackingView, fr: bool) -> String {
    const DAYS: [(&str, &str, &str); 7] = [
        ("mon", "Lundi", "Monday"),
        ("tue", "Mardi", "Tuesday"),
        ("wed", "Mercredi", "Wednesday"),
        ("thu", "Jeudi", "Thursday"),
        ("fri", "Vendredi", "Friday"),
        ("sat", "Samedi", "Saturday"),
        ("sun", "Dimanche", "Sunday"),
    ];
    let Some(weekly) = &view.store.opening_hours else {
        return String::new();
    };
    let rows: String = DAYS
        .iter()
        .map(|(key, fr_day, en_day)| {
            let spans = weekly.get(*key).filter(|spans| !spans.is_empty());
            let hours = match spans {
                Some(spans) => spans
                    .iter()
                    .map(|[from, to]| format!("{}–{}", escape(from), escape(to)))
                    .collect::<Vec<_>>()
                    .join(", "),
                None => (if fr { "fermé" } else { "closed" }).to_string(),
            };
            format!(
                "<tr><th scope=\"row\">{}</th><td>{hours}</td></tr>",
                if fr { fr_day } else { en_day }
            )
        })
        .collect();
    format!("<table class=\"hours\">{rows}</table>")
}

/// The shopper's tracking page, in the staff app's look: state, QR code of
/// the number for the till, deadline, timeline, store, cancel and push opt-in.
pub fn tracking(view: &TrackingView, token: &str) -> String {
    let fr = view.language.starts_with("fr");
    let t = |fr_text: &'static str, en_text: &'static str| if fr { fr_text } else { en_text };
    let zone = view.store.time_zone.as_str();
    let lines: String = view
        .lines
        .iter()
        .map(|l| {
            let variant = l
                .variant
                .as_deref()
                .map(|v| format!(" ({})", escape(v)))
                .unwrap_or_default();
            format!(
                "<li>{} × {}{variant}</li>",
                l.quantity,
                escape(&l.designation)
            )
        })
        .collect();
    let live = matches!(
        view.state,
        State::Pending | State::SetAside | State::AwaitingValidation
    );
    let deadline = match (
        view.state,
        view.pickup_by,
        view.confirm_by,
        view.validate_by,
    ) {
        (State::SetAside, Some(pickup), _, _) => {
            Some((t("À retirer avant le", "Collect before"), pickup))
        }
        (State::Pending, _, Some(confirm), _) => Some((
            t(
                "Le magasin vous répond avant le",
                "The store answers before",
            ),
            confirm,
        )),
        (State::AwaitingValidation, _, _, Some(validate)) => Some((
            t(
                "Confirmez votre demande avant le",
                "Confirm your request before",
            ),
            validate,
        )),
        _ => None,
    }
    .map(|(text, at)| {
        format!(
            "<p class=\"deadline\" id=\"deadline\">{text} {}</p>",
            local_time(at, zone, fr)
        )
    })
    .unwrap_or_default();
    let qr = if live {
        let label = format!(
            "{} {}",
            t("QR code du numéro", "QR code of number"),
            view.number
        );
        crate::notify::qr::svg(&view.number, &escape(&label))
            .map(|svg| {
                format!(
                    "<figure class=\"qr\">{svg}<figcaption>{}</figcaption></figure>",
                    t("À présenter en caisse", "Show this at the till")
                )
            })
            .unwrap_or_default()
    } else {
        String::new()
    };
    let timeline: String = view
        .timeline
        .iter()
        .filter_map(|step| {
            let label = timeline_label(&step.kind, fr)?;
            Some(format!(
                "<li><time datetime=\"{}\">{}</time> {label}</li>",
                step.at.to_rfc3339(),
                local_time(step.at, zone, fr)
            ))
        })
        .collect();
    let cancel = if view.can_cancel {
        format!(
            "<button id=\"cancel\" class=\"danger\" type=\"button\">{}</button>\
<dialog id=\"cancel-dialog\" aria-labelledby=\"cancel-question\"><form method=\"dialog\">\
<p id=\"cancel-question\">{}</p><div class=\"actions\">\
<button value=\"keep\" class=\"secondary\">{}</button><button value=\"cancel\" class=\"danger\" id=\"cancel-confirm\">{}</button></div></form></dialog>",
            t("Annuler ma réservation", "Cancel my reservation"),
            t(
                "Annuler cette réservation ? L'article sera remis en vente.",
                "Cancel this reservation? The article goes back on sale."
            ),
            t("Garder", "Keep it"),
            t("Oui, annuler", "Yes, cancel"),
        )
    } else {
        String::new()
    };
    let push = if live {
        format!(
            "<button id=\"push-optin\" class=\"secondary\" type=\"button\" hidden>{}</button>",
            t("Me prévenir sur ce téléphone", "Notify me on this phone")
        )
    } else {
        String::new()
    };
    let body = format!(
        "<header><h1>{store}</h1></header><main class=\"tracking\" data-token=\"{token}\" data-lang=\"{lang}\">\
<h2>{reservation} {number}</h2><p class=\"state\" id=\"state\" data-state=\"{state}\">{label}</p>\
{qr}<ul class=\"lines\">{lines}</ul>{deadline}<div class=\"actions\">{push}{cancel}</div>\
<p id=\"message\" class=\"message\" role=\"status\" aria-live=\"polite\"></p>\
<h3>{follow}</h3><ol class=\"timeline\">{timeline}</ol>\
<h3>{where_}</h3><p>{store}<br>{address}</p>{hours}</main>\
<script type=\"module\" src=\"/app/track.js\"></script>",
        store = escape(&view.store.name),
        token = escape(token),
        lang = escape(&view.language),
        reservation = t("Réservation", "Reservation"),
        number = escape(&view.number),
        state = view.state.as_str(),
        label = escape(&view.label),
        follow = t("Suivi", "Progress"),
        where_ = t("Où la retirer", "Where to collect it"),
        address = escape(&view.store.address),
        hours = opening_hours_list(view, fr),
    );
    app_look(
        &view.language,
        &format!("{} {}", t("Réservation", "Reservation"), view.number),
        &body,
    )
}

/// A page with the staff app's stylesheet; `body` brings its own header.
fn app_look(language: &str, title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><meta name=\"theme-color\" content=\"#1d4ed8\">\
<title>{title}</title><link rel=\"stylesheet\" href=\"/app/app.css\"></head><body>{body}</body></html>",
        lang = escape(language),
        title = escape(title),
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
