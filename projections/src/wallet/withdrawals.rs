//! Withdrawal requests and their status, so an admin can find and decide them.

use domain::kernel::EventType;
use domain::wallet::{WITHDRAWAL_EVENTS, WalletEvent};
use event_store::RecordedEvent;
use chrono::NaiveDateTime;
use rust_decimal::Decimal;
use sqlx::MySqlConnection;
use uuid::Uuid;

use crate::ProjectionError;
use crate::runtime::{BoxFuture, Prepared, Projector, Tables};
use crate::wallet::balances::wallet_event;

pub struct WithdrawalsProjector;

impl WithdrawalsProjector {
    pub const NAME: &'static str = "withdrawals";
}

impl Projector for WithdrawalsProjector {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn version(&self) -> u32 {
        1
    }

    fn tables(&self) -> &'static [&'static str] {
        &["withdrawals"]
    }

    fn events(&self) -> &'static [&'static [EventType]] {
        &[WITHDRAWAL_EVENTS]
    }

    fn prepare(&self, events: &[RecordedEvent]) -> Result<Box<dyn Prepared>, ProjectionError> {
        let mut changes = Vec::new();
        for event in events {
            let Some(wallet_event) = wallet_event(event)? else { continue };
            let at = event.recorded_at.naive_utc();
            match wallet_event {
                WalletEvent::WithdrawalRequested { user_id, withdrawal_id, amount, .. } => {
                    changes.push(Change::Requested { withdrawal_id, user_id, amount: amount.amount(), at, position: event.position });
                }
                WalletEvent::WithdrawalCompleted { withdrawal_id, .. } => {
                    changes.push(Change::Decided { withdrawal_id, status: "completed", at, position: event.position });
                }
                WalletEvent::WithdrawalRejected { withdrawal_id, .. } => {
                    changes.push(Change::Decided { withdrawal_id, status: "rejected", at, position: event.position });
                }
                _ => {}
            }
        }
        Ok(Box::new(WithdrawalsBatch { changes }))
    }
}

enum Change {
    Requested { withdrawal_id: Uuid, user_id: Uuid, amount: Decimal, at: NaiveDateTime, position: u64 },
    Decided { withdrawal_id: Uuid, status: &'static str, at: NaiveDateTime, position: u64 },
}

/// Withdrawals are rare: one statement per change, in order.
struct WithdrawalsBatch {
    changes: Vec<Change>,
}

impl Prepared for WithdrawalsBatch {
    fn write<'a>(self: Box<Self>, connection: &'a mut MySqlConnection, tables: Tables) -> BoxFuture<'a, Result<(), ProjectionError>> {
        Box::pin(async move {
            let table = tables.name("withdrawals");
            for change in self.changes {
                match change {
                    Change::Requested { withdrawal_id, user_id, amount, at, position } => {
                        sqlx::query(sqlx::AssertSqlSafe(format!(
                            "INSERT INTO {table} (id, user_id, amount, status, requested_at, last_position) VALUES (?, ?, ?, 'pending', ?, ?)"
                        )))
                        .bind(withdrawal_id)
                        .bind(user_id)
                        .bind(amount)
                        .bind(at)
                        .bind(position)
                        .execute(&mut *connection)
                        .await?;
                    }
                    Change::Decided { withdrawal_id, status, at, position } => {
                        sqlx::query(sqlx::AssertSqlSafe(format!(
                            "UPDATE {table} SET status = ?, decided_at = ?, last_position = ? WHERE id = ?"
                        )))
                        .bind(status)
                        .bind(at)
                        .bind(position)
                        .bind(withdrawal_id)
                        .execute(&mut *connection)
                        .await?;
                    }
                }
            }
            Ok(())
        })
    }
}
