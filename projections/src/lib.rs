//! The read side: projectors that fold the event log into read-model tables, and the runtime
//! that keeps them current — catching up from the event store, following NATS JetStream live
//! (one subscription per process, shared), and rebuilding into shadow tables that are swapped in
//! whole.
//!
//! A projector writes only its own tables, and always together with its checkpoint in one
//! transaction, so every event takes effect exactly once. Read models are disposable: a rebuild
//! from the log gives the same rows.

mod error;
mod ledger;
mod live;
mod rebuild;
mod runtime;
mod users;
mod wallet;
mod withdrawals;

use std::sync::Arc;

pub use error::ProjectionError;
pub use ledger::LedgerProjector;
pub use live::{Chunk, LiveConfig, LiveFeed};
pub use rebuild::{RebuildReport, rebuild};
pub use runtime::{BoxFuture, Prepared, Projector, ProjectorRunner, RunnerConfig, Tables, checkpoint};
pub use users::UsersProjector;
pub use wallet::{TransactionRow, WalletProjector, transaction_row};
pub use withdrawals::WithdrawalsProjector;

/// Every projector of the system, in the order operators see them.
pub fn all() -> Vec<Arc<dyn Projector>> {
    vec![Arc::new(WalletProjector), Arc::new(LedgerProjector), Arc::new(WithdrawalsProjector), Arc::new(UsersProjector)]
}

/// The projector with this name.
pub fn by_name(name: &str) -> Option<Arc<dyn Projector>> {
    all().into_iter().find(|p| p.name() == name)
}
