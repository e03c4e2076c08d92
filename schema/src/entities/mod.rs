//! sea-orm entities, one file per table. Relations are joined explicitly in
//! the hub's `store/` queries, so the entities stay plain rows.

pub mod alert_subscription;
pub mod api_key;
pub mod article;
pub mod customer;
pub mod idempotency_record;
pub mod message_template;
pub mod outbox;
pub mod push_device;
pub mod reservation;
pub mod reservation_event;
pub mod reservation_line;
pub mod restock_request;
pub mod setting;
pub mod staff;
pub mod staff_session;
pub mod staff_store;
pub mod stock_level;
pub mod store;
