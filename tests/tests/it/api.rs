//! The API over real HTTP, against a server on port 0 with its own fresh database.

use api::{Application, Settings};
use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use tests::TestDatabase;
use uuid::Uuid;

pub const JWT_SECRET: &str = "test-jwt-secret-that-is-long-enough-0123456789";
pub const SANDBOX_SECRET: &str = "test-sandbox-secret-that-is-long-enough-0123";
/// A password the contract accepts: 8+ characters, an upper-case letter, a digit and a symbol.
pub const PASSWORD: &str = "Correct#Horse9";
/// Generous limits for tests that are not about rate limiting.
pub const NO_RATE_LIMITS: [(&str, &str); 2] = [("RATE_LIMIT_PER_MINUTE", "100000"), ("AUTH_RATE_LIMIT_PER_MINUTE", "100000")];

/// One HTTP answer: status, headers and the JSON body (`Null` when the body is not JSON).
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// `meta.position` of a command's answer.
    pub fn position(&self) -> u64 {
        self.body["meta"]["position"].as_u64().unwrap_or_else(|| panic!("no meta.position in {}", self.body))
    }
}

/// A registered user and the token registration gave them.
#[derive(Clone, Debug)]
pub struct Session {
    pub user_id: Uuid,
    pub username: String,
    pub email: String,
    pub token: String,
}

pub struct TestApp {
    pub db: TestDatabase,
    pub address: String,
    pub client: reqwest::Client,
}

pub fn settings(db: &TestDatabase, extra: &[(&str, &str)]) -> Settings {
    let mut values = vec![
        ("DATABASE_URL".to_owned(), db.url.clone()),
        ("HTTP_ADDR".to_owned(), "127.0.0.1:0".to_owned()),
        ("JWT_SECRET".to_owned(), JWT_SECRET.to_owned()),
        ("PAYMENT_SANDBOX_SECRET".to_owned(), SANDBOX_SECRET.to_owned()),
    ];
    values.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    Settings::from_lookup(|name| values.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.clone())).unwrap()
}

impl TestApp {
    pub async fn spawn(extra: &[(&str, &str)]) -> Self {
        let db = TestDatabase::new().await;
        let application = Application::build(settings(&db, extra)).await.expect("application builds");
        let address = format!("http://127.0.0.1:{}/api/v1", application.port());
        tokio::spawn(application.run_until_stopped());
        Self { db, address, client: reqwest::Client::new() }
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        let response = self.client.get(format!("{}{path}", self.address)).send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Any request: `token` becomes `Authorization: Bearer …`, `headers` are sent as given.
    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
        body: Option<Vec<u8>>,
    ) -> Response {
        let mut request = self.client.request(method, format!("{}{path}", self.address));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            request = request.header("Content-Type", "application/json").body(body);
        }
        let response = request.send().await.expect("the server answers");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Response { status, headers, body, text }
    }

    pub async fn get_with(&self, path: &str, token: Option<&str>, headers: &[(&str, &str)]) -> Response {
        self.send(reqwest::Method::GET, path, token, headers, None).await
    }

    pub async fn post_json(&self, path: &str, token: Option<&str>, headers: &[(&str, &str)], body: &Value) -> Response {
        self.send(reqwest::Method::POST, path, token, headers, Some(body.to_string().into_bytes())).await
    }

    pub async fn post_raw(&self, path: &str, token: Option<&str>, headers: &[(&str, &str)], body: &[u8]) -> Response {
        self.send(reqwest::Method::POST, path, token, headers, Some(body.to_vec())).await
    }

    /// Registers a user with a fresh username and email; panics unless it answers 201.
    pub async fn register(&self, role: &str) -> Session {
        let username = format!("u{}", &Uuid::new_v4().simple().to_string()[..12]);
        let email = format!("{username}@example.com");
        let body = json!({ "name": "Test User", "username": username, "email": email, "password": PASSWORD, "role": role });
        let response = self.post_json("/auth/register", None, &[], &body).await;
        assert_eq!(response.status, 201, "{}", response.text);
        Session {
            user_id: response.body["data"]["user"]["id"].as_str().and_then(|id| id.parse().ok()).expect("user id"),
            username,
            email,
            token: response.body["data"]["token"].as_str().expect("token").to_owned(),
        }
    }

    /// Logs in; panics unless it answers 200. Returns the token.
    pub async fn login(&self, login: &str, password: &str) -> String {
        let response = self.post_json("/auth/login", None, &[], &json!({ "login": login, "password": password })).await;
        assert_eq!(response.status, 200, "{}", response.text);
        response.body["data"]["token"].as_str().expect("token").to_owned()
    }

    /// Starts a sandbox top-up; panics unless it answers 201. Returns its id.
    pub async fn top_up(&self, token: &str, amount: &str) -> Uuid {
        let key = Uuid::new_v4().to_string();
        let body = json!({ "amount": amount, "provider": "sandbox" });
        let response = self.post_json("/wallet/top-ups", Some(token), &[("Idempotency-Key", &key)], &body).await;
        assert_eq!(response.status, 201, "{}", response.text);
        response.body["data"]["top_up_id"].as_str().and_then(|id| id.parse().ok()).expect("top_up_id")
    }

    /// Delivers a sandbox notification signed with `secret`.
    pub async fn webhook_signed_with(&self, secret: &str, notification: &Value) -> Response {
        let body = notification.to_string().into_bytes();
        let signature = api::routes::payments::sign(secret, &body);
        self.post_raw("/payments/webhooks/sandbox", None, &[("Signature", &signature)], &body).await
    }

    /// Delivers a sandbox notification with the right signature.
    pub async fn webhook(&self, notification: &Value) -> Response {
        self.webhook_signed_with(SANDBOX_SECRET, notification).await
    }

    /// A top-up the provider captured; returns the position that credited the wallet.
    pub async fn fund(&self, token: &str, amount: &str) -> u64 {
        let top_up_id = self.top_up(token, amount).await;
        let captured = json!({ "event_id": Uuid::new_v4().to_string(), "type": "payment.captured", "top_up_id": top_up_id, "amount": amount });
        let response = self.webhook(&captured).await;
        assert_eq!(response.status, 200, "{}", response.text);
        response.position()
    }

    /// GET /wallet once the read model has applied `position`.
    pub async fn wallet(&self, token: &str, position: u64) -> Value {
        let response = self.get_with("/wallet", Some(token), &[("X-Min-Position", &position.to_string())]).await;
        assert_eq!(response.status, 200, "{}", response.text);
        response.body["data"].clone()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_reports_the_database_nats_and_each_projectors_lag() {
    let app = TestApp::spawn(&[("NATS_URL", &tests::nats_url())]).await;
    let (status, body) = app.get("/health").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["success"], true);
    assert_eq!(body["data"]["database"], "up");
    let projectors: Vec<&str> = body["data"]["projectors"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(projectors, ["wallets", "ledger", "withdrawals", "users"]);
}

#[test]
fn a_missing_or_malformed_setting_is_named() {
    let base = [("DATABASE_URL", "mysql://x@localhost/db"), ("JWT_SECRET", "j".repeat(40).leak() as &str), ("PAYMENT_SANDBOX_SECRET", "p".repeat(40).leak() as &str)];
    let lookup = |overrides: &[(&str, &str)]| {
        let values: Vec<(String, String)> =
            base.iter().chain(overrides).map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Settings::from_lookup(move |name| values.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
    };
    assert!(lookup(&[]).is_ok());
    let error = |overrides: &[(&str, &str)]| lookup(overrides).err().unwrap().to_string();
    assert_eq!(error(&[("DATABASE_URL", "")]), "setting DATABASE_URL is required");
    assert!(error(&[("DATABASE_URL", "postgres://x")]).contains("DATABASE_URL"));
    assert!(error(&[("JWT_SECRET", "short")]).contains("JWT_SECRET"));
    assert!(error(&[("HTTP_ADDR", "nowhere")]).contains("HTTP_ADDR"));
    assert!(error(&[("RATE_LIMIT_PER_MINUTE", "-3")]).contains("RATE_LIMIT_PER_MINUTE"));
    assert!(error(&[("BOOTSTRAP_ADMIN_EMAIL", "a@b.c")]).contains("BOOTSTRAP_ADMIN_PASSWORD"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_is_503_with_retry_after_when_the_database_is_gone() {
    let app = TestApp::spawn(&NO_RATE_LIMITS).await;
    assert_eq!(app.get("/health").await.0, 200);
    sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE `{}`", app.db.name))).execute(&app.db.pool).await.unwrap();
    let response = app.get_with("/health", None, &[]).await;
    assert_eq!(response.status, 503, "{}", response.text);
    assert_eq!(response.body["error"]["code"], "database_unavailable");
    assert!(response.header("retry-after").is_some());
}
