//! The server under injected faults: the database going away and coming back, and a commit whose
//! answer never arrives. A proxy (`tests::fault::FaultyProxy`) stands between the server and
//! MariaDB.

use std::time::{Duration, Instant};

use serde_json::json;
use tests::TestDatabase;
use tests::fault::FaultyProxy;
use uuid::Uuid;

use crate::api::{NO_RATE_LIMITS, Response, TestApp, settings};

/// MariaDB over TCP, where the proxy forwards to.
const MARIADB_TCP: &str = "127.0.0.1:3306";

async fn spawn_behind(proxy: &FaultyProxy) -> TestApp {
    let db = TestDatabase::new().await;
    let url = proxy.database_url(&db.name);
    let [limit, auth_limit] = NO_RATE_LIMITS;
    let settings = settings(&db, &[limit, auth_limit, ("DATABASE_URL", url.as_str())]);
    TestApp::start(db, settings).await
}

async fn until(what: &str, within: Duration, mut check: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn timed(request: impl Future<Output = Response>) -> (Response, Duration) {
    let started = Instant::now();
    let response = request.await;
    (response, started.elapsed())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_database_down_requests_fail_at_once_and_all_recovers_by_itself() {
    let proxy = FaultyProxy::start(MARIADB_TCP.parse().unwrap()).await;
    let app = spawn_behind(&proxy).await;
    let user = app.register("student").await;
    let funded = app.fund(&user.token, "10.00").await;
    assert_eq!(app.wallet(&user.token, funded).await["balance"], "10.00");

    proxy.go_down();
    until("health to notice", Duration::from_secs(5), async || app.get_with("/health", None, &[]).await.status == 503).await;
    let (health, took) = timed(app.get_with("/health", None, &[])).await;
    assert_eq!(health.status, 503, "{}", health.text);
    assert_eq!(health.body["error"]["code"], "database_unavailable");
    assert!(took < Duration::from_millis(300), "health took {took:?}");
    let (read, took) = timed(app.get_with("/wallet", Some(&user.token), &[])).await;
    assert_eq!((read.status, read.body["error"]["code"].as_str()), (503, Some("service_unavailable")), "{}", read.text);
    assert!(read.header("retry-after").is_some());
    assert!(took < Duration::from_millis(300), "a read took {took:?}");
    let body = json!({ "amount": "5.00", "provider": "sandbox" });
    let key = Uuid::new_v4().to_string();
    let (write, took) = timed(app.post_json("/wallet/top-ups", Some(&user.token), &[("Idempotency-Key", &key)], &body)).await;
    assert_eq!(write.status, 503, "{}", write.text);
    assert!(took < Duration::from_millis(300), "a write took {took:?}");

    proxy.come_back();
    until("health to recover", Duration::from_secs(10), async || app.get_with("/health", None, &[]).await.status == 200).await;
    let again = app.post_json("/wallet/top-ups", Some(&user.token), &[("Idempotency-Key", &key)], &body).await;
    assert_eq!(again.status, 201, "the refused write left its key free: {}", again.text);
    let funded = app.fund(&user.token, "2.50").await;
    assert_eq!(app.wallet(&user.token, funded).await["balance"], "12.50");
}

/// The database commits a capture and the connection dies before the server hears it: the
/// provider is told the outcome is unknown (not "unavailable"), and its redelivery credits once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commit_whose_answer_is_lost_is_reported_as_unknown_and_its_retry_credits_once() {
    let proxy = FaultyProxy::start(MARIADB_TCP.parse().unwrap()).await;
    let app = spawn_behind(&proxy).await;
    let user = app.register("student").await;
    let top_up = app.top_up(&user.token, "40.00").await;
    // Quiet: every projector has applied everything, so the next COMMIT is the capture's.
    let head: u64 = sqlx::query_scalar("SELECT last_position FROM event_store_head").fetch_one(&app.db.pool).await.unwrap();
    for projector in projections::all() {
        until("every projector to apply the head", Duration::from_secs(10), async || {
            projections::checkpoint(&app.db.pool, projector.name()).await.unwrap().is_some_and(|(_, applied)| applied >= head)
        })
        .await;
    }

    let capture = json!({ "event_id": "evt-lost-answer", "type": "payment.captured", "top_up_id": top_up, "amount": "40.00" });
    proxy.cut_after_next_commit();
    let lost = app.webhook(&capture).await;
    assert_eq!((lost.status, lost.body["error"]["code"].as_str()), (503, Some("outcome_unknown")), "{}", lost.text);
    assert!(lost.body["message"].as_str().unwrap().contains("Idempotency-Key"));

    until("the database to be back", Duration::from_secs(10), async || app.get_with("/health", None, &[]).await.status == 200).await;
    let redelivered = app.webhook(&capture).await;
    assert_eq!(redelivered.status, 200, "{}", redelivered.text);
    assert_eq!(redelivered.body["data"]["status"], "captured");
    let credits: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM events WHERE event_type = 'TopUpCaptured'").fetch_one(&app.db.pool).await.unwrap();
    assert_eq!(credits, 1, "credited once");
    assert_eq!(app.wallet(&user.token, redelivered.position()).await["balance"], "40.00");
}

/// A row planted past the head: the server says the store is corrupt, on its health and to a
/// write, instead of answering "unavailable" with a lag of 0.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_row_past_the_head_is_reported_as_a_corrupt_store() {
    let [limit, auth_limit] = NO_RATE_LIMITS;
    let app = TestApp::spawn(&[limit, auth_limit]).await;
    let user = app.register("student").await;
    sqlx::query(
        "INSERT INTO events (position, event_id, stream_type, stream_id, stream_version, event_type, schema_version, payload, metadata, recorded_at, hash) \
         SELECT position + 1, UNHEX(REPLACE(UUID(), '-', '')), 'wallet', stream_id, 99, event_type, schema_version, payload, metadata, recorded_at, UNHEX(REPEAT('ab', 32)) \
         FROM events ORDER BY position DESC LIMIT 1",
    )
    .execute(&app.db.pool)
    .await
    .unwrap();

    let health = app.get_with("/health", None, &[]).await;
    assert_eq!((health.status, health.body["error"]["code"].as_str()), (503, Some("store_corrupt")), "{}", health.text);
    let key = Uuid::new_v4().to_string();
    let write = app.post_json("/wallet/top-ups", Some(&user.token), &[("Idempotency-Key", &key)], &json!({ "amount": "5.00", "provider": "sandbox" })).await;
    assert_eq!((write.status, write.body["error"]["code"].as_str()), (503, Some("store_corrupt")), "{}", write.text);
}
