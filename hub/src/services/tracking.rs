//! The shopper's side: the validation link, the tracking view and
//! cancelling with the tracking token.

use chrono::{DateTime, Utc};
use schema::entities::reservation;
use sea_orm::ActiveValue::Set;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use super::catalogue::{StoreBody, store_view};
use super::opening_hours_of;
use super::reservations::{Ending, end, load};
use crate::context::AppContext;
use crate::domain::reservation::{Action, State, transition};
use crate::error::ApiError;
use crate::notify::{self, Outgoing};
use crate::store::{self as db, events::EventActor};

fn unknown_token() -> ApiError {
    ApiError::not_found(
        "unknown_tracking_token",
        "This tracking link is not valid. Check the link in your email.",
    )
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TimelineEntry {
    pub kind: String,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TrackedLine {
    pub designation: String,
    pub variant: Option<String>,
    pub quantity: i64,
}

/// What a shopper sees of their reservation.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TrackingView {
    pub number: String,
    pub state: State,
    /// Customer-visible label of the state, in the shopper's language.
    pub label: String,
    pub language: String,
    pub first_name: String,
    pub lines: Vec<TrackedLine>,
    pub timeline: Vec<TimelineEntry>,
    pub created_at: DateTime<Utc>,
    pub validate_by: Option<DateTime<Utc>>,
    pub confirm_by: Option<DateTime<Utc>>,
    pub pickup_by: Option<DateTime<Utc>>,
    pub store: StoreBody,
    /// Whether the shopper may still cancel.
    pub can_cancel: bool,
}

async fn find(ctx: &AppContext, token: &str) -> Result<reservation::Model, ApiError> {
    db::reservations::find_by_tracking_token(ctx.db.conn(), token)
        .await?
        .ok_or_else(unknown_token)
}

pub async fn view(ctx: &AppContext, token: &str) -> Result<TrackingView, ApiError> {
    let reservation = find(ctx, token).await?;
    let loaded = load(ctx.db.conn(), reservation).await?;
    let r = &loaded.reservation;
    let state = State::parse(&r.state)
        .ok_or_else(|| anyhow::anyhow!("reservation {} has unknown state", r.number))?;
    let mut store = store_view(&loaded.store);
    // The shopper needs the address and hours, not the team's mailbox.
    store.email = String::new();
    Ok(TrackingView {
        number: r.number.clone(),
        state,
        label: state.customer_label(&loaded.customer.language).to_string(),
        language: loaded.customer.language.clone(),
        first_name: loaded.customer.first_name.clone(),
        lines: loaded
            .lines
            .iter()
            .map(|l| TrackedLine {
                designation: l.designation.clone(),
                variant: l.variant.clone(),
                quantity: l.quantity,
            })
            .collect(),
        timeline: loaded
            .events
            .iter()
            .map(|e| TimelineEntry {
                kind: e.kind.clone(),
                at: e.at,
            })
            .collect(),
        created_at: r.created_at,
        validate_by: r.validate_by.filter(|_| state == State::AwaitingValidation),
        confirm_by: r.confirm_by,
        pickup_by: r.pickup_by,
        store,
        can_cancel: transition(state, Action::Cancel).is_ok(),
    })
}

/// The shopper cancels their own reservation.
pub async fn cancel(ctx: &AppContext, token: &str) -> Result<TrackingView, ApiError> {
    let now = ctx.clock.now();
    let tx = ctx.db.write().await?;
    let current = db::reservations::find_by_tracking_token(&*tx, token)
        .await?
        .ok_or_else(unknown_token)?;
    let ending = Ending {
        action: Action::Cancel,
        actor: EventActor::shopper(),
        reason: Some("cancelled_by_shopper".into()),
        data: json!({ "reason": "cancelled_by_shopper" }),
    };
    let event = end(ctx, &*tx, &current, ending, now).await?;
    tx.commit().await?;
    ctx.publish(vec![event]);
    view(ctx, token).await
}

/// What clicking the validation link did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ValidationOutcome {
    /// The request now goes to the store.
    Validated,
    /// It had been validated before; nothing changed.
    AlreadyValidated,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ValidationResult {
    pub outcome: ValidationOutcome,
    pub number: String,
    pub tracking_url: String,
    pub language: String,
}

/// Confirms an anonymous shopper's email: the request reaches the store and
/// its confirmation deadline starts now.
pub async fn validate(ctx: &AppContext, token: &str) -> Result<ValidationResult, ApiError> {
    let now = ctx.clock.now();
    let tx = ctx.db.write().await?;
    let current = db::reservations::find_by_validation_token(&*tx, token)
        .await?
        .ok_or_else(|| {
            ApiError::not_found(
                "unknown_validation_token",
                "This validation link is not valid. Check the link in your email.",
            )
        })?;
    let customer = db::customers::find_by_id(&*tx, current.customer_id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("customer of {} is gone", current.number))?;
    let result = |outcome| ValidationResult {
        outcome,
        number: current.number.clone(),
        tracking_url: ctx.tracking_url(&current.tracking_token),
        language: customer.language.clone(),
    };
    let state = State::parse(&current.state)
        .ok_or_else(|| anyhow::anyhow!("reservation {} has unknown state", current.number))?;
    if current.validated_at.is_some() {
        return Ok(result(ValidationOutcome::AlreadyValidated));
    }
    let link_expired = current.validate_by.is_some_and(|until| until <= now);
    if state != State::AwaitingValidation || link_expired {
        return Err(ApiError::conflict(
            "validation_link_expired",
            format!(
                "Reservation request {} can no longer be confirmed: it is {}. Please reserve again.",
                current.number,
                if link_expired && state == State::AwaitingValidation {
                    "expired"
                } else {
                    state.as_str()
                }
            ),
        ));
    }
    let store = db::stores::find_by_id(&*tx, current.store_id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("store of {} is gone", current.number))?;
    let settings = super::settings::effective(&*tx, Some(store.id)).await?;
    let hours = opening_hours_of(&store)?;
    let confirm_by = hours.add_open_minutes(now, settings.confirm_within_minutes);
    let remind_at = hours.add_open_minutes(now, settings.reminder_every_minutes);
    let to = transition(state, Action::Validate).map_err(|e| anyhow::anyhow!("{e}"))?;
    let update = reservation::ActiveModel {
        state: Set(to.as_str().to_string()),
        validated_at: Set(Some(now)),
        confirm_by: Set(Some(confirm_by)),
        next_reminder_at: Set(Some(remind_at)),
        updated_at: Set(now),
        ..Default::default()
    };
    if !db::reservations::transition(&*tx, current.id, state, update).await? {
        return Err(ApiError::conflict(
            "validation_link_expired",
            format!(
                "Reservation request {} changed meanwhile; open your tracking link.",
                current.number
            ),
        ));
    }
    let event = db::events::append(
        &*tx,
        store.id,
        current.id,
        "created",
        &EventActor::shopper(),
        now,
        json!({ "validated": true }),
    )
    .await?;
    let updated = reservation::Model {
        state: to.as_str().to_string(),
        ..current.clone()
    };
    let outgoing = Outgoing::tracking(ctx, &current, &settings, now);
    notify::enqueue_for_event(
        &*tx,
        &mut notify::Addressing::new(ctx.catalogue.clone()),
        &event,
        &updated,
        &customer,
        &store,
        &outgoing,
    )
    .await?;
    tx.commit().await?;
    ctx.publish(vec![event]);
    Ok(result(ValidationOutcome::Validated))
}

async fn render_page(
    ctx: &AppContext,
    name: &str,
    language: &str,
    context: &serde_json::Value,
) -> Result<(String, String), ApiError> {
    let source = crate::notify::templates::current(ctx.db.conn(), name, language)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no template {name}"))?;
    let rendered = crate::notify::templates::render(&source, context)
        .map_err(|e| anyhow::anyhow!("page {name}: {e}"))?;
    Ok((rendered.subject, rendered.html))
}

/// The after-request page: (language, title, HTML body).
pub async fn after_request_page(
    ctx: &AppContext,
    token: &str,
) -> Result<(String, String, String), ApiError> {
    let reservation = find(ctx, token).await?;
    let loaded = load(ctx.db.conn(), reservation).await?;
    let language = loaded.customer.language.clone();
    let name = if loaded.reservation.state == State::AwaitingValidation.as_str() {
        "page_after_request_validation"
    } else {
        "page_after_request_received"
    };
    let shopper_side = serde_json::json!({ "template": "page" });
    let context = crate::notify::message::context(ctx, &loaded, &shopper_side, &language);
    let (title, body) = render_page(ctx, name, &language, &context).await?;
    Ok((language, title, body))
}

/// The page after the validation link: (language, title, HTML body).
pub async fn validated_page(
    ctx: &AppContext,
    result: &ValidationResult,
) -> Result<(String, String, String), ApiError> {
    let reservation =
        super::reservations::find_typed_or_scanned(ctx.db.conn(), &result.number).await?;
    let loaded = load(ctx.db.conn(), reservation).await?;
    let language = loaded.customer.language.clone();
    let shopper_side = serde_json::json!({ "template": "page" });
    let context = crate::notify::message::context(ctx, &loaded, &shopper_side, &language);
    let (title, body) = render_page(ctx, "page_validated", &language, &context).await?;
    Ok((language, title, body))
}

/// The terms page: (title, HTML body).
pub async fn terms_page(ctx: &AppContext, language: &str) -> Result<(String, String), ApiError> {
    let language = if language.starts_with("en") {
        "en"
    } else {
        "fr"
    };
    // The terms speak of no particular reservation; sample values fill the rest.
    let context = crate::notify::templates::sample_context(language);
    render_page(ctx, "page_terms", language, &context).await
}
