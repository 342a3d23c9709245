//! Wallet rules as given(events) → when(command) → then(events | error).

use chrono::{DateTime, TimeZone, Utc};
use domain::ledger::{Account, JournalEntry, Posting, ProviderName};
use domain::money::Money;
use domain::wallet::{
    DecodeError, PurchaseCategory, STREAM_TYPE, Wallet, WalletCommand, WalletError, WalletEvent,
    WithdrawalStatus,
};
use rust_decimal_macros::dec;
use uuid::Uuid;

// ---- the given/when/then helper ----

struct Given {
    wallet: Wallet,
}

struct When {
    wallet: Wallet,
    result: Result<Vec<WalletEvent>, WalletError>,
}

fn given(events: impl IntoIterator<Item = WalletEvent>) -> Given {
    let events: Vec<WalletEvent> = events.into_iter().collect();
    Given {
        wallet: Wallet::replay(&events),
    }
}

impl Given {
    fn when(self, command: WalletCommand) -> When {
        let result = self.wallet.handle(command);
        When {
            wallet: self.wallet,
            result,
        }
    }
}

impl When {
    /// Asserts the events and returns the state after applying them.
    #[track_caller]
    fn then(self, expected: Vec<WalletEvent>) -> Wallet {
        let events = self.result.expect("command should succeed");
        assert_eq!(events, expected);
        let mut wallet = self.wallet;
        for event in &events {
            assert!(event.postings().is_none_or(JournalEntry::is_balanced));
            wallet.apply(event);
        }
        wallet
    }

    #[track_caller]
    fn then_error(self, expected: WalletError) {
        assert_eq!(self.result, Err(expected));
    }
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
        order_id: id(order),
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
        category: PurchaseCategory::Course,
        gross: sar(gross),
        vat: sar(vat),
        description: "Tajweed course".to_owned(),
    }
}

fn earn(order: u128, amount: &str, release_day: u32) -> WalletCommand {
    WalletCommand::AddPendingEarnings {
        order_id: id(order),
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
    assert_eq!(wallet.version(), 1);
    assert_eq!(STREAM_TYPE, "wallet");
}

#[test]
fn open_twice_is_rejected() {
    given([opened()])
        .when(WalletCommand::Open { user_id: user() })
        .then_error(WalletError::AlreadyOpen);
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
        given([]).when(command).then_error(WalletError::NotOpen);
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
    assert_eq!(wallet.version(), 2);
}

#[test]
fn zero_top_up_is_rejected() {
    given([opened()])
        .when(top_up(1, "0"))
        .then_error(WalletError::InvalidAmount);
}

#[test]
fn top_up_past_the_money_limit_is_rejected() {
    given([opened(), topped_up(1, "1000000000", "1000000000", "0")])
        .when(top_up(2, "0.01"))
        .then_error(WalletError::InvalidAmount);
}

// ---- purchases ----

#[test]
fn purchase_debits_gross_and_splits_vat_from_revenue() {
    let wallet = given([opened(), topped_up(1, "200", "200", "0")])
        .when(purchase(7, "115", "15"))
        .then(vec![WalletEvent::WalletDebited {
            user_id: user(),
            order_id: id(7),
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
        .result
        .unwrap();
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
    assert_eq!(wallet.version(), 3);
}

#[test]
fn purchase_beyond_the_balance_is_rejected() {
    given([opened(), topped_up(1, "100", "100", "0")])
        .when(purchase(7, "100.01", "13.05"))
        .then_error(WalletError::InsufficientFunds {
            available: sar("100"),
            required: sar("100.01"),
        });
}

#[test]
fn purchase_with_vat_not_below_gross_is_rejected() {
    let history = [opened(), topped_up(1, "100", "100", "0")];
    given(history.clone())
        .when(purchase(7, "10", "10"))
        .then_error(WalletError::VatExceedsGross);
    given(history)
        .when(purchase(7, "10", "11"))
        .then_error(WalletError::VatExceedsGross);
}

#[test]
fn zero_purchase_is_rejected() {
    given([opened(), topped_up(1, "100", "100", "0")])
        .when(purchase(7, "0", "0"))
        .then_error(WalletError::InvalidAmount);
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
        .then_error(WalletError::InvalidAmount);
}

#[test]
fn repeated_earnings_for_one_order_are_added_once() {
    given([opened(), earned(9, "80", 10, "0", "80")])
        .when(earn(9, "80", 10))
        .then(vec![]);
}

#[test]
fn settle_releases_only_due_earnings_in_one_event() {
    let history = [
        opened(),
        topped_up(1, "5", "5", "0"),
        earned(9, "80", 10, "5", "80"),
        earned(10, "20", 12, "5", "100"),
        earned(11, "30", 20, "5", "130"),
    ];
    let wallet = given(history)
        .when(WalletCommand::SettlePending { as_of: at(12) })
        .then(vec![WalletEvent::PendingSettled {
            user_id: user(),
            amount: sar("100"),
            order_ids: vec![id(9), id(10)],
            balance_after: sar("105"),
            pending_balance_after: sar("30"),
            postings: JournalEntry::transfer(pending(), available(), sar("100")),
        }]);
    assert_eq!(wallet.available(), sar("105"));
    assert_eq!(wallet.pending(), sar("30"));
    assert_eq!(wallet.total_earned(), sar("130"));
    assert_eq!(wallet.pending_earnings().len(), 1);
}

#[test]
fn settle_with_nothing_due_is_rejected() {
    given([opened()])
        .when(WalletCommand::SettlePending { as_of: at(30) })
        .then_error(WalletError::NothingToSettle);
    given([opened(), earned(9, "80", 10, "0", "80")])
        .when(WalletCommand::SettlePending { as_of: at(9) })
        .then_error(WalletError::NothingToSettle);
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
        .then_error(WalletError::InsufficientFunds {
            available: sar("100"),
            required: sar("100.01"),
        });
}

#[test]
fn zero_withdrawal_is_rejected() {
    given([opened(), topped_up(1, "100", "100", "0")])
        .when(request_withdrawal(5, "0"))
        .then_error(WalletError::InvalidAmount);
}

#[test]
fn duplicate_withdrawal_id_is_rejected() {
    given([
        opened(),
        topped_up(1, "100", "100", "0"),
        withdrawal_requested(5, "10", "90"),
    ])
    .when(request_withdrawal(5, "10"))
    .then_error(WalletError::DuplicateWithdrawal);
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
        .then_error(WalletError::UnknownWithdrawal);
    given([opened()])
        .when(reject(5))
        .then_error(WalletError::UnknownWithdrawal);
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
        .then_error(WalletError::WithdrawalNotPending);
    given(completed)
        .when(reject(5))
        .then_error(WalletError::WithdrawalNotPending);
    let rejected = [
        opened(),
        topped_up(1, "100", "100", "0"),
        withdrawal_requested(5, "60", "40"),
        withdrawal_rejected(5, "60", "100"),
    ];
    given(rejected.clone())
        .when(complete(5))
        .then_error(WalletError::WithdrawalNotPending);
    given(rejected)
        .when(reject(5))
        .then_error(WalletError::WithdrawalNotPending);
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
    assert_eq!(event.event_type(), "EarningsAdded");
    assert_eq!(event.schema_version(), 1);
    let payload = event.to_payload();
    assert_eq!(payload["amount"], "80.00");
    assert_eq!(payload["pending_balance_after"], "80.00");
    assert_eq!(payload["release_at"], "2025-03-10T12:00:00Z");
    assert_eq!(
        payload["postings"][1]["account"],
        format!("wallet:{}:pending", user())
    );
    assert_eq!(
        WalletEvent::from_payload("EarningsAdded", 1, payload),
        Ok(event)
    );

    let top_up = topped_up(1, "100", "100", "0");
    assert_eq!(top_up.schema_version(), 2);
    assert_eq!(top_up.event_type(), "TopUpCaptured");
    assert_eq!(
        WalletEvent::from_payload("TopUpCaptured", 2, top_up.to_payload()),
        Ok(top_up)
    );
    assert_eq!(opened().balance_after(), None);
    assert_eq!(opened().user_id(), user());
}

#[test]
fn from_payload_rejects_old_versions_unknown_types_and_unbalanced_postings() {
    let top_up = topped_up(1, "100", "100", "0");
    let error: DecodeError =
        WalletEvent::from_payload("TopUpCaptured", 1, top_up.to_payload()).unwrap_err();
    assert!(error.to_string().contains("upcast"), "{error}");
    assert!(WalletEvent::from_payload("WalletClosed", 1, serde_json::json!({})).is_err());
    assert!(WalletEvent::from_payload("WalletOpened", 1, serde_json::json!("x")).is_err());

    let mut payload = top_up.to_payload();
    payload["postings"][0]["amount"] = serde_json::json!("99.00");
    let error = WalletEvent::from_payload("TopUpCaptured", 2, payload).unwrap_err();
    assert!(error.to_string().contains("balance"), "{error}");
}
