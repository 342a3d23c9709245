//! What the store-level test modules share: a fresh database with a store, the wallet command
//! handler, and a way to bring every projection up to date.

use commands::WalletCommands;
use event_store::EventStore;
use projections::{ProjectorRunner, RunnerConfig};
use tests::TestDatabase;

pub struct Harness {
    pub db: TestDatabase,
    pub store: EventStore,
    pub wallets: WalletCommands,
}

impl Harness {
    pub async fn new() -> Self {
        let db = TestDatabase::new().await;
        let store = EventStore::start(db.pool.clone(), commands::upcasters()).await.unwrap();
        let wallets = WalletCommands::new(store.clone());
        Self { db, store, wallets }
    }

    /// Every projection, caught up with the store.
    pub async fn catch_up(&self) {
        for projector in projections::all() {
            ProjectorRunner::new(self.store.clone(), projector, RunnerConfig::default()).catch_up().await.unwrap();
        }
    }
}
