//! The benchmarks' users, registered through the command kernel (one argon2 hash for all: it is
//! slow on purpose): user `i` is `social_graph::username(i)` with `social_graph::PASSWORD`, a
//! speaker every tenth, Arabic-speaking every other. Keyed, so a second run registers nobody.

use anyhow::Context;
use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHasher, SaltString};
use chrono::Utc;
use commands::users::Registration;
use commands::{CommandContext, Commands};
use domain::users::{DisplayName, Email, Language, Role, Username};
use futures::{StreamExt, TryStreamExt, stream};
use uuid::Uuid;

use crate::social_graph::{PASSWORD, username};

/// Users `0..count`, `concurrency` registrations at a time: their ids, in order.
pub async fn register_all(commands: &Commands, count: usize, concurrency: usize) -> anyhow::Result<Vec<Uuid>> {
    let password_hash = Argon2::default().hash_password(PASSWORD.as_bytes(), &SaltString::generate(&mut OsRng)).map_err(|e| anyhow::anyhow!("{e}"))?.to_string();
    stream::iter(0..count).map(|user| register(commands, user, &password_hash)).buffered(concurrency).try_collect().await
}

async fn register(commands: &Commands, user: usize, password_hash: &str) -> anyhow::Result<Uuid> {
    let username = username(user);
    let role = if user.is_multiple_of(10) { Role::Speaker } else { Role::Student };
    let registration = Registration {
        name: DisplayName::parse(&format!("Feed reader {user}"))?,
        username: Username::parse(&username)?,
        email: Email::parse(&format!("{username}@bench.local"))?,
        password_hash: password_hash.to_owned(),
        roles: domain::users::granted_roles(&[role])?,
        language: if user.is_multiple_of(2) { Language::Ar } else { Language::En },
        registered_at: Utc::now(),
    };
    let context = CommandContext::idempotent(format!("social-data:register:{username}"));
    let registered = commands.users.register(registration, context).await.with_context(|| format!("registering {username}"))?;
    Ok(registered.user_id)
}
