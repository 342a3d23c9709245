//! Reads of the notifications read model: a user's own, newest first.

use sqlx::mysql::MySqlRow;
use sqlx::{MySqlPool, Row};
use uuid::Uuid;

use crate::Range;
use crate::social::queries::{PersonRow, person};

#[derive(Clone, Debug, PartialEq)]
pub struct NotificationRow {
    pub id: Uuid,
    pub notification_type: String,
    pub actor: Option<PersonRow>,
    pub subject_type: String,
    pub subject_id: Uuid,
    pub read_at: Option<chrono::DateTime<chrono::Utc>>,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// A notification with its actor (`u`, `pr`), from `n`.
const COLUMNS: &str = "n.id, n.type, n.subject_type, n.subject_id, n.read_at, n.created_at, u.id, u.username, u.name, pr.avatar_url";
const FROM: &str = "FROM notifications n LEFT JOIN users u ON u.id = n.actor_id LEFT JOIN profiles pr ON pr.user_id = u.id";

#[derive(Clone)]
pub struct NotificationQueries {
    pool: MySqlPool,
}

impl NotificationQueries {
    pub fn new(pool: MySqlPool) -> Self {
        Self { pool }
    }

    pub async fn notifications(&self, user_id: Uuid, unread_only: bool, page: u64, per_page: u64) -> Result<(u64, Vec<NotificationRow>), sqlx::Error> {
        let unread = if unread_only { "AND n.read_at IS NULL" } else { "" };
        let total: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM notifications n WHERE n.user_id = ? {unread}")))
            .bind(user_id)
            .fetch_one(&self.pool)
            .await?;
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} {FROM} WHERE n.user_id = ? {unread} ORDER BY n.seq DESC, n.id LIMIT ? OFFSET ?")))
        .bind(user_id)
        .bind(per_page)
        .bind(page.saturating_sub(1).saturating_mul(per_page))
        .fetch_all(&self.pool)
        .await?;
        Ok((total as u64, rows.iter().map(notification).collect::<Result<_, _>>()?))
    }

    pub async fn unread_count(&self, user_id: Uuid) -> Result<u64, sqlx::Error> {
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM notifications WHERE user_id = ? AND read_at IS NULL").bind(user_id).fetch_one(&self.pool).await?;
        Ok(count as u64)
    }

    /// One of the user's notifications; none for anyone else's.
    pub async fn notification(&self, user_id: Uuid, notification_id: Uuid) -> Result<Option<NotificationRow>, sqlx::Error> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} {FROM} WHERE n.id = ? AND n.user_id = ?"))).bind(notification_id).bind(user_id).fetch_optional(&self.pool).await?;
        row.as_ref().map(notification).transpose()
    }

    /// The notifications `range` made (for one user, or for all), in order: (position,
    /// recipient, notification).
    pub async fn pushed(&self, range: Range, user: Option<Uuid>) -> Result<Vec<(u64, Uuid, NotificationRow)>, sqlx::Error> {
        let of_user = if user.is_some() { "AND n.user_id = ?" } else { "" };
        let query = format!("SELECT {COLUMNS}, n.seq, n.user_id {FROM} WHERE n.seq > ? AND n.seq <= ? {of_user} ORDER BY n.seq, n.id");
        let rows = range.bind(sqlx::query(sqlx::AssertSqlSafe(query)), user).fetch_all(&self.pool).await?;
        rows.iter().map(|row| Ok((row.try_get(10)?, row.try_get(11)?, notification(row)?))).collect()
    }
}

fn notification(row: &MySqlRow) -> Result<NotificationRow, sqlx::Error> {
    let actor_id: Option<Uuid> = row.try_get(6)?;
    Ok(NotificationRow {
        id: row.try_get(0)?,
        notification_type: row.try_get(1)?,
        subject_type: row.try_get(2)?,
        subject_id: row.try_get(3)?,
        read_at: row.try_get::<Option<chrono::NaiveDateTime>, _>(4)?.map(|at| at.and_utc()),
        created_at: row.try_get::<chrono::NaiveDateTime, _>(5)?.and_utc(),
        actor: actor_id.map(|_| person(row, 6)).transpose()?,
    })
}
