//! The chat read models, written by one projector so a message, its conversation's last message
//! and the receiver's unread count move in one transaction.

use domain::chat::ConversationEvent;
use domain::kernel::{DomainEvent, EventType};
use event_store::RecordedEvent;

use crate::ProjectionError;
use crate::runtime::{Prepared, Projector};
use crate::writes::{Value, Writes};

pub struct ChatProjector;

impl ChatProjector {
    pub const NAME: &'static str = "chat";
}

const TABLES: &[&str] = &["conversations", "conversation_members", "messages"];

impl Projector for ChatProjector {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn version(&self) -> u32 {
        2
    }

    fn tables(&self) -> &'static [&'static str] {
        TABLES
    }

    fn events(&self) -> &'static [&'static [EventType]] {
        &[ConversationEvent::TYPES]
    }

    fn prepare(&self, events: &[RecordedEvent]) -> Result<Box<dyn Prepared>, ProjectionError> {
        let mut writes = Writes::new(TABLES);
        for event in events {
            let Some(chat) = crate::decode::<ConversationEvent>(event)? else { continue };
            match chat {
                ConversationEvent::ConversationStarted { conversation_id, participants: [one, other], started_at } => {
                    writes.insert("conversations", &["id", "started_at"], vec![conversation_id.into(), started_at.into()]);
                    for (user, peer) in [(one, other), (other, one)] {
                        writes.insert("conversation_members", &["conversation_id", "user_id", "other_id"], vec![conversation_id.into(), user.into(), peer.into()]);
                    }
                }
                ConversationEvent::MessageSent { conversation_id, message_id, sender_id, message_type, body, media_urls, reply_to_id, sent_at } => {
                    let media = Value::Text(serde_json::to_string(&media_urls).unwrap_or_else(|_| "[]".to_owned()));
                    writes.insert(
                        "messages",
                        &["id", "seq", "conversation_id", "sender_id", "type", "body", "media_urls", "reply_to_id", "created_at"],
                        vec![
                            message_id.into(),
                            event.position.into(),
                            conversation_id.into(),
                            sender_id.into(),
                            message_type.as_str().into(),
                            body.and_then(|body| body.into_known()).map(String::from).into(),
                            media,
                            reply_to_id.into(),
                            sent_at.into(),
                        ],
                    );
                    writes.execute("UPDATE {conversations} SET last_message_id = ? WHERE id = ?", vec![message_id.into(), conversation_id.into()]);
                    writes.execute(
                        "UPDATE {conversation_members} SET last_activity_seq = ?, unread_count = unread_count + IF(user_id = ?, 0, 1) WHERE conversation_id = ?",
                        vec![event.position.into(), sender_id.into(), conversation_id.into()],
                    );
                }
                ConversationEvent::MessageDeleted { message_id, .. } => {
                    writes.execute("UPDATE {messages} SET is_deleted = TRUE, body = NULL, media_urls = '[]', changed_seq = ? WHERE id = ?", vec![event.position.into(), message_id.into()]);
                }
                // Read up to the conversation's last message, which it was when decided.
                ConversationEvent::ConversationRead { conversation_id, reader_id, .. } => {
                    writes.execute("UPDATE {conversation_members} SET unread_count = 0 WHERE conversation_id = ? AND user_id = ?", vec![conversation_id.into(), reader_id.into()]);
                }
            }
        }
        Ok(Box::new(writes))
    }
}
