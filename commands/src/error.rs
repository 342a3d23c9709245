use domain::kernel::Rejected;
use event_store::EventStoreError;

/// Why a command did not take effect. Clone, because one store outage answers every command
/// waiting on it.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum CommandError {
    /// The business said no; nothing was appended.
    #[error("rejected: {0}")]
    Rejected(Rejected),
    /// The streams kept changing under us, past the retry limit.
    #[error("too many concurrent changes to {0}; try again")]
    Contention(String),
    /// Nothing was written: the store is unreachable.
    #[error("event store unavailable: {0}")]
    Unavailable(String),
    /// The store failed while committing: the command may or may not have taken effect. Repeating
    /// it with the same idempotency key is safe and tells which.
    #[error("outcome unknown: {0}")]
    OutcomeUnknown(String),
    /// A stored event could not be decoded: an operator must look.
    #[error("stored events are corrupt: {0}")]
    Corrupt(String),
    /// The command layer built an append the store refused: a bug.
    #[error("internal error: {0}")]
    Internal(String),
}

impl CommandError {
    pub fn rejected(rejection: impl domain::kernel::Rejection) -> Self {
        CommandError::Rejected(rejection.rejected())
    }

    /// Whether this is that rejection.
    pub fn is(&self, rejection: &impl domain::kernel::Rejection) -> bool {
        matches!(self, CommandError::Rejected(rejected) if rejected.is(rejection))
    }
}

impl From<Rejected> for CommandError {
    fn from(rejection: Rejected) -> Self {
        CommandError::Rejected(rejection)
    }
}

impl From<&EventStoreError> for CommandError {
    fn from(error: &EventStoreError) -> Self {
        match error {
            EventStoreError::Conflict { stream, .. } => Self::Contention(stream.to_string()),
            EventStoreError::Unavailable(_) | EventStoreError::WriterStopped | EventStoreError::DatabaseDown => Self::Unavailable(error.to_string()),
            EventStoreError::OutcomeUnknown(reason) => Self::OutcomeUnknown(reason.clone()),
            EventStoreError::Corrupt { .. } | EventStoreError::Upcast { .. } => Self::Corrupt(error.to_string()),
            EventStoreError::InvalidRequest(_) => Self::Internal(error.to_string()),
        }
    }
}

impl From<EventStoreError> for CommandError {
    fn from(error: EventStoreError) -> Self {
        Self::from(&error)
    }
}
