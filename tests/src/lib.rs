//! Test support for the integration tests: every test gets a database of its own on the real
//! MariaDB server, freshly migrated, so tests run in parallel without seeing each other.

use std::time::Duration;

use sqlx::mysql::{MySqlConnectOptions, MySqlPoolOptions};
use sqlx::{ConnectOptions, MySqlPool};

/// Test databases carry this prefix; `scripts/test.sh` drops leftovers before a run.
pub const DATABASE_PREFIX: &str = "ispeaker_test_";

/// The server the tests use, as a URL without a database: `TEST_DATABASE_URL`, else the
/// account `scripts/services.sh` creates, over the Unix socket (loopback TCP without
/// TCP_NODELAY stalls large statements for 40 ms).
pub fn server_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "mysql://ispeaker:ispeaker@localhost/?socket=/run/mysqld/mysqld.sock".to_owned())
}

/// `server_url()` with `database` in its path, keeping the query (the socket, say).
pub fn database_url(database: &str) -> String {
    let server = server_url();
    let (base, query) = server.split_once('?').map_or((server.as_str(), None), |(b, q)| (b, Some(q)));
    let base = base.trim_end_matches('/');
    match query {
        Some(query) => format!("{base}/{database}?{query}"),
        None => format!("{base}/{database}"),
    }
}

pub fn nats_url() -> String {
    std::env::var("TEST_NATS_URL").unwrap_or_else(|_| "127.0.0.1:4222".to_owned())
}

pub struct TestDatabase {
    pub name: String,
    pub url: String,
    pub pool: MySqlPool,
}

impl TestDatabase {
    /// Creates and migrates a database with a fresh name.
    pub async fn new() -> Self {
        let name = format!("{DATABASE_PREFIX}{}", uuid::Uuid::now_v7().simple());
        let server: MySqlConnectOptions = server_url().parse().expect("TEST_DATABASE_URL is a MySQL URL");
        let mut admin = server.connect().await.expect("MariaDB is reachable (run scripts/services.sh)");
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE `{name}`")))
            .execute(&mut admin)
            .await
            .expect("create test database");
        let url = database_url(&name);
        let pool = pool(&url, 32).await;
        migrations::migrator().run(&pool).await.expect("migrations apply");
        Self { name, url, pool }
    }

    /// Another pool on the same database, as a second server process would have.
    pub async fn another_pool(&self, connections: u32) -> MySqlPool {
        pool(&self.url, connections).await
    }
}

pub async fn pool(url: &str, connections: u32) -> MySqlPool {
    MySqlPoolOptions::new()
        .max_connections(connections)
        .acquire_timeout(Duration::from_secs(30))
        .connect(url)
        .await
        .expect("connect to test database")
}
