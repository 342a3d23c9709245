//! `EventStore`: the handle every other crate uses to append and read.

use std::sync::Arc;

use chrono::{DateTime, NaiveDateTime, Utc};
use sqlx::mysql::MySqlRow;
use sqlx::{MySqlPool, Row};
use tokio::sync::{mpsc, oneshot, watch};

use crate::recent::RecentEvents;
use crate::upcast::Upcasters;
use crate::writer::{self, Job, KnownVersions, PreparedAppend, PreparedEvent, PreparedStream, Writer};
use crate::{AppendOutcome, AppendRequest, EventStoreError, RecordedEvent, StoredEvent, StreamRef};

/// Appends waiting for the writer; callers wait for room beyond this.
const APPEND_QUEUE_CAPACITY: usize = 16 * 1024;
/// Most events one read returns.
pub const READ_BATCH_MAX: usize = 10_000;

const SELECT_EVENTS: &str = "SELECT position, event_id, stream_type, stream_id, stream_version, event_type, \
                             schema_version, payload, metadata, recorded_at, hash FROM events ";

/// The last committed position and its hash: the digest an auditor compares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Head {
    pub position: u64,
    pub hash: [u8; 32],
}

/// Writers per process. Each commits on its own connection; while one waits for its commit to
/// be flushed, the next already holds the head lock, so the database is never idle between
/// commits. Appends are routed by stream, so one stream's appends stay in order.
const WRITERS: usize = 2;

#[derive(Clone)]
pub struct EventStore {
    pool: MySqlPool,
    writers: Arc<[mpsc::Sender<Job>]>,
    upcasters: Arc<Upcasters>,
    committed: watch::Receiver<u64>,
    recent: Arc<RecentEvents>,
}

impl EventStore {
    /// Starts the process's append writer. The schema must already be migrated.
    pub async fn start(pool: MySqlPool, upcasters: Upcasters) -> Result<Self, EventStoreError> {
        let head = head(&pool).await?;
        let (committed_sender, committed) = watch::channel(head.position);
        let committed_sender = Arc::new(committed_sender);
        let known_versions = KnownVersions::default();
        let recent = Arc::new(RecentEvents::default());
        let writers = (0..WRITERS)
            .map(|_| {
                let (jobs, receiver) = mpsc::channel(APPEND_QUEUE_CAPACITY);
                let writer = Writer::new(pool.clone(), receiver, committed_sender.clone(), known_versions.clone(), recent.clone());
                tokio::spawn(writer.run());
                jobs
            })
            .collect();
        Ok(Self { pool, writers, upcasters: Arc::new(upcasters), committed, recent })
    }

    pub fn pool(&self) -> &MySqlPool {
        &self.pool
    }

    pub fn upcasters(&self) -> &Upcasters {
        &self.upcasters
    }

    /// Appends atomically and waits for the commit.
    #[tracing::instrument(skip_all, fields(streams = request.streams.len(), events = request.event_count()))]
    pub async fn append(&self, request: AppendRequest) -> Result<AppendOutcome, EventStoreError> {
        self.enqueue(request).await?.await
    }

    /// Queues an append and returns a future for its outcome. Appends queued one after another
    /// by the same task are committed in that order, so a caller can pipeline appends to one
    /// stream with increasing expected versions.
    pub async fn enqueue(
        &self,
        request: AppendRequest,
    ) -> Result<impl Future<Output = Result<AppendOutcome, EventStoreError>> + use<>, EventStoreError> {
        let append = prepare(request)?;
        writer::validate(&append)?;
        let writer = &self.writers[writer_for(&append.streams[0].stream, self.writers.len())];
        let (reply, outcome) = oneshot::channel();
        writer.send(Job { append, reply }).await.map_err(|_| EventStoreError::WriterStopped)?;
        Ok(async move { outcome.await.map_err(|_| EventStoreError::WriterStopped)? })
    }

    /// Positions committed by this process's writer, for waking local readers at once. Other
    /// processes' appends are only seen by reading the store.
    pub fn committed_position(&self) -> watch::Receiver<u64> {
        self.committed.clone()
    }

    /// Events of one stream with a version above `after_version`, upcast, in version order.
    pub async fn read_stream(&self, stream: &StreamRef, after_version: u64) -> Result<Vec<RecordedEvent>, EventStoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{SELECT_EVENTS} WHERE stream_type = ? AND stream_id = ? AND stream_version > ? ORDER BY stream_version"
        )))
        .bind(&stream.stream_type)
        .bind(&stream.stream_id)
        .bind(after_version)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|row| self.upcasters.decode(stored_event(row)?)).collect()
    }

    /// Up to `limit` (at most `READ_BATCH_MAX`) events after `after_position`, upcast, in order.
    pub async fn read_all(&self, after_position: u64, limit: usize) -> Result<Vec<RecordedEvent>, EventStoreError> {
        self.read_all_stored(after_position, limit)
            .await?
            .into_iter()
            .map(|stored| self.upcasters.decode(stored))
            .collect()
    }

    /// Like `read_all`, but exactly as stored: what the hash chain covers.
    pub async fn read_all_stored(&self, after_position: u64, limit: usize) -> Result<Vec<StoredEvent>, EventStoreError> {
        let limit = limit.clamp(1, READ_BATCH_MAX);
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!("{SELECT_EVENTS} WHERE position > ? ORDER BY position LIMIT ?")))
            .bind(after_position)
            .bind(limit as u64)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(stored_event).collect()
    }

    /// For tailing what this process appends (the relay, woken by `committed_position`): the
    /// events after `after_position` from memory, or from the database when memory lacks some
    /// of them (evicted, or committed by the other writer a moment before). Empty once past
    /// this process's last commit: other processes' appends are found by `read_all_stored`.
    /// Audits and checks must read the database itself.
    pub async fn tail_stored(&self, after_position: u64, limit: usize) -> Result<Vec<StoredEvent>, EventStoreError> {
        let recent = self.recent.after(after_position, limit.clamp(1, READ_BATCH_MAX));
        if !recent.is_empty() || after_position >= *self.committed.borrow() {
            return Ok(recent);
        }
        self.read_all_stored(after_position, limit).await
    }

    pub async fn head(&self) -> Result<Head, EventStoreError> {
        head(&self.pool).await
    }

    pub async fn stream_version(&self, stream: &StreamRef) -> Result<u64, EventStoreError> {
        let version: Option<u64> =
            sqlx::query_scalar("SELECT MAX(stream_version) FROM events WHERE stream_type = ? AND stream_id = ?")
                .bind(&stream.stream_type)
                .bind(&stream.stream_id)
                .fetch_one(&self.pool)
                .await?;
        Ok(version.unwrap_or(0))
    }

    /// The outcome of the first append made with this idempotency key, if any.
    pub async fn idempotent_outcome(&self, key: &str) -> Result<Option<AppendOutcome>, EventStoreError> {
        let row = sqlx::query("SELECT first_position, last_position FROM idempotency_keys WHERE idempotency_key = ?")
            .bind(key)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|row| {
            Ok(AppendOutcome {
                first_position: row.try_get("first_position")?,
                last_position: row.try_get("last_position")?,
                replayed: true,
            })
        })
        .transpose()
    }
}

fn writer_for(stream: &StreamRef, writers: usize) -> usize {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    stream.hash(&mut hasher);
    (hasher.finish() % writers as u64) as usize
}

async fn head(pool: &MySqlPool) -> Result<Head, EventStoreError> {
    let row = sqlx::query("SELECT last_position, last_hash FROM event_store_head WHERE id = 1").fetch_one(pool).await?;
    let position: u64 = row.try_get("last_position")?;
    let hash: Vec<u8> = row.try_get("last_hash")?;
    let hash = hash.try_into().map_err(|_| EventStoreError::Corrupt { position, reason: "head hash is not 32 bytes".into() })?;
    Ok(Head { position, hash })
}

fn prepare(request: AppendRequest) -> Result<PreparedAppend, EventStoreError> {
    let to_json = |value: &serde_json::Value| {
        serde_json::to_string(value).map_err(|e| EventStoreError::InvalidRequest(format!("payload is not JSON: {e}")))
    };
    let metadata = serde_json::to_string(&request.metadata)
        .map_err(|e| EventStoreError::InvalidRequest(format!("metadata is not JSON: {e}")))?;
    let streams = request
        .streams
        .into_iter()
        .map(|stream| {
            let events = stream
                .events
                .into_iter()
                .map(|event| {
                    Ok(PreparedEvent {
                        payload: to_json(&event.payload)?,
                        event_id: event.event_id,
                        event_type: event.event_type,
                        schema_version: event.schema_version,
                    })
                })
                .collect::<Result<_, EventStoreError>>()?;
            Ok(PreparedStream { stream: stream.stream, expected: stream.expected, events })
        })
        .collect::<Result<_, EventStoreError>>()?;
    Ok(PreparedAppend { streams, idempotency_key: request.idempotency_key, metadata })
}

fn stored_event(row: &MySqlRow) -> Result<StoredEvent, EventStoreError> {
    let position: u64 = row.try_get("position")?;
    let hash: Vec<u8> = row.try_get("hash")?;
    let recorded_at: NaiveDateTime = row.try_get("recorded_at")?;
    Ok(StoredEvent {
        position,
        event_id: row.try_get("event_id")?,
        stream: StreamRef::new(row.try_get::<String, _>("stream_type")?, row.try_get::<String, _>("stream_id")?),
        stream_version: row.try_get("stream_version")?,
        event_type: row.try_get("event_type")?,
        schema_version: row.try_get("schema_version")?,
        payload: row.try_get("payload")?,
        metadata: row.try_get("metadata")?,
        recorded_at: DateTime::<Utc>::from_naive_utc_and_offset(recorded_at, Utc),
        hash: hash.try_into().map_err(|_| EventStoreError::Corrupt { position, reason: "hash is not 32 bytes".into() })?,
    })
}
