//! Property tests: random command sequences keep the ledger balanced and the state
//! reproducible from its events.

use chrono::{DateTime, Duration, TimeZone, Utc};
use domain::kernel::{Aggregate, DomainEvent};
use domain::ledger::{Account, ProviderName, natural_balance};
use domain::money::{MONEY_MAX, Money};
use domain::wallet::{EarningCategory, PurchaseCategory, Wallet, WalletCommand, WalletEvent};
use proptest::prelude::*;
use rust_decimal::Decimal;
use uuid::Uuid;

fn user() -> Uuid {
    Uuid::from_u128(0xabc)
}

/// Few ids, so duplicates (repeated top-ups, duplicate withdrawals) happen often.
fn small_id() -> impl Strategy<Value = Uuid> {
    (1u128..6).prop_map(Uuid::from_u128)
}

fn money() -> impl Strategy<Value = Money> {
    prop_oneof![
        1 => Just(Money::ZERO),
        6 => (1i64..100_000).prop_map(|h| Money::from_halalas(h).unwrap()),
        2 => (1i64..=100_000_000_000).prop_map(|h| Money::from_halalas(h).unwrap()),
        1 => Just(MONEY_MAX),
    ]
}

fn time() -> impl Strategy<Value = DateTime<Utc>> {
    (0i64..30 * 24).prop_map(|hours| {
        Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap() + Duration::hours(hours)
    })
}

fn provider() -> impl Strategy<Value = ProviderName> {
    prop_oneof![Just("moyasar"), Just("stc_pay")]
        .prop_map(|name| ProviderName::parse(name).unwrap())
}

fn category() -> impl Strategy<Value = PurchaseCategory> {
    prop_oneof![
        Just(PurchaseCategory::Course),
        Just(PurchaseCategory::Book),
        Just(PurchaseCategory::LiveRoom),
        Just(PurchaseCategory::Consultation),
        Just(PurchaseCategory::Gift),
    ]
}

fn command() -> impl Strategy<Value = WalletCommand> {
    prop_oneof![
        1 => Just(WalletCommand::Open { user_id: user() }),
        4 => (small_id(), provider(), money())
            .prop_map(|(top_up_id, provider, amount)| WalletCommand::CreditTopUp { top_up_id, provider, amount }),
        4 => (small_id(), category(), money(), 0u32..=100).prop_map(|(order_id, category, gross, vat_percent)| {
            // Mostly realistic VAT, sometimes equal to or above the gross.
            let vat = Money::from_decimal((gross.amount() * Decimal::from(vat_percent) / Decimal::from(100)).round_dp(2))
                .unwrap_or(Money::ZERO);
            WalletCommand::DebitForPurchase { order_id, order_item_id: order_id, category, gross, vat, description: "purchase".to_owned() }
        }),
        3 => (small_id(), money(), time()).prop_map(|(order_id, amount, release_at)| {
            WalletCommand::AddPendingEarnings { earning_id: order_id, order_id, category: EarningCategory::Earning, amount, release_at, description: "sale".to_owned() }
        }),
        2 => time().prop_map(|as_of| WalletCommand::SettlePending { as_of }),
        2 => small_id().prop_map(|order_item_id| WalletCommand::RefundPurchase { order_item_id }),
        2 => small_id().prop_map(|earning_id| WalletCommand::ReverseEarning { earning_id }),
        3 => (small_id(), money())
            .prop_map(|(withdrawal_id, amount)| WalletCommand::RequestWithdrawal { withdrawal_id, amount }),
        2 => (small_id(), provider())
            .prop_map(|(withdrawal_id, provider)| WalletCommand::CompleteWithdrawal { withdrawal_id, provider }),
        2 => small_id().prop_map(|withdrawal_id| WalletCommand::RejectWithdrawal {
            withdrawal_id,
            reason: "rejected".to_owned(),
        }),
    ]
}

fn history() -> impl Strategy<Value = Vec<WalletCommand>> {
    // Usually open first, so most commands exercise the rules rather than `NotOpen`.
    (
        any::<bool>(),
        any::<bool>(),
        prop::collection::vec(command(), 0..60),
    )
        .prop_map(|(open, open2, mut commands)| {
            if open || open2 {
                commands.insert(0, WalletCommand::Open { user_id: user() });
            }
            commands
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn ledger_and_state_stay_consistent(commands in history()) {
        let mut wallet = Wallet::default();
        let mut events: Vec<WalletEvent> = Vec::new();
        let mut available_signed = Decimal::ZERO;
        let mut pending_signed = Decimal::ZERO;
        let mut owed_signed = Decimal::ZERO;
        // Earnings released and not reversed since.
        let mut released = Decimal::ZERO;

        for command in commands {
            let before = wallet.clone();
            let Ok(new_events) = wallet.handle(command) else {
                prop_assert_eq!(&wallet, &before);
                continue;
            };
            for event in new_events {
                if let Some(postings) = event.postings() {
                    prop_assert!(postings.is_balanced());
                    prop_assert!(postings.postings().iter().all(|p| !p.amount.is_zero() && p.amount.scale() <= 2));
                    available_signed += postings.balance_of(&Account::WalletAvailable(user()));
                    pending_signed += postings.balance_of(&Account::WalletPending(user()));
                    owed_signed += postings.balance_of(&Account::WalletOwed(user()));
                }
                match &event {
                    WalletEvent::EarningReleased { amount, .. } => released += amount.amount(),
                    WalletEvent::EarningReversed { amount, was_released: true, .. } => released -= amount.amount(),
                    _ => {}
                }
                let encoded = event.encode().unwrap();
                prop_assert_eq!(
                    WalletEvent::decode(encoded.event_type, encoded.schema_version, &encoded.payload),
                    Ok(event.clone())
                );
                wallet.apply(&event);
                if let Some(balance_after) = event.balance_after() {
                    prop_assert_eq!(balance_after, wallet.available());
                }
                if let Some(pending_after) = event.pending_balance_after() {
                    prop_assert_eq!(pending_after, wallet.pending());
                }
                events.push(event);
            }
            prop_assert!(wallet.available().amount() >= Decimal::ZERO);
            prop_assert!(wallet.pending().amount() >= Decimal::ZERO);
            prop_assert_eq!(
                natural_balance(&Account::WalletAvailable(user()), available_signed),
                wallet.available().amount()
            );
            prop_assert_eq!(natural_balance(&Account::WalletPending(user()), pending_signed), wallet.pending().amount());
            prop_assert_eq!(natural_balance(&Account::WalletOwed(user()), owed_signed), wallet.owed().amount());
            prop_assert_eq!(wallet.total_earned().amount(), released + wallet.pending().amount());
            let pending_sum: Decimal = wallet.pending_earnings().iter().map(|e| e.amount.amount()).sum();
            prop_assert_eq!(pending_sum, wallet.pending().amount());
        }

        prop_assert_eq!(Wallet::replay(&events), wallet.clone());
        // All postings of all events, over every account, sum to zero.
        let total: Decimal = events.iter().filter_map(WalletEvent::postings).flat_map(|e| e.postings()).map(|p| p.amount).sum();
        prop_assert_eq!(total, Decimal::ZERO);
    }

    #[test]
    fn money_text_round_trips(halalas in 0i64..=100_000_000_000) {
        let money = Money::from_halalas(halalas).unwrap();
        prop_assert_eq!(Money::parse(&money.to_string()), Ok(money));
        let json = serde_json::to_string(&money).unwrap();
        prop_assert_eq!(serde_json::from_str::<Money>(&json).unwrap(), money);
    }
}
