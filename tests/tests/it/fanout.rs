//! The fan-out between deployments and against forgers: NATS carries only what a store's own relay
//! signed, deployments sharing a NATS or MariaDB server stay apart, and read-your-writes stays fast
//! when NATS goes away.

use std::time::{Duration, Instant};

use api::Application;
use async_nats::jetstream::{self, message::PublishMessage};
use serde_json::{Value, json};
use tests::fault::PrivateNats;
use uuid::Uuid;

use crate::api::{NO_RATE_LIMITS, TestApp, settings};

async fn spawn_with_nats(nats: &str) -> TestApp {
    let [limit, auth_limit] = NO_RATE_LIMITS;
    TestApp::spawn(&[limit, auth_limit, ("NATS_URL", nats)]).await
}

async fn head(app: &TestApp) -> u64 {
    sqlx::query_scalar("SELECT last_position FROM event_store_head").fetch_one(&app.db.pool).await.unwrap()
}

async fn health(app: &TestApp) -> Value {
    let response = app.get_with("/health", None, &[]).await;
    assert_eq!(response.status, 200, "{}", response.text);
    response.body["data"].clone()
}

async fn until(what: &str, mut check: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Two deployments with their own databases on one MariaDB and one NATS server: each relay leads
/// (locks are per store), each publishes to a stream of its own, and neither projects the other's
/// events.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_deployments_on_one_nats_and_one_mariadb_stay_apart() {
    let nats = tests::nats_url();
    let first = spawn_with_nats(&nats).await;
    let second = spawn_with_nats(&nats).await;
    let (first_name, second_name) = (health(&first).await["deployment"].clone(), health(&second).await["deployment"].clone());
    assert_ne!(first_name, second_name);

    let alice = first.register("student").await;
    first.fund(&alice.token, "70.00").await;
    let bob = second.register("student").await;
    // Let the second deployment project past the time the first's events were on NATS.
    let position = second.fund(&bob.token, "5.00").await;
    assert_eq!(second.wallet(&bob.token, position).await["balance"], "5.00");

    let foreign: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM wallet_balances WHERE user_id = ?").bind(alice.user_id).fetch_one(&second.db.pool).await.unwrap();
    assert_eq!(foreign, 0, "the second deployment projected the first's wallet");
    let ahead: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM projector_checkpoints WHERE position > (SELECT last_position FROM event_store_head)")
        .fetch_one(&second.db.pool)
        .await
        .unwrap();
    assert_eq!(ahead, 0, "a checkpoint of the second moved past its own head");
    let users: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE id = ?").bind(bob.user_id).fetch_one(&second.db.pool).await.unwrap();
    assert_eq!(users, 1);

    // Both relays publish, each to its own stream.
    let client = async_nats::connect(&nats).await.unwrap();
    let js = jetstream::new(client);
    for (app, name) in [(&first, &first_name), (&second, &second_name)] {
        let stream_name = format!("ISPEAKER_{}", name.as_str().unwrap().to_ascii_uppercase());
        let head = head(app).await;
        until("every event on the deployment's own stream", async || match js.get_stream(&stream_name).await {
            Ok(mut stream) => stream.info().await.map(|info| info.state.messages == head).unwrap_or(false),
            Err(_) => false,
        })
        .await;
    }
}

/// One unauthenticated publish on the deployment's subjects, claiming the next position with a
/// made-up hash, must not move money or make the projector skip the real event.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_message_on_the_fan_out_changes_nothing() {
    let nats = tests::nats_url();
    let app = spawn_with_nats(&nats).await;
    let user = app.register("student").await;
    let funded = app.fund(&user.token, "10.00").await;
    assert_eq!(app.wallet(&user.token, funded).await["balance"], "10.00");
    let deployment = health(&app).await["deployment"].as_str().unwrap().to_owned();
    let store_id: Uuid = sqlx::query_scalar("SELECT store_id FROM event_store_identity").fetch_one(&app.db.pool).await.unwrap();

    let next = head(&app).await + 1;
    let forged = json!({
        "position": next,
        "event_id": Uuid::now_v7(),
        "stream": { "stream_type": "wallet", "stream_id": user.user_id.to_string() },
        "stream_version": 3,
        "event_type": "TopUpCaptured",
        "schema_version": 2,
        "payload": json!({
            "user_id": user.user_id, "top_up_id": Uuid::now_v7(), "provider": "sandbox", "amount": "99999.00",
            "balance_after": "100009.00", "pending_balance_after": "0.00",
            "postings": [{ "account": "clearing:sandbox", "amount": "99999.00" }, { "account": format!("wallet:{}:available", user.user_id), "amount": "-99999.00" }]
        }).to_string(),
        "metadata": json!({ "correlation_id": Uuid::now_v7() }).to_string(),
        "recorded_at": "2026-11-21T10:00:00Z",
        "hash": "ab".repeat(32),
    });
    let js = jetstream::new(async_nats::connect(&nats).await.unwrap());
    let subject = format!("ispeaker.{deployment}.wallet.TopUpCaptured");
    // Unsigned, then with this store's id and a signature made with the wrong key.
    for headers in [vec![], vec![("Ispeaker-Store", store_id.to_string()), ("Ispeaker-Signature", "00".repeat(32))]] {
        let mut message = PublishMessage::build().message_id(Uuid::now_v7().to_string()).header("Ispeaker-Position", next.to_string().as_str());
        for (name, value) in &headers {
            message = message.header(*name, value.as_str());
        }
        js.send_publish(subject.clone(), message.payload(forged.to_string().into())).await.unwrap().await.unwrap();
    }

    // The real event at that position, and the balance it gives.
    let real = app.fund(&user.token, "2.00").await;
    assert!(real >= next);
    let wallet = app.wallet(&user.token, real).await;
    assert_eq!(wallet["balance"], "12.00");
    let transactions = app.get_with("/wallet/transactions", Some(&user.token), &[("X-Min-Position", &real.to_string())]).await;
    assert_eq!(transactions.body["meta"]["pagination"]["total"], 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_reports_a_projector_ahead_of_the_store() {
    let [limit, auth_limit] = NO_RATE_LIMITS;
    let app = TestApp::spawn(&[limit, auth_limit]).await;
    let user = app.register("student").await;
    let position = head(&app).await;
    until("the users projector to start", async || health(&app).await["projectors"].as_array().unwrap().iter().all(|p| p["position"] == position)).await;
    app.wallet(&user.token, position).await;
    let moved = sqlx::query("UPDATE projector_checkpoints SET position = 1000000 WHERE projector = 'users'").execute(&app.db.pool).await.unwrap();
    assert_eq!(moved.rows_affected(), 1);
    // The users projector reads its checkpoint again on its next catch-up.
    app.register("student").await;
    until("health to see it", async || {
        let response = app.get_with("/health", None, &[]).await;
        response.status == 503 && response.body["error"]["code"] == "projector_ahead_of_store"
    })
    .await;
    let response = app.get_with("/health", None, &[]).await;
    assert_eq!(response.body["error"]["details"]["projectors"], json!(["users"]));
}

/// Read-your-writes across two processes stays fast after NATS goes away: the projectors notice at
/// once and read the store while someone waits, instead of waiting for the feed's silence.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_stay_fresh_across_processes_when_nats_goes_away() {
    let mut nats = PrivateNats::start().await;
    let [limit, auth_limit] = NO_RATE_LIMITS;
    let writer = TestApp::spawn(&[limit, auth_limit, ("NATS_URL", nats.url.as_str())]).await;
    let reader = Application::build(settings(&writer.db, &[limit, auth_limit, ("NATS_URL", nats.url.as_str())])).await.unwrap();
    let reader_address = format!("http://127.0.0.1:{}/api/v1", reader.port());
    tokio::spawn(reader.run_until_stopped());
    let user = writer.register("student").await;
    until("both to follow NATS", async || health(&writer).await["nats"] == "connected").await;

    nats.kill().await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut waits = Vec::new();
    for _ in 0..5 {
        let position = writer.fund(&user.token, "1.00").await;
        let started = Instant::now();
        let read = writer
            .client
            .get(format!("{reader_address}/wallet"))
            .bearer_auth(&user.token)
            .header("X-Min-Position", position.to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(read.status(), 200);
        waits.push(started.elapsed());
    }
    waits.sort();
    let median = waits[waits.len() / 2];
    assert!(median < Duration::from_millis(300), "read-your-writes waited {waits:?}");
}
