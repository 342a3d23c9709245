//! The frames a range of positions produced, read from the read models their projectors wrote
//! (never from the events themselves), so a frame shows exactly what REST shows: a notification,
//! a chat message, a live room's message, a wallet's balances. A range read for everyone feeds
//! the live pushes; one read for a user or a room replays what a reconnecting socket missed.

use bytestring::ByteString;
use projections::{Queries, Range};
use serde::Serialize;
use uuid::Uuid;

use crate::chat::MessageView;
use crate::i18n::Lang;
use crate::notifications::NotificationView;
use crate::rooms::chat::RoomMessageView;

/// Who a frame is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Audience {
    /// Every socket of this user.
    User(Uuid),
    /// Every socket that joined this live room.
    Room(Uuid),
}

/// Whose frames to read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Only {
    Everyone,
    Audience(Audience),
}

/// One frame as it goes on the wire: the same text for everyone, or one per language (a
/// notification's `message`).
#[derive(Clone, Debug)]
pub enum Wire {
    Same(ByteString),
    ByLanguage { en: ByteString, ar: ByteString },
}

impl Wire {
    pub fn text(&self, lang: Lang) -> ByteString {
        match (self, lang) {
            (Wire::Same(text), _) | (Wire::ByLanguage { en: text, .. }, Lang::En) | (Wire::ByLanguage { ar: text, .. }, Lang::Ar) => text.clone(),
        }
    }
}

#[derive(Clone, Debug)]
pub struct Push {
    pub position: u64,
    pub audience: Audience,
    pub wire: Wire,
}

/// A frame: `{type, position, data}`.
#[derive(Serialize)]
pub struct Frame<'a, T: Serialize> {
    #[serde(rename = "type")]
    pub frame_type: &'a str,
    pub position: Option<u64>,
    pub data: T,
}

impl<'a, T: Serialize> Frame<'a, T> {
    pub fn new(frame_type: &'a str, position: Option<u64>, data: T) -> Self {
        Self { frame_type, position, data }
    }

    pub fn wire(&self) -> ByteString {
        // Views of read-model rows always serialize; should one not, the client hears of it.
        serde_json::to_string(self)
            .map(ByteString::from)
            .unwrap_or_else(|_| ByteString::from_static(r#"{"type":"error","position":null,"data":{"code":"internal_error"}}"#))
    }
}

/// A wallet's balances after a change.
#[derive(Serialize)]
struct WalletData {
    balance: String,
    pending_balance: String,
}

/// The frames `range` produced for `only`, in the order of their positions.
pub async fn load(queries: &Queries, range: Range, only: Only) -> Result<Vec<Push>, sqlx::Error> {
    let (user, room) = match only {
        Only::Everyone => (None, None),
        Only::Audience(Audience::User(user)) => (Some(user), None),
        Only::Audience(Audience::Room(room)) => (None, Some(room)),
    };
    // The kinds are read at once, each only for the audience it can have.
    let (users_kinds, rooms_kind) = (room.is_none(), user.is_none());
    let (messages, notifications, wallets, room_messages) = tokio::try_join!(
        async { if users_kinds { queries.chat.pushed(range, user).await } else { Ok(Vec::new()) } },
        async { if users_kinds { queries.notifications.pushed(range, user).await } else { Ok(Vec::new()) } },
        async { if users_kinds { queries.wallet.pushed(range, user).await } else { Ok(Vec::new()) } },
        async { if rooms_kind { queries.room_chat.pushed(range, room).await } else { Ok(Vec::new()) } },
    )?;
    let mut pushes = Vec::with_capacity(messages.len() + notifications.len() + wallets.len() + room_messages.len());
    for (position, participant, row) in messages {
        let wire = Wire::Same(Frame::new("message", Some(position), MessageView::from(row)).wire());
        pushes.push(Push { position, audience: Audience::User(participant), wire });
    }
    for (position, recipient, row) in notifications {
        let render = |lang: Lang| {
            let row = row.clone();
            lang.scope(async move { Frame::new("notification", Some(position), NotificationView::from(row)).wire() })
        };
        let wire = Wire::ByLanguage { en: render(Lang::En).await, ar: render(Lang::Ar).await };
        pushes.push(Push { position, audience: Audience::User(recipient), wire });
    }
    for (position, owner, balances) in wallets {
        let data = WalletData { balance: balances.balance.to_string(), pending_balance: balances.pending_balance.to_string() };
        pushes.push(Push { position, audience: Audience::User(owner), wire: Wire::Same(Frame::new("wallet", Some(position), data).wire()) });
    }
    for (position, row) in room_messages {
        let audience = Audience::Room(row.room_id);
        pushes.push(Push { position, audience, wire: Wire::Same(Frame::new("room_message", Some(position), RoomMessageView::from(row)).wire()) });
    }
    // Stable: at one position, a chat message's `message` frame comes before its notification.
    pushes.sort_by_key(|push| push.position);
    Ok(pushes)
}
