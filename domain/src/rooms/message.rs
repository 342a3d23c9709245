//! The chat of a live room: the host and its registrants post while it is active (the room
//! decides who may speak: `RoomCommand::Speak`), a reply answers a top-level message of the same
//! room, the host pins and unpins, and the host or the author deletes (the message stays in its
//! thread, emptied). One stream per message, so a busy room's posts never contend for a version.
//!
//! What people write is `Personal`: erasing the author erases their messages' bodies.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::RoomsError;
use crate::kernel::{Aggregate, DomainEvent, EventType, Personal};
use crate::social::text;

/// Stream type of room messages; the stream id is the message id.
pub const STREAM_TYPE: &str = "room_message";
pub const TEXT_LEN_MAX: usize = 1000;
pub const EMOJI_LEN_MAX: usize = 16;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, strum::EnumIter)]
#[serde(rename_all = "snake_case")]
pub enum RoomMessageType {
    Text,
    /// A reaction in the stream of the room: emoji only.
    Emoji,
}

impl RoomMessageType {
    pub fn as_str(self) -> &'static str {
        match self {
            RoomMessageType::Text => "text",
            RoomMessageType::Emoji => "emoji",
        }
    }

    pub fn parse(text: &str) -> Result<RoomMessageType, RoomsError> {
        <RoomMessageType as strum::IntoEnumIterator>::iter().find(|kind| kind.as_str() == text.trim()).ok_or(RoomsError::InvalidMessageType)
    }
}

/// What a room message says: a text of 1 to 1,000 characters, or 1 to 16 characters of emoji
/// (no letters, digits or spaces).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RoomMessageBody(String);

impl RoomMessageBody {
    pub fn parse(message_type: RoomMessageType, body: &str) -> Result<RoomMessageBody, RoomsError> {
        let parsed = match message_type {
            RoomMessageType::Text => text(body, TEXT_LEN_MAX),
            RoomMessageType::Emoji => text(body, EMOJI_LEN_MAX).filter(|emoji| !emoji.chars().any(|c| c.is_alphanumeric() || c.is_whitespace())),
        };
        parsed.map(RoomMessageBody).ok_or(RoomsError::InvalidMessageBody)
    }
}

impl RoomMessageBody {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<RoomMessageBody> for String {
    fn from(body: RoomMessageBody) -> String {
        body.0
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum RoomMessageCommand {
    /// `parent` is the message replied to, as its stream has it.
    Post {
        message_id: Uuid,
        room_id: Uuid,
        author_id: Uuid,
        message_type: RoomMessageType,
        body: RoomMessageBody,
        parent: Option<RoomMessage>,
        now: DateTime<Utc>,
    },
    /// By the room's host (the room checks that); pinning a pinned message changes nothing.
    Pin { room_id: Uuid, by: Uuid, now: DateTime<Utc> },
    Unpin { room_id: Uuid, by: Uuid, now: DateTime<Utc> },
    /// By the room's host or the message's author; deleting it again changes nothing.
    Delete { room_id: Uuid, by: Uuid, by_host: bool, now: DateTime<Utc> },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum RoomMessageEvent {
    RoomMessagePosted {
        room_id: Uuid,
        message_id: Uuid,
        author_id: Uuid,
        message_type: RoomMessageType,
        body: Personal<RoomMessageBody>,
        parent_id: Option<Uuid>,
        posted_at: DateTime<Utc>,
    },
    RoomMessagePinned { room_id: Uuid, message_id: Uuid, pinned_by: Uuid, pinned_at: DateTime<Utc> },
    RoomMessageUnpinned { room_id: Uuid, message_id: Uuid, unpinned_by: Uuid, unpinned_at: DateTime<Utc> },
    RoomMessageDeleted { room_id: Uuid, message_id: Uuid, deleted_by: Uuid, deleted_at: DateTime<Utc> },
}

pub const ROOM_MESSAGE_POSTED: EventType = EventType::new("RoomMessagePosted", 1);
pub const ROOM_MESSAGE_PINNED: EventType = EventType::new("RoomMessagePinned", 1);
pub const ROOM_MESSAGE_UNPINNED: EventType = EventType::new("RoomMessageUnpinned", 1);
pub const ROOM_MESSAGE_DELETED: EventType = EventType::new("RoomMessageDeleted", 1);

impl DomainEvent for RoomMessageEvent {
    const TYPES: &'static [EventType] = &[ROOM_MESSAGE_POSTED, ROOM_MESSAGE_PINNED, ROOM_MESSAGE_UNPINNED, ROOM_MESSAGE_DELETED];

    fn data_subject(&self) -> Option<Uuid> {
        match self {
            RoomMessageEvent::RoomMessagePosted { author_id, .. } => Some(*author_id),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct RoomMessage {
    id: Option<Uuid>,
    room_id: Uuid,
    author_id: Uuid,
    parent_id: Option<Uuid>,
    pinned: bool,
    deleted: bool,
}

impl RoomMessage {
    pub fn id(&self) -> Option<Uuid> {
        self.id
    }

    pub fn room_id(&self) -> Uuid {
        self.room_id
    }

    /// The message's id when it is one of `room_id`'s: a message of another room is not found.
    fn in_room(&self, room_id: Uuid) -> Result<Uuid, RoomsError> {
        self.id.filter(|_| self.room_id == room_id).ok_or(RoomsError::UnknownMessage)
    }
}

impl Aggregate for RoomMessage {
    type Command = RoomMessageCommand;
    type Event = RoomMessageEvent;
    type Rejection = RoomsError;

    fn handle(&self, command: RoomMessageCommand) -> Result<Vec<RoomMessageEvent>, RoomsError> {
        let event = match command {
            RoomMessageCommand::Post { .. } if self.id.is_some() => return Err(RoomsError::MessageExists),
            RoomMessageCommand::Post { message_id, room_id, author_id, message_type, body, parent, now } => {
                let parent_id = match parent {
                    None => None,
                    Some(parent) => match parent.id {
                        Some(parent_id) if parent.room_id == room_id && parent.parent_id.is_none() && !parent.deleted => Some(parent_id),
                        _ => return Err(RoomsError::InvalidParent),
                    },
                };
                RoomMessageEvent::RoomMessagePosted { room_id, message_id, author_id, message_type, body: body.into(), parent_id, posted_at: now }
            }
            RoomMessageCommand::Pin { room_id, by, now } => {
                let message_id = self.in_room(room_id)?;
                if self.deleted {
                    return Err(RoomsError::InvalidState);
                }
                if self.pinned {
                    return Ok(vec![]);
                }
                RoomMessageEvent::RoomMessagePinned { room_id, message_id, pinned_by: by, pinned_at: now }
            }
            RoomMessageCommand::Unpin { room_id, by, now } => {
                let message_id = self.in_room(room_id)?;
                if !self.pinned {
                    return Ok(vec![]);
                }
                RoomMessageEvent::RoomMessageUnpinned { room_id, message_id, unpinned_by: by, unpinned_at: now }
            }
            RoomMessageCommand::Delete { room_id, by, by_host, now } => {
                let message_id = self.in_room(room_id)?;
                if by != self.author_id && !by_host {
                    return Err(RoomsError::NotHost);
                }
                if self.deleted {
                    return Ok(vec![]);
                }
                RoomMessageEvent::RoomMessageDeleted { room_id, message_id, deleted_by: by, deleted_at: now }
            }
        };
        Ok(vec![event])
    }

    fn apply(&mut self, event: &RoomMessageEvent) {
        match event {
            RoomMessageEvent::RoomMessagePosted { room_id, message_id, author_id, parent_id, .. } => {
                *self = RoomMessage { id: Some(*message_id), room_id: *room_id, author_id: *author_id, parent_id: *parent_id, ..RoomMessage::default() };
            }
            RoomMessageEvent::RoomMessagePinned { .. } => self.pinned = true,
            RoomMessageEvent::RoomMessageUnpinned { .. } => self.pinned = false,
            // A deleted message is no longer pinned.
            RoomMessageEvent::RoomMessageDeleted { .. } => (self.deleted, self.pinned) = (true, false),
        }
    }
}
