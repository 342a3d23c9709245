//! The command side: loads aggregates from the event store, asks the pure `domain` to decide,
//! and appends the resulting events atomically with expected versions and idempotency keys.
//!
//! It never writes a table other than through the event store, and it holds no business rule:
//! every rule lives in `domain`.

mod error;
mod top_ups;
mod users;
mod wallet;

pub use error::CommandError;
pub use top_ups::{TopUpOutcome, TopUps, top_up_stream};
pub use users::{RegisteredUser, Registration, Users, email_stream, user_stream, username_stream};
pub use wallet::{CommandContext, CommandOutcome, WalletCommands, load_wallet, wallet_stream};

use event_store::Upcasters;

/// The event store's upcasters for every event the domain has ever stored.
pub fn upcasters() -> Upcasters {
    let mut upcasters = Upcasters::new();
    for step in domain::schema::UPCASTS {
        upcasters.register(step.event_type, step.from_version, step.upcast);
    }
    upcasters
}
