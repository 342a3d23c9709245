//! `ispeaker-api`: reads settings, starts the application, serves until SIGTERM. A multi-threaded
//! Tokio runtime, so the background (writers, wallet workers, relay, projectors) uses every core;
//! actix-web runs its own HTTP workers beside it.
//!
//! Before it migrates or seeds anything it checks what it can: the settings, that HTTP_ADDR can
//! be bound and that the database answers, so a mistake stops it with one plain message and
//! leaves the database as it was. Its exit code says why it stopped, the same table as
//! `ispeaker-replay`'s (README, "Exit codes"; `HELP`).

use std::net::SocketAddr;
use std::process::ExitCode;
use std::str::FromStr;
use std::time::Duration;

use api::{Application, Settings};
use commands::CommandError;
use event_store::EventStoreError;
use sqlx::mysql::MySqlConnectOptions;
use sqlx::{ConnectOptions, Connection};
use tracing_subscriber::EnvFilter;

/// Requests allocate many small short-lived objects across threads; mimalloc serves them with
/// far less time in the allocator than the system's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const HELP: &str = "\
ispeaker-api: the iSpeaker Live HTTP API.

Usage: ispeaker-api

Takes no arguments. Settings come from the environment, then from a .env file in the current
directory or above (the README's \"Configuration\" lists them). It applies the migrations, serves on
HTTP_ADDR and stops cleanly on SIGTERM (draining requests) or SIGINT.

Exit codes (the same for ispeaker-replay):
  0  stopped cleanly
  1  (ispeaker-replay only: a check found a mismatch, or what was asked for does not exist)
  2  usage or configuration error: a missing or malformed setting, or HTTP_ADDR cannot be bound
  3  the database is unreachable (refused, timed out, login refused)
  4  the migrations failed, or stored events are corrupt
  5  any other failure";

/// How long the database has to answer the first connection.
const DATABASE_CONNECT_TIMEOUT_MS: u64 = 5_000;

/// Why the process stops with an error: the exit codes of README's table.
#[derive(Clone, Copy, Debug)]
enum Exit {
    Usage = 2,
    DatabaseUnreachable = 3,
    Store = 4,
    Other = 5,
}

struct Failure {
    exit: Exit,
    message: String,
}

impl Failure {
    fn new(exit: Exit, message: impl Into<String>) -> Self {
        Self { exit, message: message.into() }
    }
}

impl From<anyhow::Error> for Failure {
    fn from(error: anyhow::Error) -> Self {
        Self { exit: exit_for(&error), message: format!("{error:#}") }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    // First, so that RUST_LOG and LOG_FORMAT in .env apply to the logs as well.
    let _ = dotenvy::dotenv();
    if let Some(argument) = std::env::args().nth(1) {
        return match argument.as_str() {
            "-h" | "--help" => {
                println!("{HELP}");
                ExitCode::SUCCESS
            }
            "-V" | "--version" => {
                println!("ispeaker-api {}", env!("CARGO_PKG_VERSION"));
                ExitCode::SUCCESS
            }
            _ => {
                eprintln!("ispeaker-api takes no arguments (got {argument:?}); settings come from the environment or .env; see --help");
                ExitCode::from(Exit::Usage as u8)
            }
        };
    }
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    if std::env::var("LOG_FORMAT").is_ok_and(|f| f == "json") {
        tracing_subscriber::fmt().json().with_env_filter(filter).init();
    } else {
        tracing_subscriber::fmt().with_env_filter(filter).init();
    }
    let application = match start().await {
        Ok(application) => application,
        Err(failure) => {
            eprintln!("ispeaker-api cannot start: {}", failure.message);
            return ExitCode::from(failure.exit as u8);
        }
    };
    tracing::info!(port = application.port(), "ispeaker-api listening");
    match application.run_until_stopped().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            let failure = Failure::from(error);
            eprintln!("ispeaker-api stopped on an error: {}", failure.message);
            ExitCode::from(failure.exit as u8)
        }
    }
}

async fn start() -> Result<Application, Failure> {
    let settings = Settings::from_env().map_err(|error| Failure::new(Exit::Usage, error.to_string()))?;
    check_http_addr_free(settings.http_addr)?;
    check_database_answers(&settings.database_url).await?;
    Ok(Application::build(settings).await?)
}

/// Binds HTTP_ADDR for a moment: the application binds it only after migrating and seeding, and
/// a taken port should stop start-up before it changes anything.
fn check_http_addr_free(address: SocketAddr) -> Result<(), Failure> {
    if address.port() == 0 {
        return Ok(());
    }
    std::net::TcpListener::bind(address).map(drop).map_err(|error| {
        Failure::new(
            Exit::Usage,
            format!(
                "HTTP_ADDR {address} cannot be bound: {error}; stop what is using port {} or set HTTP_ADDR to another port",
                address.port()
            ),
        )
    })
}

/// One connection outside the pool, so an unreachable database is reported at once with its
/// reason: a pool retries a refused connection until its timeout and then reports only that it
/// timed out. The URL carries a password, so only its host and port, or its socket, are named.
async fn check_database_answers(url: &str) -> Result<(), Failure> {
    let options = MySqlConnectOptions::from_str(url)
        .map_err(|error| Failure::new(Exit::Usage, format!("setting DATABASE_URL is malformed: {error}")))?;
    let place = match options.get_socket() {
        Some(socket) => socket.display().to_string(),
        None => format!("{}:{}", options.get_host(), options.get_port()),
    };
    let cannot_connect = |reason: String| Failure::new(Exit::DatabaseUnreachable, format!("cannot connect to the database at {place}: {reason}"));
    match tokio::time::timeout(Duration::from_millis(DATABASE_CONNECT_TIMEOUT_MS), options.connect()).await {
        Err(_) => Err(cannot_connect(format!("no answer within {DATABASE_CONNECT_TIMEOUT_MS} ms"))),
        Ok(Err(sqlx::Error::Io(error))) => Err(cannot_connect(error.to_string())),
        Ok(Err(sqlx::Error::Database(error))) => Err(cannot_connect(error.message().to_owned())),
        Ok(Err(error)) => Err(cannot_connect(error.to_string())),
        Ok(Ok(connection)) => {
            let _ = connection.close().await;
            Ok(())
        }
    }
}

/// MySQL's SQLSTATEs for a table or a column that does not exist: a schema behind the code.
const SQLSTATES_NOT_MIGRATED: [&str; 2] = ["42S02", "42S22"];

/// The exit code of an error from building or running the application: the first cause in its
/// chain that tells.
fn exit_for(error: &anyhow::Error) -> Exit {
    for cause in error.chain() {
        if cause.is::<sqlx::migrate::MigrateError>() {
            return Exit::Store;
        }
        if let Some(error) = cause.downcast_ref::<sqlx::Error>() {
            match error {
                sqlx::Error::Io(_) | sqlx::Error::Tls(_) | sqlx::Error::PoolTimedOut => return Exit::DatabaseUnreachable,
                sqlx::Error::Migrate(_) => return Exit::Store,
                sqlx::Error::Database(database) if database.code().is_some_and(|code| SQLSTATES_NOT_MIGRATED.contains(&code.as_ref())) => {
                    return Exit::Store;
                }
                _ => {}
            }
        }
        if let Some(EventStoreError::Corrupt { .. } | EventStoreError::Upcast { .. }) = cause.downcast_ref::<EventStoreError>() {
            return Exit::Store;
        }
        if let Some(CommandError::Corrupt(_)) = cause.downcast_ref::<CommandError>() {
            return Exit::Store;
        }
        // Binding HTTP_ADDR, should the port be taken after the check above.
        if let Some(error) = cause.downcast_ref::<std::io::Error>()
            && matches!(error.kind(), std::io::ErrorKind::AddrInUse | std::io::ErrorKind::AddrNotAvailable)
        {
            return Exit::Usage;
        }
    }
    Exit::Other
}
