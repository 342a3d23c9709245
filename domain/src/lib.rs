//! The pure business core of iSpeaker Live: it decides what happens (`handle` turns a command
//! into events or a rejection) and applies what happened (`apply` folds events into state). It
//! never does I/O: no database, no network, no clock and no randomness (clippy's
//! `disallowed-methods` refuses them here). Times and ids come in through commands, so every
//! decision is reproducible from its inputs, and replaying the same events always rebuilds the
//! same state.
//!
//! `kernel` is what every context builds on; each context (`users`, `wallet`, `catalogue`, `commerce`, `invoicing`, `rooms`, `social`, `gifts`, …) keeps its
//! aggregates, events with their schema table, and rejections in a module of its own.

pub mod catalogue;
pub mod chat;
pub mod commerce;
pub mod gifts;
pub mod invoicing;
pub mod kernel;
pub mod ledger;
pub mod money;
pub mod notifications;
pub mod rooms;
pub mod social;
pub mod users;
pub mod wallet;

/// Every context's events, upcasters and rejections: one line per context.
pub const CONTEXTS: &[&kernel::ContextEvents] = &[&users::EVENTS, &wallet::EVENTS, &catalogue::EVENTS, &commerce::EVENTS, &invoicing::EVENTS, &rooms::EVENTS, &social::EVENTS, &gifts::EVENTS, &chat::EVENTS, &notifications::EVENTS];
