//! Chat between two users: one conversation per pair, whose id is derived from the pair (so two
//! people opening it at once open the same one), messages with replies, deletion by the sender
//! (the message stays, emptied), and read markers. One stream per conversation, so who may post,
//! what a reply points to and what is unread rest on one version.
//!
//! What people write is `Personal`: erasing the sender erases their messages' bodies.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::catalogue::ContentUrl;
use crate::kernel::{Aggregate, ContextEvents, DomainEvent, EventType, Personal, Rejection, RejectionKind, every};
use crate::social::text;

/// Stream type of a conversation; the stream id is `conversation_id` of its pair.
pub const STREAM_TYPE: &str = "conversation";
pub const BODY_LEN_MAX: usize = 5000;
pub const MEDIA_URLS_MAX: usize = 10;

/// The context's events, upcasters and rejections, for the kernel's registries.
pub const EVENTS: ContextEvents = ContextEvents { name: "chat", tables: &[ConversationEvent::TYPES], upcasts: &[], rejections: every::<ChatError> };

/// The conversation of two users: the same whichever of them asks, and for nobody else.
pub fn conversation_id(one: Uuid, other: Uuid) -> Uuid {
    let (low, high) = if one < other { (one, other) } else { (other, one) };
    let digest = Sha256::new().chain_update(b"ispeaker:conversation:").chain_update(low.as_bytes()).chain_update(high.as_bytes()).finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    Uuid::new_v8(bytes)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, strum::EnumIter)]
#[serde(rename_all = "snake_case")]
pub enum MessageType {
    Text,
    Image,
    Video,
    Audio,
    File,
}

impl MessageType {
    pub fn as_str(self) -> &'static str {
        match self {
            MessageType::Text => "text",
            MessageType::Image => "image",
            MessageType::Video => "video",
            MessageType::Audio => "audio",
            MessageType::File => "file",
        }
    }

    pub fn parse(text: &str) -> Result<MessageType, ChatError> {
        <MessageType as strum::IntoEnumIterator>::iter().find(|kind| kind.as_str() == text.trim()).ok_or(ChatError::InvalidMessageType)
    }
}

/// What a message says: 1 to 5,000 characters.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct MessageBody(String);

impl MessageBody {
    pub fn parse(body: &str) -> Result<MessageBody, ChatError> {
        text(body, BODY_LEN_MAX).map(MessageBody).ok_or(ChatError::InvalidBody)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<MessageBody> for String {
    fn from(body: MessageBody) -> String {
        body.0
    }
}

/// Up to ten http or https URLs.
pub fn media_urls(urls: &[String]) -> Result<Vec<ContentUrl>, ChatError> {
    if urls.len() > MEDIA_URLS_MAX {
        return Err(ChatError::InvalidMediaUrls);
    }
    urls.iter().map(|url| ContentUrl::parse(url).map_err(|_| ChatError::InvalidMediaUrls)).collect()
}

/// A message as its sender writes it. A text needs a body; media types need a URL or a body.
#[derive(Clone, Debug, PartialEq)]
pub struct NewMessage {
    pub message_type: MessageType,
    pub body: Option<MessageBody>,
    pub media_urls: Vec<ContentUrl>,
    pub reply_to_id: Option<Uuid>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ConversationCommand {
    /// Starts the pair's conversation; nothing when it exists.
    Open { conversation_id: Uuid, starter: Uuid, other: Uuid, now: DateTime<Utc> },
    Send { message_id: Uuid, sender: Uuid, message: NewMessage, now: DateTime<Utc> },
    /// By the message's sender; deleting it again changes nothing.
    Delete { message_id: Uuid, by: Uuid, now: DateTime<Utc> },
    /// Marks every message so far read by `reader`; nothing when none is unread.
    Read { reader: Uuid, now: DateTime<Utc> },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ConversationEvent {
    ConversationStarted { conversation_id: Uuid, participants: [Uuid; 2], started_at: DateTime<Utc> },
    MessageSent {
        conversation_id: Uuid,
        message_id: Uuid,
        sender_id: Uuid,
        message_type: MessageType,
        body: Option<Personal<MessageBody>>,
        media_urls: Vec<ContentUrl>,
        reply_to_id: Option<Uuid>,
        sent_at: DateTime<Utc>,
    },
    MessageDeleted { conversation_id: Uuid, message_id: Uuid, sender_id: Uuid, deleted_at: DateTime<Utc> },
    ConversationRead { conversation_id: Uuid, reader_id: Uuid, up_to_message_id: Uuid, read_at: DateTime<Utc> },
}

pub const CONVERSATION_STARTED: EventType = EventType::new("ConversationStarted", 1);
pub const MESSAGE_SENT: EventType = EventType::new("MessageSent", 1);
pub const MESSAGE_DELETED: EventType = EventType::new("MessageDeleted", 1);
pub const CONVERSATION_READ: EventType = EventType::new("ConversationRead", 1);

impl DomainEvent for ConversationEvent {
    const TYPES: &'static [EventType] = &[CONVERSATION_STARTED, MESSAGE_SENT, MESSAGE_DELETED, CONVERSATION_READ];

    fn data_subject(&self) -> Option<Uuid> {
        match self {
            ConversationEvent::MessageSent { sender_id, body: Some(_), .. } => Some(*sender_id),
            _ => None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
struct MessageState {
    sender: Uuid,
    deleted: bool,
}

/// A conversation: its two participants, its messages in order, and how far each has read.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Conversation {
    id: Option<Uuid>,
    participants: Option<[Uuid; 2]>,
    messages: BTreeMap<Uuid, MessageState>,
    last_message: Option<Uuid>,
    /// The last message each participant has read.
    read_up_to: BTreeMap<Uuid, Uuid>,
}

impl Conversation {
    pub fn id(&self) -> Option<Uuid> {
        self.id
    }

    pub fn is_participant(&self, user: Uuid) -> bool {
        self.participants.is_some_and(|pair| pair.contains(&user))
    }

    /// The other participant, for one of them.
    pub fn other_than(&self, user: Uuid) -> Option<Uuid> {
        self.participants.filter(|pair| pair.contains(&user)).map(|[one, two]| if one == user { two } else { one })
    }

    fn participant(&self, user: Uuid) -> Result<Uuid, ChatError> {
        let id = self.id.ok_or(ChatError::UnknownConversation)?;
        if self.is_participant(user) { Ok(id) } else { Err(ChatError::UnknownConversation) }
    }
}

impl Aggregate for Conversation {
    type Command = ConversationCommand;
    type Event = ConversationEvent;
    type Rejection = ChatError;

    fn handle(&self, command: ConversationCommand) -> Result<Vec<ConversationEvent>, ChatError> {
        let event = match command {
            ConversationCommand::Open { starter, other, .. } if starter == other => return Err(ChatError::OwnConversation),
            ConversationCommand::Open { .. } if self.id.is_some() => return Ok(vec![]),
            ConversationCommand::Open { conversation_id, starter, other, now } => {
                if conversation_id != crate::chat::conversation_id(starter, other) {
                    return Err(ChatError::UnknownConversation);
                }
                ConversationEvent::ConversationStarted { conversation_id, participants: [starter, other], started_at: now }
            }
            ConversationCommand::Send { message_id, sender, message, now } => {
                // What the message is comes first: a 422 answers before a 404.
                match (message.message_type, &message.body, message.media_urls.is_empty()) {
                    (MessageType::Text, None, _) => return Err(ChatError::InvalidBody),
                    (MessageType::Text, Some(_), false) => return Err(ChatError::InvalidMediaUrls),
                    (_, None, true) => return Err(ChatError::InvalidMediaUrls),
                    _ => {}
                }
                let conversation_id = self.participant(sender)?;
                if self.messages.contains_key(&message_id) {
                    return Err(ChatError::MessageExists);
                }
                if message.reply_to_id.is_some_and(|reply_to| !self.messages.contains_key(&reply_to)) {
                    return Err(ChatError::InvalidReplyTo);
                }
                ConversationEvent::MessageSent {
                    conversation_id,
                    message_id,
                    sender_id: sender,
                    message_type: message.message_type,
                    body: message.body.map(Personal::from),
                    media_urls: message.media_urls,
                    reply_to_id: message.reply_to_id,
                    sent_at: now,
                }
            }
            ConversationCommand::Delete { message_id, by, now } => {
                let conversation_id = self.participant(by)?;
                let message = self.messages.get(&message_id).ok_or(ChatError::UnknownMessage)?;
                if message.sender != by {
                    return Err(ChatError::NotSender);
                }
                if message.deleted {
                    return Ok(vec![]);
                }
                ConversationEvent::MessageDeleted { conversation_id, message_id, sender_id: by, deleted_at: now }
            }
            ConversationCommand::Read { reader, now } => {
                let conversation_id = self.participant(reader)?;
                let Some(last) = self.last_message else { return Ok(vec![]) };
                if self.read_up_to.get(&reader) == Some(&last) {
                    return Ok(vec![]);
                }
                ConversationEvent::ConversationRead { conversation_id, reader_id: reader, up_to_message_id: last, read_at: now }
            }
        };
        Ok(vec![event])
    }

    fn apply(&mut self, event: &ConversationEvent) {
        match event {
            ConversationEvent::ConversationStarted { conversation_id, participants, .. } => {
                self.id = Some(*conversation_id);
                self.participants = Some(*participants);
            }
            ConversationEvent::MessageSent { message_id, sender_id, .. } => {
                self.messages.insert(*message_id, MessageState { sender: *sender_id, deleted: false });
                self.last_message = Some(*message_id);
                // One's own message is read by oneself.
                self.read_up_to.insert(*sender_id, *message_id);
            }
            ConversationEvent::MessageDeleted { message_id, .. } => {
                if let Some(message) = self.messages.get_mut(message_id) {
                    message.deleted = true;
                }
            }
            ConversationEvent::ConversationRead { reader_id, up_to_message_id, .. } => {
                self.read_up_to.insert(*reader_id, *up_to_message_id);
            }
        }
    }
}

/// Business rejections of the chat context, and reasons of its invalid input.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, strum::EnumIter)]
pub enum ChatError {
    #[error("no such conversation")]
    UnknownConversation,
    #[error("no such message")]
    UnknownMessage,
    #[error("a conversation is with someone else")]
    OwnConversation,
    #[error("the message type must be text, image, video, audio or file")]
    InvalidMessageType,
    #[error("the body must be 1 to 5,000 characters; a text message needs one")]
    InvalidBody,
    #[error("media URLs are up to 10 http or https URLs; a media message needs one or a body, a text message none")]
    InvalidMediaUrls,
    #[error("a reply goes to a message of the same conversation")]
    InvalidReplyTo,
    #[error("the message already exists")]
    MessageExists,
    #[error("only its sender may delete a message")]
    NotSender,
}

impl Rejection for ChatError {
    fn code(&self) -> &'static str {
        match self {
            ChatError::UnknownConversation | ChatError::UnknownMessage => "not_found",
            ChatError::OwnConversation => "own_conversation",
            ChatError::InvalidMessageType => "invalid_message_type",
            ChatError::InvalidBody => "invalid_message_body",
            ChatError::InvalidMediaUrls => "invalid_media_urls",
            ChatError::InvalidReplyTo => "invalid_reply_to",
            ChatError::MessageExists => "already_exists",
            ChatError::NotSender => "not_sender",
        }
    }

    fn kind(&self) -> RejectionKind {
        match self {
            ChatError::UnknownConversation | ChatError::UnknownMessage => RejectionKind::NotFound,
            ChatError::NotSender => RejectionKind::Forbidden,
            ChatError::MessageExists => RejectionKind::Conflict,
            _ => RejectionKind::Invalid,
        }
    }

    fn field(&self) -> Option<&'static str> {
        match self {
            ChatError::OwnConversation => Some("user_id"),
            ChatError::InvalidMessageType => Some("type"),
            ChatError::InvalidBody => Some("body"),
            ChatError::InvalidMediaUrls => Some("media_urls"),
            ChatError::InvalidReplyTo => Some("reply_to_id"),
            _ => None,
        }
    }
}
