//! Deletes the fan-out streams of this run's test databases (`TEST_DATABASE_PREFIX`).
//!
//! Every relay a test starts makes a JetStream stream named after its store, and NATS reserves
//! the stream's whole size in memory until the stream is deleted: left behind, a few runs'
//! streams exhaust JetStream and later relays cannot publish. `scripts/test.sh` runs this when a
//! run ends, before it drops the databases the streams are named after.

use event_store::EventStore;
use event_store::relay::Deployment;
use sqlx::mysql::MySqlConnectOptions;
use sqlx::{ConnectOptions, Connection};

#[tokio::main]
async fn main() {
    let prefix = tests::database_prefix();
    let server: MySqlConnectOptions = tests::server_url().parse().expect("TEST_DATABASE_URL is a MySQL URL");
    let mut admin = server.connect().await.expect("MariaDB is reachable");
    let pattern = format!("{}%", prefix.replace('_', "\\_"));
    let databases: Vec<String> = sqlx::query_scalar("SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE ?")
        .bind(pattern)
        .fetch_all(&mut admin)
        .await
        .expect("list this run's databases");
    admin.close().await.ok();
    let client = async_nats::connect(tests::nats_url()).await.expect("NATS is reachable");
    let jetstream = async_nats::jetstream::new(client);
    let mut deleted = 0;
    for database in databases {
        let pool = tests::pool(&tests::database_url(&database), 1).await;
        // A database the run made but did not migrate has no store, hence no stream.
        let Ok(store) = EventStore::start(pool.clone(), Default::default()).await else { continue };
        let stream = Deployment::new(&store, None, "").expect("the default deployment name is valid").stream_name();
        if jetstream.delete_stream(&stream).await.is_ok() {
            deleted += 1;
        }
        pool.close().await;
    }
    println!("deleted {deleted} fan-out streams of this run");
}
