//! sea-orm entities, one file per table. Relations are joined explicitly in
//! the hub's `store/` queries, so the entities stay plain rows.

pub mod alert_subscription;
pub mod api_key;
pub mod article;
pub mod customer;
pub mod idempotency_record;
pub mod outbox;
pub mod reservation;
pub mod reservation_event;
pub mod reservation_line;
pub mod setting;
pub mod staff;
pub mod staff_session;
pub mod staff_store;
pub mod stock_level;
pub mod store;
