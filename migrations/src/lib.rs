//! The database schema as numbered SQL files, one DDL statement each (MariaDB DDL is not
//! transactional, so a failed file never leaves half a schema). Applied migrations are never
//! edited: a change is a new file.

/// The migrator over `migrations/sql`, embedded at build time; needs no database to build.
pub fn migrator() -> sqlx::migrate::Migrator {
    sqlx::migrate!("./sql")
}
