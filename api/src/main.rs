//! `ispeaker-api`: reads settings, starts the application, serves until SIGTERM. A multi-threaded
//! Tokio runtime, so the background (writers, wallet workers, relay, projectors) uses every core;
//! actix-web runs its own HTTP workers beside it.

use api::{Application, Settings};
use tracing_subscriber::EnvFilter;

/// Requests allocate many small short-lived objects across threads; mimalloc serves them with
/// far less time in the allocator than the system's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    if std::env::var("LOG_FORMAT").is_ok_and(|f| f == "json") {
        tracing_subscriber::fmt().json().with_env_filter(filter).init();
    } else {
        tracing_subscriber::fmt().with_env_filter(filter).init();
    }
    let settings = match Settings::from_env() {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("ispeaker-api cannot start: {error}");
            std::process::exit(2);
        }
    };
    let application = Application::build(settings).await?;
    tracing::info!(port = application.port(), "ispeaker-api listening");
    application.run_until_stopped().await
}
