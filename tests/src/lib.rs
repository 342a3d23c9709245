//! Test support for the integration tests: every test gets a database of its own on the real
//! MariaDB server, freshly migrated, so tests run in parallel without seeing each other.

use std::time::Duration;

use sqlx::mysql::{MySqlConnectOptions, MySqlPoolOptions};
use sqlx::{ConnectOptions, MySqlPool};

/// Test databases carry this prefix unless `TEST_DATABASE_PREFIX` gives another.
pub const DATABASE_PREFIX: &str = "ispeaker_test_";

/// The environment variable that names this run's databases: `scripts/test.sh` gives each run
/// its own prefix (`ispeaker_test_<run id>_`) and drops exactly those databases at its end, so
/// runs sharing one MariaDB never touch each other's databases.
pub const DATABASE_PREFIX_VARIABLE: &str = "TEST_DATABASE_PREFIX";

/// MariaDB refuses longer database names.
pub const DATABASE_NAME_LEN_MAX: usize = 64;

/// What follows the prefix: a UUID in its 32-character simple form.
const DATABASE_SUFFIX_LEN: usize = 32;

/// The seller of record tests run with (`SELLER_*`): an Arabic legal name, as in production.
pub const SELLER: [(&str, &str); 4] = [
    ("SELLER_NAME_AR", "شركة آي سبيكر لايف"),
    ("SELLER_NAME_EN", "iSpeaker Live Co."),
    ("SELLER_VAT_NUMBER", "310122393500003"),
    ("SELLER_ADDRESS", "King Fahd Road, Riyadh 12271, Saudi Arabia"),
];

/// The video service tests run with (`JITSI_*`): they decode its tokens with this secret.
pub const JITSI: [(&str, &str); 3] = [
    ("JITSI_APP_ID", "ispeaker-live"),
    ("JITSI_APP_SECRET", "test-jitsi-secret-that-is-long-enough-1234"),
    ("JITSI_DOMAIN", "meet.ispeaker.test"),
];

/// The `DATA_KEY_SECRET` tests run with.
pub const DATA_KEY_SECRET: &str = "test-data-key-secret-that-is-long-enough-42";

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

/// The prefix of this run's databases: `TEST_DATABASE_PREFIX`, else `ispeaker_test_`.
pub fn database_prefix() -> String {
    let prefix = std::env::var(DATABASE_PREFIX_VARIABLE).unwrap_or_else(|_| DATABASE_PREFIX.to_owned());
    check_database_prefix(&prefix).unwrap_or_else(|reason| panic!("{DATABASE_PREFIX_VARIABLE}={prefix:?} {reason}"));
    prefix
}

/// A prefix must leave room for the unique suffix within MariaDB's limit, and hold only
/// characters that need no quoting in SQL or in a `LIKE` pattern other than `_`.
pub fn check_database_prefix(prefix: &str) -> Result<(), String> {
    let len_max = DATABASE_NAME_LEN_MAX - DATABASE_SUFFIX_LEN;
    if prefix.is_empty() || prefix.len() > len_max {
        return Err(format!("must be 1 to {len_max} characters, so that database names stay within {DATABASE_NAME_LEN_MAX}"));
    }
    if !prefix.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err("may hold only ASCII letters, digits and '_'".to_owned());
    }
    Ok(())
}

/// A fresh database name: the run's prefix and a UUID.
pub fn fresh_database_name() -> String {
    let name = format!("{}{}", database_prefix(), uuid::Uuid::now_v7().simple());
    assert!(name.len() <= DATABASE_NAME_LEN_MAX, "{name} is longer than MariaDB allows");
    name
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
        let name = fresh_database_name();
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

pub mod fault;

#[cfg(test)]
mod prefix_tests {
    use super::*;

    #[test]
    fn the_longest_allowed_prefix_still_gives_names_mariadb_accepts() {
        let longest = "p".repeat(DATABASE_NAME_LEN_MAX - DATABASE_SUFFIX_LEN);
        assert_eq!(check_database_prefix(&longest), Ok(()));
        assert_eq!(format!("{longest}{}", uuid::Uuid::now_v7().simple()).len(), DATABASE_NAME_LEN_MAX);
        assert!(check_database_prefix(&format!("{longest}p")).unwrap_err().contains("64"));
    }

    #[test]
    fn a_prefix_with_characters_that_need_quoting_is_refused() {
        assert_eq!(check_database_prefix("ispeaker_test_0a1b2c3d_"), Ok(()));
        for prefix in ["", "ispeaker-test", "ispeaker`test", "ispeaker%", "test db"] {
            assert!(check_database_prefix(prefix).is_err(), "{prefix:?}");
        }
    }
}
