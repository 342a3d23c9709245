use crate::{ExpectedVersion, StreamRef};

#[derive(Debug, thiserror::Error)]
pub enum EventStoreError {
    #[error("stream {stream} is at version {actual}, the append expected {expected:?}")]
    Conflict { stream: StreamRef, expected: ExpectedVersion, actual: u64 },
    #[error("invalid append: {0}")]
    InvalidRequest(String),
    #[error("event store unavailable")]
    Unavailable(#[from] sqlx::Error),
    #[error("event at position {position} is corrupt: {reason}")]
    Corrupt { position: u64, reason: String },
    #[error("cannot upcast {event_type} from schema version {schema_version}: {reason}")]
    Upcast { event_type: String, schema_version: u16, reason: String },
    #[error("the append writer has stopped")]
    WriterStopped,
    /// The database was found down (the last probe failed): refused at once, nothing written.
    #[error("the database is down")]
    DatabaseDown,
    /// The database failed while committing: the append may or may not have been written.
    /// Repeating it with the same idempotency key is safe, and tells.
    #[error("the outcome of the append is unknown: {0}")]
    OutcomeUnknown(String),
}

impl EventStoreError {
    pub fn is_conflict(&self) -> bool {
        matches!(self, Self::Conflict { .. })
    }
}
