//! Chat over HTTP: the pair's conversation, the inbox, messages newest first, sending, deleting
//! one's own and marking read. Only the two participants see a conversation; to anyone else it
//! is 404, like a message of it.

use actix_web::http::Method;
use actix_web::web;
use chrono::{DateTime, Utc};
use domain::chat::{self, MessageBody, MessageType, NewMessage};
use projections::chat::ChatProjector;
use projections::chat::queries::{Before, ConversationRow, MessageRow};
use projections::social::SocialProjector;
use projections::users::UsersProjector;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::catalogue::parse_id;
use crate::envelope::{Pagination, Reply};
use crate::error::ApiError;
use crate::extract::{Body, Fields, PageQuery, json_body};
use crate::i18n::Text;
use crate::idempotency::{appended, settled};
use crate::openapi::{Op, Routes};
use crate::social::PersonView;
use crate::startup::AppState;

/// Conversations and messages are read with their people's `users` and `profiles` rows.
const CHAT: &[&str] = &[UsersProjector::NAME, SocialProjector::NAME, ChatProjector::NAME];
/// A page of messages when the client names no `limit`, and its most.
const MESSAGES_LIMIT_DEFAULT: u64 = 20;
const MESSAGES_LIMIT_MAX: u64 = 100;

pub fn routes(routes: &mut Routes) {
    use Method as M;
    routes.add(M::POST, "/conversations", open,
        Op::new("chat", "The conversation with a user").auth().body::<OpenRequest>().data::<ConversationView>().errors(&[403, 404, 422])
            .description("Started on first use; the same pair always gets the same id, even when both open it at once. With yourself: \
                          422 `own_conversation`; with someone who blocked you: 403 `blocked`."));
    routes.add(M::GET, "/conversations", conversations,
        Op::new("chat", "My conversations, most recently active first").auth().reads(CHAT).query::<PageQuery>().data::<Vec<ConversationView>>()
            .errors(&[422]).description("Listed once they have a message, each with its `last_message` and my `unread_count`."));
    routes.add(M::GET, "/conversations/{id}/messages", messages,
        Op::new("chat", "A conversation's messages, newest first").auth().reads(CHAT).path_params(&["id"]).query::<MessagesQuery>()
            .data::<Vec<MessageView>>().errors(&[404, 422]).description("`before`: a message id of the conversation; `limit` 1–100, 20 by default."));
    routes.add(M::POST, "/conversations/{id}/messages", send,
        Op::new("chat", "Send a message").auth().path_params(&["id"]).body::<MessageRequest>().data::<MessageView>().created().errors(&[403, 404, 422])
            .description("`text` needs a `body` and no media; `image`, `video`, `audio` and `file` need `media_urls` or a `body`. \
                          `reply_to_id` is a message of the same conversation. To someone who blocked you: 403 `blocked`."));
    routes.add(M::POST, "/conversations/{id}/read", read,
        Op::new("chat", "Mark a conversation read").auth().path_params(&["id"]).data::<ConversationView>().errors(&[404]));
    routes.add(M::DELETE, "/messages/{id}", delete,
        Op::new("chat", "Delete my message").auth().path_params(&["id"]).data::<()>().errors(&[403, 404])
            .description("It stays in the conversation as `deleted: true`, without its body or media. Someone else's: 403 `not_sender`."));
}

pub const MESSAGE_SENT: Text = Text::new("message_sent", "Sent.", "تم الإرسال.");
pub const MESSAGE_DELETED: Text = Text::new("message_deleted", "The message is deleted.", "تم حذف الرسالة.");
pub const CONVERSATION_READ: Text = Text::new("conversation_read", "Marked read.", "تم التعليم كمقروء.");
pub const INVALID_BEFORE: Text = Text::new("invalid_before", "must be the id of a message of this conversation", "يجب أن يكون معرّف رسالة في هذه المحادثة");
pub const INVALID_MESSAGES_LIMIT: Text = Text::new("invalid_messages_limit", "must be a whole number from 1 to 100", "يجب أن يكون عدداً صحيحاً من 1 إلى 100");

/// Messages of the context's refusals.
pub const REJECTIONS: &[Text] = &[Text::new("not_sender", "Only its sender may delete a message.", "لا يحذف الرسالة إلا مرسلها.")];

/// Reasons of the context's invalid fields.
pub const REASONS: &[Text] = &[
    Text::new("own_conversation", "a conversation is with someone else", "المحادثة تكون مع شخص آخر"),
    Text::new("invalid_message_type", "must be text, image, video, audio or file", "يجب أن يكون text أو image أو video أو audio أو file"),
    Text::new("invalid_message_body", "must be 1 to 5,000 characters; a text message needs one", "يجب أن يكون من 1 إلى 5000 حرف؛ والرسالة النصية تحتاج إليه"),
    Text::new("invalid_reply_to", "must be a message of this conversation", "يجب أن تكون رسالة في هذه المحادثة"),
    INVALID_BEFORE,
    INVALID_MESSAGES_LIMIT,
];

#[derive(Debug, Deserialize, JsonSchema)]
pub struct OpenRequest {
    #[schemars(example = &"0193b0e4-7c1a-7b55-9a3e-5b2f4c7d8e91")]
    pub user_id: Uuid,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct MessageRequest {
    /// `text`, `image`, `video`, `audio` or `file`.
    #[serde(rename = "type")]
    #[schemars(example = &"text")]
    pub message_type: String,
    #[schemars(example = &"السلام عليكم، متى الجلسة القادمة؟")]
    pub body: Option<String>,
    #[serde(default)]
    pub media_urls: Vec<String>,
    pub reply_to_id: Option<Uuid>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct MessagesQuery {
    /// A message id: the page ends just before it.
    pub before: Option<String>,
    /// 1–100, 20 by default.
    pub limit: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct MessageView {
    pub id: Uuid,
    pub conversation_id: Uuid,
    pub sender: PersonView,
    #[serde(rename = "type")]
    pub message_type: String,
    /// Null once deleted, and once its sender is erased.
    pub body: Option<String>,
    pub media_urls: Vec<String>,
    pub reply_to_id: Option<Uuid>,
    pub deleted: bool,
    pub created_at: DateTime<Utc>,
}

impl From<MessageRow> for MessageView {
    fn from(row: MessageRow) -> Self {
        MessageView {
            id: row.id,
            conversation_id: row.conversation_id,
            sender: row.sender.into(),
            message_type: row.message_type,
            body: row.body,
            media_urls: row.media_urls,
            reply_to_id: row.reply_to_id,
            deleted: row.is_deleted,
            created_at: row.created_at,
        }
    }
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ConversationView {
    pub id: Uuid,
    /// The other participant.
    pub user: PersonView,
    pub last_message: Option<MessageView>,
    /// Messages from the other participant I have not read.
    pub unread_count: u32,
    pub started_at: DateTime<Utc>,
}

impl From<ConversationRow> for ConversationView {
    fn from(row: ConversationRow) -> Self {
        ConversationView {
            id: row.id,
            user: row.other.into(),
            last_message: row.last_message.map(MessageView::from),
            unread_count: row.unread_count,
            started_at: row.started_at,
        }
    }
}

/// The reader's conversation once the read model holds `position`.
async fn shown_conversation(state: &AppState, reader: Uuid, conversation_id: Uuid, position: u64) -> Result<ConversationView, ApiError> {
    state.shown(CHAT, position).await?;
    let row = state.queries.chat.conversation(reader, conversation_id).await?.ok_or(ApiError::NotFound)?;
    Ok(ConversationView::from(row))
}

pub async fn open(state: web::Data<AppState>, user: AuthUser, body: Body) -> Result<Reply, ApiError> {
    let input: OpenRequest = json_body(&body)?;
    let opened = state.commands.chat.open(user.user_id, input.user_id, &user.context()).await?;
    let (conversation_id, position) = settled(&state, opened).await?;
    Ok(Reply::ok(shown_conversation(&state, user.user_id, conversation_id, position).await?).position(Some(position)))
}

pub async fn conversations(state: web::Data<AppState>, user: AuthUser, query: web::Query<PageQuery>) -> Result<Reply, ApiError> {
    let (page, per_page) = query.resolve()?;
    let (total, rows) = state.queries.chat.conversations(user.user_id, page, per_page).await?;
    Ok(Reply::ok(rows.into_iter().map(ConversationView::from).collect::<Vec<_>>()).pagination(Pagination::new(page, per_page, total)))
}

pub async fn messages(state: web::Data<AppState>, user: AuthUser, id: web::Path<String>, query: web::Query<MessagesQuery>) -> Result<Reply, ApiError> {
    let conversation_id = parse_id(&id)?;
    let (before, limit) = page_of_messages(query.before.as_deref(), query.limit.as_deref(), &INVALID_BEFORE)?;
    if !state.queries.chat.is_participant(user.user_id, conversation_id).await? {
        return Err(ApiError::NotFound);
    }
    let rows = state.queries.chat.messages(conversation_id, before, limit).await?.ok_or(ApiError::field("before", &INVALID_BEFORE))?;
    let count = rows.len() as u64;
    Ok(Reply::ok(rows.into_iter().map(MessageView::from).collect::<Vec<_>>()).pagination(Pagination::whole(count)))
}

/// Where a page of messages ends (`before`, a message id, refused with `invalid_before`) and how
/// many it holds (`limit`).
pub fn page_of_messages(before: Option<&str>, limit: Option<&str>, invalid_before: &'static Text) -> Result<(Before, u64), ApiError> {
    let before = match before {
        None => Before::Newest,
        Some(text) => Before::Message(Uuid::parse_str(text.trim()).map_err(|_| ApiError::field("before", invalid_before))?),
    };
    let limit = match limit {
        None => MESSAGES_LIMIT_DEFAULT,
        Some(text) => text.parse::<u64>().ok().filter(|limit| (1..=MESSAGES_LIMIT_MAX).contains(limit)).ok_or(ApiError::field("limit", &INVALID_MESSAGES_LIMIT))?,
    };
    Ok((before, limit))
}

pub async fn send(state: web::Data<AppState>, user: AuthUser, id: web::Path<String>, body: Body) -> Result<Reply, ApiError> {
    let conversation_id = parse_id(&id)?;
    let input: MessageRequest = json_body(&body)?;
    let mut fields = Fields::default();
    let message_type = fields.check(MessageType::parse(&input.message_type));
    let text = fields.optional("body", input.body.as_deref().map(MessageBody::parse)).flatten();
    let media_urls = fields.check(chat::media_urls(&input.media_urls));
    fields.done()?;
    let (Some(message_type), Some(media_urls)) = (message_type, media_urls) else { return Err(ApiError::internal("checked fields missing")) };
    let message = NewMessage { message_type, body: text, media_urls, reply_to_id: input.reply_to_id };
    let sent = state.commands.chat.send(user.user_id, conversation_id, message, &user.context()).await?;
    let (message_id, position) = appended(sent)?;
    state.shown(CHAT, position).await?;
    let row = state.queries.chat.message(message_id).await?.ok_or(ApiError::NotFound)?;
    Ok(Reply::created(&MESSAGE_SENT, MessageView::from(row)).position(Some(position)))
}

pub async fn read(state: web::Data<AppState>, user: AuthUser, id: web::Path<String>) -> Result<Reply, ApiError> {
    let conversation_id = parse_id(&id)?;
    let marked = state.commands.chat.read(user.user_id, conversation_id, &user.context()).await?;
    let (_, position) = settled(&state, marked).await?;
    Ok(Reply::ok(shown_conversation(&state, user.user_id, conversation_id, position).await?).message(&CONVERSATION_READ).position(Some(position)))
}

pub async fn delete(state: web::Data<AppState>, user: AuthUser, id: web::Path<String>) -> Result<Reply, ApiError> {
    let message_id = parse_id(&id)?;
    let conversation_id = state.queries.chat.conversation_of_message(user.user_id, message_id).await?.ok_or(ApiError::NotFound)?;
    let deleted = state.commands.chat.delete(user.user_id, conversation_id, message_id, &user.context()).await?;
    let (_, position) = settled(&state, deleted).await?;
    Ok(Reply::ok(()).message(&MESSAGE_DELETED).position(Some(position)))
}
