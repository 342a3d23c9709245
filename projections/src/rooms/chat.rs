//! Reads of live rooms' chats: a room's messages, newest first, and what a range of positions
//! posted or changed (for the WebSocket gateway).

use sqlx::mysql::MySqlRow;
use sqlx::{MySqlPool, Row};
use uuid::Uuid;

use crate::Range;
use crate::chat::queries::Before;
use crate::social::queries::{PersonRow, person};

#[derive(Clone, Debug, PartialEq)]
pub struct RoomMessageRow {
    pub id: Uuid,
    pub room_id: Uuid,
    pub author: PersonRow,
    pub message_type: String,
    /// None once deleted, or once its author is erased.
    pub body: Option<String>,
    pub parent_id: Option<Uuid>,
    pub is_pinned: bool,
    pub is_deleted: bool,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// The message columns with the author (`u`: users, `pr`: profiles), from `m`.
const COLUMNS: &str = "m.id, m.room_id, u.id, u.username, u.name, pr.avatar_url, m.type, m.body, m.parent_id, m.is_pinned, m.is_deleted, m.created_at";
const FROM: &str = "FROM room_messages m JOIN users u ON u.id = m.author_id LEFT JOIN profiles pr ON pr.user_id = u.id";

#[derive(Clone)]
pub struct RoomChatQueries {
    pool: MySqlPool,
}

impl RoomChatQueries {
    pub fn new(pool: MySqlPool) -> Self {
        Self { pool }
    }

    /// A page of the room's messages, newest first (`pinned_only`: the pinned ones); `None`
    /// when `before` is not one of its messages.
    pub async fn messages(&self, room_id: Uuid, before: Before, pinned_only: bool, limit: u64) -> Result<Option<Vec<RoomMessageRow>>, sqlx::Error> {
        let below = match before {
            Before::Newest => u64::MAX,
            Before::Message(id) => {
                let seq: Option<u64> = sqlx::query_scalar("SELECT seq FROM room_messages WHERE id = ? AND room_id = ?").bind(id).bind(room_id).fetch_optional(&self.pool).await?;
                let Some(seq) = seq else { return Ok(None) };
                seq
            }
        };
        let pinned = if pinned_only { "AND m.is_pinned" } else { "" };
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} {FROM} WHERE m.room_id = ? AND m.seq < ? {pinned} ORDER BY m.seq DESC LIMIT ?")))
            .bind(room_id)
            .bind(below)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        Ok(Some(rows.iter().map(room_message).collect::<Result<_, _>>()?))
    }

    /// One message of the room's.
    pub async fn message(&self, room_id: Uuid, message_id: Uuid) -> Result<Option<RoomMessageRow>, sqlx::Error> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} {FROM} WHERE m.id = ? AND m.room_id = ?"))).bind(message_id).bind(room_id).fetch_optional(&self.pool).await?;
        row.as_ref().map(room_message).transpose()
    }

    /// The messages posted, pinned, unpinned or deleted in `range` (of one room, or of all), each
    /// at the position that did it, in order. A message changed later shows as it is now.
    pub async fn pushed(&self, range: Range, room: Option<Uuid>) -> Result<Vec<(u64, RoomMessageRow)>, sqlx::Error> {
        let mut pushed = Vec::new();
        for column in ["seq", "changed_seq"] {
            let of_room = if room.is_some() { "AND m.room_id = ?" } else { "" };
            let query = format!("SELECT {COLUMNS}, m.{column} {FROM} WHERE m.{column} > ? AND m.{column} <= ? {of_room}");
            let rows = range.bind(sqlx::query(sqlx::AssertSqlSafe(query)), room).fetch_all(&self.pool).await?;
            for row in &rows {
                pushed.push((row.try_get(12)?, room_message(row)?));
            }
        }
        pushed.sort_by_key(|(position, _)| *position);
        Ok(pushed)
    }
}

fn room_message(row: &MySqlRow) -> Result<RoomMessageRow, sqlx::Error> {
    Ok(RoomMessageRow {
        id: row.try_get(0)?,
        room_id: row.try_get(1)?,
        author: person(row, 2)?,
        message_type: row.try_get(6)?,
        body: row.try_get(7)?,
        parent_id: row.try_get(8)?,
        is_pinned: row.try_get(9)?,
        is_deleted: row.try_get(10)?,
        created_at: row.try_get::<chrono::NaiveDateTime, _>(11)?.and_utc(),
    })
}
