//! The pure business core of iSpeaker Live's wallet and ledger: it decides what happens
//! (`handle` turns a command into events or a rejection) and applies what happened (`apply`
//! folds events into state). It never does I/O: no database, no network, no clock and no
//! randomness. Times and ids come in through commands, so every decision is reproducible
//! from its inputs, and replaying the same events always rebuilds the same state.

pub mod codec;
pub mod ledger;
pub mod money;
pub mod schema;
pub mod user;
pub mod top_up;
pub mod wallet;
