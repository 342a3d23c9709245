//! The projector runtime: checkpoints, exactly-once batches, catch-up and live following.

use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use domain::kernel::EventType;
use event_store::{EventStore, RecordedEvent};
use sqlx::{Connection, MySqlConnection, MySqlPool, Row};
use tokio::sync::{broadcast, watch};

use crate::ProjectionError;
use crate::live::{Chunk, LiveFeed};

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Where a projector writes: its live tables, or the shadow copies a rebuild fills.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tables {
    suffix: &'static str,
}

impl Tables {
    pub const LIVE: Tables = Tables { suffix: "" };
    pub const SHADOW: Tables = Tables { suffix: "__rebuild" };

    /// The physical name of a projector's table. Table names are compile-time constants, never
    /// input, so formatting them into SQL is safe.
    pub fn name(&self, table: &str) -> String {
        format!("{table}{}", self.suffix)
    }
}

/// A named, versioned fold of events into tables. Bumping `version` makes the runtime rebuild it.
pub trait Projector: Send + Sync + 'static {
    fn name(&self) -> &'static str;
    fn version(&self) -> u32;
    fn tables(&self) -> &'static [&'static str];
    /// The event types it projects, from the contexts' tables; a batch with none of them only
    /// moves its checkpoint.
    fn events(&self) -> &'static [&'static [EventType]];
    /// Decodes contiguous events into what to write: CPU only, no database, so a rebuild can
    /// prepare one batch while the previous one is being written.
    fn prepare(&self, events: &[RecordedEvent]) -> Result<Box<dyn Prepared>, ProjectionError>;
}

/// A batch a projector has prepared, ready to be written inside the caller's transaction.
pub trait Prepared: Send {
    /// Writes the rows. Must not commit.
    fn write<'a>(self: Box<Self>, connection: &'a mut MySqlConnection, tables: Tables) -> BoxFuture<'a, Result<(), ProjectionError>>;
}

#[derive(Clone, Debug)]
pub struct RunnerConfig {
    pub batch_size: usize,
    /// Without the live feed: how often to read the store while the last read found events or
    /// someone waits for a position…
    pub poll_busy_ms: u64,
    /// …and the longest pause it backs off to when idle (doubling from `poll_busy_ms`).
    pub poll_idle_max_ms: u64,
    /// Following the live feed: how long without a chunk before reading the store anyway…
    pub live_fallback_ms: u64,
    /// …and how long while someone waits for a position (NATS may be slow or have lost it).
    pub live_fallback_waited_ms: u64,
    pub lock_wait_seconds: u32,
}

impl Default for RunnerConfig {
    fn default() -> Self {
        Self { batch_size: 2000, poll_busy_ms: 20, poll_idle_max_ms: 1000, live_fallback_ms: 1000, live_fallback_waited_ms: 100, lock_wait_seconds: 30 }
    }
}

/// Who is waiting for a runner to reach a position: the runner reads the store more eagerly
/// while anyone does, and is woken when someone starts waiting.
#[derive(Default)]
struct Waiters {
    count: std::sync::atomic::AtomicUsize,
    arrived: tokio::sync::Notify,
}

/// Counts a waiter for as long as it lives.
struct Waiting<'a>(&'a Waiters);

impl<'a> Waiting<'a> {
    fn new(waiters: &'a Waiters) -> Self {
        waiters.count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        waiters.arrived.notify_waiters();
        Waiting(waiters)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.count.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
}

/// The named lock a projector's batches and its rebuild's swap take, scoped to the store.
pub fn lock_name(store: &EventStore, projector: &dyn Projector) -> String {
    store.lock_name(&format!("projector:{}", projector.name()))
}

/// The projector's checkpoint: (version, last applied position).
pub async fn checkpoint(pool: &MySqlPool, projector: &str) -> Result<Option<(u32, u64)>, ProjectionError> {
    let row = sqlx::query("SELECT version, position FROM projector_checkpoints WHERE projector = ?")
        .bind(projector)
        .fetch_optional(pool)
        .await?;
    Ok(match row {
        Some(row) => Some((row.try_get("version")?, row.try_get("position")?)),
        None => None,
    })
}

/// Runs `work` while holding the projector's named lock, which rebuilds take to swap tables.
pub(crate) async fn with_projector_lock<T>(
    connection: &mut MySqlConnection,
    store: &EventStore,
    projector: &dyn Projector,
    wait_seconds: u32,
    work: impl AsyncFnOnce(&mut MySqlConnection) -> Result<T, ProjectionError>,
) -> Result<T, ProjectionError> {
    let lock = lock_name(store, projector);
    let granted: Option<i64> =
        sqlx::query_scalar("SELECT GET_LOCK(?, ?)").bind(&lock).bind(wait_seconds).fetch_one(&mut *connection).await?;
    if granted != Some(1) {
        return Err(ProjectionError::LockTimeout(projector.name().to_owned()));
    }
    let result = work(&mut *connection).await;
    sqlx::query("SELECT RELEASE_LOCK(?)").bind(&lock).execute(&mut *connection).await?;
    result
}

/// Applies events and advances the checkpoint in one transaction. Events at or below the
/// checkpoint are skipped (redeliveries); a gap after it is reported, never skipped.
pub(crate) async fn apply_batch(
    store: &EventStore,
    projector: &dyn Projector,
    events: &[RecordedEvent],
    lock_wait_seconds: u32,
) -> Result<u64, ProjectionError> {
    let pool = store.pool();
    let Some(last) = events.last().map(|e| e.position) else { return checkpoint_position(pool, projector).await };
    let relevant = events.iter().any(|e| handles(projector, e));
    if !relevant {
        // Nothing to write but the checkpoint: one statement, no lock, no transaction. Events
        // without effects cannot be applied twice, and GREATEST never moves it back.
        sqlx::query("UPDATE projector_checkpoints SET position = GREATEST(position, ?), updated_at = UTC_TIMESTAMP(6) WHERE projector = ?")
            .bind(last)
            .bind(projector.name())
            .execute(pool)
            .await?;
        return Ok(last);
    }
    let mut connection = pool.acquire().await?;
    with_projector_lock(&mut connection, store, projector, lock_wait_seconds, async |connection| {
        let mut tx = connection.begin().await?;
        let position: u64 = sqlx::query_scalar("SELECT position FROM projector_checkpoints WHERE projector = ? FOR UPDATE")
            .bind(projector.name())
            .fetch_one(&mut *tx)
            .await?;
        let fresh_from = events.partition_point(|e| e.position <= position);
        let fresh = &events[fresh_from..];
        let Some(last) = fresh.last().map(|e| e.position) else {
            return Ok(position);
        };
        if let Some((expected, event)) = (position + 1..).zip(fresh).find(|(expected, event)| event.position != *expected) {
            return Err(ProjectionError::Hole { expected, got: event.position });
        }
        projector.prepare(fresh)?.write(&mut tx, Tables::LIVE).await?;
        sqlx::query("UPDATE projector_checkpoints SET position = ?, updated_at = UTC_TIMESTAMP(6) WHERE projector = ?")
            .bind(last)
            .bind(projector.name())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(last)
    })
    .await
}

/// Whether the projector projects this event.
pub fn handles(projector: &dyn Projector, event: &RecordedEvent) -> bool {
    projector.events().iter().flat_map(|table| table.iter()).any(|declared| declared.name == event.event_type)
}

async fn checkpoint_position(pool: &MySqlPool, projector: &dyn Projector) -> Result<u64, ProjectionError> {
    Ok(checkpoint(pool, projector.name()).await?.map_or(0, |(_, position)| position))
}

/// Creates the projector's checkpoint row at position 0 if it has none.
async fn ensure_checkpoint(pool: &MySqlPool, projector: &dyn Projector) -> Result<(), ProjectionError> {
    sqlx::query(
        "INSERT INTO projector_checkpoints (projector, version, position, updated_at) VALUES (?, ?, 0, UTC_TIMESTAMP(6)) \
         ON DUPLICATE KEY UPDATE projector = projector",
    )
    .bind(projector.name())
    .bind(projector.version())
    .execute(pool)
    .await?;
    Ok(())
}

/// Keeps one projector current. Cheap to clone; every clone shares the applied position.
#[derive(Clone)]
pub struct ProjectorRunner {
    store: EventStore,
    projector: Arc<dyn Projector>,
    applied: Arc<watch::Sender<u64>>,
    waiters: Arc<Waiters>,
    config: RunnerConfig,
}

impl ProjectorRunner {
    pub fn new(store: EventStore, projector: Arc<dyn Projector>, config: RunnerConfig) -> Self {
        Self { store, projector, applied: Arc::new(watch::channel(0).0), waiters: Arc::default(), config }
    }

    pub fn name(&self) -> &'static str {
        self.projector.name()
    }

    /// The last position this projector has applied (its read model includes it).
    pub fn applied(&self) -> watch::Receiver<u64> {
        self.applied.subscribe()
    }

    /// Waits until the read model includes `position`, or the timeout passes.
    pub async fn wait_for(&self, position: u64, timeout: Duration) -> bool {
        let mut applied = self.applied();
        if *applied.borrow() >= position {
            return true;
        }
        let _waiting = Waiting::new(&self.waiters);
        tokio::time::timeout(timeout, applied.wait_for(|&p| p >= position)).await.is_ok_and(|r| r.is_ok())
    }

    fn has_waiters(&self) -> bool {
        self.waiters.count.load(std::sync::atomic::Ordering::SeqCst) > 0
    }

    fn advance(&self, position: u64) {
        self.applied.send_if_modified(|current| {
            let moved = position > *current;
            *current = (*current).max(position);
            moved
        });
    }

    /// Reads the store from the checkpoint to the end and applies it, batch by batch.
    pub async fn catch_up(&self) -> Result<u64, ProjectionError> {
        let pool = self.store.pool();
        ensure_checkpoint(pool, self.projector.as_ref()).await?;
        let mut position = checkpoint_position(pool, self.projector.as_ref()).await?;
        self.advance(position);
        loop {
            let events = self.store.read_all(position, self.config.batch_size).await?;
            if events.is_empty() {
                return Ok(position);
            }
            position = apply_batch(&self.store, self.projector.as_ref(), &events, self.config.lock_wait_seconds).await?;
            self.advance(position);
        }
    }

    /// Rebuilds when the stored version differs from the code's, so a changed projector never
    /// serves rows built by its old logic.
    async fn ensure_current_version(&self) -> Result<(), ProjectionError> {
        match checkpoint(self.store.pool(), self.projector.name()).await? {
            Some((version, _)) if version != self.projector.version() => {
                tracing::info!(projector = self.name(), from = version, to = self.projector.version(), "rebuilding for a new version");
                crate::rebuild(&self.store, self.projector.clone(), &|_, _| {}).await?;
            }
            _ => {}
        }
        Ok(())
    }

    /// Runs until `shutdown` turns true: catches up from the store, then follows the live feed
    /// (while it follows NATS) or polls the store. The store stays the truth: a hole in what the
    /// feed delivers is filled from it, and silence is checked against it.
    pub async fn run(self, live: Option<LiveFeed>, mut shutdown: watch::Receiver<bool>) {
        let retry = Duration::from_millis(self.config.live_fallback_ms);
        while let Err(error) = self.ensure_current_version().await {
            tracing::warn!(projector = self.name(), %error, "version check failed, will retry");
            if sleep_or_shutdown(retry, &mut shutdown).await {
                return;
            }
        }
        let mut committed = self.store.committed_position();
        let without_feed = watch::channel(false);
        let mut following = live.as_ref().map_or_else(|| without_feed.1.clone(), LiveFeed::following);
        let mut chunks: Option<broadcast::Receiver<Chunk>> = None;
        let mut behind = true;
        let busy = Duration::from_millis(self.config.poll_busy_ms);
        let mut idle = busy;
        while !*shutdown.borrow() {
            match (&live, *following.borrow_and_update()) {
                (Some(live), true) if chunks.is_none() => {
                    // Subscribed before the catch-up below, so nothing falls between the two.
                    chunks = Some(live.subscribe());
                    behind = true;
                }
                (_, false) => chunks = None,
                _ => {}
            }
            if behind {
                let before = *self.applied.borrow();
                match self.catch_up().await {
                    // Found events: more may be coming, so the next read comes soon.
                    Ok(position) if position > before => idle = busy,
                    Ok(_) => idle = (idle * 2).min(Duration::from_millis(self.config.poll_idle_max_ms)),
                    Err(error) => {
                        tracing::warn!(projector = self.name(), %error, "catch-up failed, will retry");
                        if sleep_or_shutdown(retry, &mut shutdown).await {
                            return;
                        }
                        continue;
                    }
                }
                behind = false;
            }
            match chunks.as_mut() {
                Some(receiver) => {
                    tokio::select! {
                        received = receiver.recv() => match received {
                            Ok(chunk) => behind = !self.apply_live(&chunk).await,
                            // Fell behind the feed's buffer, or the feed is gone: read the store.
                            Err(error) => {
                                tracing::debug!(projector = self.name(), %error, "reading the store: lost the live feed");
                                chunks = None;
                                behind = true;
                            }
                        },
                        // Silence is checked against the store: NATS may have lost something, and
                        // sooner when someone waits.
                        _ = tokio::time::sleep(self.silence()) => {
                            tracing::debug!(projector = self.name(), "reading the store: the live feed is silent");
                            behind = true;
                        }
                        _ = self.waiters.arrived.notified() => {}
                        _ = following.changed() => {}
                        _ = shutdown.changed() => {}
                    }
                }
                None => {
                    let pause = if self.has_waiters() { busy } else { idle };
                    tokio::select! {
                        _ = committed.changed() => {}
                        _ = tokio::time::sleep(pause) => {}
                        _ = self.waiters.arrived.notified() => {}
                        _ = following.changed() => {}
                        _ = shutdown.changed() => {}
                    }
                    behind = true;
                }
            }
        }
    }

    /// How long the live feed may stay silent before the store is read.
    fn silence(&self) -> Duration {
        Duration::from_millis(if self.has_waiters() { self.config.live_fallback_waited_ms } else { self.config.live_fallback_ms })
    }

    /// Applies a live chunk where it continues what is applied. False when the store must be
    /// read instead: a hole, a failed batch.
    async fn apply_live(&self, chunk: &[RecordedEvent]) -> bool {
        let applied = *self.applied.borrow();
        let fresh = &chunk[chunk.partition_point(|e| e.position <= applied)..];
        if fresh.is_empty() {
            return true;
        }
        let contiguous = fresh.iter().enumerate().all(|(i, e)| e.position == applied + 1 + i as u64);
        if !contiguous {
            tracing::debug!(projector = self.name(), applied, first = fresh[0].position, "reading the store: a hole in the live feed");
            return false;
        }
        match apply_batch(&self.store, self.projector.as_ref(), fresh, self.config.lock_wait_seconds).await {
            Ok(position) => {
                self.advance(position);
                true
            }
            Err(error) => {
                tracing::warn!(projector = self.name(), %error, "live batch not applied, reading the store instead");
                false
            }
        }
    }
}

/// Sleeps; true when shutdown was asked for meanwhile.
pub async fn sleep_or_shutdown(duration: Duration, shutdown: &mut watch::Receiver<bool>) -> bool {
    tokio::select! {
        _ = tokio::time::sleep(duration) => {}
        _ = shutdown.changed() => {}
    }
    *shutdown.borrow()
}

/// Every projector's runner in this process. Cheap to clone.
#[derive(Clone)]
pub struct Projections {
    runners: Arc<[ProjectorRunner]>,
}

impl Projections {
    pub fn new(store: &EventStore, config: RunnerConfig) -> Self {
        let runners = crate::all().into_iter().map(|projector| ProjectorRunner::new(store.clone(), projector, config.clone())).collect();
        Self { runners }
    }

    pub fn runners(&self) -> &[ProjectorRunner] {
        &self.runners
    }

    /// The runner of a projector, by its `NAME`.
    pub fn runner(&self, name: &str) -> Option<&ProjectorRunner> {
        self.runners.iter().find(|runner| runner.name() == name)
    }

    /// The last position a projector has applied; stays 0 for a name no projector has.
    pub fn applied(&self, name: &str) -> watch::Receiver<u64> {
        match self.runner(name) {
            Some(runner) => runner.applied(),
            None => watch::channel(0).1,
        }
    }

    /// Starts every runner until `shutdown` turns true.
    pub fn start(&self, live: Option<LiveFeed>, shutdown: &watch::Receiver<bool>) -> Vec<tokio::task::JoinHandle<()>> {
        self.runners.iter().map(|runner| tokio::spawn(runner.clone().run(live.clone(), shutdown.clone()))).collect()
    }

    /// Waits until each named projector has applied `position`; false when one has not within
    /// `timeout`. Only those: a slow projector elsewhere does not hold up a read that never
    /// touches its tables.
    pub async fn wait_for(&self, names: &[&str], position: u64, timeout: Duration) -> bool {
        let waits = self.runners.iter().filter(|runner| names.contains(&runner.name())).map(|runner| runner.wait_for(position, timeout));
        futures::future::join_all(waits).await.into_iter().all(|reached| reached)
    }
}
