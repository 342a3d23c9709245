//! The real binary: it refuses to start on a bad setting, naming it, on an unreachable database
//! or a taken port, each with its exit code (README, "Exit codes") and before it changes
//! anything; and on SIGTERM it drains, stops its background tasks and exits cleanly.

use std::process::{Command, Stdio};

use futures::StreamExt;
use std::time::{Duration, Instant};

fn server_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "mysql://ispeaker:ispeaker@localhost/?socket=/run/mysqld/mysqld.sock".to_owned())
}

/// A fresh database name under the run's prefix (`TEST_DATABASE_PREFIX`, which
/// `scripts/test.sh` sets and cleans up after; see `tests::database_prefix`).
fn fresh_database_name() -> String {
    let prefix = std::env::var("TEST_DATABASE_PREFIX").unwrap_or_else(|_| "ispeaker_test_".to_owned());
    let name = format!("{prefix}{}", uuid::Uuid::now_v7().simple());
    assert!(name.len() <= 64, "{name} is longer than MariaDB allows");
    name
}

fn database_url(name: &str) -> String {
    let server = server_url();
    let (base, query) = server.split_once('?').map_or((server.as_str(), ""), |(b, q)| (b, q));
    format!("{}/{name}?{query}", base.trim_end_matches('/'))
}

/// The binary with every required setting but the database, in a directory without a `.env`.
fn api_with_database(database_url: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ispeaker-api"));
    command
        .env_clear()
        .env("DATABASE_URL", database_url)
        .env("HTTP_ADDR", "127.0.0.1:0")
        .env("JWT_SECRET", "exit-test-jwt-secret-long-enough-0123456789")
        .env("PAYMENT_SANDBOX_SECRET", "exit-test-sandbox-secret-long-enough-0123")
        .env("DATA_KEY_SECRET", "exit-test-data-key-secret-long-enough-0123")
        .env("SELLER_NAME_AR", "شركة آي سبيكر لايف")
        .env("SELLER_NAME_EN", "iSpeaker Live Co.")
        .env("SELLER_VAT_NUMBER", "310122393500003")
        .env("SELLER_ADDRESS", "Riyadh")
        .env("JITSI_APP_ID", "ispeaker-live")
        .env("JITSI_APP_SECRET", "sigterm-jitsi-secret-that-is-long-enough")
        .env("JITSI_DOMAIN", "meet.ispeaker.test")
        .current_dir(std::env::temp_dir());
    command
}

fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[test]
fn a_refused_database_connection_stops_start_up_at_once_with_exit_code_3() {
    let port = closed_port();
    let started = Instant::now();
    let output = api_with_database(&format!("mysql://ispeaker:not-to-be-printed@127.0.0.1:{port}/ispeaker")).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains(&format!("cannot connect to the database at 127.0.0.1:{port}: ")), "{stderr}");
    assert!(stderr.to_lowercase().contains("connection refused"), "{stderr}");
    assert!(!stderr.contains("not-to-be-printed"), "{stderr}");
    // The pool alone would have retried for its whole acquire timeout (5 s), then said "timed out".
    assert!(started.elapsed() < Duration::from_secs(3), "took {:?}", started.elapsed());
}

#[test]
fn a_database_url_of_another_database_is_a_configuration_error() {
    let output = api_with_database("postgres://ispeaker:not-to-be-printed@localhost/ispeaker").output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("DATABASE_URL"), "{stderr}");
    assert!(!stderr.contains("not-to-be-printed"), "{stderr}");
}

#[tokio::test]
async fn a_taken_port_stops_start_up_with_exit_code_2_before_migrating() {
    let name = fresh_database_name();
    let mut admin = <sqlx::MySqlConnection as sqlx::Connection>::connect(&server_url()).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE `{name}`"))).execute(&mut admin).await.unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap();
    let output = api_with_database(&database_url(&name)).env("HTTP_ADDR", address.to_string()).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains(&format!("HTTP_ADDR {address} cannot be bound")), "{stderr}");
    let tables: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = ?")
        .bind(&name)
        .fetch_one(&mut admin)
        .await
        .unwrap();
    assert_eq!(tables, 0, "the database was migrated although the server could not serve");
    sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE `{name}`"))).execute(&mut admin).await.unwrap();
}

#[test]
fn help_lists_the_exit_codes_and_an_argument_is_a_usage_error() {
    let output = Command::new(env!("CARGO_BIN_EXE_ispeaker-api")).arg("--help").env_clear().current_dir(std::env::temp_dir()).output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    for line in ["Exit codes", "2  usage or configuration error", "3  the database is unreachable", "4  the migrations failed"] {
        assert!(stdout.contains(line), "no {line:?} in {stdout}");
    }
    let output = Command::new(env!("CARGO_BIN_EXE_ispeaker-api")).arg("serve").env_clear().current_dir(std::env::temp_dir()).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn a_missing_setting_stops_start_up_with_its_name() {
    let output = Command::new(env!("CARGO_BIN_EXE_ispeaker-api"))
        .env_clear()
        .env("DATABASE_URL", "mysql://nobody@localhost/none")
        .current_dir(std::env::temp_dir())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("JWT_SECRET"), "{}", String::from_utf8_lossy(&output.stderr));
}

#[tokio::test]
async fn sigterm_drains_and_exits_cleanly() {
    let name = fresh_database_name();
    let mut admin = <sqlx::MySqlConnection as sqlx::Connection>::connect(&server_url()).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE `{name}`"))).execute(&mut admin).await.unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_ispeaker-api"))
        .env_clear()
        .env("DATABASE_URL", database_url(&name))
        .env("HTTP_ADDR", format!("127.0.0.1:{port}"))
        .env("JWT_SECRET", "sigterm-test-jwt-secret-long-enough-0123456789")
        .env("PAYMENT_SANDBOX_SECRET", "sigterm-test-sandbox-secret-long-enough-0123")
        .env("DATA_KEY_SECRET", "sigterm-test-data-key-secret-long-enough-0123")
        .env("SELLER_NAME_AR", "شركة آي سبيكر لايف")
        .env("SELLER_NAME_EN", "iSpeaker Live Co.")
        .env("SELLER_VAT_NUMBER", "310122393500003")
        .env("SELLER_ADDRESS", "Riyadh")
        .env("JITSI_APP_ID", "ispeaker-live")
        .env("JITSI_APP_SECRET", "sigterm-jitsi-secret-that-is-long-enough")
        .env("JITSI_DOMAIN", "meet.ispeaker.test")
        .env("RUST_LOG", "info")
        .current_dir(std::env::temp_dir())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(response) = reqwest::get(format!("http://127.0.0.1:{port}/api/v1/health")).await {
            assert_eq!(response.status(), 200);
            break;
        }
        assert!(Instant::now() < deadline, "the server did not come up");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // An open WebSocket, which must not hold the shutdown.
    let registered: serde_json::Value = reqwest::Client::new()
        .post(format!("http://127.0.0.1:{port}/api/v1/auth/register"))
        .json(&serde_json::json!({ "name": "Sig Term", "username": "sigterm", "email": "sigterm@example.com", "password": "Correct#Horse9", "role": "student" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = registered["data"]["token"].as_str().unwrap_or_else(|| panic!("no token: {registered}"));
    let (mut socket, _) = tokio_tungstenite::connect_async(format!("ws://127.0.0.1:{port}/api/v1/ws?token={token}")).await.unwrap();
    // Settled: the scheduler leads and waits for its next tick, as on an idle server.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let signalled = Instant::now();
    let closed = tokio::time::timeout(Duration::from_secs(5), async {
        while let Some(Ok(message)) = socket.next().await {
            if let tokio_tungstenite::tungstenite::Message::Close(frame) = message {
                return frame.map(|frame| frame.code);
            }
        }
        None
    })
    .await
    .expect("the socket closes within 5 s of the signal");
    assert_eq!(closed, Some(tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode::Away));
    let output = tokio::task::spawn_blocking(move || {
        let _ = &mut child;
        child.wait_with_output()
    })
    .await
    .unwrap()
    .unwrap();
    let log = String::from_utf8_lossy(&output.stdout).to_string() + &String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "exit {:?}: {log}", output.status);
    assert!(log.contains("stopped"), "{log}");
    // Idle, nothing holds it: a deploy does not wait out the scheduler's interval.
    assert!(signalled.elapsed() < Duration::from_secs(10), "took {:?} to stop: {log}", signalled.elapsed());
    sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE `{name}`"))).execute(&mut admin).await.unwrap();
}
