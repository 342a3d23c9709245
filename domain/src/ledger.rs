//! Double-entry bookkeeping: accounts, postings and balanced journal entries.
//!
//! Sign convention: a debit is a positive amount, a credit a negative one, so every
//! journal entry's postings sum to exactly zero. Entries are checked when built and again
//! when deserialized, so an unbalanced entry can neither be written nor loaded.

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use uuid::Uuid;

use crate::money::Money;

/// Longest provider name accepted, in characters.
const PROVIDER_NAME_LENGTH_MAX: usize = 32;
/// Postings carry whole halalas at most.
const POSTING_SCALE_MAX: u32 = 2;

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LedgerError {
    #[error("a journal entry needs at least two postings")]
    TooFewPostings,
    #[error("a posting must not be zero")]
    ZeroPosting,
    #[error("a posting has more than two decimal places")]
    BadScale,
    #[error("postings do not balance: they sum to {sum}")]
    Unbalanced { sum: Decimal },
    #[error("unknown account code: {0}")]
    BadAccount(String),
    #[error("invalid payment provider name: {0}")]
    BadProvider(String),
}

/// A payment provider's name as used in account codes, such as `moyasar` or `stc_pay`:
/// 1–32 characters of `[a-z0-9_]`, so it can never contain the `:` separator.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProviderName(String);

impl ProviderName {
    pub fn parse(name: &str) -> Result<ProviderName, LedgerError> {
        let is_valid = !name.is_empty()
            && name.len() <= PROVIDER_NAME_LENGTH_MAX
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if is_valid {
            Ok(ProviderName(name.to_owned()))
        } else {
            Err(LedgerError::BadProvider(name.to_owned()))
        }
    }
}

crate::text_value!(ProviderName, LedgerError, LedgerError::BadProvider);

impl FromStr for ProviderName {
    type Err = LedgerError;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        ProviderName::parse(name)
    }
}

impl Serialize for ProviderName {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for ProviderName {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        ProviderName::parse(&name).map_err(serde::de::Error::custom)
    }
}

/// A ledger account. Its string code (`wallet:<uuid>:available`, `platform:revenue`, …) is
/// what gets stored, so the codes must never change.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Account {
    /// Money a user can spend or withdraw now (a liability of the platform to the user).
    WalletAvailable(Uuid),
    /// Earnings not yet released to the user (also a liability).
    WalletPending(Uuid),
    /// What the user owes the platform: a reversed earning their available balance could not
    /// cover. An asset, so debit-normal.
    WalletOwed(Uuid),
    PlatformRevenue,
    VatPayable,
    WithdrawalsPayable,
    /// Money received that could not go where it was meant to (a capture the wallet could not
    /// take), held for an operator to resolve: a liability.
    Suspense,
    /// Money held at, or owed to/by, a payment provider: an asset, so debit-normal.
    ProviderClearing(ProviderName),
}

impl Account {
    /// True when the account's balance grows with credits (liabilities and revenue).
    pub fn is_credit_normal(&self) -> bool {
        !matches!(self, Account::ProviderClearing(_) | Account::WalletOwed(_))
    }
}

impl fmt::Display for Account {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Account::WalletAvailable(user) => write!(f, "wallet:{user}:available"),
            Account::WalletPending(user) => write!(f, "wallet:{user}:pending"),
            Account::WalletOwed(user) => write!(f, "wallet:{user}:owed"),
            Account::PlatformRevenue => f.write_str("platform:revenue"),
            Account::VatPayable => f.write_str("platform:vat_payable"),
            Account::WithdrawalsPayable => f.write_str("platform:withdrawals_payable"),
            Account::Suspense => f.write_str("platform:suspense"),
            Account::ProviderClearing(provider) => write!(f, "clearing:{provider}"),
        }
    }
}

impl FromStr for Account {
    type Err = LedgerError;

    fn from_str(code: &str) -> Result<Self, Self::Err> {
        let bad = || LedgerError::BadAccount(code.to_owned());
        match code {
            "platform:revenue" => return Ok(Account::PlatformRevenue),
            "platform:vat_payable" => return Ok(Account::VatPayable),
            "platform:withdrawals_payable" => return Ok(Account::WithdrawalsPayable),
            "platform:suspense" => return Ok(Account::Suspense),
            _ => {}
        }
        if let Some(provider) = code.strip_prefix("clearing:") {
            return ProviderName::parse(provider)
                .map(Account::ProviderClearing)
                .map_err(|_| bad());
        }
        let wallet = code.strip_prefix("wallet:").ok_or_else(bad)?;
        let (user, kind) = wallet.split_once(':').ok_or_else(bad)?;
        // Only the canonical hyphenated form, so each account has exactly one code.
        let user_id = Uuid::try_parse(user).map_err(|_| bad())?;
        if user_id.hyphenated().to_string() != user {
            return Err(bad());
        }
        match kind {
            "available" => Ok(Account::WalletAvailable(user_id)),
            "pending" => Ok(Account::WalletPending(user_id)),
            "owed" => Ok(Account::WalletOwed(user_id)),
            _ => Err(bad()),
        }
    }
}

impl Serialize for Account {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Account {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let code = String::deserialize(deserializer)?;
        code.parse().map_err(serde::de::Error::custom)
    }
}

/// One line of a journal entry: debit positive, credit negative.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Posting {
    pub account: Account,
    #[serde(with = "rust_decimal::serde::str")]
    pub amount: Decimal,
}

/// A balanced set of postings: at least two, none zero, whole halalas, summing to zero.
/// The postings are private so that every entry in existence has passed [`JournalEntry::new`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JournalEntry(Vec<Posting>);

impl JournalEntry {
    pub fn new(postings: Vec<Posting>) -> Result<JournalEntry, LedgerError> {
        if postings.len() < 2 {
            return Err(LedgerError::TooFewPostings);
        }
        let mut sum = Decimal::ZERO;
        for posting in &postings {
            if posting.amount.is_zero() {
                return Err(LedgerError::ZeroPosting);
            }
            if posting.amount.scale() > POSTING_SCALE_MAX {
                return Err(LedgerError::BadScale);
            }
            // Overflow is only reachable with absurd hand-made input; such a sum is not a
            // provable zero, so it is reported as unbalanced.
            sum = sum
                .checked_add(posting.amount)
                .ok_or(LedgerError::Unbalanced { sum })?;
        }
        if !sum.is_zero() {
            return Err(LedgerError::Unbalanced { sum });
        }
        Ok(JournalEntry(postings))
    }

    /// Moves `amount` from `credit` to `debit`: `+amount` on `debit`, `-amount` on `credit`.
    /// The amount must not be zero; callers validate amounts before building entries.
    pub fn transfer(debit: Account, credit: Account, amount: Money) -> JournalEntry {
        debug_assert!(
            !amount.is_zero(),
            "a transfer of zero would not be a valid entry"
        );
        let amount = amount.amount();
        JournalEntry(vec![
            Posting {
                account: debit,
                amount,
            },
            Posting {
                account: credit,
                amount: -amount,
            },
        ])
    }

    pub fn postings(&self) -> &[Posting] {
        &self.0
    }

    /// Recomputes the sum; true for every entry built through `new` or `transfer`.
    pub fn is_balanced(&self) -> bool {
        self.0
            .iter()
            .try_fold(Decimal::ZERO, |sum, posting| {
                sum.checked_add(posting.amount)
            })
            .is_some_and(|sum| sum.is_zero())
    }

    /// Signed sum of this entry's postings on `account` (zero if it is not touched).
    pub fn balance_of(&self, account: &Account) -> Decimal {
        self.0
            .iter()
            .filter(|posting| &posting.account == account)
            .fold(Decimal::ZERO, |sum, posting| {
                sum.saturating_add(posting.amount)
            })
    }
}

impl Serialize for JournalEntry {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for JournalEntry {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Loading checks the balance again: the second half of the balanced-ledger assertion.
        let postings = Vec::<Posting>::deserialize(deserializer)?;
        JournalEntry::new(postings).map_err(serde::de::Error::custom)
    }
}

impl TryFrom<Vec<Posting>> for JournalEntry {
    type Error = LedgerError;

    fn try_from(postings: Vec<Posting>) -> Result<Self, Self::Error> {
        JournalEntry::new(postings)
    }
}

/// An account's balance in its natural direction, from the signed (debit-positive) sum of
/// its postings: credit-normal accounts are negated so a funded wallet reads positive.
pub fn natural_balance(account: &Account, signed_sum: Decimal) -> Decimal {
    if account.is_credit_normal() {
        -signed_sum
    } else {
        signed_sum
    }
}
