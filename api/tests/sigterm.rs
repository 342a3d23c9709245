//! The real binary: it refuses to start on a bad setting, naming it, and on SIGTERM it drains,
//! stops its background tasks and exits cleanly.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn server_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "mysql://ispeaker:ispeaker@localhost/?socket=/run/mysqld/mysqld.sock".to_owned())
}

fn database_url(name: &str) -> String {
    let server = server_url();
    let (base, query) = server.split_once('?').map_or((server.as_str(), ""), |(b, q)| (b, q));
    format!("{}/{name}?{query}", base.trim_end_matches('/'))
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
    let name = format!("ispeaker_test_{}", uuid::Uuid::now_v7().simple());
    let mut admin = <sqlx::MySqlConnection as sqlx::Connection>::connect(&server_url()).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE `{name}`"))).execute(&mut admin).await.unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_ispeaker-api"))
        .env_clear()
        .env("DATABASE_URL", database_url(&name))
        .env("HTTP_ADDR", format!("127.0.0.1:{port}"))
        .env("JWT_SECRET", "sigterm-test-jwt-secret-long-enough-0123456789")
        .env("PAYMENT_SANDBOX_SECRET", "sigterm-test-sandbox-secret-long-enough-0123")
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
    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
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
    sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE `{name}`"))).execute(&mut admin).await.unwrap();
}
