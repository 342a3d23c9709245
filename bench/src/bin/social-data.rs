//! Builds the social benchmark's data set in the store, as real events through the command
//! kernel: `--users` users (`feed<i>`, password `social_graph::PASSWORD`), about 100 follows
//! each (`social_graph::followees`) and `--posts-per-user` text posts each. A running server's
//! relay and projectors pick the events up like any others. Prints one JSON line.
//!
//! `social-data --users 10000 --posts-per-user 10`
//!
//! The bulk path: one append per followee holding every `Followed` of its followers (each
//! decided by the `Followers` aggregate), and one append per author creating all their posts
//! (each decided by its `Post`), instead of one HTTP request per follow and per post. Every step
//! is keyed (`social-data:…`), so running it again appends nothing new.

use std::time::Instant;

use anyhow::{Context, bail};
use bench::social_graph;
use chrono::Utc;
use clap::Parser;
use commands::social::{followers_stream, post_stream, profile_stream};
use commands::{CommandContext, Commands, Transacted};
use domain::social::follow::FollowCommand;
use domain::social::post::{PostCommand, PostContent, PostType};
use futures::{StreamExt, TryStreamExt, stream};
use serde_json::json;
use sqlx::mysql::MySqlPoolOptions;
use uuid::Uuid;

#[derive(Parser, Debug)]
#[command(about = "Builds the social benchmark's users, follows and posts as events")]
struct Args {
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    database_url: String,
    /// The server's `DATA_KEY_SECRET`: it seals the users' personal data.
    #[arg(long, env = "DATA_KEY_SECRET", hide_env_values = true)]
    data_key_secret: String,
    #[arg(long, default_value_t = 10_000)]
    users: usize,
    #[arg(long, default_value_t = 10)]
    posts_per_user: usize,
    /// Appends in flight at once.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
}

/// What one step appended: its events' last position, or none when an earlier run did it.
struct Step {
    position: Option<u64>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()))
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    if args.users < 2 || args.concurrency == 0 {
        bail!("--users must be at least 2 and --concurrency positive");
    }
    let pool = MySqlPoolOptions::new().max_connections(args.concurrency as u32 + 4).connect(&args.database_url).await.context("connecting to DATABASE_URL")?;
    migrations::migrator().run(&pool).await.context("creating the tables")?;
    let commands = Commands::new(commands::open_store(pool, &args.data_key_secret).await?);
    let started = Instant::now();
    let users = bench::users::register_all(&commands, args.users, args.concurrency).await?;
    let registered_in = started.elapsed().as_secs_f64();
    eprintln!("{} users in {registered_in:.1} s", users.len());

    let followers = social_graph::followers(args.users);
    let follows_started = Instant::now();
    let follows: Vec<Step> = stream::iter(0..args.users)
        .map(|followee| follow_all(&commands, &users, followee, &followers[followee]))
        .buffer_unordered(args.concurrency)
        .try_collect()
        .await?;
    let follows_in = follows_started.elapsed().as_secs_f64();
    eprintln!("{} follows in {follows_in:.1} s", followers.iter().map(Vec::len).sum::<usize>());

    let posts_started = Instant::now();
    let posts: Vec<Step> = stream::iter(0..args.users)
        .map(|author| write_posts(&commands, users[author], author, args.posts_per_user))
        .buffer_unordered(args.concurrency)
        .try_collect()
        .await?;
    let posts_in = posts_started.elapsed().as_secs_f64();

    let appended = follows.iter().chain(&posts).filter(|step| step.position.is_some()).count();
    println!(
        "{}",
        json!({
            "users": args.users,
            "follows": followers.iter().map(Vec::len).sum::<usize>(),
            "posts": args.users * args.posts_per_user,
            "appends_now": appended,
            "last_position": follows.iter().chain(&posts).filter_map(|step| step.position).max(),
            "register_seconds": (registered_in * 10.0).round() / 10.0,
            "follow_seconds": (follows_in * 10.0).round() / 10.0,
            "post_seconds": (posts_in * 10.0).round() / 10.0,
        })
    );
    Ok(())
}

/// Every follow of `followee`, in one append on its followers' stream.
async fn follow_all(commands: &Commands, users: &[Uuid], followee: usize, followers: &[usize]) -> anyhow::Result<Step> {
    let followee_id = users[followee];
    let context = CommandContext::idempotent(format!("social-data:follows:{followee_id}"));
    let now = Utc::now();
    let done = commands
        .kernel
        .transact(&context, |unit| async move {
            let is_private = unit.load(&profile_stream(followee_id)).await?.state.is_private();
            let stream = &followers_stream(followee_id);
            let mut current = unit.load(stream).await?;
            for follower in followers {
                let follow = FollowCommand::Follow { followee: followee_id, follower: users[*follower], is_private, request_id: Uuid::now_v7(), now };
                unit.decide(stream, &mut current, follow)?;
            }
            Ok(())
        })
        .await?;
    Ok(step(done))
}

/// `count` text posts by `author`, in one append.
async fn write_posts(commands: &Commands, author_id: Uuid, author: usize, count: usize) -> anyhow::Result<Step> {
    let context = CommandContext::idempotent(format!("social-data:posts:{author_id}"));
    let posts = (0..count)
        .map(|n| {
            let text = match n % 3 {
                0 => format!("ملاحظة رقم {n} من feed{author}: الإلقاء مهارة تُكتسب بالتدريب."),
                1 => format!("Note {n} from feed{author}: practise your opening line out loud."),
                _ => format!("feed{author} #{n}: today's lesson was about pauses and pace."),
            };
            Ok((Uuid::now_v7(), PostContent::parse(&text)?))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let (posts, now) = (&posts, Utc::now());
    let done = commands
        .kernel
        .transact(&context, |unit| async move {
            for (post_id, content) in posts {
                let stream = &post_stream(*post_id);
                let mut post = unit.create(stream).await?;
                let create = PostCommand::Create {
                    post_id: *post_id,
                    author_id,
                    post_type: PostType::Text,
                    content: Some(content.clone()),
                    media_urls: Vec::new(),
                    shared_post_id: None,
                    now,
                };
                unit.decide(stream, &mut post, create)?;
            }
            Ok(())
        })
        .await?;
    Ok(step(done))
}

fn step<T>(done: Transacted<T>) -> Step {
    match done {
        Transacted::Done { position, .. } => Step { position },
        Transacted::Replayed { .. } => Step { position: None },
    }
}
