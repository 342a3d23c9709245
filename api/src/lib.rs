//! The HTTP service the client apps talk to: actix-web handlers that authenticate, validate a
//! request into a typed command or query, and hand it to the command facade or the query facade.
//!
//! Only this crate knows HTTP. Handlers hold no business rule, never write a table and never
//! reach the database or the store directly: every change goes through `commands::Commands`,
//! every read through `projections::Queries`. Each context keeps its routes, DTOs and messages
//! in a module of its own (`users`, `wallet`, …).

pub mod auth;
pub mod catalogue;
pub mod chat;
pub mod commerce;
pub mod docs;
pub mod envelope;
pub mod error;
pub mod extract;
pub mod gifts;
pub mod health;
pub mod i18n;
pub mod idempotency;
pub mod invoicing;
pub mod middleware;
pub mod notifications;
pub mod openapi;
pub mod realtime;
pub mod rooms;
pub mod routes;
pub mod scheduler;
pub mod seed;
pub mod social;
pub mod settings;
pub mod startup;
pub mod users;
pub mod wallet;

pub use settings::Settings;
pub use startup::Application;
