//! Wallet rules as given(events) → when(command) → then(events | error).

use chrono::{DateTime, TimeZone, Utc};
use domain::ledger::{Account, JournalEntry, Posting, ProviderName};
use domain::money::Money;
use domain::kernel::testing::{self, Given};
use domain::kernel::{DecodeError, DomainEvent, Rejection};
use domain::wallet::{
    EarningCategory,
    PurchaseCategory, STREAM_TYPE, Wallet, WalletCommand, WalletError, WalletEvent,
    WithdrawalStatus,
};
use rust_decimal_macros::dec;
use uuid::Uuid;

// ---- the given/when/then harness every context shares ----

fn given(events: impl IntoIterator<Item = WalletEvent>) -> Given<Wallet> {
    testing::given(events)
}

// ---- fixtures ----

fn user() -> Uuid {
    Uuid::from_u128(0x0190_f5e2_7b1c_7d2e_8f00_1234_5678_9abc)
}

fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

fn sar(text: &str) -> Money {
    Money::parse(text).unwrap()
}

fn moyasar() -> ProviderName {
    ProviderName::parse("moyasar").unwrap()
}

fn at(day: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, day, 12, 0, 0).unwrap()
}

fn available() -> Account {
    Account::WalletAvailable(user())
}

fn pending() -> Account {
    Account::WalletPending(user())
}

fn opened() -> WalletEvent {
    WalletEvent::WalletOpened {
        user_id: user(),
        currency: "SAR".to_owned(),
    }
}

fn topped_up(top_up: u128, amount: &str, balance_after: &str, pending_after: &str) -> WalletEvent {
    WalletEvent::TopUpCaptured {
        user_id: user(),
        top_up_id: id(top_up),
        provider: moyasar(),
        amount: sar(amount),
        balance_after: sar(balance_after),
        pending_balance_after: sar(pending_after),
        postings: JournalEntry::transfer(
            Account::ProviderClearing(moyasar()),
            available(),
            sar(amount),
        ),
    }
}

fn earned(
    order: u128,
    amount: &str,
    release_day: u32,
    balance_after: &str,
    pending_after: &str,
) -> WalletEvent {
    WalletEvent::EarningsAdded {
        user_id: user(),
        earning_id: id(order),
        order_id: id(order),
        category: EarningCategory::Earning,
        amount: sar(amount),
        release_at: at(release_day),
        description: "Arabic course sale".to_owned(),
        balance_after: sar(balance_after),
        pending_balance_after: sar(pending_after),
        postings: JournalEntry::transfer(Account::PlatformRevenue, pending(), sar(amount)),
    }
}

fn withdrawal_requested(withdrawal: u128, amount: &str, balance_after: &str) -> WalletEvent {
    WalletEvent::WithdrawalRequested {
        user_id: user(),
        withdrawal_id: id(withdrawal),
        amount: sar(amount),
        balance_after: sar(balance_after),
        pending_balance_after: Money::ZERO,
        postings: JournalEntry::transfer(available(), Account::WithdrawalsPayable, sar(amount)),
    }
}

fn withdrawal_completed(withdrawal: u128, amount: &str, balance_after: &str) -> WalletEvent {
    WalletEvent::WithdrawalCompleted {
        user_id: user(),
        withdrawal_id: id(withdrawal),
        amount: sar(amount),
        provider: moyasar(),
        balance_after: sar(balance_after),
        pending_balance_after: Money::ZERO,
        postings: JournalEntry::transfer(
            Account::WithdrawalsPayable,
            Account::ProviderClearing(moyasar()),
            sar(amount),
        ),
    }
}

fn withdrawal_rejected(withdrawal: u128, amount: &str, balance_after: &str) -> WalletEvent {
    WalletEvent::WithdrawalRejected {
        user_id: user(),
        withdrawal_id: id(withdrawal),
        amount: sar(amount),
        reason: "IBAN mismatch".to_owned(),
        balance_after: sar(balance_after),
        pending_balance_after: Money::ZERO,
        postings: JournalEntry::transfer(Account::WithdrawalsPayable, available(), sar(amount)),
    }
}

fn top_up(top_up: u128, amount: &str) -> WalletCommand {
    WalletCommand::CreditTopUp {
        top_up_id: id(top_up),
        provider: moyasar(),
        amount: sar(amount),
    }
}

fn purchase(order: u128, gross: &str, vat: &str) -> WalletCommand {
    WalletCommand::DebitForPurchase {
        order_id: id(order),
        order_item_id: id(order),
        category: PurchaseCategory::Course,
        gross: sar(gross),
        vat: sar(vat),
        description: "Tajweed course".to_owned(),
    }
}

fn earn(order: u128, amount: &str, release_day: u32) -> WalletCommand {
    WalletCommand::AddPendingEarnings {
        earning_id: id(order),
        order_id: id(order),
        category: EarningCategory::Earning,
        amount: sar(amount),
        release_at: at(release_day),
        description: "Arabic course sale".to_owned(),
    }
}

fn request_withdrawal(withdrawal: u128, amount: &str) -> WalletCommand {
    WalletCommand::RequestWithdrawal {
        withdrawal_id: id(withdrawal),
        amount: sar(amount),
    }
}

fn complete(withdrawal: u128) -> WalletCommand {
    WalletCommand::CompleteWithdrawal {
        withdrawal_id: id(withdrawal),
        provider: moyasar(),
    }
}

fn reject(withdrawal: u128) -> WalletCommand {
    WalletCommand::RejectWithdrawal {
        withdrawal_id: id(withdrawal),
        reason: "IBAN mismatch".to_owned(),
    }
}

// ---- open ----

#[test]
fn open_creates_a_sar_wallet() {
    let wallet = given([])
        .when(WalletCommand::Open { user_id: user() })
        .then(vec![opened()]);
    assert_eq!(wallet.user_id(), Some(user()));
    assert_eq!(wallet.available(), Money::ZERO);
    assert_eq!(STREAM_TYPE, "wallet");
}

#[test]
fn open_twice_is_rejected() {
    given([opened()])
        .when(WalletCommand::Open { user_id: user() })
        .then_rejected(WalletError::AlreadyOpen);
}

#[test]
fn every_other_command_needs_an_open_wallet() {
    let commands = [
        top_up(1, "10"),
        purchase(2, "10", "1"),
        earn(3, "10", 1),
        WalletCommand::SettlePending { as_of: at(1) },
        request_withdrawal(4, "10"),
        complete(4),
        reject(4),
    ];
    for command in commands {
        given([]).when(command).then_rejected(WalletError::NotOpen);
    }
}

// ---- top-ups ----

#[test]
fn top_up_credits_available_balance() {
    let wallet = given([opened()])
        .when(top_up(1, "100"))
        .then(vec![topped_up(1, "100.00", "100.00", "0.00")]);
    assert_eq!(wallet.available(), sar("100"));
    assert!(wallet.has_captured_top_up(id(1)));
}

#[test]
fn repeated_top_up_capture_credits_once() {
    let wallet = given([opened(), topped_up(1, "100", "100", "0")])
        .when(top_up(1, "100"))
        .then(vec![]);
    assert_eq!(wallet.available(), sar("100"));
}

#[test]
fn zero_top_up_is_rejected() {
    given([opened()])
        .when(top_up(1, "0"))
        .then_rejected(WalletError::InvalidAmount);
}

#[test]
fn top_up_past_the_money_limit_is_rejected() {
    given([opened(), topped_up(1, "1000000000", "1000000000", "0")])
        .when(top_up(2, "0.01"))
        .then_rejected(WalletError::InvalidAmount);
}

// ---- purchases ----

#[test]
fn purchase_debits_gross_and_splits_vat_from_revenue() {
    let wallet = given([opened(), topped_up(1, "200", "200", "0")])
        .when(purchase(7, "115", "15"))
        .then(vec![WalletEvent::WalletDebited {
            user_id: user(),
            order_id: id(7),
            order_item_id: id(7),
            category: PurchaseCategory::Course,
            amount: sar("115"),
            vat: sar("15"),
            description: "Tajweed course".to_owned(),
            balance_after: sar("85"),
            pending_balance_after: Money::ZERO,
            postings: JournalEntry::new(vec![
                Posting {
                    account: available(),
                    amount: dec!(115.00),
                },
                Posting {
                    account: Account::VatPayable,
                    amount: dec!(-15.00),
                },
                Posting {
                    account: Account::PlatformRevenue,
                    amount: dec!(-100.00),
                },
            ])
            .unwrap(),
        }]);
    assert_eq!(wallet.available(), sar("85"));
}

#[test]
fn purchase_without_vat_omits_the_vat_posting() {
    let events = given([opened(), topped_up(1, "50", "50", "0")])
        .when(purchase(7, "50", "0"))
        .then_ok()
        .0;
    let postings = events[0].postings().unwrap().postings();
    assert_eq!(
        postings,
        &[
            Posting {
                account: available(),
                amount: dec!(50.00)
            },
            Posting {
                account: Account::PlatformRevenue,
                amount: dec!(-50.00)
            },
        ]
    );
}

#[test]
fn purchase_of_exactly_the_balance_leaves_zero() {
    let wallet = given([opened(), topped_up(1, "10", "10", "0")])
        .when(purchase(7, "10", "1.30"))
        .then(vec![WalletEvent::WalletDebited {
            user_id: user(),
            order_id: id(7),
            order_item_id: id(7),
            category: PurchaseCategory::Course,
            amount: sar("10"),
            vat: sar("1.30"),
            description: "Tajweed course".to_owned(),
            balance_after: Money::ZERO,
            pending_balance_after: Money::ZERO,
            postings: JournalEntry::new(vec![
                Posting {
                    account: available(),
                    amount: dec!(10.00),
                },
                Posting {
                    account: Account::VatPayable,
                    amount: dec!(-1.30),
                },
                Posting {
                    account: Account::PlatformRevenue,
                    amount: dec!(-8.70),
                },
            ])
            .unwrap(),
        }]);
    assert_eq!(wallet.available(), Money::ZERO);
}

#[test]
fn purchase_beyond_the_balance_is_rejected() {
    given([opened(), topped_up(1, "100", "100", "0")])
        .when(purchase(7, "100.01", "13.05"))
        .then_rejected(WalletError::InsufficientFunds {
            available: sar("100"),
            required: sar("100.01"),
        });
}

#[test]
fn purchase_with_vat_not_below_gross_is_rejected() {
    let history = [opened(), topped_up(1, "100", "100", "0")];
    given(history.clone())
        .when(purchase(7, "10", "10"))
        .then_rejected(WalletError::VatExceedsGross);
    given(history)
        .when(purchase(7, "10", "11"))
        .then_rejected(WalletError::VatExceedsGross);
}

#[test]
fn zero_purchase_is_rejected() {
    given([opened(), topped_up(1, "100", "100", "0")])
        .when(purchase(7, "0", "0"))
        .then_rejected(WalletError::InvalidAmount);
}

// ---- earnings and settlement ----

#[test]
fn earnings_are_pending_until_settled() {
    let wallet = given([opened()])
        .when(earn(9, "80", 10))
        .then(vec![earned(9, "80", 10, "0", "80")]);
    assert_eq!(wallet.pending(), sar("80"));
    assert_eq!(wallet.available(), Money::ZERO);
    assert_eq!(wallet.total_earned(), sar("80"));
    assert_eq!(wallet.pending_earnings().len(), 1);
}

#[test]
fn zero_earnings_are_rejected() {
    given([opened()])
        .when(earn(9, "0", 10))
        .then_rejected(WalletError::InvalidAmount);
}

#[test]
fn repeated_earnings_for_one_order_are_added_once() {
    given([opened(), earned(9, "80", 10, "0", "80")])
        .when(earn(9, "80", 10))
        .then(vec![]);
}

fn released(order: u128, amount: &str, owed_repaid: &str, balance_after: &str, pending_after: &str) -> WalletEvent {
    let (amount, owed_repaid) = (sar(amount), sar(owed_repaid));
    let released = amount.checked_sub(owed_repaid).unwrap();
    let postings = [(pending(), amount.amount()), (owed(), -owed_repaid.amount()), (available(), -released.amount())]
        .into_iter()
        .filter(|(_, amount)| !amount.is_zero())
        .map(|(account, amount)| Posting { account, amount })
        .collect();
    WalletEvent::EarningReleased {
        user_id: user(),
        earning_id: id(order),
        order_id: id(order),
        amount,
        owed_repaid,
        balance_after: sar(balance_after),
        pending_balance_after: sar(pending_after),
        postings: JournalEntry::new(postings).unwrap(),
    }
}

fn owed() -> Account {
    Account::WalletOwed(user())
}

#[test]
fn settle_releases_each_due_earning_on_its_own() {
    let history = [
        opened(),
        topped_up(1, "5", "5", "0"),
        earned(9, "80", 10, "5", "80"),
        earned(10, "20", 12, "5", "100"),
        earned(11, "30", 20, "5", "130"),
    ];
    let wallet = given(history)
        .when(WalletCommand::SettlePending { as_of: at(12) })
        .then(vec![released(9, "80", "0", "85", "50"), released(10, "20", "0", "105", "30")]);
    assert_eq!(wallet.available(), sar("105"));
    assert_eq!(wallet.pending(), sar("30"));
    assert_eq!(wallet.total_earned(), sar("130"));
    assert_eq!(wallet.pending_earnings().len(), 1);
}

#[test]
fn a_legacy_settlement_of_several_orders_releases_each_of_their_earnings() {
    let settled = WalletEvent::PendingSettled {
        user_id: user(),
        amount: sar("100"),
        order_ids: vec![id(9), id(10)],
        balance_after: sar("100"),
        pending_balance_after: sar("30"),
        postings: JournalEntry::transfer(pending(), available(), sar("100")),
    };
    let history = [opened(), earned(9, "80", 10, "0", "80"), earned(10, "20", 12, "0", "100"), earned(11, "30", 20, "0", "130"), settled];
    let wallet = given(history).state().clone();
    assert_eq!((wallet.available(), wallet.pending()), (sar("100"), sar("30")));
    assert_eq!(wallet.pending_earnings().iter().map(|earning| earning.earning_id).collect::<Vec<_>>(), vec![id(11)]);
}

// ---- refunds ----

#[test]
fn a_refund_credits_the_line_back_exactly_and_only_once() {
    let history = [opened(), topped_up(1, "200", "200", "0")];
    let (events, bought) = given(history.clone()).when(purchase(7, "115", "15")).then_ok();
    assert_eq!(bought.available(), sar("85"));
    let refund = WalletCommand::RefundPurchase { order_item_id: id(7) };
    let (refunded, wallet) = given(history.iter().cloned().chain(events.clone())).when(refund.clone()).then_ok();
    assert_eq!(wallet.available(), sar("200"));
    let WalletEvent::PurchaseRefunded { amount, vat, postings, .. } = &refunded[0] else { panic!("a refund: {refunded:?}") };
    assert_eq!((*amount, *vat), (sar("115"), sar("15")));
    // Exactly the debit's postings, reversed.
    let debit = events[0].postings().unwrap();
    for account in [available(), Account::VatPayable, Account::PlatformRevenue] {
        assert_eq!(postings.balance_of(&account), -debit.balance_of(&account), "{account}");
    }
    given(history.into_iter().chain(events).chain(refunded)).when(refund).then_rejected(WalletError::AlreadyRefunded);
    given([opened()]).when(WalletCommand::RefundPurchase { order_item_id: id(8) }).then_rejected(WalletError::UnknownPurchase);
}

#[test]
fn a_pending_earning_is_reversed_from_pending() {
    let wallet = given([opened(), earned(9, "80", 10, "0", "80")])
        .when(WalletCommand::ReverseEarning { earning_id: id(9) })
        .then(vec![WalletEvent::EarningReversed {
            user_id: user(),
            earning_id: id(9),
            order_id: id(9),
            amount: sar("80"),
            was_released: false,
            owed: Money::ZERO,
            description: "Arabic course sale".to_owned(),
            balance_after: Money::ZERO,
            pending_balance_after: Money::ZERO,
            postings: JournalEntry::transfer(pending(), Account::PlatformRevenue, sar("80")),
        }]);
    assert_eq!((wallet.pending(), wallet.total_earned()), (Money::ZERO, Money::ZERO));
    assert!(wallet.pending_earnings().is_empty(), "a reversed earning is never released");
}

#[test]
fn a_released_earning_the_balance_cannot_cover_is_owed_and_repaid_by_the_next_release() {
    // Released (80 available), then 60 withdrawn: 20 left to take back, 60 owed.
    let history = vec![
        opened(),
        earned(9, "80", 10, "0", "80"),
        released(9, "80", "0", "80", "0"),
        withdrawal_requested(5, "60", "20"),
        earned(10, "50", 20, "20", "50"),
    ];
    let (reversed, wallet) = given(history.clone()).when(WalletCommand::ReverseEarning { earning_id: id(9) }).then_ok();
    let WalletEvent::EarningReversed { owed: owed_now, was_released, postings, .. } = &reversed[0] else { panic!("{reversed:?}") };
    assert!(*was_released);
    assert_eq!(*owed_now, sar("60"));
    assert_eq!(postings.balance_of(&available()), dec!(20.00));
    assert_eq!(postings.balance_of(&owed()), dec!(60.00));
    assert_eq!((wallet.available(), wallet.owed(), wallet.total_earned()), (Money::ZERO, sar("60"), sar("50")));
    // The next release repays the 60 owed before anything becomes available.
    let wallet = given(history.into_iter().chain(reversed))
        .when(WalletCommand::SettlePending { as_of: at(20) })
        .then(vec![released(10, "50", "50", "0", "0")]);
    assert_eq!((wallet.available(), wallet.owed()), (Money::ZERO, sar("10")));
}

#[test]
fn settle_with_nothing_due_is_rejected() {
    given([opened()])
        .when(WalletCommand::SettlePending { as_of: at(30) })
        .then_rejected(WalletError::NothingToSettle);
    given([opened(), earned(9, "80", 10, "0", "80")])
        .when(WalletCommand::SettlePending { as_of: at(9) })
        .then_rejected(WalletError::NothingToSettle);
}

// ---- withdrawals ----

#[test]
fn withdrawal_request_moves_money_out_of_available() {
    let wallet = given([opened(), topped_up(1, "100", "100", "0")])
        .when(request_withdrawal(5, "60"))
        .then(vec![withdrawal_requested(5, "60", "40")]);
    assert_eq!(wallet.available(), sar("40"));
    assert_eq!(
        wallet.withdrawal(id(5)).map(|w| w.status),
        Some(WithdrawalStatus::Pending)
    );
}

#[test]
fn withdrawal_of_the_whole_balance_is_allowed() {
    given([opened(), topped_up(1, "100", "100", "0")])
        .when(request_withdrawal(5, "100"))
        .then(vec![withdrawal_requested(5, "100", "0")]);
}

#[test]
fn withdrawal_beyond_the_balance_is_rejected() {
    given([opened(), topped_up(1, "100", "100", "0")])
        .when(request_withdrawal(5, "100.01"))
        .then_rejected(WalletError::InsufficientFunds {
            available: sar("100"),
            required: sar("100.01"),
        });
}

#[test]
fn zero_withdrawal_is_rejected() {
    given([opened(), topped_up(1, "100", "100", "0")])
        .when(request_withdrawal(5, "0"))
        .then_rejected(WalletError::InvalidAmount);
}

#[test]
fn duplicate_withdrawal_id_is_rejected() {
    given([
        opened(),
        topped_up(1, "100", "100", "0"),
        withdrawal_requested(5, "10", "90"),
    ])
    .when(request_withdrawal(5, "10"))
    .then_rejected(WalletError::DuplicateWithdrawal);
}

#[test]
fn completing_a_withdrawal_pays_it_out() {
    let wallet = given([
        opened(),
        topped_up(1, "100", "100", "0"),
        withdrawal_requested(5, "60", "40"),
    ])
    .when(complete(5))
    .then(vec![withdrawal_completed(5, "60", "40")]);
    assert_eq!(wallet.total_withdrawn(), sar("60"));
    assert_eq!(wallet.available(), sar("40"));
    assert_eq!(
        wallet.withdrawal(id(5)).map(|w| w.status),
        Some(WithdrawalStatus::Completed)
    );
}

#[test]
fn rejecting_a_withdrawal_returns_the_money() {
    let wallet = given([
        opened(),
        topped_up(1, "100", "100", "0"),
        withdrawal_requested(5, "60", "40"),
    ])
    .when(reject(5))
    .then(vec![withdrawal_rejected(5, "60", "100")]);
    assert_eq!(wallet.available(), sar("100"));
    assert_eq!(wallet.total_withdrawn(), Money::ZERO);
    assert_eq!(
        wallet.withdrawal(id(5)).map(|w| w.status),
        Some(WithdrawalStatus::Rejected)
    );
}

#[test]
fn unknown_withdrawal_is_rejected() {
    given([opened()])
        .when(complete(5))
        .then_rejected(WalletError::UnknownWithdrawal);
    given([opened()])
        .when(reject(5))
        .then_rejected(WalletError::UnknownWithdrawal);
}

#[test]
fn finished_withdrawal_cannot_change_again() {
    let completed = [
        opened(),
        topped_up(1, "100", "100", "0"),
        withdrawal_requested(5, "60", "40"),
        withdrawal_completed(5, "60", "40"),
    ];
    given(completed.clone())
        .when(complete(5))
        .then_rejected(WalletError::WithdrawalNotPending);
    given(completed)
        .when(reject(5))
        .then_rejected(WalletError::WithdrawalNotPending);
    let rejected = [
        opened(),
        topped_up(1, "100", "100", "0"),
        withdrawal_requested(5, "60", "40"),
        withdrawal_rejected(5, "60", "100"),
    ];
    given(rejected.clone())
        .when(complete(5))
        .then_rejected(WalletError::WithdrawalNotPending);
    given(rejected)
        .when(reject(5))
        .then_rejected(WalletError::WithdrawalNotPending);
}

// ---- errors and payloads ----

#[test]
fn error_codes_are_stable() {
    let cases = [
        (WalletError::NotOpen, "wallet_not_open"),
        (WalletError::AlreadyOpen, "wallet_already_open"),
        (WalletError::InvalidAmount, "invalid_amount"),
        (
            WalletError::InsufficientFunds {
                available: Money::ZERO,
                required: sar("1"),
            },
            "insufficient_funds",
        ),
        (WalletError::VatExceedsGross, "vat_exceeds_gross"),
        (WalletError::NothingToSettle, "nothing_to_settle"),
        (WalletError::DuplicateWithdrawal, "duplicate_withdrawal"),
        (WalletError::UnknownWithdrawal, "unknown_withdrawal"),
        (WalletError::WithdrawalNotPending, "withdrawal_not_pending"),
    ];
    for (error, code) in cases {
        assert_eq!(error.code(), code);
    }
}

#[test]
fn category_codes_are_snake_case() {
    assert_eq!(PurchaseCategory::LiveRoom.as_str(), "live_room");
    assert_eq!(
        serde_json::to_value(PurchaseCategory::LiveRoom).unwrap(),
        serde_json::json!("live_room")
    );
    assert_eq!(PurchaseCategory::Consultation.as_str(), "consultation");
}

#[test]
fn payload_uses_strings_for_money_and_rfc3339_for_time() {
    let event = earned(9, "80", 10, "0", "80");
    let encoded = event.encode().unwrap();
    assert_eq!(encoded.event_type, "EarningsAdded");
    assert_eq!(encoded.schema_version, 2);
    let payload = encoded.payload;
    assert_eq!(payload["amount"], "80.00");
    assert_eq!(payload["pending_balance_after"], "80.00");
    assert_eq!(payload["release_at"], "2025-03-10T12:00:00Z");
    assert_eq!(
        payload["postings"][1]["account"],
        format!("wallet:{}:pending", user())
    );
    assert_eq!(
        WalletEvent::decode("EarningsAdded", 2, &payload),
        Ok(event)
    );

    let top_up = topped_up(1, "100", "100", "0");
    let encoded = top_up.encode().unwrap();
    assert_eq!(encoded.schema_version, 2);
    assert_eq!(encoded.event_type, "TopUpCaptured");
    assert_eq!(
        WalletEvent::decode("TopUpCaptured", 2, &encoded.payload),
        Ok(top_up)
    );
    assert_eq!(opened().balance_after(), None);
    assert_eq!(opened().user_id(), user());
}

#[test]
fn decode_rejects_old_versions_unknown_types_and_unbalanced_postings() {
    let top_up = topped_up(1, "100", "100", "0");
    let error: DecodeError =
        WalletEvent::decode("TopUpCaptured", 1, &top_up.encode().unwrap().payload).unwrap_err();
    assert!(error.to_string().contains("upcast"), "{error}");
    assert!(WalletEvent::decode("WalletClosed", 1, &serde_json::json!({})).is_err());
    assert!(WalletEvent::decode("WalletOpened", 1, &serde_json::json!("x")).is_err());

    let mut payload = top_up.encode().unwrap().payload;
    payload["postings"][0]["amount"] = serde_json::json!("99.00");
    let error = WalletEvent::decode("TopUpCaptured", 2, &payload).unwrap_err();
    assert!(error.to_string().contains("balance"), "{error}");
}

#[test]
fn a_wallet_decides_from_its_postings_not_from_a_recorded_balance() {
    // A log whose TopUpCaptured records balance_after 1000.00 but posts 100.00.
    let mut tampered = topped_up(1, "100", "100", "0");
    if let WalletEvent::TopUpCaptured { balance_after, .. } = &mut tampered {
        *balance_after = sar("1000");
    }
    let wallet = given([opened(), tampered]);
    assert_eq!(wallet.state().available(), sar("100"));
    wallet
        .when(WalletCommand::RequestWithdrawal { withdrawal_id: id(3), amount: sar("500") })
        .then_rejected(WalletError::InsufficientFunds { available: sar("100"), required: sar("500") });
}
