//! `ispeaker-replay`: parses the command line and runs it; the work is in the library.

use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;

/// Usage, connection and schema errors.
const EXIT_ERROR: u8 = 2;

#[tokio::main]
async fn main() -> ExitCode {
    // Logs go to stderr: stdout is the report, and the chain digest may be piped from it.
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn")))
        .with_writer(std::io::stderr)
        .init();
    // clap prints usage errors itself and exits with 2, or 0 for --help.
    let cli = replay_tools::Cli::parse();
    let mut stdout = std::io::stdout().lock();
    match replay_tools::run(cli, &mut stdout).await {
        Ok(status) => ExitCode::from(status.code()),
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}
