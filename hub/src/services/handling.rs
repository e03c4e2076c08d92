//! What the store team does with a reservation: set it aside, reject it,
//! hand it over, put articles back. Each action is one transaction; the
//! first of two concurrent actions wins and the other gets a 409 naming who
//! handled it and when.

use std::collections::BTreeMap;

use schema::entities::{reservation, reservation_event};
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

use super::reservations::{
    ChangeDetails, CustomerInput, Ending, LineInput, ReservationView, apply, load, view,
};
use super::{Caller, opening_hours_of, retrying_lock_conflicts};
use crate::context::AppContext;
use crate::db::WriteTx;
use crate::domain::reservation::{Action, State};
use crate::error::ApiError;
use crate::store as db;

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RejectBody {
    /// Why, in words the shopper will read (e.g. "damaged, last one").
    pub reason: String,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CollectBody {
    /// The order or sale the reservation is transferred to.
    #[serde(default)]
    pub order_ref: Option<String>,
    /// The real customer, replacing an anonymous default.
    #[serde(default)]
    pub customer: Option<CustomerInput>,
    /// EANs scanned at the counter: must match the reserved articles exactly.
    #[serde(default)]
    pub scanned: Option<Vec<String>>,
    /// Articles added to the sale at hand-over (taken from the shelf).
    #[serde(default)]
    pub add_lines: Vec<LineInput>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PutBackBody {
    /// Units put back per SKU; lines left out put back nothing.
    pub lines: Vec<LineInput>,
}

/// Opens the write transaction and finds the reservation the caller may touch.
async fn begin(
    ctx: &AppContext,
    caller: &Caller,
    number: &str,
) -> Result<(WriteTx, reservation::Model), ApiError> {
    let tx = ctx.db.write().await?;
    let current = super::reservations::find_typed_or_scanned(&*tx, number).await?;
    let store = db::stores::find_by_id(&*tx, current.store_id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("store of {} is gone", current.number))?;
    caller.require_store(store.id, &store.code)?;
    Ok((tx, current))
}

/// Commits, tells the live side, and answers with the new view.
async fn finish(
    ctx: &AppContext,
    tx: WriteTx,
    reservation_id: i64,
    events: Vec<reservation_event::Model>,
) -> Result<ReservationView, ApiError> {
    let latest = db::reservations::find_by_id(&*tx, reservation_id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("reservation {reservation_id} vanished"))?;
    let loaded = load(&*tx, latest).await?;
    tx.commit().await?;
    let after = super::reservations::after_commit(&loaded, ctx.clock.now());
    ctx.publish_with_row(events, after);
    view(ctx, &loaded)
}

pub async fn set_aside(
    ctx: &AppContext,
    caller: &Caller,
    number: &str,
) -> Result<ReservationView, ApiError> {
    let (tx, current) = begin(ctx, caller, number).await?;
    let now = ctx.clock.now();
    let store = db::stores::find_by_id(&*tx, current.store_id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("store gone"))?;
    let settings = super::settings::effective(&*tx, Some(store.id)).await?;
    let pickup_by = opening_hours_of(&store)?.pickup_deadline(now, settings.hold_days);
    let change = Ending {
        action: Action::SetAside,
        actor: caller.event_actor(),
        reason: None,
        data: json!({ "pickup_by": pickup_by }),
    };
    let reminder_hours = i64::from(settings.pickup_reminder_hours);
    let pickup_reminder_at = (reminder_hours > 0)
        .then(|| pickup_by - chrono::Duration::hours(reminder_hours))
        .filter(|at| *at > now);
    let details = ChangeDetails {
        pickup_by: Some(pickup_by),
        pickup_reminder_at,
        ..ChangeDetails::default()
    };
    let event = apply(ctx, &*tx, &current, change, details, now).await?;
    finish(ctx, tx, current.id, vec![event]).await
}

pub async fn reject(
    ctx: &AppContext,
    caller: &Caller,
    number: &str,
    body: RejectBody,
) -> Result<ReservationView, ApiError> {
    let reason = body.reason.trim().to_string();
    if reason.is_empty() || reason.len() > 500 {
        return Err(ApiError::invalid(
            "missing_reason",
            "Say why the reservation is rejected (1 to 500 characters); the shopper reads it.",
        ));
    }
    let (tx, current) = begin(ctx, caller, number).await?;
    let change = Ending {
        action: Action::Reject,
        actor: caller.event_actor(),
        reason: Some(reason.clone()),
        data: json!({ "reason": reason }),
    };
    let event = apply(
        ctx,
        &*tx,
        &current,
        change,
        ChangeDetails::default(),
        ctx.clock.now(),
    )
    .await?;
    finish(ctx, tx, current.id, vec![event]).await
}

/// Counts EANs: what the reservation expects against what was scanned.
fn scan_mismatch(expected: &BTreeMap<String, i64>, scanned: &[String]) -> Option<String> {
    let mut seen: BTreeMap<String, i64> = BTreeMap::new();
    for ean in scanned {
        *seen.entry(ean.trim().to_string()).or_default() += 1;
    }
    if &seen == expected {
        return None;
    }
    let mut problems = Vec::new();
    for (ean, want) in expected {
        let got = seen.get(ean).copied().unwrap_or(0);
        if got != *want {
            problems.push(format!("{ean}: expected {want}, scanned {got}"));
        }
    }
    for (ean, got) in &seen {
        if !expected.contains_key(ean) {
            problems.push(format!("{ean}: not in this reservation (scanned {got})"));
        }
    }
    Some(problems.join("; "))
}

pub async fn collect(
    ctx: &AppContext,
    caller: &Caller,
    number: &str,
    body: CollectBody,
) -> Result<ReservationView, ApiError> {
    let order_ref = body
        .order_ref
        .map(|r| r.trim().to_string())
        .filter(|r| !r.is_empty());
    let (tx, current) = begin(ctx, caller, number).await?;
    let now = ctx.clock.now();
    let lines = db::reservations::lines(&*tx, current.id).await?;
    if let Some(scanned) = &body.scanned {
        let mut expected: BTreeMap<String, i64> = BTreeMap::new();
        for line in &lines {
            let ean = line.ean.clone().unwrap_or_else(|| line.sku.clone());
            *expected.entry(ean).or_default() += line.quantity;
        }
        if let Some(problems) = scan_mismatch(&expected, scanned) {
            return Err(ApiError::refused(
                "scan_mismatch",
                format!("The scanned articles do not match the reservation: {problems}."),
            ));
        }
    }
    let customer_id = match &body.customer {
        Some(input) => Some(
            super::reservations::customer_for(&*tx, input, now)
                .await?
                .id,
        ),
        None => None,
    };
    let mut articles = Vec::with_capacity(body.add_lines.len());
    for line in &body.add_lines {
        if line.quantity < 1 {
            return Err(ApiError::invalid(
                "invalid_quantity",
                format!("Quantity of `{}` must be at least 1.", line.sku),
            ));
        }
        let article = db::articles::find_by_sku(&*tx, &line.sku)
            .await?
            .ok_or_else(|| super::catalogue::unknown_sku(&line.sku))?;
        articles.push(article);
    }
    if !articles.is_empty() {
        // Several articles change here: take their rows in the one order.
        let stock: Vec<(i64, i64)> = articles
            .iter()
            .map(|article| (current.store_id, article.id))
            .collect();
        db::reservations::lock_in_order(&*tx, &[current.id], &stock, &[current.store_id]).await?;
    }
    let mut added = Vec::new();
    for (line, article) in body.add_lines.iter().zip(&articles) {
        // Taken from the shelf and sold: it leaves the free stock.
        if !db::stock::try_hold(&*tx, current.store_id, article.id, line.quantity, now).await? {
            let level = db::stock::level(&*tx, current.store_id, article.id).await?;
            return Err(ApiError::refused(
                "out_of_stock",
                format!(
                    "Only {} of `{}` available to add.",
                    level.available().max(0),
                    line.sku
                ),
            ));
        }
        db::stock::release(
            &*tx,
            current.store_id,
            article.id,
            line.quantity,
            line.quantity,
            now,
        )
        .await?;
        added.push(json!({ "sku": line.sku, "quantity": line.quantity }));
    }
    let change = Ending {
        action: Action::Collect,
        actor: caller.event_actor(),
        reason: None,
        data: json!({ "order_ref": order_ref, "added": added, "scanned": body.scanned.is_some() }),
    };
    let details = ChangeDetails {
        order_ref,
        customer_id,
        ..ChangeDetails::default()
    };
    let event = apply(ctx, &*tx, &current, change, details, now).await?;
    finish(ctx, tx, current.id, vec![event]).await
}

/// Records what went back on the shelf after a set-aside reservation ended
/// uncollected. Units not put back leave the stock (lost or damaged).
pub async fn put_back(
    ctx: &AppContext,
    caller: &Caller,
    number: &str,
    body: PutBackBody,
) -> Result<ReservationView, ApiError> {
    let (tx, current) = begin(ctx, caller, number).await?;
    let now = ctx.clock.now();
    let state = State::parse(&current.state).unwrap_or(State::Pending);
    if state.is_open() || !current.was_set_aside || state == State::Collected {
        return Err(ApiError::conflict(
            "nothing_to_put_back",
            format!(
                "Reservation {} has nothing to put back: it is {} and {} set aside.",
                current.number,
                current.state,
                if current.was_set_aside {
                    "was"
                } else {
                    "was never"
                }
            ),
        ));
    }
    if current.reintegration.is_some() {
        return Err(ApiError::conflict(
            "already_put_back",
            format!(
                "Reservation {} was already put back ({}) by {}.",
                current.number,
                current.reintegration.as_deref().unwrap_or(""),
                current.handled_by.as_deref().unwrap_or("someone")
            ),
        ));
    }
    let lines = db::reservations::lines(&*tx, current.id).await?;
    for input in &body.lines {
        if !lines.iter().any(|l| l.sku == input.sku) {
            return Err(ApiError::invalid(
                "unknown_line",
                format!(
                    "`{}` is not a line of reservation {}.",
                    input.sku, current.number
                ),
            ));
        }
    }
    let (mut total, mut returned) = (0, 0);
    let mut detail = Vec::new();
    for line in &lines {
        let quantity: i64 = body
            .lines
            .iter()
            .filter(|i| i.sku == line.sku)
            .map(|i| i.quantity)
            .sum();
        if quantity < 0 || quantity > line.quantity {
            return Err(ApiError::invalid(
                "invalid_quantity",
                format!(
                    "Between 0 and {} of `{}` can be put back.",
                    line.quantity, line.sku
                ),
            ));
        }
        db::reservations::set_put_back(&*tx, line.id, quantity).await?;
        let missing = line.quantity - quantity;
        if missing > 0 {
            db::stock::remove_units(&*tx, current.store_id, line.article_id, missing, now).await?;
        }
        total += line.quantity;
        returned += quantity;
        detail.push(json!({ "sku": line.sku, "put_back": quantity, "of": line.quantity }));
    }
    let reintegration = match returned {
        0 => "none",
        r if r == total => "total",
        _ => "partial",
    };
    let actor = caller.event_actor();
    if !db::reservations::mark_put_back(&*tx, current.id, reintegration, actor.name.as_deref(), now)
        .await?
    {
        return Err(ApiError::conflict(
            "already_put_back",
            format!("Reservation {} was put back meanwhile.", current.number),
        ));
    }
    let event = db::events::append(
        &*tx,
        current.store_id,
        current.id,
        "put_back",
        &actor,
        now,
        json!({ "reintegration": reintegration, "lines": detail }),
    )
    .await?;
    finish(ctx, tx, current.id, vec![event]).await
}

/// Acts through a signed link from an email or a push button.
pub async fn act_by_link(
    ctx: &AppContext,
    token: &str,
    reason: Option<String>,
) -> Result<ReservationView, ApiError> {
    use crate::notify::links::{LinkError, used_key};
    let now = ctx.clock.now();
    let claims = ctx.links.verify(token, now).map_err(|err| match err {
        LinkError::Expired => ApiError::invalid(
            "link_expired",
            "This link has expired; open the reservation in the app.",
        ),
        LinkError::Invalid => ApiError::invalid(
            "invalid_link",
            "This link is damaged or was not made by this hub.",
        ),
    })?;
    let conn = ctx.db.conn();
    let reservation = super::reservations::find_typed_or_scanned(conn, &claims.r).await?;
    let caller = if claims.s == 0 {
        // The store's shared mailbox: acts for that store only.
        Caller::Staff(super::StaffIdentity {
            id: 0,
            name: "store mailbox link".into(),
            role: super::staff::Role::Staff,
            store_ids: vec![reservation.store_id],
        })
    } else {
        match super::staff::identity(ctx, claims.s).await? {
            Some(identity) => Caller::Staff(identity),
            None => {
                return Err(ApiError::Forbidden {
                    code: "staff_inactive",
                    message: "The account this link was sent to no longer works.".into(),
                });
            }
        }
    };
    {
        let tx = ctx.db.write().await?;
        if !db::links::mark_used(&*tx, &used_key(token), now).await? {
            return Err(ApiError::conflict(
                "link_already_used",
                "This link was already used.",
            ));
        }
        tx.commit().await?;
    }
    // The link is spent: run the action again here, not the whole request.
    let number = &reservation.number;
    match claims.a.as_str() {
        "set_aside" => retrying_lock_conflicts(|| set_aside(ctx, &caller, number)).await,
        "reject" => {
            let reason = reason
                .filter(|r| !r.trim().is_empty())
                .unwrap_or_else(|| "not available in store".into());
            let body = RejectBody { reason };
            retrying_lock_conflicts(|| reject(ctx, &caller, number, body.clone())).await
        }
        other => Err(ApiError::invalid(
            "invalid_link",
            format!("Unknown action `{other}`."),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scans_must_match_exactly() {
        let expected: BTreeMap<String, i64> =
            [("111".to_string(), 2), ("222".to_string(), 1)].into();
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(scan_mismatch(&expected, &s(&["111", "222", "111"])), None);
        let missing = scan_mismatch(&expected, &s(&["111", "222"])).unwrap();
        assert!(missing.contains("111: expected 2, scanned 1"));
        let extra = scan_mismatch(&expected, &s(&["111", "111", "222", "333"])).unwrap();
        assert!(extra.contains("333: not in this reservation"));
    }
}
