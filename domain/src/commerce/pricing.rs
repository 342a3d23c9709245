//! How a checkout's VAT-inclusive prices split. The document's VAT is computed once on its total,
//! `vat = total − round_half_up(total / 1.15, 2)`, and allocated to the lines in proportion to
//! their prices (largest remainder, in halalas), so the lines' nets and VATs add up to the
//! document's exactly. Each line's speaker earns its net less the platform's commission,
//! `commission = round_half_up(net × rate, 2)`.

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

use crate::money::{Money, vat_split};

/// The platform's share of a sale's net: a rate in [0, 1) with at most four decimals.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Decimal", into = "Decimal")]
pub struct CommissionRate(Decimal);

impl CommissionRate {
    /// The default rate: 20%.
    pub const DEFAULT: CommissionRate = CommissionRate(Decimal::from_parts(20, 0, 0, false, 2));

    pub fn new(rate: Decimal) -> Result<CommissionRate, String> {
        let rate = rate.normalize();
        if rate.is_sign_negative() || rate >= Decimal::ONE || rate.scale() > 4 {
            return Err(format!("a commission rate is a decimal in [0, 1) with at most four decimals, not {rate}"));
        }
        Ok(CommissionRate(rate))
    }

    pub fn parse(text: &str) -> Result<CommissionRate, String> {
        let rate: Decimal = text.trim().parse().map_err(|_| format!("{text:?} is not a decimal"))?;
        CommissionRate::new(rate)
    }

    pub fn rate(self) -> Decimal {
        self.0
    }

    /// The commission on a net amount, rounded half up to the halala.
    pub fn of(self, net: Money) -> Money {
        let commission = (net.amount() * self.0).round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
        // At most the net, since the rate is below one.
        Money::from_decimal(commission).unwrap_or(net)
    }
}

impl TryFrom<Decimal> for CommissionRate {
    type Error = String;

    fn try_from(rate: Decimal) -> Result<CommissionRate, String> {
        CommissionRate::new(rate)
    }
}

impl From<CommissionRate> for Decimal {
    fn from(rate: CommissionRate) -> Decimal {
        rate.0
    }
}

/// One line's share of a document: the price of one unit, and the parts of the whole line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineSplit {
    /// The VAT-inclusive price of one unit, as listed.
    pub unit_price: Money,
    pub net: Money,
    pub vat: Money,
    /// The platform's commission on the net.
    pub commission: Money,
    /// What the speaker earns: the net less the commission.
    pub earning: Money,
}

/// A document's totals: `total` includes VAT, `subtotal` is the net.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    pub total: Money,
    pub vat_amount: Money,
    pub subtotal: Money,
}

impl Totals {
    /// The totals of a document with these VAT-inclusive prices. `None` only when the total would
    /// pass `Money::MAX`.
    pub fn of(prices: &[Money]) -> Option<Totals> {
        let total = prices.iter().try_fold(Money::ZERO, |sum, price| sum.checked_add(*price))?;
        let (subtotal, vat_amount) = vat_split(total);
        Some(Totals { total, vat_amount, subtotal })
    }
}

/// Splits the lines' prices. `None` only when the total would pass `Money::MAX`.
pub fn split(prices: &[Money], rate: CommissionRate) -> Option<(Vec<LineSplit>, Totals)> {
    let totals = Totals::of(prices)?;
    let Totals { total, vat_amount, .. } = totals;
    let vats = allocate(vat_amount, prices, total);
    let lines = prices
        .iter()
        .zip(vats)
        .map(|(&unit_price, vat)| {
            let net = unit_price.checked_sub(vat).unwrap_or(Money::ZERO);
            let commission = rate.of(net);
            let earning = net.checked_sub(commission).unwrap_or(Money::ZERO);
            LineSplit { unit_price, net, vat, commission, earning }
        })
        .collect();
    Some((lines, totals))
}

/// `amount` shared in proportion to `weights` (which sum to `total`): each share rounded down to
/// the halala, and the halalas left over go one each to the largest remainders, earlier lines
/// first on a tie. The shares add up to `amount` exactly, and none exceeds its weight.
fn allocate(amount: Money, weights: &[Money], total: Money) -> Vec<Money> {
    let (amount, total) = (i128::from(amount.halalas()), i128::from(total.halalas()));
    if total == 0 {
        return vec![Money::ZERO; weights.len()];
    }
    let exact: Vec<(i128, i128)> = weights.iter().map(|weight| {
        let product = amount * i128::from(weight.halalas());
        (product / total, product % total)
    }).collect();
    let mut shares: Vec<i128> = exact.iter().map(|(share, _)| *share).collect();
    let left_over = amount - shares.iter().sum::<i128>();
    let mut by_remainder: Vec<usize> = (0..exact.len()).collect();
    by_remainder.sort_by(|a, b| exact[*b].1.cmp(&exact[*a].1).then(a.cmp(b)));
    for index in by_remainder.into_iter().take(usize::try_from(left_over).unwrap_or(0)) {
        shares[index] += 1;
    }
    shares.into_iter().map(|share| Money::from_halalas(i64::try_from(share).unwrap_or(0)).unwrap_or(Money::ZERO)).collect()
}
