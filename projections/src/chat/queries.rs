//! Reads of the chat read models. Every read names the reader, and only a participant's rows
//! answer: for anyone else a conversation does not exist.

use sqlx::mysql::MySqlRow;
use sqlx::{MySqlPool, Row};
use uuid::Uuid;

use crate::Range;
use crate::social::queries::{PERSON_COLUMNS, PersonRow, person};

#[derive(Clone, Debug, PartialEq)]
pub struct MessageRow {
    pub id: Uuid,
    pub conversation_id: Uuid,
    pub sender: PersonRow,
    pub message_type: String,
    /// None once deleted, or once its sender is erased.
    pub body: Option<String>,
    pub media_urls: Vec<String>,
    pub reply_to_id: Option<Uuid>,
    pub is_deleted: bool,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ConversationRow {
    pub id: Uuid,
    pub other: PersonRow,
    pub unread_count: u32,
    pub started_at: chrono::DateTime<chrono::Utc>,
    pub last_message: Option<MessageRow>,
}

/// Where a page of messages starts: before this message of the conversation, or at the newest.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Before {
    Newest,
    Message(Uuid),
}

/// The message columns with the sender (`s`: users, `sp`: profiles), from `m`.
const MESSAGE_COLUMNS: &str = "m.id, m.conversation_id, s.id, s.username, s.name, sp.avatar_url, m.type, m.body, m.media_urls, m.reply_to_id, m.is_deleted, m.created_at";
const MESSAGE_FROM: &str = "FROM messages m JOIN users s ON s.id = m.sender_id LEFT JOIN profiles sp ON sp.user_id = s.id";

#[derive(Clone)]
pub struct ChatQueries {
    pool: MySqlPool,
}

impl ChatQueries {
    pub fn new(pool: MySqlPool) -> Self {
        Self { pool }
    }

    /// The reader's conversations that have a message, the most recently active first.
    pub async fn conversations(&self, reader: Uuid, page: u64, per_page: u64) -> Result<(u64, Vec<ConversationRow>), sqlx::Error> {
        let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM conversation_members WHERE user_id = ? AND last_activity_seq IS NOT NULL")
            .bind(reader)
            .fetch_one(&self.pool)
            .await?;
        let ids: Vec<Uuid> = sqlx::query_scalar(
            "SELECT conversation_id FROM conversation_members WHERE user_id = ? AND last_activity_seq IS NOT NULL ORDER BY last_activity_seq DESC LIMIT ? OFFSET ?",
        )
        .bind(reader)
        .bind(per_page)
        .bind(page.saturating_sub(1).saturating_mul(per_page))
        .fetch_all(&self.pool)
        .await?;
        let mut rows = Vec::with_capacity(ids.len());
        for id in ids {
            rows.extend(self.conversation(reader, id).await?);
        }
        Ok((total as u64, rows))
    }

    /// One of the reader's conversations, with its last message.
    pub async fn conversation(&self, reader: Uuid, conversation_id: Uuid) -> Result<Option<ConversationRow>, sqlx::Error> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT cm.conversation_id, cm.unread_count, c.started_at, c.last_message_id, {PERSON_COLUMNS} FROM conversation_members cm \
             JOIN conversations c ON c.id = cm.conversation_id JOIN users u ON u.id = cm.other_id LEFT JOIN profiles pr ON pr.user_id = u.id \
             WHERE cm.conversation_id = ? AND cm.user_id = ?"
        )))
        .bind(conversation_id)
        .bind(reader)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let last_message_id: Option<Uuid> = row.try_get(3)?;
        let last_message = match last_message_id {
            Some(id) => self.message(id).await?,
            None => None,
        };
        Ok(Some(ConversationRow {
            id: row.try_get(0)?,
            unread_count: row.try_get(1)?,
            started_at: row.try_get::<chrono::NaiveDateTime, _>(2)?.and_utc(),
            other: person(&row, 4)?,
            last_message,
        }))
    }

    /// A page of the conversation's messages, newest first; `None` when `before` is not one of
    /// its messages. The caller has checked the reader is in it.
    pub async fn messages(&self, conversation_id: Uuid, before: Before, limit: u64) -> Result<Option<Vec<MessageRow>>, sqlx::Error> {
        let below = match before {
            Before::Newest => u64::MAX,
            Before::Message(id) => {
                let seq: Option<u64> = sqlx::query_scalar("SELECT seq FROM messages WHERE id = ? AND conversation_id = ?").bind(id).bind(conversation_id).fetch_optional(&self.pool).await?;
                let Some(seq) = seq else { return Ok(None) };
                seq
            }
        };
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {MESSAGE_COLUMNS} {MESSAGE_FROM} WHERE m.conversation_id = ? AND m.seq < ? ORDER BY m.seq DESC LIMIT ?")))
            .bind(conversation_id)
            .bind(below)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        Ok(Some(rows.iter().map(message).collect::<Result<_, _>>()?))
    }

    pub async fn message(&self, message_id: Uuid) -> Result<Option<MessageRow>, sqlx::Error> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {MESSAGE_COLUMNS} {MESSAGE_FROM} WHERE m.id = ?"))).bind(message_id).fetch_optional(&self.pool).await?;
        row.as_ref().map(message).transpose()
    }

    /// The conversation of a message the reader can see (they are in its conversation).
    pub async fn conversation_of_message(&self, reader: Uuid, message_id: Uuid) -> Result<Option<Uuid>, sqlx::Error> {
        sqlx::query_scalar("SELECT m.conversation_id FROM messages m JOIN conversation_members cm ON cm.conversation_id = m.conversation_id AND cm.user_id = ? WHERE m.id = ?")
            .bind(reader)
            .bind(message_id)
            .fetch_optional(&self.pool)
            .await
    }

    /// The messages sent or deleted in `range` (to one participant, or to all), each at the
    /// position that did it, in order: (position, participant, message), a row per participant.
    pub async fn pushed(&self, range: Range, user: Option<Uuid>) -> Result<Vec<(u64, Uuid, MessageRow)>, sqlx::Error> {
        let mut pushed = Vec::new();
        for column in ["seq", "changed_seq"] {
            let of_user = if user.is_some() { "AND cm.user_id = ?" } else { "" };
            let query = format!(
                "SELECT {MESSAGE_COLUMNS}, m.{column}, cm.user_id {MESSAGE_FROM} JOIN conversation_members cm ON cm.conversation_id = m.conversation_id \
                 WHERE m.{column} > ? AND m.{column} <= ? {of_user}"
            );
            let rows = range.bind(sqlx::query(sqlx::AssertSqlSafe(query)), user).fetch_all(&self.pool).await?;
            for row in &rows {
                pushed.push((row.try_get(12)?, row.try_get(13)?, message(row)?));
            }
        }
        pushed.sort_by_key(|(position, _, _)| *position);
        Ok(pushed)
    }

    pub async fn is_participant(&self, reader: Uuid, conversation_id: Uuid) -> Result<bool, sqlx::Error> {
        let found: Option<Uuid> = sqlx::query_scalar("SELECT conversation_id FROM conversation_members WHERE conversation_id = ? AND user_id = ?")
            .bind(conversation_id)
            .bind(reader)
            .fetch_optional(&self.pool)
            .await?;
        Ok(found.is_some())
    }
}

fn message(row: &MySqlRow) -> Result<MessageRow, sqlx::Error> {
    let media: String = row.try_get(8)?;
    Ok(MessageRow {
        id: row.try_get(0)?,
        conversation_id: row.try_get(1)?,
        sender: person(row, 2)?,
        message_type: row.try_get(6)?,
        body: row.try_get(7)?,
        media_urls: serde_json::from_str(&media).unwrap_or_default(),
        reply_to_id: row.try_get(9)?,
        is_deleted: row.try_get(10)?,
        created_at: row.try_get::<chrono::NaiveDateTime, _>(11)?.and_utc(),
    })
}
