//! Marking notifications read: one inbox stream per user.

use domain::notifications::{self, Inbox, InboxCommand};
use uuid::Uuid;

use crate::kernel::{Kernel, Transacted};
use crate::stream::{Loaded, Stream};
use crate::{CommandContext, CommandError};

pub fn inbox_stream(user_id: Uuid) -> Stream<Inbox> {
    Stream::new(notifications::STREAM_TYPE, user_id.to_string())
}

/// The context's command handler. Cheap to clone.
#[derive(Clone)]
pub struct Notifications {
    kernel: Kernel,
}

impl Notifications {
    pub fn new(kernel: Kernel) -> Self {
        Self { kernel }
    }

    /// Marks one of the user's notifications read (the caller found it theirs).
    pub async fn read(&self, user_id: Uuid, notification_id: Uuid, context: &CommandContext) -> Result<Transacted<Loaded<Inbox>>, CommandError> {
        let read = InboxCommand::Read { user_id, notification_id, now: self.kernel.now() };
        self.kernel.execute(&inbox_stream(user_id), read, context).await
    }

    /// Marks every notification made so far read: up to the head of the log now.
    pub async fn read_all(&self, user_id: Uuid, context: &CommandContext) -> Result<Transacted<Loaded<Inbox>>, CommandError> {
        let up_to = self.kernel.head().await?.position;
        let read = InboxCommand::ReadAll { user_id, up_to, now: self.kernel.now() };
        self.kernel.execute(&inbox_stream(user_id), read, context).await
    }
}
