//! User read models: one row per registered user (for listings and admin screens — never for
//! login, which reads the event store, so no password hash is kept here), and one row per
//! revoked token, which every authenticated request checks. An erased user's row keeps no
//! personal data: "deleted user", no username, no email.

use chrono::{DateTime, Utc};
use domain::kernel::{DELETED_USER_NAME, DomainEvent, EventType};
use domain::users::{Role, UserEvent};
use event_store::RecordedEvent;
use sqlx::{MySql, MySqlConnection, QueryBuilder};
use uuid::Uuid;

use crate::ProjectionError;
use crate::runtime::{BoxFuture, Prepared, Projector, Tables};

/// Rows per multi-row INSERT (10 placeholders each at most).
const INSERT_ROWS_MAX: usize = 1000;

pub struct UsersProjector;

impl UsersProjector {
    pub const NAME: &'static str = "users";
}

struct UserRow {
    id: Uuid,
    name: String,
    username: Option<String>,
    email: Option<String>,
    is_erased: bool,
    roles: String,
    is_admin: bool,
    language: &'static str,
    registered_at: DateTime<Utc>,
    position: u64,
}

struct RevokedTokenRow {
    token_id: Uuid,
    user_id: Uuid,
    expires_at: DateTime<Utc>,
    revoked_at: DateTime<Utc>,
    position: u64,
}


impl Projector for UsersProjector {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    /// 2: erased users keep no personal data.
    fn version(&self) -> u32 {
        2
    }

    fn tables(&self) -> &'static [&'static str] {
        &["users", "revoked_tokens"]
    }

    fn events(&self) -> &'static [&'static [EventType]] {
        &[UserEvent::TYPES]
    }

    fn prepare(&self, events: &[RecordedEvent]) -> Result<Box<dyn Prepared>, ProjectionError> {
        {
            let mut users = Vec::new();
            let mut revoked = Vec::new();
            let mut languages = Vec::new();
            for event in events {
                match crate::decode::<UserEvent>(event)? {
                    Some(UserEvent::UserRegistered {
                        user_id,
                        name,
                        username,
                        email,
                        roles,
                        language,
                        registered_at,
                        ..
                    }) => users.push(UserRow {
                        id: user_id,
                        is_erased: email.is_erased(),
                        name: name.known().map_or(DELETED_USER_NAME, |name| name.as_str()).to_owned(),
                        username: username.known().map(|username| username.as_str().to_owned()),
                        email: email.known().map(|email| email.as_str().to_owned()),
                        roles: roles.iter().map(|role| role.as_str()).collect::<Vec<_>>().join(","),
                        is_admin: roles.contains(&Role::Admin),
                        language: language.as_str(),
                        registered_at,
                        position: event.position,
                    }),
                    Some(UserEvent::TokenRevoked { user_id, token_id, expires_at }) => revoked.push(RevokedTokenRow {
                        token_id,
                        user_id,
                        expires_at,
                        revoked_at: event.recorded_at,
                        position: event.position,
                    }),
                    Some(UserEvent::LanguageChanged { user_id, language }) => languages.push((user_id, language.as_str())),
                    // The consultations read model keeps time zones.
                    Some(UserEvent::TimezoneChanged { .. }) | None => {}
                }
            }
            Ok(Box::new(UsersBatch { users, revoked, languages }))
        }
    }
}

struct UsersBatch {
    users: Vec<UserRow>,
    revoked: Vec<RevokedTokenRow>,
    /// Changes of language, in order, after the registrations of the same batch.
    languages: Vec<(Uuid, &'static str)>,
}

impl Prepared for UsersBatch {
    fn write<'a>(self: Box<Self>, connection: &'a mut MySqlConnection, tables: Tables) -> BoxFuture<'a, Result<(), ProjectionError>> {
        Box::pin(async move {
            insert_users(connection, tables, &self.users).await?;
            for (user_id, language) in &self.languages {
                let sql = format!("UPDATE {} SET language = ? WHERE id = ?", tables.name("users"));
                // Table names are constants, never input.
                sqlx::query(sqlx::AssertSqlSafe(sql)).bind(*language).bind(user_id).execute(&mut *connection).await?;
            }
            insert_revoked_tokens(connection, tables, &self.revoked).await
        })
    }
}

async fn insert_users(connection: &mut MySqlConnection, tables: Tables, rows: &[UserRow]) -> Result<(), ProjectionError> {
    for chunk in rows.chunks(INSERT_ROWS_MAX) {
        let mut query: QueryBuilder<MySql> = QueryBuilder::new(format!(
            "INSERT INTO {} (id, name, username, email, is_erased, roles, is_admin, language, registered_at, last_position) ",
            tables.name("users")
        ));
        query.push_values(chunk, |mut values, row| {
            values
                .push_bind(row.id)
                .push_bind(row.name.as_str())
                .push_bind(row.username.as_deref())
                .push_bind(row.email.as_deref())
                .push_bind(row.is_erased)
                .push_bind(row.roles.as_str())
                .push_bind(row.is_admin)
                .push_bind(row.language)
                .push_bind(row.registered_at.naive_utc())
                .push_bind(row.position);
        });
        query.build().execute(&mut *connection).await?;
    }
    Ok(())
}

async fn insert_revoked_tokens(
    connection: &mut MySqlConnection,
    tables: Tables,
    rows: &[RevokedTokenRow],
) -> Result<(), ProjectionError> {
    for chunk in rows.chunks(INSERT_ROWS_MAX) {
        let mut query: QueryBuilder<MySql> = QueryBuilder::new(format!(
            "INSERT INTO {} (token_id, user_id, expires_at, revoked_at, position) ",
            tables.name("revoked_tokens")
        ));
        query.push_values(chunk, |mut values, row| {
            values
                .push_bind(row.token_id)
                .push_bind(row.user_id)
                .push_bind(row.expires_at.naive_utc())
                .push_bind(row.revoked_at.naive_utc())
                .push_bind(row.position);
        });
        // A user's aggregate revokes a token once, but a token id is the API's to choose: should
        // two users' streams ever name the same one, the first revocation stands rather than the
        // projector stopping for good.
        query.push(" ON DUPLICATE KEY UPDATE token_id = token_id");
        query.build().execute(&mut *connection).await?;
    }
    Ok(())
}
