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
}

impl EventStoreError {
    pub fn is_conflict(&self) -> bool {
        matches!(self, Self::Conflict { .. })
    }
}
