//! What the API reads from the gifts read models.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::mysql::MySqlRow;
use sqlx::{MySqlPool, Row};
use uuid::Uuid;

#[derive(Clone, Debug, PartialEq)]
pub struct GiftRow {
    pub id: Uuid,
    pub name_en: String,
    pub name_ar: String,
    pub icon_url: String,
    pub price: Decimal,
    pub sort_order: u32,
    pub is_active: bool,
}

/// A gift sent, with the gift's names and the other party.
#[derive(Clone, Debug, PartialEq)]
pub struct TransferRow {
    pub id: Uuid,
    pub gift: GiftRow,
    pub sender_id: Uuid,
    pub sender_name: String,
    pub receiver_id: Uuid,
    pub receiver_name: String,
    pub quantity: u32,
    pub total: Decimal,
    pub message: Option<String>,
    pub context_type: Option<String>,
    pub context_id: Option<Uuid>,
    pub order_id: Uuid,
    pub sent_at: DateTime<Utc>,
}

/// Which side of a gift the reader is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GiftSide {
    Sent,
    Received,
}

#[derive(Clone)]
pub struct GiftQueries {
    pool: MySqlPool,
}

const GIFT_COLUMNS: &str = "g.id, g.name_en, g.name_ar, g.icon_url, g.price, g.sort_order, g.is_active";

impl GiftQueries {
    pub fn new(pool: MySqlPool) -> Self {
        Self { pool }
    }

    /// The catalogue in its order: the active gifts, or every gift (for admins).
    pub async fn gifts(&self, active_only: bool) -> Result<Vec<GiftRow>, sqlx::Error> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {GIFT_COLUMNS} FROM gifts g WHERE g.is_active OR ? = FALSE ORDER BY g.sort_order, g.name_en, g.id"
        )))
        .bind(active_only)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|row| gift(row, 0)).collect()
    }

    /// The gifts a user sent or received, newest first.
    pub async fn transfers(&self, user_id: Uuid, side: GiftSide, page: u64, per_page: u64) -> Result<(u64, Vec<TransferRow>), sqlx::Error> {
        let mine = match side {
            GiftSide::Sent => "t.sender_id",
            GiftSide::Received => "t.receiver_id",
        };
        let total: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM gift_transfers t WHERE {mine} = ?"))).bind(user_id).fetch_one(&self.pool).await?;
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {GIFT_COLUMNS}, t.id, t.sender_id, s.name, t.receiver_id, r.name, t.quantity, t.total, t.message, t.context_type, t.context_id, \
             t.order_id, t.sent_at FROM gift_transfers t JOIN gifts g ON g.id = t.gift_id JOIN users s ON s.id = t.sender_id \
             JOIN users r ON r.id = t.receiver_id WHERE {mine} = ? ORDER BY t.seq DESC LIMIT ? OFFSET ?"
        )))
        .bind(user_id)
        .bind(per_page)
        .bind(page.saturating_sub(1).saturating_mul(per_page))
        .fetch_all(&self.pool)
        .await?;
        let transfer = |row: &MySqlRow| -> Result<TransferRow, sqlx::Error> {
            Ok(TransferRow {
                gift: gift(row, 0)?,
                id: row.try_get(7)?,
                sender_id: row.try_get(8)?,
                sender_name: row.try_get(9)?,
                receiver_id: row.try_get(10)?,
                receiver_name: row.try_get(11)?,
                quantity: row.try_get(12)?,
                total: row.try_get(13)?,
                message: row.try_get(14)?,
                context_type: row.try_get(15)?,
                context_id: row.try_get(16)?,
                order_id: row.try_get(17)?,
                sent_at: row.try_get::<chrono::NaiveDateTime, _>(18)?.and_utc(),
            })
        };
        Ok((total as u64, rows.iter().map(transfer).collect::<Result<_, _>>()?))
    }
}

fn gift(row: &MySqlRow, first: usize) -> Result<GiftRow, sqlx::Error> {
    Ok(GiftRow {
        id: row.try_get(first)?,
        name_en: row.try_get(first + 1)?,
        name_ar: row.try_get(first + 2)?,
        icon_url: row.try_get(first + 3)?,
        price: row.try_get(first + 4)?,
        sort_order: row.try_get(first + 5)?,
        is_active: row.try_get(first + 6)?,
    })
}
