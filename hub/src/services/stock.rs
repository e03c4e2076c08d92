//! Stock counts from the till and availability for product pages.

use schema::entities::{article, reservation, store};
use sea_orm::{ConnectionTrait, DbBackend};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use super::catalogue::unknown_sku;
use super::reservations::{Ending, end};
use super::unknown_store;
use crate::context::AppContext;
use crate::domain::reservation::{Action, State};
use crate::domain::stock::{Hold, StockDropPlan, plan_stock_drop};
use crate::error::ApiError;
use crate::store::{self as db, events::EventActor};

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StockCount {
    pub sku: String,
    /// Units physically in the store, as the till counts them.
    pub on_hand: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StockUpdateResult {
    pub updated: usize,
    /// Reservations cancelled because their stock is gone, newest first.
    pub auto_cancelled: Vec<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StockLine {
    pub sku: String,
    pub on_hand: i64,
    pub held: i64,
    pub available: i64,
}

/// Applies absolute counts in one transaction. A count below what is held
/// auto-cancels the newest unhandled reservations first; a count below what
/// is already set aside is refused.
pub async fn put_counts(
    ctx: &AppContext,
    store_code: &str,
    counts: Vec<StockCount>,
) -> Result<StockUpdateResult, ApiError> {
    if counts.is_empty() {
        return Err(ApiError::invalid(
            "no_lines",
            "Send at least one {sku, on_hand}.",
        ));
    }
    for (index, count) in counts.iter().enumerate() {
        if count.on_hand < 0 {
            return Err(ApiError::invalid(
                "invalid_quantity",
                format!("on_hand of `{}` cannot be negative.", count.sku),
            ));
        }
        if counts[..index].iter().any(|c| c.sku == count.sku) {
            return Err(ApiError::invalid(
                "duplicate_line",
                format!("`{}` appears twice.", count.sku),
            ));
        }
    }
    let now = ctx.clock.now();
    // Every writer takes reservations before their stock. On PostgreSQL,
    // which ones the counts cancel is first seen without locks, so they can
    // be locked in that order; the plan is then made again under the locks.
    // (SQLite has one writer and locks no rows: no need.)
    let tx = ctx.db.write().await?;
    if tx.get_database_backend() == DbBackend::Postgres {
        // Counts of one store take turns. A reservation made since a
        // count's first look is locked only when it is ended, after its
        // stock; a second count that saw it would hold it and wait for
        // that stock: a deadlock, at every burst of counts during creates.
        db::stock::take_count_turn(&*tx, store_code).await?;
        let foreseen = plan_counts(&*tx, store_code, &counts).await?;
        let (cancelled, stock) = (foreseen.cancelled_ids(), foreseen.stock_rows());
        db::reservations::lock_in_order(&*tx, &cancelled, &stock, &[]).await?;
    }
    // Against other writers (a staff reject of a reservation just made) the
    // late lock stays possible: rare, and retried on a deadlock.
    let CountPlan { store, lines } = plan_counts(&*tx, store_code, &counts).await?;
    let mut auto_cancelled = Vec::new();
    let mut events = Vec::new();
    for (article, count, plan) in lines {
        match plan {
            StockDropPlan::Fits => {}
            StockDropPlan::BelowSetAside { set_aside } => {
                return Err(ApiError::refused(
                    "stock_below_set_aside",
                    format!(
                        "`{}`: {set_aside} unit(s) are set aside for shoppers at `{}`, more than the count of {}. Hand over or cancel those reservations first.",
                        count.sku, store.code, count.on_hand
                    ),
                ));
            }
            StockDropPlan::AutoCancel(reservations) => {
                for reservation in reservations {
                    let ending = Ending {
                        action: Action::AutoCancel,
                        actor: EventActor::system(),
                        reason: Some("stock_gone".into()),
                        data: json!({ "reason": "stock_gone", "sku": count.sku, "on_hand": count.on_hand }),
                    };
                    events.push(end(ctx, &*tx, &reservation, ending, now).await?);
                    auto_cancelled.push(reservation.number);
                }
            }
        }
        db::stock::set_on_hand(&*tx, store.id, article.id, count.on_hand, now).await?;
        if db::stock::level(&*tx, store.id, article.id)
            .await?
            .available()
            > 0
        {
            announce_restock(&*tx, &store, &article, now).await?;
        }
    }
    tx.commit().await?;
    ctx.publish(events);
    Ok(StockUpdateResult {
        updated: counts.len(),
        auto_cancelled,
    })
}

/// What a set of counts would do to one store, article by article (sorted
/// by article id, the order every writer takes stock in).
struct CountPlan<'a> {
    store: store::Model,
    lines: Vec<(
        article::Model,
        &'a StockCount,
        StockDropPlan<reservation::Model>,
    )>,
}

impl CountPlan<'_> {
    fn cancelled_ids(&self) -> Vec<i64> {
        let mut ids: Vec<i64> = self
            .lines
            .iter()
            .flat_map(|(_, _, plan)| match plan {
                StockDropPlan::AutoCancel(reservations) => {
                    reservations.iter().map(|r| r.id).collect()
                }
                _ => Vec::new(),
            })
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    fn stock_rows(&self) -> Vec<(i64, i64)> {
        self.lines
            .iter()
            .map(|(article, _, _)| (self.store.id, article.id))
            .collect()
    }
}

async fn plan_counts<'a>(
    conn: &impl ConnectionTrait,
    store_code: &str,
    counts: &'a [StockCount],
) -> Result<CountPlan<'a>, ApiError> {
    let store = db::stores::find_by_code(conn, store_code)
        .await?
        .ok_or_else(|| unknown_store(store_code))?;
    let mut articles = Vec::with_capacity(counts.len());
    for count in counts {
        let article = db::articles::find_by_sku(conn, &count.sku)
            .await?
            .ok_or_else(|| unknown_sku(&count.sku))?;
        articles.push((article, count));
    }
    articles.sort_by_key(|(article, _)| article.id);
    let mut lines = Vec::with_capacity(articles.len());
    for (article, count) in articles {
        let open = db::reservations::open_holding_article(conn, store.id, article.id).await?;
        let holds: Vec<Hold<reservation::Model>> = open
            .into_iter()
            .map(|(r, quantity)| Hold {
                set_aside: r.state == State::SetAside.as_str(),
                reservation: r,
                quantity,
            })
            .collect();
        let plan = plan_stock_drop(count.on_hand, &holds);
        lines.push((article, count, plan));
    }
    Ok(CountPlan { store, lines })
}

pub async fn store_levels(ctx: &AppContext, store_code: &str) -> Result<Vec<StockLine>, ApiError> {
    let conn = ctx.db.conn();
    let store = db::stores::find_by_code(conn, store_code)
        .await?
        .ok_or_else(|| unknown_store(store_code))?;
    Ok(db::stock::levels_for_store(conn, store.id)
        .await?
        .into_iter()
        .map(|(sku, level)| StockLine {
            sku,
            on_hand: level.on_hand,
            held: level.held,
            available: level.available(),
        })
        .collect())
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Availability {
    pub store: String,
    /// Units a shopper could reserve now.
    pub available: i64,
    /// Whether this article can be reserved in this store at all.
    pub reservable: bool,
}

pub async fn availability(ctx: &AppContext, sku: &str) -> Result<Vec<Availability>, ApiError> {
    let conn = ctx.db.conn();
    let article = db::articles::find_by_sku(conn, sku)
        .await?
        .ok_or_else(|| unknown_sku(sku))?;
    let mut out = Vec::new();
    for (code, level) in db::stock::levels_for_article(conn, article.id).await? {
        let store = db::stores::find_by_code(conn, &code)
            .await?
            .ok_or_else(|| unknown_store(&code))?;
        let settings = super::settings::effective(conn, Some(store.id)).await?;
        out.push(Availability {
            store: code,
            available: level.available().max(0),
            reservable: article.reservable && settings.module_active,
        });
    }
    Ok(out)
}

/// Someone asking to be told when an article is back at a store.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RestockRequest {
    pub sku: String,
    /// The shopper's email (integrations); staff are told at their own address.
    #[serde(default)]
    pub email: Option<String>,
    /// `fr` (default) or `en`.
    #[serde(default)]
    pub language: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RestockAccepted {
    pub id: i64,
}

/// Records a restock request; refused while the article is available.
pub async fn request_restock(
    ctx: &AppContext,
    caller: &super::Caller,
    store_code: &str,
    body: RestockRequest,
) -> Result<RestockAccepted, ApiError> {
    let language = match body.language.as_deref() {
        None | Some("fr") => "fr",
        Some("en") => "en",
        Some(other) => {
            return Err(ApiError::invalid(
                "invalid_language",
                format!("Language `{other}` is not offered; use fr or en."),
            ));
        }
    };
    let (email, staff_id) = match caller {
        super::Caller::Staff(staff) => (None, Some(staff.id)),
        super::Caller::Integration { .. } => {
            let raw = body.email.clone().ok_or_else(|| {
                ApiError::invalid("invalid_email", "Say where to tell the shopper: `email`.")
            })?;
            let email = crate::domain::customer::parse_email(&raw).map_err(|reason| {
                ApiError::invalid("invalid_email", format!("`{raw}`: {reason}."))
            })?;
            (Some(email), None)
        }
    };
    let tx = ctx.db.write().await?;
    let store = db::stores::find_by_code(&*tx, store_code)
        .await?
        .ok_or_else(|| unknown_store(store_code))?;
    caller.require_store(store.id, &store.code)?;
    let article = db::articles::find_by_sku(&*tx, &body.sku)
        .await?
        .ok_or_else(|| unknown_sku(&body.sku))?;
    let available = db::stock::level(&*tx, store.id, article.id)
        .await?
        .available();
    if available > 0 {
        return Err(ApiError::refused(
            "already_available",
            format!(
                "{available} of `{}` are available at `{}` now; reserve instead.",
                article.sku, store.code
            ),
        ));
    }
    let row = db::restock::insert(
        &*tx,
        store.id,
        article.id,
        email,
        staff_id,
        language,
        ctx.clock.now(),
    )
    .await?;
    tx.commit().await?;
    Ok(RestockAccepted { id: row.id })
}

/// Tells everyone waiting for an article that is available again (once each).
async fn announce_restock(
    conn: &impl sea_orm::ConnectionTrait,
    store: &schema::entities::store::Model,
    article: &schema::entities::article::Model,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), ApiError> {
    for request in db::restock::waiting(conn, store.id, article.id).await? {
        if !db::restock::mark_notified(conn, request.id, now).await? {
            continue;
        }
        let to = match (&request.email, request.staff_id) {
            (Some(email), _) => email.clone(),
            (None, Some(staff_id)) => match db::staff::find_by_id(conn, staff_id).await? {
                Some(staff) => staff.email,
                None => continue,
            },
            (None, None) => continue,
        };
        let payload = json!({
            "template": "restock", "to": to, "language": request.language,
            "store": store.code, "sku": article.sku,
        });
        db::outbox::enqueue(
            conn,
            crate::notify::SHOPPER_EMAIL,
            &format!("restock:{}", request.id),
            payload,
            None,
            now,
        )
        .await?;
    }
    Ok(())
}
