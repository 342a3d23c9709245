//! Who a user has blocked: one stream per blocker. A blocked user cannot follow, message or gift
//! the blocker (`BlockCommand::Reach` asks it, appending nothing); blocking also ends follows both
//! ways, which the command does on both followers' streams in the same append.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::SocialError;
use crate::kernel::{Aggregate, DomainEvent, EventType};

/// Stream type of a user's blocks; the stream id is the blocker's id.
pub const STREAM_TYPE: &str = "blocks";

#[derive(Clone, Debug, PartialEq)]
pub enum BlockCommand {
    Block { blocker: Uuid, blocked: Uuid, now: DateTime<Utc> },
    Unblock { blocker: Uuid, blocked: Uuid, now: DateTime<Utc> },
    /// Whether `from` may follow, message or gift the stream's owner: refused when blocked.
    Reach { from: Uuid },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum BlockEvent {
    UserBlocked { blocker_id: Uuid, blocked_id: Uuid, blocked_at: DateTime<Utc> },
    UserUnblocked { blocker_id: Uuid, blocked_id: Uuid, unblocked_at: DateTime<Utc> },
}

pub const USER_BLOCKED: EventType = EventType::new("UserBlocked", 1);
pub const USER_UNBLOCKED: EventType = EventType::new("UserUnblocked", 1);

impl DomainEvent for BlockEvent {
    const TYPES: &'static [EventType] = &[USER_BLOCKED, USER_UNBLOCKED];
}

/// The users one user has blocked.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Blocks {
    blocked: BTreeSet<Uuid>,
}

impl Blocks {
    pub fn has_blocked(&self, user: Uuid) -> bool {
        self.blocked.contains(&user)
    }
}

impl Aggregate for Blocks {
    type Command = BlockCommand;
    type Event = BlockEvent;
    type Rejection = SocialError;

    fn handle(&self, command: BlockCommand) -> Result<Vec<BlockEvent>, SocialError> {
        Ok(match command {
            BlockCommand::Block { blocker, blocked, .. } if blocker == blocked => return Err(SocialError::CannotBlockSelf),
            // Set-like: blocking twice or unblocking someone not blocked changes nothing.
            BlockCommand::Block { blocked, .. } if self.has_blocked(blocked) => vec![],
            BlockCommand::Block { blocker, blocked, now } => vec![BlockEvent::UserBlocked { blocker_id: blocker, blocked_id: blocked, blocked_at: now }],
            BlockCommand::Unblock { blocked, .. } if !self.has_blocked(blocked) => vec![],
            BlockCommand::Unblock { blocker, blocked, now } => vec![BlockEvent::UserUnblocked { blocker_id: blocker, blocked_id: blocked, unblocked_at: now }],
            BlockCommand::Reach { from } if self.has_blocked(from) => return Err(SocialError::Blocked),
            BlockCommand::Reach { .. } => vec![],
        })
    }

    fn apply(&mut self, event: &BlockEvent) {
        match event {
            BlockEvent::UserBlocked { blocked_id, .. } => self.blocked.insert(*blocked_id),
            BlockEvent::UserUnblocked { blocked_id, .. } => self.blocked.remove(blocked_id),
        };
    }
}
