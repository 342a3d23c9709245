//! The REST contract over real HTTP, one module per context (`users`, `wallet`) and one for what
//! every route shares (`platform`: envelopes, statuses, languages, request ids, limits). These are
//! the helpers they share.

use chrono::Utc;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use uuid::Uuid;

mod catalogue;
mod chat;
mod commerce;
mod demo;
mod invoicing;
mod notifications;
mod platform;
mod realtime;
mod rooms;
mod social;
mod users;
mod wallet;

use crate::api::{NO_RATE_LIMITS, Response, TestApp};

pub(crate) const ADMIN_EMAIL: &str = "admin@example.com";
pub(crate) const ADMIN_PASSWORD: &str = "Admin#Pass123";

pub(crate) async fn spawn() -> TestApp {
    TestApp::spawn(&NO_RATE_LIMITS).await
}

pub(crate) async fn spawn_with_admin() -> TestApp {
    let [limit, auth_limit] = NO_RATE_LIMITS;
    TestApp::spawn(&[limit, auth_limit, ("BOOTSTRAP_ADMIN_EMAIL", ADMIN_EMAIL), ("BOOTSTRAP_ADMIN_PASSWORD", ADMIN_PASSWORD)]).await
}

pub(crate) fn key() -> String {
    Uuid::new_v4().to_string()
}

pub(crate) fn assert_request_id(response: &Response) {
    let id = response.header("x-request-id").unwrap_or_else(|| panic!("no x-request-id on {} {}", response.status, response.text));
    assert!(Uuid::parse_str(id).is_ok(), "x-request-id {id} is not a UUID");
}

/// The contract's error envelope with this status and code.
#[track_caller]
pub(crate) fn assert_error(response: &Response, status: u16, code: &str) {
    assert_eq!(response.status, status, "{}", response.text);
    assert_eq!(response.body["success"], false, "{}", response.text);
    assert_eq!(response.body["error"]["code"], code, "{}", response.text);
    let message = response.body["message"].as_str().unwrap_or_default();
    assert!(!message.is_empty(), "no message in {}", response.text);
    assert!(response.body["error"]["details"].is_object(), "no details in {}", response.text);
    assert_request_id(response);
}

/// The reasons given for one field of a 422.
pub(crate) fn field_reasons(response: &Response, field: &str) -> Vec<String> {
    response.body["error"]["details"]["fields"][field]
        .as_array()
        .unwrap_or_else(|| panic!("no reasons for {field} in {}", response.text))
        .iter()
        .map(|r| r.as_str().unwrap_or_default().to_owned())
        .collect()
}

pub(crate) async fn count_events(app: &TestApp, event_type: &str) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM events WHERE event_type = ?").bind(event_type).fetch_one(&app.db.pool).await.unwrap()
}

/// The head of the log, so a read can wait for everything written so far.
pub(crate) async fn head(app: &TestApp) -> u64 {
    let head: Option<u64> = sqlx::query_scalar("SELECT MAX(position) FROM events").fetch_one(&app.db.pool).await.unwrap();
    head.unwrap_or(0)
}

pub(crate) async fn balance(app: &TestApp, token: &str) -> String {
    let position = head(app).await;
    app.wallet(token, position).await["balance"].as_str().unwrap().to_owned()
}

pub(crate) async fn withdraw(app: &TestApp, token: &str, amount: &str, key: &str) -> Response {
    app.post_json("/wallet/withdrawals", Some(token), &[("Idempotency-Key", key)], &json!({ "amount": amount })).await
}

pub(crate) fn captured(top_up_id: Uuid, amount: &str) -> Value {
    json!({ "event_id": key(), "type": "payment.captured", "top_up_id": top_up_id, "amount": amount })
}

pub(crate) fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

pub(crate) fn claims(user_id: Uuid, roles: &[&str], expires_in_seconds: i64) -> Value {
    let now = Utc::now().timestamp();
    json!({ "sub": user_id, "roles": roles, "iat": now - 10, "exp": now + expires_in_seconds, "jti": Uuid::now_v7() })
}

pub(crate) fn forge(algorithm: Algorithm, secret: &str, claims: &Value) -> String {
    jsonwebtoken::encode(&Header::new(algorithm), claims, &EncodingKey::from_secret(secret.as_bytes())).unwrap()
}


/// Every row of a table, each column hex-encoded, in a stable order: equal dumps mean equal rows.
pub(crate) async fn dump(app: &TestApp, table: &str) -> Vec<String> {
    let columns: Vec<String> = sqlx::query_scalar(
        "SELECT CAST(COLUMN_NAME AS CHAR) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION",
    )
    .bind(table)
    .fetch_all(&app.db.pool)
    .await
    .unwrap();
    assert!(!columns.is_empty(), "no table {table}");
    let hexed: Vec<String> = columns.iter().map(|column| format!("IFNULL(HEX(`{column}`), 'NULL')")).collect();
    let sql = format!("SELECT CONCAT_WS('|', {}) AS r FROM `{table}` ORDER BY r", hexed.join(", "));
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_all(&app.db.pool).await.unwrap()
}

/// Runs the operators' CLI in-process against the app's database: its exit status and report.
pub(crate) async fn cli(app: &TestApp, args: &[&str]) -> (replay_tools::ExitStatus, String) {
    use clap::Parser;
    let mut argv = vec!["ispeaker-replay", "--quiet", "--database-url", app.db.url.as_str(), "--data-key-secret", tests::DATA_KEY_SECRET];
    argv.extend_from_slice(args);
    let cli = replay_tools::Cli::try_parse_from(argv).unwrap();
    let mut out = Vec::new();
    let status = replay_tools::run(cli, &mut out).await.unwrap();
    (status, String::from_utf8(out).unwrap())
}

pub(crate) async fn admin_token(app: &TestApp) -> String {
    app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await
}

/// A GET once every projection has applied everything written so far.
pub(crate) async fn read(app: &TestApp, path: &str, token: Option<&str>) -> Response {
    let position = head(app).await.to_string();
    app.get_with(path, token, &[("X-Min-Position", &position)]).await
}
