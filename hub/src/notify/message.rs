//! What a queued message says: the template context of an email, the text
//! of a push. Built at delivery time from the reservation as it is then.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use mobile_bridge::{PushAction, PushMessage};
use serde_json::{Value, json};

use super::templates::{self, Rendered};
use crate::context::AppContext;
use crate::domain::reservation::State;
use crate::services::reservations::{Loaded, load};
use crate::store as db;

/// Content-ID of the QR code image in emails.
pub const QR_CID: &str = "qr-code";

/// The store email template of a team alert kind.
pub fn team_template(kind: &str) -> &'static str {
    match kind {
        "created" => "to_handle",
        "reminder" => "reminder",
        "overdue" => "overdue",
        "cancelled" => "shopper_cancelled",
        "expired" => "put_back",
        "auto_cancelled" => "auto_cancelled",
        _ => "to_handle",
    }
}

fn local(at: Option<DateTime<Utc>>, tz: Tz, lang: &str) -> String {
    at.map(|at| {
        let local = at.with_timezone(&tz);
        if lang == "fr" {
            local.format("%d/%m/%Y %H:%M").to_string()
        } else {
            local.format("%Y-%m-%d %H:%M").to_string()
        }
    })
    .unwrap_or_default()
}

async fn loaded_by_number(ctx: &AppContext, number: &str) -> Result<Loaded, String> {
    let conn = ctx.db.conn();
    let row = db::reservations::find_by_number(conn, number)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("reservation {number} no longer exists"))?;
    load(conn, row).await.map_err(|e| e.to_string())
}

/// The variables every template sees.
pub fn context(ctx: &AppContext, loaded: &Loaded, payload: &Value, lang: &str) -> Value {
    let r = &loaded.reservation;
    let tz: Tz = loaded
        .store
        .time_zone
        .parse()
        .unwrap_or(chrono_tz::Europe::Paris);
    let state = State::parse(&r.state).unwrap_or(State::Pending);
    json!({
        "shopper": {
            "first_name": loaded.customer.first_name,
            "last_name": loaded.customer.last_name.clone().unwrap_or_default(),
            "email": loaded.customer.email.clone().unwrap_or_default(),
        },
        "reservation": {
            "number": r.number,
            "state": r.state,
            "state_label": state.customer_label(lang),
            "reason": r.reason.clone().unwrap_or_default(),
            "lines": loaded.lines.iter().map(|l| json!({
                "sku": l.sku, "designation": l.designation,
                "variant": l.variant.clone().unwrap_or_default(),
                "ean": l.ean.clone().unwrap_or_default(), "quantity": l.quantity,
            })).collect::<Vec<_>>(),
            "created_at": local(Some(r.created_at), tz, lang),
            "validate_by": local(r.validate_by, tz, lang),
            "confirm_by": local(r.confirm_by, tz, lang),
            "pickup_by": local(r.pickup_by, tz, lang),
            "qr_image": format!("cid:{QR_CID}"),
        },
        "store": {
            "code": loaded.store.code, "name": loaded.store.name,
            "address": loaded.store.address, "email": loaded.store.email,
        },
        "links": links(ctx, loaded, payload),
        "alert": {
            "kind": payload["kind"].as_str().unwrap_or_default(),
            "count": r.reminders_sent,
        },
    })
}

/// Links of a message; quick actions only for the store's side, signed for
/// the recipient (0: the store's shared mailbox).
fn links(ctx: &AppContext, loaded: &Loaded, payload: &Value) -> Value {
    let r = &loaded.reservation;
    let for_team = payload["template"].is_null() && r.state == State::Pending.as_str();
    let staff_id = payload["staff_id"].as_i64().unwrap_or(0);
    let action = |name: &str| {
        if for_team {
            ctx.action_url(&r.number, name, staff_id)
        } else {
            String::new()
        }
    };
    json!({
        "tracking": ctx.tracking_url(&r.tracking_token),
        "validation": payload["validation_url"].as_str().unwrap_or_default(),
        "app": format!("{}/app/#/r/{}", ctx.public_url, r.number),
        "set_aside": action("set_aside"),
        "reject": action("reject"),
        "slip": if payload["template"].is_null() { ctx.slip_url(&r.number) } else { String::new() },
    })
}

/// The context of a restock email: no reservation, an article.
async fn restock_context(ctx: &AppContext, payload: &Value) -> Result<(Value, String), String> {
    let conn = ctx.db.conn();
    let store = db::stores::find_by_code(conn, payload["store"].as_str().unwrap_or_default())
        .await
        .map_err(|e| e.to_string())?
        .ok_or("store is gone")?;
    let article = db::articles::find_by_sku(conn, payload["sku"].as_str().unwrap_or_default())
        .await
        .map_err(|e| e.to_string())?
        .ok_or("article is gone")?;
    let lang = payload["language"].as_str().unwrap_or("fr").to_string();
    let mut context = templates::sample_context(&lang);
    context["shopper"] = json!({"first_name": "", "last_name": "", "email": payload["to"]});
    context["reservation"] = json!({"number": "", "state": "", "state_label": "", "reason": "", "lines": [],
        "created_at": "", "validate_by": "", "confirm_by": "", "pickup_by": "", "qr_image": ""});
    context["store"] = json!({"code": store.code, "name": store.name, "address": store.address, "email": store.email});
    context["links"] = json!({"tracking": "", "validation": "", "app": format!("{}/app/", ctx.public_url), "set_aside": "", "reject": "", "slip": ""});
    context["article"] = json!({"sku": article.sku, "designation": article.designation,
        "variant": article.variant.unwrap_or_default()});
    Ok((context, lang))
}

/// Renders the email a queued row asks for.
pub async fn render_email(ctx: &AppContext, payload: &Value) -> Result<Rendered, String> {
    if payload["template"] == "restock" {
        let (context, lang) = restock_context(ctx, payload).await?;
        let source = templates::current(ctx.db.conn(), "restock", &lang)
            .await
            .map_err(|e| e.to_string())?
            .ok_or("no restock template")?;
        return templates::render(&source, &context).map_err(|e| e.to_string());
    }
    let number = payload["number"].as_str().unwrap_or_default();
    let loaded = loaded_by_number(ctx, number).await?;
    let (name, lang) = match payload["template"].as_str() {
        Some(template) => (template.to_string(), loaded.customer.language.clone()),
        None => (
            team_template(payload["kind"].as_str().unwrap_or_default()).to_string(),
            "fr".to_string(),
        ),
    };
    let source = templates::current(ctx.db.conn(), &name, &lang)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("no template `{name}`"))?;
    templates::render(&source, &context(ctx, &loaded, payload, &lang)).map_err(|e| e.to_string())
}

/// The push a queued alert becomes. `id` lets a device drop a repeat.
pub async fn push_message(
    ctx: &AppContext,
    payload: &Value,
    id: &str,
) -> Result<PushMessage, String> {
    let number = payload["number"].as_str().unwrap_or_default();
    let loaded = loaded_by_number(ctx, number).await?;
    let first_name = loaded.customer.first_name.clone();
    let units: i64 = loaded.lines.iter().map(|l| l.quantity).sum();
    let mut data = serde_json::Map::new();
    data.insert("id".into(), id.into());
    data.insert("number".into(), number.into());
    data.insert("store".into(), loaded.store.code.clone().into());
    let shopper = payload["template"].as_str();
    let mut actions = Vec::new();
    let (title, body, urgent, url) = match shopper {
        Some(template) => {
            let lang = loaded.customer.language.as_str();
            let state = State::parse(&loaded.reservation.state).unwrap_or(State::Pending);
            data.insert("kind".into(), template.into());
            (
                format!(
                    "{} {number}",
                    if lang == "fr" {
                        "Réservation"
                    } else {
                        "Reservation"
                    }
                ),
                state.customer_label(lang).to_string(),
                false,
                ctx.tracking_url(&loaded.reservation.tracking_token),
            )
        }
        None => {
            let kind = payload["kind"].as_str().unwrap_or_default();
            data.insert("kind".into(), kind.into());
            let by = payload["by"].as_str().unwrap_or("quelqu'un");
            let handled = match kind {
                "set_aside" => Some(format!("Mise de côté par {by}")),
                "rejected" => Some(format!("Refusée par {by}")),
                "collected" => Some(format!("Remise au client par {by}")),
                "cancelled" => Some(format!("Annulée par {by}")),
                _ => None,
            };
            if let Some(done) = handled {
                return Ok(PushMessage {
                    title: format!("Traitée : {number}"),
                    body: done,
                    topic: Some(format!("res-{number}")),
                    urgent: false,
                    ttl_seconds: 4 * 3600,
                    url: Some(format!("{}/app/#/r/{number}", ctx.public_url)),
                    actions: Vec::new(),
                    data,
                });
            }
            let title = match kind {
                "created" => "Nouvelle réservation",
                "reminder" => "Rappel : réservation à traiter",
                "overdue" => "Réservation en retard",
                "cancelled" => "Annulée par le client",
                "expired" => "À remettre en rayon",
                "auto_cancelled" => "Annulée faute de stock",
                _ => "Storehub",
            };
            let needs_action = matches!(kind, "created" | "reminder" | "overdue")
                && loaded.reservation.state == State::Pending.as_str();
            if needs_action {
                let staff_id = payload["staff_id"].as_i64().unwrap_or(0);
                actions = vec![
                    PushAction {
                        action: "set_aside".into(),
                        title: "Mettre de côté".into(),
                        url: ctx.action_url(number, "set_aside", staff_id),
                    },
                    PushAction {
                        action: "reject".into(),
                        title: "Refuser".into(),
                        url: ctx.action_url(number, "reject", staff_id),
                    },
                ];
            }
            (
                format!("{title} {number}"),
                format!("{first_name}, {units} article(s), {}", loaded.store.name),
                needs_action,
                format!("{}/app/#/r/{number}", ctx.public_url),
            )
        }
    };
    Ok(PushMessage {
        title,
        body,
        // One live notification per reservation: a newer one replaces it.
        topic: Some(format!("res-{number}")),
        urgent,
        ttl_seconds: if urgent { 4 * 3600 } else { 24 * 3600 },
        url: Some(url),
        actions,
        data,
    })
}
