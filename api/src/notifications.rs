//! Notifications over HTTP: the caller's own, newest first, written in the request's language;
//! the unread count; marking one or all read (each an event of the caller's inbox).

use actix_web::http::Method;
use actix_web::web;
use chrono::{DateTime, Utc};
use domain::notifications::NotificationType;
use projections::notifications::NotificationsProjector;
use projections::notifications::queries::NotificationRow;
use projections::social::SocialProjector;
use projections::users::UsersProjector;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::catalogue::parse_id;
use crate::envelope::{Pagination, Reply};
use crate::error::ApiError;
use crate::extract::{PageQuery, flag};
use crate::i18n::Text;
use crate::idempotency::settled;
use crate::openapi::{Op, Routes};
use crate::social::PersonView;
use crate::startup::AppState;

/// Notifications are read with their actors' `users` and `profiles` rows.
const NOTIFICATIONS: &[&str] = &[UsersProjector::NAME, SocialProjector::NAME, NotificationsProjector::NAME];

pub fn routes(routes: &mut Routes) {
    use Method as M;
    routes.add(M::GET, "/notifications", list,
        Op::new("notifications", "My notifications, newest first").auth().reads(NOTIFICATIONS).query::<NotificationsQuery>()
            .data::<Vec<NotificationView>>().errors(&[422])
            .description("`message` is written in the request's language. `unread_only=true` leaves out what I read."));
    routes.add(M::GET, "/notifications/unread-count", unread_count,
        Op::new("notifications", "How many notifications I have not read").auth().reads(NOTIFICATIONS).data::<CountView>());
    routes.add(M::POST, "/notifications/{id}/read", read,
        Op::new("notifications", "Mark a notification read").auth().path_params(&["id"]).data::<NotificationView>().errors(&[404]));
    routes.add(M::POST, "/notifications/read-all", read_all,
        Op::new("notifications", "Mark every notification so far read").auth().data::<CountView>());
}

pub const MARKED_READ: Text = Text::new("marked_read", "Marked read.", "تم التعليم كمقروء.");

/// What each notification says, `{name}` being the actor's.
const MESSAGES: &[Text] = &[
    Text::new("new_follower", "{name} started following you.", "بدأ {name} بمتابعتك."),
    Text::new("follow_request", "{name} asked to follow you.", "طلب {name} متابعتك."),
    Text::new("follow_accepted", "{name} accepted your follow request.", "قبل {name} طلب متابعتك."),
    Text::new("post_comment", "{name} commented on your post.", "علّق {name} على منشورك."),
    Text::new("comment_reply", "{name} replied to your comment.", "ردّ {name} على تعليقك."),
    Text::new("post_reaction", "{name} reacted to your post.", "تفاعل {name} مع منشورك."),
    Text::new("gift_received", "{name} sent you a gift.", "أرسل إليك {name} هدية."),
    Text::new("new_message", "{name} sent you a message.", "أرسل إليك {name} رسالة."),
    Text::new("purchase_completed", "Your purchase is complete.", "تمت عملية الشراء."),
    Text::new("course_enrollment", "{name} enrolled in your course.", "سجّل {name} في دورتك."),
    Text::new("room_starting", "A live room you registered for starts in 15 minutes.", "تبدأ غرفة مباشرة سجّلت فيها بعد 15 دقيقة."),
    Text::new("room_cancelled", "A live room you registered for was cancelled.", "أُلغيت غرفة مباشرة سجّلت فيها."),
    Text::new("booking_created", "{name} booked a consultation with you.", "حجز {name} استشارة معك."),
    Text::new("withdrawal_approved", "Your withdrawal was approved.", "تمت الموافقة على طلب السحب."),
    Text::new("withdrawal_rejected", "Your withdrawal was rejected.", "تم رفض طلب السحب."),
];

#[derive(Debug, Deserialize, JsonSchema)]
pub struct NotificationsQuery {
    /// `true` for the unread ones only.
    pub unread_only: Option<String>,
    pub page: Option<String>,
    pub per_page: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct SubjectView {
    /// `user`, `post`, `comment`, `gift`, `conversation`, `order`, `course`, `room`, `booking`
    /// or `withdrawal`.
    #[serde(rename = "type")]
    pub subject_type: String,
    pub id: Uuid,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct NotificationView {
    pub id: Uuid,
    /// `new_follower`, `follow_request`, `follow_accepted`, `post_comment`, `comment_reply`,
    /// `post_reaction`, `gift_received`, `new_message`, `purchase_completed`, `course_enrollment`,
    /// `room_starting`, `room_cancelled`, `booking_created`, `withdrawal_approved` or
    /// `withdrawal_rejected`.
    #[serde(rename = "type")]
    #[schemars(example = &"new_follower")]
    pub notification_type: String,
    pub actor: Option<PersonView>,
    pub subject: SubjectView,
    pub message: String,
    pub read_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl From<NotificationRow> for NotificationView {
    fn from(row: NotificationRow) -> Self {
        let name = row.actor.as_ref().map_or(domain::kernel::DELETED_USER_NAME, |actor| actor.name.as_str());
        let template = NotificationType::parse(&row.notification_type)
            .and_then(|kind| MESSAGES.iter().find(|text| text.code == kind.as_str()))
            .map_or("", |text| text.current());
        NotificationView {
            id: row.id,
            message: template.replace("{name}", name),
            notification_type: row.notification_type,
            actor: row.actor.map(PersonView::from),
            subject: SubjectView { subject_type: row.subject_type, id: row.subject_id },
            read_at: row.read_at,
            created_at: row.created_at,
        }
    }
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct CountView {
    pub count: u64,
}

pub async fn list(state: web::Data<AppState>, user: AuthUser, query: web::Query<NotificationsQuery>) -> Result<Reply, ApiError> {
    let (page, per_page) = PageQuery { page: query.page.clone(), per_page: query.per_page.clone() }.resolve()?;
    let unread_only = flag("unread_only", query.unread_only.as_deref())?;
    let (total, rows) = state.queries.notifications.notifications(user.user_id, unread_only, page, per_page).await?;
    Ok(Reply::ok(rows.into_iter().map(NotificationView::from).collect::<Vec<_>>()).pagination(Pagination::new(page, per_page, total)))
}

pub async fn unread_count(state: web::Data<AppState>, user: AuthUser) -> Result<Reply, ApiError> {
    Ok(Reply::ok(CountView { count: state.queries.notifications.unread_count(user.user_id).await? }))
}

pub async fn read(state: web::Data<AppState>, user: AuthUser, id: web::Path<String>) -> Result<Reply, ApiError> {
    let notification_id = parse_id(&id)?;
    state.queries.notifications.notification(user.user_id, notification_id).await?.ok_or(ApiError::NotFound)?;
    let (_, position) = settled(&state, state.commands.notifications.read(user.user_id, notification_id, &user.context()).await?).await?;
    state.shown(NOTIFICATIONS, position).await?;
    let row = state.queries.notifications.notification(user.user_id, notification_id).await?.ok_or(ApiError::NotFound)?;
    Ok(Reply::ok(NotificationView::from(row)).message(&MARKED_READ).position(Some(position)))
}

pub async fn read_all(state: web::Data<AppState>, user: AuthUser) -> Result<Reply, ApiError> {
    let (_, position) = settled(&state, state.commands.notifications.read_all(user.user_id, &user.context()).await?).await?;
    state.shown(NOTIFICATIONS, position).await?;
    Ok(Reply::ok(CountView { count: state.queries.notifications.unread_count(user.user_id).await? }).message(&MARKED_READ).position(Some(position)))
}
