//! `settle`: releases every pending earning that is due now, as the server's scheduler does at
//! its next tick, through the same wallet commands (so running it while the scheduler runs, or
//! twice, releases nothing twice).

use std::io::Write;

use anyhow::Context;
use chrono::Utc;
use commands::Commands;
use event_store::EventStore;
use projections::wallet::queries::wallets_with_due_earnings;
use sqlx::MySqlPool;

use crate::ExitStatus;

pub(crate) async fn settle(store: &EventStore, pool: &MySqlPool, out: &mut dyn Write) -> anyhow::Result<ExitStatus> {
    let commands = Commands::new(store.clone());
    let now = Utc::now();
    let released = commands.wallet.release_due(now, "ispeaker-replay settle", |limit| wallets_with_due_earnings(pool, now, limit)).await?;
    writeln!(out, "released {released} earnings due by {}", now.to_rfc3339()).context("writing the report")?;
    Ok(ExitStatus::Success)
}
