//! One error type for the HTTP boundary: a stable snake_case code that
//! clients match on, a sentence for people, and the status code.

use actix_web::{HttpResponse, ResponseError, http::StatusCode};
use serde::Serialize;
use utoipa::ToSchema;

/// The JSON body of every error answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// Stable machine-readable code, e.g. `out_of_stock`.
    pub error: String,
    /// A sentence saying what went wrong and, where it helps, what to do.
    pub message: String,
    /// With `reservation_already_handled`: who acted first, and when, so an
    /// app can say it in its own words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub handled: Option<Handled>,
}

/// What a reservation already became, and by whom.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Handled {
    pub number: String,
    /// The state it is in now.
    pub state: String,
    /// The staff member's name, or null when the system or the shopper acted.
    pub by: Option<String>,
    pub at: chrono::DateTime<chrono::Utc>,
}

/// Every refusal and failure the API can answer with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The caller's input is malformed or breaks a rule of the format (400).
    #[error("{message}")]
    Invalid { code: &'static str, message: String },
    /// No or bad credentials (401).
    #[error("{message}")]
    Unauthorized { code: &'static str, message: String },
    /// Authenticated but not allowed (403).
    #[error("{message}")]
    Forbidden { code: &'static str, message: String },
    /// The named thing does not exist (404).
    #[error("{message}")]
    NotFound { code: &'static str, message: String },
    /// State conflict or idempotency-key reuse (409).
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// Someone acted on the reservation first (409).
    #[error("{message}")]
    AlreadyHandled {
        message: String,
        handled: Box<Handled>,
    },
    /// Body larger than allowed (413).
    #[error("{message}")]
    TooLarge { code: &'static str, message: String },
    /// A business rule refuses the request: limit, stock, module off (422).
    #[error("{message}")]
    Refused { code: &'static str, message: String },
    /// Anything the caller cannot fix; the cause is logged, never sent.
    #[error("unexpected error")]
    Unexpected(#[source] anyhow::Error),
}

impl ApiError {
    /// PostgreSQL aborted the transaction to break a deadlock (see
    /// [`crate::store::is_lock_conflict`]): nothing was written.
    pub fn is_lock_conflict(&self) -> bool {
        match self {
            Self::Unexpected(err) => err
                .downcast_ref::<sea_orm::DbErr>()
                .is_some_and(crate::store::is_lock_conflict),
            _ => false,
        }
    }

    pub fn invalid(code: &'static str, message: impl Into<String>) -> Self {
        Self::Invalid {
            code,
            message: message.into(),
        }
    }
    pub fn not_found(code: &'static str, message: impl Into<String>) -> Self {
        Self::NotFound {
            code,
            message: message.into(),
        }
    }
    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::Conflict {
            code,
            message: message.into(),
        }
    }
    pub fn refused(code: &'static str, message: impl Into<String>) -> Self {
        Self::Refused {
            code,
            message: message.into(),
        }
    }
    pub fn unauthorized(code: &'static str, message: impl Into<String>) -> Self {
        Self::Unauthorized {
            code,
            message: message.into(),
        }
    }

    /// The stable code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Invalid { code, .. }
            | Self::Unauthorized { code, .. }
            | Self::Forbidden { code, .. }
            | Self::NotFound { code, .. }
            | Self::Conflict { code, .. }
            | Self::TooLarge { code, .. }
            | Self::Refused { code, .. } => code,
            Self::AlreadyHandled { .. } => "reservation_already_handled",
            Self::Unexpected(_) => "internal_error",
        }
    }

    fn message(&self) -> String {
        match self {
            Self::Unexpected(_) => {
                "Something went wrong on our side; the request changed nothing. Try again.".into()
            }
            other => other.to_string(),
        }
    }
}

impl From<sea_orm::DbErr> for ApiError {
    fn from(err: sea_orm::DbErr) -> Self {
        Self::Unexpected(err.into())
    }
}

impl From<anyhow::Error> for ApiError {
    fn from(err: anyhow::Error) -> Self {
        Self::Unexpected(err)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Invalid { .. } => StatusCode::BAD_REQUEST,
            Self::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            Self::Forbidden { .. } => StatusCode::FORBIDDEN,
            Self::NotFound { .. } => StatusCode::NOT_FOUND,
            Self::Conflict { .. } | Self::AlreadyHandled { .. } => StatusCode::CONFLICT,
            Self::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Refused { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Unexpected(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let Self::Unexpected(cause) = self {
            // Logged once, here, with the whole chain.
            tracing::error!(error = format!("{cause:#}"), "unexpected error");
        }
        HttpResponse::build(self.status_code()).json(ErrorBody {
            error: self.code().to_string(),
            message: self.message(),
            handled: match self {
                Self::AlreadyHandled { handled, .. } => Some((**handled).clone()),
                _ => None,
            },
        })
    }
}

/// The codes every endpoint can answer with, listed for the OpenAPI document.
pub const COMMON_ERROR_CODES: &[&str] = &[
    "malformed_json",
    "payload_too_large",
    "invalid_query",
    "invalid_path",
    "missing_api_key",
    "invalid_api_key",
    "internal_error",
];
