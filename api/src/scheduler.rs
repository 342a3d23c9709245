//! The scheduler: the server's timed jobs, run by one process at a time. Like the relay, it
//! leads while it holds a MariaDB named lock scoped to this store; other processes wait for the
//! lock. Every job is idempotent anyway, so a second runner would change nothing.
//!
//! Jobs: releasing speakers' pending earnings once they are due (`EARNINGS_RELEASE_DAYS`).

use std::time::Duration;

use chrono::Utc;
use commands::Commands;
use event_store::EventStore;
use projections::Queries;
use tokio::sync::watch;

/// Who the scheduler's events name as their actor.
pub const ACTOR: &str = "scheduler";

pub struct Scheduler {
    store: EventStore,
    commands: Commands,
    queries: Queries,
    interval: Duration,
}

impl Scheduler {
    pub fn new(store: EventStore, commands: Commands, queries: Queries, interval: Duration) -> Self {
        Self { store, commands, queries, interval }
    }

    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        while !*shutdown.borrow() {
            if let Err(error) = self.lead(&mut shutdown).await {
                tracing::warn!(error = %format_args!("{error:#}"), "scheduler interrupted, will retry");
            }
            tokio::select! {
                _ = tokio::time::sleep(self.interval) => {}
                _ = shutdown.changed() => {}
            }
        }
    }

    /// Waits for the lock, then ticks until shutdown (Ok) or a database error (Err). Dropping the
    /// lock's connection on return gives up the lead.
    async fn lead(&self, shutdown: &mut watch::Receiver<bool>) -> anyhow::Result<()> {
        let mut lock = self.store.pool().acquire().await?.detach();
        let lock_name = self.store.lock_name("scheduler");
        loop {
            let granted: Option<i64> = sqlx::query_scalar("SELECT GET_LOCK(?, 0)").bind(&lock_name).fetch_one(&mut lock).await?;
            if granted == Some(1) {
                break;
            }
            tokio::select! {
                _ = tokio::time::sleep(self.interval) => {}
                _ = shutdown.changed() => return Ok(()),
            }
        }
        tracing::info!(lock = %lock_name, "scheduler is leading");
        let mut ticks = tokio::time::interval(self.interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = ticks.tick() => {}
                _ = shutdown.changed() => return Ok(()),
            }
            // Still leading: a lost connection would have released the lock.
            sqlx::query("SELECT 1").execute(&mut lock).await?;
            let released = release_due_earnings(&self.commands, &self.queries).await?;
            if released > 0 {
                tracing::info!(released, "released due earnings");
            }
        }
    }
}

/// Releases every earning due now, wallet by wallet: how many were released.
pub async fn release_due_earnings(commands: &Commands, queries: &Queries) -> anyhow::Result<usize> {
    let now = Utc::now();
    Ok(commands.wallet.release_due(now, ACTOR, |limit| queries.wallet.wallets_with_due_earnings(now, limit)).await?)
}
