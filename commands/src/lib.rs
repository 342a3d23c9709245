//! The command side: loads aggregates from the event store, asks the pure `domain` to decide,
//! and appends the resulting events atomically with expected versions and idempotency keys.
//! `kernel` is the one path every command takes; each context (`users`, `wallet`, `catalogue`,
//! `commerce`, `invoicing`, `rooms`, `social`, `gifts`, `chat`, …) adds its
//! commands on top of it.
//!
//! It never writes a table other than through the event store, and it holds no business rule:
//! every rule lives in `domain`.

pub mod catalogue;
pub mod chat;
mod clock;
pub mod commerce;
mod context;
pub mod gifts;
pub mod invoicing;
mod error;
pub mod kernel;
pub mod notifications;
pub mod rooms;
pub mod social;
pub mod stream;
pub mod users;
pub mod wallet;
mod workers;

pub use clock::Clock;
pub use context::CommandContext;
pub use error::CommandError;
pub use kernel::{Kernel, Transacted, UnitOfWork};
pub use stream::{Loaded, Stream};
pub use workers::{Outcome, Workers};

use event_store::{DataKeys, EventStore, Upcasters};
use sqlx::MySqlPool;

/// A decision on stale state is retried at most this often before the command gives up.
pub const CONFLICT_RETRIES_MAX: u32 = 8;

/// The event store's upcasters for every event any context has ever stored.
pub fn upcasters() -> Upcasters {
    let mut upcasters = Upcasters::new();
    for context in domain::CONTEXTS {
        for step in context.upcasts {
            upcasters.register(step.event_type, step.from_version, step.upcast);
        }
    }
    upcasters
}

/// The event store as every process opens it: the registries' upcasters, and personal data
/// sealed with keys unwrapped by `data_key_secret` (`DATA_KEY_SECRET`).
pub async fn open_store(pool: MySqlPool, data_key_secret: &str) -> Result<EventStore, event_store::EventStoreError> {
    let keys = DataKeys::new(pool.clone(), data_key_secret);
    Ok(EventStore::start(pool, upcasters()).await?.with_data_keys(keys))
}

/// Every context's command handler: one field per context.
#[derive(Clone)]
pub struct Commands {
    pub kernel: Kernel,
    pub users: users::Users,
    pub wallet: wallet::Wallets,
    pub catalogue: catalogue::Catalogue,
    pub commerce: commerce::Commerce,
    pub invoicing: invoicing::Invoicing,
    pub rooms: rooms::Rooms,
    pub social: social::Social,
    pub gifts: gifts::Gifts,
    pub chat: chat::Chat,
    pub notifications: notifications::Notifications,
}

impl Commands {
    /// With the default commerce settings.
    pub fn new(store: EventStore) -> Self {
        Self::with_settings(store, commerce::CommerceSettings::default())
    }

    pub fn with_settings(store: EventStore, commerce: commerce::CommerceSettings) -> Self {
        let kernel = Kernel::new(store);
        Self {
            users: users::Users::new(kernel.clone()),
            wallet: wallet::Wallets::new(kernel.clone()),
            catalogue: catalogue::Catalogue::new(kernel.clone()),
            commerce: commerce::Commerce::new(kernel.clone(), commerce),
            invoicing: invoicing::Invoicing::new(kernel.clone()),
            rooms: rooms::Rooms::new(commerce::Commerce::new(kernel.clone(), commerce)),
            social: social::Social::new(kernel.clone()),
            gifts: gifts::Gifts::new(commerce::Commerce::new(kernel.clone(), commerce)),
            chat: chat::Chat::new(kernel.clone()),
            notifications: notifications::Notifications::new(kernel.clone()),
            kernel,
        }
    }
}
