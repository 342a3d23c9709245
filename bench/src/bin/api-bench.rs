//! Load over HTTP against a running server; prints one JSON line.
//!
//! `api-bench --url URL --scenario wallet-read|top-up|catalogue-search|checkout|…|feed|feed-lag --clients N --seconds S`
//!
//! The server must allow the load: start it with a high `RATE_LIMIT_PER_MINUTE` and
//! `AUTH_RATE_LIMIT_PER_MINUTE` (see `scripts/api-bench.sh`). `top-up` and `checkout` sign the
//! provider's notifications with `PAYMENT_SANDBOX_SECRET`, as the sandbox provider would.
//! `catalogue-search` and `checkout` first publish `--courses` courses (10,000 by default) if the
//! catalogue has fewer, which needs an admin (`BENCH_ADMIN_EMAIL`, `BENCH_ADMIN_PASSWORD`) for
//! their category. `feed` and `feed-lag` read and write as the users of `social-data`'s data set
//! (`--feed-users` of them), which must be in the store; they wait until every projector has
//! caught up with it before the clock starts.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use bench::social_graph;
use clap::{Parser, ValueEnum};
use hmac::{Hmac, Mac};
use futures::{StreamExt, TryStreamExt};
use serde_json::{Value, json};
use sha2::Sha256;
use uuid::Uuid;

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Scenario {
    /// GET /wallet with each client's own token.
    WalletRead,
    /// POST /wallet/top-ups, then the signed capture webhook: one top-up end to end.
    TopUp,
    /// GET /courses with a search and a filter, anonymous, over the published catalogue.
    CatalogueSearch,
    /// POST /cart/items then POST /cart/checkout from the wallet: one course bought end to end.
    Checkout,
    /// A checkout, then its invoice read with `X-Min-Position` at the checkout's position: the
    /// read's latency is how long the invoice projection took to show the sale (its lag).
    InvoiceLag,
    /// GET /invoices/{id} of the client's own invoice (each client buys one first).
    InvoiceRead,
    /// GET /invoices/{id}/document: the printable page with its QR code.
    InvoiceDocument,
    /// GET /speakers/{id}/slots for the next 30 days, anonymous, of one speaker with an evening
    /// availability five days a week.
    Slots,
    /// POST /rooms/{id}/register of a paid room, from the wallet: one seat sold end to end (its
    /// order, debit and the host's pending earning in one append). Clients spread over
    /// `--rooms` rooms.
    RoomRegister,
    /// GET /feed, first page, each client rotating over its share of `--readers` users of the
    /// social data set.
    Feed,
    /// POST /posts by one user at `--post-rate` posts a second in all, then the post read by one
    /// of their followers with `X-Min-Position` at its position: the read's latency is how long
    /// the social projection took to hold it (its lag). Every tenth post must then be in that
    /// follower's feed.
    FeedLag,
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
    /// Published courses the catalogue scenarios need.
    #[arg(long, default_value_t = 10_000)]
    courses: usize,
    /// Paid rooms the registration scenario spreads its clients over.
    #[arg(long, default_value_t = 400)]
    rooms: usize,
    /// Users in the social data set (`social-data --users`).
    #[arg(long, default_value_t = 10_000)]
    feed_users: usize,
    /// Distinct users whose feeds the feed scenario reads.
    #[arg(long, default_value_t = 1_024)]
    readers: usize,
    /// Posts a second the feed-lag scenario writes, all clients together.
    #[arg(long, default_value_t = 500)]
    post_rate: u64,
    #[arg(long, env = "BENCH_ADMIN_EMAIL")]
    admin_email: Option<String>,
    #[arg(long, env = "BENCH_ADMIN_PASSWORD", hide_env_values = true)]
    admin_password: Option<String>,
}

/// The search the catalogue scenario repeats: a word in a third of the titles, and a level.
const SEARCH: &str = "/courses?q=%D8%A7%D9%84%D9%82%D8%B1%D8%A7%D9%86&level=beginner&sort=popular";
/// What each bench course costs, VAT included.
const COURSE_PRICE: &str = "11.50";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if args.clients == 0 || args.seconds == 0 {
        bail!("--clients and --seconds must be positive");
    }
    let url = args.url.trim_end_matches('/').to_owned();
    let http = reqwest::Client::builder().pool_max_idle_per_host(args.clients).build()?;
    let secret = match args.scenario {
        Scenario::WalletRead | Scenario::CatalogueSearch | Scenario::Slots | Scenario::Feed | Scenario::FeedLag => None,
        _ => Some(args.sandbox_secret.clone().context("top-up and the buying scenarios need PAYMENT_SANDBOX_SECRET")?),
    };
    let courses = match args.scenario {
        Scenario::WalletRead | Scenario::TopUp | Scenario::Slots | Scenario::RoomRegister | Scenario::Feed | Scenario::FeedLag => Vec::new(),
        _ => publish_courses(&http, &url, &args).await?,
    };

    // One account per client, so per-user limits and wallets do not couple the clients.
    let run = Uuid::now_v7().simple().to_string();
    let mut tokens = Vec::with_capacity(args.clients);
    for client in 0..args.clients {
        let username = format!("b{}{client}", &run[run.len() - 12..]);
        tokens.push(register(&http, &url, &username, "speaker").await?);
    }
    let buys = matches!(args.scenario, Scenario::Checkout | Scenario::InvoiceLag | Scenario::InvoiceRead | Scenario::InvoiceDocument | Scenario::RoomRegister);
    if let (true, Some(secret)) = (buys, &secret) {
        // Each buyer's wallet covers every course it could buy.
        for token in &tokens {
            top_up_amount(&http, &url, token, secret, "20000.00").await?;
        }
    }
    // The readers' invoices: client c buys course c once, before the clock starts.
    let mut invoices = Vec::new();
    if matches!(args.scenario, Scenario::InvoiceRead | Scenario::InvoiceDocument) {
        for (token, course) in tokens.iter().zip(&courses) {
            let (position, invoice_id) = checkout(&http, &url, token, course).await?;
            read_invoice(&http, &url, token, &invoice_id, Some(position)).await?;
            invoices.push(invoice_id);
        }
    }

    let rooms = match args.scenario {
        Scenario::RoomRegister => paid_rooms(&http, &url, &args).await?,
        _ => Vec::new(),
    };
    let slots_path = match args.scenario {
        Scenario::Slots => Some(open_availabilities(&http, &url, &tokens[0]).await?),
        _ => None,
    };

    // Feed readers (client c reads as its share of them in turn), and the feed-lag pairs: a writer,
    // and a follower of theirs who reads.
    let (readers, writers) = match args.scenario {
        Scenario::Feed => (feed_readers(&http, &url, &args).await?, Vec::new()),
        Scenario::FeedLag => (Vec::new(), feed_writers(&http, &url, &args).await?),
        _ => (Vec::new(), Vec::new()),
    };
    let post_every = Duration::from_secs_f64(args.clients as f64 / args.post_rate.max(1) as f64);

    let deadline = Instant::now() + Duration::from_secs(args.seconds);
    let started = Instant::now();
    let mut clients = Vec::new();
    for (client, token) in tokens.clone().into_iter().enumerate() {
        let (http, url, secret, scenario) = (http.clone(), url.clone(), secret.clone(), args.scenario);
        let invoice_id = invoices.get(client).cloned().unwrap_or_default();
        // Client c buys courses c, c + N, c + 2N…: nobody buys a course twice.
        let mut to_buy = courses.iter().skip(client).step_by(args.clients).cloned().collect::<Vec<_>>().into_iter();
        // Client c takes rooms from its own offset on: concurrent clients mostly hit different rooms.
        let offset = rooms.len() * client / args.clients.max(1);
        let mut to_join = rooms.iter().cycle().skip(offset).take(rooms.len()).cloned().collect::<Vec<_>>().into_iter();
        let slots_path = slots_path.clone().unwrap_or_default();
        let mut my_readers = readers.iter().skip(client).step_by(args.clients).cloned().collect::<Vec<_>>().into_iter().cycle();
        let pair = writers.get(client).cloned();
        let mut posted = 0_u64;
        let mut next_post = Instant::now() + post_every.mul_f64(client as f64 / args.clients as f64);
        clients.push(tokio::spawn(async move {
            let mut report = Report::default();
            while Instant::now() < deadline {
                if let Scenario::FeedLag = scenario {
                    // Paced: the clients together write `--post-rate` posts a second.
                    tokio::time::sleep_until(next_post.into()).await;
                    next_post += post_every;
                }
                let sent = Instant::now();
                let ok = match (scenario, &secret) {
                    (Scenario::WalletRead, _) => wallet_read(&http, &url, &token).await,
                    (Scenario::TopUp, Some(secret)) => top_up(&http, &url, &token, secret).await,
                    (Scenario::CatalogueSearch, _) => search(&http, &url).await,
                    (Scenario::Checkout, _) => match to_buy.next() {
                        Some(course) => checkout(&http, &url, &token, &course).await.map(|(position, _)| position),
                        None => break,
                    },
                    (Scenario::InvoiceLag, _) => match to_buy.next() {
                        Some(course) => match checkout(&http, &url, &token, &course).await {
                            Ok((position, invoice_id)) => {
                                let asked = Instant::now();
                                let read = read_invoice(&http, &url, &token, &invoice_id, Some(position)).await;
                                report.lags_ms.push(asked.elapsed().as_secs_f64() * 1000.0);
                                read.map(|_| position)
                            }
                            Err(error) => Err(error),
                        },
                        None => break,
                    },
                    (Scenario::InvoiceRead, _) => read_invoice(&http, &url, &token, &invoice_id, None).await.map(|_| 0),
                    (Scenario::InvoiceDocument, _) => invoice_document(&http, &url, &token, &invoice_id).await.map(|_| 0),
                    (Scenario::Slots, _) => get_ok(&http, &format!("{url}{slots_path}")).await.map(|_| 0),
                    (Scenario::RoomRegister, _) => match to_join.next() {
                        Some(room) => post(&http, &url, &token, &format!("/rooms/{room}/register"), &json!({}), 201).await.map(|_| 0),
                        None => break,
                    },
                    (Scenario::Feed, _) => match my_readers.next() {
                        Some(reader) => read_feed(&http, &url, &reader, None).await.map(|_| 0),
                        None => break,
                    },
                    (Scenario::FeedLag, _) => {
                        let Some((writer, reader)) = &pair else { break };
                        posted += 1;
                        match write_post(&http, &url, writer).await {
                            Ok((post_id, position)) => {
                                let asked = Instant::now();
                                let read = get_as(&http, &format!("{url}/posts/{post_id}"), reader, Some(position)).await;
                                report.lags_ms.push(asked.elapsed().as_secs_f64() * 1000.0);
                                // Every tenth post is also looked for where the follower reads it.
                                let in_feed = match (read, posted % 10) {
                                    (Err(error), _) => Err(error),
                                    (Ok(_), 0) => read_feed(&http, &url, reader, None).await.map(|feed| feed.contains(&post_id)),
                                    (Ok(_), _) => Ok(true),
                                };
                                match in_feed {
                                    Ok(true) => Ok(position),
                                    Ok(false) => Err(anyhow::anyhow!("post {post_id} is not in its follower's feed")),
                                    Err(error) => Err(error),
                                }
                            }
                            Err(error) => Err(error),
                        }
                    }
                    (Scenario::TopUp, None) => bail!("top-up needs PAYMENT_SANDBOX_SECRET"),
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
            Ok(report)
        }));
    }
    let mut total = Report::default();
    for client in clients {
        let report = client.await??;
        total.ok += report.ok;
        total.errors += report.errors;
        total.last_position = total.last_position.max(report.last_position);
        total.latencies_ms.extend(report.latencies_ms);
        total.lags_ms.extend(report.lags_ms);
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
        Scenario::CatalogueSearch => "catalogue-search",
        Scenario::Checkout => "checkout",
        Scenario::InvoiceLag => "invoice-lag",
        Scenario::InvoiceRead => "invoice-read",
        Scenario::InvoiceDocument => "invoice-document",
        Scenario::Slots => "slots",
        Scenario::RoomRegister => "room-register",
        Scenario::Feed => "feed",
        Scenario::FeedLag => "feed-lag",
    };
    total.lags_ms.sort_by(f64::total_cmp);
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
            "projection_lag_p50_ms": (!total.lags_ms.is_empty()).then(|| round3(percentile(&total.lags_ms, 0.50))),
            "projection_lag_p99_ms": (!total.lags_ms.is_empty()).then(|| round3(percentile(&total.lags_ms, 0.99))),
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
    /// Invoice-lag and feed-lag: from a write's answer to what it wrote being readable.
    lags_ms: Vec<f64>,
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

/// Creates a top-up of 1.00 and delivers the provider's signed capture; returns the capture's position.
async fn top_up(http: &reqwest::Client, url: &str, token: &str, secret: &str) -> anyhow::Result<u64> {
    top_up_amount(http, url, token, secret, "1.00").await
}

async fn top_up_amount(http: &reqwest::Client, url: &str, token: &str, secret: &str, amount: &str) -> anyhow::Result<u64> {
    let created: Value = http
        .post(format!("{url}/wallet/top-ups"))
        .bearer_auth(token)
        .header("Idempotency-Key", Uuid::now_v7().to_string())
        .json(&json!({ "amount": amount, "provider": "sandbox" }))
        .send()
        .await?
        .json()
        .await?;
    let top_up_id = created["data"]["top_up_id"].as_str().with_context(|| format!("top-up refused: {created}"))?;
    let notification =
        json!({ "event_id": Uuid::now_v7().to_string(), "type": "payment.captured", "top_up_id": top_up_id, "amount": amount })
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

async fn register(http: &reqwest::Client, url: &str, username: &str, role: &str) -> anyhow::Result<String> {
    let body = json!({ "name": "Bench", "username": username, "email": format!("{username}@bench.local"), "password": "Bench#2026pw", "role": role });
    let response = http.post(format!("{url}/auth/register")).json(&body).send().await?;
    let status = response.status();
    let reply: Value = response.json().await?;
    Ok(reply["data"]["token"].as_str().with_context(|| format!("register answered {status}: {reply}"))?.to_owned())
}

/// A POST that must answer `expected`: its `data`.
async fn post(http: &reqwest::Client, url: &str, token: &str, path: &str, body: &Value, expected: u16) -> anyhow::Result<Value> {
    let response = http.post(format!("{url}{path}")).bearer_auth(token).header("Idempotency-Key", Uuid::now_v7().to_string()).json(body).send().await?;
    let status = response.status();
    let reply: Value = response.json().await?;
    if status.as_u16() != expected {
        bail!("POST {path} answered {status}: {reply}");
    }
    Ok(reply["data"].clone())
}

/// Opens Sunday to Thursday 17:00–21:00 (hour-long sessions, Riyadh time) for the speaker of
/// `token`: the path of their slots for the next 30 days.
async fn open_availabilities(http: &reqwest::Client, url: &str, token: &str) -> anyhow::Result<String> {
    for day in ["sun", "mon", "tue", "wed", "thu"] {
        let body = json!({ "day_of_week": day, "start_time": "17:00", "end_time": "21:00", "session_minutes": 60, "price": "150.00" });
        post(http, url, token, "/consultations/availabilities", &body, 201).await?;
    }
    let me: Value = http.get(format!("{url}/auth/me")).bearer_auth(token).send().await?.json().await?;
    let speaker = me["data"]["id"].as_str().context("the speaker's id")?;
    let from = chrono::Utc::now().date_naive();
    let path = format!("/speakers/{speaker}/slots?from={from}&to={}", from + chrono::Duration::days(30));
    let first = get_ok(http, &format!("{url}{path}")).await?;
    eprintln!("{} slots a read", first["data"].as_array().map_or(0, Vec::len));
    Ok(path)
}

/// GET that must answer 200: its body.
async fn get_ok(http: &reqwest::Client, url: &str) -> anyhow::Result<Value> {
    let response = http.get(url).send().await?;
    let status = response.status();
    let body = response.bytes().await?;
    if status != 200 {
        bail!("GET {url} answered {status}: {}", String::from_utf8_lossy(&body));
    }
    Ok(serde_json::from_slice(&body)?)
}

/// Schedules `args.rooms` paid rooms (11.50, a thousand seats, tomorrow) by 32 hosts, as the
/// checkout scenario's courses are by 32 speakers: their ids.
async fn paid_rooms(http: &reqwest::Client, url: &str, args: &Args) -> anyhow::Result<Vec<String>> {
    let email = args.admin_email.clone().context("the room scenario needs BENCH_ADMIN_EMAIL and BENCH_ADMIN_PASSWORD")?;
    let password = args.admin_password.clone().context("the room scenario needs BENCH_ADMIN_PASSWORD")?;
    let login: Value = http.post(format!("{url}/auth/login")).json(&json!({ "login": email, "password": password })).send().await?.json().await?;
    let admin = login["data"]["token"].as_str().with_context(|| format!("admin login: {login}"))?.to_owned();
    let category = post(http, url, &admin, "/admin/categories", &json!({ "name_en": "Bench rooms", "name_ar": "غرف الاختبار" }), 201).await?;
    let category_id = category["id"].as_str().context("category id")?.to_owned();
    let run = Uuid::now_v7().simple().to_string();
    let starts_at = (chrono::Utc::now() + chrono::Duration::days(1)).to_rfc3339();
    let mut created = Vec::new();
    for chunk in 0..32 {
        let (http, url, category_id, starts_at) = (http.clone(), url.to_owned(), category_id.clone(), starts_at.clone());
        let count = (chunk..args.rooms).step_by(32).count();
        let username = format!("h{}{chunk}", &run[run.len() - 12..]);
        created.push(tokio::spawn(async move {
            let host = register(&http, &url, &username, "speaker").await?;
            let mut ids = Vec::new();
            for _ in 0..count {
                let body = json!({ "title": "Bench room", "description": "A paid bench room.", "category_id": category_id, "starts_at": starts_at,
                                   "duration_minutes": 60, "access_type": "paid", "price": COURSE_PRICE, "max_participants": 1000 });
                let room = post(&http, &url, &host, "/rooms", &body, 201).await?;
                ids.push(room["id"].as_str().context("room id")?.to_owned());
            }
            anyhow::Ok(ids)
        }));
    }
    let mut ids = Vec::new();
    for chunk in created {
        ids.extend(chunk.await??);
    }
    eprintln!("{} paid rooms", ids.len());
    Ok(ids)
}

/// The ids of the published courses, publishing more (in parallel, by 32 speakers) until there
/// are `args.courses`: a third of them about القرآن, every level.
async fn publish_courses(http: &reqwest::Client, url: &str, args: &Args) -> anyhow::Result<Vec<String>> {
    let listed = |page: usize| {
        let http = http.clone();
        let url = url.to_owned();
        async move {
            let reply: Value = http.get(format!("{url}/courses?per_page=100&page={page}&sort=newest")).send().await?.json().await?;
            anyhow::Ok(reply)
        }
    };
    let total = listed(1).await?["meta"]["pagination"]["total"].as_u64().unwrap_or(0) as usize;
    if total < args.courses {
        let email = args.admin_email.clone().context("publishing bench courses needs BENCH_ADMIN_EMAIL and BENCH_ADMIN_PASSWORD")?;
        let password = args.admin_password.clone().context("publishing bench courses needs BENCH_ADMIN_PASSWORD")?;
        let login: Value = http.post(format!("{url}/auth/login")).json(&json!({ "login": email, "password": password })).send().await?.json().await?;
        let admin = login["data"]["token"].as_str().with_context(|| format!("admin login: {login}"))?.to_owned();
        let category = post(http, url, &admin, "/admin/categories", &json!({ "name_en": "Bench", "name_ar": "اختبار" }), 201).await?;
        let category_id = category["id"].as_str().context("category id")?.to_owned();
        let run = Uuid::now_v7().simple().to_string();
        let missing = args.courses - total;
        let mut speakers = Vec::new();
        for speaker in 0..32 {
            let (http, url, category_id) = (http.clone(), url.to_owned(), category_id.clone());
            let username = format!("s{}{speaker}", &run[run.len() - 12..]);
            speakers.push(tokio::spawn(async move {
                let token = register(&http, &url, &username, "speaker").await?;
                for n in (speaker..missing).step_by(32) {
                    let (topic, level) = match n % 3 {
                        0 => ("تعلم القرآن الكريم", "beginner"),
                        1 => ("English grammar", "intermediate"),
                        _ => ("مدرسة البرمجة", "advanced"),
                    };
                    let body = json!({ "title": format!("{topic} {n}"), "description": format!("Bench course {n}: {topic}"), "category_id": category_id,
                                       "language": "ar", "level": level, "price": COURSE_PRICE });
                    let course = post(&http, &url, &token, "/courses", &body, 201).await?;
                    let id = course["id"].as_str().context("course id")?.to_owned();
                    let section = post(&http, &url, &token, &format!("/courses/{id}/sections"), &json!({ "title": "One" }), 201).await?;
                    let section_id = section["id"].as_str().context("section id")?.to_owned();
                    let lesson = json!({ "title": "Lesson", "content_type": "video", "content_url": "https://media.example.com/1.mp4", "duration_seconds": 60 });
                    post(&http, &url, &token, &format!("/courses/{id}/sections/{section_id}/lessons"), &lesson, 201).await?;
                    post(&http, &url, &token, &format!("/courses/{id}/publish"), &json!({}), 200).await?;
                }
                anyhow::Ok(())
            }));
        }
        for speaker in speakers {
            speaker.await??;
        }
    }
    let mut ids = Vec::new();
    for page in 1.. {
        let reply = listed(page).await?;
        let Some(courses) = reply["data"].as_array().filter(|courses| !courses.is_empty()) else { break };
        ids.extend(courses.iter().filter_map(|course| course["id"].as_str().map(str::to_owned)));
    }
    eprintln!("{} published courses", ids.len());
    Ok(ids)
}

async fn search(http: &reqwest::Client, url: &str) -> anyhow::Result<u64> {
    let response = http.get(format!("{url}{SEARCH}")).send().await?;
    let status = response.status();
    let body = response.bytes().await?;
    if status != 200 {
        bail!("GET /courses answered {status}: {}", String::from_utf8_lossy(&body));
    }
    Ok(0)
}

/// One course into the cart and the cart checked out from the wallet; returns the order's position.
/// One course bought: the checkout's position and its invoice's id.
async fn checkout(http: &reqwest::Client, url: &str, token: &str, course_id: &str) -> anyhow::Result<(u64, String)> {
    post(http, url, token, "/cart/items", &json!({ "item_type": "course", "item_id": course_id }), 201).await?;
    let response = http
        .post(format!("{url}/cart/checkout"))
        .bearer_auth(token)
        .header("Idempotency-Key", Uuid::now_v7().to_string())
        .json(&json!({ "payment_method": "wallet" }))
        .send()
        .await?;
    let status = response.status();
    let reply: Value = response.json().await?;
    if status != 201 {
        bail!("checkout answered {status}: {reply}");
    }
    Ok((reply["meta"]["position"].as_u64().unwrap_or(0), reply["data"]["invoice_id"].as_str().unwrap_or_default().to_owned()))
}

/// GET /invoices/{id}, at least as fresh as `position` when given.
async fn read_invoice(http: &reqwest::Client, url: &str, token: &str, invoice_id: &str, position: Option<u64>) -> anyhow::Result<()> {
    get_as(http, &format!("{url}/invoices/{invoice_id}"), token, position).await.map(|_| ())
}

async fn invoice_document(http: &reqwest::Client, url: &str, token: &str, invoice_id: &str) -> anyhow::Result<()> {
    let response = http.get(format!("{url}/invoices/{invoice_id}/document")).bearer_auth(token).send().await?;
    let status = response.status();
    let body = response.bytes().await?;
    if status != 200 || !body.starts_with(b"<!doctype html>") {
        bail!("GET /invoices/{invoice_id}/document answered {status}");
    }
    Ok(())
}

/// Logs in as user `user` of the social data set: their token.
async fn feed_user(http: &reqwest::Client, url: &str, user: usize) -> anyhow::Result<String> {
    let body = json!({ "login": social_graph::username(user), "password": social_graph::PASSWORD });
    let response = http.post(format!("{url}/auth/login")).json(&body).send().await?;
    let status = response.status();
    let reply: Value = response.json().await?;
    match reply["data"]["token"].as_str() {
        Some(token) => Ok(token.to_owned()),
        None => bail!("login as {} answered {status}: {reply} (has social-data built the data set?)", social_graph::username(user)),
    }
}

/// Waits until every projector has applied the log as it stood at the first look (the data set;
/// later writes, another scenario's, need not be waited for), printing how far behind they are.
async fn caught_up(http: &reqwest::Client, url: &str) -> anyhow::Result<()> {
    let started = Instant::now();
    let mut target = None;
    loop {
        let health: Value = http.get(format!("{url}/health")).send().await?.json().await?;
        let (Some(head), Some(projectors)) = (health["data"]["head_position"].as_u64(), health["data"]["projectors"].as_array()) else {
            bail!("the server is not healthy: {health}");
        };
        let target = *target.get_or_insert(head);
        let behind = projectors.iter().filter_map(|p| p["position"].as_u64()).map(|position| target.saturating_sub(position)).max().unwrap_or(0);
        if behind == 0 {
            eprintln!("projections caught up in {:.0} s", started.elapsed().as_secs_f64());
            return Ok(());
        }
        eprintln!("projections {behind} events behind");
        tokio::time::sleep(Duration::from_secs(5)).await;
    }
}

/// The tokens of `--readers` users spread over the data set.
async fn feed_readers(http: &reqwest::Client, url: &str, args: &Args) -> anyhow::Result<Vec<String>> {
    caught_up(http, url).await?;
    let readers = args.readers.clamp(1, args.feed_users);
    let logins = (0..readers).map(|reader| feed_user(http, url, reader * args.feed_users / readers));
    let tokens: Vec<String> = futures::stream::iter(logins).buffered(8).try_collect().await?;
    let first = read_feed(http, url, &tokens[0], None).await?;
    if first.is_empty() {
        bail!("the first reader's feed is empty: is the social data set in this store?");
    }
    Ok(tokens)
}

/// One (writer, reader) pair of tokens per client: the reader follows the writer.
async fn feed_writers(http: &reqwest::Client, url: &str, args: &Args) -> anyhow::Result<Vec<(String, String)>> {
    caught_up(http, url).await?;
    let followers = social_graph::followers(args.feed_users);
    let mut pairs = Vec::with_capacity(args.clients);
    for client in 0..args.clients {
        let writer = client * args.feed_users / args.clients;
        let reader = *followers[writer].first().with_context(|| format!("user {writer} of the data set has no follower"))?;
        pairs.push((feed_user(http, url, writer).await?, feed_user(http, url, reader).await?));
    }
    Ok(pairs)
}

/// A text post: its id and position.
async fn write_post(http: &reqwest::Client, url: &str, token: &str) -> anyhow::Result<(String, u64)> {
    let response = http.post(format!("{url}/posts")).bearer_auth(token).json(&json!({ "type": "text", "content": "A bench post." })).send().await?;
    let status = response.status();
    let reply: Value = response.json().await?;
    if status != 201 {
        bail!("POST /posts answered {status}: {reply}");
    }
    Ok((reply["data"]["id"].as_str().context("the post's id")?.to_owned(), reply["meta"]["position"].as_u64().context("the post's position")?))
}

/// GET as `token`, at least as fresh as `position` when given; must answer 200: its body.
async fn get_as(http: &reqwest::Client, url: &str, token: &str, position: Option<u64>) -> anyhow::Result<bytes::Bytes> {
    let mut request = http.get(url).bearer_auth(token);
    if let Some(position) = position {
        request = request.header("X-Min-Position", position.to_string());
    }
    let response = request.send().await?;
    let status = response.status();
    let body = response.bytes().await?;
    if status != 200 {
        bail!("GET {url} answered {status}: {}", String::from_utf8_lossy(&body));
    }
    Ok(body)
}

/// The first page of the reader's feed, at least as fresh as `position` when given: its posts' ids.
async fn read_feed(http: &reqwest::Client, url: &str, token: &str, position: Option<u64>) -> anyhow::Result<Vec<String>> {
    let reply: Value = serde_json::from_slice(&get_as(http, &format!("{url}/feed"), token, position).await?)?;
    Ok(reply["data"].as_array().into_iter().flatten().filter_map(|post| post["id"].as_str().map(str::to_owned)).collect())
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
