//! `settle`: releases every pending earning that is due now, as the server's scheduler does at
//! its next tick, through the same wallet commands (so running it while the scheduler runs, or
//! twice, releases nothing twice).

use std::io::Write;

use anyhow::Context;
use chrono::Utc;
use commands::Commands;
use event_store::EventStore;
use projections::wallet::queries::WalletQueries;
use sqlx::MySqlPool;

use crate::ExitStatus;

/// Wallets settled per query of the read model.
const WALLETS_PER_BATCH: u32 = 500;

pub(crate) async fn settle(store: &EventStore, pool: &MySqlPool, out: &mut dyn Write) -> anyhow::Result<ExitStatus> {
    let commands = Commands::new(store.clone());
    // Which wallets have something due comes from the wallet read model; each wallet then
    // decides on its own events.
    let wallets = WalletQueries::new(pool.clone(), tokio::sync::watch::channel(0).1);
    let now = Utc::now();
    let (mut released, mut asked) = (0, 0);
    loop {
        let due = wallets.wallets_with_due_earnings(now, WALLETS_PER_BATCH).await.context("cannot read the wallets with due earnings")?;
        asked += due.len();
        let settled = commands.wallet.settle_due(&due, now, "ispeaker-replay settle").await.context("cannot release earnings")?;
        released += settled;
        if settled == 0 || due.len() < WALLETS_PER_BATCH as usize {
            break;
        }
    }
    writeln!(out, "released {released} earnings due by {} ({asked} wallets asked)", now.to_rfc3339()).context("writing the report")?;
    Ok(ExitStatus::Success)
}
