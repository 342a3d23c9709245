//! What the store-level test modules share: a fresh database with a store, the wallet command
//! handler, and a way to bring every projection up to date.

use commands::Commands;
use commands::wallet::Wallets;
use event_store::EventStore;
use projections::{ProjectorRunner, RunnerConfig};
use tests::TestDatabase;

pub struct Harness {
    pub db: TestDatabase,
    pub store: EventStore,
    pub commands: Commands,
    pub wallets: Wallets,
}

impl Harness {
    pub async fn new() -> Self {
        let db = TestDatabase::new().await;
        let store = open_store(&db.pool).await;
        let commands = Commands::new(store.clone());
        Self { db, store, wallets: commands.wallet.clone(), commands }
    }

    /// The command side of another process on the same database.
    pub async fn another_process(&self, connections: u32) -> Commands {
        Commands::new(open_store(&self.db.another_pool(connections).await).await)
    }

    /// Runs the operators' CLI in-process, as an operator with the server's `.env` would: its
    /// exit status and report.
    pub async fn cli(&self, args: &[&str]) -> (replay_tools::ExitStatus, String) {
        use clap::Parser;
        let mut argv = vec!["ispeaker-replay", "--quiet", "--database-url", self.db.url.as_str(), "--data-key-secret", tests::DATA_KEY_SECRET];
        argv.extend_from_slice(args);
        let cli = replay_tools::Cli::try_parse_from(argv).unwrap();
        let mut out = Vec::new();
        let status = replay_tools::run(cli, &mut out).await.unwrap();
        (status, String::from_utf8(out).unwrap())
    }

    /// Every projection, caught up with the store.
    pub async fn catch_up(&self) {
        for projector in projections::all() {
            ProjectorRunner::new(self.store.clone(), projector, RunnerConfig::default()).catch_up().await.unwrap();
        }
    }
}

/// The event store as the server opens it.
pub async fn open_store(pool: &sqlx::MySqlPool) -> EventStore {
    commands::open_store(pool.clone(), tests::DATA_KEY_SECRET).await.expect("the store starts")
}
