//! The relay: publishes the log to NATS JetStream in position order.
//!
//! Exactly one relay per store leads at a time, elected with a MySQL named lock (scoped to the
//! store) held on a dedicated connection, so any number of servers can run side by side. It tails
//! the store from its checkpoint and publishes each event to
//! `ispeaker.<deployment>.<stream_type>.<event_type>` with the event id as `Nats-Msg-Id`, so
//! JetStream drops the duplicates a restart may resend. NATS is only the fan-out: when it is down,
//! appends carry on and the relay resumes from its checkpoint later.
//!
//! Every message names its store and is signed (HMAC-SHA256 with a key of the deployment's), so a
//! consumer takes from NATS only what its own store's relay published; anything else it reads
//! from the store.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::{self, message::PublishMessage};
use bytes::Bytes;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use sqlx::{MySqlConnection, Row};
use tokio::sync::watch;
use uuid::Uuid;

use crate::{EventStore, EventStoreError, StoredEvent};

/// Header carrying the event's global position, so consumers can spot holes without decoding.
pub const POSITION_HEADER: &str = "Ispeaker-Position";
/// Header naming the store the event comes from.
pub const STORE_HEADER: &str = "Ispeaker-Store";
/// Header carrying the hex HMAC-SHA256 of the store id and the message body.
pub const SIGNATURE_HEADER: &str = "Ispeaker-Signature";

/// Longest deployment name: it goes into JetStream stream names and subjects.
const DEPLOYMENT_NAME_LEN_MAX: usize = 32;

/// Who a fan-out belongs to: its name (in stream and subject names), its store, and the key its
/// messages are signed with. Two deployments on one NATS server never share a stream or a subject,
/// and a message signed by another key or naming another store is not theirs.
#[derive(Clone)]
pub struct Deployment {
    name: String,
    store_id: Uuid,
    signing_key: Arc<[u8; 32]>,
}

impl fmt::Debug for Deployment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Deployment").field("name", &self.name).field("store_id", &self.store_id).finish_non_exhaustive()
    }
}

impl Deployment {
    /// `name` (`DEPLOYMENT_ID`) defaults to the store's id, which is unique per database.
    /// `secret` (`DATA_KEY_SECRET`, the deployment's master secret) signs the messages.
    pub fn new(store: &EventStore, name: Option<&str>, secret: &str) -> Result<Deployment, String> {
        let name = match name {
            Some(name) => {
                let valid = !name.is_empty()
                    && name.len() <= DEPLOYMENT_NAME_LEN_MAX
                    && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
                if !valid {
                    return Err(format!("must be 1 to {DEPLOYMENT_NAME_LEN_MAX} of a-z, 0-9, '_' and '-'"));
                }
                name.to_owned()
            }
            None => store.store_id().simple().to_string()[..12].to_owned(),
        };
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
        mac.update(b"ispeaker/relay-messages/v1");
        Ok(Deployment { name, store_id: store.store_id(), signing_key: Arc::new(mac.finalize().into_bytes().into()) })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn store_id(&self) -> Uuid {
        self.store_id
    }

    /// The JetStream stream the relay publishes to.
    pub fn stream_name(&self) -> String {
        format!("ISPEAKER_{}", self.name.to_ascii_uppercase())
    }

    /// Subjects are `<prefix>.<stream_type>.<event_type>`.
    pub fn subject_prefix(&self) -> String {
        format!("ispeaker.{}", self.name)
    }

    pub fn subject(&self, event: &StoredEvent) -> String {
        format!("{}.{}.{}", self.subject_prefix(), event.stream.stream_type, event.event_type)
    }

    /// The signature of a message body, as the relay sends it.
    pub fn sign(&self, body: &[u8]) -> String {
        hex::encode(self.mac(body).finalize().into_bytes())
    }

    /// Whether a message was published by this deployment's relay for this store.
    pub fn verify(&self, store: Option<&str>, signature: Option<&str>, body: &[u8]) -> bool {
        let ours = store.and_then(|store| Uuid::parse_str(store).ok()) == Some(self.store_id);
        let signature = signature.and_then(|signature| hex::decode(signature).ok());
        // Constant-time comparison.
        ours && signature.is_some_and(|signature| self.mac(body).verify_slice(&signature).is_ok())
    }

    fn mac(&self, body: &[u8]) -> Hmac<Sha256> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(self.signing_key.as_slice()).expect("HMAC takes any key length");
        mac.update(self.store_id.as_bytes());
        mac.update(body);
        mac
    }
}

#[derive(Clone, Debug)]
pub struct RelayConfig {
    pub deployment: Deployment,
    pub batch_size: usize,
    /// How often to look for other processes' appends when this one appends nothing.
    pub idle_poll_ms: u64,
    /// Pause after an outage (database or NATS) before trying again.
    pub retry_delay_ms: u64,
    /// Longest time between checkpoint saves while publishing. A restart republishes at most
    /// this much, and JetStream drops the repeats by `Nats-Msg-Id`.
    pub checkpoint_interval_ms: u64,
}

impl RelayConfig {
    pub fn new(deployment: Deployment) -> Self {
        Self { deployment, batch_size: 1000, idle_poll_ms: 50, retry_delay_ms: 1000, checkpoint_interval_ms: 250 }
    }
}

/// How long the fan-out keeps an event, and how much it keeps at most. JetStream reserves the
/// whole size in memory for as long as the stream exists, so it is kept small: the stream only
/// carries the live tail (a consumer behind it reads the store), and 64 MiB still holds about
/// half a minute of events at the store's top append rate.
const STREAM_MAX_AGE: Duration = Duration::from_secs(600);
const STREAM_MAX_BYTES: i64 = 64 * 1024 * 1024;
/// How long JetStream remembers a `Nats-Msg-Id`: well beyond a relay's takeover after a restart.
/// Consumers skip anything older by position anyway.
const DUPLICATE_WINDOW: Duration = Duration::from_secs(30);

/// Creates the JetStream stream the relay publishes to, or brings an existing one to this
/// configuration. The store is the truth and NATS only the fan-out, so the stream lives in memory
/// and for ten minutes: a NATS restart loses nothing that matters (projectors read the store, and the
/// relay publishes again from its checkpoint), and the stream never grows without bound. A stream
/// left on disk by an older version is replaced, since storage cannot be changed in place.
pub async fn ensure_stream(jetstream: &jetstream::Context, deployment: &Deployment) -> Result<jetstream::stream::Stream, RelayError> {
    let nats = |e: &dyn std::fmt::Display| RelayError::Nats(e.to_string());
    let stream_name = deployment.stream_name();
    let stream_name = stream_name.as_str();
    let config = jetstream::stream::Config {
        name: stream_name.to_owned(),
        subjects: vec![format!("{}.>", deployment.subject_prefix())],
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
        let lock_name = self.store.lock_name("relay");
        loop {
            let granted: Option<i64> = sqlx::query_scalar("SELECT GET_LOCK(?, 0)")
                .bind(&lock_name)
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
        tracing::info!(lock = %lock_name, stream = %self.config.deployment.stream_name(), "relay is leading");
        ensure_stream(&self.jetstream, &self.config.deployment).await?;
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

    /// Checkpoints are kept per fan-out stream: a new stream starts from the beginning.
    async fn save_checkpoint(&self, lock: &mut MySqlConnection, position: u64) -> Result<(), RelayError> {
        sqlx::query("INSERT INTO relay_checkpoints (relay, position) VALUES (?, ?) ON DUPLICATE KEY UPDATE position = VALUES(position)")
            .bind(self.config.deployment.stream_name())
            .bind(position)
            .execute(lock)
            .await?;
        Ok(())
    }

    async fn checkpoint(&self, lock: &mut MySqlConnection) -> Result<u64, RelayError> {
        let row = sqlx::query("SELECT position FROM relay_checkpoints WHERE relay = ?")
            .bind(self.config.deployment.stream_name())
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
        let deployment = &self.config.deployment;
        let store_id = deployment.store_id().to_string();
        for event in events {
            let body = serde_json::to_vec(event).map_err(|e| nats(&e))?;
            let message = PublishMessage::build()
                .message_id(event.event_id.to_string())
                .header(POSITION_HEADER, event.position.to_string().as_str())
                .header(STORE_HEADER, store_id.as_str())
                .header(SIGNATURE_HEADER, deployment.sign(&body).as_str())
                .payload(Bytes::from(body));
            acks.push(self.jetstream.send_publish(deployment.subject(event), message).await.map_err(|e| nats(&e))?);
        }
        for ack in acks {
            ack.await.map_err(|e| nats(&e))?;
        }
        Ok(())
    }
}
