//! Money in Saudi riyals: a validated, non-negative amount with exactly two decimal places,
//! plus the pure VAT split used for prices that include 15% VAT.

use std::fmt;
use std::str::FromStr;

use rust_decimal::{Decimal, RoundingStrategy};
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The only currency the platform handles.
pub const CURRENCY: &str = "SAR";

/// The largest amount a single `Money` may hold: 1,000,000,000.00 SAR.
/// A limit keeps sums of amounts far away from `Decimal`'s own overflow.
pub const MONEY_MAX: Money = Money(Decimal::from_parts(0x4876_E800, 0x17, 0, false, 2));

/// Number of decimal places every amount is stored with (halalas).
const MONEY_SCALE: u32 = 2;

/// Why a value could not become `Money`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("amount is not a number")]
    NotANumber,
    #[error("amount must not be negative")]
    Negative,
    #[error("amount has more than two decimal places")]
    TooManyDecimals,
    #[error("amount is larger than 1000000000.00")]
    TooLarge,
}

/// A non-negative SAR amount, always held with scale exactly 2 and at most [`MONEY_MAX`].
///
/// The fixed scale makes `Display`, serialization and hashing canonical: `5`, `5.0` and
/// `5.00` all become the same value printed as `5.00`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Money(Decimal);

impl Money {
    /// Zero riyals, printed as `0.00`.
    pub const ZERO: Money = Money(Decimal::from_parts(0, 0, 0, false, MONEY_SCALE));
    /// Same as [`MONEY_MAX`].
    pub const MAX: Money = MONEY_MAX;

    /// Parses a plain decimal string such as `"115"`, `"115.5"` or `"115.50"`.
    /// Exponents, signs other than a leading `-`, separators and whitespace are rejected.
    pub fn parse(text: &str) -> Result<Money, MoneyError> {
        let digits = text.strip_prefix('-').unwrap_or(text);
        let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
        let is_plain = !whole.is_empty()
            && whole.bytes().all(|b| b.is_ascii_digit())
            && fraction.bytes().all(|b| b.is_ascii_digit())
            && !(digits.contains('.') && fraction.is_empty());
        if !is_plain {
            return Err(MoneyError::NotANumber);
        }
        // Over-long inputs cannot be valid money, and would overflow Decimal's 28 digits.
        if whole.trim_start_matches('0').len() > 10 {
            return Err(if text.starts_with('-') {
                MoneyError::Negative
            } else {
                MoneyError::TooLarge
            });
        }
        let fraction = fraction.trim_end_matches('0');
        if fraction.len() > MONEY_SCALE as usize {
            return Err(MoneyError::TooManyDecimals);
        }
        // Rebuild the text without surplus zeros so Decimal never sees more than 28 digits.
        let sign = if text.starts_with('-') { "-" } else { "" };
        let whole = whole.trim_start_matches('0');
        let whole = if whole.is_empty() { "0" } else { whole };
        let value = Decimal::from_str(&format!("{sign}{whole}.{fraction:0<2}"))
            .map_err(|_| MoneyError::NotANumber)?;
        Money::from_decimal(value)
    }

    /// Validates a decimal: not negative, at most two significant decimal places, at most
    /// [`MONEY_MAX`]. Trailing zeros beyond two places (`1.500`) are accepted.
    pub fn from_decimal(value: Decimal) -> Result<Money, MoneyError> {
        // normalize() strips trailing zeros and turns -0 into 0.
        let mut value = value.normalize();
        if value.is_sign_negative() {
            return Err(MoneyError::Negative);
        }
        if value.scale() > MONEY_SCALE {
            return Err(MoneyError::TooManyDecimals);
        }
        if value > MONEY_MAX.0 {
            return Err(MoneyError::TooLarge);
        }
        value.rescale(MONEY_SCALE);
        Ok(Money(value))
    }

    /// Builds an amount from a count of halalas (1 SAR = 100 halalas).
    pub fn from_halalas(halalas: i64) -> Result<Money, MoneyError> {
        if halalas < 0 {
            return Err(MoneyError::Negative);
        }
        Money::from_decimal(Decimal::new(halalas, MONEY_SCALE))
    }

    /// An amount known when compiling, such as a limit: at most 42,949,672.95 SAR.
    pub const fn from_halalas_const(halalas: u32) -> Money {
        Money(Decimal::from_parts(halalas, 0, 0, false, MONEY_SCALE))
    }

    /// The amount as a decimal with scale 2.
    pub fn amount(self) -> Decimal {
        self.0
    }

    /// The amount in halalas; exact because the scale is always 2 and the value is bounded.
    pub fn halalas(self) -> i64 {
        // At most 100_000_000_000, which always fits in an i64.
        i64::try_from(self.0.mantissa()).unwrap_or(i64::MAX)
    }

    /// `self + other`, or `None` when the sum would exceed [`MONEY_MAX`].
    pub fn checked_add(self, other: Money) -> Option<Money> {
        let sum = self.0.checked_add(other.0)?;
        Money::from_decimal(sum).ok()
    }

    /// `self - other`, or `None` when the result would be negative.
    pub fn checked_sub(self, other: Money) -> Option<Money> {
        if other > self {
            return None;
        }
        Money::from_decimal(self.0 - other.0).ok()
    }

    /// `self × count`, or `None` when the product would exceed [`MONEY_MAX`].
    pub fn times(self, count: u32) -> Option<Money> {
        Money::from_decimal(self.0.checked_mul(Decimal::from(count))?).ok()
    }

    pub fn is_zero(self) -> bool {
        self.0.is_zero()
    }
}

impl Default for Money {
    fn default() -> Self {
        Money::ZERO
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The scale is always 2, so Decimal prints exactly two decimals.
        fmt::Display::fmt(&self.0, f)
    }
}

impl FromStr for Money {
    type Err = MoneyError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Money::parse(text)
    }
}

impl TryFrom<Decimal> for Money {
    type Error = MoneyError;

    fn try_from(value: Decimal) -> Result<Self, Self::Error> {
        Money::from_decimal(value)
    }
}

impl From<Money> for Decimal {
    fn from(money: Money) -> Self {
        money.0
    }
}

impl Serialize for Money {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(MoneyVisitor)
    }
}

/// Accepts `"115.00"` (the canonical form) and, for hand-written JSON, plain numbers.
struct MoneyVisitor;

impl Visitor<'_> for MoneyVisitor {
    type Value = Money;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a non-negative SAR amount with at most two decimals, such as \"115.00\"")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Money, E> {
        Money::parse(text).map_err(E::custom)
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Money, E> {
        Money::from_decimal(Decimal::from(value)).map_err(E::custom)
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Money, E> {
        Money::from_decimal(Decimal::from(value)).map_err(E::custom)
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<Money, E> {
        if !value.is_finite() {
            return Err(E::custom(MoneyError::NotANumber));
        }
        if value < 0.0 {
            return Err(E::custom(MoneyError::Negative));
        }
        // Rust prints the shortest text that round-trips, so 115.5 reads back as "115.5",
        // not as the binary approximation.
        Money::parse(&value.to_string()).map_err(E::custom)
    }
}

/// VAT rate included in every price: 15%.
const VAT_DIVISOR: Decimal = Decimal::from_parts(115, 0, 0, false, 2);

/// Splits a VAT-inclusive price into `(net, vat)` at 15%:
/// `net = round_half_up(gross / 1.15, 2)` and `vat = gross - net`, so the parts always add
/// back to the gross exactly.
pub fn vat_split(gross: Money) -> (Money, Money) {
    let mut net = (gross.0 / VAT_DIVISOR)
        .round_dp_with_strategy(MONEY_SCALE, RoundingStrategy::MidpointAwayFromZero);
    net.rescale(MONEY_SCALE);
    // net <= gross and both are non-negative, so neither construction can fail; fall back to
    // "all net" rather than panic if that ever stopped being true.
    let net = Money::from_decimal(net).unwrap_or(gross);
    let vat = gross.checked_sub(net).unwrap_or(Money::ZERO);
    (net, vat)
}
