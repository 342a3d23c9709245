//! What profiles, people, posts, comments, follow requests and reports look like to clients.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use projections::rooms::queries::ConsultationRating;
use projections::social::queries::{CommentRow, PersonRow, PostRow, ProfileRow, Relation, ReportRow, RequestRow};
use schemars::JsonSchema;
use serde::Serialize;
use uuid::Uuid;

use crate::rooms::ConsultationRatingView;
use crate::wallet::sar;

#[derive(Debug, Serialize, JsonSchema)]
pub struct PersonView {
    pub id: Uuid,
    /// Null once the account is erased.
    pub username: Option<String>,
    pub name: String,
    pub avatar_url: Option<String>,
}

impl From<PersonRow> for PersonView {
    fn from(row: PersonRow) -> Self {
        PersonView { id: row.id, username: row.username, name: row.name, avatar_url: row.avatar_url }
    }
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ProfileView {
    pub id: Uuid,
    pub username: Option<String>,
    pub name: String,
    pub headline: Option<String>,
    pub bio: Option<String>,
    pub location: Option<String>,
    #[schemars(example = &"ar")]
    pub language: String,
    /// IANA name; consultation availabilities are read in it.
    #[schemars(example = &"Asia/Riyadh")]
    pub timezone: String,
    /// A name to an https URL: `{"twitter": "https://x.com/sara"}`.
    pub social_links: serde_json::Value,
    pub avatar_url: Option<String>,
    pub cover_url: Option<String>,
    pub is_private: bool,
    pub is_speaker: bool,
    pub expertise: Vec<String>,
    /// The categories the user cares about.
    pub interests: Vec<Uuid>,
    pub followers_count: u64,
    pub following_count: u64,
    pub posts_count: u64,
    /// `none`, `requested`, `following` or `self`.
    #[schemars(example = &"following")]
    pub follow_status: &'static str,
    /// What students rated the speaker's consultations.
    pub consultation_rating: ConsultationRatingView,
}

impl ProfileView {
    pub fn of(row: ProfileRow, relation: Relation, rating: ConsultationRating) -> Self {
        ProfileView {
            id: row.person.id,
            username: row.person.username,
            name: row.person.name,
            headline: row.headline,
            bio: row.bio,
            location: row.location,
            language: row.language,
            timezone: row.timezone.unwrap_or_else(|| domain::users::Timezone::default().as_str().to_owned()),
            social_links: row.social_links,
            avatar_url: row.person.avatar_url,
            cover_url: row.cover_url,
            is_private: row.is_private,
            is_speaker: row.is_speaker,
            expertise: row.expertise,
            interests: row.interests,
            followers_count: row.followers_count,
            following_count: row.following_count,
            posts_count: row.posts_count,
            follow_status: follow_status(relation),
            consultation_rating: ConsultationRatingView { average: rating.average.map(sar), count: rating.count },
        }
    }
}

pub fn follow_status(relation: Relation) -> &'static str {
    match relation {
        Relation::Oneself => "self",
        Relation::Following => "following",
        Relation::Requested => "requested",
        Relation::None => "none",
    }
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct BlockView {
    /// Whether I block the user now.
    pub blocked: bool,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct FollowView {
    /// `none`, `requested` or `following`.
    #[schemars(example = &"requested")]
    pub follow_status: &'static str,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct FollowRequestView {
    pub id: Uuid,
    pub requester: PersonView,
    pub created_at: DateTime<Utc>,
}

impl From<RequestRow> for FollowRequestView {
    fn from(row: RequestRow) -> Self {
        FollowRequestView { id: row.id, requester: row.requester.into(), created_at: row.requested_at }
    }
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct PostView {
    pub id: Uuid,
    pub author: PersonView,
    /// `text`, `image`, `video`, `audio` or `share`.
    #[serde(rename = "type")]
    pub post_type: String,
    /// Null for a share without a comment, and once the author is erased.
    pub content: Option<String>,
    pub media_urls: Vec<String>,
    /// A share's original, or null when the viewer may not see it (always null for other posts).
    #[schemars(with = "Option<serde_json::Value>")]
    pub shared_post: Option<Box<PostView>>,
    pub reactions_count: u64,
    pub comments_count: u64,
    pub shares_count: u64,
    /// The caller's reaction, or null.
    pub my_reaction: Option<String>,
    pub created_at: DateTime<Utc>,
    pub edited_at: Option<DateTime<Utc>>,
}

impl PostView {
    /// A post; a share shows its original from `originals` (those the viewer may see).
    pub fn of(row: PostRow, originals: &HashMap<Uuid, PostRow>) -> Self {
        let shared_post = row.shared_post_id.and_then(|id| originals.get(&id)).map(|original| Box::new(PostView::of(original.clone(), &HashMap::new())));
        PostView {
            id: row.id,
            author: row.author.into(),
            post_type: row.post_type,
            content: row.content,
            media_urls: row.media_urls,
            shared_post,
            reactions_count: row.reactions_count,
            comments_count: row.comments_count,
            shares_count: row.shares_count,
            my_reaction: row.my_reaction,
            created_at: row.created_at,
            edited_at: row.edited_at,
        }
    }
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct CommentView {
    pub id: Uuid,
    pub post_id: Uuid,
    pub parent_id: Option<Uuid>,
    pub author: PersonView,
    /// Null once deleted.
    pub body: Option<String>,
    pub deleted: bool,
    pub replies_count: u64,
    pub reactions_count: u64,
    pub my_reaction: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<CommentRow> for CommentView {
    fn from(row: CommentRow) -> Self {
        CommentView {
            id: row.id,
            post_id: row.post_id,
            parent_id: row.parent_id,
            author: row.author.into(),
            body: if row.deleted { None } else { row.body },
            deleted: row.deleted,
            replies_count: row.replies_count,
            reactions_count: row.reactions_count,
            my_reaction: row.my_reaction,
            created_at: row.created_at,
        }
    }
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ReactionView {
    /// The caller's reaction now, or null.
    #[serde(rename = "type")]
    pub reaction: Option<&'static str>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ReportView {
    pub id: Uuid,
    pub post_id: Uuid,
    pub reporter_id: Uuid,
    pub reason: String,
    pub details: Option<String>,
    /// `open` or `resolved`.
    pub status: String,
    /// `hide_post` or `dismiss`, once resolved.
    pub action: Option<String>,
    pub created_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
}

impl From<ReportRow> for ReportView {
    fn from(row: ReportRow) -> Self {
        ReportView {
            id: row.id,
            post_id: row.post_id,
            reporter_id: row.reporter_id,
            reason: row.reason,
            details: row.details,
            status: row.status,
            action: row.action,
            created_at: row.created_at,
            resolved_at: row.resolved_at,
        }
    }
}
