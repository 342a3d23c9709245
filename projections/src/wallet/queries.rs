//! What the API reads from the wallet read models.

use chrono::{DateTime, NaiveDateTime, Utc};
use rust_decimal::Decimal;
use sqlx::{MySqlPool, Row};
use tokio::sync::watch;
use uuid::Uuid;

/// Balance rows kept in memory.
const CACHED_BALANCES_MAX: u64 = 100_000;

/// A wallet's balances; zeros for a wallet the read model has not seen yet.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Balance {
    pub balance: Decimal,
    pub pending_balance: Decimal,
    pub total_earned: Decimal,
    pub total_withdrawn: Decimal,
}

/// One `wallet_transactions` row.
#[derive(Clone, Debug, PartialEq)]
pub struct Transaction {
    pub id: Uuid,
    pub direction: String,
    pub category: String,
    /// `pending` for an earning not released yet, `reversed` for one taken back, else `completed`.
    pub status: String,
    pub amount: Decimal,
    pub balance_after: Decimal,
    pub reference: String,
    pub related_type: String,
    pub related_id: Uuid,
    pub description: String,
    pub description_ar: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Clone)]
pub struct WalletQueries {
    pool: MySqlPool,
    /// The wallet projector's applied position.
    applied: watch::Receiver<u64>,
    /// Balances, with the wallet projector's position they were read at: an entry serves only
    /// while that projector has applied nothing newer, so it is never staler than the table.
    cache: moka::future::Cache<Uuid, (Balance, u64)>,
}

/// A wallet's balances after a transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BalanceAfter {
    pub balance: Decimal,
    pub pending_balance: Decimal,
}

impl WalletQueries {
    /// The balances each transaction of `range` left (for one user, or for all), in order:
    /// (position, wallet owner, balances).
    pub async fn pushed(&self, range: crate::Range, user: Option<Uuid>) -> Result<Vec<(u64, Uuid, BalanceAfter)>, sqlx::Error> {
        let of_user = if user.is_some() { "AND user_id = ?" } else { "" };
        let query = format!(
            "SELECT position, user_id, balance_after, pending_balance_after FROM wallet_transactions WHERE position > ? AND position <= ? {of_user} ORDER BY position"
        );
        let rows = range.bind(sqlx::query(sqlx::AssertSqlSafe(query)), user).fetch_all(&self.pool).await?;
        rows.iter()
            .map(|row| Ok((row.try_get(0)?, row.try_get(1)?, BalanceAfter { balance: row.try_get(2)?, pending_balance: row.try_get(3)? })))
            .collect()
    }

    pub fn new(pool: MySqlPool, applied: watch::Receiver<u64>) -> Self {
        Self { pool, applied, cache: moka::future::Cache::new(CACHED_BALANCES_MAX) }
    }

    pub async fn balance(&self, user_id: Uuid) -> Result<Balance, sqlx::Error> {
        let applied = *self.applied.borrow();
        if let Some((balance, at)) = self.cache.get(&user_id).await
            && at == applied
        {
            return Ok(balance);
        }
        let row = sqlx::query("SELECT balance, pending_balance, total_earned, total_withdrawn FROM wallet_balances WHERE user_id = ?")
            .bind(user_id)
            .fetch_optional(&self.pool)
            .await?;
        let balance = match row {
            None => Balance::default(),
            Some(row) => Balance {
                balance: row.try_get(0)?,
                pending_balance: row.try_get(1)?,
                total_earned: row.try_get(2)?,
                total_withdrawn: row.try_get(3)?,
            },
        };
        self.cache.insert(user_id, (balance, applied)).await;
        Ok(balance)
    }

    /// One page of a wallet's transactions, newest first, with the total count.
    pub async fn transactions(&self, user_id: Uuid, category: Option<&str>, page: u64, per_page: u64) -> Result<(u64, Vec<Transaction>), sqlx::Error> {
        let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM wallet_transactions WHERE user_id = ? AND (? IS NULL OR category = ?)")
            .bind(user_id)
            .bind(category)
            .bind(category)
            .fetch_one(&self.pool)
            .await?;
        let rows = sqlx::query(
            "SELECT id, direction, category, status, amount, balance_after, reference, related_type, related_id, description, description_ar, created_at \
             FROM wallet_transactions WHERE user_id = ? AND (? IS NULL OR category = ?) ORDER BY position DESC LIMIT ? OFFSET ?",
        )
        .bind(user_id)
        .bind(category)
        .bind(category)
        .bind(per_page)
        .bind(page.saturating_sub(1).saturating_mul(per_page))
        .fetch_all(&self.pool)
        .await?;
        let transactions = rows
            .iter()
            .map(|row| {
                Ok(Transaction {
                    id: row.try_get("id")?,
                    direction: row.try_get("direction")?,
                    category: row.try_get("category")?,
                    status: row.try_get("status")?,
                    amount: row.try_get("amount")?,
                    balance_after: row.try_get("balance_after")?,
                    reference: row.try_get("reference")?,
                    related_type: row.try_get("related_type")?,
                    related_id: row.try_get("related_id")?,
                    description: row.try_get("description")?,
                    description_ar: row.try_get("description_ar")?,
                    created_at: row.try_get::<NaiveDateTime, _>("created_at")?.and_utc(),
                })
            })
            .collect::<Result<_, sqlx::Error>>()?;
        Ok((total.max(0) as u64, transactions))
    }

    /// Who requested a withdrawal, if the read model has seen it.
    pub async fn withdrawal_owner(&self, withdrawal_id: Uuid) -> Result<Option<Uuid>, sqlx::Error> {
        sqlx::query_scalar("SELECT user_id FROM withdrawals WHERE id = ?").bind(withdrawal_id).fetch_optional(&self.pool).await
    }

    /// `wallets_with_due_earnings` on this pool.
    pub async fn wallets_with_due_earnings(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<Uuid>, sqlx::Error> {
        wallets_with_due_earnings(&self.pool, now, limit).await
    }
}

/// Up to `limit` wallets with an earning due for release at `now`, as far as the read model
/// knows: the scheduler (and `ispeaker-replay settle`) asks each of them to settle, and each
/// wallet decides on its own events.
pub async fn wallets_with_due_earnings(pool: &MySqlPool, now: DateTime<Utc>, limit: u32) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar("SELECT DISTINCT user_id FROM pending_earnings WHERE release_at <= ? LIMIT ?")
        .bind(now.naive_utc())
        .bind(limit)
        .fetch_all(pool)
        .await
}
