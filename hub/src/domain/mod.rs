//! Pure business logic: no I/O, no async. Services ask these modules what is
//! allowed and what follows, then persist the answer.

pub mod customer;
pub mod limits;
pub mod opening_hours;
pub mod reservation;
pub mod settings;
pub mod stock;
pub mod timers;
pub mod tokens;
