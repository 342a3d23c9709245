//! The event store on MariaDB/MySQL: the single source of truth of the system.
//!
//! It appends events atomically to one or several streams with expected versions and durable
//! idempotency keys, hands out gap-free global positions equal to commit order, chains every event
//! to the previous one with SHA-256, and reads streams or the whole log back through schema
//! upcasters. Personal values in payloads are sealed with their subject's data key on the way in
//! and opened (or shown erased) on the way out. It also hosts the relay that publishes the log to
//! NATS JetStream.
//!
//! It never updates or deletes an event, and it knows nothing of the business: payloads are JSON.

mod availability;
mod error;
mod hash;
mod model;
pub mod personal;
mod recent;
pub mod relay;
mod store;
mod upcast;
mod writer;

pub use availability::{Availability, is_connection_failure};
pub use error::EventStoreError;
pub use hash::{GENESIS_HASH, chain_hash};
pub use model::{
    AppendOutcome, AppendRequest, EventMetadata, ExpectedVersion, NewEvent, RecordedEvent, StoredEvent, StreamAppend,
    StreamRef,
};
pub use store::{EventStore, Head, READ_BATCH_MAX};
pub use writer::COMMIT_TIMEOUT_MS;
pub use personal::DataKeys;
pub use upcast::{UpcastFn, Upcasters};
