//! The social read models, written by one projector so every count moves in the same transaction
//! as the row it counts.

use domain::kernel::{DomainEvent, EventType};
use domain::social::comment::CommentEvent;
use domain::social::follow::FollowEvent;
use domain::social::post::PostEvent;
use domain::social::profile::ProfileEvent;
use domain::users::UserEvent;
use event_store::RecordedEvent;
use serde::Serialize;

use crate::ProjectionError;
use crate::runtime::{Prepared, Projector};
use crate::writes::{Value, Writes};

pub struct SocialProjector;

impl SocialProjector {
    pub const NAME: &'static str = "social";
}

const TABLES: &[&str] = &["profiles", "follows", "follow_requests", "posts", "post_reactions", "comments", "comment_reactions", "post_reports"];

fn json(value: &impl Serialize) -> Value {
    Value::Text(serde_json::to_string(value).unwrap_or_else(|_| "null".to_owned()))
}

impl Projector for SocialProjector {
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
        &[UserEvent::TYPES, ProfileEvent::TYPES, FollowEvent::TYPES, PostEvent::TYPES, CommentEvent::TYPES]
    }

    fn prepare(&self, events: &[RecordedEvent]) -> Result<Box<dyn Prepared>, ProjectionError> {
        let mut writes = Writes::new(TABLES);
        for event in events {
            if let Some(UserEvent::UserRegistered { user_id, .. }) = crate::decode::<UserEvent>(event)? {
                writes.insert("profiles", &["user_id", "social_links", "expertise", "interests"], vec![user_id.into(), "{}".into(), "[]".into(), "[]".into()]);
            } else if let Some(profile) = crate::decode::<ProfileEvent>(event)? {
                profile_writes(&mut writes, profile);
            } else if let Some(follow) = crate::decode::<FollowEvent>(event)? {
                follow_writes(&mut writes, event, follow);
            } else if let Some(post) = crate::decode::<PostEvent>(event)? {
                post_writes(&mut writes, event, post);
            } else if let Some(comment) = crate::decode::<CommentEvent>(event)? {
                comment_writes(&mut writes, event, comment);
            }
        }
        Ok(Box::new(writes))
    }
}

fn profile_writes(writes: &mut Writes, event: ProfileEvent) {
    match event {
        ProfileEvent::ProfileDetailsChanged { user_id, details } => {
            let details = details.into_known().unwrap_or_default();
            let url = |url: Option<domain::catalogue::ContentUrl>| Value::from(url.map(String::from));
            writes.execute(
                "UPDATE {profiles} SET headline = ?, bio = ?, location = ?, social_links = ?, avatar_url = ?, cover_url = ?, expertise = ? WHERE user_id = ?",
                vec![
                    details.headline.into(),
                    details.bio.into(),
                    details.location.into(),
                    json(&details.social_links),
                    url(details.avatar_url),
                    url(details.cover_url),
                    json(&details.expertise),
                    user_id.into(),
                ],
            );
        }
        ProfileEvent::ProfilePrivacyChanged { user_id, is_private } => {
            writes.execute("UPDATE {profiles} SET is_private = ? WHERE user_id = ?", vec![is_private.into(), user_id.into()]);
        }
        ProfileEvent::InterestsChanged { user_id, category_ids } => {
            writes.execute("UPDATE {profiles} SET interests = ? WHERE user_id = ?", vec![json(&category_ids), user_id.into()]);
        }
    }
}

fn follow_writes(writes: &mut Writes, event: &RecordedEvent, follow: FollowEvent) {
    let counts = |writes: &mut Writes, follower: uuid::Uuid, followee: uuid::Uuid, change: &str| {
        writes.execute(format!("UPDATE {{profiles}} SET following_count = following_count {change} WHERE user_id = ?"), vec![follower.into()]);
        writes.execute(format!("UPDATE {{profiles}} SET followers_count = followers_count {change} WHERE user_id = ?"), vec![followee.into()]);
    };
    match follow {
        FollowEvent::Followed { followee_id, follower_id, followed_at } => {
            writes.insert("follows", &["follower_id", "followee_id", "followed_at", "position"], vec![follower_id.into(), followee_id.into(), followed_at.into(), event.position.into()]);
            counts(writes, follower_id, followee_id, "+ 1");
        }
        FollowEvent::FollowRequested { followee_id, follower_id, request_id, requested_at } => writes.insert(
            "follow_requests",
            &["id", "followee_id", "follower_id", "requested_at", "position"],
            vec![request_id.into(), followee_id.into(), follower_id.into(), requested_at.into(), event.position.into()],
        ),
        FollowEvent::FollowRequestAccepted { followee_id, follower_id, request_id, followed_at } => {
            writes.execute("DELETE FROM {follow_requests} WHERE id = ?", vec![request_id.into()]);
            writes.insert("follows", &["follower_id", "followee_id", "followed_at", "position"], vec![follower_id.into(), followee_id.into(), followed_at.into(), event.position.into()]);
            counts(writes, follower_id, followee_id, "+ 1");
        }
        FollowEvent::FollowRequestClosed { request_id, .. } => writes.execute("DELETE FROM {follow_requests} WHERE id = ?", vec![request_id.into()]),
        FollowEvent::Unfollowed { followee_id, follower_id, .. } => {
            writes.execute("DELETE FROM {follows} WHERE follower_id = ? AND followee_id = ?", vec![follower_id.into(), followee_id.into()]);
            counts(writes, follower_id, followee_id, "- 1");
        }
    }
}

fn post_writes(writes: &mut Writes, event: &RecordedEvent, post: PostEvent) {
    match post {
        PostEvent::PostCreated { post_id, author_id, post_type, content, media_urls, shared_post_id, created_at } => {
            writes.insert(
                "posts",
                &["id", "seq", "author_id", "type", "content", "media_urls", "shared_post_id", "created_at"],
                vec![
                    post_id.into(),
                    event.position.into(),
                    author_id.into(),
                    post_type.as_str().into(),
                    content.and_then(|content| content.into_known()).map(String::from).into(),
                    json(&media_urls),
                    shared_post_id.into(),
                    created_at.into(),
                ],
            );
            writes.execute("UPDATE {profiles} SET posts_count = posts_count + 1 WHERE user_id = ?", vec![author_id.into()]);
            if let Some(shared) = shared_post_id {
                writes.execute("UPDATE {posts} SET shares_count = shares_count + 1 WHERE id = ?", vec![shared.into()]);
            }
        }
        PostEvent::PostEdited { post_id, content, media_urls, edited_at, .. } => {
            if let Some(content) = content {
                writes.execute("UPDATE {posts} SET content = ? WHERE id = ?", vec![content.into_known().map(String::from).into(), post_id.into()]);
            }
            if let Some(media_urls) = media_urls {
                writes.execute("UPDATE {posts} SET media_urls = ? WHERE id = ?", vec![json(&media_urls), post_id.into()]);
            }
            writes.execute("UPDATE {posts} SET edited_at = ? WHERE id = ?", vec![edited_at.into(), post_id.into()]);
        }
        PostEvent::PostDeleted { post_id, .. } => {
            writes.execute("UPDATE {profiles} pr JOIN {posts} p ON p.author_id = pr.user_id SET pr.posts_count = pr.posts_count - 1 WHERE p.id = ?", vec![post_id.into()]);
            writes.execute("UPDATE {posts} o JOIN {posts} s ON s.shared_post_id = o.id SET o.shares_count = o.shares_count - 1 WHERE s.id = ?", vec![post_id.into()]);
            writes.execute("UPDATE {posts} SET is_deleted = TRUE WHERE id = ?", vec![post_id.into()]);
        }
        PostEvent::PostReacted { post_id, user_id, reaction, previous } => {
            writes.execute(
                "INSERT INTO {post_reactions} (post_id, user_id, reaction) VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE reaction = VALUES(reaction)",
                vec![post_id.into(), user_id.into(), reaction.as_str().into()],
            );
            if previous.is_none() {
                writes.execute("UPDATE {posts} SET reactions_count = reactions_count + 1 WHERE id = ?", vec![post_id.into()]);
            }
        }
        PostEvent::PostReactionRemoved { post_id, user_id, .. } => {
            writes.execute("DELETE FROM {post_reactions} WHERE post_id = ? AND user_id = ?", vec![post_id.into(), user_id.into()]);
            writes.execute("UPDATE {posts} SET reactions_count = reactions_count - 1 WHERE id = ?", vec![post_id.into()]);
        }
        PostEvent::PostReported { post_id, report_id, reporter_id, reason, details, reported_at } => writes.insert(
            "post_reports",
            &["id", "seq", "post_id", "reporter_id", "reason", "details", "status", "created_at"],
            vec![
                report_id.into(),
                event.position.into(),
                post_id.into(),
                reporter_id.into(),
                reason.as_str().into(),
                details.and_then(|details| details.into_known()).into(),
                "open".into(),
                reported_at.into(),
            ],
        ),
        PostEvent::ReportResolved { report_id, admin_id, action, resolved_at, .. } => writes.execute(
            "UPDATE {post_reports} SET status = 'resolved', action = ?, resolved_by = ?, resolved_at = ? WHERE id = ?",
            vec![action.as_str().into(), admin_id.into(), resolved_at.into(), report_id.into()],
        ),
        PostEvent::PostHidden { post_id, .. } => writes.execute("UPDATE {posts} SET is_hidden = TRUE WHERE id = ?", vec![post_id.into()]),
    }
}

fn comment_writes(writes: &mut Writes, event: &RecordedEvent, comment: CommentEvent) {
    match comment {
        CommentEvent::CommentAdded { comment_id, post_id, author_id, parent_id, body, created_at } => {
            writes.insert(
                "comments",
                &["id", "seq", "post_id", "parent_id", "author_id", "body", "created_at"],
                vec![
                    comment_id.into(),
                    event.position.into(),
                    post_id.into(),
                    parent_id.into(),
                    author_id.into(),
                    body.into_known().map(String::from).into(),
                    created_at.into(),
                ],
            );
            writes.execute("UPDATE {posts} SET comments_count = comments_count + 1 WHERE id = ?", vec![post_id.into()]);
            if let Some(parent_id) = parent_id {
                writes.execute("UPDATE {comments} SET replies_count = replies_count + 1 WHERE id = ?", vec![parent_id.into()]);
            }
        }
        CommentEvent::CommentDeleted { comment_id, post_id, .. } => {
            writes.execute("UPDATE {posts} SET comments_count = comments_count - 1 WHERE id = ?", vec![post_id.into()]);
            writes.execute("UPDATE {comments} p JOIN {comments} c ON c.parent_id = p.id SET p.replies_count = p.replies_count - 1 WHERE c.id = ?", vec![comment_id.into()]);
            writes.execute("UPDATE {comments} SET is_deleted = TRUE, body = NULL WHERE id = ?", vec![comment_id.into()]);
        }
        CommentEvent::CommentReacted { comment_id, user_id, reaction, previous } => {
            writes.execute(
                "INSERT INTO {comment_reactions} (comment_id, user_id, reaction) VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE reaction = VALUES(reaction)",
                vec![comment_id.into(), user_id.into(), reaction.as_str().into()],
            );
            if previous.is_none() {
                writes.execute("UPDATE {comments} SET reactions_count = reactions_count + 1 WHERE id = ?", vec![comment_id.into()]);
            }
        }
        CommentEvent::CommentReactionRemoved { comment_id, user_id, .. } => {
            writes.execute("DELETE FROM {comment_reactions} WHERE comment_id = ? AND user_id = ?", vec![comment_id.into(), user_id.into()]);
            writes.execute("UPDATE {comments} SET reactions_count = reactions_count - 1 WHERE id = ?", vec![comment_id.into()]);
        }
    }
}
