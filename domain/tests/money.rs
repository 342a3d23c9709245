//! Money parsing, arithmetic, serde and the VAT split.

use domain::money::{CURRENCY, MONEY_MAX, Money, MoneyError, vat_split};
use rust_decimal_macros::dec;

fn sar(text: &str) -> Money {
    Money::parse(text).expect("valid money in test")
}

#[test]
fn currency_is_riyal() {
    assert_eq!(CURRENCY, "SAR");
}

#[test]
fn parse_normalizes_to_two_decimals() {
    assert_eq!(sar("5").to_string(), "5.00");
    assert_eq!(sar("5.5").to_string(), "5.50");
    assert_eq!(sar("115.00").to_string(), "115.00");
    assert_eq!(sar("0").to_string(), "0.00");
    assert_eq!(sar("007.10").to_string(), "7.10");
    assert_eq!(sar("1.500").to_string(), "1.50");
    assert_eq!(sar("5").amount().scale(), 2);
    assert_eq!(sar("1000000000.00"), MONEY_MAX);
}

#[test]
fn parse_rejects_bad_input() {
    for text in [
        "", "abc", "1.2.3", "1e3", " 5", "5 ", "+5", "1,000", "1_000", ".5", "5.", "NaN", "--1",
        "١٠",
    ] {
        assert_eq!(Money::parse(text), Err(MoneyError::NotANumber), "{text:?}");
    }
    assert_eq!(Money::parse("-1"), Err(MoneyError::Negative));
    assert_eq!(Money::parse("-0.01"), Err(MoneyError::Negative));
    assert_eq!(Money::parse("1.005"), Err(MoneyError::TooManyDecimals));
    assert_eq!(Money::parse("0.001"), Err(MoneyError::TooManyDecimals));
    assert_eq!(Money::parse("1000000000.01"), Err(MoneyError::TooLarge));
    assert_eq!(
        Money::parse("99999999999999999999999999999999999"),
        Err(MoneyError::TooLarge)
    );
}

#[test]
fn from_decimal_and_halalas_follow_the_same_rules() {
    assert_eq!(Money::from_decimal(dec!(12.3)), Ok(sar("12.30")));
    assert_eq!(Money::from_decimal(dec!(-1)), Err(MoneyError::Negative));
    assert_eq!(
        Money::from_decimal(dec!(0.125)),
        Err(MoneyError::TooManyDecimals)
    );
    assert_eq!(
        Money::from_decimal(dec!(1000000001)),
        Err(MoneyError::TooLarge)
    );
    assert_eq!(Money::from_halalas(11_500), Ok(sar("115.00")));
    assert_eq!(Money::from_halalas(1), Ok(sar("0.01")));
    assert_eq!(Money::from_halalas(-1), Err(MoneyError::Negative));
    assert_eq!(
        Money::from_halalas(100_000_000_001),
        Err(MoneyError::TooLarge)
    );
    assert_eq!(sar("115.00").halalas(), 11_500);
}

#[test]
fn checked_arithmetic_stays_in_range() {
    assert_eq!(sar("1.10").checked_add(sar("2.25")), Some(sar("3.35")));
    assert_eq!(MONEY_MAX.checked_add(sar("0.01")), None);
    assert_eq!(sar("5").checked_sub(sar("5")), Some(Money::ZERO));
    assert_eq!(sar("5").checked_sub(sar("5.01")), None);
    assert!(Money::ZERO.is_zero());
    assert!(!sar("0.01").is_zero());
    assert_eq!(Money::ZERO.to_string(), "0.00");
    assert_eq!(Money::default(), Money::ZERO);
}

#[test]
fn serde_uses_two_decimal_strings_and_validates() {
    assert_eq!(serde_json::to_string(&sar("115")).unwrap(), "\"115.00\"");
    assert_eq!(
        serde_json::from_str::<Money>("\"115.5\"").unwrap(),
        sar("115.50")
    );
    assert_eq!(
        serde_json::from_str::<Money>("115.5").unwrap(),
        sar("115.50")
    );
    assert_eq!(serde_json::from_str::<Money>("7").unwrap(), sar("7.00"));
    assert!(serde_json::from_str::<Money>("\"-1.00\"").is_err());
    assert!(serde_json::from_str::<Money>("-1").is_err());
    assert!(serde_json::from_str::<Money>("\"1.001\"").is_err());
    assert!(serde_json::from_str::<Money>("0.001").is_err());
    assert!(serde_json::from_str::<Money>("\"x\"").is_err());
    assert!(serde_json::from_str::<Money>("null").is_err());
}

#[test]
fn vat_split_examples() {
    assert_eq!(vat_split(sar("115.00")), (sar("100.00"), sar("15.00")));
    assert_eq!(vat_split(sar("10.00")), (sar("8.70"), sar("1.30")));
    assert_eq!(vat_split(sar("0.01")), (sar("0.01"), sar("0.00")));
    assert_eq!(vat_split(Money::ZERO), (Money::ZERO, Money::ZERO));
    let (net, vat) = vat_split(MONEY_MAX);
    assert_eq!(net.checked_add(vat), Some(MONEY_MAX));
}

#[test]
fn vat_split_parts_always_add_back_to_gross() {
    for halalas in (0..20_000).chain([99_999_999_999, 100_000_000_000]) {
        let gross = Money::from_halalas(halalas).unwrap();
        let (net, vat) = vat_split(gross);
        assert_eq!(net.checked_add(vat), Some(gross), "{gross}");
        assert_eq!(net.amount().scale(), 2);
        assert_eq!(vat.amount().scale(), 2);
    }
}
