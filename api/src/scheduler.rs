//! The scheduler: the server's timed jobs, run by one process at a time. Like the relay, it
//! leads while it holds a MariaDB named lock scoped to this store; other processes wait for the
//! lock. Every job is idempotent anyway, so a second runner would change nothing.
//!
//! Jobs, each on the command side's clock: releasing speakers' pending earnings once they are due
//! (`EARNINGS_RELEASE_DAYS`); starting live rooms whose start has come and completing active ones
//! past their end; marking consultations nobody completed a day after their end as no-shows.

use std::time::Duration;

use commands::{CommandContext, Commands};
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
            // `lead` may have seen the shutdown already: waiting for another change would sleep
            // out a whole interval (30 s by default) before the process could exit.
            if *shutdown.borrow() {
                break;
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
            let done = tick(&self.commands, &self.queries).await?;
            if done != Tick::default() {
                tracing::info!(?done, "scheduled work done");
            }
        }
    }
}

/// Rooms or bookings one tick looks at, at most; the next tick takes the rest.
const DUE_PER_TICK: u32 = 1000;

/// What one tick did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tick {
    pub earnings_released: usize,
    /// Rooms started or completed.
    pub rooms_advanced: usize,
    pub no_shows: usize,
}

/// Every job, once, as of the command side's clock. Idempotent: a second run, or one in another
/// process at the same moment, finds nothing left to do (each change is decided on its stream's
/// version, so two runners cannot both append it).
pub async fn tick(commands: &Commands, queries: &Queries) -> anyhow::Result<Tick> {
    let now = commands.kernel.now();
    let context = CommandContext::by(ACTOR);
    let earnings_released = commands.wallet.release_due(now, ACTOR, |limit| queries.wallet.wallets_with_due_earnings(now, limit)).await?;
    let due = queries.rooms.due(now, DUE_PER_TICK).await?;
    let mut tick = Tick { earnings_released, ..Tick::default() };
    for room_id in due.rooms {
        tick.rooms_advanced += usize::from(commands.rooms.advance(room_id, &context).await?.position().is_some());
    }
    for booking_id in due.no_shows {
        tick.no_shows += usize::from(commands.rooms.mark_no_show(booking_id, &context).await?.position().is_some());
    }
    Ok(tick)
}
