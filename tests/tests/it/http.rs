//! The REST contract (shared/API.md) over real HTTP: every route's success path, every error
//! status with its envelope, languages, token attacks, idempotency, the payments webhook and the
//! races that must not move money twice.

use std::time::{Duration, Instant};

use chrono::Utc;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::api::{JWT_SECRET, NO_RATE_LIMITS, PASSWORD, Response, TestApp};

const ADMIN_EMAIL: &str = "admin@example.com";
const ADMIN_PASSWORD: &str = "Admin#Pass123";

async fn spawn() -> TestApp {
    TestApp::spawn(&NO_RATE_LIMITS).await
}

async fn spawn_with_admin() -> TestApp {
    let [limit, auth_limit] = NO_RATE_LIMITS;
    TestApp::spawn(&[limit, auth_limit, ("BOOTSTRAP_ADMIN_EMAIL", ADMIN_EMAIL), ("BOOTSTRAP_ADMIN_PASSWORD", ADMIN_PASSWORD)]).await
}

fn key() -> String {
    Uuid::new_v4().to_string()
}

fn assert_request_id(response: &Response) {
    let id = response.header("x-request-id").unwrap_or_else(|| panic!("no x-request-id on {} {}", response.status, response.text));
    assert!(Uuid::parse_str(id).is_ok(), "x-request-id {id} is not a UUID");
}

/// The contract's error envelope with this status and code.
#[track_caller]
fn assert_error(response: &Response, status: u16, code: &str) {
    assert_eq!(response.status, status, "{}", response.text);
    assert_eq!(response.body["success"], false, "{}", response.text);
    assert_eq!(response.body["error"]["code"], code, "{}", response.text);
    let message = response.body["message"].as_str().unwrap_or_default();
    assert!(!message.is_empty(), "no message in {}", response.text);
    assert!(response.body["error"]["details"].is_object(), "no details in {}", response.text);
    assert_request_id(response);
}

/// The reasons given for one field of a 422.
fn field_reasons(response: &Response, field: &str) -> Vec<String> {
    response.body["error"]["details"]["fields"][field]
        .as_array()
        .unwrap_or_else(|| panic!("no reasons for {field} in {}", response.text))
        .iter()
        .map(|r| r.as_str().unwrap_or_default().to_owned())
        .collect()
}

async fn count_events(app: &TestApp, event_type: &str) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM events WHERE event_type = ?").bind(event_type).fetch_one(&app.db.pool).await.unwrap()
}

/// The head of the log, so a read can wait for everything written so far.
async fn head(app: &TestApp) -> u64 {
    let head: Option<u64> = sqlx::query_scalar("SELECT MAX(position) FROM events").fetch_one(&app.db.pool).await.unwrap();
    head.unwrap_or(0)
}

async fn balance(app: &TestApp, token: &str) -> String {
    let position = head(app).await;
    app.wallet(token, position).await["balance"].as_str().unwrap().to_owned()
}

async fn withdraw(app: &TestApp, token: &str, amount: &str, key: &str) -> Response {
    app.post_json("/wallet/withdrawals", Some(token), &[("Idempotency-Key", key)], &json!({ "amount": amount })).await
}

fn captured(top_up_id: Uuid, amount: &str) -> Value {
    json!({ "event_id": key(), "type": "payment.captured", "top_up_id": top_up_id, "amount": amount })
}

fn base64url(bytes: &[u8]) -> String {
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

fn claims(user_id: Uuid, roles: &[&str], expires_in_seconds: i64) -> Value {
    let now = Utc::now().timestamp();
    json!({ "sub": user_id, "roles": roles, "iat": now - 10, "exp": now + expires_in_seconds, "jti": Uuid::now_v7() })
}

fn forge(algorithm: Algorithm, secret: &str, claims: &Value) -> String {
    jsonwebtoken::encode(&Header::new(algorithm), claims, &EncodingKey::from_secret(secret.as_bytes())).unwrap()
}

// ---------------------------------------------------------------------------------------------
// Success paths.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_openapi_and_docs_answer_without_a_token() {
    let app = spawn().await;
    let health = app.get_with("/health", None, &[]).await;
    assert_eq!(health.status, 200, "{}", health.text);
    assert_eq!(health.body["success"], true);
    assert_eq!(health.body["data"]["database"], "up");

    let spec = app.get_with("/openapi.json", None, &[]).await;
    assert_eq!(spec.status, 200, "{}", spec.text);
    assert!(spec.body["openapi"].as_str().unwrap_or_default().starts_with("3."), "{}", spec.text);
    let mut routes = api::openapi::Routes::for_docs();
    api::routes::table(&mut routes);
    for (method, path) in routes.list() {
        let operation = &spec.body["paths"][&path][method.to_lowercase()];
        assert!(operation.is_object(), "{method} {path} is not documented");
    }

    let docs = app.get_with("/docs", None, &[]).await;
    assert_eq!(docs.status, 200);
    assert!(docs.header("content-type").unwrap_or_default().starts_with("text/html"));
    assert!(docs.text.contains("openapi.json"), "the page does not load the spec");
    // Nothing loaded from another host: every src and href is relative.
    for attribute in ["src=", "href="] {
        for (index, _) in docs.text.match_indices(attribute) {
            let value = docs.text[index + attribute.len()..].trim_start_matches(['"', '\'']);
            assert!(!value.starts_with("http") && !value.starts_with("//"), "external {attribute}{}", &value[..value.len().min(60)]);
        }
    }
    assert_request_id(&docs);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_login_me_and_logout() {
    let app = spawn().await;
    let body = json!({ "name": "Sara", "username": "Sara_1", "email": "Sara@Example.com", "password": PASSWORD, "role": "speaker", "language": "ar" });
    let registered = app.post_json("/auth/register", None, &[], &body).await;
    assert_eq!(registered.status, 201, "{}", registered.text);
    assert_eq!(registered.body["success"], true);
    let user = &registered.body["data"]["user"];
    assert_eq!(user["roles"], json!(["student", "speaker"]));
    assert_eq!(user["username"], "sara_1");
    assert_eq!(user["email"], "sara@example.com");
    assert_eq!(user["language"], "ar");
    assert!(registered.body["data"]["token"].as_str().is_some_and(|t| t.split('.').count() == 3));
    registered.position();

    let student = app.register("student").await;
    let me = app.get_with("/auth/me", Some(&student.token), &[]).await;
    assert_eq!(me.status, 200, "{}", me.text);
    assert_eq!(me.body["data"]["id"], student.user_id.to_string());
    assert_eq!(me.body["data"]["roles"], json!(["student"]));
    assert!(!app.login(&student.username, PASSWORD).await.is_empty());

    // By email and by username, whatever their case.
    let by_email = app.login("SARA@example.COM", PASSWORD).await;
    let by_username = app.login("SARA_1", PASSWORD).await;
    for token in [&by_email, &by_username] {
        let me = app.get_with("/auth/me", Some(token), &[]).await;
        assert_eq!(me.status, 200, "{}", me.text);
        assert_eq!(me.body["data"]["id"], user["id"]);
        assert_eq!(me.body["data"]["roles"], json!(["student", "speaker"]));
    }

    let logout = app.post_raw("/auth/logout", Some(&by_email), &[], b"").await;
    assert_eq!(logout.status, 200, "{}", logout.text);
    assert_eq!(logout.body["success"], true);
    logout.position();
    assert_error(&app.get_with("/auth/me", Some(&by_email), &[]).await, 401, "invalid_token");
    assert_error(&app.get_with("/wallet", Some(&by_email), &[]).await, 401, "invalid_token");
    // Only that token: the other session goes on.
    assert_eq!(app.get_with("/auth/me", Some(&by_username), &[]).await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_captured_top_up_credits_the_wallet_and_lists_as_transactions() {
    let app = spawn().await;
    let user = app.register("student").await;
    let empty = app.get_with("/wallet", Some(&user.token), &[]).await;
    assert_eq!(empty.status, 200, "{}", empty.text);
    assert_eq!(
        empty.body["data"],
        json!({ "balance": "0.00", "pending_balance": "0.00", "total_earned": "0.00", "total_withdrawn": "0.00", "currency": "SAR" })
    );

    let created = app
        .post_json("/wallet/top-ups", Some(&user.token), &[("Idempotency-Key", &key())], &json!({ "amount": "100", "provider": "sandbox" }))
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    assert_eq!(created.body["data"]["status"], "pending");
    assert_eq!(created.body["data"]["amount"], "100.00");
    assert!(created.body["data"]["checkout_url"].as_str().is_some_and(|u| !u.is_empty()));
    created.position();
    let top_up_id: Uuid = created.body["data"]["top_up_id"].as_str().unwrap().parse().unwrap();
    // Pending is not money yet.
    assert_eq!(app.wallet(&user.token, created.position()).await["balance"], "0.00");

    let delivered = app.webhook(&captured(top_up_id, "100.00")).await;
    assert_eq!(delivered.status, 200, "{}", delivered.text);
    assert_eq!(delivered.body["data"], json!({ "top_up_id": top_up_id, "status": "captured" }));
    assert_eq!(app.wallet(&user.token, delivered.position()).await["balance"], "100.00");

    let second = app.fund(&user.token, "50.25").await;
    assert_eq!(app.wallet(&user.token, second).await["balance"], "150.25");

    let page = |query: &'static str| {
        let app = &app;
        let token = user.token.clone();
        async move { app.get_with(&format!("/wallet/transactions{query}"), Some(&token), &[("X-Min-Position", &second.to_string())]).await }
    };
    let first = page("?per_page=1").await;
    assert_eq!(first.status, 200, "{}", first.text);
    assert_eq!(first.body["meta"]["pagination"], json!({ "current_page": 1, "total_pages": 2, "per_page": 1, "total": 2 }));
    let newest = &first.body["data"][0];
    assert_eq!(newest["type"], "credit");
    assert_eq!(newest["category"], "top_up");
    assert_eq!(newest["amount"], "50.25");
    assert_eq!(newest["balance_after"], "150.25");
    assert!(chrono::DateTime::parse_from_rfc3339(newest["created_at"].as_str().unwrap()).is_ok());
    let older = page("?page=2&per_page=1").await;
    assert_eq!(older.body["data"][0]["amount"], "100.00");
    assert_eq!(older.body["data"][0]["related"]["id"], top_up_id.to_string());
    assert_eq!(older.body["meta"]["pagination"]["current_page"], 2);

    let top_ups = page("?category=top_up").await;
    assert_eq!(top_ups.body["meta"]["pagination"]["total"], 2);
    assert_eq!(top_ups.body["meta"]["pagination"]["per_page"], 20);
    let withdrawals = page("?category=withdrawal").await;
    assert_eq!(withdrawals.status, 200);
    assert_eq!(withdrawals.body["data"], json!([]));
    assert_eq!(withdrawals.body["meta"]["pagination"]["total"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_approves_or_rejects_a_speakers_withdrawal() {
    let app = spawn_with_admin().await;
    let speaker = app.register("speaker").await;
    app.fund(&speaker.token, "100.00").await;

    let requested = withdraw(&app, &speaker.token, "30", &key()).await;
    assert_eq!(requested.status, 201, "{}", requested.text);
    assert_eq!(requested.body["data"]["status"], "pending");
    assert_eq!(requested.body["data"]["amount"], "30.00");
    let first_id = requested.body["data"]["withdrawal_id"].as_str().unwrap().to_owned();
    assert_eq!(app.wallet(&speaker.token, requested.position()).await["balance"], "70.00");

    let admin = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let me = app.get_with("/auth/me", Some(&admin), &[]).await;
    assert_eq!(me.body["data"]["roles"], json!(["admin"]));
    assert!(!app.login("admin", ADMIN_PASSWORD).await.is_empty());

    let approved = app.post_raw(&format!("/admin/withdrawals/{first_id}/approve"), Some(&admin), &[], b"").await;
    assert_eq!(approved.status, 200, "{}", approved.text);
    assert_eq!(approved.body["data"], json!({ "withdrawal_id": first_id, "status": "completed" }));
    let wallet = app.wallet(&speaker.token, approved.position()).await;
    assert_eq!(wallet["balance"], "70.00");
    assert_eq!(wallet["total_withdrawn"], "30.00");
    // Decided once.
    let again = app.post_raw(&format!("/admin/withdrawals/{first_id}/approve"), Some(&admin), &[], b"").await;
    assert_error(&again, 409, "withdrawal_not_pending");

    let second = withdraw(&app, &speaker.token, "20.00", &key()).await;
    assert_eq!(second.status, 201, "{}", second.text);
    let second_id = second.body["data"]["withdrawal_id"].as_str().unwrap().to_owned();
    assert_eq!(app.wallet(&speaker.token, second.position()).await["balance"], "50.00");
    let rejected =
        app.post_json(&format!("/admin/withdrawals/{second_id}/reject"), Some(&admin), &[], &json!({ "reason": "IBAN does not match" })).await;
    assert_eq!(rejected.status, 200, "{}", rejected.text);
    assert_eq!(rejected.body["data"], json!({ "withdrawal_id": second_id, "status": "rejected" }));
    let wallet = app.wallet(&speaker.token, rejected.position()).await;
    assert_eq!(wallet["balance"], "70.00");
    assert_eq!(wallet["total_withdrawn"], "30.00");
    let approve_rejected = app.post_raw(&format!("/admin/withdrawals/{second_id}/approve"), Some(&admin), &[], b"").await;
    assert_error(&approve_rejected, 409, "withdrawal_not_pending");
}

// ---------------------------------------------------------------------------------------------
// Error statuses.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_requests_and_missing_headers_are_400() {
    let app = spawn().await;
    let user = app.register("student").await;
    assert_error(&app.post_raw("/auth/register", None, &[], b"{\"name\": ").await, 400, "malformed_json");
    assert_error(&app.post_raw("/auth/login", None, &[], b"[1, 2]").await, 400, "malformed_json");
    assert_error(&app.post_raw("/auth/login", None, &[], b"").await, 400, "malformed_json");

    let top_up = json!({ "amount": "10.00", "provider": "sandbox" });
    assert_error(&app.post_json("/wallet/top-ups", Some(&user.token), &[], &top_up).await, 400, "missing_idempotency_key");
    let long = "k".repeat(256);
    assert_error(&app.post_json("/wallet/top-ups", Some(&user.token), &[("Idempotency-Key", &long)], &top_up).await, 400, "invalid_idempotency_key");
    assert_error(&app.post_json("/wallet/top-ups", Some(&user.token), &[("Idempotency-Key", "")], &top_up).await, 400, "invalid_idempotency_key");
    assert_eq!(app.post_json("/wallet/top-ups", Some(&user.token), &[("Idempotency-Key", &"k".repeat(255))], &top_up).await.status, 201);

    // A body over 64 KiB is refused before any handler runs, with the envelope like any error.
    let huge = format!(r#"{{"amount": "10.00", "provider": "sandbox", "note": "{}"}}"#, "x".repeat(70 * 1024));
    let refused = app.post_raw("/wallet/top-ups", Some(&user.token), &[("Idempotency-Key", &key())], huge.as_bytes()).await;
    assert_error(&refused, 413, "payload_too_large");
    let arabic = app.post_raw("/wallet/top-ups", Some(&user.token), &[("Idempotency-Key", &key()), ("Accept-Language", "ar")], huge.as_bytes()).await;
    assert_error(&arabic, 413, "payload_too_large");
    assert!(arabic.body["message"].as_str().unwrap().contains("كيلوبايت"), "{}", arabic.text);

    // A refused body leaves the key free for the corrected request.
    let retried = key();
    let broken = app.post_raw("/wallet/top-ups", Some(&user.token), &[("Idempotency-Key", &retried)], b"{amount: 10}").await;
    assert_error(&broken, 400, "malformed_json");
    let fixed = app.post_json("/wallet/top-ups", Some(&user.token), &[("Idempotency-Key", &retried)], &top_up).await;
    assert_eq!(fixed.status, 201, "{}", fixed.text);

    assert_error(&app.get_with("/wallet", Some(&user.token), &[("X-Min-Position", "soon")]).await, 400, "malformed_request");
    assert_error(&app.get_with("/wallet", Some(&user.token), &[("X-Min-Position", "-1")]).await, 400, "malformed_request");

    // A well-signed notification that is not JSON.
    let body = b"not json";
    let signature = api::routes::payments::sign(crate::api::SANDBOX_SECRET, body);
    assert_error(&app.post_raw("/payments/webhooks/sandbox", None, &[("Signature", &signature)], body).await, 400, "malformed_json");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_or_wrong_credentials_are_401() {
    let app = spawn().await;
    let user = app.register("student").await;
    assert_error(&app.get_with("/wallet", None, &[]).await, 401, "unauthorized");
    assert_error(&app.get_with("/auth/me", None, &[]).await, 401, "unauthorized");
    assert_error(&app.post_raw("/auth/logout", None, &[], b"").await, 401, "unauthorized");
    assert_error(&app.post_json("/wallet/top-ups", None, &[("Idempotency-Key", "k")], &json!({})).await, 401, "unauthorized");

    let wrong_password = app.post_json("/auth/login", None, &[], &json!({ "login": user.email, "password": "Wrong#Pass1" })).await;
    assert_error(&wrong_password, 401, "invalid_credentials");
    let nobody = app.post_json("/auth/login", None, &[], &json!({ "login": "nobody@example.com", "password": PASSWORD })).await;
    assert_error(&nobody, 401, "invalid_credentials");
    // The same answer whether the user exists or not.
    assert_eq!(wrong_password.body, nobody.body);
    let nonsense = app.post_json("/auth/login", None, &[], &json!({ "login": "@@", "password": "" })).await;
    assert_error(&nonsense, 401, "invalid_credentials");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forbidden_actions_are_403() {
    let app = spawn_with_admin().await;
    let student = app.register("student").await;
    let speaker = app.register("speaker").await;
    app.fund(&student.token, "50.00").await;
    let refused = withdraw(&app, &student.token, "10.00", &key()).await;
    assert_error(&refused, 403, "forbidden");
    assert_eq!(count_events(&app, "WithdrawalRequested").await, 0);

    app.fund(&speaker.token, "5.00").await;
    let requested = withdraw(&app, &speaker.token, "1.00", &key()).await;
    assert_eq!(requested.status, 201, "{}", requested.text);
    let id = requested.body["data"]["withdrawal_id"].as_str().unwrap().to_owned();
    for token in [&student.token, &speaker.token] {
        assert_error(&app.post_raw(&format!("/admin/withdrawals/{id}/approve"), Some(token), &[], b"").await, 403, "forbidden");
        assert_error(&app.post_json(&format!("/admin/withdrawals/{id}/reject"), Some(token), &[], &json!({})).await, 403, "forbidden");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_things_are_404() {
    let app = spawn_with_admin().await;
    let user = app.register("student").await;
    let admin = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_error(&app.get_with("/no-such-route", None, &[]).await, 404, "not_found");
    assert_error(&app.get_with("/wallet/nothing", Some(&user.token), &[]).await, 404, "not_found");
    let outside = app.client.get(app.address.replace("/api/v1", "/elsewhere")).send().await.unwrap();
    assert_eq!(outside.status(), 404);

    let unknown = Uuid::now_v7();
    assert_error(&app.post_raw(&format!("/admin/withdrawals/{unknown}/approve"), Some(&admin), &[], b"").await, 404, "not_found");
    assert_error(&app.post_json(&format!("/admin/withdrawals/{unknown}/reject"), Some(&admin), &[], &json!({})).await, 404, "not_found");
    assert_error(&app.post_raw("/admin/withdrawals/not-a-uuid/approve", Some(&admin), &[], b"").await, 404, "not_found");

    assert_error(&app.webhook(&captured(Uuid::now_v7(), "10.00")).await, 404, "not_found");
    let top_up_id = app.top_up(&user.token, "10.00").await;
    let body = captured(top_up_id, "10.00").to_string();
    let signature = api::routes::payments::sign(crate::api::SANDBOX_SECRET, body.as_bytes());
    let other_provider = app.post_raw("/payments/webhooks/stripe", None, &[("Signature", &signature)], body.as_bytes()).await;
    assert_error(&other_provider, 404, "not_found");
    assert_eq!(count_events(&app, "TopUpCaptured").await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicates_and_overdrafts_are_409() {
    let app = spawn().await;
    let first = json!({ "name": "Omar", "username": "Omar.K", "email": "omar@example.com", "password": PASSWORD, "role": "student" });
    assert_eq!(app.post_json("/auth/register", None, &[], &first).await.status, 201);
    let same_email = json!({ "name": "Omar", "username": "omar2", "email": "OMAR@example.com", "password": PASSWORD, "role": "student" });
    assert_error(&app.post_json("/auth/register", None, &[], &same_email).await, 409, "email_taken");
    let same_username = json!({ "name": "Omar", "username": "OMAR.k", "email": "omar2@example.com", "password": PASSWORD, "role": "speaker" });
    assert_error(&app.post_json("/auth/register", None, &[], &same_username).await, 409, "username_taken");

    let speaker = app.register("speaker").await;
    let position = app.fund(&speaker.token, "40.00").await;
    let overdraft = withdraw(&app, &speaker.token, "40.01", &key()).await;
    assert_error(&overdraft, 409, "insufficient_funds");
    assert_eq!(app.wallet(&speaker.token, position).await["balance"], "40.00");
    assert_eq!(count_events(&app, "WithdrawalRequested").await, 0);
    assert_eq!(withdraw(&app, &speaker.token, "40.00", &key()).await.status, 201);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_fields_are_422_with_their_reasons() {
    let app = spawn().await;
    let bad = json!({ "name": "", "username": "9lives", "email": "not-an-email", "password": "password", "role": "admin", "language": "fr" });
    let refused = app.post_json("/auth/register", None, &[], &bad).await;
    assert_error(&refused, 422, "validation_failed");
    for field in ["name", "username", "email", "password", "role", "language"] {
        assert!(!field_reasons(&refused, field).is_empty(), "{field}");
    }
    // A strong-enough password alone is not enough: each rule counts.
    for weak in ["Short#1", "nouppercase#1", "NoDigits#here", "NoSymbol123"] {
        let body = json!({ "name": "A", "username": "abc", "email": "a@example.com", "password": weak, "role": "student" });
        let refused = app.post_json("/auth/register", None, &[], &body).await;
        assert_error(&refused, 422, "validation_failed");
        assert_eq!(field_reasons(&refused, "password").len(), 1, "{weak}: {}", refused.text);
        assert!(refused.body["error"]["details"]["fields"].get("email").is_none());
    }
    let missing = app.post_json("/auth/register", None, &[], &json!({ "name": "A" })).await;
    assert_error(&missing, 422, "validation_failed");
    let wrong_type = app.post_json("/auth/login", None, &[], &json!({ "login": 5, "password": true })).await;
    assert_error(&wrong_type, 422, "validation_failed");

    let user = app.register("student").await;
    for query in ["?per_page=500", "?per_page=0", "?per_page=ten", "?page=0", "?page=-1", "?category=cars"] {
        let refused = app.get_with(&format!("/wallet/transactions{query}"), Some(&user.token), &[]).await;
        assert_error(&refused, 422, "validation_failed");
        let field = query[1..].split('=').next().unwrap();
        assert!(!field_reasons(&refused, field).is_empty(), "{query}");
    }

    for amount in ["0", "-5.00", "abc", "1.234", ""] {
        let body = json!({ "amount": amount, "provider": "sandbox" });
        let refused = app.post_json("/wallet/top-ups", Some(&user.token), &[("Idempotency-Key", &key())], &body).await;
        assert_error(&refused, 422, "validation_failed");
        assert!(!field_reasons(&refused, "amount").is_empty(), "{amount}");
    }
    let body = json!({ "amount": "10.00", "provider": "paypal" });
    let refused = app.post_json("/wallet/top-ups", Some(&user.token), &[("Idempotency-Key", &key())], &body).await;
    assert!(!field_reasons(&refused, "provider").is_empty());

    let speaker = app.register("speaker").await;
    let refused = withdraw(&app, &speaker.token, "-1", &key()).await;
    assert_error(&refused, 422, "validation_failed");

    let reused = key();
    let first = app.post_json("/wallet/top-ups", Some(&user.token), &[("Idempotency-Key", &reused)], &json!({ "amount": "10.00", "provider": "sandbox" })).await;
    assert_eq!(first.status, 201);
    let other = app.post_json("/wallet/top-ups", Some(&user.token), &[("Idempotency-Key", &reused)], &json!({ "amount": "11.00", "provider": "sandbox" })).await;
    assert_error(&other, 422, "idempotency_key_reused");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_many_requests_are_429_with_retry_after() {
    let app = TestApp::spawn(&[("RATE_LIMIT_PER_MINUTE", "5"), ("AUTH_RATE_LIMIT_PER_MINUTE", "3")]).await;
    let login = json!({ "login": "nobody@example.com", "password": PASSWORD });
    for _ in 0..3 {
        assert_eq!(app.post_json("/auth/login", None, &[], &login).await.status, 401);
    }
    let limited = app.post_json("/auth/login", None, &[("Accept-Language", "ar")], &login).await;
    assert_error(&limited, 429, "rate_limited");
    assert_eq!(limited.body["message"], "طلبات كثيرة جداً؛ حاول لاحقاً.");
    let retry_after: u64 = limited.header("retry-after").expect("Retry-After").parse().unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    let register = app.post_json("/auth/register", None, &[], &json!({})).await;
    assert_error(&register, 429, "rate_limited");

    // The general limit per address: three logins counted, two more requests pass, then 429.
    for _ in 0..2 {
        assert_eq!(app.get_with("/openapi.json", None, &[]).await.status, 200);
    }
    let limited = app.get_with("/openapi.json", None, &[]).await;
    assert_error(&limited, 429, "rate_limited");
    assert!(limited.header("retry-after").is_some());

    // Health probes and signed provider notifications are never turned away.
    for _ in 0..10 {
        assert_eq!(app.get_with("/health", None, &[]).await.status, 200);
        let unknown_top_up = json!({ "event_id": "e", "type": "payment.failed", "top_up_id": Uuid::now_v7() });
        assert_eq!(app.webhook(&unknown_top_up).await.status, 404);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_ahead_of_the_log_is_503_with_retry_after() {
    let app = spawn().await;
    let user = app.register("student").await;
    let started = Instant::now();
    let stale = app.get_with("/wallet", Some(&user.token), &[("X-Min-Position", "1000000000000")]).await;
    assert_error(&stale, 503, "stale_read");
    assert!(stale.header("retry-after").is_some_and(|v| v.parse::<u64>().is_ok()), "{:?}", stale.headers);
    assert!(started.elapsed() < Duration::from_secs(10), "waited {:?}", started.elapsed());
    let stale = app.get_with("/wallet/transactions", Some(&user.token), &[("X-Min-Position", "1000000000000")]).await;
    assert_error(&stale, 503, "stale_read");
}

// ---------------------------------------------------------------------------------------------
// Languages.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accept_language_ar_answers_in_arabic_and_english_is_the_default() {
    let app = spawn().await;
    let body = |username: &str| json!({ "name": "Lina", "username": username, "email": format!("{username}@example.com"), "password": PASSWORD, "role": "student" });
    let arabic = app.post_json("/auth/register", None, &[("Accept-Language", "ar")], &body("lina")).await;
    assert_eq!(arabic.status, 201);
    assert_eq!(arabic.body["message"], "تم إنشاء حسابك.");
    let english = app.post_json("/auth/register", None, &[], &body("lina2")).await;
    assert_eq!(english.body["message"], "Your account was created.");
    let preferred = app.post_json("/auth/register", None, &[("Accept-Language", "fr-FR, ar-SA;q=0.8, en;q=0.5")], &body("lina3")).await;
    assert_eq!(preferred.body["message"], "تم إنشاء حسابك.");
    let unsupported = app.post_json("/auth/register", None, &[("Accept-Language", "de")], &body("lina4")).await;
    assert_eq!(unsupported.body["message"], "Your account was created.");

    let unauthenticated = app.get_with("/wallet", None, &[("Accept-Language", "ar")]).await;
    assert_error(&unauthenticated, 401, "unauthorized");
    assert_eq!(unauthenticated.body["message"], "يلزم تسجيل الدخول.");
    assert_eq!(app.get_with("/wallet", None, &[]).await.body["message"], "Authentication is required.");
    let not_found = app.get_with("/nowhere", None, &[("Accept-Language", "ar")]).await;
    assert_eq!(not_found.body["message"], "غير موجود.");

    let invalid = app.post_json("/auth/register", None, &[("Accept-Language", "ar")], &body("9")).await;
    assert_error(&invalid, 422, "validation_failed");
    assert_eq!(invalid.body["message"], "بعض الحقول غير صالحة.");
    assert_eq!(field_reasons(&invalid, "username"), ["يجب أن يكون من 3 إلى 30 حرفاً أو رقماً أو '_' أو '.' ويبدأ بحرف"]);
    let invalid = app.post_json("/auth/register", None, &[], &body("9")).await;
    assert_eq!(field_reasons(&invalid, "username"), ["must be 3 to 30 letters, digits, '_' or '.', starting with a letter"]);

    let token = arabic.body["data"]["token"].as_str().unwrap();
    let wallet = app.get_with("/wallet", Some(token), &[("Accept-Language", "ar")]).await;
    assert_eq!(wallet.body["message"], "تم بنجاح");
}

// ---------------------------------------------------------------------------------------------
// Tokens.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_expired_and_revoked_tokens_are_401() {
    let app = spawn().await;
    let user = app.register("student").await;
    let wallet = |authorization: String| {
        let app = &app;
        async move { app.get_with("/wallet", None, &[("Authorization", &authorization)]).await }
    };
    let refused = |response: &Response| {
        assert_eq!(response.status, 401, "{}", response.text);
        let code = response.body["error"]["code"].as_str().unwrap_or_default();
        assert!(code == "invalid_token" || code == "unauthorized", "{}", response.text);
        assert_eq!(response.body["success"], false);
    };

    // The forging itself is right: a token signed with the server's secret is accepted.
    let genuine = forge(Algorithm::HS256, JWT_SECRET, &claims(user.user_id, &["student"], 600));
    assert_eq!(wallet(format!("Bearer {genuine}")).await.status, 200);
    assert_eq!(wallet(format!("bearer {}", user.token)).await.status, 200);

    for authorization in ["Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Token abc", "garbage", user.token.as_str()] {
        refused(&wallet(authorization.to_owned()).await);
    }
    refused(&wallet("Bearer not.a.jwt".to_owned()).await);
    refused(&wallet("Bearer aGVsbG8".to_owned()).await);
    let expired = forge(Algorithm::HS256, JWT_SECRET, &claims(user.user_id, &["student"], -3600));
    refused(&wallet(format!("Bearer {expired}")).await);
    let other_secret = forge(Algorithm::HS256, "another-secret-that-is-also-long-enough-42", &claims(user.user_id, &["student", "admin"], 600));
    refused(&wallet(format!("Bearer {other_secret}")).await);
    // The right secret but another algorithm: only HS256 is accepted.
    let hs512 = forge(Algorithm::HS512, JWT_SECRET, &claims(user.user_id, &["student"], 600));
    refused(&wallet(format!("Bearer {hs512}")).await);
    let header = base64url(br#"{"alg":"none","typ":"JWT"}"#);
    let payload = base64url(claims(user.user_id, &["student", "admin"], 600).to_string().as_bytes());
    refused(&wallet(format!("Bearer {header}.{payload}.")).await);
    let none_upper = base64url(br#"{"alg":"None","typ":"JWT"}"#);
    refused(&wallet(format!("Bearer {none_upper}.{payload}.")).await);
    // A genuine token with its payload swapped for more roles.
    let parts: Vec<&str> = user.token.split('.').collect();
    refused(&wallet(format!("Bearer {}.{payload}.{}", parts[0], parts[2])).await);
    // Missing claims.
    let no_exp = json!({ "sub": user.user_id, "roles": ["student"], "iat": Utc::now().timestamp(), "jti": Uuid::now_v7() });
    refused(&wallet(format!("Bearer {}", forge(Algorithm::HS256, JWT_SECRET, &no_exp))).await);

    let logout = app.post_raw("/auth/logout", Some(&user.token), &[], b"").await;
    assert_eq!(logout.status, 200);
    refused(&wallet(format!("Bearer {}", user.token)).await);
    // Logging out twice with a revoked token is refused too.
    refused(&app.post_raw("/auth/logout", Some(&user.token), &[], b"").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_sees_only_their_own_wallet() {
    let app = spawn().await;
    let alice = app.register("student").await;
    let bob = app.register("speaker").await;
    app.fund(&alice.token, "100.00").await;
    app.fund(&bob.token, "25.00").await;
    let withdrawal = withdraw(&app, &bob.token, "5.00", &key()).await;
    assert_eq!(withdrawal.status, 201);
    let position = withdrawal.position();
    assert_eq!(app.wallet(&alice.token, position).await["balance"], "100.00");
    assert_eq!(app.wallet(&bob.token, position).await["balance"], "20.00");

    let min = position.to_string();
    let alices = app.get_with("/wallet/transactions", Some(&alice.token), &[("X-Min-Position", &min)]).await;
    let bobs = app.get_with("/wallet/transactions", Some(&bob.token), &[("X-Min-Position", &min)]).await;
    let amounts = |response: &Response| response.body["data"].as_array().unwrap().iter().map(|t| t["amount"].as_str().unwrap().to_owned()).collect::<Vec<_>>();
    assert_eq!(amounts(&alices), ["100.00"]);
    assert_eq!(amounts(&bobs), ["5.00", "25.00"]);
    assert_eq!(alices.body["meta"]["pagination"]["total"], 1);
}

// ---------------------------------------------------------------------------------------------
// Idempotency.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repeated_key_replays_the_first_answer_per_user() {
    let app = spawn().await;
    let alice = app.register("student").await;
    let bob = app.register("student").await;
    let shared = key();
    let body = json!({ "amount": "75.00", "provider": "sandbox" });
    let first = app.post_json("/wallet/top-ups", Some(&alice.token), &[("Idempotency-Key", &shared)], &body).await;
    assert_eq!(first.status, 201, "{}", first.text);
    assert!(first.header("idempotent-replayed").is_none());
    let again = app.post_json("/wallet/top-ups", Some(&alice.token), &[("Idempotency-Key", &shared)], &body).await;
    assert_eq!(again.status, 201, "{}", again.text);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.body, first.body);
    assert_request_id(&again);
    assert_eq!(count_events(&app, "TopUpRequested").await, 1);

    let changed = app.post_json("/wallet/top-ups", Some(&alice.token), &[("Idempotency-Key", &shared)], &json!({ "amount": "76.00", "provider": "sandbox" })).await;
    assert_error(&changed, 422, "idempotency_key_reused");
    let speaker = app.register("speaker").await;
    let top_up = app.post_json("/wallet/top-ups", Some(&speaker.token), &[("Idempotency-Key", &shared)], &body).await;
    assert_eq!(top_up.status, 201);

    // Keys are the user's own: Bob's use of the same key is a new top-up.
    let bobs = app.post_json("/wallet/top-ups", Some(&bob.token), &[("Idempotency-Key", &shared)], &body).await;
    assert_eq!(bobs.status, 201, "{}", bobs.text);
    assert!(bobs.header("idempotent-replayed").is_none());
    assert_ne!(bobs.body["data"]["top_up_id"], first.body["data"]["top_up_id"]);
    assert_eq!(count_events(&app, "TopUpRequested").await, 3);

    // A replayed withdrawal moves the money once, and answers as the first time even though
    // deciding it again would now be refused for want of funds.
    app.fund(&speaker.token, "50.00").await;
    let withdrawal_key = key();
    let first = withdraw(&app, &speaker.token, "40.00", &withdrawal_key).await;
    assert_eq!(first.status, 201, "{}", first.text);
    let again = withdraw(&app, &speaker.token, "40.00", &withdrawal_key).await;
    assert_eq!(again.status, 201, "{}", again.text);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.body, first.body);
    // Another amount under the used key is another request, refused or not.
    assert_error(&withdraw(&app, &speaker.token, "41.00", &withdrawal_key).await, 422, "idempotency_key_reused");
    assert_error(&withdraw(&app, &speaker.token, "5.00", &withdrawal_key).await, 422, "idempotency_key_reused");
    // The same key on another route is another request.
    let elsewhere = app.post_json("/wallet/top-ups", Some(&speaker.token), &[("Idempotency-Key", &withdrawal_key)], &json!({ "amount": "20.00" })).await;
    assert_error(&elsewhere, 422, "idempotency_key_reused");
    assert_eq!(balance(&app, &speaker.token).await, "10.00");
    assert_eq!(count_events(&app, "WithdrawalRequested").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_requests_with_one_key_create_one_top_up() {
    let app = spawn().await;
    let user = app.register("student").await;
    let shared = key();
    let body = json!({ "amount": "10.00", "provider": "sandbox" });
    let headers = [("Idempotency-Key", shared.as_str())];
    let responses = futures::future::join_all((0..10).map(|_| app.post_json("/wallet/top-ups", Some(&user.token), &headers, &body))).await;
    // Every one gets the first answer; exactly one of them is that first answer.
    for response in &responses {
        assert_eq!(response.status, 201, "{}", response.text);
        assert_eq!(response.body["data"], responses[0].body["data"]);
        assert_eq!(response.body["meta"], responses[0].body["meta"]);
    }
    let fresh = responses.iter().filter(|r| r.header("idempotent-replayed").is_none()).count();
    assert_eq!(fresh, 1);
    assert_eq!(count_events(&app, "TopUpRequested").await, 1);
}

// ---------------------------------------------------------------------------------------------
// The payments webhook.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_or_unsigned_notification_changes_nothing() {
    let app = spawn().await;
    let user = app.register("student").await;
    let top_up_id = app.top_up(&user.token, "100.00").await;
    let notification = captured(top_up_id, "100.00");
    let body = notification.to_string();

    assert_error(&app.webhook_signed_with("not-the-sandbox-secret-but-long-enough", &notification).await, 401, "invalid_signature");
    assert_error(&app.post_raw("/payments/webhooks/sandbox", None, &[], body.as_bytes()).await, 401, "invalid_signature");
    assert_error(&app.post_raw("/payments/webhooks/sandbox", None, &[("Signature", "zz-not-hex")], body.as_bytes()).await, 401, "invalid_signature");
    assert_error(&app.post_raw("/payments/webhooks/sandbox", None, &[("Signature", "")], body.as_bytes()).await, 401, "invalid_signature");
    // A genuine signature of another body.
    let signature = api::routes::payments::sign(crate::api::SANDBOX_SECRET, captured(top_up_id, "1000.00").to_string().as_bytes());
    assert_error(&app.post_raw("/payments/webhooks/sandbox", None, &[("Signature", &signature)], body.as_bytes()).await, 401, "invalid_signature");
    assert_eq!(count_events(&app, "TopUpCaptured").await, 0);
    assert_eq!(count_events(&app, "TopUpPaymentCaptured").await, 0);
    assert_eq!(balance(&app, &user.token).await, "0.00");

    // The top-up is still open to the real capture.
    assert_eq!(app.webhook(&notification).await.status, 200);
    assert_eq!(balance(&app, &user.token).await, "100.00");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repeated_capture_credits_once_and_a_failed_payment_credits_nothing() {
    let app = spawn().await;
    let user = app.register("student").await;
    let top_up_id = app.top_up(&user.token, "100.00").await;
    let notification = captured(top_up_id, "100.00");
    let first = app.webhook(&notification).await;
    assert_eq!(first.status, 200, "{}", first.text);
    let again = app.webhook(&notification).await;
    assert_eq!(again.status, 200, "{}", again.text);
    assert_eq!(again.body["data"]["status"], "captured");
    // Another event for a settled top-up is refused.
    assert_error(&app.webhook(&captured(top_up_id, "100.00")).await, 409, "top_up_already_settled");
    assert_eq!(balance(&app, &user.token).await, "100.00");
    assert_eq!(count_events(&app, "TopUpCaptured").await, 1);

    let failing = app.top_up(&user.token, "40.00").await;
    let failed = json!({ "event_id": key(), "type": "payment.failed", "top_up_id": failing });
    let response = app.webhook(&failed).await;
    assert_eq!(response.status, 200, "{}", response.text);
    assert_eq!(response.body["data"]["status"], "failed");
    assert_eq!(app.webhook(&failed).await.status, 200);
    assert_error(&app.webhook(&captured(failing, "40.00")).await, 409, "top_up_already_settled");
    assert_eq!(balance(&app, &user.token).await, "100.00");
    assert_eq!(count_events(&app, "TopUpCaptured").await, 1);

    let mismatched = app.top_up(&user.token, "60.00").await;
    assert_error(&app.webhook(&captured(mismatched, "600.00")).await, 409, "amount_mismatch");
    assert_error(&app.webhook(&captured(mismatched, "59.99")).await, 409, "amount_mismatch");
    let no_amount = json!({ "event_id": key(), "type": "payment.captured", "top_up_id": mismatched });
    assert_error(&app.webhook(&no_amount).await, 422, "validation_failed");
    let unknown_type = json!({ "event_id": key(), "type": "payment.refunded", "top_up_id": mismatched, "amount": "60.00" });
    assert_error(&app.webhook(&unknown_type).await, 422, "validation_failed");
    assert_eq!(balance(&app, &user.token).await, "100.00");
    assert_eq!(count_events(&app, "TopUpCaptured").await, 1);
    // Still pending: the right amount goes through.
    assert_eq!(app.webhook(&captured(mismatched, "60.00")).await.status, 200);
    assert_eq!(balance(&app, &user.token).await, "160.00");
}

// ---------------------------------------------------------------------------------------------
// Races.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_concurrent_deliveries_of_one_capture_credit_once() {
    let app = spawn().await;
    let user = app.register("student").await;
    let top_up_id = app.top_up(&user.token, "100.00").await;
    let notification = captured(top_up_id, "100.00");
    let responses = futures::future::join_all((0..20).map(|_| app.webhook(&notification))).await;
    for response in &responses {
        assert_eq!(response.status, 200, "{}", response.text);
    }
    assert_eq!(balance(&app, &user.token).await, "100.00");
    assert_eq!(count_events(&app, "TopUpCaptured").await, 1);
    assert_eq!(count_events(&app, "TopUpPaymentCaptured").await, 1);
    let transactions = app.get_with("/wallet/transactions", Some(&user.token), &[]).await;
    assert_eq!(transactions.body["meta"]["pagination"]["total"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_captures_and_failures_of_one_top_up_agree() {
    let app = spawn().await;
    let user = app.register("student").await;
    let mut top_ups = Vec::new();
    for _ in 0..10 {
        let top_up_id = app.top_up(&user.token, "10.00").await;
        let failed = json!({ "event_id": key(), "type": "payment.failed", "top_up_id": top_up_id });
        let deliveries = (0..6).map(|i| if i % 2 == 0 { captured(top_up_id, "10.00") } else { failed.clone() }).collect::<Vec<_>>();
        let responses = futures::future::join_all(deliveries.iter().map(|n| app.webhook(n))).await;
        for response in &responses {
            assert!(response.status == 200 || response.status == 409, "{}", response.text);
        }
        top_ups.push(top_up_id);
    }
    // The wallet holds exactly the top-ups whose stream says captured.
    let captured_top_ups: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM events WHERE event_type = 'TopUpPaymentCaptured'")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(count_events(&app, "TopUpCaptured").await, captured_top_ups);
    assert_eq!(balance(&app, &user.token).await, format!("{}.00", captured_top_ups * 10));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_withdrawals_never_overdraw() {
    let app = spawn().await;
    let speaker = app.register("speaker").await;
    app.fund(&speaker.token, "100.00").await;
    let keys: Vec<String> = (0..10).map(|_| key()).collect();
    let responses = futures::future::join_all(keys.iter().map(|k| withdraw(&app, &speaker.token, "30.00", k))).await;
    let accepted = responses.iter().filter(|r| r.status == 201).count();
    assert_eq!(accepted, 3, "{:?}", responses.iter().map(|r| &r.text).collect::<Vec<_>>());
    for response in responses.iter().filter(|r| r.status != 201) {
        assert_error(response, 409, "insufficient_funds");
    }
    let wallet = app.wallet(&speaker.token, head(&app).await).await;
    assert_eq!(wallet["balance"], "10.00");
    assert_eq!(count_events(&app, "WithdrawalRequested").await, 3);
}

// ---------------------------------------------------------------------------------------------
// Request ids.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_response_carries_a_request_id() {
    let app = spawn().await;
    let user = app.register("student").await;
    let responses = vec![
        app.get_with("/health", None, &[]).await,
        app.get_with("/openapi.json", None, &[]).await,
        app.get_with("/docs", None, &[]).await,
        app.get_with("/wallet", Some(&user.token), &[]).await,
        app.get_with("/wallet", None, &[]).await,
        app.get_with("/nowhere", None, &[]).await,
        app.post_raw("/auth/login", None, &[], b"{").await,
        app.post_json("/wallet/top-ups", Some(&user.token), &[("Idempotency-Key", &key())], &json!({ "amount": "1.00", "provider": "sandbox" })).await,
        app.post_raw("/payments/webhooks/sandbox", None, &[], b"{}").await,
        app.send(Method::DELETE, "/wallet", Some(&user.token), &[], None).await,
    ];
    let mut ids = std::collections::HashSet::new();
    for response in &responses {
        assert_request_id(response);
        ids.insert(response.header("x-request-id").unwrap().to_owned());
    }
    assert_eq!(ids.len(), responses.len(), "request ids repeat");
}

// ---------------------------------------------------------------------------------------------
// Hostile input.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn odd_input_is_refused_in_the_envelope_never_with_a_500() {
    let app = spawn_with_admin().await;
    let speaker = app.register("speaker").await;
    let admin = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let long = "a".repeat(10_000);
    let register = |overrides: Value| {
        let mut body = json!({ "name": "N", "username": "someone", "email": "someone@example.com", "password": PASSWORD, "role": "student" });
        for (field, value) in overrides.as_object().unwrap() {
            body[field] = value.clone();
        }
        body
    };
    let bodies = [
        register(json!({ "name": long })),
        register(json!({ "username": long })),
        register(json!({ "email": format!("{long}@example.com") })),
        register(json!({ "email": format!("a@{}.com", "b".repeat(70)) })),
        register(json!({ "password": format!("A#1{long}") })),
        register(json!({ "name": "\u{0000}" })),
        register(json!({ "username": "مستخدم" })),
        register(json!({ "email": "a b@example.com" })),
        register(json!({ "role": null })),
        register(json!({ "language": 7 })),
        register(json!({ "name": { "nested": [1, 2] } })),
    ];
    for body in &bodies {
        let response = app.post_json("/auth/register", None, &[], body).await;
        assert_error(&response, 422, "validation_failed");
    }
    for login in [long.clone(), format!("{long}@example.com"), "\u{202e}admin".to_owned(), "admin@".to_owned()] {
        let response = app.post_json("/auth/login", None, &[], &json!({ "login": login, "password": long })).await;
        assert_error(&response, 401, "invalid_credentials");
    }

    let money_moving = [("/wallet/top-ups", json!({ "provider": "sandbox" })), ("/wallet/withdrawals", json!({}))];
    for (path, base) in &money_moving {
        for amount in [json!("99999999999.00"), json!("1e3"), json!(" 10"), json!("10."), json!(".5"), json!(10), json!(null), json!("٣٠")] {
            let mut body = base.clone();
            body["amount"] = amount.clone();
            let response = app.post_json(path, Some(&speaker.token), &[("Idempotency-Key", &key())], &body).await;
            assert_error(&response, 422, "validation_failed");
        }
    }
    let max = app.top_up(&speaker.token, "1000000000.00").await;
    assert_eq!(app.webhook(&captured(max, "1000000000.00")).await.status, 200);
    let over = app.top_up(&speaker.token, "1000000000.00").await;
    let response = app.webhook(&captured(over, "1000000000.00")).await;
    assert!((400..500).contains(&response.status), "{}", response.text);

    let id = Uuid::now_v7();
    let reason = json!({ "reason": "r".repeat(501) });
    assert_error(&app.post_json(&format!("/admin/withdrawals/{id}/reject"), Some(&admin), &[], &reason).await, 422, "validation_failed");
    assert_error(&app.post_raw(&format!("/admin/withdrawals/{id}/reject"), Some(&admin), &[], b"{").await, 400, "malformed_json");
    assert_error(&app.post_raw(&format!("/admin/withdrawals/{}/approve", "9".repeat(300)), Some(&admin), &[], b"").await, 404, "not_found");

    let too_far = app.get_with("/wallet", Some(&speaker.token), &[("X-Min-Position", "99999999999999999999999")]).await;
    assert_error(&too_far, 400, "malformed_request");
    let far_page = app.get_with("/wallet/transactions?page=1000000&per_page=100", Some(&speaker.token), &[]).await;
    assert_eq!(far_page.status, 200, "{}", far_page.text);
    assert_eq!(far_page.body["data"], json!([]));
    let repeated = app.get_with("/wallet/transactions?page=1&page=2", Some(&speaker.token), &[]).await;
    assert!(repeated.status < 500, "{}", repeated.text);

    let webhook_bodies = [
        json!({ "event_id": "", "type": "payment.captured", "top_up_id": max, "amount": "1.00" }),
        json!({ "event_id": "e".repeat(201), "type": "payment.captured", "top_up_id": max, "amount": "1.00" }),
        json!({ "event_id": "e", "type": "payment.captured", "top_up_id": "not-a-uuid", "amount": "1.00" }),
        json!({ "event_id": "e", "type": "payment.captured", "top_up_id": max, "amount": "-1.00" }),
    ];
    for body in &webhook_bodies {
        assert_error(&app.webhook(body).await, 422, "validation_failed");
    }
    let huge = vec![b'x'; 100 * 1024];
    let response = app.post_raw("/auth/login", None, &[], &huge).await;
    assert!((400..500).contains(&response.status), "{} {}", response.status, response.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sandbox_checkout_pays_a_top_up_once_and_is_off_unless_enabled() {
    let mut settings = NO_RATE_LIMITS.to_vec();
    settings.push(("SANDBOX_CHECKOUT", "1"));
    let app = TestApp::spawn(&settings).await;
    let student = app.register("student").await;
    let top_up = app.top_up(&student.token, "25.00").await;

    let page = app.get_with(&format!("/payments/sandbox/checkout/{top_up}"), None, &[]).await;
    assert_eq!(page.status, 200);
    assert!(page.text.contains("25.00 SAR") && page.text.contains("pending"), "{}", page.text);
    let paid = app.post_raw(&format!("/payments/sandbox/checkout/{top_up}/pay"), None, &[], b"").await;
    assert_eq!(paid.status, 200, "{}", paid.text);
    let again = app.post_raw(&format!("/payments/sandbox/checkout/{top_up}/pay"), None, &[], b"").await;
    assert_eq!(again.status, 200, "{}", again.text);
    assert_eq!(app.wallet(&student.token, paid.position()).await["balance"], "25.00");
    let failed_after = app.post_raw(&format!("/payments/sandbox/checkout/{top_up}/fail"), None, &[], b"").await;
    assert_eq!(failed_after.status, 409, "{}", failed_after.text);

    let plain = TestApp::spawn(&NO_RATE_LIMITS).await;
    let other = plain.register("student").await;
    let hidden = plain.top_up(&other.token, "5.00").await;
    assert_eq!(plain.get_with(&format!("/payments/sandbox/checkout/{hidden}"), None, &[]).await.status, 404);
    assert_eq!(plain.post_raw(&format!("/payments/sandbox/checkout/{hidden}/pay"), None, &[], b"").await.status, 404);
}
