//! Ledger account balances: the signed sum of every posting per account (debit positive).
//! Summed over all accounts it is zero, which is what a trial balance checks.

use std::collections::BTreeMap;

use domain::kernel::{DomainEvent, EventType};
use domain::wallet::WalletEvent;
use domain::wallet::top_up::TopUpEvent;
use event_store::RecordedEvent;
use rust_decimal::Decimal;
use sqlx::{MySql, MySqlConnection, QueryBuilder};

use crate::runtime::{BoxFuture, Prepared, Projector, Tables};
use crate::wallet::balances::wallet_event;
use crate::ProjectionError;

pub struct LedgerProjector;

impl LedgerProjector {
    pub const NAME: &'static str = "ledger";
}

impl Projector for LedgerProjector {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    /// 2: top-ups held in suspense post too.
    fn version(&self) -> u32 {
        2
    }

    fn tables(&self) -> &'static [&'static str] {
        &["ledger_account_balances"]
    }

    fn events(&self) -> &'static [&'static [EventType]] {
        &[WalletEvent::TYPES, TopUpEvent::TYPES]
    }

    fn prepare(&self, events: &[RecordedEvent]) -> Result<Box<dyn Prepared>, ProjectionError> {
        let mut sums: BTreeMap<String, (Decimal, u64)> = BTreeMap::new();
        for event in events {
            let wallet_event = wallet_event(event)?;
            let top_up_event = crate::decode::<TopUpEvent>(event)?;
            let postings = wallet_event.as_ref().and_then(WalletEvent::postings).or_else(|| top_up_event.as_ref().and_then(TopUpEvent::postings));
            let Some(postings) = postings else { continue };
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
