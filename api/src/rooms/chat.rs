//! The chat of a live room over HTTP: its host and registrants read it, and post while the room
//! is active; the host pins, unpins and deletes any message, an author deletes their own.
//! Everyone else is refused with 403 `not_registered`.

use actix_web::http::Method;
use actix_web::web;
use chrono::{DateTime, Utc};
use commands::rooms::NewRoomMessage;
use domain::rooms::message::{RoomMessageBody, RoomMessageType};
use projections::rooms::RoomChatProjector;
use projections::rooms::chat::RoomMessageRow;
use projections::social::SocialProjector;
use projections::users::UsersProjector;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::catalogue::parse_id;
use crate::chat::page_of_messages;
use crate::envelope::{Pagination, Reply};
use crate::error::ApiError;
use crate::extract::{Body, Fields, flag, json_body};
use crate::i18n::Text;
use crate::idempotency::{appended, settled};
use crate::openapi::{Op, Routes};
use crate::social::PersonView;
use crate::startup::AppState;

/// Room messages are read with their authors' `users` and `profiles` rows.
pub const ROOM_CHAT: &[&str] = &[UsersProjector::NAME, SocialProjector::NAME, RoomChatProjector::NAME];

pub fn routes(routes: &mut Routes) {
    use Method as M;
    routes.add(M::GET, "/rooms/{id}/messages", messages,
        Op::new("rooms", "A live room's chat, newest first").auth().reads(ROOM_CHAT).path_params(&["id"]).query::<RoomMessagesQuery>()
            .data::<Vec<RoomMessageView>>().errors(&[403, 404, 422])
            .description("For the host and registrants. `before`: a message id of the room; `limit` 1–100, 20 by default; \
                          `pinned_only=true` for the pinned ones."));
    routes.add(M::POST, "/rooms/{id}/messages", post,
        Op::new("rooms", "Post in a live room's chat").auth().path_params(&["id"]).body::<RoomMessageRequest>().data::<RoomMessageView>().created()
            .errors(&[403, 404, 409, 422])
            .description("The host and registrants, while the room is active (409 `not_started` before, `not_available` after). `text`: \
                          1–1,000 characters; `emoji`: 1–16 characters of emoji. `parent_id` answers a top-level message of the room."));
    routes.add(M::POST, "/rooms/{id}/messages/{message_id}/pin", pin,
        Op::new("rooms", "Pin a message of my room's chat").auth().path_params(&["id", "message_id"]).data::<RoomMessageView>().errors(&[403, 404, 409])
            .description("The host only (403 `not_host`); pinning a pinned message changes nothing; a deleted one: 409 `invalid_state`."));
    routes.add(M::DELETE, "/rooms/{id}/messages/{message_id}/pin", unpin,
        Op::new("rooms", "Unpin a message of my room's chat").auth().path_params(&["id", "message_id"]).data::<RoomMessageView>().errors(&[403, 404]));
    routes.add(M::DELETE, "/rooms/{id}/messages/{message_id}", delete,
        Op::new("rooms", "Delete a message of a room's chat").auth().path_params(&["id", "message_id"]).data::<RoomMessageView>().errors(&[403, 404])
            .description("The host deletes any, an author their own (else 403 `not_host`). It stays in the chat as `deleted: true`, without its body."));
}

pub const ROOM_MESSAGE_POSTED: Text = Text::new("room_message_posted", "Posted.", "تم النشر.");
pub const ROOM_MESSAGE_PINNED: Text = Text::new("room_message_pinned", "Pinned.", "تم التثبيت.");
pub const ROOM_MESSAGE_UNPINNED: Text = Text::new("room_message_unpinned", "Unpinned.", "تم إلغاء التثبيت.");
pub const ROOM_MESSAGE_DELETED: Text = Text::new("room_message_deleted", "The message is deleted.", "تم حذف الرسالة.");
pub const INVALID_BEFORE: Text = Text::new("invalid_room_before", "must be the id of a message of this room", "يجب أن يكون معرّف رسالة في هذه الغرفة");

/// Reasons of the room chat's invalid fields.
pub const REASONS: &[Text] = &[
    Text::new("invalid_room_message_type", "must be text or emoji", "يجب أن يكون text أو emoji"),
    Text::new("invalid_room_message_body", "a text is 1 to 1,000 characters; an emoji message 1 to 16 characters of emoji", "النص من 1 إلى 1000 حرف، ورسالة الرموز من 1 إلى 16 رمزاً تعبيرياً"),
    Text::new("invalid_room_message_parent", "must be a top-level message of this room", "يجب أن تكون رسالة رئيسية في هذه الغرفة"),
    INVALID_BEFORE,
];

#[derive(Debug, Deserialize, JsonSchema)]
pub struct RoomMessageRequest {
    /// `text` or `emoji`.
    #[serde(rename = "type")]
    #[schemars(example = &"text")]
    pub message_type: String,
    #[schemars(example = &"شكراً على الشرح!")]
    pub body: String,
    pub parent_id: Option<Uuid>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct RoomMessagesQuery {
    /// A message id: the page ends just before it.
    pub before: Option<String>,
    /// 1–100, 20 by default.
    pub limit: Option<String>,
    /// `true` for the pinned messages only.
    pub pinned_only: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct RoomMessageView {
    pub id: Uuid,
    pub room_id: Uuid,
    pub author: PersonView,
    /// `text` or `emoji`.
    #[serde(rename = "type")]
    pub message_type: String,
    /// Null once deleted, and once its author is erased.
    pub body: Option<String>,
    pub parent_id: Option<Uuid>,
    pub pinned: bool,
    pub deleted: bool,
    pub created_at: DateTime<Utc>,
}

impl From<RoomMessageRow> for RoomMessageView {
    fn from(row: RoomMessageRow) -> Self {
        RoomMessageView {
            id: row.id,
            room_id: row.room_id,
            author: row.author.into(),
            message_type: row.message_type,
            body: row.body,
            parent_id: row.parent_id,
            pinned: row.is_pinned,
            deleted: row.is_deleted,
            created_at: row.created_at,
        }
    }
}

/// Whether `user` is the room's host or a registrant: 404 for no room, 403 for anyone else.
pub async fn require_member(state: &AppState, room_id: Uuid, user: Uuid) -> Result<(), ApiError> {
    let room = state.commands.rooms.room(room_id).await?.state;
    if room.id().is_none() {
        return Err(ApiError::NotFound);
    }
    if !room.is_member(user) {
        return Err(commands::CommandError::rejected(domain::rooms::RoomsError::NotRegistered).into());
    }
    Ok(())
}

/// The message once the read model holds `position`.
async fn shown_message(state: &AppState, room_id: Uuid, message_id: Uuid, position: u64) -> Result<RoomMessageView, ApiError> {
    state.shown(ROOM_CHAT, position).await?;
    let row = state.queries.room_chat.message(room_id, message_id).await?.ok_or(ApiError::NotFound)?;
    Ok(RoomMessageView::from(row))
}

pub async fn messages(state: web::Data<AppState>, user: AuthUser, id: web::Path<String>, query: web::Query<RoomMessagesQuery>) -> Result<Reply, ApiError> {
    let room_id = parse_id(&id)?;
    let (before, limit) = page_of_messages(query.before.as_deref(), query.limit.as_deref(), &INVALID_BEFORE)?;
    let pinned_only = flag("pinned_only", query.pinned_only.as_deref())?;
    require_member(&state, room_id, user.user_id).await?;
    let rows = state.queries.room_chat.messages(room_id, before, pinned_only, limit).await?.ok_or(ApiError::field("before", &INVALID_BEFORE))?;
    let count = rows.len() as u64;
    Ok(Reply::ok(rows.into_iter().map(RoomMessageView::from).collect::<Vec<_>>()).pagination(Pagination::whole(count)))
}

pub async fn post(state: web::Data<AppState>, user: AuthUser, id: web::Path<String>, body: Body) -> Result<Reply, ApiError> {
    let room_id = parse_id(&id)?;
    let input: RoomMessageRequest = json_body(&body)?;
    let mut fields = Fields::default();
    let message_type = fields.check(RoomMessageType::parse(&input.message_type));
    let text = message_type.and_then(|kind| fields.check(RoomMessageBody::parse(kind, &input.body)));
    fields.done()?;
    let (Some(message_type), Some(body)) = (message_type, text) else { return Err(ApiError::internal("checked fields missing")) };
    let message = NewRoomMessage { message_type, body, parent_id: input.parent_id };
    let (message_id, position) = appended(state.commands.rooms.post_message(user.user_id, room_id, message, &user.context()).await?)?;
    Ok(Reply::created(&ROOM_MESSAGE_POSTED, shown_message(&state, room_id, message_id, position).await?).position(Some(position)))
}

/// Room and message ids from the path.
fn ids(path: &(String, String)) -> Result<(Uuid, Uuid), ApiError> {
    Ok((parse_id(&path.0)?, parse_id(&path.1)?))
}

pub async fn pin(state: web::Data<AppState>, user: AuthUser, path: web::Path<(String, String)>) -> Result<Reply, ApiError> {
    let (room_id, message_id) = ids(&path)?;
    let (_, position) = settled(&state, state.commands.rooms.pin_message(user.user_id, room_id, message_id, true, &user.context()).await?).await?;
    Ok(Reply::ok(shown_message(&state, room_id, message_id, position).await?).message(&ROOM_MESSAGE_PINNED).position(Some(position)))
}

pub async fn unpin(state: web::Data<AppState>, user: AuthUser, path: web::Path<(String, String)>) -> Result<Reply, ApiError> {
    let (room_id, message_id) = ids(&path)?;
    let (_, position) = settled(&state, state.commands.rooms.pin_message(user.user_id, room_id, message_id, false, &user.context()).await?).await?;
    Ok(Reply::ok(shown_message(&state, room_id, message_id, position).await?).message(&ROOM_MESSAGE_UNPINNED).position(Some(position)))
}

pub async fn delete(state: web::Data<AppState>, user: AuthUser, path: web::Path<(String, String)>) -> Result<Reply, ApiError> {
    let (room_id, message_id) = ids(&path)?;
    let (_, position) = settled(&state, state.commands.rooms.delete_message(user.user_id, room_id, message_id, &user.context()).await?).await?;
    Ok(Reply::ok(shown_message(&state, room_id, message_id, position).await?).message(&ROOM_MESSAGE_DELETED).position(Some(position)))
}
