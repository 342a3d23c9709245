//! The WebSocket gateway under load: `--sockets` open sockets, one per user (senders and
//! receivers in pairs, each pair a conversation), then `--rate` chat messages a second for
//! `--seconds`, each from a sender to its receiver. Measures, per message, from the HTTP answer
//! of the send to the receiver's `message` frame, and the server's memory per idle socket (its
//! resident set before and after the sockets opened, `--server-pid`). Prints one JSON line.
//!
//! `ws-bench --url http://127.0.0.1:18090/api/v1 --sockets 5000 --rate 500 --seconds 30 --server-pid PID`
//!
//! Users are registered through the command kernel (`bench::users`); their tokens are signed
//! with the server's `JWT_SECRET`, as logging in would, without 5,000 password hashes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Parser;
use commands::Commands;
use futures::{StreamExt, TryStreamExt, stream};
use serde_json::{Value, json};
use sqlx::mysql::MySqlPoolOptions;
use tokio_tungstenite::tungstenite::Message;
use uuid::Uuid;

#[derive(Parser, Debug)]
#[command(about = "Measures the WebSocket gateway: open sockets, chat load, push latency, memory per socket")]
struct Args {
    #[arg(long)]
    url: String,
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    database_url: String,
    #[arg(long, env = "DATA_KEY_SECRET", hide_env_values = true)]
    data_key_secret: String,
    #[arg(long, env = "JWT_SECRET", hide_env_values = true)]
    jwt_secret: String,
    #[arg(long, default_value_t = 5_000)]
    sockets: usize,
    /// Chat messages a second, all senders together.
    #[arg(long, default_value_t = 500)]
    rate: u32,
    #[arg(long, default_value_t = 30)]
    seconds: u64,
    /// The server's process, whose memory is read from /proc.
    #[arg(long)]
    server_pid: Option<u32>,
    /// Sends in flight at most.
    #[arg(long, default_value_t = 256)]
    in_flight: usize,
}

#[derive(serde::Serialize)]
struct Claims {
    sub: Uuid,
    roles: Vec<&'static str>,
    iat: i64,
    exp: i64,
    jti: Uuid,
}

fn token(secret: &str, user: Uuid) -> anyhow::Result<String> {
    let now = chrono::Utc::now().timestamp();
    let claims = Claims { sub: user, roles: vec!["student"], iat: now, exp: now + 6 * 3600, jti: Uuid::now_v7() };
    Ok(jsonwebtoken::encode(&jsonwebtoken::Header::default(), &claims, &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()))?)
}

/// The server's resident memory in KiB.
fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find_map(|line| line.strip_prefix("VmRSS:")).and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
}

/// When each message id was answered over HTTP, and when its receiver's frame came.
#[derive(Default)]
struct Clocks {
    answered: HashMap<String, Instant>,
    pushed: HashMap<String, Instant>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if args.sockets < 2 || args.rate == 0 {
        bail!("--sockets must be at least 2 and --rate positive");
    }
    let pool = MySqlPoolOptions::new().max_connections(20).connect(&args.database_url).await.context("connecting to DATABASE_URL")?;
    let commands = Commands::new(commands::open_store(pool, &args.data_key_secret).await?);
    let started = Instant::now();
    let users = bench::users::register_all(&commands, args.sockets, 16).await?;
    eprintln!("{} users in {:.1} s", users.len(), started.elapsed().as_secs_f64());
    let tokens: Vec<String> = users.iter().map(|user| token(&args.jwt_secret, *user)).collect::<Result<_, _>>()?;
    let http = reqwest::Client::builder().pool_max_idle_per_host(args.in_flight).build()?;

    // Pairs: user 2k sends to user 2k+1, in their conversation.
    let pairs = users.len() / 2;
    let conversations: Vec<String> = stream::iter(0..pairs)
        .map(|pair| {
            let (http, url, token, to) = (http.clone(), args.url.clone(), tokens[2 * pair].clone(), users[2 * pair + 1]);
            async move {
                let reply: Value = http.post(format!("{url}/conversations")).bearer_auth(token).json(&json!({ "user_id": to })).send().await?.json().await?;
                reply["data"]["id"].as_str().map(str::to_owned).with_context(|| format!("no conversation: {reply}"))
            }
        })
        .buffered(32)
        .try_collect()
        .await?;
    eprintln!("{pairs} conversations");

    let memory_before = args.server_pid.and_then(rss_kib);
    let clocks = Arc::new(Mutex::new(Clocks::default()));
    let ws_url = args.url.replacen("http://", "ws://", 1);
    let opened = Instant::now();
    let sockets: Vec<_> = stream::iter(tokens.iter().enumerate())
        .map(|(index, token)| {
            let url = format!("{ws_url}/ws?token={token}");
            async move { tokio_tungstenite::connect_async(url).await.map(|(socket, _)| (index, socket)).context("opening a socket") }
        })
        .buffer_unordered(64)
        .try_collect()
        .await?;
    let opened_in = opened.elapsed().as_secs_f64();
    eprintln!("{} sockets open in {opened_in:.1} s", sockets.len());
    let (frames_seen, closed) = (Arc::new(std::sync::atomic::AtomicU64::new(0)), Arc::new(std::sync::atomic::AtomicU64::new(0)));
    for (index, mut socket) in sockets {
        let (clocks, frames_seen, closed) = (clocks.clone(), frames_seen.clone(), closed.clone());
        let receiver = index % 2 == 1;
        tokio::spawn(async move {
            while let Some(message) = socket.next().await {
                let Ok(Message::Text(text)) = message else {
                    if !matches!(message, Ok(Message::Ping(_) | Message::Pong(_))) {
                        break;
                    }
                    continue;
                };
                let at = Instant::now();
                frames_seen.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if !receiver {
                    continue;
                }
                let Ok(frame) = serde_json::from_str::<Value>(&text) else { continue };
                if frame["type"] == "message"
                    && let Some(id) = frame["data"]["id"].as_str()
                {
                    clocks.lock().expect("clocks").pushed.insert(id.to_owned(), at);
                }
            }
            closed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        });
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let memory_open = args.server_pid.and_then(rss_kib);

    // The load: one send every 1/rate seconds, round-robin over the pairs.
    let gate = Arc::new(tokio::sync::Semaphore::new(args.in_flight));
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / f64::from(args.rate)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let (sent, failed) = (Arc::new(std::sync::atomic::AtomicU64::new(0)), Arc::new(std::sync::atomic::AtomicU64::new(0)));
    let load = Instant::now();
    let mut pair = 0;
    while load.elapsed() < Duration::from_secs(args.seconds) {
        tick.tick().await;
        let permit = gate.clone().acquire_owned().await?;
        let (http, url, token, conversation) = (http.clone(), args.url.clone(), tokens[2 * pair].clone(), conversations[pair].clone());
        let (clocks, sent, failed) = (clocks.clone(), sent.clone(), failed.clone());
        pair = (pair + 1) % pairs;
        tokio::spawn(async move {
            let _permit = permit;
            let answer = http.post(format!("{url}/conversations/{conversation}/messages")).bearer_auth(token).json(&json!({ "type": "text", "body": "bench" })).send().await;
            let at = Instant::now();
            sent.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let id = match answer {
                Ok(response) if response.status() == 201 => response.json::<Value>().await.ok().and_then(|reply| reply["data"]["id"].as_str().map(str::to_owned)),
                _ => None,
            };
            match id {
                Some(id) => {
                    clocks.lock().expect("clocks").answered.insert(id, at);
                }
                None => {
                    failed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
            }
        });
    }
    let load_seconds = load.elapsed().as_secs_f64();
    let _ = gate.acquire_many(args.in_flight as u32).await?;
    tokio::time::sleep(Duration::from_secs(5)).await;

    let clocks = clocks.lock().expect("clocks");
    let mut latencies: Vec<f64> = Vec::with_capacity(clocks.answered.len());
    let mut before_answer = 0;
    for (id, answered) in &clocks.answered {
        if let Some(pushed) = clocks.pushed.get(id) {
            match pushed.checked_duration_since(*answered) {
                Some(latency) => latencies.push(latency.as_secs_f64() * 1000.0),
                None => {
                    before_answer += 1;
                    latencies.push(0.0);
                }
            }
        }
    }
    latencies.sort_by(f64::total_cmp);
    let percentile = |p: f64| latencies.get(((latencies.len() as f64 * p).ceil() as usize).saturating_sub(1)).copied().unwrap_or(f64::NAN);
    let sent = sent.load(std::sync::atomic::Ordering::Relaxed);
    let per_socket = match (memory_before, memory_open) {
        (Some(before), Some(open)) => Some((open.saturating_sub(before) as f64 * 1024.0 / args.sockets as f64).round()),
        _ => None,
    };
    println!(
        "{}",
        json!({
            "sockets": args.sockets,
            "sockets_open_seconds": (opened_in * 10.0).round() / 10.0,
            "sockets_closed_by_server": closed.load(std::sync::atomic::Ordering::Relaxed),
            "server_rss_kib_before_sockets": memory_before,
            "server_rss_kib_sockets_open": memory_open,
            "bytes_per_idle_socket": per_socket,
            "target_rate": args.rate,
            "sent": sent,
            "sent_per_second": (sent as f64 / load_seconds).round(),
            "failed_sends": failed.load(std::sync::atomic::Ordering::Relaxed),
            "answered": clocks.answered.len(),
            "pushed_to_receivers": latencies.len(),
            "missing_frames": clocks.answered.len() - latencies.len(),
            "frames_before_answer": before_answer,
            "frames_seen_all_sockets": frames_seen.load(std::sync::atomic::Ordering::Relaxed),
            "answer_to_frame_ms": { "p50": percentile(0.50), "p90": percentile(0.90), "p99": percentile(0.99), "max": latencies.last() },
        })
    );
    Ok(())
}
