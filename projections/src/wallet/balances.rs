//! Wallet read models: one balance row per wallet, and one transaction row per money movement
//! with the `balance_after` the event recorded.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use domain::kernel::{DomainEvent, EventType};
use domain::money::Money;
use domain::wallet::WalletEvent;
use event_store::RecordedEvent;
use rust_decimal::Decimal;
use sqlx::{MySql, MySqlConnection, QueryBuilder};
use uuid::Uuid;

use crate::runtime::{BoxFuture, Prepared, Projector, Tables};
use crate::ProjectionError;

/// Rows per multi-row INSERT: 15 placeholders each stays under the 65,535 MySQL allows.
const INSERT_ROWS_MAX: usize = 4000;

pub struct WalletProjector;

impl WalletProjector {
    pub const NAME: &'static str = "wallets";
}

/// One row of `wallet_transactions`.
#[derive(Clone, Debug, PartialEq)]
pub struct TransactionRow {
    pub id: Uuid,
    pub position: u64,
    pub user_id: Uuid,
    pub direction: &'static str,
    pub category: &'static str,
    pub status: &'static str,
    pub amount: Decimal,
    pub balance_after: Decimal,
    pub pending_balance_after: Decimal,
    pub reference: String,
    pub related_type: &'static str,
    pub related_id: Uuid,
    /// In English, and in Arabic: the reader's language is chosen when read.
    pub description: String,
    pub description_ar: String,
    pub created_at: DateTime<Utc>,
}

/// A later event's change to an earlier earning's row: released, or reversed.
#[derive(Clone, Debug, PartialEq)]
pub struct EarningStatusChange {
    pub user_id: Uuid,
    pub earning_id: Uuid,
    pub status: &'static str,
}

/// Decodes a recorded wallet event; `None` for other events.
pub(crate) fn wallet_event(event: &RecordedEvent) -> Result<Option<WalletEvent>, ProjectionError> {
    crate::decode(event)
}

/// The transaction a wallet event shows its owner, if any: opening a wallet and completing a
/// withdrawal (the money left at the request) move nothing the owner holds. An earning's row is
/// found again by its `reference`, the earning id.
pub fn transaction_row(event: &RecordedEvent, wallet_event: &WalletEvent) -> Option<TransactionRow> {
    // Titles of what was bought are the same in both languages; the platform's own words are not.
    let same = |text: &String| (text.clone(), text.clone());
    let (direction, category, status, amount, related_type, related_id, reference, (description, description_ar)) = match wallet_event {
        WalletEvent::WalletOpened { .. } | WalletEvent::WithdrawalCompleted { .. } => return None,
        WalletEvent::TopUpCaptured { top_up_id, provider, amount, .. } => (
            "credit",
            "top_up",
            COMPLETED,
            *amount,
            "top_up",
            *top_up_id,
            *top_up_id,
            (format!("Wallet top-up via {provider}"), format!("شحن المحفظة عبر {provider}")),
        ),
        WalletEvent::WalletDebited { order_id, order_item_id, category, amount, description, .. } => {
            ("debit", category.as_str(), COMPLETED, *amount, "order", *order_id, *order_item_id, same(description))
        }
        WalletEvent::EarningsAdded { earning_id, order_id, category, amount, description, .. } => {
            ("credit", category.as_str(), PENDING, *amount, "order", *order_id, *earning_id, same(description))
        }
        WalletEvent::PendingSettled { amount, order_ids, .. } => (
            "credit",
            "settlement",
            COMPLETED,
            *amount,
            "settlement",
            event.event_id,
            event.event_id,
            (format!("Earnings released from {} order(s)", order_ids.len()), format!("تحرير أرباح {} طلب", order_ids.len())),
        ),
        WalletEvent::EarningReleased { earning_id, order_id, amount, owed_repaid, .. } => {
            let released = amount.checked_sub(*owed_repaid).unwrap_or(Money::ZERO);
            let words = if owed_repaid.is_zero() {
                ("Earnings released".to_owned(), "تحرير أرباح".to_owned())
            } else {
                (format!("Earnings released; {owed_repaid} repaid what was owed"), format!("تحرير أرباح؛ سُدِّد منها {owed_repaid} من المستحق"))
            };
            ("credit", "settlement", COMPLETED, released, "order", *order_id, *earning_id, words)
        }
        WalletEvent::PurchaseRefunded { order_id, order_item_id, amount, description, .. } => (
            "credit",
            "refund",
            COMPLETED,
            *amount,
            "order",
            *order_id,
            *order_item_id,
            (format!("Refund: {description}"), format!("استرداد: {description}")),
        ),
        WalletEvent::EarningReversed { earning_id, order_id, amount, description, .. } => (
            "debit",
            "refund",
            COMPLETED,
            *amount,
            "order",
            *order_id,
            *earning_id,
            (format!("Earning reversed by a refund: {description}"), format!("عكس أرباح بسبب استرداد: {description}")),
        ),
        WalletEvent::WithdrawalRequested { withdrawal_id, amount, .. } => (
            "debit",
            "withdrawal",
            COMPLETED,
            *amount,
            "withdrawal",
            *withdrawal_id,
            *withdrawal_id,
            ("Withdrawal requested".to_owned(), "طلب سحب".to_owned()),
        ),
        WalletEvent::WithdrawalRejected { withdrawal_id, amount, reason, .. } => (
            "credit",
            "withdrawal",
            COMPLETED,
            *amount,
            "withdrawal",
            *withdrawal_id,
            *withdrawal_id,
            (format!("Withdrawal rejected: {reason}"), format!("رُفض طلب السحب: {reason}")),
        ),
    };
    Some(TransactionRow {
        id: event.event_id,
        position: event.position,
        user_id: wallet_event.user_id(),
        direction,
        category,
        status,
        amount: amount.amount(),
        balance_after: wallet_event.balance_after()?.amount(),
        pending_balance_after: wallet_event.pending_balance_after()?.amount(),
        reference: reference.to_string(),
        related_type,
        related_id,
        description: description.chars().take(255).collect(),
        description_ar: description_ar.chars().take(255).collect(),
        created_at: event.recorded_at,
    })
}

const PENDING: &str = "pending";
const COMPLETED: &str = "completed";
const REVERSED: &str = "reversed";

/// What a wallet event does to earlier earnings' rows.
fn earning_status_changes(wallet_event: &WalletEvent) -> Vec<EarningStatusChange> {
    let user_id = wallet_event.user_id();
    let change = |earning_id: &Uuid, status| EarningStatusChange { user_id, earning_id: *earning_id, status };
    match wallet_event {
        // Earnings of that time were named by their order.
        WalletEvent::PendingSettled { order_ids, .. } => order_ids.iter().map(|order_id| change(order_id, COMPLETED)).collect(),
        WalletEvent::EarningReleased { earning_id, .. } => vec![change(earning_id, COMPLETED)],
        WalletEvent::EarningReversed { earning_id, .. } => vec![change(earning_id, REVERSED)],
        _ => Vec::new(),
    }
}

/// What a batch changes in one wallet's balance row.
struct BalanceChange {
    balance: Decimal,
    pending_balance: Decimal,
    earned: Decimal,
    withdrawn: Decimal,
    position: u64,
}

impl Projector for WalletProjector {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    /// 3: earnings have a status, and one release row each.
    fn version(&self) -> u32 {
        3
    }

    fn tables(&self) -> &'static [&'static str] {
        &["wallet_balances", "wallet_transactions", "pending_earnings"]
    }

    fn events(&self) -> &'static [&'static [EventType]] {
        &[WalletEvent::TYPES]
    }

    fn prepare(&self, events: &[RecordedEvent]) -> Result<Box<dyn Prepared>, ProjectionError> {
        {
            let mut rows = Vec::new();
            let mut earnings = Vec::new();
            let mut pending = Vec::new();
            let mut balances: HashMap<Uuid, BalanceChange> = HashMap::new();
            for event in events {
                let Some(wallet_event) = wallet_event(event)? else { continue };
                let change = balances.entry(wallet_event.user_id()).or_insert(BalanceChange {
                    balance: Decimal::ZERO,
                    pending_balance: Decimal::ZERO,
                    earned: Decimal::ZERO,
                    withdrawn: Decimal::ZERO,
                    position: event.position,
                });
                change.position = event.position;
                if let (Some(balance), Some(pending)) = (wallet_event.balance_after(), wallet_event.pending_balance_after()) {
                    change.balance = balance.amount();
                    change.pending_balance = pending.amount();
                }
                match &wallet_event {
                    WalletEvent::EarningsAdded { amount, .. } => change.earned += amount.amount(),
                    WalletEvent::EarningReversed { amount, .. } => change.earned -= amount.amount(),
                    WalletEvent::WithdrawalCompleted { amount, .. } => change.withdrawn += amount.amount(),
                    _ => {}
                }
                rows.extend(transaction_row(event, &wallet_event));
                earnings.extend(earning_status_changes(&wallet_event));
                if let WalletEvent::EarningsAdded { user_id, earning_id, amount, release_at, .. } = &wallet_event {
                    pending.push((*earning_id, *user_id, amount.amount(), *release_at));
                }
            }
            Ok(Box::new(WalletBatch { rows, earnings, pending, balances }))
        }
    }
}

struct WalletBatch {
    rows: Vec<TransactionRow>,
    earnings: Vec<EarningStatusChange>,
    /// Earnings added, for the scheduler: (earning, user, amount, release time).
    pending: Vec<(Uuid, Uuid, Decimal, DateTime<Utc>)>,
    balances: HashMap<Uuid, BalanceChange>,
}

impl Prepared for WalletBatch {
    fn write<'a>(self: Box<Self>, connection: &'a mut MySqlConnection, tables: Tables) -> BoxFuture<'a, Result<(), ProjectionError>> {
        Box::pin(async move {
            insert_transactions(connection, tables, &self.rows).await?;
            for (earning_id, user_id, amount, release_at) in &self.pending {
                let sql = format!("INSERT INTO {} (earning_id, user_id, amount, release_at) VALUES (?, ?, ?, ?)", tables.name("pending_earnings"));
                // Table names are constants, never input.
                sqlx::query(sqlx::AssertSqlSafe(sql)).bind(earning_id).bind(user_id).bind(amount).bind(release_at.naive_utc()).execute(&mut *connection).await?;
            }
            // After the inserts: a release may follow its earning in the same batch.
            for change in &self.earnings {
                let sql = format!("UPDATE {} SET status = ? WHERE user_id = ? AND category IN ('earning', 'gift') AND reference = ?", tables.name("wallet_transactions"));
                sqlx::query(sqlx::AssertSqlSafe(sql)).bind(change.status).bind(change.user_id).bind(change.earning_id.to_string()).execute(&mut *connection).await?;
                let sql = format!("DELETE FROM {} WHERE earning_id = ?", tables.name("pending_earnings"));
                sqlx::query(sqlx::AssertSqlSafe(sql)).bind(change.earning_id).execute(&mut *connection).await?;
            }
            upsert_balances(connection, tables, &self.balances).await
        })
    }
}

async fn insert_transactions(
    connection: &mut MySqlConnection,
    tables: Tables,
    rows: &[TransactionRow],
) -> Result<(), ProjectionError> {
    for chunk in rows.chunks(INSERT_ROWS_MAX) {
        let mut query: QueryBuilder<MySql> = QueryBuilder::new(format!(
            "INSERT INTO {} (id, position, user_id, direction, category, status, amount, balance_after, pending_balance_after, \
             reference, related_type, related_id, description, description_ar, created_at) ",
            tables.name("wallet_transactions")
        ));
        query.push_values(chunk, |mut values, row| {
            values
                .push_bind(row.id)
                .push_bind(row.position)
                .push_bind(row.user_id)
                .push_bind(row.direction)
                .push_bind(row.category)
                .push_bind(row.status)
                .push_bind(row.amount)
                .push_bind(row.balance_after)
                .push_bind(row.pending_balance_after)
                .push_bind(row.reference.as_str())
                .push_bind(row.related_type)
                .push_bind(row.related_id)
                .push_bind(row.description.as_str())
                .push_bind(row.description_ar.as_str())
                .push_bind(row.created_at.naive_utc());
        });
        query.build().execute(&mut *connection).await?;
    }
    Ok(())
}

async fn upsert_balances(
    connection: &mut MySqlConnection,
    tables: Tables,
    balances: &HashMap<Uuid, BalanceChange>,
) -> Result<(), ProjectionError> {
    let balances: Vec<(&Uuid, &BalanceChange)> = balances.iter().collect();
    for chunk in balances.chunks(INSERT_ROWS_MAX) {
        let mut query: QueryBuilder<MySql> = QueryBuilder::new(format!(
            "INSERT INTO {} (user_id, balance, pending_balance, total_earned, total_withdrawn, currency, last_position) ",
            tables.name("wallet_balances")
        ));
        query.push_values(chunk, |mut values, (user_id, change)| {
            values
                .push_bind(**user_id)
                .push_bind(change.balance)
                .push_bind(change.pending_balance)
                .push_bind(change.earned)
                .push_bind(change.withdrawn)
                .push_bind(domain::money::CURRENCY)
                .push_bind(change.position);
        });
        // Balances are absolute (the event recorded them); lifetime totals accumulate.
        query.push(
            " ON DUPLICATE KEY UPDATE balance = VALUES(balance), pending_balance = VALUES(pending_balance), \
             total_earned = total_earned + VALUES(total_earned), total_withdrawn = total_withdrawn + VALUES(total_withdrawn), \
             last_position = VALUES(last_position)",
        );
        query.build().execute(&mut *connection).await?;
    }
    Ok(())
}
