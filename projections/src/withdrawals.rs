//! Withdrawal requests and their status, so an admin can find and decide them.

use domain::wallet::WalletEvent;
use event_store::RecordedEvent;
use sqlx::MySqlConnection;

use crate::ProjectionError;
use crate::runtime::{BoxFuture, Projector, Tables};
use crate::wallet::wallet_event;

pub struct WithdrawalsProjector;

impl Projector for WithdrawalsProjector {
    fn name(&self) -> &'static str {
        "withdrawals"
    }

    fn version(&self) -> u32 {
        1
    }

    fn tables(&self) -> &'static [&'static str] {
        &["withdrawals"]
    }

    fn stream_types(&self) -> &'static [&'static str] {
        &[domain::wallet::STREAM_TYPE]
    }

    fn apply<'a>(
        &'a self,
        connection: &'a mut MySqlConnection,
        tables: Tables,
        events: &'a [RecordedEvent],
    ) -> BoxFuture<'a, Result<(), ProjectionError>> {
        Box::pin(async move {
            let table = tables.name("withdrawals");
            for event in events {
                let Some(wallet_event) = wallet_event(event)? else { continue };
                let at = event.recorded_at.naive_utc();
                match wallet_event {
                    WalletEvent::WithdrawalRequested { user_id, withdrawal_id, amount, .. } => {
                        sqlx::query(sqlx::AssertSqlSafe(format!(
                            "INSERT INTO {table} (id, user_id, amount, status, requested_at, last_position) VALUES (?, ?, ?, 'pending', ?, ?)"
                        )))
                        .bind(withdrawal_id)
                        .bind(user_id)
                        .bind(amount.amount())
                        .bind(at)
                        .bind(event.position)
                        .execute(&mut *connection)
                        .await?;
                    }
                    WalletEvent::WithdrawalCompleted { withdrawal_id, .. } | WalletEvent::WithdrawalRejected { withdrawal_id, .. } => {
                        let status = if matches!(wallet_event, WalletEvent::WithdrawalCompleted { .. }) { "completed" } else { "rejected" };
                        sqlx::query(sqlx::AssertSqlSafe(format!(
                            "UPDATE {table} SET status = ?, decided_at = ?, last_position = ? WHERE id = ?"
                        )))
                        .bind(status)
                        .bind(at)
                        .bind(event.position)
                        .bind(withdrawal_id)
                        .execute(&mut *connection)
                        .await?;
                    }
                    _ => {}
                }
            }
            Ok(())
        })
    }
}
