//! Why a run could not do its work, sorted into the kinds the exit codes tell apart. The codes are
//! the ones `ispeaker-api` uses too (README, "Exit codes"), so a script or a supervisor reads
//! either binary's status the same way.

use std::fmt;

use commands::CommandError;
use event_store::EventStoreError;

/// The exit codes of both binaries, as `--help` shows them.
pub const EXIT_CODES_HELP: &str = "\
Exit codes (the same for ispeaker-api):
  0  done; every check passed
  1  a check found a mismatch, or the wallet or stream asked for does not exist
  2  usage or configuration error: a missing or malformed argument or setting
  3  the database is unreachable (refused, timed out, login refused)
  4  the database schema is not migrated, or stored events are corrupt
  5  any other failure";

/// What kind of failure ended a run; each has its exit code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailureKind {
    /// A missing or malformed argument or setting.
    Usage,
    /// The database could not be reached or refused the login.
    DatabaseUnreachable,
    /// The database answers but cannot be used as it is: its schema is not migrated, or stored
    /// events are corrupt.
    Store,
    /// Anything else, for instance the connection dropping mid-run.
    Other,
}

impl FailureKind {
    pub fn code(self) -> u8 {
        match self {
            FailureKind::Usage => 2,
            FailureKind::DatabaseUnreachable => 3,
            FailureKind::Store => 4,
            FailureKind::Other => 5,
        }
    }
}

/// A run that could not do its work: what kind of failure, and the whole chain of causes.
#[derive(Debug)]
pub struct Failure {
    pub kind: FailureKind,
    error: anyhow::Error,
}

impl Failure {
    pub fn new(kind: FailureKind, error: impl Into<anyhow::Error>) -> Self {
        Self { kind, error: error.into() }
    }

    pub fn usage(message: impl fmt::Display) -> Self {
        Self::new(FailureKind::Usage, anyhow::anyhow!("{message}"))
    }

    pub fn code(&self) -> u8 {
        self.kind.code()
    }
}

/// The message and every cause, on one line: "context: cause: cause".
impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#}", self.error)
    }
}

/// An error from the work itself is sorted by the first cause in its chain that tells.
impl From<anyhow::Error> for Failure {
    fn from(error: anyhow::Error) -> Self {
        let kind = error.chain().find_map(kind_of).unwrap_or(FailureKind::Other);
        Self { kind, error }
    }
}

fn kind_of(cause: &(dyn std::error::Error + 'static)) -> Option<FailureKind> {
    if let Some(error) = cause.downcast_ref::<sqlx::Error>() {
        return kind_of_sqlx(error);
    }
    if let Some(error) = cause.downcast_ref::<EventStoreError>() {
        return match error {
            EventStoreError::Corrupt { .. } | EventStoreError::Upcast { .. } => Some(FailureKind::Store),
            // Unavailable carries its sqlx error as its source: the next cause tells.
            _ => None,
        };
    }
    match cause.downcast_ref::<CommandError>() {
        Some(CommandError::Corrupt(_)) => Some(FailureKind::Store),
        _ => None,
    }
}

/// MySQL's SQLSTATEs for a table or a column that does not exist: a schema behind the code.
const SQLSTATES_NOT_MIGRATED: [&str; 2] = ["42S02", "42S22"];
/// MySQL's SQLSTATE for a refused login.
const SQLSTATE_ACCESS_DENIED: &str = "28000";

pub(crate) fn kind_of_sqlx(error: &sqlx::Error) -> Option<FailureKind> {
    match error {
        sqlx::Error::Io(_) | sqlx::Error::Tls(_) | sqlx::Error::PoolTimedOut => Some(FailureKind::DatabaseUnreachable),
        sqlx::Error::Configuration(_) => Some(FailureKind::Usage),
        sqlx::Error::Migrate(_) => Some(FailureKind::Store),
        sqlx::Error::Database(database) => match database.code()?.as_ref() {
            code if SQLSTATES_NOT_MIGRATED.contains(&code) => Some(FailureKind::Store),
            SQLSTATE_ACCESS_DENIED => Some(FailureKind::DatabaseUnreachable),
            _ => None,
        },
        _ => None,
    }
}
