//! The social side over HTTP: profiles, follows and requests, posts, comments, reactions,
//! shares, reports and the home feed. Reads go through the social read model's one visibility
//! predicate; commands ask the domain's rule, so what a caller may not see is 404 either way.

mod views;

use std::collections::HashMap;

use actix_web::http::Method;
use actix_web::web;
use commands::social::{NewPost, ProfileUpdate};
use domain::social::comment::CommentBody;
use domain::social::post::{self, PostContent, PostType, ReportAction, ReportReason};
use domain::social::profile::ProfileChange;
use domain::social::visibility;
use domain::social::{Reaction, SocialError};
use domain::users::{Language, Role, Timezone};
use projections::rooms::ConsultationsProjector;
use projections::social::SocialProjector;
use projections::social::queries::PostRow;
use projections::users::UsersProjector;
use schemars::JsonSchema;
use serde::Deserialize;
use uuid::Uuid;

use crate::auth::{AuthUser, Viewer};
use crate::catalogue::parse_id;
use crate::envelope::{Pagination, Reply};
use crate::error::ApiError;
use crate::extract::{Body, Fields, PageQuery, json_body, present};
use crate::i18n::Text;
use crate::idempotency::{appended, settled};
use crate::openapi::{Op, Routes};
use crate::startup::AppState;

pub use views::{BlockView, CommentView, FollowRequestView, FollowView, PersonView, PostView, ProfileView, ReactionView, ReportView};

/// Posts and comments are read with their authors' `users` rows.
const SOCIAL: &[&str] = &[UsersProjector::NAME, SocialProjector::NAME];
/// A profile joins the user's registration, their time zone and what they wrote.
const PROFILES: &[&str] = &[UsersProjector::NAME, SocialProjector::NAME, ConsultationsProjector::NAME];
/// The feed's page size when the client names none, and its most.
const FEED_LIMIT_DEFAULT: u64 = 20;
const FEED_LIMIT_MAX: u64 = 50;

pub fn routes(routes: &mut Routes) {
    use Method as M;
    routes.add(M::GET, "/users/{username}", profile,
        Op::new("social", "A user's profile").token_optional().reads(PROFILES).path_params(&["username"]).data::<ProfileView>().errors(&[404])
            .description("A private profile's fields and counts are public; its posts are not. With a token, `follow_status` says where \
                          the caller stands."));
    routes.add(M::PATCH, "/me/profile", update_profile,
        Op::new("social", "Change my profile").auth().body::<ProfileRequest>().data::<ProfileView>().errors(&[422])
            .description("Any of the fields; `null` clears one. URLs are http(s), `social_links` https. Turning the profile public \
                          accepts every waiting follow request; turning it private keeps the followers."));
    routes.add(M::PUT, "/me/interests", set_interests,
        Op::new("social", "Set the categories I care about").auth().body::<InterestsRequest>().data::<ProfileView>().errors(&[404, 422])
            .description("Replaces them all; an unknown category is 404."));
    routes.add(M::POST, "/users/{username}/follow", follow,
        Op::new("social", "Follow a user").auth().path_params(&["username"]).data::<FollowView>().errors(&[403, 404, 422])
            .description("`following` at once for a public profile, `requested` for a private one; again: the current status. Yourself: 422. \
                          Someone who blocked you: 403 `blocked`."));
    routes.add(M::POST, "/users/{username}/block", block,
        Op::new("social", "Block a user").auth().path_params(&["username"]).data::<BlockView>().errors(&[404, 422])
            .description("They can no longer follow, message or gift you (403 `blocked`), and follows and follow requests between you \
                          end, both ways. Again: 200, nothing changes. Yourself: 422."));
    routes.add(M::DELETE, "/users/{username}/block", unblock,
        Op::new("social", "Unblock a user").auth().path_params(&["username"]).data::<BlockView>().errors(&[404])
            .description("Follows ended by the block stay ended."));
    routes.add(M::DELETE, "/users/{username}/follow", unfollow,
        Op::new("social", "Unfollow a user, or withdraw the request").auth().path_params(&["username"]).data::<FollowView>().errors(&[404]));
    routes.add(M::GET, "/users/{username}/followers", followers,
        Op::new("social", "A user's followers, newest first").token_optional().reads(SOCIAL).path_params(&["username"]).query::<PageQuery>()
            .data::<Vec<PersonView>>().errors(&[404, 422]));
    routes.add(M::GET, "/users/{username}/following", following,
        Op::new("social", "Who a user follows, newest first").token_optional().reads(SOCIAL).path_params(&["username"]).query::<PageQuery>()
            .data::<Vec<PersonView>>().errors(&[404, 422]));
    routes.add(M::GET, "/me/follow-requests", follow_requests,
        Op::new("social", "Requests to follow me").auth().reads(SOCIAL).query::<PageQuery>().data::<Vec<FollowRequestView>>().errors(&[422]));
    routes.add(M::POST, "/me/follow-requests/{id}/accept", accept_request,
        Op::new("social", "Accept a follow request").auth().path_params(&["id"]).data::<()>().errors(&[404]));
    routes.add(M::POST, "/me/follow-requests/{id}/reject", reject_request,
        Op::new("social", "Reject a follow request").auth().path_params(&["id"]).data::<()>().errors(&[404])
            .description("The requester may ask again."));

    routes.add(M::POST, "/posts", create_post,
        Op::new("social", "Post").auth().body::<PostRequest>().data::<PostView>().created().errors(&[422]));
    routes.add(M::GET, "/posts/{id}", post,
        Op::new("social", "A post").token_optional().reads(SOCIAL).path_params(&["id"]).data::<PostView>().errors(&[404])
            .description("A private profile's posts are for the author, accepted followers and admins; a hidden one for the author and \
                          admins. Anyone else: 404."));
    routes.add(M::PATCH, "/posts/{id}", edit_post,
        Op::new("social", "Edit my post").auth().path_params(&["id"]).body::<PostEditRequest>().data::<PostView>().errors(&[403, 404, 422]));
    routes.add(M::DELETE, "/posts/{id}", delete_post,
        Op::new("social", "Delete a post (its author or an admin)").auth().path_params(&["id"]).data::<()>().errors(&[403, 404]));
    routes.add(M::GET, "/users/{username}/posts", user_posts,
        Op::new("social", "A user's posts, newest first").token_optional().reads(SOCIAL).path_params(&["username"]).query::<PageQuery>()
            .data::<Vec<PostView>>().errors(&[404, 422]));
    routes.add(M::GET, "/feed", feed,
        Op::new("social", "My home feed").auth().reads(SOCIAL).query::<FeedQuery>().data::<Vec<PostView>>().errors(&[422])
            .description("My posts and those of everyone I follow, newest first. `meta.next_cursor` asks for the next page (absent at the \
                          end); posts made meanwhile never shift a page. `limit` 1–50, 20 by default."));
    routes.add(M::POST, "/posts/{id}/shares", share,
        Op::new("social", "Share a post").auth().path_params(&["id"]).body::<ShareRequest>().data::<PostView>().created().errors(&[404, 422])
            .description("A post of type `share` whose `shared_post` is the original (a share of a share shares its original)."));
    routes.add(M::PUT, "/posts/{id}/reaction", react_to_post,
        Op::new("social", "React to a post").auth().path_params(&["id"]).body::<ReactionRequest>().data::<ReactionView>().errors(&[404, 422])
            .description("One per user: another type replaces it."));
    routes.add(M::DELETE, "/posts/{id}/reaction", unreact_to_post,
        Op::new("social", "Remove my reaction to a post").auth().path_params(&["id"]).data::<ReactionView>().errors(&[404]));
    routes.add(M::POST, "/posts/{id}/comments", comment,
        Op::new("social", "Comment, or reply to a comment").auth().path_params(&["id"]).body::<CommentRequest>().data::<CommentView>()
            .created().errors(&[404, 422]).description("`parent_id` names a top-level comment of the post; a reply to a reply: 422."));
    routes.add(M::GET, "/posts/{id}/comments", comments,
        Op::new("social", "A post's comments, oldest first").token_optional().reads(SOCIAL).path_params(&["id"]).query::<CommentsQuery>()
            .data::<Vec<CommentView>>().errors(&[404, 422])
            .description("Top-level comments, or the replies to `parent_id`. Deleted ones stay with `deleted: true` and `body: null`."));
    routes.add(M::DELETE, "/comments/{id}", delete_comment,
        Op::new("social", "Delete a comment").auth().path_params(&["id"]).data::<()>().errors(&[403, 404])
            .description("Its author, the post's author or an admin."));
    routes.add(M::PUT, "/comments/{id}/reaction", react_to_comment,
        Op::new("social", "React to a comment").auth().path_params(&["id"]).body::<ReactionRequest>().data::<ReactionView>()
            .errors(&[404, 409, 422]));
    routes.add(M::DELETE, "/comments/{id}/reaction", unreact_to_comment,
        Op::new("social", "Remove my reaction to a comment").auth().path_params(&["id"]).data::<ReactionView>().errors(&[404]));
    routes.add(M::POST, "/posts/{id}/reports", report,
        Op::new("social", "Report a post").auth().path_params(&["id"]).body::<ReportRequest>().data::<ReportView>().created()
            .errors(&[404, 409, 422]).description("Once per user per post: again, 409 `already_reported`."));
    routes.add(M::GET, "/admin/reports", reports,
        Op::new("social", "The moderation queue (admin)").auth().reads(SOCIAL).query::<ReportsQuery>().data::<Vec<ReportView>>()
            .errors(&[403, 422]).description("`status` is `open` (the default) or `resolved`; oldest first."));
    routes.add(M::POST, "/admin/reports/{id}/resolve", resolve_report,
        Op::new("social", "Resolve a report (admin)").auth().path_params(&["id"]).body::<ResolveRequest>().data::<ReportView>()
            .errors(&[403, 404, 409, 422])
            .description("`hide_post` hides the post from everyone but its author and admins, and from every feed; `dismiss` leaves it."));
}

pub const PROFILE_UPDATED: Text = Text::new("profile_updated", "Your profile is updated.", "تم تحديث ملفك الشخصي.");
pub const FOLLOW_UPDATED: Text = Text::new("follow_updated", "Done.", "تم.");
pub const POSTED: Text = Text::new("posted", "Posted.", "تم النشر.");
pub const POST_UPDATED: Text = Text::new("post_updated", "The post is updated.", "تم تحديث المنشور.");
pub const DELETED: Text = Text::new("deleted", "Deleted.", "تم الحذف.");
pub const COMMENTED: Text = Text::new("commented", "Your comment is posted.", "تم نشر تعليقك.");
pub const REACTED: Text = Text::new("reacted", "Your reaction is saved.", "تم حفظ تفاعلك.");
pub const REPORTED: Text = Text::new("reported", "Thank you: the report is with our moderators.", "شكراً لك: البلاغ لدى فريق الإشراف.");
pub const REPORT_RESOLVED: Text = Text::new("report_resolved", "The report is resolved.", "تمت معالجة البلاغ.");
pub const INVALID_CURSOR: Text = Text::new("invalid_cursor", "must be a cursor from a previous page", "يجب أن يكون مؤشراً من صفحة سابقة");
pub const INVALID_LIMIT: Text = Text::new("invalid_limit", "must be a whole number from 1 to 50", "يجب أن يكون عدداً صحيحاً من 1 إلى 50");
pub const INVALID_REPORT_STATUS: Text = Text::new("invalid_report_status", "must be open or resolved", "يجب أن تكون open أو resolved");

/// Messages of the context's conflicts (`not_author`, `already_exists`, `invalid_state` are shared).
pub const REJECTIONS: &[Text] = &[
    Text::new("comment_deleted", "This comment is deleted.", "هذا التعليق محذوف."),
    Text::new("already_reported", "You already reported this post.", "لقد أبلغت عن هذا المنشور مسبقاً."),
    Text::new("already_resolved", "This report is already resolved.", "تمت معالجة هذا البلاغ مسبقاً."),
    Text::new("blocked", "This user has blocked you.", "قام هذا المستخدم بحظرك."),
];

/// Reasons of the context's invalid fields.
pub const REASONS: &[Text] = &[
    Text::new("invalid_timezone", "must be an IANA time zone name such as Asia/Riyadh", "يجب أن يكون اسم منطقة زمنية من IANA مثل Asia/Riyadh"),
    Text::new("invalid_headline", "must be 1 to 150 characters on one line", "يجب أن يكون من 1 إلى 150 حرفاً في سطر واحد"),
    Text::new("invalid_bio", "must be 1 to 2,000 characters", "يجب أن تكون من 1 إلى 2000 حرف"),
    Text::new("invalid_location", "must be 1 to 100 characters on one line", "يجب أن يكون من 1 إلى 100 حرف في سطر واحد"),
    Text::new("invalid_social_links", "must map up to 10 names (a-z, 0-9, _) to https URLs", "يجب أن تربط حتى 10 أسماء (a-z و0-9 و_) بروابط https"),
    Text::new("invalid_avatar_url", "must be an http or https URL", "يجب أن يكون رابط http أو https"),
    Text::new("invalid_cover_url", "must be an http or https URL", "يجب أن يكون رابط http أو https"),
    Text::new("invalid_expertise", "must be up to 20 tags of 1 to 50 characters", "يجب أن تكون حتى 20 وسماً من 1 إلى 50 حرفاً"),
    Text::new("invalid_interests", "must be up to 50 category ids", "يجب أن تكون حتى 50 معرّف تصنيف"),
    Text::new("cannot_follow_self", "you cannot follow yourself", "لا يمكنك متابعة نفسك"),
    Text::new("cannot_block_self", "you cannot block yourself", "لا يمكنك حظر نفسك"),
    Text::new("invalid_post_type", "must be text, image, video or audio", "يجب أن يكون text أو image أو video أو audio"),
    Text::new("invalid_content", "must be 1 to 5,000 characters", "يجب أن يكون من 1 إلى 5000 حرف"),
    Text::new("invalid_media_urls", "must be up to 10 http or https URLs", "يجب أن تكون حتى 10 روابط http أو https"),
    Text::new("invalid_reaction", "must be like, love, haha, wow, sad or angry", "يجب أن يكون like أو love أو haha أو wow أو sad أو angry"),
    Text::new("invalid_body", "must be 1 to 2,000 characters", "يجب أن يكون من 1 إلى 2000 حرف"),
    Text::new("invalid_parent", "must be a top-level comment of the same post", "يجب أن يكون تعليقاً رئيسياً على المنشور نفسه"),
    Text::new("invalid_report_reason", "must be spam, harassment, hate_speech, violence, misinformation or other", "يجب أن يكون spam أو harassment أو hate_speech أو violence أو misinformation أو other"),
    Text::new("invalid_details", "must be 1 to 1,000 characters", "يجب أن تكون من 1 إلى 1000 حرف"),
    Text::new("invalid_action", "must be hide_post or dismiss", "يجب أن يكون hide_post أو dismiss"),
    INVALID_CURSOR,
    INVALID_LIMIT,
    INVALID_REPORT_STATUS,
];

/// The domain's view of who is asking.
fn seen_by(viewer: &Viewer) -> visibility::Viewer {
    match &viewer.0 {
        Some(user) => as_viewer(user),
        None => visibility::Viewer::Anonymous,
    }
}

fn as_viewer(user: &AuthUser) -> visibility::Viewer {
    visibility::Viewer::User { id: user.user_id, is_admin: user.has(Role::Admin) }
}

async fn user_named(state: &AppState, username: &str) -> Result<Uuid, ApiError> {
    state.queries.users.id_of_username(&username.trim().to_ascii_lowercase()).await?.ok_or(ApiError::NotFound)
}

// ---- profiles and follows ----

#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct ProfileRequest {
    #[serde(default, deserialize_with = "present")]
    #[schemars(example = &"Quran teacher, Riyadh")]
    pub headline: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub bio: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub location: Option<Option<String>>,
    /// `ar` or `en`.
    pub language: Option<String>,
    /// An IANA time zone name.
    #[schemars(example = &"Asia/Riyadh")]
    pub timezone: Option<String>,
    /// A name to an https URL; replaces them all.
    pub social_links: Option<std::collections::BTreeMap<String, String>>,
    #[serde(default, deserialize_with = "present")]
    pub avatar_url: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub cover_url: Option<Option<String>>,
    pub is_private: Option<bool>,
    pub expertise: Option<Vec<String>>,
}

async fn shown_profile(state: &AppState, viewer: Option<Uuid>, user_id: Uuid) -> Result<ProfileView, ApiError> {
    let (row, relation) = state.queries.social.profile(viewer, user_id).await?.ok_or(ApiError::NotFound)?;
    let rating = state.queries.rooms.consultation_rating(user_id).await?;
    Ok(ProfileView::of(row, relation, rating))
}

pub async fn profile(state: web::Data<AppState>, viewer: Viewer, username: web::Path<String>) -> Result<Reply, ApiError> {
    let user_id = user_named(&state, &username).await?;
    Ok(Reply::ok(shown_profile(&state, viewer.user_id(), user_id).await?))
}

pub async fn update_profile(state: web::Data<AppState>, user: AuthUser, body: Body) -> Result<Reply, ApiError> {
    let input: ProfileRequest = json_body(&body)?;
    let mut fields = Fields::default();
    let language = fields.optional("language", input.language.as_deref().map(Language::parse)).flatten();
    let timezone = fields.optional("timezone", input.timezone.as_deref().map(Timezone::parse)).flatten();
    let profile = ProfileChange {
        headline: input.headline,
        bio: input.bio,
        location: input.location,
        social_links: input.social_links,
        avatar_url: input.avatar_url,
        cover_url: input.cover_url,
        expertise: input.expertise,
        is_private: input.is_private,
    };
    for problem in profile.problems() {
        fields.check::<(), _>(Err(problem));
    }
    fields.done()?;
    let updated = state.commands.social.update_profile(user.user_id, ProfileUpdate { profile, language, timezone }, &user.context()).await?;
    profile_changed(&state, &user, updated).await
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct InterestsRequest {
    #[schemars(example = &["0193b0e4-7c1a-7b55-9a3e-5b2f4c7d8e90"])]
    pub category_ids: Vec<Uuid>,
}

pub async fn set_interests(state: web::Data<AppState>, user: AuthUser, body: Body) -> Result<Reply, ApiError> {
    let input: InterestsRequest = json_body(&body)?;
    let set = state.commands.social.set_interests(user.user_id, input.category_ids, &user.context()).await?;
    profile_changed(&state, &user, set).await
}

/// The caller's profile once the read models show the change.
async fn profile_changed(state: &AppState, user: &AuthUser, changed: commands::Transacted<()>) -> Result<Reply, ApiError> {
    let ((), position) = settled(state, changed).await?;
    state.shown(PROFILES, position).await?;
    Ok(Reply::ok(shown_profile(state, Some(user.user_id), user.user_id).await?).message(&PROFILE_UPDATED).position(Some(position)))
}

pub async fn follow(state: web::Data<AppState>, user: AuthUser, username: web::Path<String>) -> Result<Reply, ApiError> {
    let followee = user_named(&state, &username).await?;
    let followed = state.commands.social.follow(user.user_id, followee, &user.context()).await?;
    follow_answer(&state, followed).await
}

pub async fn unfollow(state: web::Data<AppState>, user: AuthUser, username: web::Path<String>) -> Result<Reply, ApiError> {
    let followee = user_named(&state, &username).await?;
    let unfollowed = state.commands.social.unfollow(user.user_id, followee, &user.context()).await?;
    follow_answer(&state, unfollowed).await
}

pub async fn block(state: web::Data<AppState>, user: AuthUser, username: web::Path<String>) -> Result<Reply, ApiError> {
    let blocked = user_named(&state, &username).await?;
    let ((), position) = settled(&state, state.commands.social.block(user.user_id, blocked, &user.context()).await?).await?;
    Ok(Reply::ok(BlockView { blocked: true }).message(&FOLLOW_UPDATED).position(Some(position)))
}

pub async fn unblock(state: web::Data<AppState>, user: AuthUser, username: web::Path<String>) -> Result<Reply, ApiError> {
    let blocked = user_named(&state, &username).await?;
    let ((), position) = settled(&state, state.commands.social.unblock(user.user_id, blocked, &user.context()).await?).await?;
    Ok(Reply::ok(BlockView { blocked: false }).message(&FOLLOW_UPDATED).position(Some(position)))
}

/// Where the follower stands now.
async fn follow_answer(state: &AppState, outcome: commands::Transacted<domain::social::follow::FollowStatus>) -> Result<Reply, ApiError> {
    let (status, position) = settled(state, outcome).await?;
    Ok(Reply::ok(FollowView { follow_status: status.as_str() }).message(&FOLLOW_UPDATED).position(Some(position)))
}

pub async fn followers(state: web::Data<AppState>, username: web::Path<String>, query: web::Query<PageQuery>) -> Result<Reply, ApiError> {
    people(&state, &username, &query, true).await
}

pub async fn following(state: web::Data<AppState>, username: web::Path<String>, query: web::Query<PageQuery>) -> Result<Reply, ApiError> {
    people(&state, &username, &query, false).await
}

async fn people(state: &AppState, username: &str, query: &PageQuery, followers: bool) -> Result<Reply, ApiError> {
    let (page, per_page) = query.resolve()?;
    let user_id = user_named(state, username).await?;
    let (total, rows) = state.queries.social.follows(user_id, followers, page, per_page).await?;
    Ok(Reply::ok(rows.into_iter().map(PersonView::from).collect::<Vec<_>>()).pagination(Pagination::new(page, per_page, total)))
}

pub async fn follow_requests(state: web::Data<AppState>, user: AuthUser, query: web::Query<PageQuery>) -> Result<Reply, ApiError> {
    let (page, per_page) = query.resolve()?;
    let (total, rows) = state.queries.social.follow_requests(user.user_id, page, per_page).await?;
    Ok(Reply::ok(rows.into_iter().map(FollowRequestView::from).collect::<Vec<_>>()).pagination(Pagination::new(page, per_page, total)))
}

pub async fn accept_request(state: web::Data<AppState>, user: AuthUser, id: web::Path<String>) -> Result<Reply, ApiError> {
    answer_request(&state, &user, &id, true).await
}

pub async fn reject_request(state: web::Data<AppState>, user: AuthUser, id: web::Path<String>) -> Result<Reply, ApiError> {
    answer_request(&state, &user, &id, false).await
}

async fn answer_request(state: &AppState, user: &AuthUser, id: &str, accept: bool) -> Result<Reply, ApiError> {
    let answered = state.commands.social.answer_request(user.user_id, parse_id(id)?, accept, &user.context()).await?;
    let (_, position) = appended(answered)?;
    Ok(Reply::ok(()).message(&FOLLOW_UPDATED).position(Some(position)))
}

// ---- posts ----

#[derive(Debug, Deserialize, JsonSchema)]
pub struct PostRequest {
    /// `text`, `image`, `video` or `audio`.
    #[serde(rename = "type")]
    #[schemars(example = &"text")]
    pub post_type: String,
    #[schemars(example = &"Today's lesson: the rules of madd.")]
    pub content: String,
    pub media_urls: Option<Vec<String>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct PostEditRequest {
    #[schemars(example = &"Today's lesson, corrected: the rules of madd.")]
    pub content: Option<String>,
    pub media_urls: Option<Vec<String>>,
}

/// Posts as the viewer sees them: each share with its original when the viewer may see it.
async fn post_views(state: &AppState, viewer: visibility::Viewer, rows: Vec<PostRow>) -> Result<Vec<PostView>, ApiError> {
    let shared: Vec<Uuid> = rows.iter().filter_map(|row| row.shared_post_id).collect();
    let originals: HashMap<Uuid, PostRow> = state.queries.social.posts_by_id(viewer, &shared).await?.into_iter().map(|row| (row.id, row)).collect();
    Ok(rows.into_iter().map(|row| PostView::of(row, &originals)).collect())
}

async fn shown_post(state: &AppState, viewer: visibility::Viewer, post_id: Uuid) -> Result<PostView, ApiError> {
    let row = state.queries.social.post(viewer, post_id).await?.ok_or(ApiError::NotFound)?;
    post_views(state, viewer, vec![row]).await?.pop().ok_or(ApiError::NotFound)
}

pub async fn create_post(state: web::Data<AppState>, user: AuthUser, body: Body) -> Result<Reply, ApiError> {
    let input: PostRequest = json_body(&body)?;
    let mut fields = Fields::default();
    let post_type = fields.check(PostType::parse(&input.post_type));
    let content = fields.check(PostContent::parse(&input.content));
    let media_urls = fields.check(post::media_urls(input.media_urls.as_deref().unwrap_or_default()));
    fields.done()?;
    let (Some(post_type), Some(content), Some(media_urls)) = (post_type, content, media_urls) else {
        return Err(ApiError::internal("checked fields missing"));
    };
    let created = state.commands.social.create_post(user.user_id, NewPost { post_type, content, media_urls }, &user.context()).await?;
    let (post_id, position) = appended(created)?;
    state.shown(SOCIAL, position).await?;
    Ok(Reply::created(&POSTED, shown_post(&state, as_viewer(&user), post_id).await?).position(Some(position)))
}

pub async fn post(state: web::Data<AppState>, viewer: Viewer, id: web::Path<String>) -> Result<Reply, ApiError> {
    Ok(Reply::ok(shown_post(&state, seen_by(&viewer), parse_id(&id)?).await?))
}

pub async fn edit_post(state: web::Data<AppState>, user: AuthUser, id: web::Path<String>, body: Body) -> Result<Reply, ApiError> {
    let post_id = parse_id(&id)?;
    let input: PostEditRequest = json_body(&body)?;
    let mut fields = Fields::default();
    let content = fields.optional("content", input.content.as_deref().map(PostContent::parse)).flatten();
    let media_urls = fields.optional("media_urls", input.media_urls.as_deref().map(post::media_urls)).flatten();
    fields.done()?;
    let edited = state.commands.social.edit_post(as_viewer(&user), post_id, content, media_urls, &user.context()).await?;
    let (_, position) = appended(edited)?;
    state.shown(SOCIAL, position).await?;
    Ok(Reply::ok(shown_post(&state, as_viewer(&user), post_id).await?).message(&POST_UPDATED).position(Some(position)))
}

pub async fn delete_post(state: web::Data<AppState>, user: AuthUser, id: web::Path<String>) -> Result<Reply, ApiError> {
    let deleted = state.commands.social.delete_post(as_viewer(&user), parse_id(&id)?, &user.context()).await?;
    let (_, position) = appended(deleted)?;
    Ok(Reply::ok(()).message(&DELETED).position(Some(position)))
}

pub async fn user_posts(state: web::Data<AppState>, viewer: Viewer, username: web::Path<String>, query: web::Query<PageQuery>) -> Result<Reply, ApiError> {
    let (page, per_page) = query.resolve()?;
    let author = user_named(&state, &username).await?;
    let (total, rows) = state.queries.social.user_posts(seen_by(&viewer), author, page, per_page).await?;
    Ok(Reply::ok(post_views(&state, seen_by(&viewer), rows).await?).pagination(Pagination::new(page, per_page, total)))
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct FeedQuery {
    /// `meta.next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// 1–50, 20 by default.
    pub limit: Option<String>,
}

pub async fn feed(state: web::Data<AppState>, user: AuthUser, query: web::Query<FeedQuery>) -> Result<Reply, ApiError> {
    let cursor = match query.cursor.as_deref() {
        None => None,
        Some(text) => Some(text.parse::<u64>().map_err(|_| ApiError::field("cursor", &INVALID_CURSOR))?),
    };
    let limit = match query.limit.as_deref() {
        None => FEED_LIMIT_DEFAULT,
        Some(text) => text.parse::<u64>().ok().filter(|limit| (1..=FEED_LIMIT_MAX).contains(limit)).ok_or(ApiError::field("limit", &INVALID_LIMIT))?,
    };
    let page = state.queries.social.feed(user.user_id, user.has(Role::Admin), cursor, limit).await?;
    let posts = post_views(&state, as_viewer(&user), page.posts.clone()).await?;
    let mut reply = Reply::ok(posts).pagination(Pagination::whole(page.posts.len() as u64));
    if let Some(next) = page.next_cursor {
        reply = reply.next_cursor(next.to_string());
    }
    Ok(reply)
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct ShareRequest {
    /// What the sharer says about it.
    #[schemars(example = &"Worth reading")]
    pub comment: Option<String>,
}

pub async fn share(state: web::Data<AppState>, user: AuthUser, id: web::Path<String>, body: Body) -> Result<Reply, ApiError> {
    let post_id = parse_id(&id)?;
    let input: ShareRequest = if body.0.is_empty() { ShareRequest::default() } else { json_body(&body)? };
    let mut fields = Fields::default();
    let comment = fields.optional("comment", input.comment.as_deref().map(PostContent::parse)).flatten();
    fields.done()?;
    let shared = state.commands.social.share(as_viewer(&user), post_id, comment, &user.context()).await?;
    let (share_id, position) = appended(shared)?;
    state.shown(SOCIAL, position).await?;
    Ok(Reply::created(&POSTED, shown_post(&state, as_viewer(&user), share_id).await?).position(Some(position)))
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct ReactionRequest {
    /// `like`, `love`, `haha`, `wow`, `sad` or `angry`.
    #[serde(rename = "type")]
    #[schemars(example = &"love")]
    pub reaction: String,
}

fn reaction(body: &Body) -> Result<Reaction, ApiError> {
    let input: ReactionRequest = json_body(body)?;
    let mut fields = Fields::default();
    let reaction = fields.check(Reaction::parse(&input.reaction));
    fields.done()?;
    reaction.ok_or_else(|| ApiError::internal("checked fields missing"))
}

/// The caller's reaction after a change, and the position to read it at.
async fn reacted<T>(state: &AppState, outcome: commands::Transacted<T>, now: Option<Reaction>) -> Result<Reply, ApiError> {
    let (_, position) = settled(state, outcome).await?;
    Ok(Reply::ok(ReactionView { reaction: now.map(Reaction::as_str) }).message(&REACTED).position(Some(position)))
}

pub async fn react_to_post(state: web::Data<AppState>, user: AuthUser, id: web::Path<String>, body: Body) -> Result<Reply, ApiError> {
    let post_id = parse_id(&id)?;
    let reaction = reaction(&body)?;
    let outcome = state.commands.social.react_to_post(as_viewer(&user), post_id, Some(reaction), &user.context()).await?;
    reacted(&state, outcome, Some(reaction)).await
}

pub async fn unreact_to_post(state: web::Data<AppState>, user: AuthUser, id: web::Path<String>) -> Result<Reply, ApiError> {
    let outcome = state.commands.social.react_to_post(as_viewer(&user), parse_id(&id)?, None, &user.context()).await?;
    reacted(&state, outcome, None).await
}

pub async fn react_to_comment(state: web::Data<AppState>, user: AuthUser, id: web::Path<String>, body: Body) -> Result<Reply, ApiError> {
    let comment_id = parse_id(&id)?;
    let reaction = reaction(&body)?;
    let outcome = state.commands.social.react_to_comment(as_viewer(&user), comment_id, Some(reaction), &user.context()).await?;
    reacted(&state, outcome, Some(reaction)).await
}

pub async fn unreact_to_comment(state: web::Data<AppState>, user: AuthUser, id: web::Path<String>) -> Result<Reply, ApiError> {
    let outcome = state.commands.social.react_to_comment(as_viewer(&user), parse_id(&id)?, None, &user.context()).await?;
    reacted(&state, outcome, None).await
}

// ---- comments ----

#[derive(Debug, Deserialize, JsonSchema)]
pub struct CommentRequest {
    #[schemars(example = &"Jazak Allah khayran!")]
    pub body: String,
    /// A top-level comment of the same post, to reply to it.
    pub parent_id: Option<Uuid>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct CommentsQuery {
    /// The comment whose replies to list; top-level comments when left out.
    pub parent_id: Option<String>,
    pub page: Option<String>,
    pub per_page: Option<String>,
}

pub async fn comment(state: web::Data<AppState>, user: AuthUser, id: web::Path<String>, body: Body) -> Result<Reply, ApiError> {
    let post_id = parse_id(&id)?;
    let input: CommentRequest = json_body(&body)?;
    let mut fields = Fields::default();
    let text = fields.check(CommentBody::parse(&input.body));
    fields.done()?;
    let Some(text) = text else { return Err(ApiError::internal("checked fields missing")) };
    let commented = state.commands.social.comment(as_viewer(&user), post_id, input.parent_id, text, &user.context()).await?;
    let (comment_id, position) = appended(commented)?;
    state.shown(SOCIAL, position).await?;
    let row = state.queries.social.comment(Some(user.user_id), comment_id).await?.ok_or(ApiError::NotFound)?;
    Ok(Reply::created(&COMMENTED, CommentView::from(row)).position(Some(position)))
}

pub async fn comments(state: web::Data<AppState>, viewer: Viewer, id: web::Path<String>, query: web::Query<CommentsQuery>) -> Result<Reply, ApiError> {
    let post_id = parse_id(&id)?;
    let (page, per_page) = PageQuery { page: query.page.clone(), per_page: query.per_page.clone() }.resolve()?;
    let parent_id = query.parent_id.as_deref().map(parse_id).transpose()?;
    // The comments of a post the viewer may not see are not found either.
    state.queries.social.post(seen_by(&viewer), post_id).await?.ok_or(ApiError::NotFound)?;
    let (total, rows) = state.queries.social.comments(viewer.user_id(), post_id, parent_id, page, per_page).await?;
    Ok(Reply::ok(rows.into_iter().map(CommentView::from).collect::<Vec<_>>()).pagination(Pagination::new(page, per_page, total)))
}

pub async fn delete_comment(state: web::Data<AppState>, user: AuthUser, id: web::Path<String>) -> Result<Reply, ApiError> {
    let deleted = state.commands.social.delete_comment(as_viewer(&user), parse_id(&id)?, &user.context()).await?;
    let (_, position) = settled(&state, deleted).await?;
    Ok(Reply::ok(()).message(&DELETED).position(Some(position)))
}

// ---- reports ----

#[derive(Debug, Deserialize, JsonSchema)]
pub struct ReportRequest {
    /// `spam`, `harassment`, `hate_speech`, `violence`, `misinformation` or `other`.
    #[schemars(example = &"spam")]
    pub reason: String,
    pub details: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct ReportsQuery {
    /// `open` (the default) or `resolved`.
    pub status: Option<String>,
    pub page: Option<String>,
    pub per_page: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct ResolveRequest {
    /// `hide_post` or `dismiss`.
    #[schemars(example = &"hide_post")]
    pub action: String,
}

pub async fn report(state: web::Data<AppState>, user: AuthUser, id: web::Path<String>, body: Body) -> Result<Reply, ApiError> {
    let post_id = parse_id(&id)?;
    let input: ReportRequest = json_body(&body)?;
    let mut fields = Fields::default();
    let reason = fields.check(ReportReason::parse(&input.reason));
    let details = fields.optional("details", input.details.as_deref().map(post::report_details)).flatten();
    fields.done()?;
    let Some(reason) = reason else { return Err(ApiError::internal("checked fields missing")) };
    let reported = state.commands.social.report(as_viewer(&user), post_id, reason, details, &user.context()).await?;
    let (report_id, position) = appended(reported)?;
    state.shown(SOCIAL, position).await?;
    let row = state.queries.social.report(report_id).await?.ok_or(ApiError::NotFound)?;
    Ok(Reply::created(&REPORTED, ReportView::from(row)).position(Some(position)))
}

pub async fn reports(state: web::Data<AppState>, user: AuthUser, query: web::Query<ReportsQuery>) -> Result<Reply, ApiError> {
    user.require(Role::Admin)?;
    let (page, per_page) = PageQuery { page: query.page.clone(), per_page: query.per_page.clone() }.resolve()?;
    let status = match query.status.as_deref().unwrap_or("open") {
        status @ ("open" | "resolved") => status,
        _ => return Err(ApiError::field("status", &INVALID_REPORT_STATUS)),
    };
    let (total, rows) = state.queries.social.reports(status, page, per_page).await?;
    Ok(Reply::ok(rows.into_iter().map(ReportView::from).collect::<Vec<_>>()).pagination(Pagination::new(page, per_page, total)))
}

pub async fn resolve_report(state: web::Data<AppState>, user: AuthUser, id: web::Path<String>, body: Body) -> Result<Reply, ApiError> {
    user.require(Role::Admin)?;
    let report_id = parse_id(&id)?;
    let input: ResolveRequest = json_body(&body)?;
    let mut fields = Fields::default();
    let action = fields.check(ReportAction::parse(&input.action));
    fields.done()?;
    let Some(action) = action else { return Err(ApiError::internal("checked fields missing")) };
    let found = state.queries.social.report(report_id).await?.ok_or_else(|| commands::CommandError::rejected(SocialError::UnknownReport))?;
    let resolved = state.commands.social.resolve_report(user.user_id, found.post_id, report_id, action, &user.context()).await?;
    let (_, position) = appended(resolved)?;
    state.shown(SOCIAL, position).await?;
    let row = state.queries.social.report(report_id).await?.ok_or(ApiError::NotFound)?;
    Ok(Reply::ok(ReportView::from(row)).message(&REPORT_RESOLVED).position(Some(position)))
}
