//! A wallet top-up through a payment provider: requested by the user, then captured or failed
//! by the provider's signed notification. Only a capture of exactly the requested amount counts;
//! the wallet is credited separately (`WalletCommand::CreditTopUp`), which is idempotent by top-up.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::kernel::{Aggregate, DomainEvent, EventType, Rejection, RejectionKind};
use crate::ledger::{Account, JournalEntry, ProviderName};
use crate::money::Money;

pub const STREAM_TYPE: &str = "top_up";

#[derive(Clone, Debug, PartialEq)]
pub enum TopUpCommand {
    Request { top_up_id: Uuid, user_id: Uuid, provider: ProviderName, amount: Money },
    /// `provider` is the one that sent the notification: another provider's top-up is unknown to it.
    Capture { provider: ProviderName, provider_event_id: String, amount: Money },
    Fail { provider: ProviderName, provider_event_id: String },
    /// The provider captured the payment but the wallet cannot take it (its balance would pass
    /// the largest amount): the money is settled into suspense for an operator, so the provider's
    /// notification can be accepted and nothing is lost.
    Hold { provider: ProviderName, provider_event_id: String, amount: Money, reason: String },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum TopUpEvent {
    TopUpRequested { top_up_id: Uuid, user_id: Uuid, provider: ProviderName, amount: Money },
    TopUpPaymentCaptured { top_up_id: Uuid, provider_event_id: String, amount: Money },
    TopUpPaymentFailed { top_up_id: Uuid, provider_event_id: String },
    TopUpHeld { top_up_id: Uuid, provider_event_id: String, amount: Money, reason: String, postings: JournalEntry },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TopUpStatus {
    Pending,
    Captured,
    Failed,
    /// Captured, and held in suspense instead of credited.
    Held,
}

impl TopUpStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Captured => "captured",
            Self::Failed => "failed",
            Self::Held => "held",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, strum::EnumIter)]
pub enum TopUpError {
    #[error("the top-up was already requested")]
    AlreadyRequested,
    #[error("no such top-up")]
    Unknown,
    #[error("the top-up was already settled by another notification")]
    AlreadySettled,
    #[error("the captured amount does not match the top-up")]
    AmountMismatch,
    #[error("the amount must be positive")]
    InvalidAmount,
}

impl Rejection for TopUpError {
    fn code(&self) -> &'static str {
        match self {
            Self::AlreadyRequested => "top_up_already_requested",
            Self::Unknown => "unknown_top_up",
            Self::AlreadySettled => "top_up_already_settled",
            Self::AmountMismatch => "amount_mismatch",
            Self::InvalidAmount => "invalid_amount",
        }
    }

    fn kind(&self) -> RejectionKind {
        match self {
            Self::Unknown => RejectionKind::NotFound,
            Self::InvalidAmount => RejectionKind::Invalid,
            Self::AlreadyRequested | Self::AlreadySettled | Self::AmountMismatch => RejectionKind::Conflict,
        }
    }

    fn field(&self) -> Option<&'static str> {
        matches!(self, Self::InvalidAmount).then_some("amount")
    }
}

pub const TOP_UP_REQUESTED: EventType = EventType::new("TopUpRequested", 1);
pub const TOP_UP_PAYMENT_CAPTURED: EventType = EventType::new("TopUpPaymentCaptured", 1);
pub const TOP_UP_PAYMENT_FAILED: EventType = EventType::new("TopUpPaymentFailed", 1);
pub const TOP_UP_HELD: EventType = EventType::new("TopUpHeld", 1);

impl DomainEvent for TopUpEvent {
    const TYPES: &'static [EventType] = &[TOP_UP_REQUESTED, TOP_UP_PAYMENT_CAPTURED, TOP_UP_PAYMENT_FAILED, TOP_UP_HELD];
}

impl TopUpEvent {
    /// The ledger entry the event records, if it moves money.
    pub fn postings(&self) -> Option<&JournalEntry> {
        match self {
            TopUpEvent::TopUpHeld { postings, .. } => Some(postings),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct TopUp {
    requested: Option<(Uuid, Uuid, ProviderName, Money)>,
    status: Option<TopUpStatus>,
    settled_by: Option<String>,
}

impl TopUp {
    pub fn id(&self) -> Option<Uuid> {
        self.requested.as_ref().map(|r| r.0)
    }

    pub fn user_id(&self) -> Option<Uuid> {
        self.requested.as_ref().map(|r| r.1)
    }

    pub fn provider(&self) -> Option<&ProviderName> {
        self.requested.as_ref().map(|r| &r.2)
    }

    pub fn amount(&self) -> Option<Money> {
        self.requested.as_ref().map(|r| r.3)
    }

    pub fn status(&self) -> Option<TopUpStatus> {
        self.status
    }

    /// The same notification again changes nothing; any other one after settlement (including
    /// the same event id claiming another outcome) is refused.
    /// A capture held in suspense is what that capture notification did, too.
    fn settled(&self, provider_event_id: &str, outcome: TopUpStatus) -> Result<Option<Vec<TopUpEvent>>, TopUpError> {
        let same_outcome = self.status == Some(outcome) || (outcome == TopUpStatus::Captured && self.status == Some(TopUpStatus::Held));
        match &self.settled_by {
            None => Ok(None),
            Some(by) if by == provider_event_id && same_outcome => Ok(Some(Vec::new())),
            Some(_) => Err(TopUpError::AlreadySettled),
        }
    }
}

impl Aggregate for TopUp {
    type Command = TopUpCommand;
    type Event = TopUpEvent;
    type Rejection = TopUpError;

    fn handle(&self, command: TopUpCommand) -> Result<Vec<TopUpEvent>, TopUpError> {
        match command {
            TopUpCommand::Request { top_up_id, user_id, provider, amount } => {
                if self.requested.is_some() {
                    return Err(TopUpError::AlreadyRequested);
                }
                if amount.is_zero() {
                    return Err(TopUpError::InvalidAmount);
                }
                Ok(vec![TopUpEvent::TopUpRequested { top_up_id, user_id, provider, amount }])
            }
            TopUpCommand::Capture { provider, provider_event_id, amount } => {
                let (top_up_id, _, requested_from, requested) = self.requested.clone().ok_or(TopUpError::Unknown)?;
                if provider != requested_from {
                    return Err(TopUpError::Unknown);
                }
                if let Some(already) = self.settled(&provider_event_id, TopUpStatus::Captured)? {
                    return Ok(already);
                }
                if amount != requested {
                    return Err(TopUpError::AmountMismatch);
                }
                Ok(vec![TopUpEvent::TopUpPaymentCaptured { top_up_id, provider_event_id, amount }])
            }
            TopUpCommand::Hold { provider, provider_event_id, amount, reason } => {
                let (top_up_id, _, requested_from, requested) = self.requested.clone().ok_or(TopUpError::Unknown)?;
                if provider != requested_from {
                    return Err(TopUpError::Unknown);
                }
                if let Some(already) = self.settled(&provider_event_id, TopUpStatus::Held)? {
                    return Ok(already);
                }
                if amount != requested {
                    return Err(TopUpError::AmountMismatch);
                }
                let postings = JournalEntry::transfer(Account::ProviderClearing(provider), Account::Suspense, amount);
                Ok(vec![TopUpEvent::TopUpHeld { top_up_id, provider_event_id, amount, reason, postings }])
            }
            TopUpCommand::Fail { provider, provider_event_id } => {
                let (top_up_id, _, requested_from, _) = self.requested.clone().ok_or(TopUpError::Unknown)?;
                if provider != requested_from {
                    return Err(TopUpError::Unknown);
                }
                if let Some(already) = self.settled(&provider_event_id, TopUpStatus::Failed)? {
                    return Ok(already);
                }
                Ok(vec![TopUpEvent::TopUpPaymentFailed { top_up_id, provider_event_id }])
            }
        }
    }

    fn apply(&mut self, event: &TopUpEvent) {
        match event {
            TopUpEvent::TopUpRequested { top_up_id, user_id, provider, amount } => {
                self.requested = Some((*top_up_id, *user_id, provider.clone(), *amount));
                self.status = Some(TopUpStatus::Pending);
            }
            TopUpEvent::TopUpPaymentCaptured { provider_event_id, .. } => {
                self.status = Some(TopUpStatus::Captured);
                self.settled_by = Some(provider_event_id.clone());
            }
            TopUpEvent::TopUpPaymentFailed { provider_event_id, .. } => {
                self.status = Some(TopUpStatus::Failed);
                self.settled_by = Some(provider_event_id.clone());
            }
            TopUpEvent::TopUpHeld { provider_event_id, .. } => {
                self.status = Some(TopUpStatus::Held);
                self.settled_by = Some(provider_event_id.clone());
            }
        }
    }
}
