//! The read side: projectors that fold the event log into read-model tables, the queries that
//! read those tables (beside their projectors, in each context's module), and the runtime that
//! keeps them current — catching up from the event store, following NATS JetStream live (one
//! subscription per process, shared), and rebuilding into shadow tables that are swapped in whole.
//!
//! A projector writes only its own tables, and always together with its checkpoint in one
//! transaction, so every event takes effect exactly once. Read models are disposable: a rebuild
//! from the log gives the same rows.

pub mod catalogue;
pub mod chat;
pub mod commerce;
mod error;
pub mod gifts;
pub mod invoicing;
pub mod notifications;
mod live;
mod rebuild;
pub mod rooms;
mod runtime;
pub mod social;
pub mod users;
pub mod wallet;
pub mod writes;

use std::sync::Arc;

use domain::kernel::DomainEvent;
use event_store::RecordedEvent;
use sqlx::MySqlPool;

pub use error::ProjectionError;
pub use live::{Chunk, LiveConfig, LiveFeed};
pub use rebuild::{RebuildReport, rebuild};
pub use runtime::{BoxFuture, Prepared, Projections, Projector, ProjectorRunner, RunnerConfig, Tables, checkpoint, handles, lock_name, sleep_or_shutdown};

/// Every projector of the system, in the order operators see them: one line per context.
pub fn all() -> Vec<Arc<dyn Projector>> {
    [wallet::projectors(), users::projectors(), catalogue::projectors(), commerce::projectors(), invoicing::projectors(), rooms::projectors(), social::projectors(), gifts::projectors(), chat::projectors(), notifications::projectors()].concat()
}

/// The projector with this name (an operator's argument).
pub fn by_name(name: &str) -> Option<Arc<dyn Projector>> {
    all().into_iter().find(|p| p.name() == name)
}

/// What the API reads, one field per context.
#[derive(Clone)]
pub struct Queries {
    pub wallet: wallet::queries::WalletQueries,
    pub users: users::queries::UserQueries,
    pub catalogue: catalogue::queries::CatalogueQueries,
    pub commerce: commerce::queries::CommerceQueries,
    pub invoicing: invoicing::queries::InvoiceQueries,
    pub rooms: rooms::queries::RoomQueries,
    pub room_chat: rooms::chat::RoomChatQueries,
    pub social: social::queries::SocialQueries,
    pub gifts: gifts::queries::GiftQueries,
    pub chat: chat::queries::ChatQueries,
    pub notifications: notifications::queries::NotificationQueries,
}

impl Queries {
    pub fn new(pool: MySqlPool, projections: &Projections) -> Self {
        Self {
            wallet: wallet::queries::WalletQueries::new(pool.clone(), projections.applied(wallet::WalletProjector::NAME)),
            users: users::queries::UserQueries::new(pool.clone()),
            catalogue: catalogue::queries::CatalogueQueries::new(pool.clone(), projections.applied(catalogue::CatalogueProjector::NAME)),
            commerce: commerce::queries::CommerceQueries::new(pool.clone()),
            invoicing: invoicing::queries::InvoiceQueries::new(pool.clone()),
            rooms: rooms::queries::RoomQueries::new(pool.clone(), projections.applied(rooms::ConsultationsProjector::NAME)),
            room_chat: rooms::chat::RoomChatQueries::new(pool.clone()),
            social: social::queries::SocialQueries::new(pool.clone(), projections.applied(social::SocialProjector::NAME)),
            gifts: gifts::queries::GiftQueries::new(pool.clone()),
            chat: chat::queries::ChatQueries::new(pool.clone()),
            notifications: notifications::queries::NotificationQueries::new(pool),
        }
    }
}

/// Positions after `after` up to `upto`, included: a range whose pushes the WebSocket gateway
/// reads, for everyone or for one audience (a user, a room).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Range {
    pub after: u64,
    pub upto: u64,
}

impl Range {
    /// Binds the range's two ends, then the audience when there is one.
    pub(crate) fn bind<'q>(
        self,
        query: sqlx::query::Query<'q, sqlx::MySql, sqlx::mysql::MySqlArguments>,
        audience: Option<uuid::Uuid>,
    ) -> sqlx::query::Query<'q, sqlx::MySql, sqlx::mysql::MySqlArguments> {
        let query = query.bind(self.after).bind(self.upto);
        match audience {
            Some(id) => query.bind(id),
            None => query,
        }
    }
}

/// A recorded event as `E`, or `None` when it is not one of `E`'s.
pub(crate) fn decode<E: DomainEvent>(event: &RecordedEvent) -> Result<Option<E>, ProjectionError> {
    if !E::declares(&event.event_type) {
        return Ok(None);
    }
    E::decode(&event.event_type, event.schema_version, &event.payload)
        .map(Some)
        .map_err(|e| ProjectionError::Decode { position: event.position, reason: e.to_string() })
}



