//! `ispeaker-replay`: the operators' and auditors' tool over the event log. It rebuilds read
//! models from the log, audits every wallet against the log and its own journal entries, verifies
//! the SHA-256 hash chain and prints the digest auditors publish, answers "what was this wallet's
//! balance at time T" by replaying, and exports a stream.
//!
//! It never appends, updates or deletes an event, and it never changes the schema (it refuses to
//! run on a database whose migrations are not applied). Its only writes are rebuilds of read
//! models, which `projections::rebuild` swaps in whole.

mod audit;
mod balance;
mod chain;
mod export;
mod progress;
mod rebuild;

use std::io::Write;
use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Utc};
use clap::builder::PossibleValuesParser;
use clap::{ArgGroup, Args, Parser, Subcommand};
use event_store::EventStore;
use rust_decimal::Decimal;
use sqlx::MySqlPool;
use sqlx::mysql::MySqlPoolOptions;
use uuid::Uuid;

use crate::progress::Progress;

/// Connections the tool opens: it works sequentially, one query at a time, plus the rebuild's own.
const POOL_CONNECTIONS_MAX: u32 = 4;
/// How long to wait for a database connection before giving up with a clear message.
const CONNECT_TIMEOUT_SECONDS: u64 = 10;

/// Rebuild read models, audit wallets, verify the event log's hash chain.
///
/// Exit status: 0 when everything checked out, 1 when a check found a mismatch (or the wallet
/// asked for does not exist), 2 on a usage, connection or schema error.
#[derive(Debug, Parser)]
#[command(name = "ispeaker-replay", version)]
pub struct Cli {
    /// MariaDB URL of the event store, e.g. mysql://user:password@host:3306/ispeaker.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true, global = true)]
    pub database_url: Option<String>,

    /// Draw no progress bars (they are drawn on stderr, and only when it is a terminal).
    #[arg(long, short, global = true)]
    pub quiet: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Rebuild a projection's read-model tables from the whole log, then swap them in atomically.
    Rebuild(RebuildArgs),
    /// Check read models and recorded balances against the log.
    Audit {
        #[command(subcommand)]
        target: AuditTarget,
    },
    /// Recompute the SHA-256 hash chain over every event and compare it with the stored hashes
    /// and the head. Prints the digest to publish when the chain is intact.
    VerifyChain,
    /// A wallet's balances as they were at a moment, replayed from its events.
    Balance(BalanceArgs),
    /// Print one stream's events as JSON lines, in version order.
    Export(ExportArgs),
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("which").required(true).args(["projection", "all"])))]
pub struct RebuildArgs {
    /// The projection to rebuild.
    #[arg(value_parser = projection_names())]
    pub projection: Option<String>,
    /// Rebuild every projection, one after another.
    #[arg(long)]
    pub all: bool,
}

#[derive(Debug, Subcommand)]
pub enum AuditTarget {
    /// Recompute each wallet's balances from its postings alone and compare them with what the
    /// events recorded, with `wallet_transactions` and with `wallet_balances`.
    Wallet(AuditWalletArgs),
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("which").required(true).args(["user_id", "all"])))]
pub struct AuditWalletArgs {
    /// The wallet's owner (the wallet stream's id).
    pub user_id: Option<Uuid>,
    /// Audit every wallet in the log.
    #[arg(long)]
    pub all: bool,
}

#[derive(Debug, Args)]
pub struct BalanceArgs {
    /// The wallet's owner.
    pub user_id: Uuid,
    /// Count the events recorded at or before this moment (RFC 3339, e.g. 2026-03-01T00:00:00Z).
    #[arg(long, value_parser = parse_rfc3339)]
    pub as_of: DateTime<Utc>,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The stream's type, e.g. `wallet`.
    pub stream_type: String,
    /// The stream's id, e.g. a user id for a wallet.
    pub stream_id: String,
}

/// How a run ended, for the process exit status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitStatus {
    /// Everything checked out.
    Success,
    /// A check found a difference: an audit finding or a broken chain.
    Mismatch,
    /// The wallet or stream asked for does not exist (at that time).
    NotFound,
}

impl ExitStatus {
    pub fn code(self) -> u8 {
        match self {
            ExitStatus::Success => 0,
            ExitStatus::Mismatch | ExitStatus::NotFound => 1,
        }
    }
}

/// Runs one command, writing its report to `out`. Errors are usage, connection, schema or
/// database failures; what a check finds is reported in `out` and in the status.
pub async fn run(cli: Cli, out: &mut dyn Write) -> anyhow::Result<ExitStatus> {
    let url = cli
        .database_url
        .context("no database given: set DATABASE_URL or pass --database-url")?;
    let pool = connect(&url).await?;
    check_schema(&pool).await?;
    let store = EventStore::start(pool.clone(), commands::upcasters())
        .await
        .context("cannot read the event store's head")?;
    let progress = Progress::new(cli.quiet);
    let status = match cli.command {
        Command::Rebuild(args) => rebuild::rebuild(&store, &args, &progress, out).await,
        Command::Audit { target: AuditTarget::Wallet(args) } => audit::audit_wallets(&store, &args, &progress, out).await,
        Command::VerifyChain => chain::verify_chain(&store, &progress, out).await,
        Command::Balance(args) => balance::balance(&store, &args, out).await,
        Command::Export(args) => export::export(&store, &args, out).await,
    };
    drop(store);
    pool.close().await;
    status
}

async fn connect(url: &str) -> anyhow::Result<MySqlPool> {
    // The URL carries a password, so it is never part of a message.
    MySqlPoolOptions::new()
        .max_connections(POOL_CONNECTIONS_MAX)
        .acquire_timeout(Duration::from_secs(CONNECT_TIMEOUT_SECONDS))
        .connect(url)
        .await
        .context("cannot connect to the database given by DATABASE_URL / --database-url")
}

/// Refuses a database whose schema is not fully migrated: this tool reads the tables the
/// migrations create and must never create or alter them itself.
async fn check_schema(pool: &MySqlPool) -> anyhow::Result<()> {
    let has_migrations_table: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = '_sqlx_migrations'",
    )
    .fetch_one(pool)
    .await
    .context("cannot inspect the database schema")?;
    if has_migrations_table == 0 {
        anyhow::bail!(
            "the database has no migrated schema (no _sqlx_migrations table): apply the migrations first; \
             this tool never changes the schema"
        );
    }
    let applied: Vec<i64> = sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success = TRUE")
        .fetch_all(pool)
        .await
        .context("cannot read the applied migrations")?;
    let missing: Vec<String> = migrations::migrator()
        .iter()
        .filter(|m| !m.migration_type.is_down_migration() && !applied.contains(&m.version))
        .map(|m| format!("{} {}", m.version, m.description))
        .collect();
    if !missing.is_empty() {
        anyhow::bail!(
            "the database schema is behind: migrations not applied: {}; apply them first, this tool never changes the schema",
            missing.join(", ")
        );
    }
    Ok(())
}

fn projection_names() -> PossibleValuesParser {
    PossibleValuesParser::new(projections::all().iter().map(|p| p.name()).collect::<Vec<_>>())
}

fn parse_rfc3339(text: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(text)
        .map(|time| time.with_timezone(&Utc))
        .map_err(|e| format!("not an RFC 3339 time such as 2026-03-01T00:00:00Z: {e}"))
}

/// An amount as auditors read it: always two decimals.
pub(crate) fn sar(amount: Decimal) -> String {
    format!("{amount:.2}")
}

pub(crate) fn rfc3339(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}
