//! Reservations: create (limits, stock hold, event and outbox in one
//! transaction, idempotent), read, search, and ending one (cancel, expire,
//! auto-cancel) with its hold released.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use schema::entities::{
    article, customer, reservation, reservation_event, reservation_line, store,
};
use sea_orm::{ActiveValue::Set, ConnectionTrait};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use super::{Caller, board, catalogue::unknown_sku, opening_hours_of, unknown_store};
use crate::catalogue_cache::StoreAhead;
use crate::context::{AfterCommit, AppContext};
use crate::domain::customer::{parse_email, parse_phone};
use crate::domain::limits::check_limits;
use crate::domain::reservation::{Action, State, transition};
use crate::domain::settings::BusinessSettings;
use crate::domain::tokens;
use crate::error::ApiError;
use crate::notify::{self, Links, Outgoing};
use crate::store::{
    self as db, events::EventActor, is_unique_violation, reservations::SearchFilter,
};

/// The shopper as the web shop sends them.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomerInput {
    #[serde(default)]
    pub email: Option<String>,
    pub first_name: String,
    #[serde(default)]
    pub last_name: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    /// Signed in on the retailer's site (identified limits apply).
    #[serde(default)]
    pub identified: bool,
    /// The retailer's customer id; required when identified.
    #[serde(default)]
    pub external_id: Option<String>,
    /// `fr` or `en` (default `fr`): the language of messages.
    #[serde(default)]
    pub language: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LineInput {
    pub sku: String,
    pub quantity: i64,
}

/// `POST /api/v1/reservations`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateReservation {
    /// Store code.
    pub store: String,
    pub customer: CustomerInput,
    pub lines: Vec<LineInput>,
    /// The shopper accepted the terms of use; must be true.
    #[serde(default)]
    pub accept_terms: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CustomerView {
    pub first_name: String,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub identified: bool,
    pub external_id: Option<String>,
    pub language: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LineView {
    pub sku: String,
    pub designation: String,
    pub variant: Option<String>,
    pub ean: Option<String>,
    pub quantity: i64,
    /// Units put back on the shelf after the reservation ended.
    pub put_back_quantity: Option<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ActorView {
    /// `shopper`, `staff`, `integration` or `system`.
    pub kind: String,
    pub id: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EventView {
    /// Per-store sequence number.
    pub seq: i64,
    /// `requested`, `created`, `reminder`, `overdue`, `set_aside`, `rejected`,
    /// `cancelled`, `expired`, `collected`, `put_back`, `auto_cancelled`.
    pub kind: String,
    pub at: DateTime<Utc>,
    pub by: ActorView,
    #[schema(value_type = Object)]
    pub data: Value,
}

/// A reservation with its lines and history.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ReservationView {
    /// Human-readable number, e.g. `K7Q4-MZ2P`.
    pub number: String,
    pub state: State,
    /// What the shopper sees, in their language.
    pub state_label: String,
    pub store: String,
    pub customer: CustomerView,
    pub lines: Vec<LineView>,
    pub created_at: DateTime<Utc>,
    /// Until when the validation link works (awaiting validation only).
    pub validate_by: Option<DateTime<Utc>>,
    /// When the store must have handled it (counted in opening hours).
    pub confirm_by: Option<DateTime<Utc>>,
    pub set_aside_at: Option<DateTime<Utc>>,
    /// Until when the shopper may collect (once set aside).
    pub pickup_by: Option<DateTime<Utc>>,
    pub handled_by: Option<String>,
    pub handled_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    /// Order or sale the reservation was transferred to.
    pub order_ref: Option<String>,
    /// `none`, `partial` or `total`, once put back.
    pub reintegration: Option<String>,
    pub reason: Option<String>,
    pub tracking_url: String,
    pub events: Vec<EventView>,
}

fn state_of(model: &reservation::Model) -> Result<State, ApiError> {
    State::parse(&model.state).ok_or_else(|| {
        ApiError::Unexpected(anyhow::anyhow!(
            "reservation {} has unknown state {}",
            model.number,
            model.state
        ))
    })
}

fn event_view(event: &reservation_event::Model) -> EventView {
    EventView {
        seq: event.seq,
        kind: event.kind.clone(),
        at: event.at,
        by: ActorView {
            kind: event.actor_kind.clone(),
            id: event.actor_id.clone(),
        },
        data: serde_json::from_str(&event.data).unwrap_or(Value::Null),
    }
}

fn line_view(line: &reservation_line::Model) -> LineView {
    LineView {
        sku: line.sku.clone(),
        designation: line.designation.clone(),
        variant: line.variant.clone(),
        ean: line.ean.clone(),
        quantity: line.quantity,
        put_back_quantity: line.put_back_quantity,
    }
}

/// Everything a view is made of, loaded once.
pub struct Loaded {
    pub reservation: reservation::Model,
    pub store: store::Model,
    pub customer: customer::Model,
    pub lines: Vec<reservation_line::Model>,
    pub events: Vec<reservation_event::Model>,
}

pub async fn load(
    conn: &impl ConnectionTrait,
    reservation: reservation::Model,
) -> Result<Loaded, ApiError> {
    let store = db::stores::find_by_id(conn, reservation.store_id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("store of {} is gone", reservation.number))?;
    let customer = db::customers::find_by_id(conn, reservation.customer_id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("customer of {} is gone", reservation.number))?;
    let lines = db::reservations::lines(conn, reservation.id).await?;
    let events = db::events::for_reservation(conn, reservation.id).await?;
    Ok(Loaded {
        reservation,
        store,
        customer,
        lines,
        events,
    })
}

pub fn view(ctx: &AppContext, loaded: &Loaded) -> Result<ReservationView, ApiError> {
    let r = &loaded.reservation;
    let c = &loaded.customer;
    let state = state_of(r)?;
    Ok(ReservationView {
        number: r.number.clone(),
        state,
        state_label: state.customer_label(&c.language).to_string(),
        store: loaded.store.code.clone(),
        customer: CustomerView {
            first_name: c.first_name.clone(),
            last_name: c.last_name.clone(),
            email: c.email.clone(),
            phone: c.phone.clone(),
            identified: c.identified,
            external_id: c.external_id.clone(),
            language: c.language.clone(),
        },
        lines: loaded.lines.iter().map(line_view).collect(),
        created_at: r.created_at,
        validate_by: r.validate_by.filter(|_| state == State::AwaitingValidation),
        confirm_by: r.confirm_by,
        set_aside_at: r.set_aside_at,
        pickup_by: r.pickup_by,
        handled_by: r.handled_by.clone(),
        handled_at: r.handled_at,
        ended_at: r.ended_at,
        order_ref: r.order_ref.clone(),
        reintegration: r.reintegration.clone(),
        reason: r.reason.clone(),
        tracking_url: ctx.tracking_url(&r.tracking_token),
        events: loaded.events.iter().map(event_view).collect(),
    })
}

/// A create request that passed the format checks.
struct ValidRequest {
    store: String,
    customer: db::customers::CustomerFields,
    lines: Vec<(String, i64)>,
}

fn validate(req: &CreateReservation) -> Result<ValidRequest, ApiError> {
    if !req.accept_terms {
        return Err(ApiError::invalid(
            "terms_not_accepted",
            "The shopper must accept the terms of use: send \"accept_terms\": true.",
        ));
    }
    if req.lines.is_empty() {
        return Err(ApiError::invalid(
            "no_lines",
            "A reservation needs at least one line.",
        ));
    }
    let mut lines: Vec<(String, i64)> = Vec::with_capacity(req.lines.len());
    for line in &req.lines {
        if line.quantity < 1 {
            return Err(ApiError::invalid(
                "invalid_quantity",
                format!(
                    "Quantity of `{}` must be at least 1, got {}.",
                    line.sku, line.quantity
                ),
            ));
        }
        if lines.iter().any(|(sku, _)| sku == &line.sku) {
            return Err(ApiError::invalid(
                "duplicate_line",
                format!(
                    "`{}` appears on two lines; send one line with the total quantity.",
                    line.sku
                ),
            ));
        }
        lines.push((line.sku.clone(), line.quantity));
    }
    let customer = customer_fields(&req.customer)?;
    Ok(ValidRequest {
        store: req.store.clone(),
        customer,
        lines,
    })
}

/// Checks a shopper's details and derives the identity limits count on.
fn customer_fields(c: &CustomerInput) -> Result<db::customers::CustomerFields, ApiError> {
    let first_name = c.first_name.trim().to_string();
    if first_name.is_empty() || first_name.len() > 100 {
        return Err(ApiError::invalid(
            "invalid_customer",
            "The customer's first name is required (at most 100 characters).",
        ));
    }
    let email = match &c.email {
        Some(raw) => Some(parse_email(raw).map_err(|reason| {
            ApiError::invalid(
                "invalid_email",
                format!("Customer email `{raw}`: {reason}."),
            )
        })?),
        None => None,
    };
    let phone = match &c.phone {
        Some(raw) if !raw.trim().is_empty() => Some(parse_phone(raw).map_err(|reason| {
            ApiError::invalid(
                "invalid_phone",
                format!("Customer phone `{raw}`: {reason}."),
            )
        })?),
        _ => None,
    };
    let key = if c.identified {
        match c.external_id.as_deref().map(str::trim) {
            Some(id) if !id.is_empty() => format!("ext:{id}"),
            _ => {
                return Err(ApiError::invalid(
                    "missing_external_id",
                    "An identified customer needs the retailer's `external_id`.",
                ));
            }
        }
    } else {
        match &email {
            Some(email) => format!("email:{}", email.to_lowercase()),
            None => {
                return Err(ApiError::invalid(
                    "invalid_email",
                    "An anonymous customer needs an email address: messages and the validation link go there.",
                ));
            }
        }
    };
    let language = match c.language.as_deref() {
        None => "fr".to_string(),
        Some(lang) if lang.starts_with("fr") => "fr".to_string(),
        Some(lang) if lang.starts_with("en") => "en".to_string(),
        Some(other) => {
            return Err(ApiError::invalid(
                "invalid_language",
                format!("Language `{other}` is not offered; use `fr` or `en`."),
            ));
        }
    };
    Ok(db::customers::CustomerFields {
        key,
        email,
        first_name,
        last_name: c.last_name.clone().filter(|n| !n.trim().is_empty()),
        phone,
        identified: c.identified,
        external_id: c.external_id.clone(),
        language,
    })
}

/// Finds or creates the customer described by `input` (locked until commit).
pub async fn customer_for(
    conn: &impl ConnectionTrait,
    input: &CustomerInput,
    now: DateTime<Utc>,
) -> Result<customer::Model, ApiError> {
    Ok(db::customers::upsert_locked(conn, customer_fields(input)?, now).await?)
}

/// The answer to a create: what to send, and whether it is a replay.
pub struct CreateOutcome {
    pub status: u16,
    pub body: String,
    pub replayed: bool,
}

enum CreateFailure {
    /// Another request claimed the idempotency key first.
    KeyTaken,
    /// Two reservations drew the same random number; draw again.
    NumberTaken,
    /// PostgreSQL broke a deadlock by aborting this attempt; run it again.
    LockConflict,
    Api(ApiError),
}

impl From<ApiError> for CreateFailure {
    fn from(err: ApiError) -> Self {
        Self::Api(err)
    }
}

impl From<sea_orm::DbErr> for CreateFailure {
    fn from(err: sea_orm::DbErr) -> Self {
        if db::is_lock_conflict(&err) {
            Self::LockConflict
        } else {
            Self::Api(err.into())
        }
    }
}

fn request_hash(req: &CreateReservation) -> Result<String, ApiError> {
    let canonical = serde_json::to_vec(req).map_err(anyhow::Error::from)?;
    Ok(hex::encode(Sha256::digest(canonical)))
}

async fn replay(
    ctx: &AppContext,
    caller: &Caller,
    key: &str,
    hash: &str,
) -> Result<Option<CreateOutcome>, ApiError> {
    let Some(found) = db::idempotency::find(ctx.db.conn(), &caller.scope(), key).await? else {
        return Ok(None);
    };
    if found.request_hash != hash {
        return Err(ApiError::conflict(
            "idempotency_key_reused",
            format!("Idempotency-Key `{key}` was already used with a different request body."),
        ));
    }
    Ok(Some(CreateOutcome {
        status: u16::try_from(found.status_code).unwrap_or(201),
        body: found.response_body,
        replayed: true,
    }))
}

/// Creates a reservation. With an idempotency key, the same key and body
/// replay the first answer; the same key with another body is refused.
pub async fn create(
    ctx: &AppContext,
    caller: &Caller,
    req: CreateReservation,
    idempotency_key: Option<String>,
) -> Result<CreateOutcome, ApiError> {
    let valid = validate(&req)?;
    let hash = request_hash(&req)?;
    if let Some(key) = &idempotency_key
        && let Some(outcome) = replay(ctx, caller, key, &hash).await?
    {
        return Ok(outcome);
    }
    let ahead = read_ahead(ctx, &valid).await?;
    let writing = write_new(
        ctx.clone(),
        caller.clone(),
        valid,
        ahead,
        idempotency_key,
        hash,
    );
    ctx.db.on_writer_thread(writing).await?
}

/// The create's write transaction, tried again when the drawn reservation
/// number was taken.
async fn write_new(
    ctx: AppContext,
    caller: Caller,
    valid: ValidRequest,
    mut ahead: ReadAhead,
    idempotency_key: Option<String>,
    hash: String,
) -> Result<CreateOutcome, ApiError> {
    let (ctx, caller) = (&ctx, &caller);
    for _ in 0..3 {
        let attempt = try_create(
            ctx,
            caller,
            &valid,
            &mut ahead,
            idempotency_key.as_deref(),
            &hash,
        );
        match attempt.await {
            Ok(outcome) => {
                metrics::counter!("storehub_reservations_created_total").increment(1);
                return Ok(outcome);
            }
            Err(CreateFailure::KeyTaken) => {
                if let Some(key) = &idempotency_key
                    && let Some(outcome) = replay(ctx, caller, key, &hash).await?
                {
                    return Ok(outcome);
                }
            }
            Err(CreateFailure::NumberTaken) => {}
            Err(CreateFailure::LockConflict) => {
                metrics::counter!("storehub_lock_conflicts_total").increment(1);
            }
            Err(CreateFailure::Api(err)) => {
                if let ApiError::Refused { code, .. } = &err {
                    metrics::counter!("storehub_reservations_refused_total", "code" => *code)
                        .increment(1);
                }
                return Err(err);
            }
        }
    }
    Err(ApiError::Unexpected(anyhow::anyhow!(
        "reservation create kept colliding"
    )))
}

/// What a create reads before it takes the writer: the store, its
/// settings, the articles and who hears the alert. They change rarely, and
/// reading them inside the transaction would hold SQLite's one writer (and,
/// on PostgreSQL, the locks taken so far) meanwhile. The store, settings
/// and articles come from the catalogue cache when it has them.
struct ReadAhead {
    store: Arc<StoreAhead>,
    /// The requested articles with their quantities, in request order.
    lines: Vec<(article::Model, i64)>,
    addressing: notify::Addressing,
}

/// The store and its settings, from the cache or the database. Unknown
/// codes are not kept: a store created meanwhile is found at once.
async fn store_ahead(ctx: &AppContext, code: &str) -> Result<Arc<StoreAhead>, ApiError> {
    if let Some(kept) = ctx.catalogue.store(code) {
        return Ok(kept);
    }
    let ticket = ctx.catalogue.ticket();
    let conn = ctx.db.conn();
    let store = db::stores::find_by_code(conn, code)
        .await?
        .ok_or_else(|| unknown_store(code))?;
    let settings = super::settings::effective(conn, Some(store.id)).await?;
    let found = Arc::new(StoreAhead { store, settings });
    ctx.catalogue.keep_store(ticket, code, found.clone());
    Ok(found)
}

/// The articles of `skus` that exist, from the cache or the database.
async fn articles_ahead(
    ctx: &AppContext,
    skus: &[String],
) -> Result<Vec<article::Model>, ApiError> {
    let (mut articles, missing) = ctx.catalogue.articles(skus);
    if !missing.is_empty() {
        let ticket = ctx.catalogue.ticket();
        let read = db::articles::find_by_skus(ctx.db.conn(), &missing).await?;
        ctx.catalogue.keep_articles(ticket, &read);
        articles.extend(read);
    }
    Ok(articles)
}

async fn read_ahead(ctx: &AppContext, req: &ValidRequest) -> Result<ReadAhead, ApiError> {
    let conn = ctx.db.conn();
    let ahead = store_ahead(ctx, &req.store).await?;
    let (store, settings) = (&ahead.store, &ahead.settings);
    if !settings.module_active {
        return Err(ApiError::refused(
            "module_inactive",
            format!("Reservations are switched off for store `{}`.", store.code),
        ));
    }
    let skus: Vec<String> = req.lines.iter().map(|(sku, _)| sku.clone()).collect();
    let articles = articles_ahead(ctx, &skus).await?;
    let mut lines = Vec::with_capacity(req.lines.len());
    for (sku, quantity) in &req.lines {
        let article = articles
            .iter()
            .find(|a| &a.sku == sku)
            .ok_or_else(|| unknown_sku(sku))?;
        if !article.reservable {
            return Err(ApiError::refused(
                "article_not_reservable",
                format!("Article `{sku}` cannot be reserved."),
            ));
        }
        lines.push((article.clone(), *quantity));
    }
    let mut addressing = notify::Addressing::new(ctx.catalogue.clone());
    if !needs_validation(req, settings) {
        addressing
            .read_team_ahead(conn, store, settings, ctx.clock.now())
            .await?;
    }
    Ok(ReadAhead {
        store: ahead,
        lines,
        addressing,
    })
}

/// The lines in article id order: every transaction takes stock rows in
/// that one order, so two of them never wait on each other in a circle.
fn by_article_id(lines: &[(article::Model, i64)]) -> Vec<&(article::Model, i64)> {
    let mut sorted: Vec<_> = lines.iter().collect();
    sorted.sort_by_key(|(article, _)| article.id);
    sorted
}

/// An anonymous shopper confirms by email first, when the settings say so.
fn needs_validation(req: &ValidRequest, settings: &BusinessSettings) -> bool {
    !req.customer.identified && settings.email_validation_for_anonymous
}

async fn try_create(
    ctx: &AppContext,
    caller: &Caller,
    req: &ValidRequest,
    ahead: &mut ReadAhead,
    idempotency_key: Option<&str>,
    hash: &str,
) -> Result<CreateOutcome, CreateFailure> {
    let (store, settings) = (&ahead.store.store, &ahead.store.settings);
    let now = ctx.clock.now();
    let tx = ctx.db.write().await?;
    if let Some(key) = idempotency_key {
        // Claim the key first: a concurrent twin waits here on PostgreSQL
        // until this transaction ends, then replays its answer.
        match db::idempotency::insert(&*tx, &caller.scope(), key, hash, 0, "", now).await {
            Err(err) if is_unique_violation(&err) => return Err(CreateFailure::KeyTaken),
            other => other?,
        }
    }
    let identified = req.customer.identified;
    let customer = db::customers::upsert_locked(
        &*tx,
        db::customers::CustomerFields {
            key: req.customer.key.clone(),
            email: req.customer.email.clone(),
            first_name: req.customer.first_name.clone(),
            last_name: req.customer.last_name.clone(),
            phone: req.customer.phone.clone(),
            identified,
            external_id: req.customer.external_id.clone(),
            language: req.customer.language.clone(),
        },
        now,
    )
    .await?;
    let totals = db::customers::totals(&*tx, customer.id).await?;
    let wanted: Vec<(String, u64)> = req
        .lines
        .iter()
        .map(|(sku, q)| (sku.clone(), u64::try_from(*q).unwrap_or(u64::MAX)))
        .collect();
    check_limits(settings, identified, totals, &wanted)
        .map_err(|limit| ApiError::refused(limit.code(), format!("Limit reached: {limit}.")))?;

    for (article, quantity) in by_article_id(&ahead.lines) {
        if !db::stock::try_hold(&*tx, store.id, article.id, *quantity, now).await? {
            let level = db::stock::level(&*tx, store.id, article.id).await?;
            let available = level.available().max(0);
            return Err(ApiError::refused(
                "out_of_stock",
                format!(
                    "Only {available} of `{}` available at store `{}`; {quantity} requested.",
                    article.sku, store.code
                ),
            )
            .into());
        }
    }

    let needs_validation = needs_validation(req, settings);
    let hours = opening_hours_of(store)?;
    let (state, validate_by, confirm_by, validation_token, next_reminder_at) = if needs_validation {
        let until = now + chrono::Duration::hours(i64::from(settings.validation_link_hours));
        let token = Some(tokens::secret_token());
        (State::AwaitingValidation, Some(until), None, token, None)
    } else {
        let confirm_by = hours.add_open_minutes(now, settings.confirm_within_minutes);
        let remind_at = hours.add_open_minutes(now, settings.reminder_every_minutes);
        (
            State::Pending,
            None,
            Some(confirm_by),
            None,
            Some(remind_at),
        )
    };
    let reservation = match db::reservations::insert(
        &*tx,
        reservation::ActiveModel {
            number: Set(tokens::reservation_number()),
            store_id: Set(store.id),
            customer_id: Set(customer.id),
            state: Set(state.as_str().to_string()),
            source: Set(caller.source().to_string()),
            created_at: Set(now),
            updated_at: Set(now),
            tracking_token: Set(tokens::secret_token()),
            validation_token: Set(validation_token.clone()),
            validate_by: Set(validate_by),
            confirm_by: Set(confirm_by),
            next_reminder_at: Set(next_reminder_at),
            reminders_sent: Set(0),
            was_set_aside: Set(false),
            version: Set(0),
            ..Default::default()
        },
    )
    .await
    {
        Err(err) if is_unique_violation(&err) => return Err(CreateFailure::NumberTaken),
        other => other?,
    };
    let line_rows = ahead
        .lines
        .iter()
        .map(|(article, quantity)| reservation_line::ActiveModel {
            reservation_id: Set(reservation.id),
            article_id: Set(article.id),
            sku: Set(article.sku.clone()),
            designation: Set(article.designation.clone()),
            variant: Set(article.variant.clone()),
            ean: Set(article.ean.clone()),
            quantity: Set(*quantity),
            put_back_quantity: Set(None),
            ..Default::default()
        })
        .collect();
    let lines = db::reservations::insert_lines(&*tx, line_rows).await?;
    let kind = if needs_validation {
        "requested"
    } else {
        "created"
    };
    let event = db::events::append(
        &*tx,
        store.id,
        reservation.id,
        kind,
        &caller.event_actor(),
        now,
        json!({ "source": caller.source() }),
    )
    .await?;
    let outgoing = Outgoing {
        links: Links {
            tracking_url: ctx.tracking_url(&reservation.tracking_token),
            validation_url: validation_token.as_deref().map(|t| ctx.validation_url(t)),
        },
        settings,
        now,
    };
    notify::enqueue_for_event(
        &*tx,
        &mut ahead.addressing,
        &event,
        &reservation,
        &customer,
        store,
        &outgoing,
    )
    .await?;

    // The answer from the rows at hand: reading them back would hold the
    // (SQLite) writer's turn for more statements.
    let loaded = Loaded {
        reservation,
        store: store.clone(),
        customer,
        lines,
        events: vec![event.clone()],
    };
    let body =
        serde_json::to_string(&view(ctx, &loaded)?).map_err(|e| ApiError::Unexpected(e.into()))?;
    if let Some(key) = idempotency_key {
        db::idempotency::complete(&*tx, &caller.scope(), key, 201, &body).await?;
    }
    tx.commit().await?;
    // The frame and the timer from the rows at hand: the live side reads nothing back.
    ctx.publish_with_row(vec![event], after_commit(&loaded, now));
    Ok(CreateOutcome {
        status: 201,
        body,
        replayed: false,
    })
}

pub fn unknown_reservation(number: &str) -> ApiError {
    ApiError::not_found(
        "unknown_reservation",
        format!("There is no reservation numbered `{number}`."),
    )
}

/// Finds a reservation by what a person typed or scanned: its number (any
/// case, with or without the dash) or the tracking token of its QR code.
pub async fn find_typed_or_scanned(
    conn: &impl ConnectionTrait,
    typed: &str,
) -> Result<reservation::Model, ApiError> {
    let number = tokens::normalise_number(typed);
    if let Some(found) = db::reservations::find_by_number(conn, &number).await? {
        return Ok(found);
    }
    // The QR code holds the tracking link; its last segment is the token.
    let token = typed.trim().rsplit('/').next().unwrap_or_default();
    if token.len() == 32
        && token.chars().all(|c| c.is_ascii_hexdigit())
        && let Some(found) = db::reservations::find_by_tracking_token(conn, token).await?
    {
        return Ok(found);
    }
    Err(unknown_reservation(&number))
}

pub async fn get(
    ctx: &AppContext,
    caller: &Caller,
    number: &str,
) -> Result<ReservationView, ApiError> {
    let conn = ctx.db.conn();
    let reservation = find_typed_or_scanned(conn, number).await?;
    let loaded = load(conn, reservation).await?;
    caller.require_store(loaded.store.id, &loaded.store.code)?;
    view(ctx, &loaded)
}

/// A change to a reservation: what happens, who did it, and what it sets.
pub struct Ending {
    pub action: Action,
    pub actor: EventActor,
    pub reason: Option<String>,
    pub data: Value,
}

/// Fields some actions set besides the state.
#[derive(Default)]
pub struct ChangeDetails {
    /// Set aside: until when the shopper may collect.
    pub pickup_by: Option<DateTime<Utc>>,
    /// Set aside: when to remind the shopper before that.
    pub pickup_reminder_at: Option<DateTime<Utc>>,
    /// Collected: the order or sale it went to.
    pub order_ref: Option<String>,
    /// Collected: the real customer instead of the anonymous default.
    pub customer_id: Option<i64>,
}

fn event_kind(to: State) -> &'static str {
    match to {
        State::AwaitingValidation => "requested",
        State::Pending => "created",
        State::SetAside => "set_aside",
        State::Collected => "collected",
        State::Rejected => "rejected",
        State::Cancelled => "cancelled",
        State::Expired => "expired",
        State::AutoCancelled => "auto_cancelled",
    }
}

fn already_handled(current: &reservation::Model) -> ApiError {
    let who = current.handled_by.as_deref().unwrap_or("the system");
    let when = current
        .ended_at
        .or(current.handled_at)
        .unwrap_or(current.updated_at);
    ApiError::AlreadyHandled {
        message: format!(
            "Reservation {} is already {} (by {who} at {}).",
            current.number,
            current.state,
            when.to_rfc3339()
        ),
        handled: Box::new(crate::error::Handled {
            number: current.number.clone(),
            state: current.state.clone(),
            by: current.handled_by.clone(),
            at: when,
        }),
    }
}

/// Ends a reservation inside `conn`'s transaction; see [`apply`].
pub async fn end(
    ctx: &AppContext,
    conn: &impl ConnectionTrait,
    current: &reservation::Model,
    ending: Ending,
    now: DateTime<Utc>,
) -> Result<reservation_event::Model, ApiError> {
    apply(ctx, conn, current, ending, ChangeDetails::default(), now).await
}

/// Applies an action inside `conn`'s transaction: moves the state (only if
/// nobody moved it first: of two concurrent actions exactly one wins),
/// releases the stock when the reservation ends, appends the event and
/// queues the messages.
pub async fn apply(
    ctx: &AppContext,
    conn: &impl ConnectionTrait,
    current: &reservation::Model,
    ending: Ending,
    details: ChangeDetails,
    now: DateTime<Utc>,
) -> Result<reservation_event::Model, ApiError> {
    let from = state_of(current)?;
    let to = transition(from, ending.action).map_err(|_| already_handled(current))?;
    let ends = !to.is_open();
    let mut update = reservation::ActiveModel {
        state: Set(to.as_str().to_string()),
        updated_at: Set(now),
        // Nobody is reminded about a reservation someone handled.
        next_reminder_at: Set(None),
        ..Default::default()
    };
    if ending.actor.kind != "system" || ends {
        update.handled_by = Set(ending.actor.name.clone().or(current.handled_by.clone()));
        update.handled_at = Set(Some(now));
    }
    if ends {
        update.ended_at = Set(Some(now));
    }
    if let Some(reason) = &ending.reason {
        update.reason = Set(Some(reason.clone()));
    }
    if to == State::SetAside {
        update.set_aside_at = Set(Some(now));
        update.was_set_aside = Set(true);
        update.pickup_by = Set(details.pickup_by);
        update.pickup_reminder_at = Set(details.pickup_reminder_at);
    }
    if let Some(order_ref) = &details.order_ref {
        update.order_ref = Set(Some(order_ref.clone()));
    }
    if let Some(customer_id) = details.customer_id {
        update.customer_id = Set(customer_id);
    }
    if !db::reservations::transition(conn, current.id, from, update).await? {
        let latest = db::reservations::find_by_number(conn, &current.number)
            .await?
            .unwrap_or_else(|| current.clone());
        return Err(already_handled(&latest));
    }
    if ends {
        let mut lines = db::reservations::lines(conn, current.id).await?;
        lines.sort_by_key(|line| line.article_id);
        for line in &lines {
            let consumed = if to == State::Collected {
                line.quantity
            } else {
                0
            };
            db::stock::release(
                conn,
                current.store_id,
                line.article_id,
                line.quantity,
                consumed,
                now,
            )
            .await?;
        }
    }
    let event = db::events::append(
        conn,
        current.store_id,
        current.id,
        event_kind(to),
        &ending.actor,
        now,
        ending.data,
    )
    .await?;
    let store = db::stores::find_by_id(conn, current.store_id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("store of {} is gone", current.number))?;
    let customer_id = details.customer_id.unwrap_or(current.customer_id);
    let customer = db::customers::find_by_id(conn, customer_id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("customer of {} is gone", current.number))?;
    let updated = reservation::Model {
        state: to.as_str().to_string(),
        was_set_aside: current.was_set_aside || to == State::SetAside,
        ..current.clone()
    };
    let settings = super::settings::effective(conn, Some(store.id)).await?;
    let outgoing = Outgoing::tracking(ctx, current, &settings, now);
    notify::enqueue_for_event(
        conn,
        &mut notify::Addressing::new(ctx.catalogue.clone()),
        &event,
        &updated,
        &customer,
        &store,
        &outgoing,
    )
    .await?;
    metrics::counter!("storehub_reservation_changes_total", "to" => to.as_str()).increment(1);
    Ok(event)
}

/// Cancels on behalf of the shopper (staff or integration).
pub async fn cancel(
    ctx: &AppContext,
    caller: &Caller,
    number: &str,
    reason: Option<String>,
) -> Result<ReservationView, ApiError> {
    let number = tokens::normalise_number(number);
    let now = ctx.clock.now();
    let tx = ctx.db.write().await?;
    let current = db::reservations::find_by_number(&*tx, &number)
        .await?
        .ok_or_else(|| unknown_reservation(&number))?;
    let store = db::stores::find_by_id(&*tx, current.store_id)
        .await?
        .ok_or_else(|| unknown_reservation(&number))?;
    caller.require_store(store.id, &store.code)?;
    let ending = Ending {
        action: Action::Cancel,
        actor: caller.event_actor(),
        reason: reason.clone(),
        data: json!({ "reason": reason }),
    };
    let event = end(ctx, &*tx, &current, ending, now).await?;
    let latest = db::reservations::find_by_number(&*tx, &number)
        .await?
        .ok_or_else(|| unknown_reservation(&number))?;
    let loaded = load(&*tx, latest).await?;
    tx.commit().await?;
    ctx.publish_with_row(vec![event], after_commit(&loaded, now));
    view(ctx, &loaded)
}

/// A reservation loaded in its transaction, as the live side gets it
/// after the commit: its frames then need no read.
pub fn after_commit(loaded: &Loaded, now: DateTime<Utc>) -> AfterCommit {
    AfterCommit {
        row: loaded.reservation.clone(),
        item: board::item_from(
            &loaded.reservation,
            &loaded.lines,
            Some(&loaded.customer),
            now,
        ),
    }
}

/// Query parameters of the back-office search.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// Store code.
    pub store: Option<String>,
    /// One state or several separated by commas.
    pub state: Option<String>,
    /// Any of number, customer name or email, article designation or SKU.
    pub q: Option<String>,
    /// Exact reservation number.
    pub number: Option<String>,
    /// Words of the customer's name or email.
    pub customer: Option<String>,
    /// Words of the article designation, or a SKU.
    pub article: Option<String>,
    /// Requested at or after (RFC 3339).
    pub from: Option<DateTime<Utc>>,
    /// Requested before (RFC 3339).
    pub to: Option<DateTime<Utc>>,
    /// `yes`, `no` or `any` (default): transferred to an order.
    pub transferred: Option<String>,
    /// Page number from 1 (default 1).
    pub page: Option<u64>,
    /// Results per page, 1 to 200 (default 50).
    pub per_page: Option<u64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SearchSummary {
    pub number: String,
    pub state: State,
    pub store: String,
    pub customer_name: String,
    pub articles: Vec<String>,
    pub quantity: i64,
    pub created_at: DateTime<Utc>,
    pub confirm_by: Option<DateTime<Utc>>,
    pub pickup_by: Option<DateTime<Utc>>,
    pub order_ref: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SearchPage {
    pub items: Vec<SearchSummary>,
    pub total: u64,
    pub page: u64,
    pub per_page: u64,
}

fn non_empty(text: &Option<String>) -> Option<String> {
    text.as_ref()
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
}

pub async fn search(
    ctx: &AppContext,
    caller: &Caller,
    query: SearchQuery,
) -> Result<SearchPage, ApiError> {
    let conn = ctx.db.conn();
    let page = query.page.unwrap_or(1);
    let per_page = query.per_page.unwrap_or(50);
    if page < 1 || !(1..=200).contains(&per_page) {
        return Err(ApiError::invalid(
            "invalid_query",
            "`page` starts at 1 and `per_page` is between 1 and 200.",
        ));
    }
    let mut filter = SearchFilter::default();
    let mut stores_by_id = std::collections::HashMap::new();
    if let Some(code) = non_empty(&query.store) {
        let store = db::stores::find_by_code(conn, &code)
            .await?
            .ok_or_else(|| unknown_store(&code))?;
        caller.require_store(store.id, &store.code)?;
        filter.store_ids = Some(vec![store.id]);
    } else if let Caller::Staff(staff) = caller
        && !caller.is_admin()
    {
        filter.store_ids = Some(staff.store_ids.clone());
    }
    if let Some(states) = non_empty(&query.state) {
        for name in states.split(',').map(str::trim) {
            let state = State::parse(name).ok_or_else(|| {
                ApiError::invalid(
                    "invalid_query",
                    format!("`{name}` is not a reservation state."),
                )
            })?;
            filter.states.push(state);
        }
    }
    filter.number = non_empty(&query.number).map(|n| tokens::normalise_number(&n));
    filter.customer = non_empty(&query.customer);
    filter.article = non_empty(&query.article);
    filter.text = non_empty(&query.q);
    filter.from = query.from;
    filter.to = query.to;
    filter.transferred = match non_empty(&query.transferred).as_deref() {
        None | Some("any") => None,
        Some("yes") | Some("true") => Some(true),
        Some("no") | Some("false") => Some(false),
        Some(other) => {
            return Err(ApiError::invalid(
                "invalid_query",
                format!("`transferred` is yes, no or any, not `{other}`."),
            ));
        }
    };
    let (rows, total) = db::reservations::search(conn, &filter, page - 1, per_page).await?;
    let lines = db::reservations::lines_of_many(conn, rows.iter().map(|r| r.id).collect()).await?;
    let mut items = Vec::with_capacity(rows.len());
    for row in rows {
        let store_code = match stores_by_id.get(&row.store_id) {
            Some(code) => Clone::clone(code),
            None => {
                let code = db::stores::find_by_id(conn, row.store_id)
                    .await?
                    .map(|s| s.code)
                    .unwrap_or_default();
                stores_by_id.insert(row.store_id, code.clone());
                code
            }
        };
        let customer = db::customers::find_by_id(conn, row.customer_id).await?;
        let own: Vec<&reservation_line::Model> = lines
            .iter()
            .filter(|l| l.reservation_id == row.id)
            .collect();
        items.push(SearchSummary {
            state: state_of(&row)?,
            number: row.number,
            store: store_code,
            customer_name: customer
                .map(|c| match c.last_name {
                    Some(last) => format!("{} {last}", c.first_name),
                    None => c.first_name,
                })
                .unwrap_or_default(),
            articles: own.iter().map(|l| l.designation.clone()).collect(),
            quantity: own.iter().map(|l| l.quantity).sum(),
            created_at: row.created_at,
            confirm_by: row.confirm_by,
            pickup_by: row.pickup_by,
            order_ref: row.order_ref,
        });
    }
    Ok(SearchPage {
        items,
        total,
        page,
        per_page,
    })
}
