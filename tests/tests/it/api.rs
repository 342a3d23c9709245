//! The API over real HTTP, against a server on port 0 with its own fresh database.

use api::{Application, Settings};
use serde_json::Value;
use tests::TestDatabase;

pub struct TestApp {
    #[allow(dead_code)] // kept alive for the server; tests also query it
    pub db: TestDatabase,
    pub address: String,
    pub client: reqwest::Client,
}

pub fn settings(db: &TestDatabase, extra: &[(&str, &str)]) -> Settings {
    let mut values = vec![
        ("DATABASE_URL".to_owned(), db.url.clone()),
        ("HTTP_ADDR".to_owned(), "127.0.0.1:0".to_owned()),
        ("JWT_SECRET".to_owned(), "test-jwt-secret-that-is-long-enough-0123456789".to_owned()),
        ("PAYMENT_SANDBOX_SECRET".to_owned(), "test-sandbox-secret-that-is-long-enough-0123".to_owned()),
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
