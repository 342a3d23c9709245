//! `Application::build` wires everything one process runs: the database pool and migrations, the
//! event store, the relay to NATS, the projectors and the HTTP server. Tests and `main` start the
//! same thing; port 0 picks a free port.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, dev::Server, web};
use anyhow::Context;
use commands::Commands;
use event_store::relay::{Deployment, Relay, RelayConfig};
use projections::{LiveConfig, LiveFeed, Projections, Queries, RunnerConfig};
use sqlx::mysql::MySqlPoolOptions;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::auth::Tokens;
use crate::error::ApiError;
use crate::middleware::{RateLimiter, conventions};
use crate::openapi::{RouteTable, Routes};
use crate::routes;
use crate::settings::Settings;

/// Connections the process keeps to MariaDB.
const DATABASE_CONNECTIONS_MAX: u32 = 32;
const DATABASE_ACQUIRE_TIMEOUT_MS: u64 = 5_000;
const NATS_CONNECT_TIMEOUT_MS: u64 = 2_000;

async fn not_found() -> Result<actix_web::HttpResponse, ApiError> {
    Err(ApiError::NotFound)
}

/// What every handler can reach: the command and query facades, never the pool or the store.
pub struct AppState {
    pub commands: Commands,
    pub queries: Queries,
    /// The projectors' progress, for `X-Min-Position` and health.
    pub projections: Projections,
    pub tokens: Tokens,
    pub rate_limiter: RateLimiter,
    /// What each route needs and reads.
    pub routes: RouteTable,
    /// The OpenAPI document, built once from the route table.
    pub openapi: String,
    pub nats: Option<async_nats::Client>,
    /// Where clients reach this server, for absolute links (no trailing slash).
    pub public_url: String,
    /// This deployment's fan-out on NATS.
    pub deployment: Deployment,
    pub settings: Settings,
    /// This process's WebSockets and the task that feeds them.
    pub hub: Arc<crate::realtime::Hub>,
}

/// How long a write waits for the read models to show it before answering with them.
const SHOWN_WITHIN: Duration = Duration::from_secs(5);

impl AppState {
    /// Waits until the projections `reads` include `position`, so a command answers with what
    /// readers will see; 503 when they fall behind.
    pub async fn shown(&self, reads: &[&str], position: u64) -> Result<(), ApiError> {
        if self.projections.wait_for(reads, position, SHOWN_WITHIN).await { Ok(()) } else { Err(ApiError::StaleRead(position)) }
    }
}

pub struct Application {
    port: u16,
    server: Server,
    state: Arc<AppState>,
    stop_background: watch::Sender<bool>,
    background: Vec<JoinHandle<()>>,
}

/// SIGTERM or SIGINT, the signals actix-web stops on.
async fn stop_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate => {}
    }
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let pool = MySqlPoolOptions::new()
            .max_connections(DATABASE_CONNECTIONS_MAX)
            .acquire_timeout(Duration::from_millis(DATABASE_ACQUIRE_TIMEOUT_MS))
            .connect(&settings.database_url)
            .await
            .context("connecting to DATABASE_URL")?;
        migrations::migrator().run(&pool).await.context("applying migrations")?;
        let store = commands::open_store(pool.clone(), settings.data_key_secret.expose()).await?;
        let commands = Commands::with_settings(store.clone(), settings.commerce);
        // Before anything is sold: every invoice shows the seller recorded before it.
        commands.invoicing.record_seller(settings.seller.clone()).await.context("recording the seller's details")?;
        if settings.seed_demo_data {
            crate::seed::seed_demo_data(&commands).await.context("seeding demo data")?;
        }

        let nats = match &settings.nats_url {
            // Started even when NATS is down: the client keeps reconnecting, the relay resumes.
            Some(url) => Some(
                async_nats::ConnectOptions::new()
                    .retry_on_initial_connect()
                    .connection_timeout(Duration::from_millis(NATS_CONNECT_TIMEOUT_MS))
                    .connect(url.as_str())
                    .await
                    .context("NATS_URL")?,
            ),
            None => None,
        };

        let deployment = Deployment::new(&store, settings.deployment_id.as_deref(), settings.data_key_secret.expose())
            .map_err(|reason| anyhow::anyhow!("setting DEPLOYMENT_ID is malformed: {reason}"))?;
        let (stop_background, shutdown) = watch::channel(false);
        let mut background = Vec::new();
        if let Some(client) = &nats {
            let relay = Relay::new(store.clone(), client.clone(), RelayConfig::new(deployment.clone()));
            background.push(tokio::spawn(relay.run(shutdown.clone())));
        }
        let projections = Projections::new(&store, RunnerConfig::default());
        let live = nats.clone().map(|client| LiveFeed::start(store.clone(), client, LiveConfig::new(deployment.clone()), shutdown.clone()));
        background.extend(projections.start(live, &shutdown));

        let mut routes = Routes::new();
        routes::table(&mut routes);
        let listener = TcpListener::bind(settings.http_addr).with_context(|| format!("binding HTTP_ADDR {}", settings.http_addr))?;
        let port = listener.local_addr()?.port();
        let public_url = settings.public_url.clone().unwrap_or_else(|| {
            let host = if settings.http_addr.ip().is_unspecified() { "localhost".to_owned() } else { settings.http_addr.ip().to_string() };
            format!("http://{host}:{port}")
        });
        let queries = Queries::new(pool, &projections);
        let scheduler = crate::scheduler::Scheduler::new(store.clone(), commands.clone(), queries.clone(), settings.scheduler_interval);
        background.push(tokio::spawn(scheduler.run(shutdown.clone())));
        let state = Arc::new(AppState {
            queries,
            commands,
            projections,
            tokens: Tokens::new(settings.jwt_secret.expose()),
            rate_limiter: RateLimiter::default(),
            routes: routes.table(),
            openapi: routes.document().to_string(),
            nats,
            public_url,
            deployment,
            hub: Arc::new(crate::realtime::Hub::new(settings.realtime.clone())),
            settings: settings.clone(),
        });
        background.push(tokio::spawn(state.hub.clone().run(state.clone(), shutdown.clone())));
        crate::users::bootstrap_admin(&state).await.context("creating the bootstrap admin")?;
        let data = web::Data::from(state.clone());
        let send_buffer_bytes = settings.realtime.send_buffer_bytes as usize;
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .app_data(web::JsonConfig::default().error_handler(|error, _| ApiError::MalformedJson(error.to_string()).into()))
                .app_data(web::QueryConfig::default().error_handler(|error, _| ApiError::MalformedRequest(error.to_string()).into()))
                .app_data(web::PathConfig::default().error_handler(|_, _| ApiError::NotFound.into()))
                .app_data(web::PayloadConfig::default().limit(crate::extract::REQUEST_BODY_BYTES_MAX))
                .configure(routes::configure)
                .default_service(web::to(not_found))
                .wrap(from_fn(conventions))
        })
            .on_connect(move |connection, _| {
                if let Some(stream) = connection.downcast_ref::<actix_web::rt::net::TcpStream>()
                    && let Err(error) = socket2::SockRef::from(stream).set_send_buffer_size(send_buffer_bytes)
                {
                    tracing::warn!(%error, "could not bound a connection's send buffer");
                }
            })
            .listen(listener)?
            .shutdown_timeout(30)
            .run();
        Ok(Self { port, server, state, stop_background, background })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn state(&self) -> Arc<AppState> {
        self.state.clone()
    }

    /// Serves until SIGTERM/SIGINT (actix drains in-flight requests), then stops the relay and
    /// projectors and waits for them.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        // WebSockets would hold the graceful shutdown for its whole timeout: they close at the
        // signal instead, and their clients reconnect elsewhere.
        let hub = self.state.hub.clone();
        let sockets_closer = tokio::spawn(async move {
            stop_signal().await;
            hub.close_all();
        });
        let served = self.server.await;
        sockets_closer.abort();
        let _ = self.stop_background.send(true);
        for task in self.background {
            let _ = task.await;
        }
        tracing::info!("stopped");
        Ok(served?)
    }
}
