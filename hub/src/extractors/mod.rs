//! Request extractors that do the checking, so handlers stay short.

pub mod api_caller;
pub mod idempotency_key;

pub use api_caller::{AdminCaller, ApiCaller};
pub use idempotency_key::IdempotencyKey;
