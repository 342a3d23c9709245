//! A wallet top-up through a payment provider: requested by the user, then captured or failed
//! by the provider's signed notification. Only a capture of exactly the requested amount counts;
//! the wallet is credited separately (`WalletCommand::CreditTopUp`), which is idempotent by top-up.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::ledger::ProviderName;
use crate::money::Money;

pub const STREAM_TYPE: &str = "top_up";

#[derive(Clone, Debug, PartialEq)]
pub enum TopUpCommand {
    Request { top_up_id: Uuid, user_id: Uuid, provider: ProviderName, amount: Money },
    Capture { provider_event_id: String, amount: Money },
    Fail { provider_event_id: String },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum TopUpEvent {
    TopUpRequested { top_up_id: Uuid, user_id: Uuid, provider: ProviderName, amount: Money },
    TopUpPaymentCaptured { top_up_id: Uuid, provider_event_id: String, amount: Money },
    TopUpPaymentFailed { top_up_id: Uuid, provider_event_id: String },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TopUpStatus {
    Pending,
    Captured,
    Failed,
}

impl TopUpStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Captured => "captured",
            Self::Failed => "failed",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
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

impl TopUpError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::AlreadyRequested => "top_up_already_requested",
            Self::Unknown => "not_found",
            Self::AlreadySettled => "top_up_already_settled",
            Self::AmountMismatch => "amount_mismatch",
            Self::InvalidAmount => "invalid_amount",
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct TopUp {
    requested: Option<(Uuid, Uuid, ProviderName, Money)>,
    status: Option<TopUpStatus>,
    settled_by: Option<String>,
    version: u64,
}

impl TopUpEvent {
    pub fn event_type(&self) -> &'static str {
        match self {
            Self::TopUpRequested { .. } => "TopUpRequested",
            Self::TopUpPaymentCaptured { .. } => "TopUpPaymentCaptured",
            Self::TopUpPaymentFailed { .. } => "TopUpPaymentFailed",
        }
    }

    pub fn schema_version(&self) -> u16 {
        1
    }

    pub fn to_payload(&self) -> serde_json::Value {
        serde_json::to_value(self).map(|mut tagged| tagged["data"].take()).unwrap_or_default()
    }

    pub fn from_payload(event_type: &str, payload: serde_json::Value) -> Result<Self, String> {
        serde_json::from_value(serde_json::json!({ "type": event_type, "data": payload })).map_err(|e| e.to_string())
    }
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

    pub fn version(&self) -> u64 {
        self.version
    }

    pub fn handle(&self, command: TopUpCommand) -> Result<Vec<TopUpEvent>, TopUpError> {
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
            TopUpCommand::Capture { provider_event_id, amount } => {
                let (top_up_id, _, _, requested) = self.requested.clone().ok_or(TopUpError::Unknown)?;
                if let Some(already) = self.settled(&provider_event_id, TopUpStatus::Captured)? {
                    return Ok(already);
                }
                if amount != requested {
                    return Err(TopUpError::AmountMismatch);
                }
                Ok(vec![TopUpEvent::TopUpPaymentCaptured { top_up_id, provider_event_id, amount }])
            }
            TopUpCommand::Fail { provider_event_id } => {
                let (top_up_id, ..) = self.requested.clone().ok_or(TopUpError::Unknown)?;
                if let Some(already) = self.settled(&provider_event_id, TopUpStatus::Failed)? {
                    return Ok(already);
                }
                Ok(vec![TopUpEvent::TopUpPaymentFailed { top_up_id, provider_event_id }])
            }
        }
    }

    /// The same notification again changes nothing; any other one after settlement (including
    /// the same event id claiming another outcome) is refused.
    fn settled(&self, provider_event_id: &str, outcome: TopUpStatus) -> Result<Option<Vec<TopUpEvent>>, TopUpError> {
        match &self.settled_by {
            None => Ok(None),
            Some(by) if by == provider_event_id && self.status == Some(outcome) => Ok(Some(Vec::new())),
            Some(_) => Err(TopUpError::AlreadySettled),
        }
    }

    pub fn apply(&mut self, event: &TopUpEvent) {
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
        }
        self.version += 1;
    }
}
