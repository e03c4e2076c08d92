//! Stores and articles: create, replace, read, and the bulk reservable switch.

use schema::entities::{article, store};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::unknown_store;
use crate::context::AppContext;
use crate::domain::opening_hours::{OpeningHours, WeeklyJson};
use crate::error::ApiError;
use crate::store::{self as db, articles::ArticleSelection, stores::StoreFields};

/// A store as the API shows and accepts it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StoreBody {
    /// Short code used in every path, e.g. `PAR01`. Ignored on PUT (the path wins).
    #[serde(default)]
    pub code: Option<String>,
    pub name: String,
    /// Address of the store's reservation team (fallback for alerts).
    pub email: String,
    /// IANA time zone, e.g. `Europe/Paris`.
    pub time_zone: String,
    /// `{"mon":[["09:00","12:30"],["14:00","19:00"]],...,"sun":[]}`; days left
    /// out are closed; omitted entirely = open around the clock.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub opening_hours: Option<WeeklyJson>,
    /// Dates (`YYYY-MM-DD`) the store is closed.
    #[serde(default)]
    pub closed_dates: Vec<String>,
    #[serde(default)]
    pub address: String,
}

fn valid_code(code: &str) -> bool {
    !code.is_empty()
        && code.len() <= 32
        && code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

fn store_fields(body: StoreBody) -> Result<StoreFields, ApiError> {
    if body.name.trim().is_empty() {
        return Err(ApiError::invalid("invalid_store", "A store needs a name."));
    }
    crate::domain::customer::parse_email(&body.email).map_err(|reason| {
        ApiError::invalid(
            "invalid_email",
            format!("Store email `{}`: {reason}.", body.email),
        )
    })?;
    let hours = match &body.opening_hours {
        Some(weekly) => OpeningHours::parse(&body.time_zone, weekly, &body.closed_dates),
        None => body
            .time_zone
            .parse()
            .map_err(|_| {
                format!(
                    "`{}` is not an IANA time zone such as Europe/Paris",
                    body.time_zone
                )
            })
            .map(OpeningHours::always_open)
            .and_then(|always| {
                OpeningHours::parse(&body.time_zone, &always.to_json(), &body.closed_dates)
            }),
    }
    .map_err(|reason| ApiError::invalid("invalid_opening_hours", format!("{reason}.")))?;
    Ok(StoreFields {
        name: body.name.trim().to_string(),
        email: body.email.trim().to_string(),
        time_zone: body.time_zone,
        opening_hours_json: serde_json::to_string(&hours.to_json()).map_err(anyhow::Error::from)?,
        closed_dates_json: serde_json::to_string(&hours.closed_dates_json())
            .map_err(anyhow::Error::from)?,
        address: body.address,
    })
}

pub fn store_view(model: &store::Model) -> StoreBody {
    StoreBody {
        code: Some(model.code.clone()),
        name: model.name.clone(),
        email: model.email.clone(),
        time_zone: model.time_zone.clone(),
        opening_hours: serde_json::from_str(&model.opening_hours).ok(),
        closed_dates: serde_json::from_str(&model.closed_dates).unwrap_or_default(),
        address: model.address.clone(),
    }
}

pub async fn create_store(ctx: &AppContext, body: StoreBody) -> Result<StoreBody, ApiError> {
    let code = body.code.clone().unwrap_or_default();
    if !valid_code(&code) {
        return Err(ApiError::invalid(
            "invalid_store_code",
            "A store code is 1 to 32 letters, digits, - or _.",
        ));
    }
    let fields = store_fields(body)?;
    let tx = ctx.db.write().await?;
    if db::stores::find_by_code(&*tx, &code).await?.is_some() {
        return Err(ApiError::conflict(
            "store_exists",
            format!(
                "A store with code `{code}` already exists; PUT /api/v1/stores/{code} replaces it."
            ),
        ));
    }
    let model = db::stores::insert(&*tx, &code, fields, ctx.clock.now()).await?;
    tx.commit().await?;
    Ok(store_view(&model))
}

/// Creates or replaces the store at `code`. Returns the view and whether it is new.
pub async fn put_store(
    ctx: &AppContext,
    code: &str,
    body: StoreBody,
) -> Result<(StoreBody, bool), ApiError> {
    if !valid_code(code) {
        return Err(ApiError::invalid(
            "invalid_store_code",
            "A store code is 1 to 32 letters, digits, - or _.",
        ));
    }
    let fields = store_fields(body)?;
    let tx = ctx.db.write().await?;
    let (model, created) = match db::stores::find_by_code(&*tx, code).await? {
        Some(existing) => (db::stores::update(&*tx, existing, fields).await?, false),
        None => (
            db::stores::insert(&*tx, code, fields, ctx.clock.now()).await?,
            true,
        ),
    };
    tx.commit().await?;
    ctx.catalogue.changed();
    Ok((store_view(&model), created))
}

pub async fn get_store(ctx: &AppContext, code: &str) -> Result<store::Model, ApiError> {
    db::stores::find_by_code(ctx.db.conn(), code)
        .await?
        .ok_or_else(|| unknown_store(code))
}

pub async fn list_stores(ctx: &AppContext) -> Result<Vec<StoreBody>, ApiError> {
    Ok(db::stores::list(ctx.db.conn())
        .await?
        .iter()
        .map(store_view)
        .collect())
}

/// An article variant as the API shows and accepts it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ArticleBody {
    /// Present in answers; ignored on PUT (the path wins).
    #[serde(default)]
    pub sku: Option<String>,
    pub designation: String,
    /// Variant label, e.g. "Blue, 42".
    #[serde(default)]
    pub variant: Option<String>,
    /// Barcode checked at hand-over.
    #[serde(default)]
    pub ean: Option<String>,
    #[serde(default)]
    pub reservable: bool,
}

pub fn article_view(model: &article::Model) -> ArticleBody {
    ArticleBody {
        sku: Some(model.sku.clone()),
        designation: model.designation.clone(),
        variant: model.variant.clone(),
        ean: model.ean.clone(),
        reservable: model.reservable,
    }
}

pub fn unknown_sku(sku: &str) -> ApiError {
    ApiError::not_found(
        "unknown_sku",
        format!("There is no article with SKU `{sku}`."),
    )
}

fn valid_ean(ean: &str) -> bool {
    matches!(ean.len(), 8 | 12 | 13 | 14) && ean.chars().all(|c| c.is_ascii_digit())
}

pub async fn put_article(
    ctx: &AppContext,
    sku: &str,
    body: ArticleBody,
) -> Result<ArticleBody, ApiError> {
    if sku.trim().is_empty() || sku.len() > 64 {
        return Err(ApiError::invalid(
            "invalid_sku",
            "A SKU is 1 to 64 characters.",
        ));
    }
    if body.designation.trim().is_empty() {
        return Err(ApiError::invalid(
            "invalid_article",
            "An article needs a designation.",
        ));
    }
    if let Some(ean) = &body.ean
        && !valid_ean(ean)
    {
        return Err(ApiError::invalid(
            "invalid_ean",
            format!("EAN `{ean}` must be 8, 12, 13 or 14 digits."),
        ));
    }
    let tx = ctx.db.write().await?;
    db::articles::upsert(
        &*tx,
        sku,
        body.designation.trim(),
        body.variant,
        body.ean,
        body.reservable,
        ctx.clock.now(),
    )
    .await?;
    let model = db::articles::find_by_sku(&*tx, sku)
        .await?
        .ok_or_else(|| unknown_sku(sku))?;
    tx.commit().await?;
    ctx.catalogue.changed();
    Ok(article_view(&model))
}

pub async fn get_article(ctx: &AppContext, sku: &str) -> Result<ArticleBody, ApiError> {
    db::articles::find_by_sku(ctx.db.conn(), sku)
        .await?
        .map(|m| article_view(&m))
        .ok_or_else(|| unknown_sku(sku))
}

pub async fn list_articles(ctx: &AppContext) -> Result<Vec<ArticleBody>, ApiError> {
    Ok(db::articles::list(ctx.db.conn())
        .await?
        .iter()
        .map(article_view)
        .collect())
}

/// Which articles a bulk change applies to.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ArticleFilter {
    /// SKUs starting with this.
    #[serde(default)]
    pub sku_prefix: Option<String>,
    /// Designation containing these words (case-insensitive).
    #[serde(default)]
    pub designation: Option<String>,
}

/// Bulk reservable switch: by SKU list or by filter.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkReservable {
    #[serde(default)]
    pub skus: Option<Vec<String>>,
    #[serde(default)]
    pub filter: Option<ArticleFilter>,
    pub reservable: bool,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BulkReservableResult {
    /// Articles changed.
    pub updated: u64,
    /// SKUs of the list that do not exist.
    pub unknown_skus: Vec<String>,
}

pub async fn bulk_reservable(
    ctx: &AppContext,
    body: BulkReservable,
) -> Result<BulkReservableResult, ApiError> {
    let (selection, unknown_skus) = match (body.skus, body.filter) {
        (Some(skus), None) => {
            let found = db::articles::find_by_skus(ctx.db.conn(), &skus).await?;
            let unknown = skus
                .iter()
                .filter(|sku| !found.iter().any(|a| &a.sku == *sku))
                .cloned()
                .collect();
            (ArticleSelection::Skus(skus), unknown)
        }
        (None, Some(filter)) => {
            if filter.sku_prefix.is_none() && filter.designation.is_none() {
                return Err(ApiError::invalid(
                    "invalid_filter",
                    "A filter needs `sku_prefix` or `designation`; to change every article, say so with sku_prefix \"\".",
                ));
            }
            (
                ArticleSelection::Filter {
                    sku_prefix: filter.sku_prefix,
                    designation_contains: filter.designation,
                },
                Vec::new(),
            )
        }
        _ => {
            return Err(ApiError::invalid(
                "invalid_selection",
                "Give exactly one of `skus` or `filter`.",
            ));
        }
    };
    let tx = ctx.db.write().await?;
    let updated =
        db::articles::set_reservable(&*tx, selection, body.reservable, ctx.clock.now()).await?;
    tx.commit().await?;
    ctx.catalogue.changed();
    Ok(BulkReservableResult {
        updated,
        unknown_skus,
    })
}
