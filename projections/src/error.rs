use event_store::EventStoreError;

#[derive(Debug, thiserror::Error)]
pub enum ProjectionError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Store(#[from] EventStoreError),
    #[error("event at position {position} cannot be projected: {reason}")]
    Decode { position: u64, reason: String },
    #[error("expected position {expected} next, got {got}")]
    Hole { expected: u64, got: u64 },
    #[error("timed out waiting for the lock of projector {0}")]
    LockTimeout(String),
}
