//! Staff accounts: creation, sign-in sessions and store memberships.
//!
//! Passwords are argon2id hashes. Session tokens are 256 random bits handed
//! to the app once; only their SHA-256 is stored (like API keys, a fast hash
//! is right for high-entropy secrets checked on every request).

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use chrono::{DateTime, Duration, Utc};
use rand::Rng;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{Caller, StaffIdentity, api_keys::digest};
use crate::context::AppContext;
use crate::domain::customer::parse_email;
use crate::error::ApiError;
use crate::store;

/// Prefix of staff session tokens (API keys start with `shk_`).
pub const TOKEN_PREFIX: &str = "sht_";
/// How long a sign-in lasts: a shift week on a shared phone.
const SESSION_DAYS: i64 = 7;
const MIN_PASSWORD: usize = 10;

/// A staff member's access level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Acts on the stores they belong to.
    Staff,
    /// Their stores, plus the alert lists of the stores they manage.
    Manager,
    /// Everything.
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Staff => "staff",
            Role::Manager => "manager",
            Role::Admin => "admin",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        [Role::Staff, Role::Manager, Role::Admin]
            .into_iter()
            .find(|r| r.as_str() == text)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct StaffView {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub role: Role,
    /// Codes of the stores they belong to.
    pub stores: Vec<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LoginResult {
    /// Send as `Authorization: Bearer <token>` (or `?token=` on the WebSocket).
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub staff: StaffView,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewStaff {
    pub email: String,
    pub name: String,
    pub password: String,
    pub role: Role,
    /// Store codes.
    #[serde(default)]
    pub stores: Vec<String>,
}

fn hash_password(password: &str) -> Result<String, ApiError> {
    let salt_bytes: [u8; 16] = rand::rng().random();
    let salt = SaltString::encode_b64(&salt_bytes)
        .map_err(|e| ApiError::Unexpected(anyhow::anyhow!("salt: {e}")))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| ApiError::Unexpected(anyhow::anyhow!("argon2: {e}")))
}

fn password_matches(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Creates a staff account with its store memberships.
pub async fn create(ctx: &AppContext, new: NewStaff) -> Result<StaffView, ApiError> {
    let email = parse_email(&new.email)
        .map_err(|reason| {
            ApiError::invalid(
                "invalid_email",
                format!("Staff email `{}`: {reason}.", new.email),
            )
        })?
        .to_lowercase();
    if new.password.chars().count() < MIN_PASSWORD {
        return Err(ApiError::invalid(
            "weak_password",
            format!("A password needs at least {MIN_PASSWORD} characters."),
        ));
    }
    let name = new.name.trim().to_string();
    if name.is_empty() {
        return Err(ApiError::invalid(
            "invalid_name",
            "A staff member needs a name.",
        ));
    }
    let hash = hash_password(&new.password)?;
    let tx = ctx.db.write().await?;
    let mut store_ids = Vec::new();
    for code in &new.stores {
        let found = store::stores::find_by_code(&*tx, code)
            .await?
            .ok_or_else(|| super::unknown_store(code))?;
        store_ids.push(found.id);
    }
    if store::staff::find_by_email(&*tx, &email).await?.is_some() {
        return Err(ApiError::conflict(
            "staff_exists",
            format!("A staff account for {email} already exists."),
        ));
    }
    let model = store::staff::insert(
        &*tx,
        &email,
        &name,
        &hash,
        new.role.as_str(),
        ctx.clock.now(),
    )
    .await?;
    store::staff::set_stores(&*tx, model.id, &store_ids).await?;
    tx.commit().await?;
    // A new member hears the alerts of the stores without a list.
    ctx.catalogue.changed();
    view(ctx, model.id).await
}

pub async fn view(ctx: &AppContext, staff_id: i64) -> Result<StaffView, ApiError> {
    let conn = ctx.db.conn();
    let model = store::staff::find_by_id(conn, staff_id)
        .await?
        .ok_or_else(|| {
            ApiError::not_found(
                "unknown_staff",
                format!("There is no staff member {staff_id}."),
            )
        })?;
    let stores = store::staff::store_codes(conn, staff_id).await?;
    Ok(StaffView {
        id: model.id,
        email: model.email,
        name: model.name,
        role: Role::parse(&model.role).unwrap_or(Role::Staff),
        stores,
    })
}

/// Email + password -> a session token.
pub async fn login(ctx: &AppContext, email: &str, password: &str) -> Result<LoginResult, ApiError> {
    let refused = || ApiError::unauthorized("invalid_credentials", "Wrong email or password.");
    let found = store::staff::find_by_email(ctx.db.conn(), &email.trim().to_lowercase()).await?;
    let Some(staff) = found.filter(|s| s.active) else {
        // Same work as a real check, so timing does not tell which emails exist.
        let _ = password_matches(
            password,
            "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$0000000000000000000000000000000000000000000",
        );
        return Err(refused());
    };
    if !password_matches(password, &staff.password_hash) {
        return Err(refused());
    }
    let secret: [u8; 32] = rand::rng().random();
    let token = format!("{TOKEN_PREFIX}{}", hex::encode(secret));
    let now = ctx.clock.now();
    let expires_at = now + Duration::days(SESSION_DAYS);
    let tx = ctx.db.write().await?;
    store::staff::insert_session(&*tx, staff.id, &digest(&token), now, expires_at).await?;
    tx.commit().await?;
    Ok(LoginResult {
        token,
        expires_at,
        staff: view(ctx, staff.id).await?,
    })
}

pub async fn logout(ctx: &AppContext, token: &str) -> Result<(), ApiError> {
    let tx = ctx.db.write().await?;
    store::staff::delete_session(&*tx, &digest(token)).await?;
    tx.commit().await?;
    Ok(())
}

/// The identity of an active staff member.
pub async fn identity(ctx: &AppContext, staff_id: i64) -> Result<Option<StaffIdentity>, ApiError> {
    let conn = ctx.db.conn();
    let Some(staff) = store::staff::find_by_id(conn, staff_id)
        .await?
        .filter(|s| s.active)
    else {
        return Ok(None);
    };
    let store_ids = store::staff::store_ids(conn, staff.id).await?;
    Ok(Some(StaffIdentity {
        id: staff.id,
        name: staff.name,
        role: Role::parse(&staff.role).unwrap_or(Role::Staff),
        store_ids,
    }))
}

/// The staff member a session token belongs to, if valid and not expired.
pub async fn authenticate(ctx: &AppContext, token: &str) -> Result<Option<Caller>, ApiError> {
    if !token.starts_with(TOKEN_PREFIX) {
        return Ok(None);
    }
    let Some(signed_in) = store::staff::signed_in(ctx.db.conn(), &digest(token)).await? else {
        return Ok(None);
    };
    if signed_in.expires_at <= ctx.clock.now() {
        return Ok(None);
    }
    Ok(Some(Caller::Staff(StaffIdentity {
        id: signed_in.staff_id,
        name: signed_in.name,
        role: Role::parse(&signed_in.role).unwrap_or(Role::Staff),
        store_ids: signed_in.store_ids,
    })))
}
