//! `ispeaker-replay`: the operators' and auditors' tool over the event log. It rebuilds read
//! models from the log, audits every wallet against the log and its own journal entries, verifies
//! the SHA-256 hash chain and prints the digest auditors publish, answers "what was this wallet's
//! balance at time T" by replaying, and exports a stream.
//!
//! It never updates or deletes an event, and it never changes the schema (it refuses to run on a
//! database whose migrations are not applied). It writes rebuilds of read models, which
//! `projections::rebuild` swaps in whole, and `settle` appends the releases of due earnings
//! through the same wallet commands as the server's scheduler.
//!
//! How a run ended is its exit code, the same table as `ispeaker-api`'s (`EXIT_CODES_HELP`): 0
//! done, 1 a check found a mismatch or what was asked for does not exist, 2 a usage or
//! configuration error, 3 the database unreachable, 4 the schema not migrated or events corrupt,
//! 5 anything else.

mod audit;
mod balance;
mod chain;
mod export;
mod failure;
mod progress;
mod rebuild;
mod settle;
mod vat;

pub use failure::{EXIT_CODES_HELP, Failure, FailureKind};

use std::io::Write;
use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Utc};
use clap::builder::PossibleValuesParser;
use clap::{ArgGroup, Args, Parser, Subcommand};
use event_store::EventStore;
use rust_decimal::Decimal;
use sqlx::mysql::{MySqlConnectOptions, MySqlPoolOptions};
use sqlx::{ConnectOptions, Connection, MySqlPool};
use uuid::Uuid;

use crate::progress::Progress;

/// Connections the tool opens: it works sequentially, one query at a time, plus the rebuild's own.
const POOL_CONNECTIONS_MAX: u32 = 4;
/// How long to wait for the database to answer before giving up with a clear message.
const CONNECT_TIMEOUT_MS: u64 = 5_000;
/// The URL schemes of a MariaDB or MySQL server. sqlx would read any other URL as a MySQL one
/// and fail later with a message about something else.
const DATABASE_URL_SCHEMES: [&str; 2] = ["mysql://", "mariadb://"];

/// Rebuild read models, audit wallets, verify the event log's hash chain.
///
/// Reads DATABASE_URL and DATA_KEY_SECRET from the environment or from a .env file in the
/// current directory or above (as ispeaker-api does); the flags override both.
#[derive(Debug, Parser)]
#[command(name = "ispeaker-replay", version, after_help = EXIT_CODES_HELP)]
pub struct Cli {
    /// MariaDB URL of the event store, e.g. mysql://user:password@host:3306/ispeaker.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true, global = true)]
    pub database_url: Option<String>,

    /// The server's DATA_KEY_SECRET: needed to read personal data (rebuilding the users read
    /// model, exporting a user); audits and the chain check do without.
    #[arg(long, env = "DATA_KEY_SECRET", hide_env_values = true, global = true)]
    pub data_key_secret: Option<String>,

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
    VerifyChain(VerifyChainArgs),
    /// The VAT report of a period from the invoices, reconciled with the ledger's postings of the
    /// same period (VAT payable, and the net of sales).
    VatReport(VatReportArgs),
    /// A wallet's balances as they were at a moment, replayed from its events.
    Balance(BalanceArgs),
    /// Print one stream's events as JSON lines, in version order.
    Export(ExportArgs),
    /// Release every speaker's pending earnings that are due now, as the server's scheduler
    /// does at its next tick (the wallet read model says which wallets have some).
    Settle,
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
pub struct VerifyChainArgs {
    /// A digest published earlier, `POSITION:HASH` (as `GET /admin/ledger/digest` gives it): the
    /// chain must still pass through exactly that hash at that position.
    #[arg(long, value_parser = parse_digest)]
    pub digest: Option<(u64, [u8; 32])>,
}

#[derive(Debug, Args)]
pub struct VatReportArgs {
    /// From this instant on: RFC 3339, or a date meaning 00:00 Asia/Riyadh.
    #[arg(long, value_parser = parse_instant)]
    pub from: DateTime<Utc>,
    /// Up to, not including, this instant.
    #[arg(long, value_parser = parse_instant)]
    pub to: DateTime<Utc>,
    /// One CSV row per invoice and credit note instead of the report.
    #[arg(long)]
    pub csv: bool,
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

/// Runs one command, writing its report to `out`. A failure is a usage, connection, schema or
/// database error, sorted by kind for the exit code; what a check finds is reported in `out`
/// and in the status.
pub async fn run(cli: Cli, out: &mut dyn Write) -> Result<ExitStatus, Failure> {
    let url = cli
        .database_url
        .as_deref()
        .ok_or_else(|| Failure::usage("no database given: set DATABASE_URL (in the environment or .env) or pass --database-url"))?;
    let pool = connect(url).await?;
    check_schema(&pool).await?;
    let store = EventStore::start(pool.clone(), commands::upcasters())
        .await
        .context("cannot read the event store's head")?;
    let store = match &cli.data_key_secret {
        Some(secret) => store.with_data_keys(event_store::DataKeys::new(pool.clone(), secret)),
        None => store,
    };
    let progress = Progress::new(cli.quiet);
    let status = match cli.command {
        Command::Rebuild(args) => rebuild::rebuild(&store, &args, &progress, out).await,
        Command::Audit { target: AuditTarget::Wallet(args) } => audit::audit_wallets(&store, &args, &progress, out).await,
        Command::VerifyChain(args) => chain::verify_chain(&store, args.digest, &progress, out).await,
        Command::VatReport(args) => vat::vat_report(&store, &pool, &args, &progress, out).await,
        Command::Balance(args) => balance::balance(&store, &args, out).await,
        Command::Export(args) => export::export(&store, &args, out).await,
        Command::Settle => settle::settle(&store, &pool, out).await,
    };
    drop(store);
    pool.close().await;
    Ok(status?)
}

/// A pool on the database, once one connection has shown that it answers. The URL carries a
/// password, so it is never part of a message: only its host and port, or its socket, are.
async fn connect(url: &str) -> Result<MySqlPool, Failure> {
    if !DATABASE_URL_SCHEMES.iter().any(|scheme| url.starts_with(scheme)) {
        let scheme = url.split_once("://").map_or("a URL without a scheme".to_owned(), |(scheme, _)| format!("a {scheme}:// URL"));
        return Err(Failure::usage(format!(
            "the database URL must start with mysql:// or mariadb:// (the event store is MariaDB), not {scheme}"
        )));
    }
    let options = MySqlConnectOptions::from_str(url).map_err(|error| Failure::usage(format!("the database URL is malformed: {error}")))?;
    let place = match options.get_socket() {
        Some(socket) => socket.display().to_string(),
        None => format!("{}:{}", options.get_host(), options.get_port()),
    };
    // One connection first, outside the pool: a pool retries a refused connection until its
    // timeout and then reports only that it timed out, hiding the reason.
    let cannot_connect = |reason: String| Failure::new(FailureKind::DatabaseUnreachable, anyhow::anyhow!("cannot connect to the database at {place}: {reason}"));
    match tokio::time::timeout(Duration::from_millis(CONNECT_TIMEOUT_MS), options.connect()).await {
        Err(_) => return Err(cannot_connect(format!("no answer within {CONNECT_TIMEOUT_MS} ms"))),
        Ok(Err(sqlx::Error::Io(error))) => return Err(cannot_connect(error.to_string())),
        Ok(Err(sqlx::Error::Database(error))) => return Err(cannot_connect(error.message().to_owned())),
        Ok(Err(error)) => return Err(Failure::from(anyhow::Error::new(error).context(format!("cannot connect to the database at {place}")))),
        Ok(Ok(connection)) => {
            let _ = connection.close().await;
        }
    }
    Ok(MySqlPoolOptions::new()
        .max_connections(POOL_CONNECTIONS_MAX)
        .acquire_timeout(Duration::from_millis(CONNECT_TIMEOUT_MS))
        .connect_lazy_with(options))
}

/// Refuses a database whose schema is not fully migrated: this tool reads the tables the
/// migrations create and must never create or alter them itself.
async fn check_schema(pool: &MySqlPool) -> Result<(), Failure> {
    let behind = |message: String| Failure::new(FailureKind::Store, anyhow::anyhow!(message));
    let has_migrations_table: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = '_sqlx_migrations'",
    )
    .fetch_one(pool)
    .await
    .context("cannot inspect the database schema")?;
    if has_migrations_table == 0 {
        return Err(behind(
            "the database has no migrated schema (no _sqlx_migrations table): apply the migrations first \
             (ispeaker-api applies them when it starts); this tool never changes the schema"
                .to_owned(),
        ));
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
        return Err(behind(format!(
            "the database schema is behind: migrations not applied: {}; apply them first \
             (ispeaker-api applies them when it starts), this tool never changes the schema",
            missing.join(", ")
        )));
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

fn parse_instant(text: &str) -> Result<DateTime<Utc>, String> {
    domain::kernel::riyadh::parse_instant(text).ok_or_else(|| "not an RFC 3339 time such as 2026-03-01T00:00:00Z, nor a date such as 2026-03-01".to_owned())
}

fn parse_digest(text: &str) -> Result<(u64, [u8; 32]), String> {
    let refused = || "not a digest POSITION:HASH, such as 1234:9f2c… (64 hex digits)".to_owned();
    let (position, hash) = text.trim().split_once(':').ok_or_else(refused)?;
    let position = position.parse::<u64>().ok().filter(|position| *position > 0).ok_or_else(refused)?;
    let mut bytes = [0u8; 32];
    hex::decode_to_slice(hash, &mut bytes).map_err(|_| refused())?;
    Ok((position, bytes))
}

/// An amount as auditors read it: always two decimals.
pub(crate) fn sar(amount: Decimal) -> String {
    format!("{amount:.2}")
}

pub(crate) fn rfc3339(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}
