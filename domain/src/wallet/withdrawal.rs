//! A withdrawal's own stream, opened in the same append as the wallet's `WithdrawalRequested`: it
//! says whose wallet the withdrawal is in, so a decision on it is routed from the store and never
//! waits for a read model to have seen it.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::kernel::{Aggregate, DomainEvent, EventType};
use crate::wallet::WalletError;

pub const STREAM_TYPE: &str = "withdrawal";

#[derive(Clone, Debug, PartialEq)]
pub enum WithdrawalRecordCommand {
    Open { withdrawal_id: Uuid, user_id: Uuid },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum WithdrawalRecordEvent {
    WithdrawalOpened { withdrawal_id: Uuid, user_id: Uuid },
}

pub const WITHDRAWAL_OPENED: EventType = EventType::new("WithdrawalOpened", 1);

impl DomainEvent for WithdrawalRecordEvent {
    const TYPES: &'static [EventType] = &[WITHDRAWAL_OPENED];
}

/// That a withdrawal exists, and whose it is. The money is the wallet's business.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WithdrawalRecord {
    owner: Option<Uuid>,
}

impl WithdrawalRecord {
    pub fn owner(&self) -> Option<Uuid> {
        self.owner
    }
}

impl Aggregate for WithdrawalRecord {
    type Command = WithdrawalRecordCommand;
    type Event = WithdrawalRecordEvent;
    type Rejection = WalletError;

    fn handle(&self, command: WithdrawalRecordCommand) -> Result<Vec<WithdrawalRecordEvent>, WalletError> {
        let WithdrawalRecordCommand::Open { withdrawal_id, user_id } = command;
        if self.owner.is_some() {
            return Err(WalletError::DuplicateWithdrawal);
        }
        Ok(vec![WithdrawalRecordEvent::WithdrawalOpened { withdrawal_id, user_id }])
    }

    fn apply(&mut self, event: &WithdrawalRecordEvent) {
        let WithdrawalRecordEvent::WithdrawalOpened { user_id, .. } = event;
        self.owner = Some(*user_id);
    }
}
