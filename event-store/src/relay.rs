//! The relay: publishes the log to NATS JetStream in position order.
//!
//! Exactly one relay leads at a time, elected with a MySQL named lock held on a dedicated
//! connection, so any number of servers can run side by side. It tails the store from its
//! checkpoint and publishes each event to `events.<stream_type>.<event_type>` with the event id as
//! `Nats-Msg-Id`, so JetStream drops the duplicates a restart may resend. NATS is only the
//! fan-out: when it is down, appends carry on and the relay resumes from its checkpoint later.

use std::time::Duration;

use async_nats::jetstream::{self, message::PublishMessage};
use bytes::Bytes;
use sqlx::{MySqlConnection, Row};
use tokio::sync::watch;

use crate::{EventStore, EventStoreError, StoredEvent};

/// Header carrying the event's global position, so consumers can spot holes without decoding.
pub const POSITION_HEADER: &str = "Ispeaker-Position";

#[derive(Clone, Debug)]
pub struct RelayConfig {
    pub lock_name: String,
    pub stream_name: String,
    /// Subjects are `<prefix>.<stream_type>.<event_type>`.
    pub subject_prefix: String,
    pub batch_size: usize,
    /// How often to look for other processes' appends when this one appends nothing.
    pub idle_poll_ms: u64,
    /// Pause after an outage (database or NATS) before trying again.
    pub retry_delay_ms: u64,
    /// Longest time between checkpoint saves while publishing. A restart republishes at most
    /// this much, and JetStream drops the repeats by `Nats-Msg-Id`.
    pub checkpoint_interval_ms: u64,
}

impl Default for RelayConfig {
    fn default() -> Self {
        Self {
            lock_name: "ispeaker.relay".to_owned(),
            stream_name: "EVENTS".to_owned(),
            subject_prefix: "events".to_owned(),
            batch_size: 1000,
            idle_poll_ms: 50,
            retry_delay_ms: 1000,
            checkpoint_interval_ms: 250,
        }
    }
}

pub fn subject(prefix: &str, event: &StoredEvent) -> String {
    format!("{prefix}.{}.{}", event.stream.stream_type, event.event_type)
}

/// How long the fan-out keeps an event, and how much it keeps at most.
const STREAM_MAX_AGE: Duration = Duration::from_secs(600);
const STREAM_MAX_BYTES: i64 = 256 * 1024 * 1024;
/// How long JetStream remembers a `Nats-Msg-Id`: well beyond a relay's takeover after a restart.
/// Consumers skip anything older by position anyway.
const DUPLICATE_WINDOW: Duration = Duration::from_secs(30);

/// Creates the JetStream stream the relay publishes to, or brings an existing one to this
/// configuration. The store is the truth and NATS only the fan-out, so the stream lives in memory
/// and for ten minutes: a NATS restart loses nothing that matters (projectors read the store, and the
/// relay publishes again from its checkpoint), and the stream never grows without bound. A stream
/// left on disk by an older version is replaced, since storage cannot be changed in place.
pub async fn ensure_stream(
    jetstream: &jetstream::Context,
    stream_name: &str,
    subject_prefix: &str,
) -> Result<jetstream::stream::Stream, RelayError> {
    let nats = |e: &dyn std::fmt::Display| RelayError::Nats(e.to_string());
    let config = jetstream::stream::Config {
        name: stream_name.to_owned(),
        subjects: vec![format!("{subject_prefix}.>")],
        duplicate_window: DUPLICATE_WINDOW,
        storage: jetstream::stream::StorageType::Memory,
        max_age: STREAM_MAX_AGE,
        max_bytes: STREAM_MAX_BYTES,
        ..Default::default()
    };
    if let Ok(existing) = jetstream.get_stream(stream_name).await {
        let current = &existing.cached_info().config;
        let same = current.storage == config.storage
            && current.max_age == config.max_age
            && current.max_bytes == config.max_bytes
            && current.duplicate_window == config.duplicate_window;
        if same {
            return Ok(existing);
        }
        tracing::info!(stream = stream_name, "replacing the fan-out stream with the current configuration");
        jetstream.delete_stream(stream_name).await.map_err(|e| nats(&e))?;
    }
    jetstream.get_or_create_stream(config).await.map_err(|e| nats(&e))
}

#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    #[error(transparent)]
    Store(#[from] EventStoreError),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("nats: {0}")]
    Nats(String),
}

pub struct Relay {
    store: EventStore,
    jetstream: jetstream::Context,
    config: RelayConfig,
}

impl Relay {
    pub fn new(store: EventStore, client: async_nats::Client, config: RelayConfig) -> Self {
        Self { store, jetstream: jetstream::new(client), config }
    }

    /// Runs until `shutdown` turns true, leading whenever it holds the lock.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        while !*shutdown.borrow() {
            match self.lead(&mut shutdown).await {
                Ok(()) => return,
                Err(error) => tracing::warn!(%error, "relay interrupted, will retry"),
            }
            let retry = tokio::time::sleep(Duration::from_millis(self.config.retry_delay_ms));
            tokio::select! {
                _ = retry => {}
                _ = shutdown.changed() => {}
            }
        }
    }

    /// Waits to become leader, then publishes until shutdown (Ok) or an outage (Err). Dropping
    /// the lock connection on return releases the leadership.
    async fn lead(&self, shutdown: &mut watch::Receiver<bool>) -> Result<(), RelayError> {
        let mut lock = self.store.pool().acquire().await?.detach();
        loop {
            let granted: Option<i64> = sqlx::query_scalar("SELECT GET_LOCK(?, 0)")
                .bind(&self.config.lock_name)
                .fetch_one(&mut lock)
                .await?;
            if granted == Some(1) {
                break;
            }
            let retry = tokio::time::sleep(Duration::from_millis(self.config.retry_delay_ms));
            tokio::select! {
                _ = retry => {}
                _ = shutdown.changed() => return Ok(()),
            }
        }
        tracing::info!(lock = %self.config.lock_name, "relay is leading");
        ensure_stream(&self.jetstream, &self.config.stream_name, &self.config.subject_prefix).await?;
        let mut position = self.checkpoint(&mut lock).await?;
        let mut saved_at = tokio::time::Instant::now();
        let mut saved = position;
        let checkpoint_interval = Duration::from_millis(self.config.checkpoint_interval_ms);
        let mut committed = self.store.committed_position();
        // This process's own appends are taken from memory; the database is read at start and
        // whenever no local append came for a while, for what other processes appended.
        let mut from_store = true;
        loop {
            if *shutdown.borrow() {
                if saved != position {
                    self.save_checkpoint(&mut lock, position).await?;
                }
                return Ok(());
            }
            let events = if from_store {
                self.store.read_all_stored(position, self.config.batch_size).await?
            } else {
                self.store.tail_stored(position, self.config.batch_size).await?
            };
            let Some(last) = events.last().map(|e| e.position) else {
                let poll = tokio::time::sleep(Duration::from_millis(self.config.idle_poll_ms));
                tokio::select! {
                    _ = poll => {
                        from_store = true;
                        // Quiet for a while: a good moment to save.
                        if saved != position {
                            self.save_checkpoint(&mut lock, position).await?;
                            (saved, saved_at) = (position, tokio::time::Instant::now());
                        }
                    }
                    _ = committed.changed() => from_store = false,
                    _ = shutdown.changed() => {}
                }
                continue;
            };
            self.publish(&events).await?;
            position = last;
            if saved_at.elapsed() >= checkpoint_interval {
                self.save_checkpoint(&mut lock, position).await?;
                (saved, saved_at) = (position, tokio::time::Instant::now());
            }
        }
    }

    async fn save_checkpoint(&self, lock: &mut MySqlConnection, position: u64) -> Result<(), RelayError> {
        sqlx::query("INSERT INTO relay_checkpoints (relay, position) VALUES (?, ?) ON DUPLICATE KEY UPDATE position = VALUES(position)")
            .bind(&self.config.lock_name)
            .bind(position)
            .execute(lock)
            .await?;
        Ok(())
    }

    async fn checkpoint(&self, lock: &mut MySqlConnection) -> Result<u64, RelayError> {
        let row = sqlx::query("SELECT position FROM relay_checkpoints WHERE relay = ?")
            .bind(&self.config.lock_name)
            .fetch_optional(lock)
            .await?;
        Ok(match row {
            Some(row) => row.try_get("position")?,
            None => 0,
        })
    }

    /// Sends the whole batch, then waits for every acknowledgement.
    async fn publish(&self, events: &[StoredEvent]) -> Result<(), RelayError> {
        let nats = |e: &dyn std::fmt::Display| RelayError::Nats(e.to_string());
        let mut acks = Vec::with_capacity(events.len());
        for event in events {
            let body = serde_json::to_vec(event).map_err(|e| nats(&e))?;
            let message = PublishMessage::build()
                .message_id(event.event_id.to_string())
                .header(POSITION_HEADER, event.position.to_string().as_str())
                .payload(Bytes::from(body));
            acks.push(self.jetstream.send_publish(subject(&self.config.subject_prefix, event), message).await.map_err(|e| nats(&e))?);
        }
        for ack in acks {
            ack.await.map_err(|e| nats(&e))?;
        }
        Ok(())
    }
}
