//! What the API reads from the users read models.

use sqlx::MySqlPool;
use uuid::Uuid;

#[derive(Clone)]
pub struct UserQueries {
    pool: MySqlPool,
}

impl UserQueries {
    pub fn new(pool: MySqlPool) -> Self {
        Self { pool }
    }

    /// Whether a token was revoked at logout.
    pub async fn is_token_revoked(&self, token_id: Uuid) -> Result<bool, sqlx::Error> {
        let revoked: Option<i32> =
            sqlx::query_scalar("SELECT 1 FROM revoked_tokens WHERE token_id = ?").bind(token_id).fetch_optional(&self.pool).await?;
        Ok(revoked.is_some())
    }

    /// The tokens revoked in `range`.
    pub async fn revoked_in(&self, range: crate::Range) -> Result<Vec<Uuid>, sqlx::Error> {
        range.bind(sqlx::query("SELECT token_id FROM revoked_tokens WHERE position > ? AND position <= ?"), None)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|row| sqlx::Row::try_get(row, 0))
            .collect()
    }

    /// The id of the user with this username (as stored: byte for byte), if there is one.
    pub async fn id_of_username(&self, username: &str) -> Result<Option<Uuid>, sqlx::Error> {
        sqlx::query_scalar("SELECT id FROM users WHERE username = ?").bind(username).fetch_optional(&self.pool).await
    }
}
