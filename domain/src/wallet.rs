//! The wallet aggregate: one stream per user, holding available and pending SAR balances.
//!
//! `Wallet::handle` holds every business rule and answers with events or a `WalletError`;
//! `Wallet::apply` folds an event into state and never fails. Every money-moving event
//! carries its balanced journal entry and the balances after it, so projections and audits
//! can check the ledger without re-running the rules.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::ledger::{Account, JournalEntry, Posting, ProviderName};
use crate::money::{CURRENCY, Money};

/// Stream type for wallet events; the stream id is the user id.
pub const STREAM_TYPE: &str = "wallet";

/// What a wallet purchase paid for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PurchaseCategory {
    Course,
    Book,
    LiveRoom,
    Consultation,
    Gift,
}

impl PurchaseCategory {
    pub fn as_str(self) -> &'static str {
        match self {
            PurchaseCategory::Course => "course",
            PurchaseCategory::Book => "book",
            PurchaseCategory::LiveRoom => "live_room",
            PurchaseCategory::Consultation => "consultation",
            PurchaseCategory::Gift => "gift",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum WalletCommand {
    Open {
        user_id: Uuid,
    },
    CreditTopUp {
        top_up_id: Uuid,
        provider: ProviderName,
        amount: Money,
    },
    DebitForPurchase {
        order_id: Uuid,
        category: PurchaseCategory,
        gross: Money,
        vat: Money,
        description: String,
    },
    AddPendingEarnings {
        order_id: Uuid,
        amount: Money,
        release_at: DateTime<Utc>,
        description: String,
    },
    SettlePending {
        as_of: DateTime<Utc>,
    },
    RequestWithdrawal {
        withdrawal_id: Uuid,
        amount: Money,
    },
    CompleteWithdrawal {
        withdrawal_id: Uuid,
        provider: ProviderName,
    },
    RejectWithdrawal {
        withdrawal_id: Uuid,
        reason: String,
    },
}

/// Business rejections of wallet commands.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WalletError {
    #[error("the wallet is not open")]
    NotOpen,
    #[error("the wallet is already open")]
    AlreadyOpen,
    #[error("the amount must be greater than zero and within limits")]
    InvalidAmount,
    #[error("insufficient funds: {available} SAR available, {required} SAR required")]
    InsufficientFunds { available: Money, required: Money },
    #[error("the VAT must be less than the gross amount")]
    VatExceedsGross,
    #[error("no pending earnings are due for release")]
    NothingToSettle,
    #[error("a withdrawal with this id already exists")]
    DuplicateWithdrawal,
    #[error("no withdrawal with this id exists")]
    UnknownWithdrawal,
    #[error("the withdrawal is no longer pending")]
    WithdrawalNotPending,
}

impl WalletError {
    /// A stable machine-readable code for clients and logs.
    pub fn code(&self) -> &'static str {
        match self {
            WalletError::NotOpen => "wallet_not_open",
            WalletError::AlreadyOpen => "wallet_already_open",
            WalletError::InvalidAmount => "invalid_amount",
            WalletError::InsufficientFunds { .. } => "insufficient_funds",
            WalletError::VatExceedsGross => "vat_exceeds_gross",
            WalletError::NothingToSettle => "nothing_to_settle",
            WalletError::DuplicateWithdrawal => "duplicate_withdrawal",
            WalletError::UnknownWithdrawal => "unknown_withdrawal",
            WalletError::WithdrawalNotPending => "withdrawal_not_pending",
        }
    }
}

/// Everything that can happen to a wallet. The serde shape of each variant's fields is the
/// stored payload, so renaming a field needs a new schema version and an upcaster.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum WalletEvent {
    WalletOpened {
        user_id: Uuid,
        currency: String,
    },
    TopUpCaptured {
        user_id: Uuid,
        top_up_id: Uuid,
        provider: ProviderName,
        amount: Money,
        balance_after: Money,
        pending_balance_after: Money,
        postings: JournalEntry,
    },
    WalletDebited {
        user_id: Uuid,
        order_id: Uuid,
        category: PurchaseCategory,
        amount: Money,
        vat: Money,
        description: String,
        balance_after: Money,
        pending_balance_after: Money,
        postings: JournalEntry,
    },
    EarningsAdded {
        user_id: Uuid,
        order_id: Uuid,
        amount: Money,
        release_at: DateTime<Utc>,
        description: String,
        balance_after: Money,
        pending_balance_after: Money,
        postings: JournalEntry,
    },
    PendingSettled {
        user_id: Uuid,
        amount: Money,
        order_ids: Vec<Uuid>,
        balance_after: Money,
        pending_balance_after: Money,
        postings: JournalEntry,
    },
    WithdrawalRequested {
        user_id: Uuid,
        withdrawal_id: Uuid,
        amount: Money,
        balance_after: Money,
        pending_balance_after: Money,
        postings: JournalEntry,
    },
    WithdrawalCompleted {
        user_id: Uuid,
        withdrawal_id: Uuid,
        amount: Money,
        provider: ProviderName,
        balance_after: Money,
        pending_balance_after: Money,
        postings: JournalEntry,
    },
    WithdrawalRejected {
        user_id: Uuid,
        withdrawal_id: Uuid,
        amount: Money,
        reason: String,
        balance_after: Money,
        pending_balance_after: Money,
        postings: JournalEntry,
    },
}

pub use crate::codec::DecodeError;

/// Every event type with its current schema version. Bump a version here only together
/// with an upcaster in `crate::schema::UPCASTS`.
const CURRENT_SCHEMA_VERSIONS: &[(&str, u16)] = &[
    ("WalletOpened", 1),
    ("TopUpCaptured", 2),
    ("WalletDebited", 1),
    ("EarningsAdded", 1),
    ("PendingSettled", 1),
    ("WithdrawalRequested", 1),
    ("WithdrawalCompleted", 1),
    ("WithdrawalRejected", 1),
];

/// The schema version new events of `event_type` are written with, or `None` if unknown.
pub fn current_schema_version(event_type: &str) -> Option<u16> {
    crate::codec::version_in(CURRENT_SCHEMA_VERSIONS, event_type)
}

impl WalletEvent {
    /// The variant name, stored as the event type.
    pub fn event_type(&self) -> &'static str {
        match self {
            WalletEvent::WalletOpened { .. } => "WalletOpened",
            WalletEvent::TopUpCaptured { .. } => "TopUpCaptured",
            WalletEvent::WalletDebited { .. } => "WalletDebited",
            WalletEvent::EarningsAdded { .. } => "EarningsAdded",
            WalletEvent::PendingSettled { .. } => "PendingSettled",
            WalletEvent::WithdrawalRequested { .. } => "WithdrawalRequested",
            WalletEvent::WithdrawalCompleted { .. } => "WithdrawalCompleted",
            WalletEvent::WithdrawalRejected { .. } => "WithdrawalRejected",
        }
    }

    pub fn schema_version(&self) -> u16 {
        match self {
            WalletEvent::TopUpCaptured { .. } => 2,
            _ => 1,
        }
    }

    /// The event's fields as a JSON object: money as `"0.00"` strings, times as RFC 3339.
    pub fn to_payload(&self) -> serde_json::Value {
        crate::codec::to_payload(self, self.event_type())
    }

    /// Decodes a stored payload written with the current schema version of `event_type`.
    /// Older versions must be upcast first (see `crate::schema`).
    pub fn from_payload(
        event_type: &str,
        schema_version: u16,
        payload: serde_json::Value,
    ) -> Result<WalletEvent, DecodeError> {
        Self::from_payload_ref(event_type, schema_version, &payload)
    }

    /// `from_payload` without taking the payload: for readers that keep it.
    pub fn from_payload_ref(
        event_type: &str,
        schema_version: u16,
        payload: &serde_json::Value,
    ) -> Result<WalletEvent, DecodeError> {
        crate::codec::from_payload(event_type, schema_version, current_schema_version(event_type), payload)
    }

    pub fn user_id(&self) -> Uuid {
        match self {
            WalletEvent::WalletOpened { user_id, .. }
            | WalletEvent::TopUpCaptured { user_id, .. }
            | WalletEvent::WalletDebited { user_id, .. }
            | WalletEvent::EarningsAdded { user_id, .. }
            | WalletEvent::PendingSettled { user_id, .. }
            | WalletEvent::WithdrawalRequested { user_id, .. }
            | WalletEvent::WithdrawalCompleted { user_id, .. }
            | WalletEvent::WithdrawalRejected { user_id, .. } => *user_id,
        }
    }

    /// The balances recorded on the event: `(available, pending, postings)`.
    fn recorded(&self) -> Option<(Money, Money, &JournalEntry)> {
        match self {
            WalletEvent::WalletOpened { .. } => None,
            WalletEvent::TopUpCaptured {
                balance_after,
                pending_balance_after,
                postings,
                ..
            }
            | WalletEvent::WalletDebited {
                balance_after,
                pending_balance_after,
                postings,
                ..
            }
            | WalletEvent::EarningsAdded {
                balance_after,
                pending_balance_after,
                postings,
                ..
            }
            | WalletEvent::PendingSettled {
                balance_after,
                pending_balance_after,
                postings,
                ..
            }
            | WalletEvent::WithdrawalRequested {
                balance_after,
                pending_balance_after,
                postings,
                ..
            }
            | WalletEvent::WithdrawalCompleted {
                balance_after,
                pending_balance_after,
                postings,
                ..
            }
            | WalletEvent::WithdrawalRejected {
                balance_after,
                pending_balance_after,
                postings,
                ..
            } => Some((*balance_after, *pending_balance_after, postings)),
        }
    }

    pub fn postings(&self) -> Option<&JournalEntry> {
        self.recorded().map(|(_, _, postings)| postings)
    }

    /// The available balance after this event.
    pub fn balance_after(&self) -> Option<Money> {
        self.recorded().map(|(available, _, _)| available)
    }

    pub fn pending_balance_after(&self) -> Option<Money> {
        self.recorded().map(|(_, pending, _)| pending)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WithdrawalStatus {
    Pending,
    Completed,
    Rejected,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Withdrawal {
    pub amount: Money,
    pub status: WithdrawalStatus,
}

/// Earnings waiting for their release time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingEarning {
    pub order_id: Uuid,
    pub amount: Money,
    pub release_at: DateTime<Utc>,
}

/// The wallet aggregate's state, rebuilt from its events.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Wallet {
    user_id: Option<Uuid>,
    available: Money,
    pending: Money,
    total_earned: Money,
    total_withdrawn: Money,
    version: u64,
    captured_top_ups: BTreeSet<Uuid>,
    earned_orders: BTreeSet<Uuid>,
    pending_earnings: Vec<PendingEarning>,
    withdrawals: BTreeMap<Uuid, Withdrawal>,
}

impl Wallet {
    pub fn user_id(&self) -> Option<Uuid> {
        self.user_id
    }

    pub fn available(&self) -> Money {
        self.available
    }

    pub fn pending(&self) -> Money {
        self.pending
    }

    /// Every earning ever added, settled or not.
    pub fn total_earned(&self) -> Money {
        self.total_earned
    }

    /// Every withdrawal completed (paid out by a provider).
    pub fn total_withdrawn(&self) -> Money {
        self.total_withdrawn
    }

    /// Number of events applied; the stream position to expect when appending.
    pub fn version(&self) -> u64 {
        self.version
    }

    pub fn pending_earnings(&self) -> &[PendingEarning] {
        &self.pending_earnings
    }

    pub fn withdrawal(&self, withdrawal_id: Uuid) -> Option<Withdrawal> {
        self.withdrawals.get(&withdrawal_id).copied()
    }

    pub fn has_captured_top_up(&self, top_up_id: Uuid) -> bool {
        self.captured_top_ups.contains(&top_up_id)
    }

    pub fn replay<'a>(events: impl IntoIterator<Item = &'a WalletEvent>) -> Wallet {
        let mut wallet = Wallet::default();
        for event in events {
            wallet.apply(event);
        }
        wallet
    }

    /// Decides what a command does. Holds every rule; changes nothing.
    pub fn handle(&self, command: WalletCommand) -> Result<Vec<WalletEvent>, WalletError> {
        let user_id = match (self.user_id, &command) {
            (Some(_), WalletCommand::Open { .. }) => return Err(WalletError::AlreadyOpen),
            (None, WalletCommand::Open { user_id }) => {
                return Ok(vec![WalletEvent::WalletOpened {
                    user_id: *user_id,
                    currency: CURRENCY.to_owned(),
                }]);
            }
            (None, _) => return Err(WalletError::NotOpen),
            (Some(user_id), _) => user_id,
        };
        let available_account = Account::WalletAvailable(user_id);
        let event = match command {
            WalletCommand::Open { .. } => return Err(WalletError::AlreadyOpen),
            WalletCommand::CreditTopUp {
                top_up_id,
                provider,
                amount,
            } => {
                require_positive(amount)?;
                if self.captured_top_ups.contains(&top_up_id) {
                    // Providers may deliver the same capture twice; it credits once.
                    return Ok(vec![]);
                }
                let balance_after = add(self.available, amount)?;
                WalletEvent::TopUpCaptured {
                    user_id,
                    top_up_id,
                    postings: JournalEntry::transfer(
                        Account::ProviderClearing(provider.clone()),
                        available_account,
                        amount,
                    ),
                    provider,
                    amount,
                    balance_after,
                    pending_balance_after: self.pending,
                }
            }
            WalletCommand::DebitForPurchase {
                order_id,
                category,
                gross,
                vat,
                description,
            } => {
                require_positive(gross)?;
                if vat >= gross {
                    return Err(WalletError::VatExceedsGross);
                }
                let balance_after = self.spend(gross)?;
                let net = gross.checked_sub(vat).ok_or(WalletError::VatExceedsGross)?;
                let mut postings = vec![Posting {
                    account: available_account,
                    amount: gross.amount(),
                }];
                if !vat.is_zero() {
                    postings.push(Posting {
                        account: Account::VatPayable,
                        amount: -vat.amount(),
                    });
                }
                postings.push(Posting {
                    account: Account::PlatformRevenue,
                    amount: -net.amount(),
                });
                WalletEvent::WalletDebited {
                    user_id,
                    order_id,
                    category,
                    amount: gross,
                    vat,
                    description,
                    balance_after,
                    pending_balance_after: self.pending,
                    postings: balanced(postings)?,
                }
            }
            WalletCommand::AddPendingEarnings {
                order_id,
                amount,
                release_at,
                description,
            } => {
                require_positive(amount)?;
                if self.earned_orders.contains(&order_id) {
                    // An order pays its teacher once, however often the command is repeated.
                    return Ok(vec![]);
                }
                let pending_balance_after = add(self.pending, amount)?;
                add(self.total_earned, amount)?;
                WalletEvent::EarningsAdded {
                    user_id,
                    order_id,
                    amount,
                    release_at,
                    description,
                    balance_after: self.available,
                    pending_balance_after,
                    postings: JournalEntry::transfer(
                        Account::PlatformRevenue,
                        Account::WalletPending(user_id),
                        amount,
                    ),
                }
            }
            WalletCommand::SettlePending { as_of } => {
                let mut amount = Money::ZERO;
                let mut order_ids = Vec::new();
                for earning in self
                    .pending_earnings
                    .iter()
                    .filter(|earning| earning.release_at <= as_of)
                {
                    amount = add(amount, earning.amount)?;
                    order_ids.push(earning.order_id);
                }
                if order_ids.is_empty() || amount.is_zero() {
                    return Err(WalletError::NothingToSettle);
                }
                let balance_after = add(self.available, amount)?;
                let pending_balance_after = self
                    .pending
                    .checked_sub(amount)
                    .ok_or(WalletError::InvalidAmount)?;
                WalletEvent::PendingSettled {
                    user_id,
                    amount,
                    order_ids,
                    balance_after,
                    pending_balance_after,
                    postings: JournalEntry::transfer(
                        Account::WalletPending(user_id),
                        available_account,
                        amount,
                    ),
                }
            }
            WalletCommand::RequestWithdrawal {
                withdrawal_id,
                amount,
            } => {
                require_positive(amount)?;
                if self.withdrawals.contains_key(&withdrawal_id) {
                    return Err(WalletError::DuplicateWithdrawal);
                }
                let balance_after = self.spend(amount)?;
                WalletEvent::WithdrawalRequested {
                    user_id,
                    withdrawal_id,
                    amount,
                    balance_after,
                    pending_balance_after: self.pending,
                    postings: JournalEntry::transfer(
                        available_account,
                        Account::WithdrawalsPayable,
                        amount,
                    ),
                }
            }
            WalletCommand::CompleteWithdrawal {
                withdrawal_id,
                provider,
            } => {
                let amount = self.pending_withdrawal(withdrawal_id)?;
                add(self.total_withdrawn, amount)?;
                WalletEvent::WithdrawalCompleted {
                    user_id,
                    withdrawal_id,
                    amount,
                    postings: JournalEntry::transfer(
                        Account::WithdrawalsPayable,
                        Account::ProviderClearing(provider.clone()),
                        amount,
                    ),
                    provider,
                    balance_after: self.available,
                    pending_balance_after: self.pending,
                }
            }
            WalletCommand::RejectWithdrawal {
                withdrawal_id,
                reason,
            } => {
                let amount = self.pending_withdrawal(withdrawal_id)?;
                let balance_after = add(self.available, amount)?;
                WalletEvent::WithdrawalRejected {
                    user_id,
                    withdrawal_id,
                    amount,
                    reason,
                    balance_after,
                    pending_balance_after: self.pending,
                    postings: JournalEntry::transfer(
                        Account::WithdrawalsPayable,
                        available_account,
                        amount,
                    ),
                }
            }
        };
        Ok(vec![event])
    }

    /// Folds one event into state. No rules and no failure: the event already happened.
    /// Balances are taken from the event, which recorded them when it was decided.
    pub fn apply(&mut self, event: &WalletEvent) {
        self.version += 1;
        if let Some((available, pending, _)) = event.recorded() {
            self.available = available;
            self.pending = pending;
        }
        match event {
            WalletEvent::WalletOpened { user_id, .. } => self.user_id = Some(*user_id),
            WalletEvent::TopUpCaptured { top_up_id, .. } => {
                self.captured_top_ups.insert(*top_up_id);
            }
            WalletEvent::WalletDebited { .. } => {}
            WalletEvent::EarningsAdded {
                order_id,
                amount,
                release_at,
                ..
            } => {
                self.earned_orders.insert(*order_id);
                self.total_earned = saturating_add(self.total_earned, *amount);
                self.pending_earnings.push(PendingEarning {
                    order_id: *order_id,
                    amount: *amount,
                    release_at: *release_at,
                });
            }
            WalletEvent::PendingSettled { order_ids, .. } => {
                self.pending_earnings
                    .retain(|earning| !order_ids.contains(&earning.order_id));
            }
            WalletEvent::WithdrawalRequested {
                withdrawal_id,
                amount,
                ..
            } => {
                self.withdrawals.insert(
                    *withdrawal_id,
                    Withdrawal {
                        amount: *amount,
                        status: WithdrawalStatus::Pending,
                    },
                );
            }
            WalletEvent::WithdrawalCompleted {
                withdrawal_id,
                amount,
                ..
            } => {
                self.total_withdrawn = saturating_add(self.total_withdrawn, *amount);
                self.set_withdrawal_status(*withdrawal_id, *amount, WithdrawalStatus::Completed);
            }
            WalletEvent::WithdrawalRejected {
                withdrawal_id,
                amount,
                ..
            } => {
                self.set_withdrawal_status(*withdrawal_id, *amount, WithdrawalStatus::Rejected);
            }
        }
    }

    /// The available balance after spending `amount`, or why it cannot be spent.
    fn spend(&self, amount: Money) -> Result<Money, WalletError> {
        self.available
            .checked_sub(amount)
            .ok_or(WalletError::InsufficientFunds {
                available: self.available,
                required: amount,
            })
    }

    fn pending_withdrawal(&self, withdrawal_id: Uuid) -> Result<Money, WalletError> {
        let withdrawal = self
            .withdrawals
            .get(&withdrawal_id)
            .ok_or(WalletError::UnknownWithdrawal)?;
        if withdrawal.status != WithdrawalStatus::Pending {
            return Err(WalletError::WithdrawalNotPending);
        }
        Ok(withdrawal.amount)
    }

    fn set_withdrawal_status(
        &mut self,
        withdrawal_id: Uuid,
        amount: Money,
        status: WithdrawalStatus,
    ) {
        self.withdrawals
            .insert(withdrawal_id, Withdrawal { amount, status });
    }
}

fn require_positive(amount: Money) -> Result<(), WalletError> {
    if amount.is_zero() {
        Err(WalletError::InvalidAmount)
    } else {
        Ok(())
    }
}

fn add(left: Money, right: Money) -> Result<Money, WalletError> {
    left.checked_add(right).ok_or(WalletError::InvalidAmount)
}

/// For `apply`, which must not fail: handle already refused any sum above the maximum.
fn saturating_add(left: Money, right: Money) -> Money {
    left.checked_add(right).unwrap_or(Money::MAX)
}

/// Builds an entry from postings that `handle` has just computed to balance. A failure here
/// is a bug in this module: it is asserted in debug builds, and release builds refuse the
/// command rather than record an unbalanced entry or bring the service down.
fn balanced(postings: Vec<Posting>) -> Result<JournalEntry, WalletError> {
    JournalEntry::new(postings).map_err(|error| {
        debug_assert!(false, "handle built an unbalanced entry: {error}");
        WalletError::InvalidAmount
    })
}
