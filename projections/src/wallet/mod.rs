//! The wallet context's read models: balances and transactions, ledger account balances, and
//! withdrawals; `queries` reads them.

mod balances;
mod ledger;
pub mod queries;
mod withdrawals;

pub use balances::{TransactionRow, WalletProjector, transaction_row};
pub use ledger::LedgerProjector;
pub use withdrawals::WithdrawalsProjector;

use std::sync::Arc;

use crate::Projector;

pub(crate) fn projectors() -> Vec<Arc<dyn Projector>> {
    vec![Arc::new(WalletProjector), Arc::new(LedgerProjector), Arc::new(WithdrawalsProjector)]
}
