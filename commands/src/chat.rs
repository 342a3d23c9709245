//! The chat context's commands: opening a pair's conversation, sending, deleting and reading
//! messages. A user someone has blocked cannot open a conversation with them or message them.

use domain::chat::{self, Conversation, ConversationCommand, NewMessage, conversation_id};
use uuid::Uuid;

use crate::kernel::{Kernel, Transacted};
use crate::social::check_reach;
use crate::stream::{Loaded, Stream};
use crate::users::user_stream;
use crate::{CommandContext, CommandError};

pub fn conversation_stream(conversation_id: Uuid) -> Stream<Conversation> {
    Stream::new(chat::STREAM_TYPE, conversation_id.to_string())
}

/// The context's command handler. Cheap to clone.
#[derive(Clone)]
pub struct Chat {
    kernel: Kernel,
}

impl Chat {
    pub fn new(kernel: Kernel) -> Self {
        Self { kernel }
    }

    /// The conversation of `starter` and `other`, started if it was not: its id. Two people
    /// opening it at once race on one stream, and the second finds it started.
    pub async fn open(&self, starter: Uuid, other: Uuid, context: &CommandContext) -> Result<Transacted<Uuid>, CommandError> {
        let conversation_id = conversation_id(starter, other);
        let stream = &conversation_stream(conversation_id);
        let now = self.kernel.now();
        self.kernel
            .transact(context, |unit| async move {
                let mut conversation = unit.load(stream).await?;
                let open = ConversationCommand::Open { conversation_id, starter, other, now };
                if starter != other {
                    if !unit.load(&user_stream(other)).await?.state.is_registered() {
                        return Err(CommandError::rejected(domain::users::UserError::NotRegistered));
                    }
                    check_reach(&unit, other, starter).await?;
                }
                unit.decide(stream, &mut conversation, open)?;
                Ok(conversation_id)
            })
            .await
    }

    /// Sends a message in a conversation the sender is in: its id.
    pub async fn send(&self, sender: Uuid, conversation_id: Uuid, message: NewMessage, context: &CommandContext) -> Result<Transacted<Uuid>, CommandError> {
        let stream = &conversation_stream(conversation_id);
        let (message, message_id, now) = (&message, Uuid::now_v7(), self.kernel.now());
        self.kernel
            .transact(context, |unit| async move {
                let mut conversation = unit.load(stream).await?;
                unit.decide(stream, &mut conversation, ConversationCommand::Send { message_id, sender, message: message.clone(), now })?;
                if let Some(other) = conversation.state.other_than(sender) {
                    check_reach(&unit, other, sender).await?;
                }
                Ok(message_id)
            })
            .await
    }

    pub async fn delete(&self, by: Uuid, conversation_id: Uuid, message_id: Uuid, context: &CommandContext) -> Result<Transacted<Loaded<Conversation>>, CommandError> {
        let delete = ConversationCommand::Delete { message_id, by, now: self.kernel.now() };
        self.kernel.execute(&conversation_stream(conversation_id), delete, context).await
    }

    /// Marks every message so far read by `reader`.
    pub async fn read(&self, reader: Uuid, conversation_id: Uuid, context: &CommandContext) -> Result<Transacted<Loaded<Conversation>>, CommandError> {
        let read = ConversationCommand::Read { reader, now: self.kernel.now() };
        self.kernel.execute(&conversation_stream(conversation_id), read, context).await
    }
}
