//! Fan-out on read against fan-out on write, on the social data set (`social-data`, projected):
//! prints one JSON line. On read is the feed as served: `SocialQueries::feed`, each call for a
//! reader not read before, so never from its page cache. On write is a scratch timeline table
//! (a row per reader and post, as a projector fanning out would keep) built from the same follows
//! and posts, timed to fill, to fan out new posts, and to read; it is dropped afterwards.
//!
//! `feed-fanout --readers 2000 --clients 32`

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Parser;
use futures::{StreamExt, TryStreamExt, stream};
use projections::social::queries::SocialQueries;
use serde_json::json;
use sqlx::MySqlPool;
use sqlx::mysql::MySqlPoolOptions;
use uuid::Uuid;

#[derive(Parser, Debug)]
#[command(about = "Compares feed fan-out on read and on write on the social data set")]
struct Args {
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    database_url: String,
    /// Distinct readers each way is read for (each once, so no cache answers).
    #[arg(long, default_value_t = 2_000)]
    readers: usize,
    /// Reads in flight at once.
    #[arg(long, default_value_t = 32)]
    clients: usize,
    /// New posts fanned out into the timelines, one transaction each.
    #[arg(long, default_value_t = 1_000)]
    posts: usize,
}

/// The feed page size the API serves by default, and one more to know a next page exists.
const PAGE: u64 = 21;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if args.readers == 0 || args.clients == 0 {
        bail!("--readers and --clients must be positive");
    }
    let pool = MySqlPoolOptions::new().max_connections(args.clients as u32 + 2).connect(&args.database_url).await.context("connecting to DATABASE_URL")?;
    let posts: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM posts").fetch_one(&pool).await?;
    let follows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM follows").fetch_one(&pool).await?;
    if posts == 0 || follows == 0 {
        bail!("no posts or follows: build the data set with social-data and let the server project it");
    }
    let readers: Vec<Uuid> = sqlx::query_scalar("SELECT DISTINCT follower_id FROM follows ORDER BY RAND() LIMIT ?").bind(args.readers as u64 * 2).fetch_all(&pool).await?;
    let (on_read_readers, on_write_readers) = readers.split_at(readers.len() / 2);

    // On read: the served query, a reader at a time, then `clients` at once.
    let (_applied, watching) = tokio::sync::watch::channel(0);
    let queries = SocialQueries::new(pool.clone(), watching);
    let on_read = |readers: &'static [Uuid], clients: usize| {
        let queries = queries.clone();
        timed(readers, clients, move |reader| {
            let queries = queries.clone();
            async move { Ok(queries.feed(reader, false, None, PAGE - 1).await?.posts.len()) }
        })
    };
    let (half, rest) = on_read_readers.split_at(on_read_readers.len() / 2);
    let (half, rest): (&'static [Uuid], &'static [Uuid]) = (Vec::leak(half.to_vec()), Vec::leak(rest.to_vec()));
    let read_one = on_read(half, 1).await?;
    let read_many = on_read(rest, args.clients).await?;

    // On write: every post in each follower's timeline, and in its author's own.
    sqlx::query("DROP TABLE IF EXISTS bench_timelines").execute(&pool).await?;
    sqlx::query("CREATE TABLE bench_timelines (reader_id BINARY(16) NOT NULL, seq BIGINT UNSIGNED NOT NULL, post_id BINARY(16) NOT NULL, PRIMARY KEY (reader_id, seq)) ENGINE = InnoDB")
        .execute(&pool)
        .await?;
    let started = Instant::now();
    sqlx::query("INSERT INTO bench_timelines SELECT f.follower_id, p.seq, p.id FROM posts p JOIN follows f ON f.followee_id = p.author_id").execute(&pool).await?;
    sqlx::query("INSERT INTO bench_timelines SELECT p.author_id, p.seq, p.id FROM posts p").execute(&pool).await?;
    let fill_seconds = started.elapsed().as_secs_f64();
    sqlx::query("ANALYZE TABLE bench_timelines").execute(&pool).await?;
    let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM bench_timelines").fetch_one(&pool).await?;
    let bytes: Option<u64> = sqlx::query_scalar("SELECT CAST(data_length + index_length AS UNSIGNED) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = 'bench_timelines'")
        .fetch_optional(&pool)
        .await?;
    let fan_out = fan_out_posts(&pool, args.posts).await?;

    let (half, rest) = on_write_readers.split_at(on_write_readers.len() / 2);
    let (half, rest): (&'static [Uuid], &'static [Uuid]) = (Vec::leak(half.to_vec()), Vec::leak(rest.to_vec()));
    let on_write = |readers: &'static [Uuid], clients: usize| {
        let pool = pool.clone();
        timed(readers, clients, move |reader| {
            let pool = pool.clone();
            async move { timeline_page(&pool, reader).await }
        })
    };
    let write_read_one = on_write(half, 1).await?;
    let write_read_many = on_write(rest, args.clients).await?;
    sqlx::query("DROP TABLE bench_timelines").execute(&pool).await?;

    println!(
        "{}",
        json!({
            "posts": posts,
            "follows": follows,
            "on_read": { "one_client": read_one.json(), "clients": args.clients, "many_clients": read_many.json(), "rows_per_post": 1 },
            "on_write": {
                "timeline_rows": rows,
                "rows_per_post": round3(rows as f64 / posts as f64),
                "timeline_mb": bytes.map(|b| (b as f64 / 1_048_576.0).round()),
                "fill_seconds": round3(fill_seconds),
                "fan_out_per_post_ms": { "p50": round3(fan_out.percentile(0.50)), "p99": round3(fan_out.percentile(0.99)) },
                "one_client": write_read_one.json(),
                "clients": args.clients,
                "many_clients": write_read_many.json(),
            },
        })
    );
    Ok(())
}

/// The reads of a page of a timeline, with what the served page shows of each post.
async fn timeline_page(pool: &MySqlPool, reader: Uuid) -> anyhow::Result<usize> {
    let rows = sqlx::query(
        "SELECT p.id, p.seq, u.id, u.username, u.name, ap.avatar_url, p.type, p.content, p.media_urls, p.shared_post_id, p.reactions_count, \
         p.comments_count, p.shares_count, mr.reaction, p.created_at, p.edited_at \
         FROM bench_timelines t JOIN posts p ON p.id = t.post_id JOIN profiles ap ON ap.user_id = p.author_id JOIN users u ON u.id = p.author_id \
         LEFT JOIN post_reactions mr ON mr.post_id = p.id AND mr.user_id = ? \
         WHERE t.reader_id = ? AND p.is_hidden = FALSE AND p.is_deleted = FALSE ORDER BY t.seq DESC LIMIT ?",
    )
    .bind(reader)
    .bind(reader)
    .bind(PAGE)
    .fetch_all(pool)
    .await?;
    Ok(rows.len())
}

/// What fanning out `count` posts costs: for each, in one transaction, a timeline row for every
/// follower of its author (the posts are copies of existing ones, at new `seq`s).
async fn fan_out_posts(pool: &MySqlPool, count: usize) -> anyhow::Result<Latencies> {
    let sample: Vec<(Uuid, Uuid)> = sqlx::query_as("SELECT id, author_id FROM posts ORDER BY RAND() LIMIT ?").bind(count as u64).fetch_all(pool).await?;
    let top: u64 = sqlx::query_scalar("SELECT CAST(COALESCE(MAX(seq), 0) AS UNSIGNED) FROM posts").fetch_one(pool).await?;
    let mut latencies = Latencies::default();
    for (n, (post_id, author_id)) in sample.into_iter().enumerate() {
        let started = Instant::now();
        let mut transaction = pool.begin().await?;
        sqlx::query("INSERT INTO bench_timelines SELECT follower_id, ?, ? FROM follows WHERE followee_id = ?")
            .bind(top + 1 + n as u64)
            .bind(post_id)
            .bind(author_id)
            .execute(&mut *transaction)
            .await?;
        transaction.commit().await?;
        latencies.record(started.elapsed());
    }
    Ok(latencies)
}

/// Runs `read` once per reader, `clients` at a time: its latencies and rate.
async fn timed<Read, Reading>(readers: &'static [Uuid], clients: usize, read: Read) -> anyhow::Result<Timing>
where
    Read: Fn(Uuid) -> Reading,
    Reading: Future<Output = anyhow::Result<usize>>,
{
    let started = Instant::now();
    let measured: Vec<(Duration, usize)> = stream::iter(readers.iter().copied())
        .map(|reader| {
            let reading = read(reader);
            async move {
                let sent = Instant::now();
                let posts = reading.await?;
                anyhow::Ok((sent.elapsed(), posts))
            }
        })
        .buffer_unordered(clients)
        .try_collect()
        .await?;
    let mut latencies = Latencies::default();
    for (elapsed, _) in &measured {
        latencies.record(*elapsed);
    }
    let empty = measured.iter().filter(|(_, posts)| *posts == 0).count();
    Ok(Timing { reads: measured.len(), per_second: measured.len() as f64 / started.elapsed().as_secs_f64(), latencies, empty })
}

struct Timing {
    reads: usize,
    per_second: f64,
    latencies: Latencies,
    /// Pages without a post: a sign the two ways do not read the same thing.
    empty: usize,
}

impl Timing {
    fn json(&self) -> serde_json::Value {
        json!({ "reads": self.reads, "per_second": self.per_second.round(), "p50_ms": round3(self.latencies.percentile(0.50)),
                "p99_ms": round3(self.latencies.percentile(0.99)), "empty_pages": self.empty })
    }
}

#[derive(Default)]
struct Latencies(Vec<f64>);

impl Latencies {
    fn record(&mut self, elapsed: Duration) {
        self.0.push(elapsed.as_secs_f64() * 1000.0);
    }

    fn percentile(&self, quantile: f64) -> f64 {
        let mut sorted = self.0.clone();
        sorted.sort_by(f64::total_cmp);
        sorted.get(((sorted.len().max(1) - 1) as f64 * quantile).round() as usize).copied().unwrap_or(0.0)
    }
}

fn round3(value: f64) -> f64 {
    (value * 1000.0).round() / 1000.0
}
