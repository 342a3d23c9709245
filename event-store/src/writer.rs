//! The group-commit writer: the only code that inserts events.
//!
//! Appends from every task of the process queue here and are committed many at a time. Each
//! commit first locks the single `event_store_head` row, so commits are serialised (also across
//! processes) and positions are handed out in commit order: a reader that has seen position N has
//! seen everything below it, and nothing can later commit below it. Batching many appends into one
//! commit wins back the throughput that serialising costs.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, SubsecRound, Utc};
use sqlx::{Connection, MySql, MySqlConnection, MySqlPool, QueryBuilder, Row};
use tokio::sync::{mpsc, oneshot, watch};

use crate::hash::chain_hash;
use crate::{AppendOutcome, EventStoreError, ExpectedVersion, StoredEvent, StreamRef};

/// Most appends folded into one commit.
pub(crate) const BATCH_APPENDS_MAX: usize = 1024;
/// Most events in one commit (an append bigger than this still commits, alone).
const BATCH_EVENTS_MAX: usize = 8192;
/// Rows per multi-row INSERT: 11 placeholders a row stays far below MySQL's 65,535.
const INSERT_ROWS_MAX: usize = 1000;

pub(crate) const STREAM_TYPE_LEN_MAX: usize = 64;
pub(crate) const STREAM_ID_LEN_MAX: usize = 64;
pub(crate) const EVENT_TYPE_LEN_MAX: usize = 128;
pub(crate) const IDEMPOTENCY_KEY_LEN_MAX: usize = 400;

/// An append already serialised by the caller's task, so the writer's critical section only
/// checks versions, hashes and inserts.
pub(crate) struct PreparedAppend {
    pub streams: Vec<PreparedStream>,
    pub idempotency_key: Option<String>,
    pub metadata: String,
}

pub(crate) struct PreparedStream {
    pub stream: StreamRef,
    pub expected: ExpectedVersion,
    pub events: Vec<PreparedEvent>,
}

pub(crate) struct PreparedEvent {
    pub event_id: uuid::Uuid,
    pub event_type: String,
    pub schema_version: u16,
    pub payload: String,
}

impl PreparedAppend {
    fn event_count(&self) -> usize {
        self.streams.iter().map(|s| s.events.len()).sum()
    }
}

pub(crate) struct Job {
    pub append: PreparedAppend,
    pub reply: oneshot::Sender<Result<AppendOutcome, EventStoreError>>,
}

pub(crate) struct Writer {
    pool: MySqlPool,
    connection: Option<MySqlConnection>,
    jobs: mpsc::Receiver<Job>,
    committed: watch::Sender<u64>,
}

impl Writer {
    pub fn new(pool: MySqlPool, jobs: mpsc::Receiver<Job>, committed: watch::Sender<u64>) -> Self {
        Self { pool, connection: None, jobs, committed }
    }

    /// Runs until every `EventStore` handle is dropped.
    pub async fn run(mut self) {
        while let Some(first) = self.jobs.recv().await {
            let mut events = first.append.event_count();
            let mut batch = vec![first];
            while batch.len() < BATCH_APPENDS_MAX && events < BATCH_EVENTS_MAX {
                let Ok(job) = self.jobs.try_recv() else { break };
                events += job.append.event_count();
                batch.push(job);
            }
            self.commit(batch).await;
        }
    }

    async fn commit(&mut self, batch: Vec<Job>) {
        let appends: Vec<&PreparedAppend> = batch.iter().map(|job| &job.append).collect();
        match self.try_commit(&appends).await {
            Ok(outcomes) => {
                for (job, outcome) in batch.into_iter().zip(outcomes) {
                    let _ = job.reply.send(outcome);
                }
            }
            Err(error) if batch.len() > 1 => {
                // One bad append must not fail its neighbours: retry each on its own.
                tracing::warn!(%error, appends = batch.len(), "batch commit failed, retrying appends one by one");
                for job in batch {
                    let outcome = match self.try_commit(&[&job.append]).await {
                        Ok(mut outcomes) => outcomes.remove(0),
                        Err(error) => Err(classify(error)),
                    };
                    let _ = job.reply.send(outcome);
                }
            }
            Err(error) => {
                if let Some(job) = batch.into_iter().next() {
                    let _ = job.reply.send(Err(classify(error)));
                }
            }
        }
    }

    async fn connection(&mut self) -> Result<&mut MySqlConnection, sqlx::Error> {
        if self.connection.is_none() {
            let mut connection = self.pool.acquire().await?.detach();
            // Versions are read after the head lock is taken; READ COMMITTED guarantees that read
            // sees every append committed before the lock was granted.
            sqlx::query("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED")
                .execute(&mut connection)
                .await?;
            self.connection = Some(connection);
        }
        Ok(self.connection.as_mut().expect("connection was just set"))
    }

    /// Commits what it can of the batch. The outer error means nothing was committed.
    async fn try_commit(
        &mut self,
        appends: &[&PreparedAppend],
    ) -> Result<Vec<Result<AppendOutcome, EventStoreError>>, sqlx::Error> {
        let result = self.commit_in_transaction(appends).await;
        if result.is_err() {
            // The connection may be mid-transaction or broken: start the next batch afresh.
            self.connection = None;
        }
        let (outcomes, last_position) = result?;
        if let Some(position) = last_position {
            self.committed.send_replace(position);
        }
        Ok(outcomes)
    }

    async fn commit_in_transaction(
        &mut self,
        appends: &[&PreparedAppend],
    ) -> Result<(Vec<Result<AppendOutcome, EventStoreError>>, Option<u64>), sqlx::Error> {
        let connection = self.connection().await?;
        let mut tx = connection.begin().await?;

        let head = sqlx::query("SELECT last_position, last_hash FROM event_store_head WHERE id = 1 FOR UPDATE")
            .fetch_one(&mut *tx)
            .await?;
        let mut position: u64 = head.try_get("last_position")?;
        let hash_bytes: Vec<u8> = head.try_get("last_hash")?;
        let mut hash: [u8; 32] = hash_bytes
            .try_into()
            .map_err(|_| sqlx::Error::Protocol("event_store_head.last_hash is not 32 bytes".into()))?;

        let known_keys = load_idempotency_keys(&mut tx, appends).await?;
        let mut versions = load_stream_versions(&mut tx, appends).await?;
        let recorded_at = now_micros();

        let mut rows: Vec<StoredEvent> = Vec::new();
        let mut new_keys: Vec<(&str, AppendOutcome)> = Vec::new();
        let mut batch_keys: HashMap<&str, AppendOutcome> = HashMap::new();
        let mut outcomes = Vec::with_capacity(appends.len());

        for append in appends {
            if let Some(key) = append.idempotency_key.as_deref() {
                if let Some(first) = known_keys.get(key).or_else(|| batch_keys.get(key)) {
                    outcomes.push(Ok(AppendOutcome { replayed: true, ..*first }));
                    continue;
                }
            }
            if let Err(conflict) = check_expected_versions(append, &versions) {
                outcomes.push(Err(conflict));
                continue;
            }
            let first_position = position + 1;
            for stream in &append.streams {
                let version = versions.entry(stream.stream.clone()).or_insert(0);
                for event in &stream.events {
                    position += 1;
                    *version += 1;
                    let mut stored = StoredEvent {
                        position,
                        event_id: event.event_id,
                        stream: stream.stream.clone(),
                        stream_version: *version,
                        event_type: event.event_type.clone(),
                        schema_version: event.schema_version,
                        payload: event.payload.clone(),
                        metadata: append.metadata.clone(),
                        recorded_at,
                        hash: [0; 32],
                    };
                    stored.hash = chain_hash(&hash, &stored);
                    hash = stored.hash;
                    rows.push(stored);
                }
            }
            let outcome = AppendOutcome { first_position, last_position: position, replayed: false };
            if let Some(key) = append.idempotency_key.as_deref() {
                batch_keys.insert(key, outcome);
                new_keys.push((key, outcome));
            }
            outcomes.push(Ok(outcome));
        }

        if rows.is_empty() {
            tx.rollback().await?;
            return Ok((outcomes, None));
        }

        insert_events(&mut tx, &rows).await?;
        insert_idempotency_keys(&mut tx, &new_keys, recorded_at).await?;
        upsert_stream_versions(&mut tx, &rows).await?;
        sqlx::query("UPDATE event_store_head SET last_position = ?, last_hash = ? WHERE id = 1")
            .bind(position)
            .bind(&hash[..])
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok((outcomes, Some(position)))
    }
}

/// A repeated event id is the caller's mistake; anything else means the database is unwell.
fn classify(error: sqlx::Error) -> EventStoreError {
    if let sqlx::Error::Database(db) = &error {
        if db.is_unique_violation() && db.message().contains("events_event_id") {
            return EventStoreError::InvalidRequest("an event with this id already exists".to_owned());
        }
    }
    EventStoreError::Unavailable(error)
}

pub(crate) fn now_micros() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

fn check_expected_versions(
    append: &PreparedAppend,
    versions: &HashMap<StreamRef, u64>,
) -> Result<(), EventStoreError> {
    for stream in &append.streams {
        let actual = versions.get(&stream.stream).copied().unwrap_or(0);
        if !stream.expected.admits(actual) {
            return Err(EventStoreError::Conflict {
                stream: stream.stream.clone(),
                expected: stream.expected,
                actual,
            });
        }
    }
    Ok(())
}

async fn load_idempotency_keys(
    connection: &mut MySqlConnection,
    appends: &[&PreparedAppend],
) -> Result<HashMap<String, AppendOutcome>, sqlx::Error> {
    let keys: HashSet<&str> = appends.iter().filter_map(|a| a.idempotency_key.as_deref()).collect();
    let mut known = HashMap::new();
    if keys.is_empty() {
        return Ok(known);
    }
    let mut query: QueryBuilder<MySql> = QueryBuilder::new(
        "SELECT idempotency_key, first_position, last_position FROM idempotency_keys WHERE idempotency_key IN (",
    );
    let mut list = query.separated(", ");
    for key in &keys {
        list.push_bind(*key);
    }
    query.push(")");
    for row in query.build().fetch_all(&mut *connection).await? {
        let outcome = AppendOutcome {
            first_position: row.try_get("first_position")?,
            last_position: row.try_get("last_position")?,
            replayed: true,
        };
        known.insert(row.try_get("idempotency_key")?, outcome);
    }
    Ok(known)
}

async fn load_stream_versions(
    connection: &mut MySqlConnection,
    appends: &[&PreparedAppend],
) -> Result<HashMap<StreamRef, u64>, sqlx::Error> {
    let streams: HashSet<&StreamRef> =
        appends.iter().flat_map(|a| a.streams.iter().map(|s| &s.stream)).collect();
    let mut versions = HashMap::with_capacity(streams.len());
    let mut query: QueryBuilder<MySql> =
        QueryBuilder::new("SELECT stream_type, stream_id, version FROM event_streams WHERE ");
    for (index, stream) in streams.iter().enumerate() {
        if index > 0 {
            query.push(" OR ");
        }
        query.push("(stream_type = ").push_bind(stream.stream_type.as_str());
        query.push(" AND stream_id = ").push_bind(stream.stream_id.as_str()).push(")");
    }
    for row in query.build().fetch_all(&mut *connection).await? {
        let stream = StreamRef::new(row.try_get::<String, _>("stream_type")?, row.try_get::<String, _>("stream_id")?);
        versions.insert(stream, row.try_get("version")?);
    }
    Ok(versions)
}

async fn insert_events(connection: &mut MySqlConnection, rows: &[StoredEvent]) -> Result<(), sqlx::Error> {
    for chunk in rows.chunks(INSERT_ROWS_MAX) {
        let mut query: QueryBuilder<MySql> = QueryBuilder::new(
            "INSERT INTO events (position, event_id, stream_type, stream_id, stream_version, event_type, \
             schema_version, payload, metadata, recorded_at, hash) ",
        );
        query.push_values(chunk, |mut row, event| {
            row.push_bind(event.position)
                .push_bind(event.event_id)
                .push_bind(event.stream.stream_type.as_str())
                .push_bind(event.stream.stream_id.as_str())
                .push_bind(event.stream_version)
                .push_bind(event.event_type.as_str())
                .push_bind(event.schema_version)
                .push_bind(event.payload.as_str())
                .push_bind(event.metadata.as_str())
                .push_bind(event.recorded_at.naive_utc())
                .push_bind(&event.hash[..]);
        });
        query.build().execute(&mut *connection).await?;
    }
    Ok(())
}

async fn insert_idempotency_keys(
    connection: &mut MySqlConnection,
    keys: &[(&str, AppendOutcome)],
    recorded_at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    for chunk in keys.chunks(INSERT_ROWS_MAX) {
        let mut query: QueryBuilder<MySql> = QueryBuilder::new(
            "INSERT INTO idempotency_keys (idempotency_key, first_position, last_position, recorded_at) ",
        );
        query.push_values(chunk, |mut row, (key, outcome)| {
            row.push_bind(*key)
                .push_bind(outcome.first_position)
                .push_bind(outcome.last_position)
                .push_bind(recorded_at.naive_utc());
        });
        query.build().execute(&mut *connection).await?;
    }
    Ok(())
}

async fn upsert_stream_versions(connection: &mut MySqlConnection, rows: &[StoredEvent]) -> Result<(), sqlx::Error> {
    // Rows are in version order, so the last row of each stream carries its new version.
    let mut latest: HashMap<&StreamRef, u64> = HashMap::new();
    for row in rows {
        latest.insert(&row.stream, row.stream_version);
    }
    let latest: Vec<(&StreamRef, u64)> = latest.into_iter().collect();
    for chunk in latest.chunks(INSERT_ROWS_MAX) {
        let mut query: QueryBuilder<MySql> =
            QueryBuilder::new("INSERT INTO event_streams (stream_type, stream_id, version) ");
        query.push_values(chunk, |mut row, (stream, version)| {
            row.push_bind(stream.stream_type.as_str()).push_bind(stream.stream_id.as_str()).push_bind(*version);
        });
        query.push(" ON DUPLICATE KEY UPDATE version = VALUES(version)");
        query.build().execute(&mut *connection).await?;
    }
    Ok(())
}

/// Checks the parts of an append that do not depend on the store's state.
pub(crate) fn validate(append: &PreparedAppend) -> Result<(), EventStoreError> {
    let invalid = |reason: &str| Err(EventStoreError::InvalidRequest(reason.to_owned()));
    if append.event_count() == 0 {
        return invalid("an append needs at least one event");
    }
    if append.idempotency_key.as_ref().is_some_and(|k| k.is_empty() || k.len() > IDEMPOTENCY_KEY_LEN_MAX) {
        return invalid("idempotency key must be 1 to 400 bytes");
    }
    let mut seen = HashSet::new();
    for stream in &append.streams {
        if !seen.insert(&stream.stream) {
            return invalid("a stream may appear only once in an append");
        }
        let StreamRef { stream_type, stream_id } = &stream.stream;
        if stream_type.is_empty() || stream_type.len() > STREAM_TYPE_LEN_MAX {
            return invalid("stream type must be 1 to 64 bytes");
        }
        if stream_id.is_empty() || stream_id.len() > STREAM_ID_LEN_MAX {
            return invalid("stream id must be 1 to 64 bytes");
        }
        if stream.events.iter().any(|e| e.event_type.is_empty() || e.event_type.len() > EVENT_TYPE_LEN_MAX) {
            return invalid("event type must be 1 to 128 bytes");
        }
    }
    Ok(())
}
