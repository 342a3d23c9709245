//! The HTTP service the client apps talk to: actix-web handlers that authenticate, validate a
//! request into a typed command or query, and hand it to the command layer or the read models.
//!
//! Only this crate knows HTTP. Handlers hold no business rule and never write a table: every
//! change goes through `commands`, every read through the projections' tables.

pub mod auth;
pub mod envelope;
pub mod error;
pub mod extract;
pub mod i18n;
pub mod idempotency;
pub mod middleware;
pub mod openapi;
pub mod routes;
pub mod seed;
pub mod settings;
pub mod startup;

pub use settings::Settings;
pub use startup::Application;
