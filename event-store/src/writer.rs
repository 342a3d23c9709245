//! The group-commit writer: the only code that inserts events.
//!
//! Appends from every task of the process queue here and are committed many at a time. Each
//! commit first locks the single `event_store_head` row, so commits are serialised (also across
//! processes) and positions are handed out in commit order: a reader that has seen position N has
//! seen everything below it, and nothing can later commit below it. Batching many appends into one
//! commit wins back the throughput that serialising costs.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, SubsecRound, Utc};
use sqlx::{Connection, MySql, MySqlConnection, MySqlPool, QueryBuilder, Row};
use tokio::sync::{mpsc, oneshot, watch};

use crate::availability::{Availability, is_connection_failure};
use crate::hash::chain_hash;
use crate::recent::RecentEvents;
use crate::model::StreamTip;
use crate::{AppendOutcome, EventStoreError, ExpectedVersion, StoredEvent, StreamRef};

/// Most appends folded into one commit.
pub(crate) const BATCH_APPENDS_MAX: usize = 1024;
/// Longest wait for more appends when a batch is smaller than the one before it.
const BATCH_LINGER_US_MAX: u64 = 1000;
/// Most events in one commit (an append bigger than this still commits, alone).
const BATCH_EVENTS_MAX: usize = 8192;
/// Rows per multi-row INSERT: 11 placeholders a row stays far below MySQL's 65,535.
const INSERT_ROWS_MAX: usize = 1000;
/// The longest one commit may take, from taking a connection to the end of `COMMIT`: an append
/// is answered within this (plus its wait in the queue) even when the database stops answering.
pub const COMMIT_TIMEOUT_MS: u64 = 3_000;

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
    availability: Availability,
    connection: Option<MySqlConnection>,
    /// Set once `COMMIT` is sent: a failure after it leaves the outcome unknown.
    committing: bool,
    jobs: mpsc::Receiver<Job>,
    committed: Arc<watch::Sender<u64>>,
    known_versions: KnownVersions,
    recent: Arc<RecentEvents>,
}

/// Stream versions the process's writers have read or committed, shared by them because one
/// business transaction's streams may be routed to either (a top-up is created on one writer and
/// settled with its wallet on the other). Never ahead of the store (only filled after a commit),
/// possibly behind it when another process appended: then the unique (stream, version) key
/// refuses the insert, and the batch is redone with fresh reads.
#[derive(Clone, Default)]
pub(crate) struct KnownVersions(Arc<Mutex<HashMap<StreamRef, StreamTip>>>);

impl KnownVersions {
    fn get(&self, stream: &StreamRef) -> Option<StreamTip> {
        self.0.lock().expect("known versions lock").get(stream).copied()
    }

    fn clear(&self) {
        self.0.lock().expect("known versions lock").clear();
    }

    /// Versions only move forward here: writers report their commits in any order.
    fn learn(&self, versions: HashMap<StreamRef, StreamTip>) {
        let mut known = self.0.lock().expect("known versions lock");
        if known.len() + versions.len() > KNOWN_VERSIONS_MAX {
            known.clear();
        }
        for (stream, tip) in versions {
            let entry = known.entry(stream).or_insert(tip);
            if tip.version >= entry.version {
                *entry = tip;
            }
        }
    }
}

/// Beyond this many cached versions the cache starts over.
const KNOWN_VERSIONS_MAX: usize = 100_000;

/// How much a commit trusts what the writer already knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Checks {
    /// Versions from the cache; idempotency keys left to the primary key. The fast path.
    Optimistic,
    /// Every version and key read from the store under the head lock.
    Careful,
}

impl Writer {
    pub fn new(
        pool: MySqlPool,
        availability: Availability,
        jobs: mpsc::Receiver<Job>,
        committed: Arc<watch::Sender<u64>>,
        known_versions: KnownVersions,
        recent: Arc<RecentEvents>,
    ) -> Self {
        Self { pool, availability, connection: None, committing: false, jobs, committed, known_versions, recent }
    }

    /// Runs until every `EventStore` handle is dropped.
    pub async fn run(mut self) {
        let mut previous_batch_len = 0;
        while let Some(first) = self.jobs.recv().await {
            let mut events = first.append.event_count();
            let mut batch = vec![first];
            let linger_until = tokio::time::Instant::now() + std::time::Duration::from_micros(BATCH_LINGER_US_MAX);
            while batch.len() < BATCH_APPENDS_MAX && events < BATCH_EVENTS_MAX {
                let job = match self.jobs.try_recv() {
                    Ok(job) => job,
                    // Callers answered by the last commit are about to append again: waiting a
                    // moment for them folds two half-full commits into one full one.
                    Err(_) if batch.len() < previous_batch_len => {
                        match tokio::time::timeout_at(linger_until, self.jobs.recv()).await {
                            Ok(Some(job)) => job,
                            _ => break,
                        }
                    }
                    Err(_) => break,
                };
                events += job.append.event_count();
                batch.push(job);
            }
            previous_batch_len = batch.len();
            let started = std::time::Instant::now();
            let appends = batch.len();
            self.commit(batch).await;
            tracing::debug!(appends, events, elapsed_us = started.elapsed().as_micros() as u64, "batch committed");
        }
    }

    async fn commit(&mut self, batch: Vec<Job>) {
        let appends: Vec<&PreparedAppend> = batch.iter().map(|job| &job.append).collect();
        let outcomes = match self.try_commit(&appends, Checks::Optimistic).await {
            Ok(outcomes) => outcomes,
            Err(Failure::Unknown(reason)) => return answer_unknown(batch, &reason),
            // A repeated idempotency key, or a version that moved under the cache.
            Err(Failure::NotCommitted(_)) => return self.commit_carefully(batch).await,
        };
        let mut recheck = Vec::new();
        for (job, outcome) in batch.into_iter().zip(outcomes) {
            match outcome {
                // Judged on cached versions: the store has the last word.
                Err(EventStoreError::Conflict { .. }) => recheck.push(job),
                outcome => {
                    let _ = job.reply.send(outcome);
                }
            }
        }
        if !recheck.is_empty() {
            self.commit_carefully(recheck).await;
        }
    }

    async fn commit_carefully(&mut self, batch: Vec<Job>) {
        self.known_versions.clear();
        let appends: Vec<&PreparedAppend> = batch.iter().map(|job| &job.append).collect();
        match self.try_commit(&appends, Checks::Careful).await {
            Ok(outcomes) => {
                for (job, outcome) in batch.into_iter().zip(outcomes) {
                    let _ = job.reply.send(outcome);
                }
            }
            Err(Failure::Unknown(reason)) => answer_unknown(batch, &reason),
            Err(Failure::NotCommitted(error)) if batch.len() > 1 && !is_connection_failure(&error) => {
                // One bad append must not fail its neighbours: retry each on its own.
                tracing::warn!(%error, appends = batch.len(), "batch commit failed, retrying appends one by one");
                for job in batch {
                    let outcome = match self.try_commit(&[&job.append], Checks::Careful).await {
                        Ok(mut outcomes) => outcomes.remove(0),
                        Err(Failure::Unknown(reason)) => Err(EventStoreError::OutcomeUnknown(reason)),
                        Err(Failure::NotCommitted(error)) => Err(classify(error)),
                    };
                    let _ = job.reply.send(outcome);
                }
            }
            Err(Failure::NotCommitted(error)) => {
                let error = classify(error);
                for job in batch {
                    let _ = job.reply.send(Err(copy_of(&error)));
                }
            }
        }
    }


    /// Commits what it can of the batch, within `COMMIT_TIMEOUT_MS`. The outer error says
    /// whether anything may have been committed.
    async fn try_commit(&mut self, appends: &[&PreparedAppend], checks: Checks) -> Result<Vec<Result<AppendOutcome, EventStoreError>>, Failure> {
        let reused = self.connection.is_some();
        let result = match self.timed_commit(appends, checks).await {
            // The connection kept from before died meanwhile (the database restarted, say):
            // nothing was sent to commit, so once more on a fresh one.
            Err(error) if reused && !self.committing && is_connection_failure(&error) => {
                self.connection = None;
                self.timed_commit(appends, checks).await
            }
            result => result,
        };
        let Committed { outcomes, rows, versions } = match result {
            Ok(committed) => committed,
            Err(error) => {
                // The connection may be mid-transaction or broken: never reuse it.
                self.connection = None;
                self.known_versions.clear();
                self.availability.observe(&error);
                return Err(if self.committing { Failure::Unknown(error.to_string()) } else { Failure::NotCommitted(error) });
            }
        };
        self.known_versions.learn(versions);
        if let Some(position) = rows.last().map(|row| row.position) {
            self.recent.remember(rows);
            // Writers finish in any order; the watch only moves forward.
            self.committed.send_if_modified(|committed| {
                let advanced = position > *committed;
                *committed = (*committed).max(position);
                advanced
            });
        }
        Ok(outcomes)
    }

    async fn timed_commit(&mut self, appends: &[&PreparedAppend], checks: Checks) -> Result<Committed, sqlx::Error> {
        self.committing = false;
        let timeout = std::time::Duration::from_millis(COMMIT_TIMEOUT_MS);
        match tokio::time::timeout(timeout, self.commit_in_transaction(appends, checks)).await {
            Ok(result) => result,
            Err(_) => Err(sqlx::Error::Io(std::io::Error::new(std::io::ErrorKind::TimedOut, "the commit took too long"))),
        }
    }

    /// Returns each append's outcome, the rows committed and every stream version known after
    /// the commit.
    async fn commit_in_transaction(
        &mut self,
        appends: &[&PreparedAppend],
        checks: Checks,
    ) -> Result<Committed, sqlx::Error> {
        let mut versions: HashMap<StreamRef, StreamTip> = HashMap::new();
        let mut unknown: Vec<&StreamRef> = Vec::new();
        for append in appends.iter().flat_map(|a| a.streams.iter()) {
            let stream = &append.stream;
            match (self.known_versions.get(stream), checks) {
                (Some(tip), Checks::Optimistic) => {
                    versions.insert(stream.clone(), tip);
                }
                // A new stream needs no look-up on the fast path: if it exists after all, its
                // version 1 is taken and the unique key sends the batch down the careful path.
                (None, Checks::Optimistic) if append.expected == ExpectedVersion::NoStream => {}
                _ => unknown.push(stream),
            }
        }
        let connection = connect(&mut self.connection, &self.pool).await?;
        let mut tx = connection.begin().await?;

        let head = sqlx::query("SELECT last_position, last_hash FROM event_store_head WHERE id = 1 FOR UPDATE")
            .fetch_one(&mut *tx)
            .await?;
        let mut position: u64 = head.try_get("last_position")?;
        let hash_bytes: Vec<u8> = head.try_get("last_hash")?;
        let mut hash: [u8; 32] = hash_bytes
            .try_into()
            .map_err(|_| sqlx::Error::Protocol("event_store_head.last_hash is not 32 bytes".into()))?;

        let known_keys = match checks {
            Checks::Careful => load_idempotency_keys(&mut tx, appends).await?,
            Checks::Optimistic => HashMap::new(),
        };
        versions.extend(load_stream_versions(&mut tx, &unknown).await?);
        let recorded_at = now_micros();

        let mut rows: Vec<StoredEvent> = Vec::new();
        let mut new_keys: Vec<(&str, AppendOutcome)> = Vec::new();
        let mut batch_keys: HashMap<&str, AppendOutcome> = HashMap::new();
        let mut outcomes = Vec::with_capacity(appends.len());

        for append in appends {
            if let Some(key) = append.idempotency_key.as_deref()
                && let Some(first) = known_keys.get(key).or_else(|| batch_keys.get(key)) {
                    outcomes.push(Ok(AppendOutcome { replayed: true, ..*first }));
                    continue;
                }
            if let Err(conflict) = check_expected_versions(append, &versions) {
                outcomes.push(Err(conflict));
                continue;
            }
            let first_position = position + 1;
            for stream in &append.streams {
                let tip = versions.entry(stream.stream.clone()).or_default();
                for event in &stream.events {
                    position += 1;
                    tip.version += 1;
                    tip.last_event = Some(event.event_id);
                    let mut stored = StoredEvent {
                        position,
                        event_id: event.event_id,
                        stream: stream.stream.clone(),
                        stream_version: tip.version,
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
            return Ok(Committed { outcomes, rows, versions });
        }

        insert_events(&mut tx, &rows).await?;
        insert_idempotency_keys(&mut tx, &new_keys, recorded_at).await?;
        sqlx::query("UPDATE event_store_head SET last_position = ?, last_hash = ? WHERE id = 1")
            .bind(position)
            .bind(&hash[..])
            .execute(&mut *tx)
            .await?;
        self.committing = true;
        tx.commit().await?;
        Ok(Committed { outcomes, rows, versions })
    }
}

/// The writer's own connection, opened when it has none.
async fn connect<'a>(connection: &'a mut Option<MySqlConnection>, pool: &MySqlPool) -> Result<&'a mut MySqlConnection, sqlx::Error> {
    if connection.is_none() {
        let mut opened = pool.acquire().await?.detach();
        // Versions are read after the head lock is taken; READ COMMITTED guarantees that read
        // sees every append committed before the lock was granted.
        sqlx::query("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED").execute(&mut opened).await?;
        *connection = Some(opened);
    }
    Ok(connection.as_mut().expect("connection was just set"))
}

/// Why a commit attempt did not go through.
enum Failure {
    /// Nothing was written.
    NotCommitted(sqlx::Error),
    /// The database failed while committing: written or not, nobody knows.
    Unknown(String),
}

fn answer_unknown(batch: Vec<Job>, reason: &str) {
    tracing::error!(reason, appends = batch.len(), "the database failed while committing: outcome unknown");
    for job in batch {
        let _ = job.reply.send(Err(EventStoreError::OutcomeUnknown(reason.to_owned())));
    }
}

/// A repeated event id is the caller's mistake; a row already at the position after the head
/// means the store is corrupt (something wrote past the head); anything else means the database is
/// unwell.
fn classify(error: sqlx::Error) -> EventStoreError {
    if let sqlx::Error::Database(db) = &error
        && db.is_unique_violation()
    {
        if db.message().contains("events_event_id") {
            return EventStoreError::InvalidRequest("an event with this id already exists".to_owned());
        }
        if db.message().contains("PRIMARY") {
            return EventStoreError::Corrupt { position: 0, reason: format!("a row exists past the head of the log: {}", db.message()) };
        }
    }
    EventStoreError::Unavailable(error)
}

/// The same refusal for each append of a failed batch.
fn copy_of(error: &EventStoreError) -> EventStoreError {
    match error {
        EventStoreError::InvalidRequest(reason) => EventStoreError::InvalidRequest(reason.clone()),
        EventStoreError::Corrupt { position, reason } => EventStoreError::Corrupt { position: *position, reason: reason.clone() },
        _ => EventStoreError::DatabaseDown,
    }
}

struct Committed {
    outcomes: Vec<Result<AppendOutcome, EventStoreError>>,
    rows: Vec<StoredEvent>,
    versions: HashMap<StreamRef, StreamTip>,
}

pub(crate) fn now_micros() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

fn check_expected_versions(
    append: &PreparedAppend,
    versions: &HashMap<StreamRef, StreamTip>,
) -> Result<(), EventStoreError> {
    for stream in &append.streams {
        let actual = versions.get(&stream.stream).copied().unwrap_or_default();
        if !stream.expected.admits(actual) {
            return Err(EventStoreError::Conflict {
                stream: stream.stream.clone(),
                expected: stream.expected,
                actual: actual.version,
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

/// Each stream's last version and event, one index dive per stream (streams with no event are
/// absent).
async fn load_stream_versions(
    connection: &mut MySqlConnection,
    streams: &[&StreamRef],
) -> Result<HashMap<StreamRef, StreamTip>, sqlx::Error> {
    let mut versions = HashMap::with_capacity(streams.len());
    let unique: HashSet<&StreamRef> = streams.iter().copied().collect();
    let unique: Vec<&StreamRef> = unique.into_iter().collect();
    for chunk in unique.chunks(INSERT_ROWS_MAX) {
        let mut query: QueryBuilder<MySql> = QueryBuilder::new("");
        for (index, stream) in chunk.iter().enumerate() {
            if index > 0 {
                query.push(" UNION ALL ");
            }
            query.push("(SELECT stream_type, stream_id, stream_version, event_id FROM events WHERE stream_type = ");
            query.push_bind(stream.stream_type.as_str());
            query.push(" AND stream_id = ").push_bind(stream.stream_id.as_str());
            query.push(" ORDER BY stream_version DESC LIMIT 1)");
        }
        for row in query.build().fetch_all(&mut *connection).await? {
            let stream =
                StreamRef::new(row.try_get::<String, _>("stream_type")?, row.try_get::<String, _>("stream_id")?);
            versions.insert(stream, StreamTip { version: row.try_get("stream_version")?, last_event: Some(row.try_get("event_id")?) });
        }
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
