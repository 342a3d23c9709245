//! The API over real HTTP, against a server on port 0 with its own fresh database. Every exchange
//! is checked against the server's OpenAPI document (`contract`): a test whose request or answer
//! the document does not describe fails.

mod contract;

use std::sync::Arc;

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
    /// The running server's state: its clock, scheduler jobs and commands, for tests of time.
    pub state: Arc<api::startup::AppState>,
    contract: Arc<contract::Contract>,
}

pub fn settings(db: &TestDatabase, extra: &[(&str, &str)]) -> Settings {
    let mut values = vec![
        ("DATABASE_URL".to_owned(), db.url.clone()),
        ("HTTP_ADDR".to_owned(), "127.0.0.1:0".to_owned()),
        ("JWT_SECRET".to_owned(), JWT_SECRET.to_owned()),
        ("PAYMENT_SANDBOX_SECRET".to_owned(), SANDBOX_SECRET.to_owned()),
        ("DATA_KEY_SECRET".to_owned(), tests::DATA_KEY_SECRET.to_owned()),
    ];
    values.extend(tests::SELLER.iter().chain(&tests::JITSI).map(|(k, v)| (k.to_string(), v.to_string())));
    values.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    Settings::from_lookup(|name| values.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.clone())).unwrap()
}

impl TestApp {
    pub async fn spawn(extra: &[(&str, &str)]) -> Self {
        let db = TestDatabase::new().await;
        let settings = settings(&db, extra);
        Self::start(db, settings).await
    }

    /// A server on `db` with exactly these settings (the database may sit behind a proxy).
    pub async fn start(db: TestDatabase, settings: Settings) -> Self {
        let application = Application::build(settings).await.expect("application builds");
        let address = format!("http://127.0.0.1:{}/api/v1", application.port());
        let state = application.state();
        tokio::spawn(application.run_until_stopped());
        let contract = contract::fetch(&address).await;
        Self { db, address, client: reqwest::Client::new(), state, contract }
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        let response = self.get_with(path, None, &[]).await;
        (response.status, response.body)
    }

    /// Any request: `token` becomes `Authorization: Bearer …`, `headers` are sent as given. Panics
    /// when the OpenAPI document does not describe the request or its answer.
    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
        body: Option<Vec<u8>>,
    ) -> Response {
        let url = format!("{}{path}", self.address);
        let mut request = self.client.request(method.clone(), &url);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = &body {
            request = request.header("Content-Type", "application/json").body(body.clone());
        }
        let response = request.send().await.expect("the server answers");
        let status = response.status().as_u16();
        let answer_headers = response.headers().clone();
        let text = response.text().await.unwrap_or_default();
        let exchange = contract::Exchange {
            method: method.as_str(),
            path_and_query: url.strip_prefix(self.address.trim_end_matches("/api/v1")).unwrap_or(&url),
            headers,
            token: token.is_some() || headers.iter().any(|(name, _)| name.eq_ignore_ascii_case("authorization")),
            body: body.as_deref(),
            status,
            content_type: answer_headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default(),
            text: &text,
        };
        if let Err(mismatch) = self.contract.check(&exchange) {
            panic!("the OpenAPI document does not describe {} {path} answered {status}: {mismatch}", method.as_str());
        }
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Response { status, headers: answer_headers, body, text }
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
        let signature = api::wallet::payments::sign(secret, &body);
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
