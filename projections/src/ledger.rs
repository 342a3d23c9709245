//! Ledger account balances: the signed sum of every posting per account (debit positive).
//! Summed over all accounts it is zero, which is what a trial balance checks.

use std::collections::BTreeMap;

use event_store::RecordedEvent;
use rust_decimal::Decimal;
use sqlx::{MySql, MySqlConnection, QueryBuilder};

use crate::runtime::{BoxFuture, Prepared, Projector, Tables};
use crate::wallet::wallet_event;
use crate::ProjectionError;

pub struct LedgerProjector;

impl Projector for LedgerProjector {
    fn name(&self) -> &'static str {
        "ledger"
    }

    fn version(&self) -> u32 {
        1
    }

    fn tables(&self) -> &'static [&'static str] {
        &["ledger_account_balances"]
    }

    fn handles(&self, event: &RecordedEvent) -> bool {
        event.stream.stream_type == domain::wallet::STREAM_TYPE
    }

    fn prepare(&self, events: &[RecordedEvent]) -> Result<Box<dyn Prepared>, ProjectionError> {
        let mut sums: BTreeMap<String, (Decimal, u64)> = BTreeMap::new();
        for event in events {
            let Some(wallet_event) = wallet_event(event)? else { continue };
            let Some(postings) = wallet_event.postings() else { continue };
            for posting in postings.postings() {
                let sum = sums.entry(posting.account.to_string()).or_insert((Decimal::ZERO, 0));
                sum.0 += posting.amount;
                sum.1 = event.position;
            }
        }
        Ok(Box::new(LedgerBatch { sums: sums.into_iter().collect() }))
    }
}

/// Per account, in account order (so concurrent writers lock rows in one order): the sum of
/// the batch's postings and the position of the last.
struct LedgerBatch {
    sums: Vec<(String, (Decimal, u64))>,
}

impl Prepared for LedgerBatch {
    fn write<'a>(self: Box<Self>, connection: &'a mut MySqlConnection, tables: Tables) -> BoxFuture<'a, Result<(), ProjectionError>> {
        Box::pin(async move {
            for chunk in self.sums.chunks(1000) {
                let mut query: QueryBuilder<MySql> = QueryBuilder::new(format!(
                    "INSERT INTO {} (account, balance, last_position) ",
                    tables.name("ledger_account_balances")
                ));
                query.push_values(chunk, |mut values, (account, (sum, position))| {
                    values.push_bind(account.as_str()).push_bind(*sum).push_bind(*position);
                });
                query.push(" ON DUPLICATE KEY UPDATE balance = balance + VALUES(balance), last_position = VALUES(last_position)");
                query.build().execute(&mut *connection).await?;
            }
            Ok(())
        })
    }
}
