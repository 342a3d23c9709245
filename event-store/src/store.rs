//! `EventStore`: the handle every other crate uses to append and read.

use std::sync::Arc;

use chrono::{DateTime, NaiveDateTime, Utc};
use sqlx::mysql::MySqlRow;
use sqlx::{MySqlPool, Row};
use tokio::sync::{mpsc, oneshot, watch};
use uuid::Uuid;

use crate::Availability;
use crate::personal::DataKeys;
use crate::recent::RecentEvents;
use crate::upcast::Upcasters;
use crate::writer::{self, Job, KnownVersions, PreparedAppend, PreparedEvent, PreparedStream, Writer};
use crate::{AppendOutcome, AppendRequest, EventStoreError, RecordedEvent, StoredEvent, StreamRef};

/// Appends waiting for the writer; callers wait for room beyond this.
const APPEND_QUEUE_CAPACITY: usize = 16 * 1024;
/// Most events one read returns.
pub const READ_BATCH_MAX: usize = 10_000;
/// MariaDB's longest lock name.
const LOCK_NAME_LEN_MAX: usize = 64;

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
    keys: Option<DataKeys>,
    store_id: Uuid,
    availability: Availability,
}

impl EventStore {
    /// Starts the process's append writer. The schema must already be migrated.
    pub async fn start(pool: MySqlPool, upcasters: Upcasters) -> Result<Self, EventStoreError> {
        let head = head(&pool).await?;
        let store_id: Uuid = sqlx::query_scalar("SELECT store_id FROM event_store_identity WHERE id = 1").fetch_one(&pool).await?;
        let (committed_sender, committed) = watch::channel(head.position);
        let committed_sender = Arc::new(committed_sender);
        let known_versions = KnownVersions::default();
        let recent = Arc::new(RecentEvents::default());
        let availability = Availability::start(pool.clone());
        let writers = (0..WRITERS)
            .map(|_| {
                let (jobs, receiver) = mpsc::channel(APPEND_QUEUE_CAPACITY);
                let writer = Writer::new(pool.clone(), availability.clone(), receiver, committed_sender.clone(), known_versions.clone(), recent.clone());
                tokio::spawn(writer.run());
                jobs
            })
            .collect();
        Ok(Self { pool, writers, upcasters: Arc::new(upcasters), committed, recent, keys: None, store_id, availability })
    }

    /// Seals personal values with these keys on append and opens them on read. Without keys, an
    /// append carrying personal data is refused.
    pub fn with_data_keys(mut self, keys: DataKeys) -> Self {
        self.keys = Some(keys);
        self
    }

    pub fn data_keys(&self) -> Option<&DataKeys> {
        self.keys.as_ref()
    }

    /// Whether the database answers, as last seen.
    pub fn availability(&self) -> &Availability {
        &self.availability
    }

    pub fn pool(&self) -> &MySqlPool {
        &self.pool
    }

    /// This store's identity, made once per database: what the fan-out and named locks are
    /// scoped by, so deployments sharing a NATS or MariaDB server stay apart.
    pub fn store_id(&self) -> Uuid {
        self.store_id
    }

    /// A MariaDB named lock for `purpose`, scoped to this store: `GET_LOCK` is server-wide, so a
    /// bare name would be shared by every database of the server.
    pub fn lock_name(&self, purpose: &str) -> String {
        let name = format!("ispeaker:{}:{purpose}", self.store_id.simple());
        if name.len() <= LOCK_NAME_LEN_MAX {
            return name;
        }
        // MariaDB caps lock names at 64 characters: a long purpose is hashed in.
        use sha2::Digest;
        let digest = hex::encode(sha2::Sha256::digest(name.as_bytes()));
        format!("ispeaker:{}", &digest[..LOCK_NAME_LEN_MAX - "ispeaker:".len()])
    }

    /// The hash of the event at `position` (the chain's start for 0); `None` when the store has
    /// no such event.
    pub async fn hash_at(&self, position: u64) -> Result<Option<[u8; 32]>, EventStoreError> {
        if position == 0 {
            return Ok(Some(crate::GENESIS_HASH));
        }
        let hash: Option<Vec<u8>> = self.observed(sqlx::query_scalar("SELECT hash FROM events WHERE position = ?").bind(position).fetch_optional(&self.pool).await)?;
        hash.map(|hash| hash.try_into().map_err(|_| EventStoreError::Corrupt { position, reason: "hash is not 32 bytes".into() })).transpose()
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
        mut request: AppendRequest,
    ) -> Result<impl Future<Output = Result<AppendOutcome, EventStoreError>> + use<>, EventStoreError> {
        if !self.availability.is_up() {
            return Err(EventStoreError::DatabaseDown);
        }
        self.seal(&mut request).await?;
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
        .await;
        let rows = self.observed(rows)?;
        let stored = rows.iter().map(stored_event).collect::<Result<Vec<_>, _>>()?;
        self.decode(stored).await
    }

    /// Up to `limit` (at most `READ_BATCH_MAX`) events after `after_position`, upcast, in order.
    pub async fn read_all(&self, after_position: u64, limit: usize) -> Result<Vec<RecordedEvent>, EventStoreError> {
        let stored = self.read_all_stored(after_position, limit).await?;
        self.decode(stored).await
    }

    /// Stored events as readers see them: upcast to the current schema, personal values opened
    /// (or erased). Every read path goes through here.
    pub async fn decode(&self, stored: Vec<StoredEvent>) -> Result<Vec<RecordedEvent>, EventStoreError> {
        let mut events = stored.into_iter().map(|event| self.upcasters.decode(event)).collect::<Result<Vec<_>, _>>()?;
        match &self.keys {
            Some(keys) => keys.unseal(&mut events).await?,
            None => crate::personal::refuse_sealed(&mut events)?,
        }
        Ok(events)
    }

    /// Seals the personal values of each event that names a data subject.
    async fn seal(&self, request: &mut AppendRequest) -> Result<(), EventStoreError> {
        for event in request.streams.iter_mut().flat_map(|stream| stream.events.iter_mut()) {
            let Some(subject) = event.data_subject else { continue };
            let keys = self.keys.as_ref().ok_or_else(|| {
                EventStoreError::InvalidRequest(format!("{} carries personal data, and the store has no data keys", event.event_type))
            })?;
            keys.seal(event.event_id, subject, &mut event.payload).await?;
        }
        Ok(())
    }

    /// Like `read_all`, but exactly as stored: what the hash chain covers.
    pub async fn read_all_stored(&self, after_position: u64, limit: usize) -> Result<Vec<StoredEvent>, EventStoreError> {
        let limit = limit.clamp(1, READ_BATCH_MAX);
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!("{SELECT_EVENTS} WHERE position > ? ORDER BY position LIMIT ?")))
            .bind(after_position)
            .bind(limit as u64)
            .fetch_all(&self.pool)
            .await;
        self.observed(rows)?.iter().map(stored_event).collect()
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
        let head = head(&self.pool).await;
        if let Err(EventStoreError::Unavailable(error)) = &head {
            self.availability.observe(error);
        }
        head
    }

    /// A query's result, having told the availability watch about a connection failure.
    fn observed<T>(&self, result: Result<T, sqlx::Error>) -> Result<T, sqlx::Error> {
        if let Err(error) = &result {
            self.availability.observe(error);
        }
        result
    }

    /// The position of the last row in the events table, which must be the head's: a row past
    /// the head was written by something other than the store's writer.
    pub async fn last_row_position(&self) -> Result<u64, EventStoreError> {
        let last: Option<u64> = self.observed(sqlx::query_scalar("SELECT MAX(position) FROM events").fetch_one(&self.pool).await)?;
        Ok(last.unwrap_or(0))
    }

    pub async fn stream_version(&self, stream: &StreamRef) -> Result<u64, EventStoreError> {
        let version: Result<Option<u64>, sqlx::Error> =
            sqlx::query_scalar("SELECT MAX(stream_version) FROM events WHERE stream_type = ? AND stream_id = ?")
                .bind(&stream.stream_type)
                .bind(&stream.stream_id)
                .fetch_one(&self.pool)
                .await;
        Ok(self.observed(version)?.unwrap_or(0))
    }

    /// The outcome of the first append made with this idempotency key, if any.
    pub async fn idempotent_outcome(&self, key: &str) -> Result<Option<AppendOutcome>, EventStoreError> {
        let row = sqlx::query("SELECT first_position, last_position FROM idempotency_keys WHERE idempotency_key = ?")
            .bind(key)
            .fetch_optional(&self.pool)
            .await;
        self.observed(row)?.map(|row| {
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
