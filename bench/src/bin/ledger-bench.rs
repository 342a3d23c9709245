//! Drives wallet credit commands through the real command layer and event store on MariaDB, or
//! replays stored wallet events into the wallet projection, and prints one JSON line.
//!
//! `ledger-bench --workload independent|hot --clients N --commands M`
//! `ledger-bench --replay --events N`

use std::time::Instant;

use anyhow::{Context, bail};
use clap::{Parser, ValueEnum};
use commands::{CommandContext, CommandError, Commands, Loaded};
use domain::kernel::Aggregate;
use domain::ledger::ProviderName;
use domain::money::Money;
use domain::wallet::{Wallet, WalletCommand};
use event_store::{AppendRequest, EventStore, ExpectedVersion, StreamAppend};
use serde_json::json;
use sqlx::mysql::MySqlPoolOptions;
use uuid::Uuid;

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Workload {
    /// Each client credits its own wallet.
    Independent,
    /// Every client credits the same wallet.
    Hot,
}

#[derive(Parser, Debug)]
#[command(about = "Wallet command and replay benchmarks against the real store on MariaDB")]
struct Args {
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    database_url: String,
    #[arg(long, value_enum, default_value = "independent")]
    workload: Workload,
    #[arg(long, default_value_t = 64)]
    clients: usize,
    /// Commands in total, shared among the clients.
    #[arg(long, default_value_t = 100_000)]
    commands: usize,
    /// Store wallet events, then rebuild the wallet projection from them.
    #[arg(long)]
    replay: bool,
    #[arg(long, default_value_t = 100_000)]
    events: usize,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()))
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    if args.clients == 0 || args.commands == 0 || args.events == 0 {
        bail!("--clients, --commands and --events must be positive");
    }
    let pool = MySqlPoolOptions::new()
        .max_connections(16)
        .connect(&args.database_url)
        .await
        .context("connecting to DATABASE_URL")?;
    migrations::migrator().run(&pool).await.context("creating the tables")?;
    let store = EventStore::start(pool, commands::upcasters()).await?;
    if args.replay { replay(&store, args.events).await } else { commands_benchmark(&store, &args).await }
}

async fn commands_benchmark(store: &EventStore, args: &Args) -> anyhow::Result<()> {
    let wallets = Commands::new(store.clone()).wallet;
    let owners: Vec<Uuid> = match args.workload {
        Workload::Independent => (0..args.clients).map(|_| Uuid::now_v7()).collect(),
        Workload::Hot => vec![Uuid::now_v7()],
    };
    for owner in &owners {
        wallets.execute(*owner, WalletCommand::Open { user_id: *owner }, CommandContext::default()).await?;
    }
    let provider = ProviderName::parse("sandbox")?;
    let amount = Money::parse("1.00")?;

    let started = Instant::now();
    let mut clients = Vec::with_capacity(args.clients);
    for client in 0..args.clients {
        let share = args.commands / args.clients + usize::from(client < args.commands % args.clients);
        let owner = owners[client % owners.len()];
        let (wallets, provider) = (wallets.clone(), provider.clone());
        clients.push(tokio::spawn(async move {
            let mut report = ClientReport::default();
            for _ in 0..share {
                let command = WalletCommand::CreditTopUp { top_up_id: Uuid::now_v7(), provider: provider.clone(), amount };
                let context = CommandContext::idempotent(format!("bench:{}", Uuid::now_v7()));
                let sent = Instant::now();
                match wallets.execute(owner, command, context).await {
                    Ok(_) => report.ok += 1,
                    Err(CommandError::Contention(_)) => report.conflicts += 1,
                    Err(error) => {
                        report.errors += 1;
                        eprintln!("command failed: {error}");
                    }
                }
                report.latencies_ms.push(sent.elapsed().as_secs_f64() * 1000.0);
            }
            report
        }));
    }
    let mut total = ClientReport::default();
    for client in clients {
        let report = client.await?;
        total.ok += report.ok;
        total.conflicts += report.conflicts;
        total.errors += report.errors;
        total.latencies_ms.extend(report.latencies_ms);
    }
    let seconds = started.elapsed().as_secs_f64();

    // Nothing lost: the wallets hold exactly one credit per successful command.
    let mut credited = 0u64;
    for owner in &owners {
        let wallet = wallets.load(*owner).await?;
        credited += wallet.available().halalas() as u64 / amount.halalas() as u64;
    }
    if credited != total.ok {
        bail!("lost or doubled credits: {} commands succeeded, wallets hold {credited}", total.ok);
    }

    total.latencies_ms.sort_by(f64::total_cmp);
    let workload = match args.workload {
        Workload::Independent => "independent",
        Workload::Hot => "hot",
    };
    println!(
        "{}",
        json!({
            "workload": workload,
            "clients": args.clients,
            "commands": args.commands,
            "ok": total.ok,
            "conflicts": total.conflicts,
            "seconds": round3(seconds),
            "per_second": (total.ok as f64 / seconds).round(),
            "p50_ms": round3(percentile(&total.latencies_ms, 0.50)),
            "p99_ms": round3(percentile(&total.latencies_ms, 0.99)),
        })
    );
    if total.errors > 0 {
        bail!("{} commands failed", total.errors);
    }
    Ok(())
}

#[derive(Default)]
struct ClientReport {
    ok: u64,
    conflicts: u64,
    errors: u64,
    latencies_ms: Vec<f64>,
}

/// Wallets the replay's events are spread over, and events per append while storing them.
const REPLAY_WALLETS: usize = 1000;
const REPLAY_APPEND_EVENTS: usize = 2000;

async fn replay(store: &EventStore, events: usize) -> anyhow::Result<()> {
    // Real wallet events, decided by the domain, stored in large multi-stream appends.
    let provider = ProviderName::parse("sandbox")?;
    let amount = Money::parse("1.25")?;
    let owners: Vec<Uuid> = (0..REPLAY_WALLETS.min(events)).map(|_| Uuid::now_v7()).collect();
    let mut states: Vec<Loaded<Wallet>> = vec![Loaded::empty(); owners.len()];
    let mut written = 0;
    while written < events {
        let mut streams: Vec<StreamAppend> = Vec::new();
        let per_wallet = (REPLAY_APPEND_EVENTS / owners.len()).max(1);
        for (owner, state) in owners.iter().zip(states.iter_mut()) {
            if written >= events {
                break;
            }
            let expected = state.expected();
            let mut new_events = Vec::new();
            while new_events.len() < per_wallet && written < events {
                let command = if state.version == 0 {
                    WalletCommand::Open { user_id: *owner }
                } else {
                    WalletCommand::CreditTopUp { top_up_id: Uuid::now_v7(), provider: provider.clone(), amount }
                };
                let decided = state.state.handle(command)?;
                state.apply(&decided);
                written += decided.len();
                new_events.extend(commands::stream::encode(&decided)?);
            }
            streams.push(StreamAppend { stream: commands::wallet::stream(*owner).stream_ref().clone(), expected, events: new_events });
        }
        let mut request = AppendRequest::single(commands::wallet::stream(owners[0]).stream_ref().clone(), ExpectedVersion::Any, Vec::new());
        request.streams = streams;
        store.append(request).await?;
    }

    let projector: std::sync::Arc<dyn projections::Projector> = std::sync::Arc::new(projections::wallet::WalletProjector);
    let started = Instant::now();
    let report = projections::rebuild(store, projector, &|_, _| {}).await?;
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{}",
        json!({
            "events": report.events,
            "seconds": round3(seconds),
            "per_second": (report.events as f64 / seconds.max(f64::EPSILON)).round(),
        })
    );
    Ok(())
}

fn percentile(sorted: &[f64], quantile: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let index = ((sorted.len() as f64 - 1.0) * quantile).round() as usize;
    sorted[index]
}

fn round3(value: f64) -> f64 {
    (value * 1000.0).round() / 1000.0
}

