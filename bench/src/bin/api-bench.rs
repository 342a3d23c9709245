//! Load over HTTP against a running server; prints one JSON line.
//!
//! `api-bench --url URL --scenario wallet-read|top-up --clients N --seconds S`
//!
//! The server must allow the load: start it with a high `RATE_LIMIT_PER_MINUTE` and
//! `AUTH_RATE_LIMIT_PER_MINUTE` (see `scripts/api-bench.sh`). `top-up` signs the provider's
//! notifications with `PAYMENT_SANDBOX_SECRET`, as the sandbox provider would.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::{Parser, ValueEnum};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use uuid::Uuid;

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Scenario {
    /// GET /wallet with each client's own token.
    WalletRead,
    /// POST /wallet/top-ups, then the signed capture webhook: one top-up end to end.
    TopUp,
}

#[derive(Parser, Debug)]
#[command(about = "HTTP load against a running ispeaker-api")]
struct Args {
    /// The API base, e.g. http://127.0.0.1:8080/api/v1
    #[arg(long)]
    url: String,
    #[arg(long, value_enum)]
    scenario: Scenario,
    #[arg(long, default_value_t = 32)]
    clients: usize,
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    #[arg(long, env = "PAYMENT_SANDBOX_SECRET", hide_env_values = true)]
    sandbox_secret: Option<String>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if args.clients == 0 || args.seconds == 0 {
        bail!("--clients and --seconds must be positive");
    }
    let url = args.url.trim_end_matches('/').to_owned();
    let http = reqwest::Client::builder().pool_max_idle_per_host(args.clients).build()?;
    let secret = match args.scenario {
        Scenario::TopUp => Some(args.sandbox_secret.clone().context("top-up needs PAYMENT_SANDBOX_SECRET")?),
        Scenario::WalletRead => None,
    };

    // One account per client, so per-user limits and wallets do not couple the clients.
    let run = Uuid::now_v7().simple().to_string();
    let mut tokens = Vec::with_capacity(args.clients);
    for client in 0..args.clients {
        let username = format!("b{}{client}", &run[run.len() - 12..]);
        let body = json!({ "name": "Bench", "username": username, "email": format!("{username}@bench.local"),
                           "password": "Bench#2026pw", "role": "speaker" });
        let response = http.post(format!("{url}/auth/register")).json(&body).send().await?;
        let status = response.status();
        let reply: Value = response.json().await?;
        let token = reply["data"]["token"].as_str().with_context(|| format!("register answered {status}: {reply}"))?;
        tokens.push(token.to_owned());
    }

    let deadline = Instant::now() + Duration::from_secs(args.seconds);
    let started = Instant::now();
    let mut clients = Vec::new();
    for token in tokens.clone() {
        let (http, url, secret) = (http.clone(), url.clone(), secret.clone());
        clients.push(tokio::spawn(async move {
            let mut report = Report::default();
            while Instant::now() < deadline {
                let sent = Instant::now();
                let ok = match &secret {
                    None => wallet_read(&http, &url, &token).await,
                    Some(secret) => top_up(&http, &url, &token, secret).await,
                };
                report.latencies_ms.push(sent.elapsed().as_secs_f64() * 1000.0);
                match ok {
                    Ok(position) => {
                        report.ok += 1;
                        report.last_position = report.last_position.max(position);
                    }
                    Err(error) => {
                        if report.errors == 0 {
                            eprintln!("request failed: {error:#}");
                        }
                        report.errors += 1;
                    }
                }
            }
            report
        }));
    }
    let mut total = Report::default();
    for client in clients {
        let report = client.await?;
        total.ok += report.ok;
        total.errors += report.errors;
        total.last_position = total.last_position.max(report.last_position);
        total.latencies_ms.extend(report.latencies_ms);
    }
    let seconds = started.elapsed().as_secs_f64();

    if let Scenario::TopUp = args.scenario {
        // Every credit applied exactly once: the wallets hold 1.00 per completed top-up.
        let mut credited = 0.0;
        for token in &tokens {
            let reply: Value = http
                .get(format!("{url}/wallet"))
                .bearer_auth(token)
                .header("X-Min-Position", total.last_position.to_string())
                .send()
                .await?
                .json()
                .await?;
            credited += reply["data"]["balance"].as_str().and_then(|b| b.parse::<f64>().ok()).context("balance")?;
        }
        if (credited - total.ok as f64).abs() > 0.001 {
            bail!("credits do not match: {} top-ups completed, wallets hold {credited:.2}", total.ok);
        }
    }

    total.latencies_ms.sort_by(f64::total_cmp);
    let scenario = match args.scenario {
        Scenario::WalletRead => "wallet-read",
        Scenario::TopUp => "top-up",
    };
    println!(
        "{}",
        json!({
            "scenario": scenario,
            "clients": args.clients,
            "requests": total.ok,
            "per_second": (total.ok as f64 / seconds).round(),
            "p50_ms": round3(percentile(&total.latencies_ms, 0.50)),
            "p99_ms": round3(percentile(&total.latencies_ms, 0.99)),
            "errors": total.errors,
        })
    );
    Ok(())
}

#[derive(Default)]
struct Report {
    ok: u64,
    errors: u64,
    last_position: u64,
    latencies_ms: Vec<f64>,
}

async fn wallet_read(http: &reqwest::Client, url: &str, token: &str) -> anyhow::Result<u64> {
    let response = http.get(format!("{url}/wallet")).bearer_auth(token).send().await?;
    let status = response.status();
    let body = response.bytes().await?;
    if status != 200 {
        bail!("GET /wallet answered {status}: {}", String::from_utf8_lossy(&body));
    }
    Ok(0)
}

/// Creates a top-up and delivers the provider's signed capture; returns the capture's position.
async fn top_up(http: &reqwest::Client, url: &str, token: &str, secret: &str) -> anyhow::Result<u64> {
    let created: Value = http
        .post(format!("{url}/wallet/top-ups"))
        .bearer_auth(token)
        .header("Idempotency-Key", Uuid::now_v7().to_string())
        .json(&json!({ "amount": "1.00", "provider": "sandbox" }))
        .send()
        .await?
        .json()
        .await?;
    let top_up_id = created["data"]["top_up_id"].as_str().with_context(|| format!("top-up refused: {created}"))?;
    let notification =
        json!({ "event_id": Uuid::now_v7().to_string(), "type": "payment.captured", "top_up_id": top_up_id, "amount": "1.00" })
            .to_string();
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes())?;
    mac.update(notification.as_bytes());
    let signature = hex::encode(mac.finalize().into_bytes());
    let response = http
        .post(format!("{url}/payments/webhooks/sandbox"))
        .header("Signature", signature)
        .header("content-type", "application/json")
        .body(notification)
        .send()
        .await?;
    let status = response.status();
    let reply: Value = response.json().await?;
    if status != 200 {
        bail!("webhook answered {status}: {reply}");
    }
    Ok(reply["meta"]["position"].as_u64().unwrap_or(0))
}

fn percentile(sorted: &[f64], quantile: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() as f64 - 1.0) * quantile).round() as usize]
}

fn round3(value: f64) -> f64 {
    (value * 1000.0).round() / 1000.0
}
