use domain::top_up::TopUpError;
use domain::user::UserError;
use domain::wallet::WalletError;
use event_store::EventStoreError;

/// Why a command did not take effect. Clone, because one store outage answers every command
/// waiting on it.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum CommandError {
    /// The business said no; nothing was appended.
    #[error(transparent)]
    Rejected(#[from] WalletError),
    /// The top-up (or the provider's notification about it) was refused; nothing was appended.
    #[error(transparent)]
    TopUpRejected(#[from] TopUpError),
    /// The stream kept changing under us, past the retry limit.
    #[error("too many concurrent changes to {0}; try again")]
    Contention(String),
    #[error("event store unavailable: {0}")]
    Unavailable(String),
    /// A stored event could not be decoded: an operator must look.
    #[error("stored events are corrupt: {0}")]
    Corrupt(String),
    /// The command layer built an append the store refused: a bug.
    #[error("internal error: {0}")]
    Internal(String),
    /// A user command was refused by the business; nothing was appended.
    #[error(transparent)]
    UserRejected(#[from] UserError),
    /// Another user holds this email; nothing was appended.
    #[error("the email address is already registered")]
    EmailTaken,
    /// Another user holds this username; nothing was appended.
    #[error("the username is already taken")]
    UsernameTaken,
}

impl From<&EventStoreError> for CommandError {
    fn from(error: &EventStoreError) -> Self {
        match error {
            EventStoreError::Conflict { stream, .. } => Self::Contention(stream.to_string()),
            EventStoreError::Unavailable(_) | EventStoreError::WriterStopped => Self::Unavailable(error.to_string()),
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
