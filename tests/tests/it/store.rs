//! The event store against a real MariaDB: appends, conflicts, atomicity, idempotency, reads,
//! append-only enforcement and the gap-free global order.

use std::collections::HashMap;
use std::time::Duration;

use event_store::{
    AppendRequest, EventStore, EventStoreError, ExpectedVersion, GENESIS_HASH, NewEvent, StreamAppend, StreamRef,
    Upcasters, chain_hash,
};
use serde_json::json;
use tests::TestDatabase;

async fn store(db: &TestDatabase) -> EventStore {
    EventStore::start(db.pool.clone(), Upcasters::new()).await.expect("store starts")
}

fn event(n: u64) -> NewEvent {
    NewEvent::new("Noted", 1, json!({ "n": n }))
}

fn stream(id: &str) -> StreamRef {
    StreamRef::new("note", id)
}

async fn count_events(db: &TestDatabase) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM events").fetch_one(&db.pool).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn appended_events_read_back_with_versions_positions_metadata_and_chained_hashes() {
    let db = TestDatabase::new().await;
    let store = store(&db).await;

    let first = store
        .append(AppendRequest::single(stream("a"), ExpectedVersion::NoStream, vec![event(1), event(2)]))
        .await
        .unwrap();
    assert_eq!((first.first_position, first.last_position, first.replayed), (1, 2, false));
    let second = store
        .append(AppendRequest::single(stream("a"), ExpectedVersion::Exact(2), vec![event(3)]).with_idempotency_key("k-1"))
        .await
        .unwrap();
    assert_eq!((second.first_position, second.last_position), (3, 3));

    let events = store.read_stream(&stream("a"), 0).await.unwrap();
    assert_eq!(events.iter().map(|e| e.stream_version).collect::<Vec<_>>(), [1, 2, 3]);
    assert_eq!(events.iter().map(|e| e.position).collect::<Vec<_>>(), [1, 2, 3]);
    assert_eq!(events[2].payload, json!({ "n": 3 }));
    assert_eq!(events[2].metadata.idempotency_key.as_deref(), Some("k-1"));
    assert_eq!(events[0].event_id.get_version_num(), 7, "event ids are UUIDv7");
    assert_eq!(events[0].recorded_at.timestamp_subsec_nanos() % 1000, 0, "microsecond precision");
    assert_eq!(store.read_stream(&stream("a"), 2).await.unwrap().len(), 1);

    let stored = store.read_all_stored(0, 100).await.unwrap();
    let mut previous = GENESIS_HASH;
    for event in &stored {
        assert_eq!(event.hash, chain_hash(&previous, event));
        previous = event.hash;
    }
    assert_eq!(store.head().await.unwrap().hash, previous);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_expected_version_is_a_typed_conflict() {
    let db = TestDatabase::new().await;
    let store = store(&db).await;
    store.append(AppendRequest::single(stream("a"), ExpectedVersion::NoStream, vec![event(1)])).await.unwrap();

    for expected in [ExpectedVersion::NoStream, ExpectedVersion::Exact(0), ExpectedVersion::Exact(2)] {
        let error = store.append(AppendRequest::single(stream("a"), expected, vec![event(2)])).await.unwrap_err();
        assert!(
            matches!(&error, EventStoreError::Conflict { actual: 1, expected: e, .. } if *e == expected),
            "{error:?}"
        );
    }
    let error = store.append(AppendRequest::single(stream("b"), ExpectedVersion::Exact(1), vec![event(1)])).await.unwrap_err();
    assert!(matches!(error, EventStoreError::Conflict { actual: 0, .. }));

    store.append(AppendRequest::single(stream("a"), ExpectedVersion::Any, vec![event(2)])).await.unwrap();
    assert_eq!(count_events(&db).await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_multi_stream_append_commits_all_streams_or_none() {
    let db = TestDatabase::new().await;
    let store = store(&db).await;
    store.append(AppendRequest::single(stream("b"), ExpectedVersion::NoStream, vec![event(1)])).await.unwrap();

    let mut request = AppendRequest::single(stream("a"), ExpectedVersion::NoStream, vec![event(1), event(2)]);
    request.streams.push(StreamAppend { stream: stream("b"), expected: ExpectedVersion::Exact(7), events: vec![event(3)] });
    assert!(store.append(request.clone()).await.unwrap_err().is_conflict());
    assert_eq!(count_events(&db).await, 1, "nothing of the failed append was written");
    assert_eq!(store.stream_version(&stream("a")).await.unwrap(), 0);

    request.streams[1].expected = ExpectedVersion::Exact(1);
    let outcome = store.append(request).await.unwrap();
    assert_eq!((outcome.first_position, outcome.last_position), (2, 4));
    assert_eq!(store.stream_version(&stream("a")).await.unwrap(), 2);
    assert_eq!(store.stream_version(&stream("b")).await.unwrap(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repeated_idempotency_key_returns_the_first_positions_also_after_a_restart() {
    let db = TestDatabase::new().await;
    let store = store(&db).await;
    store.append(AppendRequest::single(stream("x"), ExpectedVersion::Any, vec![event(0)])).await.unwrap();
    let request = AppendRequest::single(stream("a"), ExpectedVersion::Any, vec![event(1), event(2)]).with_idempotency_key("pay-1");
    let first = store.append(request.clone()).await.unwrap();
    let again = store.append(request.clone()).await.unwrap();
    assert_eq!((again.first_position, again.last_position, again.replayed), (first.first_position, first.last_position, true));

    // A new process: new pool, new writer, nothing in memory.
    let restarted = EventStore::start(db.another_pool(2).await, Upcasters::new()).await.unwrap();
    let after_restart = restarted.append(request).await.unwrap();
    assert_eq!((after_restart.first_position, after_restart.last_position, after_restart.replayed), (2, 3, true));
    assert_eq!(count_events(&db).await, 3);
    assert_eq!(restarted.idempotent_outcome("pay-1").await.unwrap(), Some(after_restart));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_appends_with_one_idempotency_key_append_once() {
    let db = TestDatabase::new().await;
    let stores = [store(&db).await, EventStore::start(db.another_pool(4).await, Upcasters::new()).await.unwrap()];
    let mut tasks = Vec::new();
    for i in 0..32 {
        let store = stores[i % 2].clone();
        tasks.push(tokio::spawn(async move {
            let request = AppendRequest::single(stream("a"), ExpectedVersion::Any, vec![event(i as u64)]).with_idempotency_key("same");
            store.append(request).await.unwrap()
        }));
    }
    let outcomes = futures::future::join_all(tasks).await;
    let fresh = outcomes.iter().filter(|o| !o.as_ref().unwrap().replayed).count();
    assert_eq!(fresh, 1);
    assert!(outcomes.iter().all(|o| o.as_ref().unwrap().first_position == 1));
    assert_eq!(count_events(&db).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_appends_are_rejected_and_write_nothing() {
    let db = TestDatabase::new().await;
    let store = store(&db).await;
    let empty = AppendRequest::single(stream("a"), ExpectedVersion::Any, vec![]);
    assert!(matches!(store.append(empty).await, Err(EventStoreError::InvalidRequest(_))));
    let long_id = AppendRequest::single(StreamRef::new("note", "x".repeat(65)), ExpectedVersion::Any, vec![event(1)]);
    assert!(matches!(store.append(long_id).await, Err(EventStoreError::InvalidRequest(_))));

    let first = event(1);
    store.append(AppendRequest::single(stream("a"), ExpectedVersion::Any, vec![first.clone()])).await.unwrap();
    let reused_id = AppendRequest::single(stream("b"), ExpectedVersion::Any, vec![first]);
    assert!(matches!(store.append(reused_id).await, Err(EventStoreError::InvalidRequest(_))));
    assert_eq!(count_events(&db).await, 1);
    // The writer is still healthy after the rejected append.
    store.append(AppendRequest::single(stream("a"), ExpectedVersion::Exact(1), vec![event(2)])).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_database_refuses_to_update_or_delete_events() {
    let db = TestDatabase::new().await;
    let store = store(&db).await;
    store.append(AppendRequest::single(stream("a"), ExpectedVersion::Any, vec![event(1)])).await.unwrap();
    let update = sqlx::query("UPDATE events SET payload = '{}' WHERE position = 1").execute(&db.pool).await;
    assert!(update.unwrap_err().to_string().contains("append-only"));
    let delete = sqlx::query("DELETE FROM events").execute(&db.pool).await;
    assert!(delete.unwrap_err().to_string().contains("append-only"));
    assert_eq!(count_events(&db).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_all_returns_bounded_batches_in_position_order() {
    let db = TestDatabase::new().await;
    let store = store(&db).await;
    let events = (0..25).map(event).collect();
    store.append(AppendRequest::single(stream("a"), ExpectedVersion::Any, events)).await.unwrap();
    let mut after = 0;
    let mut batches = Vec::new();
    loop {
        let batch = store.read_all(after, 10).await.unwrap();
        let Some(last) = batch.last() else { break };
        after = last.position;
        batches.push(batch.len());
    }
    assert_eq!(batches, [10, 10, 5]);
    assert_eq!(after, 25);
}

const APPENDERS: usize = 8;
const EVENTS_PER_APPENDER: usize = 2_500;

/// Tails a log by position like a projector would, and reports what it saw.
struct Tail {
    seen: Vec<u64>,
    out_of_order: usize,
}

impl Tail {
    fn observe(&mut self, position: u64) {
        if self.seen.last().is_some_and(|&last| position != last + 1) || (self.seen.is_empty() && position != 1) {
            self.out_of_order += 1;
        }
        self.seen.push(position);
    }
}

/// Eight independent stores (eight writers, as eight server processes would have) append 20,000
/// events while a reader tails by position. The reader must see every position exactly once and in
/// order, and the positions must be exactly 1..=N.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn torture_concurrent_appenders_never_let_a_tailing_reader_skip_or_repeat() {
    let db = TestDatabase::new().await;
    let total = (APPENDERS * EVENTS_PER_APPENDER) as u64;
    let mut appenders = Vec::new();
    let mut tailing_store = None;
    for appender in 0..APPENDERS {
        let store = EventStore::start(db.another_pool(2).await, Upcasters::new()).await.unwrap();
        tailing_store.get_or_insert_with(|| store.clone());
        appenders.push(tokio::spawn(async move {
            let mut versions: HashMap<String, u64> = HashMap::new();
            let mut written = 0;
            let mut round = 0u64;
            while written < EVENTS_PER_APPENDER {
                round += 1;
                let size = (1 + round % 4) as usize;
                let size = size.min(EVENTS_PER_APPENDER - written);
                let own = format!("w{appender}-{}", round % 16);
                let version = versions.entry(own.clone()).or_insert(0);
                let events = (0..size).map(|i| event(round * 10 + i as u64)).collect();
                let mut request = AppendRequest::single(stream(&own), ExpectedVersion::from_version(*version), events);
                if round.is_multiple_of(5) {
                    // Some appends also touch a stream every appender writes to.
                    request.streams.push(StreamAppend { stream: stream("shared"), expected: ExpectedVersion::Any, events: vec![event(0)] });
                }
                let appended = request.event_count();
                let outcome = store.append(request).await.expect("append");
                assert_eq!(outcome.last_position - outcome.first_position + 1, appended as u64);
                *version += size as u64;
                written += appended;
            }
            written
        }));
    }

    let reader_store = store(&db).await;
    let mut tail = Tail { seen: Vec::with_capacity(total as usize + 100), out_of_order: 0 };
    // A second reader tails through one of the appending processes, as its relay does: what that
    // process appended comes from its memory, the rest from the database.
    let tailing_store = tailing_store.unwrap();
    let mut tailed: Vec<event_store::StoredEvent> = Vec::new();
    let tail_more = async |tailed: &mut Vec<event_store::StoredEvent>| {
        let after = tailed.last().map_or(0, |e| e.position);
        let mut batch = tailing_store.tail_stored(after, 1000).await.unwrap();
        if batch.is_empty() {
            batch = tailing_store.read_all_stored(after, 1000).await.unwrap();
        }
        tailed.extend_from_slice(&batch);
        !batch.is_empty()
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(240);
    let mut appended_total: Option<u64> = None;
    loop {
        let batch = reader_store.read_all(tail.seen.last().copied().unwrap_or(0), 1000).await.unwrap();
        for event in &batch {
            tail.observe(event.position);
        }
        tail_more(&mut tailed).await;
        if appended_total.is_none() && appenders.iter().all(|a| a.is_finished()) {
            let mut sum = 0;
            for appender in appenders.drain(..) {
                sum += appender.await.unwrap() as u64;
            }
            appended_total = Some(sum);
        }
        if let Some(sum) = appended_total
            && tail.seen.len() as u64 >= sum && batch.is_empty() {
                break;
            }
        assert!(tokio::time::Instant::now() < deadline, "torture test timed out");
        if batch.is_empty() {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }

    let appended_total = appended_total.unwrap();
    assert!(appended_total >= total, "at least 20,000 events were appended");
    assert_eq!(tail.out_of_order, 0, "the reader saw a hole or a repeat");
    assert_eq!(tail.seen, (1..=appended_total).collect::<Vec<_>>(), "positions are exactly 1..=N, each seen once");
    let positions: Vec<u64> = sqlx::query_scalar("SELECT position FROM events ORDER BY position").fetch_all(&db.pool).await.unwrap();
    assert_eq!(positions, tail.seen, "the store holds exactly what the reader saw");

    // The chain holds across the concurrent writers.
    let mut previous = GENESIS_HASH;
    let mut stored = Vec::new();
    loop {
        let batch = reader_store.read_all_stored(stored.last().map_or(0, |e: &event_store::StoredEvent| e.position), 5000).await.unwrap();
        if batch.is_empty() {
            break;
        }
        for event in &batch {
            assert_eq!(event.hash, chain_hash(&previous, event), "hash chain broken at {}", event.position);
            previous = event.hash;
        }
        stored.extend(batch);
    }
    while tail_more(&mut tailed).await {}
    assert!(tailed == stored, "the tail through memory is exactly the stored log");
}

/// The same tailing reader against a log that takes positions from AUTO_INCREMENT, as most event
/// stores on MySQL do: concurrent transactions commit out of position order, and the reader skips
/// events for ever. This proves the torture test above can fail.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn torture_reader_catches_an_auto_increment_log_skipping_events() {
    let db = TestDatabase::new().await;
    sqlx::query("CREATE TABLE naive_log (position BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY, payload TEXT NOT NULL) ENGINE = InnoDB")
        .execute(&db.pool)
        .await
        .unwrap();
    let per_appender = 250;
    let mut appenders = Vec::new();
    for appender in 0..APPENDERS {
        let pool = db.another_pool(1).await;
        appenders.push(tokio::spawn(async move {
            for i in 0..per_appender {
                let mut tx = pool.begin().await.unwrap();
                sqlx::query("INSERT INTO naive_log (payload) VALUES (?)")
                    .bind(format!("{appender}-{i}"))
                    .execute(&mut *tx)
                    .await
                    .unwrap();
                // Work between taking the id and committing, as an append transaction has.
                if i % 3 == 0 {
                    tokio::time::sleep(Duration::from_micros(200)).await;
                }
                tx.commit().await.unwrap();
            }
        }));
    }
    let mut tail = Tail { seen: Vec::new(), out_of_order: 0 };
    loop {
        let done = appenders.iter().all(|a| a.is_finished());
        let batch: Vec<u64> = sqlx::query_scalar("SELECT position FROM naive_log WHERE position > ? ORDER BY position LIMIT 1000")
            .bind(tail.seen.last().copied().unwrap_or(0))
            .fetch_all(&db.pool)
            .await
            .unwrap();
        for position in &batch {
            tail.observe(*position);
        }
        if done && batch.is_empty() {
            break;
        }
    }
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM naive_log").fetch_one(&db.pool).await.unwrap();
    assert_eq!(stored, (APPENDERS * per_appender) as i64);
    assert!(
        tail.out_of_order > 0 && (tail.seen.len() as i64) < stored,
        "the tailing reader should have skipped events: saw {} of {stored}, {} out of order",
        tail.seen.len(),
        tail.out_of_order
    );
}

/// A pipelined append names the event it builds on: if that one failed and someone else's event
/// took its version, the follower fails too instead of committing on top of what never happened.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_append_that_follows_an_event_fails_unless_that_event_is_the_streams_last() {
    let db = TestDatabase::new().await;
    let store = store(&db).await;
    store.append(AppendRequest::single(stream("a"), ExpectedVersion::NoStream, vec![event(1)])).await.unwrap();
    // Someone else's event takes version 2.
    let theirs = event(2);
    store.append(AppendRequest::single(stream("a"), ExpectedVersion::Exact(1), vec![theirs.clone()])).await.unwrap();

    // Ours was decided on version 1 and pipelined with a second one on top of it.
    let ours = event(3);
    let first = store.enqueue(AppendRequest::single(stream("a"), ExpectedVersion::Exact(1), vec![ours.clone()])).await.unwrap();
    let follows = ExpectedVersion::Follows { version: 2, event_id: ours.event_id };
    let second = store.enqueue(AppendRequest::single(stream("a"), follows, vec![event(4)])).await.unwrap();
    assert!(first.await.unwrap_err().is_conflict());
    assert!(second.await.unwrap_err().is_conflict(), "version 2 is theirs, not the one this append followed");

    // Following the real last event works.
    let really = ExpectedVersion::Follows { version: 2, event_id: theirs.event_id };
    store.append(AppendRequest::single(stream("a"), really, vec![event(5)])).await.unwrap();
    assert_eq!(count_events(&db).await, 3);
}
