//! Turns other contexts' events into notifications: never to the actor (but the receipt of one's
//! own purchase), and only about what the recipient may see (their own post, comment,
//! conversation, profile, course, booking or withdrawal; a gift sent to them; a room they
//! registered for).
//! Recipients that depend on earlier events (a post's author, a conversation's other member)
//! come from the projector's own tables, so a rebuild from the log alone gives the same rows.

use domain::chat::ConversationEvent;
use domain::commerce::ItemType;
use domain::commerce::order::OrderEvent;
use domain::gifts::GiftTransferEvent;
use domain::kernel::{DomainEvent, EventType};
use domain::notifications::{InboxEvent, NotificationType, notification_id};
use domain::rooms::booking::BookingEvent;
use domain::rooms::room::RoomEvent;
use domain::social::comment::CommentEvent;
use domain::social::follow::FollowEvent;
use domain::social::post::PostEvent;
use domain::wallet::WalletEvent;
use event_store::RecordedEvent;
use uuid::Uuid;

use crate::ProjectionError;
use crate::runtime::{Prepared, Projector};
use crate::writes::Writes;

pub struct NotificationsProjector;

impl NotificationsProjector {
    pub const NAME: &'static str = "notifications";
}

const TABLES: &[&str] = &["notifications", "notification_authors", "notification_conversations"];

impl Projector for NotificationsProjector {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn version(&self) -> u32 {
        1
    }

    fn tables(&self) -> &'static [&'static str] {
        TABLES
    }

    fn events(&self) -> &'static [&'static [EventType]] {
        &[
            FollowEvent::TYPES,
            PostEvent::TYPES,
            CommentEvent::TYPES,
            GiftTransferEvent::TYPES,
            ConversationEvent::TYPES,
            OrderEvent::TYPES,
            RoomEvent::TYPES,
            BookingEvent::TYPES,
            WalletEvent::TYPES,
            InboxEvent::TYPES,
        ]
    }

    fn prepare(&self, events: &[RecordedEvent]) -> Result<Box<dyn Prepared>, ProjectionError> {
        let mut writes = Writes::new(TABLES);
        for event in events {
            let notify = Notify { event };
            if let Some(follow) = crate::decode::<FollowEvent>(event)? {
                match follow {
                    FollowEvent::Followed { followee_id, follower_id, .. } => notify.user(&mut writes, followee_id, NotificationType::NewFollower, Some(follower_id), follower_id),
                    FollowEvent::FollowRequested { followee_id, follower_id, .. } => notify.user(&mut writes, followee_id, NotificationType::FollowRequest, Some(follower_id), follower_id),
                    FollowEvent::FollowRequestAccepted { followee_id, follower_id, .. } => {
                        notify.user(&mut writes, follower_id, NotificationType::FollowAccepted, Some(followee_id), followee_id)
                    }
                    _ => {}
                }
            } else if let Some(post) = crate::decode::<PostEvent>(event)? {
                match post {
                    PostEvent::PostCreated { post_id, author_id, .. } => writes.insert("notification_authors", &["subject_id", "author_id"], vec![post_id.into(), author_id.into()]),
                    // A new reaction notifies; changing one's reaction does not again.
                    PostEvent::PostReacted { post_id, user_id, previous: None, .. } => notify.author(&mut writes, post_id, NotificationType::PostReaction, user_id, post_id),
                    _ => {}
                }
            } else if let Some(CommentEvent::CommentAdded { comment_id, post_id, author_id, parent_id, .. }) = crate::decode::<CommentEvent>(event)? {
                writes.insert("notification_authors", &["subject_id", "author_id"], vec![comment_id.into(), author_id.into()]);
                notify.author(&mut writes, post_id, NotificationType::PostComment, author_id, post_id);
                if let Some(parent_id) = parent_id {
                    notify.author(&mut writes, parent_id, NotificationType::CommentReply, author_id, comment_id);
                }
            } else if let Some(GiftTransferEvent::GiftSent { transfer_id, sender_id, receiver_id, .. }) = crate::decode::<GiftTransferEvent>(event)? {
                notify.user(&mut writes, receiver_id, NotificationType::GiftReceived, Some(sender_id), transfer_id);
            } else if let Some(chat) = crate::decode::<ConversationEvent>(event)? {
                match chat {
                    ConversationEvent::ConversationStarted { conversation_id, participants, .. } => {
                        for user in participants {
                            writes.insert("notification_conversations", &["conversation_id", "user_id"], vec![conversation_id.into(), user.into()]);
                        }
                    }
                    ConversationEvent::MessageSent { conversation_id, sender_id, .. } => notify.conversation(&mut writes, conversation_id, sender_id),
                    _ => {}
                }
            } else if let Some(OrderEvent::OrderPlaced { order_id, buyer_id, lines, .. }) = crate::decode::<OrderEvent>(event)? {
                notify.user(&mut writes, buyer_id, NotificationType::PurchaseCompleted, Some(buyer_id), order_id);
                for line in lines.iter().filter(|line| line.item.item_type == ItemType::Course) {
                    notify.user(&mut writes, line.speaker_id, NotificationType::CourseEnrollment, Some(buyer_id), line.item.item_id);
                }
            } else if let Some(room) = crate::decode::<RoomEvent>(event)? {
                match room {
                    RoomEvent::RoomStartingSoon { room_id, registrants, .. } => {
                        for user in registrants {
                            notify.user(&mut writes, user, NotificationType::RoomStarting, None, room_id);
                        }
                    }
                    RoomEvent::RoomCancelled { room_id, registrations, .. } => {
                        for registration in registrations {
                            notify.user(&mut writes, registration.user_id, NotificationType::RoomCancelled, None, room_id);
                        }
                    }
                    _ => {}
                }
            } else if let Some(BookingEvent::BookingPlaced { booking_id, session, .. }) = crate::decode::<BookingEvent>(event)? {
                notify.user(&mut writes, session.speaker_id, NotificationType::BookingCreated, Some(session.student_id), booking_id);
            } else if let Some(wallet) = crate::decode::<WalletEvent>(event)? {
                match wallet {
                    WalletEvent::WithdrawalCompleted { user_id, withdrawal_id, .. } => notify.user(&mut writes, user_id, NotificationType::WithdrawalApproved, None, withdrawal_id),
                    WalletEvent::WithdrawalRejected { user_id, withdrawal_id, .. } => notify.user(&mut writes, user_id, NotificationType::WithdrawalRejected, None, withdrawal_id),
                    _ => {}
                }
            } else if let Some(inbox) = crate::decode::<InboxEvent>(event)? {
                match inbox {
                    InboxEvent::NotificationRead { user_id, notification_id, read_at } => writes.execute(
                        "UPDATE {notifications} SET read_at = ? WHERE id = ? AND user_id = ? AND read_at IS NULL",
                        vec![read_at.into(), notification_id.into(), user_id.into()],
                    ),
                    InboxEvent::AllNotificationsRead { user_id, up_to, read_at } => writes.execute(
                        "UPDATE {notifications} SET read_at = ? WHERE user_id = ? AND seq <= ? AND read_at IS NULL",
                        vec![read_at.into(), user_id.into(), up_to.into()],
                    ),
                }
            }
        }
        Ok(Box::new(writes))
    }
}

/// The notifications one event makes.
struct Notify<'a> {
    event: &'a RecordedEvent,
}

const COLUMNS: &str = "id, seq, user_id, type, actor_id, subject_type, subject_id, created_at";

impl Notify<'_> {
    /// To `recipient`, unless they are the actor (but for a receipt); `actor` is None for what
    /// an admin or the platform did.
    fn user(&self, writes: &mut Writes, recipient: Uuid, kind: NotificationType, actor: Option<Uuid>, subject: Uuid) {
        if actor == Some(recipient) && !kind.tells_the_actor() {
            return;
        }
        let id = notification_id(self.event.event_id, recipient);
        writes.execute(
            format!("INSERT IGNORE INTO {{notifications}} ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"),
            vec![id.into(), self.event.position.into(), recipient.into(), kind.as_str().into(), actor.into(), kind.subject_type().into(), subject.into(), self.event.recorded_at.into()],
        );
    }

    /// To the author of `written` (a post or a comment), unless they are the actor.
    fn author(&self, writes: &mut Writes, written: Uuid, kind: NotificationType, actor: Uuid, subject: Uuid) {
        self.looked_up(writes, "SELECT author_id AS recipient FROM {notification_authors} WHERE subject_id = ?", written, kind, actor, subject);
    }

    /// To the other member of the conversation.
    fn conversation(&self, writes: &mut Writes, conversation_id: Uuid, sender: Uuid) {
        let recipients = "SELECT user_id AS recipient FROM {notification_conversations} WHERE conversation_id = ?";
        self.looked_up(writes, recipients, conversation_id, NotificationType::NewMessage, sender, conversation_id);
    }

    /// To the one recipient `recipients` finds for `key` in the projector's own tables, unless
    /// they are the actor. Known only in SQL, they cannot name the id: the event and `key` do.
    fn looked_up(&self, writes: &mut Writes, recipients: &str, key: Uuid, kind: NotificationType, actor: Uuid, subject: Uuid) {
        let id = notification_id(self.event.event_id, key);
        writes.execute(
            format!("INSERT IGNORE INTO {{notifications}} ({COLUMNS}) SELECT ?, ?, r.recipient, ?, ?, ?, ?, ? FROM ({recipients}) r WHERE r.recipient <> ?"),
            vec![
                id.into(),
                self.event.position.into(),
                kind.as_str().into(),
                actor.into(),
                kind.subject_type().into(),
                subject.into(),
                self.event.recorded_at.into(),
                key.into(),
                actor.into(),
            ],
        );
    }
}
