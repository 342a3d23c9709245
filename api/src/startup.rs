//! `Application::build` wires everything one process runs: the database pool and migrations, the
//! event store, the relay to NATS, the projectors and the HTTP server. Tests and `main` start the
//! same thing; port 0 picks a free port.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::{App, HttpServer, dev::Server, web};
use anyhow::Context;
use actix_web::middleware::from_fn;
use commands::{TopUps, Users, WalletCommands};
use event_store::EventStore;
use event_store::relay::{Relay, RelayConfig};
use projections::{LiveConfig, LiveFeed, ProjectorRunner, RunnerConfig};
use sqlx::MySqlPool;
use sqlx::mysql::MySqlPoolOptions;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::auth::Tokens;
use crate::error::ApiError;
use crate::middleware::{RateLimiter, conventions};
use crate::openapi::Routes;
use crate::routes;
use crate::settings::Settings;

/// Connections the process keeps to MariaDB.
const DATABASE_CONNECTIONS_MAX: u32 = 32;
const DATABASE_ACQUIRE_TIMEOUT_MS: u64 = 5_000;
const NATS_CONNECT_TIMEOUT_MS: u64 = 2_000;
const REQUEST_BODY_BYTES_MAX: usize = 64 * 1024;
const WALLET_CACHE_CAPACITY: u64 = 100_000;

async fn not_found() -> Result<actix_web::HttpResponse, ApiError> {
    Err(ApiError::NotFound)
}

/// What every handler can reach.
pub struct AppState {
    pub pool: MySqlPool,
    pub store: EventStore,
    pub wallets: WalletCommands,
    pub top_ups: TopUps,
    pub users: Users,
    pub tokens: Tokens,
    pub rate_limiter: RateLimiter,
    /// `GET /wallet` answers, with the wallet projector's position they were read at.
    pub wallet_cache: moka::future::Cache<uuid::Uuid, (crate::routes::wallet::WalletView, u64)>,
    /// The OpenAPI document, built once from the route table.
    pub openapi: String,
    pub projectors: Vec<ProjectorRunner>,
    pub nats: Option<async_nats::Client>,
    pub settings: Settings,
}

pub struct Application {
    port: u16,
    server: Server,
    state: Arc<AppState>,
    stop_background: watch::Sender<bool>,
    background: Vec<JoinHandle<()>>,
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
        let store = EventStore::start(pool.clone(), commands::upcasters()).await?;
        let wallets = WalletCommands::new(store.clone());
        if settings.seed_demo_data {
            crate::seed::seed_demo_data(&wallets).await.context("seeding demo data")?;
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

        let (stop_background, shutdown) = watch::channel(false);
        let mut background = Vec::new();
        if let Some(client) = &nats {
            let relay = Relay::new(store.clone(), client.clone(), RelayConfig::default());
            background.push(tokio::spawn(relay.run(shutdown.clone())));
        }
        let projectors: Vec<ProjectorRunner> = projections::all()
            .into_iter()
            .map(|projector| ProjectorRunner::new(store.clone(), projector, RunnerConfig::default()))
            .collect();
        let live = nats.clone().map(|client| LiveFeed::start(store.clone(), client, LiveConfig::default(), shutdown.clone()));
        for runner in &projectors {
            background.push(tokio::spawn(runner.clone().run(live.clone(), shutdown.clone())));
        }

        let openapi = {
            let mut routes = Routes::for_docs();
            routes::table(&mut routes);
            routes.document().to_string()
        };
        let state = Arc::new(AppState {
            pool,
            top_ups: TopUps::new(store.clone()),
            users: Users::new(store.clone()),
            store,
            wallets,
            tokens: Tokens::new(settings.jwt_secret.expose()),
            rate_limiter: RateLimiter::default(),
            wallet_cache: moka::future::Cache::new(WALLET_CACHE_CAPACITY),
            openapi,
            projectors,
            nats,
            settings: settings.clone(),
        });
        // The users read model must be current to know whether an admin exists.
        if let Some(users) = state.projectors.iter().find(|r| r.name() == "users") {
            users.catch_up().await.context("catching up the users projection")?;
        }
        routes::auth::bootstrap_admin(&state).await.context("creating the bootstrap admin")?;
        let listener = TcpListener::bind(settings.http_addr).with_context(|| format!("binding HTTP_ADDR {}", settings.http_addr))?;
        let port = listener.local_addr()?.port();
        let data = web::Data::from(state.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .app_data(web::JsonConfig::default().error_handler(|error, _| ApiError::MalformedJson(error.to_string()).into()))
                .app_data(web::QueryConfig::default().error_handler(|error, _| ApiError::MalformedRequest(error.to_string()).into()))
                .app_data(web::PathConfig::default().error_handler(|_, _| ApiError::NotFound.into()))
                .app_data(web::PayloadConfig::default().limit(REQUEST_BODY_BYTES_MAX))
                .configure(routes::configure)
                .default_service(web::to(not_found))
                .wrap(from_fn(conventions))
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
        let served = self.server.await;
        let _ = self.stop_background.send(true);
        for task in self.background {
            let _ = task.await;
        }
        tracing::info!("stopped");
        Ok(served?)
    }
}
