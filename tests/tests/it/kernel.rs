//! The one command path against the real store: units of work over several wallets (leased from
//! their workers), their atomicity, their retries, and the contiguity check on every load.

use std::time::Duration;

use chrono::{TimeZone, Utc};
use commands::{CommandContext, CommandError, Commands, Transacted};
use domain::ledger::ProviderName;
use domain::money::{Money, vat_split};
use domain::wallet::top_up::TopUp;
use domain::wallet::{EarningCategory, PurchaseCategory, WalletCommand, WalletError};
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::support::Harness;

fn money(text: &str) -> Money {
    Money::parse(text).unwrap()
}

impl Harness {
    async fn funded_wallet(&self, amount: &str) -> Uuid {
        let user = Uuid::now_v7();
        let context = CommandContext::default;
        self.wallets.execute(user, WalletCommand::Open { user_id: user }, context()).await.unwrap();
        let top_up = WalletCommand::CreditTopUp { top_up_id: Uuid::now_v7(), provider: ProviderName::parse("sandbox").unwrap(), amount: money(amount) };
        self.wallets.execute(user, top_up, context()).await.unwrap();
        user
    }

    async fn sell(&self, buyer: Uuid, seller: Uuid, price: &str) -> Result<Transacted<()>, CommandError> {
        sell(&self.commands, buyer, seller, price).await
    }
}

/// One sale as one unit of work: the buyer's debit and the seller's pending earning.
async fn sell(commands: &Commands, buyer: Uuid, seller: Uuid, price: &str) -> Result<Transacted<()>, CommandError> {
    let order_id = Uuid::now_v7();
    let (net, vat) = vat_split(money(price));
    let release_at = Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap();
    commands
            .kernel
            .transact(&CommandContext::default(), |unit| async move {
                unit.wallet(buyer, WalletCommand::DebitForPurchase {
                    order_id,
                    order_item_id: order_id,
                    category: PurchaseCategory::Course,
                    gross: money(price),
                    vat,
                    description: "Rhetoric".into(),
                });
                unit.wallet(seller, WalletCommand::AddPendingEarnings { earning_id: order_id, order_id, category: EarningCategory::Earning, amount: net, release_at, description: "Sale".into() });
                Ok(())
            })
            .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_unit_of_work_over_two_wallets_is_one_append() {
    let h = Harness::new().await;
    let buyer = h.funded_wallet("100.00").await;
    let seller = h.funded_wallet("0.01").await;

    let Transacted::Done { position: Some(position), wallet_events, .. } = h.sell(buyer, seller, "57.50").await.unwrap() else {
        panic!("a sale appends");
    };
    assert_eq!(wallet_events.len(), 2);
    let appended = h.store.read_all(position - 2, 2).await.unwrap();
    let streams: Vec<(String, &str)> = appended.iter().map(|e| (e.stream.stream_id.clone(), e.event_type.as_str())).collect();
    let mut expected = vec![(buyer.to_string(), "WalletDebited"), (seller.to_string(), "EarningsAdded")];
    expected.sort();
    let mut streams_sorted = streams.clone();
    streams_sorted.sort();
    assert_eq!(streams_sorted, expected);
    assert_eq!(appended[0].metadata.correlation_id, appended[1].metadata.correlation_id, "one append");

    let (buyer_wallet, seller_wallet) = (h.wallets.load(buyer).await.unwrap(), h.wallets.load(seller).await.unwrap());
    assert_eq!(buyer_wallet.available(), money("42.50"));
    assert_eq!(seller_wallet.pending(), vat_split(money("57.50")).0);
    // The workers took the leased state back: their next commands decide on it.
    let withdrawal = WalletCommand::RequestWithdrawal { withdrawal_id: Uuid::now_v7(), amount: money("42.50") };
    h.wallets.execute(buyer, withdrawal, CommandContext::default()).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusal_by_either_wallet_appends_nothing() {
    let h = Harness::new().await;
    let buyer = h.funded_wallet("10.00").await;
    let seller = h.funded_wallet("1.00").await;
    let head = h.store.head().await.unwrap().position;

    let refused = h.sell(buyer, seller, "10.01").await.unwrap_err();
    assert!(refused.is(&WalletError::InsufficientFunds { available: Money::ZERO, required: Money::ZERO }), "{refused:?}");
    let unopened = h.sell(buyer, Uuid::now_v7(), "1.00").await.unwrap_err();
    assert!(unopened.is(&WalletError::NotOpen), "{unopened:?}");

    assert_eq!(h.store.head().await.unwrap().position, head, "nothing was appended");
    assert_eq!(h.wallets.load(buyer).await.unwrap().available(), money("10.00"));
    assert_eq!(h.wallets.load(seller).await.unwrap().pending(), Money::ZERO);
}

/// Two processes selling in both directions between the same wallets at once, beside plain
/// commands on them: leases are taken in one order, so nothing waits forever; every sale is
/// whole or absent; no balance goes below zero; money is neither made nor lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn units_of_work_in_opposite_directions_from_two_processes_neither_deadlock_nor_lose_money() {
    let h = Harness::new().await;
    let alice = h.funded_wallet("100.00").await;
    let bob = h.funded_wallet("100.00").await;
    let processes = [h.commands.clone(), h.another_process(4).await];
    let tasks = (0..80).map(|i| {
        let commands = &processes[i % 2];
        let (buyer, seller) = if i % 3 == 0 { (bob, alice) } else { (alice, bob) };
        async move {
            if i % 5 == 0 {
                let top_up = WalletCommand::CreditTopUp { top_up_id: Uuid::now_v7(), provider: ProviderName::parse("sandbox").unwrap(), amount: money("1.15") };
                commands.wallet.execute(buyer, top_up, CommandContext::default()).await.map(|_| ())
            } else {
                sell(commands, buyer, seller, "11.50").await.map(|_| ())
            }
        }
    });
    let results = tokio::time::timeout(Duration::from_secs(60), futures::future::join_all(tasks)).await.expect("no deadlock");
    for result in &results {
        // Refused for want of money, or given up on after too many concurrent changes: either way
        // nothing of it was appended, which the sums below check.
        if let Err(error) = result {
            let refused = error.is(&WalletError::InsufficientFunds { available: Money::ZERO, required: Money::ZERO });
            assert!(refused || matches!(error, CommandError::Contention(_)), "{error:?}");
        }
    }
    let sales = results.iter().enumerate().filter(|(i, r)| i % 5 != 0 && r.is_ok()).count() as i64;
    let top_ups = results.iter().enumerate().filter(|(i, r)| i % 5 == 0 && r.is_ok()).count() as i64;
    assert!(sales > 0 && top_ups > 0);

    // Every sale moved 11.50 out of available money, 10.00 into pending and 1.50 into VAT.
    let mut available = Decimal::ZERO;
    let mut pending = Decimal::ZERO;
    for user in [alice, bob] {
        let wallet = h.wallets.load(user).await.unwrap();
        assert!(wallet.available() >= Money::ZERO);
        available += wallet.available().amount();
        pending += wallet.pending().amount();
    }
    let topped_up = Decimal::new(20_000 + top_ups * 115, 2);
    assert_eq!(available, topped_up - Decimal::new(1150, 2) * Decimal::from(sales));
    assert_eq!(pending, Decimal::new(1000, 2) * Decimal::from(sales));
    let (status, report) = h.cli(&["audit", "wallet", "--all"]).await;
    assert_eq!(status, replay_tools::ExitStatus::Success, "{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_with_a_gap_in_its_versions_is_corrupt_not_loaded() {
    let h = Harness::new().await;
    let Transacted::Done { value: top_up, .. } =
        h.commands.wallet.request_top_up(Uuid::now_v7(), ProviderName::parse("sandbox").unwrap(), money("5.00"), &CommandContext::default()).await.unwrap()
    else {
        panic!("a new top-up is not a replay");
    };
    let top_up_id = top_up.state.id().unwrap();
    // An event at version 3 of a stream at version 1, as only a broken or tampered store has.
    sqlx::query(
        "INSERT INTO events (position, event_id, stream_type, stream_id, stream_version, event_type, schema_version, payload, metadata, recorded_at, hash) \
         SELECT position + 1, UNHEX(REPLACE(UUID(), '-', '')), stream_type, stream_id, 3, 'TopUpPaymentFailed', 1, \
                JSON_OBJECT('top_up_id', stream_id, 'provider_event_id', 'forged'), metadata, recorded_at, hash FROM events WHERE stream_id = ?",
    )
    .bind(top_up_id.to_string())
    .execute(&h.db.pool)
    .await
    .unwrap();

    let loaded = h.commands.kernel.read::<TopUp>(&commands::wallet::top_up_stream(top_up_id)).await;
    assert!(matches!(&loaded, Err(CommandError::Corrupt(reason)) if reason.contains("skips to version 3")), "{loaded:?}");
    let captured = h.commands.wallet.fail_top_up(top_up_id, &ProviderName::parse("sandbox").unwrap(), "evt", &CommandContext::default()).await;
    assert!(matches!(captured, Err(CommandError::Corrupt(_))), "{captured:?}");
}
