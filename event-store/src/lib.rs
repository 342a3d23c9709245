//! The event store on MariaDB/MySQL: the single source of truth of the system.
//!
//! It appends events atomically to one or several streams with expected versions and durable
//! idempotency keys, hands out gap-free global positions equal to commit order, chains every event
//! to the previous one with SHA-256, and reads streams or the whole log back through schema
//! upcasters. It also hosts the relay that publishes the log to NATS JetStream.
//!
//! It never updates or deletes an event, and it knows nothing of the business: payloads are JSON.

mod error;
mod hash;
mod model;
mod recent;
pub mod relay;
mod store;
mod upcast;
mod writer;

pub use error::EventStoreError;
pub use hash::{GENESIS_HASH, chain_hash};
pub use model::{
    AppendOutcome, AppendRequest, EventMetadata, ExpectedVersion, NewEvent, RecordedEvent, StoredEvent, StreamAppend,
    StreamRef,
};
pub use store::{EventStore, Head, READ_BATCH_MAX};
pub use upcast::{UpcastFn, Upcasters};
