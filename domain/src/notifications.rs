//! In-app notifications. They are a projection of other contexts' events (who followed, who
//! commented, who sent a gift or a message…); what a user does with them — reading one, or all
//! so far — is their own stream, the inbox.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::kernel::{Aggregate, ContextEvents, DomainEvent, EventType, Rejection, RejectionKind, every};

/// Stream type of a user's inbox; the stream id is the user's id.
pub const STREAM_TYPE: &str = "inbox";

/// The context's events, upcasters and rejections, for the kernel's registries.
pub const EVENTS: ContextEvents = ContextEvents { name: "notifications", tables: &[InboxEvent::TYPES], upcasts: &[], rejections: every::<NotificationError> };

/// The notification an event makes for a recipient: the same on every delivery and every
/// rebuild, so a redelivered event cannot notify twice.
pub fn notification_id(event_id: Uuid, recipient: Uuid) -> Uuid {
    let digest = Sha256::new().chain_update(b"ispeaker:notification:").chain_update(event_id.as_bytes()).chain_update(recipient.as_bytes()).finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    Uuid::new_v8(bytes)
}

/// What a notification is about, as the contract names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, strum::EnumIter)]
#[serde(rename_all = "snake_case")]
pub enum NotificationType {
    NewFollower,
    FollowRequest,
    FollowAccepted,
    PostComment,
    CommentReply,
    PostReaction,
    GiftReceived,
    NewMessage,
    PurchaseCompleted,
    CourseEnrollment,
    RoomStarting,
    RoomCancelled,
    BookingCreated,
    WithdrawalApproved,
    WithdrawalRejected,
}

impl NotificationType {
    pub fn as_str(self) -> &'static str {
        match self {
            NotificationType::NewFollower => "new_follower",
            NotificationType::FollowRequest => "follow_request",
            NotificationType::FollowAccepted => "follow_accepted",
            NotificationType::PostComment => "post_comment",
            NotificationType::CommentReply => "comment_reply",
            NotificationType::PostReaction => "post_reaction",
            NotificationType::GiftReceived => "gift_received",
            NotificationType::NewMessage => "new_message",
            NotificationType::PurchaseCompleted => "purchase_completed",
            NotificationType::CourseEnrollment => "course_enrollment",
            NotificationType::RoomStarting => "room_starting",
            NotificationType::RoomCancelled => "room_cancelled",
            NotificationType::BookingCreated => "booking_created",
            NotificationType::WithdrawalApproved => "withdrawal_approved",
            NotificationType::WithdrawalRejected => "withdrawal_rejected",
        }
    }

    pub fn parse(text: &str) -> Option<NotificationType> {
        <NotificationType as strum::IntoEnumIterator>::iter().find(|kind| kind.as_str() == text)
    }

    /// What it points at: `user`, `post`, `comment`, `gift`, `conversation`, `order`, `course`,
    /// `room`, `booking` or `withdrawal`.
    pub fn subject_type(self) -> &'static str {
        match self {
            NotificationType::NewFollower | NotificationType::FollowRequest | NotificationType::FollowAccepted => "user",
            NotificationType::PostComment | NotificationType::PostReaction => "post",
            NotificationType::CommentReply => "comment",
            NotificationType::GiftReceived => "gift",
            NotificationType::NewMessage => "conversation",
            NotificationType::PurchaseCompleted => "order",
            NotificationType::CourseEnrollment => "course",
            NotificationType::RoomStarting | NotificationType::RoomCancelled => "room",
            NotificationType::BookingCreated => "booking",
            NotificationType::WithdrawalApproved | NotificationType::WithdrawalRejected => "withdrawal",
        }
    }

    /// Whether the actor is told too: only the receipt of one's own purchase.
    pub fn tells_the_actor(self) -> bool {
        self == NotificationType::PurchaseCompleted
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum InboxCommand {
    /// `notification_id` is one of the user's (the caller checked it exists).
    Read { user_id: Uuid, notification_id: Uuid, now: DateTime<Utc> },
    /// Every notification up to `up_to` (a global position) is read.
    ReadAll { user_id: Uuid, up_to: u64, now: DateTime<Utc> },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum InboxEvent {
    NotificationRead { user_id: Uuid, notification_id: Uuid, read_at: DateTime<Utc> },
    AllNotificationsRead { user_id: Uuid, up_to: u64, read_at: DateTime<Utc> },
}

pub const NOTIFICATION_READ: EventType = EventType::new("NotificationRead", 1);
pub const ALL_NOTIFICATIONS_READ: EventType = EventType::new("AllNotificationsRead", 1);

impl DomainEvent for InboxEvent {
    const TYPES: &'static [EventType] = &[NOTIFICATION_READ, ALL_NOTIFICATIONS_READ];
}

/// What a user has marked read. Set-like: reading again changes nothing.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Inbox {
    read: BTreeSet<Uuid>,
    all_read_up_to: u64,
}

impl Aggregate for Inbox {
    type Command = InboxCommand;
    type Event = InboxEvent;
    type Rejection = NotificationError;

    fn handle(&self, command: InboxCommand) -> Result<Vec<InboxEvent>, NotificationError> {
        Ok(match command {
            InboxCommand::Read { notification_id, .. } if self.read.contains(&notification_id) => vec![],
            InboxCommand::Read { user_id, notification_id, now } => vec![InboxEvent::NotificationRead { user_id, notification_id, read_at: now }],
            InboxCommand::ReadAll { up_to, .. } if up_to <= self.all_read_up_to => vec![],
            InboxCommand::ReadAll { user_id, up_to, now } => vec![InboxEvent::AllNotificationsRead { user_id, up_to, read_at: now }],
        })
    }

    fn apply(&mut self, event: &InboxEvent) {
        match event {
            InboxEvent::NotificationRead { notification_id, .. } => {
                self.read.insert(*notification_id);
            }
            InboxEvent::AllNotificationsRead { up_to, .. } => self.all_read_up_to = self.all_read_up_to.max(*up_to),
        }
    }
}

/// The context refuses nothing of its own yet; a notification that is not the caller's is
/// found by the read side (404).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, strum::EnumIter)]
pub enum NotificationError {
    #[error("no such notification")]
    UnknownNotification,
}

impl Rejection for NotificationError {
    fn code(&self) -> &'static str {
        "not_found"
    }

    fn kind(&self) -> RejectionKind {
        RejectionKind::NotFound
    }

    fn field(&self) -> Option<&'static str> {
        None
    }
}
