//! Accounts, provider names and balanced journal entries.

use domain::ledger::{Account, JournalEntry, LedgerError, Posting, ProviderName, natural_balance};
use domain::money::Money;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use uuid::Uuid;

fn user() -> Uuid {
    Uuid::parse_str("0190f5e2-7b1c-7d2e-8f00-123456789abc").unwrap()
}

fn moyasar() -> ProviderName {
    ProviderName::parse("moyasar").unwrap()
}

fn posting(account: Account, amount: Decimal) -> Posting {
    Posting { account, amount }
}

#[test]
fn provider_names_are_validated() {
    assert_eq!(moyasar().as_str(), "moyasar");
    assert_eq!(
        ProviderName::parse("stc_pay2").unwrap().to_string(),
        "stc_pay2"
    );
    assert!(ProviderName::parse(&"a".repeat(32)).is_ok());
    for bad in [
        "",
        "Moyasar",
        "stc-pay",
        "a:b",
        "with space",
        &"a".repeat(33),
    ] {
        assert_eq!(
            ProviderName::parse(bad),
            Err(LedgerError::BadProvider(bad.to_owned())),
            "{bad:?}"
        );
    }
    assert_eq!(serde_json::to_string(&moyasar()).unwrap(), "\"moyasar\"");
    assert!(serde_json::from_str::<ProviderName>("\"BAD\"").is_err());
}

#[test]
fn account_codes_round_trip() {
    let cases = [
        (
            Account::WalletAvailable(user()),
            "wallet:0190f5e2-7b1c-7d2e-8f00-123456789abc:available",
        ),
        (
            Account::WalletPending(user()),
            "wallet:0190f5e2-7b1c-7d2e-8f00-123456789abc:pending",
        ),
        (Account::PlatformRevenue, "platform:revenue"),
        (Account::VatPayable, "platform:vat_payable"),
        (Account::WithdrawalsPayable, "platform:withdrawals_payable"),
        (Account::ProviderClearing(moyasar()), "clearing:moyasar"),
    ];
    for (account, code) in cases {
        assert_eq!(account.to_string(), code);
        assert_eq!(code.parse::<Account>(), Ok(account.clone()));
        assert_eq!(
            serde_json::to_value(&account).unwrap(),
            serde_json::json!(code)
        );
        assert_eq!(
            serde_json::from_value::<Account>(serde_json::json!(code)).unwrap(),
            account
        );
    }
}

#[test]
fn bad_account_codes_are_rejected() {
    for code in [
        "",
        "platform:cash",
        "wallet:not-a-uuid:available",
        "wallet:0190f5e2-7b1c-7d2e-8f00-123456789abc:frozen",
        "wallet:0190F5E2-7B1C-7D2E-8F00-123456789ABC:available",
        "wallet:0190f5e27b1c7d2e8f00123456789abc:available",
        "clearing:",
        "clearing:Bad",
        "revenue",
    ] {
        assert_eq!(
            code.parse::<Account>(),
            Err(LedgerError::BadAccount(code.to_owned())),
            "{code:?}"
        );
    }
}

#[test]
fn only_provider_clearing_is_debit_normal() {
    assert!(Account::WalletAvailable(user()).is_credit_normal());
    assert!(Account::WalletPending(user()).is_credit_normal());
    assert!(Account::PlatformRevenue.is_credit_normal());
    assert!(Account::VatPayable.is_credit_normal());
    assert!(Account::WithdrawalsPayable.is_credit_normal());
    assert!(!Account::ProviderClearing(moyasar()).is_credit_normal());
    assert_eq!(
        natural_balance(&Account::WalletAvailable(user()), dec!(-5.00)),
        dec!(5.00)
    );
    assert_eq!(
        natural_balance(&Account::ProviderClearing(moyasar()), dec!(5.00)),
        dec!(5.00)
    );
}

#[test]
fn entries_must_balance() {
    let entry = JournalEntry::new(vec![
        posting(Account::WalletAvailable(user()), dec!(115.00)),
        posting(Account::VatPayable, dec!(-15.00)),
        posting(Account::PlatformRevenue, dec!(-100.00)),
    ])
    .unwrap();
    assert!(entry.is_balanced());
    assert_eq!(entry.postings().len(), 3);
    assert_eq!(entry.balance_of(&Account::VatPayable), dec!(-15.00));
    assert_eq!(
        entry.balance_of(&Account::WithdrawalsPayable),
        Decimal::ZERO
    );

    assert_eq!(
        JournalEntry::new(vec![
            posting(Account::PlatformRevenue, dec!(10.00)),
            posting(Account::VatPayable, dec!(-9.99)),
        ]),
        Err(LedgerError::Unbalanced { sum: dec!(0.01) })
    );
    assert_eq!(JournalEntry::new(vec![]), Err(LedgerError::TooFewPostings));
    assert_eq!(
        JournalEntry::new(vec![posting(Account::PlatformRevenue, dec!(0))]),
        Err(LedgerError::TooFewPostings)
    );
    assert_eq!(
        JournalEntry::new(vec![
            posting(Account::PlatformRevenue, dec!(0)),
            posting(Account::VatPayable, dec!(0)),
        ]),
        Err(LedgerError::ZeroPosting)
    );
    assert_eq!(
        JournalEntry::new(vec![
            posting(Account::PlatformRevenue, dec!(0.005)),
            posting(Account::VatPayable, dec!(-0.005)),
        ]),
        Err(LedgerError::BadScale)
    );
    let huge = Decimal::MAX;
    assert!(matches!(
        JournalEntry::new(vec![
            posting(Account::PlatformRevenue, huge),
            posting(Account::VatPayable, huge),
            posting(Account::WithdrawalsPayable, -huge),
        ]),
        Err(LedgerError::Unbalanced { .. })
    ));
}

#[test]
fn transfer_debits_one_account_and_credits_the_other() {
    let entry = JournalEntry::transfer(
        Account::ProviderClearing(moyasar()),
        Account::WalletAvailable(user()),
        Money::parse("50").unwrap(),
    );
    assert!(entry.is_balanced());
    assert_eq!(
        entry.balance_of(&Account::ProviderClearing(moyasar())),
        dec!(50.00)
    );
    assert_eq!(
        entry.balance_of(&Account::WalletAvailable(user())),
        dec!(-50.00)
    );
}

#[test]
fn entries_serialize_as_posting_arrays() {
    let entry = JournalEntry::transfer(
        Account::ProviderClearing(moyasar()),
        Account::WalletAvailable(user()),
        Money::parse("50").unwrap(),
    );
    let json = serde_json::to_value(&entry).unwrap();
    assert_eq!(
        json,
        serde_json::json!([
            {"account": "clearing:moyasar", "amount": "50.00"},
            {"account": "wallet:0190f5e2-7b1c-7d2e-8f00-123456789abc:available", "amount": "-50.00"},
        ])
    );
    assert_eq!(serde_json::from_value::<JournalEntry>(json).unwrap(), entry);
}

#[test]
fn loading_an_unbalanced_entry_fails() {
    let unbalanced = serde_json::json!([
        {"account": "clearing:moyasar", "amount": "50.00"},
        {"account": "platform:revenue", "amount": "-49.00"},
    ]);
    let error = serde_json::from_value::<JournalEntry>(unbalanced).unwrap_err();
    assert!(error.to_string().contains("do not balance"), "{error}");

    let single = serde_json::json!([{"account": "platform:revenue", "amount": "1.00"}]);
    assert!(serde_json::from_value::<JournalEntry>(single).is_err());
    let bad_account = serde_json::json!([
        {"account": "platform:cash", "amount": "1.00"},
        {"account": "platform:revenue", "amount": "-1.00"},
    ]);
    assert!(serde_json::from_value::<JournalEntry>(bad_account).is_err());
}
