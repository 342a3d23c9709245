//! `ispeaker-replay`: reads `.env` like the server, parses the command line and runs it; the
//! work is in the library. The exit code says how the run ended (`replay_tools::EXIT_CODES_HELP`,
//! the same table as `ispeaker-api`'s).

use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> ExitCode {
    // Before the command line is parsed: DATABASE_URL and DATA_KEY_SECRET fall back to the
    // environment, which a .env fills in where it is silent, as for ispeaker-api.
    let _ = dotenvy::dotenv();
    // Logs go to stderr: stdout is the report, and the chain digest may be piped from it.
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn")))
        .with_writer(std::io::stderr)
        .init();
    // clap prints usage errors itself and exits with 2 (a usage error in the table), or 0 for --help.
    let cli = replay_tools::Cli::parse();
    let mut stdout = std::io::stdout().lock();
    match replay_tools::run(cli, &mut stdout).await {
        Ok(status) => ExitCode::from(status.code()),
        Err(failure) => {
            eprintln!("ispeaker-replay: {failure}");
            ExitCode::from(failure.code())
        }
    }
}
