//! The wallet and payments context. A wallet is one stream per user holding available and pending
//! SAR balances; a top-up (`top_up`) is money coming in through a payment provider.
//!
//! A purchase debits the buyer once per order line; each line's speaker earns into their pending
//! balance, and each earning is released to the available balance on its own once its time has
//! come. A refund credits a line back and reverses its earning, pending or released; what a
//! released earning's reversal cannot take from the available balance (already withdrawn, say)
//! the speaker owes, and later releases repay it first. No available balance goes below zero.
//!
//! `Wallet::handle` holds every business rule and answers with events or a `WalletError`;
//! `Wallet::apply` folds an event into state and never fails. Every money-moving event
//! carries its balanced journal entry and the balances after it, so projections and audits
//! can check the ledger without re-running the rules.

pub mod schema;
pub mod top_up;
pub mod withdrawal;

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::kernel::{Aggregate, ContextEvents, DomainEvent, EventType, Rejection, RejectionKind, every};
use crate::ledger::{Account, JournalEntry, Posting, ProviderName};
use crate::money::{CURRENCY, Money};

/// The context's events, upcasters and rejections, for the kernel's registries.
pub const EVENTS: ContextEvents = ContextEvents {
    name: "wallet",
    tables: &[WalletEvent::TYPES, top_up::TopUpEvent::TYPES, withdrawal::WithdrawalRecordEvent::TYPES],
    upcasts: schema::UPCASTS,
    rejections: || [every::<WalletError>(), every::<top_up::TopUpError>()].concat(),
};

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

/// What a seller's wallet history calls an earning: a sale's, or a gift's.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EarningCategory {
    #[default]
    Earning,
    Gift,
}

impl EarningCategory {
    pub fn as_str(self) -> &'static str {
        match self {
            EarningCategory::Earning => "earning",
            EarningCategory::Gift => "gift",
        }
    }

    /// How an earning's description starts.
    pub fn label(self) -> &'static str {
        match self {
            EarningCategory::Earning => "Sale",
            EarningCategory::Gift => "Gift",
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
    /// Pays for one order line.
    DebitForPurchase {
        order_id: Uuid,
        order_item_id: Uuid,
        category: PurchaseCategory,
        gross: Money,
        vat: Money,
        description: String,
    },
    AddPendingEarnings {
        earning_id: Uuid,
        order_id: Uuid,
        category: EarningCategory,
        amount: Money,
        release_at: DateTime<Utc>,
        description: String,
    },
    /// Releases every earning due by `as_of`, each on its own.
    SettlePending {
        as_of: DateTime<Utc>,
    },
    /// Pays an order line back to its buyer.
    RefundPurchase {
        order_item_id: Uuid,
    },
    /// Takes an earning back from its speaker.
    ReverseEarning {
        earning_id: Uuid,
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
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, strum::EnumIter)]
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
    #[error("this wallet paid for no such order line")]
    UnknownPurchase,
    #[error("this wallet has no such earning")]
    UnknownEarning,
    #[error("already refunded")]
    AlreadyRefunded,
}

impl Rejection for WalletError {
    fn code(&self) -> &'static str {
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
            WalletError::UnknownPurchase => "unknown_purchase",
            WalletError::UnknownEarning => "unknown_earning",
            WalletError::AlreadyRefunded => "already_refunded",
        }
    }

    fn kind(&self) -> RejectionKind {
        match self {
            WalletError::InvalidAmount => RejectionKind::Invalid,
            WalletError::UnknownWithdrawal | WalletError::UnknownPurchase | WalletError::UnknownEarning => RejectionKind::NotFound,
            WalletError::NotOpen
            | WalletError::AlreadyOpen
            | WalletError::InsufficientFunds { .. }
            | WalletError::VatExceedsGross
            | WalletError::NothingToSettle
            | WalletError::DuplicateWithdrawal
            | WalletError::WithdrawalNotPending
            | WalletError::AlreadyRefunded => RejectionKind::Conflict,
        }
    }

    fn field(&self) -> Option<&'static str> {
        matches!(self, WalletError::InvalidAmount).then_some("amount")
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
        order_item_id: Uuid,
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
        earning_id: Uuid,
        order_id: Uuid,
        /// Absent from earnings added before gifts existed: those were all sales.
        #[serde(default)]
        category: EarningCategory,
        amount: Money,
        release_at: DateTime<Utc>,
        description: String,
        balance_after: Money,
        pending_balance_after: Money,
        postings: JournalEntry,
    },
    /// How earnings were released before each had an event of its own (`EarningReleased`): all
    /// those due at once. Still read, no longer written.
    PendingSettled {
        user_id: Uuid,
        amount: Money,
        order_ids: Vec<Uuid>,
        balance_after: Money,
        pending_balance_after: Money,
        postings: JournalEntry,
    },
    /// One earning moved from pending to available; `owed_repaid` of it went to what the
    /// speaker owed instead.
    EarningReleased {
        user_id: Uuid,
        earning_id: Uuid,
        order_id: Uuid,
        amount: Money,
        owed_repaid: Money,
        balance_after: Money,
        pending_balance_after: Money,
        postings: JournalEntry,
    },
    /// An order line paid back to its buyer.
    PurchaseRefunded {
        user_id: Uuid,
        order_id: Uuid,
        order_item_id: Uuid,
        category: PurchaseCategory,
        amount: Money,
        vat: Money,
        description: String,
        balance_after: Money,
        pending_balance_after: Money,
        postings: JournalEntry,
    },
    /// An earning taken back: from pending if it was not released yet, else from available, and
    /// what available could not give (`owed`) is owed.
    EarningReversed {
        user_id: Uuid,
        earning_id: Uuid,
        order_id: Uuid,
        amount: Money,
        was_released: bool,
        owed: Money,
        description: String,
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

pub const WALLET_OPENED: EventType = EventType::new("WalletOpened", 1);
pub const TOP_UP_CAPTURED: EventType = EventType::new("TopUpCaptured", 2);
pub const WALLET_DEBITED: EventType = EventType::new("WalletDebited", 2);
pub const EARNINGS_ADDED: EventType = EventType::new("EarningsAdded", 2);
pub const PENDING_SETTLED: EventType = EventType::new("PendingSettled", 1);
pub const EARNING_RELEASED: EventType = EventType::new("EarningReleased", 1);
pub const PURCHASE_REFUNDED: EventType = EventType::new("PurchaseRefunded", 1);
pub const EARNING_REVERSED: EventType = EventType::new("EarningReversed", 1);
pub const WITHDRAWAL_REQUESTED: EventType = EventType::new("WithdrawalRequested", 1);
pub const WITHDRAWAL_COMPLETED: EventType = EventType::new("WithdrawalCompleted", 1);
pub const WITHDRAWAL_REJECTED: EventType = EventType::new("WithdrawalRejected", 1);

/// The events of a withdrawal's life, for readers that follow only those.
pub const WITHDRAWAL_EVENTS: &[EventType] = &[WITHDRAWAL_REQUESTED, WITHDRAWAL_COMPLETED, WITHDRAWAL_REJECTED];

impl DomainEvent for WalletEvent {
    /// Bump a version here only together with an upcaster in `schema::UPCASTS`.
    const TYPES: &'static [EventType] = &[
        WALLET_OPENED,
        TOP_UP_CAPTURED,
        WALLET_DEBITED,
        EARNINGS_ADDED,
        PENDING_SETTLED,
        EARNING_RELEASED,
        PURCHASE_REFUNDED,
        EARNING_REVERSED,
        WITHDRAWAL_REQUESTED,
        WITHDRAWAL_COMPLETED,
        WITHDRAWAL_REJECTED,
    ];
}

/// What every money-moving event records: its amount, the balances after it, its entry.
struct Recorded<'a> {
    amount: Money,
    balance_after: Money,
    pending_balance_after: Money,
    postings: &'a JournalEntry,
}

impl WalletEvent {
    pub fn user_id(&self) -> Uuid {
        match self {
            WalletEvent::WalletOpened { user_id, .. }
            | WalletEvent::TopUpCaptured { user_id, .. }
            | WalletEvent::WalletDebited { user_id, .. }
            | WalletEvent::EarningsAdded { user_id, .. }
            | WalletEvent::PendingSettled { user_id, .. }
            | WalletEvent::EarningReleased { user_id, .. }
            | WalletEvent::PurchaseRefunded { user_id, .. }
            | WalletEvent::EarningReversed { user_id, .. }
            | WalletEvent::WithdrawalRequested { user_id, .. }
            | WalletEvent::WithdrawalCompleted { user_id, .. }
            | WalletEvent::WithdrawalRejected { user_id, .. } => *user_id,
        }
    }

    fn recorded(&self) -> Option<Recorded<'_>> {
        match self {
            WalletEvent::WalletOpened { .. } => None,
            WalletEvent::TopUpCaptured { amount, balance_after, pending_balance_after, postings, .. }
            | WalletEvent::WalletDebited { amount, balance_after, pending_balance_after, postings, .. }
            | WalletEvent::EarningsAdded { amount, balance_after, pending_balance_after, postings, .. }
            | WalletEvent::PendingSettled { amount, balance_after, pending_balance_after, postings, .. }
            | WalletEvent::EarningReleased { amount, balance_after, pending_balance_after, postings, .. }
            | WalletEvent::PurchaseRefunded { amount, balance_after, pending_balance_after, postings, .. }
            | WalletEvent::EarningReversed { amount, balance_after, pending_balance_after, postings, .. }
            | WalletEvent::WithdrawalRequested { amount, balance_after, pending_balance_after, postings, .. }
            | WalletEvent::WithdrawalCompleted { amount, balance_after, pending_balance_after, postings, .. }
            | WalletEvent::WithdrawalRejected { amount, balance_after, pending_balance_after, postings, .. } => Some(Recorded {
                amount: *amount,
                balance_after: *balance_after,
                pending_balance_after: *pending_balance_after,
                postings,
            }),
        }
    }

    /// The amount the event says it moves: what its postings must debit in total.
    pub fn amount(&self) -> Option<Money> {
        self.recorded().map(|recorded| recorded.amount)
    }

    pub fn postings(&self) -> Option<&JournalEntry> {
        self.recorded().map(|recorded| recorded.postings)
    }

    /// The available balance after this event.
    pub fn balance_after(&self) -> Option<Money> {
        self.recorded().map(|recorded| recorded.balance_after)
    }

    pub fn pending_balance_after(&self) -> Option<Money> {
        self.recorded().map(|recorded| recorded.pending_balance_after)
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

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EarningStatus {
    Pending,
    Released,
    Reversed,
}

/// An earning and where it stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Earning {
    pub earning_id: Uuid,
    pub order_id: Uuid,
    pub amount: Money,
    pub release_at: DateTime<Utc>,
    pub status: EarningStatus,
    pub description: String,
}

/// An order line this wallet paid for.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Purchase {
    order_id: Uuid,
    category: PurchaseCategory,
    gross: Money,
    vat: Money,
    description: String,
    refunded: bool,
}

/// The wallet aggregate's state, rebuilt from its events.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Wallet {
    user_id: Option<Uuid>,
    available: Money,
    pending: Money,
    /// What reversals of released earnings could not take from the available balance.
    owed: Money,
    total_earned: Money,
    total_withdrawn: Money,
    captured_top_ups: BTreeSet<Uuid>,
    purchases: BTreeMap<Uuid, Purchase>,
    earnings: BTreeMap<Uuid, Earning>,
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

    /// What the user owes the platform: reversed earnings the available balance could not cover.
    pub fn owed(&self) -> Money {
        self.owed
    }

    /// Every earning credited, released or not, less those reversed.
    pub fn total_earned(&self) -> Money {
        self.total_earned
    }

    /// Every withdrawal completed (paid out by a provider).
    pub fn total_withdrawn(&self) -> Money {
        self.total_withdrawn
    }

    /// Earnings not released yet, in the order they will be.
    pub fn pending_earnings(&self) -> Vec<&Earning> {
        let mut pending: Vec<&Earning> = self.earnings.values().filter(|earning| earning.status == EarningStatus::Pending).collect();
        pending.sort_by_key(|earning| (earning.release_at, earning.earning_id));
        pending
    }

    pub fn earning(&self, earning_id: Uuid) -> Option<&Earning> {
        self.earnings.get(&earning_id)
    }

    pub fn withdrawal(&self, withdrawal_id: Uuid) -> Option<Withdrawal> {
        self.withdrawals.get(&withdrawal_id).copied()
    }

    pub fn has_captured_top_up(&self, top_up_id: Uuid) -> bool {
        self.captured_top_ups.contains(&top_up_id)
    }
}

impl Aggregate for Wallet {
    type Command = WalletCommand;
    type Event = WalletEvent;
    type Rejection = WalletError;

    fn handle(&self, command: WalletCommand) -> Result<Vec<WalletEvent>, WalletError> {
        let user_id = match (self.user_id, &command) {
            (Some(_), WalletCommand::Open { .. }) => return Err(WalletError::AlreadyOpen),
            (None, WalletCommand::Open { user_id }) => {
                return Ok(vec![WalletEvent::WalletOpened { user_id: *user_id, currency: CURRENCY.to_owned() }]);
            }
            (None, _) => return Err(WalletError::NotOpen),
            (Some(user_id), _) => user_id,
        };
        let available_account = Account::WalletAvailable(user_id);
        let pending_account = Account::WalletPending(user_id);
        let event = match command {
            WalletCommand::Open { .. } => return Err(WalletError::AlreadyOpen),
            WalletCommand::CreditTopUp { top_up_id, provider, amount } => {
                require_positive(amount)?;
                if self.captured_top_ups.contains(&top_up_id) {
                    // Providers may deliver the same capture twice; it credits once.
                    return Ok(vec![]);
                }
                let balance_after = add(self.available, amount)?;
                WalletEvent::TopUpCaptured {
                    user_id,
                    top_up_id,
                    postings: JournalEntry::transfer(Account::ProviderClearing(provider.clone()), available_account, amount),
                    provider,
                    amount,
                    balance_after,
                    pending_balance_after: self.pending,
                }
            }
            WalletCommand::DebitForPurchase { order_id, order_item_id, category, gross, vat, description } => {
                require_positive(gross)?;
                if vat >= gross {
                    return Err(WalletError::VatExceedsGross);
                }
                if self.purchases.contains_key(&order_item_id) {
                    // A line is paid once, however often the command is repeated.
                    return Ok(vec![]);
                }
                let balance_after = self.spend(gross)?;
                let net = gross.checked_sub(vat).ok_or(WalletError::VatExceedsGross)?;
                let postings = entry(vec![
                    (available_account, gross.amount()),
                    (Account::VatPayable, -vat.amount()),
                    (Account::PlatformRevenue, -net.amount()),
                ])?;
                WalletEvent::WalletDebited {
                    user_id,
                    order_id,
                    order_item_id,
                    category,
                    amount: gross,
                    vat,
                    description,
                    balance_after,
                    pending_balance_after: self.pending,
                    postings,
                }
            }
            WalletCommand::AddPendingEarnings { earning_id, order_id, category, amount, release_at, description } => {
                require_positive(amount)?;
                if self.earnings.contains_key(&earning_id) {
                    // An earning is credited once, however often the command is repeated.
                    return Ok(vec![]);
                }
                let pending_balance_after = add(self.pending, amount)?;
                add(self.total_earned, amount)?;
                WalletEvent::EarningsAdded {
                    user_id,
                    earning_id,
                    order_id,
                    category,
                    amount,
                    release_at,
                    description,
                    balance_after: self.available,
                    pending_balance_after,
                    postings: JournalEntry::transfer(Account::PlatformRevenue, pending_account, amount),
                }
            }
            WalletCommand::SettlePending { as_of } => return self.release_due(user_id, as_of),
            WalletCommand::RefundPurchase { order_item_id } => {
                let purchase = self.purchases.get(&order_item_id).ok_or(WalletError::UnknownPurchase)?;
                if purchase.refunded {
                    return Err(WalletError::AlreadyRefunded);
                }
                let balance_after = add(self.available, purchase.gross)?;
                let net = purchase.gross.checked_sub(purchase.vat).ok_or(WalletError::VatExceedsGross)?;
                let postings = entry(vec![
                    (Account::VatPayable, purchase.vat.amount()),
                    (Account::PlatformRevenue, net.amount()),
                    (available_account, -purchase.gross.amount()),
                ])?;
                WalletEvent::PurchaseRefunded {
                    user_id,
                    order_id: purchase.order_id,
                    order_item_id,
                    category: purchase.category,
                    amount: purchase.gross,
                    vat: purchase.vat,
                    description: purchase.description.clone(),
                    balance_after,
                    pending_balance_after: self.pending,
                    postings,
                }
            }
            WalletCommand::ReverseEarning { earning_id } => {
                let earning = self.earnings.get(&earning_id).ok_or(WalletError::UnknownEarning)?;
                let amount = earning.amount;
                let (balance_after, pending_balance_after, owed, postings) = match earning.status {
                    EarningStatus::Reversed => return Err(WalletError::AlreadyRefunded),
                    EarningStatus::Pending => {
                        let pending_after = self.pending.checked_sub(amount).ok_or(WalletError::InvalidAmount)?;
                        (self.available, pending_after, Money::ZERO, JournalEntry::transfer(pending_account, Account::PlatformRevenue, amount))
                    }
                    EarningStatus::Released => {
                        let from_available = amount.min(self.available);
                        let owed = amount.checked_sub(from_available).ok_or(WalletError::InvalidAmount)?;
                        let postings = entry(vec![
                            (available_account, from_available.amount()),
                            (Account::WalletOwed(user_id), owed.amount()),
                            (Account::PlatformRevenue, -amount.amount()),
                        ])?;
                        let available_after = self.available.checked_sub(from_available).ok_or(WalletError::InvalidAmount)?;
                        (available_after, self.pending, owed, postings)
                    }
                };
                WalletEvent::EarningReversed {
                    user_id,
                    earning_id,
                    order_id: earning.order_id,
                    amount,
                    was_released: earning.status == EarningStatus::Released,
                    owed,
                    description: earning.description.clone(),
                    balance_after,
                    pending_balance_after,
                    postings,
                }
            }
            WalletCommand::RequestWithdrawal { withdrawal_id, amount } => {
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
                    postings: JournalEntry::transfer(available_account, Account::WithdrawalsPayable, amount),
                }
            }
            WalletCommand::CompleteWithdrawal { withdrawal_id, provider } => {
                let amount = self.pending_withdrawal(withdrawal_id)?;
                add(self.total_withdrawn, amount)?;
                WalletEvent::WithdrawalCompleted {
                    user_id,
                    withdrawal_id,
                    amount,
                    postings: JournalEntry::transfer(Account::WithdrawalsPayable, Account::ProviderClearing(provider.clone()), amount),
                    provider,
                    balance_after: self.available,
                    pending_balance_after: self.pending,
                }
            }
            WalletCommand::RejectWithdrawal { withdrawal_id, reason } => {
                let amount = self.pending_withdrawal(withdrawal_id)?;
                let balance_after = add(self.available, amount)?;
                WalletEvent::WithdrawalRejected {
                    user_id,
                    withdrawal_id,
                    amount,
                    reason,
                    balance_after,
                    pending_balance_after: self.pending,
                    postings: JournalEntry::transfer(Account::WithdrawalsPayable, available_account, amount),
                }
            }
        };
        Ok(vec![event])
    }

    /// Balances move by what the event's postings move on the wallet's accounts: the postings
    /// are the ledger, and `balance_after` only a record of it (the audit compares them).
    fn apply(&mut self, event: &WalletEvent) {
        if let Some(postings) = event.postings() {
            let user = event.user_id();
            self.available = moved(self.available, &Account::WalletAvailable(user), postings);
            self.pending = moved(self.pending, &Account::WalletPending(user), postings);
            self.owed = moved(self.owed, &Account::WalletOwed(user), postings);
        }
        match event {
            WalletEvent::WalletOpened { user_id, .. } => self.user_id = Some(*user_id),
            WalletEvent::TopUpCaptured { top_up_id, .. } => {
                self.captured_top_ups.insert(*top_up_id);
            }
            WalletEvent::WalletDebited { order_id, order_item_id, category, amount, vat, description, .. } => {
                let purchase = Purchase { order_id: *order_id, category: *category, gross: *amount, vat: *vat, description: description.clone(), refunded: false };
                self.purchases.insert(*order_item_id, purchase);
            }
            WalletEvent::EarningsAdded { earning_id, order_id, amount, release_at, description, .. } => {
                self.total_earned = saturating_add(self.total_earned, *amount);
                let earning = Earning {
                    earning_id: *earning_id,
                    order_id: *order_id,
                    amount: *amount,
                    release_at: *release_at,
                    status: EarningStatus::Pending,
                    description: description.clone(),
                };
                self.earnings.insert(*earning_id, earning);
            }
            WalletEvent::PendingSettled { order_ids, .. } => {
                // Earnings of that time were named by their order.
                for order_id in order_ids {
                    self.set_earning_status(*order_id, EarningStatus::Released);
                }
            }
            WalletEvent::EarningReleased { earning_id, .. } => self.set_earning_status(*earning_id, EarningStatus::Released),
            WalletEvent::PurchaseRefunded { order_item_id, .. } => {
                if let Some(purchase) = self.purchases.get_mut(order_item_id) {
                    purchase.refunded = true;
                }
            }
            WalletEvent::EarningReversed { earning_id, amount, .. } => {
                self.total_earned = self.total_earned.checked_sub(*amount).unwrap_or(Money::ZERO);
                self.set_earning_status(*earning_id, EarningStatus::Reversed);
            }
            WalletEvent::WithdrawalRequested { withdrawal_id, amount, .. } => {
                self.withdrawals.insert(*withdrawal_id, Withdrawal { amount: *amount, status: WithdrawalStatus::Pending });
            }
            WalletEvent::WithdrawalCompleted { withdrawal_id, amount, .. } => {
                self.total_withdrawn = saturating_add(self.total_withdrawn, *amount);
                self.set_withdrawal_status(*withdrawal_id, *amount, WithdrawalStatus::Completed);
            }
            WalletEvent::WithdrawalRejected { withdrawal_id, amount, .. } => {
                self.set_withdrawal_status(*withdrawal_id, *amount, WithdrawalStatus::Rejected);
            }
        }
    }
}

impl Wallet {
    /// The available balance after spending `amount`, or why it cannot be spent.
    fn spend(&self, amount: Money) -> Result<Money, WalletError> {
        self.available.checked_sub(amount).ok_or(WalletError::InsufficientFunds { available: self.available, required: amount })
    }

    /// One release per earning due by `as_of`, oldest first; each repays what is owed first.
    fn release_due(&self, user_id: Uuid, as_of: DateTime<Utc>) -> Result<Vec<WalletEvent>, WalletError> {
        let due: Vec<&Earning> = self.pending_earnings().into_iter().filter(|earning| earning.release_at <= as_of).collect();
        if due.is_empty() {
            return Err(WalletError::NothingToSettle);
        }
        let (mut available, mut pending, mut owed) = (self.available, self.pending, self.owed);
        let mut events = Vec::with_capacity(due.len());
        for earning in due {
            let owed_repaid = earning.amount.min(owed);
            let released = earning.amount.checked_sub(owed_repaid).ok_or(WalletError::InvalidAmount)?;
            pending = pending.checked_sub(earning.amount).ok_or(WalletError::InvalidAmount)?;
            available = add(available, released)?;
            owed = owed.checked_sub(owed_repaid).ok_or(WalletError::InvalidAmount)?;
            let postings = entry(vec![
                (Account::WalletPending(user_id), earning.amount.amount()),
                (Account::WalletOwed(user_id), -owed_repaid.amount()),
                (Account::WalletAvailable(user_id), -released.amount()),
            ])?;
            events.push(WalletEvent::EarningReleased {
                user_id,
                earning_id: earning.earning_id,
                order_id: earning.order_id,
                amount: earning.amount,
                owed_repaid,
                balance_after: available,
                pending_balance_after: pending,
                postings,
            });
        }
        Ok(events)
    }

    fn pending_withdrawal(&self, withdrawal_id: Uuid) -> Result<Money, WalletError> {
        let withdrawal = self.withdrawals.get(&withdrawal_id).ok_or(WalletError::UnknownWithdrawal)?;
        if withdrawal.status != WithdrawalStatus::Pending {
            return Err(WalletError::WithdrawalNotPending);
        }
        Ok(withdrawal.amount)
    }

    fn set_withdrawal_status(&mut self, withdrawal_id: Uuid, amount: Money, status: WithdrawalStatus) {
        self.withdrawals.insert(withdrawal_id, Withdrawal { amount, status });
    }

    fn set_earning_status(&mut self, earning_id: Uuid, status: EarningStatus) {
        if let Some(earning) = self.earnings.get_mut(&earning_id) {
            earning.status = status;
        }
    }
}

fn require_positive(amount: Money) -> Result<(), WalletError> {
    if amount.is_zero() { Err(WalletError::InvalidAmount) } else { Ok(()) }
}

fn add(left: Money, right: Money) -> Result<Money, WalletError> {
    left.checked_add(right).ok_or(WalletError::InvalidAmount)
}

/// A balance moved by an entry's postings on its account. `apply` cannot fail: a sum outside
/// `Money`'s range can only come from a tampered log, which the audit reports.
fn moved(balance: Money, account: &Account, postings: &JournalEntry) -> Money {
    let delta = crate::ledger::natural_balance(account, postings.balance_of(account));
    Money::from_decimal(balance.amount() + delta).unwrap_or(if delta.is_sign_negative() { Money::ZERO } else { Money::MAX })
}

/// For `apply`, which must not fail: handle already refused any sum above the maximum.
fn saturating_add(left: Money, right: Money) -> Money {
    left.checked_add(right).unwrap_or(Money::MAX)
}

/// Builds an entry from the non-zero postings `handle` has just computed to balance. A failure
/// here is a bug in this module: it is asserted in debug builds, and release builds refuse the
/// command rather than record an unbalanced entry or bring the service down.
fn entry(postings: Vec<(Account, Decimal)>) -> Result<JournalEntry, WalletError> {
    let postings = postings.into_iter().filter(|(_, amount)| !amount.is_zero()).map(|(account, amount)| Posting { account, amount }).collect();
    JournalEntry::new(postings).map_err(|error| {
        debug_assert!(false, "handle built an unbalanced entry: {error}");
        WalletError::InvalidAmount
    })
}
