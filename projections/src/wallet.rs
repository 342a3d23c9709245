//! Wallet read models: one balance row per wallet, and one transaction row per money movement
//! with the `balance_after` the event recorded.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use domain::wallet::{STREAM_TYPE, WalletEvent};
use event_store::RecordedEvent;
use rust_decimal::Decimal;
use sqlx::{MySql, MySqlConnection, QueryBuilder};
use uuid::Uuid;

use crate::runtime::{BoxFuture, Prepared, Projector, Tables};
use crate::ProjectionError;

/// Rows per multi-row INSERT: 13 placeholders each stays just under the 65,535 MySQL allows.
const INSERT_ROWS_MAX: usize = 5000;

pub struct WalletProjector;

/// One row of `wallet_transactions`.
#[derive(Clone, Debug, PartialEq)]
pub struct TransactionRow {
    pub id: Uuid,
    pub position: u64,
    pub user_id: Uuid,
    pub direction: &'static str,
    pub category: &'static str,
    pub amount: Decimal,
    pub balance_after: Decimal,
    pub pending_balance_after: Decimal,
    pub reference: String,
    pub related_type: &'static str,
    pub related_id: Uuid,
    pub description: String,
    pub created_at: DateTime<Utc>,
}

/// Decodes a recorded wallet event; `None` for other streams.
pub(crate) fn wallet_event(event: &RecordedEvent) -> Result<Option<WalletEvent>, ProjectionError> {
    if event.stream.stream_type != STREAM_TYPE {
        return Ok(None);
    }
    WalletEvent::from_payload_ref(&event.event_type, event.schema_version, &event.payload)
        .map(Some)
        .map_err(|e| ProjectionError::Decode { position: event.position, reason: e.to_string() })
}

/// The transaction a wallet event shows its owner, if any: opening a wallet and completing a
/// withdrawal (the money left at the request) move nothing the owner holds.
pub fn transaction_row(event: &RecordedEvent, wallet_event: &WalletEvent) -> Option<TransactionRow> {
    let (direction, category, amount, related_type, related_id, description) = match wallet_event {
        WalletEvent::WalletOpened { .. } | WalletEvent::WithdrawalCompleted { .. } => return None,
        WalletEvent::TopUpCaptured { top_up_id, provider, amount, .. } => {
            ("credit", "top_up", amount, "top_up", *top_up_id, format!("Wallet top-up via {provider}"))
        }
        WalletEvent::WalletDebited { order_id, category, amount, description, .. } => {
            ("debit", category.as_str(), amount, "order", *order_id, description.clone())
        }
        WalletEvent::EarningsAdded { order_id, amount, description, .. } => {
            ("credit", "earning", amount, "order", *order_id, description.clone())
        }
        WalletEvent::PendingSettled { amount, order_ids, .. } => (
            "credit",
            "settlement",
            amount,
            "settlement",
            event.event_id,
            format!("Earnings released from {} order(s)", order_ids.len()),
        ),
        WalletEvent::WithdrawalRequested { withdrawal_id, amount, .. } => {
            ("debit", "withdrawal", amount, "withdrawal", *withdrawal_id, "Withdrawal requested".to_owned())
        }
        WalletEvent::WithdrawalRejected { withdrawal_id, amount, reason, .. } => (
            "credit",
            "withdrawal",
            amount,
            "withdrawal",
            *withdrawal_id,
            format!("Withdrawal rejected: {reason}"),
        ),
    };
    Some(TransactionRow {
        id: event.event_id,
        position: event.position,
        user_id: wallet_event.user_id(),
        direction,
        category,
        amount: amount.amount(),
        balance_after: wallet_event.balance_after()?.amount(),
        pending_balance_after: wallet_event.pending_balance_after()?.amount(),
        reference: related_id.to_string(),
        related_type,
        related_id,
        description: description.chars().take(255).collect(),
        created_at: event.recorded_at,
    })
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
        "wallets"
    }

    fn version(&self) -> u32 {
        1
    }

    fn tables(&self) -> &'static [&'static str] {
        &["wallet_balances", "wallet_transactions"]
    }

    fn handles(&self, event: &RecordedEvent) -> bool {
        event.stream.stream_type == STREAM_TYPE
    }

    fn prepare(&self, events: &[RecordedEvent]) -> Result<Box<dyn Prepared>, ProjectionError> {
        {
            let mut rows = Vec::new();
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
                    WalletEvent::WithdrawalCompleted { amount, .. } => change.withdrawn += amount.amount(),
                    _ => {}
                }
                rows.extend(transaction_row(event, &wallet_event));
            }
            Ok(Box::new(WalletBatch { rows, balances }))
        }
    }
}

struct WalletBatch {
    rows: Vec<TransactionRow>,
    balances: HashMap<Uuid, BalanceChange>,
}

impl Prepared for WalletBatch {
    fn write<'a>(self: Box<Self>, connection: &'a mut MySqlConnection, tables: Tables) -> BoxFuture<'a, Result<(), ProjectionError>> {
        Box::pin(async move {
            insert_transactions(connection, tables, &self.rows).await?;
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
            "INSERT INTO {} (id, position, user_id, direction, category, amount, balance_after, pending_balance_after, \
             reference, related_type, related_id, description, created_at) ",
            tables.name("wallet_transactions")
        ));
        query.push_values(chunk, |mut values, row| {
            values
                .push_bind(row.id)
                .push_bind(row.position)
                .push_bind(row.user_id)
                .push_bind(row.direction)
                .push_bind(row.category)
                .push_bind(row.amount)
                .push_bind(row.balance_after)
                .push_bind(row.pending_balance_after)
                .push_bind(row.reference.as_str())
                .push_bind(row.related_type)
                .push_bind(row.related_id)
                .push_bind(row.description.as_str())
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
