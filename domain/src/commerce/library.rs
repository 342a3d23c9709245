//! A user's library: the courses they are enrolled in and the books they bought, each from the
//! order line that gave it. One stream per user, so two checkouts of the same item can never
//! both put it there.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{CommerceError, ItemRef};
use crate::kernel::{Aggregate, DomainEvent, EventType};

/// Stream type of libraries; the stream id is the user id.
pub const STREAM_TYPE: &str = "library";

#[derive(Clone, Debug, PartialEq)]
pub enum LibraryCommand {
    Acquire { user_id: Uuid, item: ItemRef, order_id: Uuid, order_item_id: Uuid, acquired_at: DateTime<Utc> },
    /// A refund takes back what its line gave.
    Revoke { item: ItemRef, order_item_id: Uuid, revoked_at: DateTime<Utc> },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum LibraryEvent {
    ItemAcquired {
        user_id: Uuid,
        #[serde(flatten)]
        item: ItemRef,
        order_id: Uuid,
        order_item_id: Uuid,
        acquired_at: DateTime<Utc>,
    },
    ItemRevoked {
        user_id: Uuid,
        #[serde(flatten)]
        item: ItemRef,
        order_item_id: Uuid,
        revoked_at: DateTime<Utc>,
    },
}

pub const ITEM_ACQUIRED: EventType = EventType::new("ItemAcquired", 1);
pub const ITEM_REVOKED: EventType = EventType::new("ItemRevoked", 1);

impl DomainEvent for LibraryEvent {
    const TYPES: &'static [EventType] = &[ITEM_ACQUIRED, ITEM_REVOKED];
}

impl LibraryEvent {
    pub fn user_id(&self) -> Uuid {
        match self {
            LibraryEvent::ItemAcquired { user_id, .. } | LibraryEvent::ItemRevoked { user_id, .. } => *user_id,
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Library {
    user_id: Option<Uuid>,
    /// Each item owned, with the order line it came from.
    owned: BTreeMap<ItemRef, Uuid>,
}

impl Library {
    pub fn owns(&self, item: &ItemRef) -> bool {
        self.owned.contains_key(item)
    }
}

impl Aggregate for Library {
    type Command = LibraryCommand;
    type Event = LibraryEvent;
    type Rejection = CommerceError;

    fn handle(&self, command: LibraryCommand) -> Result<Vec<LibraryEvent>, CommerceError> {
        let event = match command {
            LibraryCommand::Acquire { user_id, item, order_id, order_item_id, acquired_at } => {
                if self.owns(&item) {
                    return Err(CommerceError::AlreadyOwned);
                }
                LibraryEvent::ItemAcquired { user_id, item, order_id, order_item_id, acquired_at }
            }
            LibraryCommand::Revoke { item, order_item_id, revoked_at } => {
                let user_id = self.user_id.ok_or(CommerceError::NotOwned)?;
                if self.owned.get(&item) != Some(&order_item_id) {
                    return Err(CommerceError::NotOwned);
                }
                LibraryEvent::ItemRevoked { user_id, item, order_item_id, revoked_at }
            }
        };
        Ok(vec![event])
    }

    fn apply(&mut self, event: &LibraryEvent) {
        match event {
            LibraryEvent::ItemAcquired { user_id, item, order_item_id, .. } => {
                self.user_id = Some(*user_id);
                self.owned.insert(*item, *order_item_id);
            }
            LibraryEvent::ItemRevoked { item, .. } => {
                self.owned.remove(item);
            }
        }
    }
}
