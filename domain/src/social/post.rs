//! Posts: what a user writes for their followers (text, or media with a caption), or a share of
//! someone's post with an optional comment. A post holds its reactions (one per person) and its
//! reports (one per person); an admin resolving a report may hide the post, which then shows to
//! its author and admins only. Deleting is for the author or an admin.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Reaction, Reactions, SocialError, text};
use crate::catalogue::ContentUrl;
use crate::kernel::{Aggregate, DomainEvent, EventType, Personal};

/// Stream type of posts; the stream id is the post id.
pub const STREAM_TYPE: &str = "post";
pub const CONTENT_LEN_MAX: usize = 5000;
pub const MEDIA_URLS_MAX: usize = 10;
pub const REPORT_DETAILS_LEN_MAX: usize = 1000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PostType {
    Text,
    Image,
    Video,
    Audio,
    /// Made by sharing another post, never asked for directly.
    Share,
}

impl PostType {
    pub fn as_str(self) -> &'static str {
        match self {
            PostType::Text => "text",
            PostType::Image => "image",
            PostType::Video => "video",
            PostType::Audio => "audio",
            PostType::Share => "share",
        }
    }

    /// A type a client may ask for (`share` comes from sharing).
    pub fn parse(text: &str) -> Result<PostType, SocialError> {
        [PostType::Text, PostType::Image, PostType::Video, PostType::Audio].into_iter().find(|kind| kind.as_str() == text.trim()).ok_or(SocialError::InvalidPostType)
    }
}

/// What a post says: 1 to 5,000 characters.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PostContent(String);

impl PostContent {
    pub fn parse(content: &str) -> Result<PostContent, SocialError> {
        text(content, CONTENT_LEN_MAX).map(PostContent).ok_or(SocialError::InvalidContent)
    }
}

crate::text_value!(PostContent, SocialError, |_| SocialError::InvalidContent);

/// Up to 10 http(s) URLs of a post's pictures, video or audio.
pub fn media_urls(urls: &[String]) -> Result<Vec<ContentUrl>, SocialError> {
    if urls.len() > MEDIA_URLS_MAX {
        return Err(SocialError::InvalidMediaUrls);
    }
    urls.iter().map(|url| ContentUrl::parse(url).map_err(|_| SocialError::InvalidMediaUrls)).collect()
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, strum::EnumIter)]
#[serde(rename_all = "snake_case")]
pub enum ReportReason {
    Spam,
    Harassment,
    HateSpeech,
    Violence,
    Misinformation,
    Other,
}

impl ReportReason {
    pub fn as_str(self) -> &'static str {
        match self {
            ReportReason::Spam => "spam",
            ReportReason::Harassment => "harassment",
            ReportReason::HateSpeech => "hate_speech",
            ReportReason::Violence => "violence",
            ReportReason::Misinformation => "misinformation",
            ReportReason::Other => "other",
        }
    }

    pub fn parse(text: &str) -> Result<ReportReason, SocialError> {
        <ReportReason as strum::IntoEnumIterator>::iter().find(|reason| reason.as_str() == text.trim()).ok_or(SocialError::InvalidReportReason)
    }
}

/// What an admin does with a report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportAction {
    HidePost,
    Dismiss,
}

impl ReportAction {
    pub fn as_str(self) -> &'static str {
        match self {
            ReportAction::HidePost => "hide_post",
            ReportAction::Dismiss => "dismiss",
        }
    }

    pub fn parse(text: &str) -> Result<ReportAction, SocialError> {
        match text.trim() {
            "hide_post" => Ok(ReportAction::HidePost),
            "dismiss" => Ok(ReportAction::Dismiss),
            _ => Err(SocialError::InvalidReportAction),
        }
    }
}

/// A report's free text: 1 to 1,000 characters.
pub fn report_details(details: &str) -> Result<String, SocialError> {
    text(details, REPORT_DETAILS_LEN_MAX).ok_or(SocialError::InvalidReportDetails)
}

#[derive(Clone, Debug, PartialEq)]
pub enum PostCommand {
    /// A share has `shared_post_id` and an optional comment; any other post has content.
    Create {
        post_id: Uuid,
        author_id: Uuid,
        post_type: PostType,
        content: Option<PostContent>,
        media_urls: Vec<ContentUrl>,
        shared_post_id: Option<Uuid>,
        now: DateTime<Utc>,
    },
    Edit { actor: Uuid, content: Option<PostContent>, media_urls: Option<Vec<ContentUrl>>, now: DateTime<Utc> },
    Delete { actor: Uuid, is_admin: bool, now: DateTime<Utc> },
    React { user_id: Uuid, reaction: Reaction },
    Unreact { user_id: Uuid },
    Report { report_id: Uuid, reporter_id: Uuid, reason: ReportReason, details: Option<String>, now: DateTime<Utc> },
    Resolve { report_id: Uuid, admin_id: Uuid, action: ReportAction, now: DateTime<Utc> },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum PostEvent {
    PostCreated {
        post_id: Uuid,
        author_id: Uuid,
        post_type: PostType,
        content: Option<Personal<PostContent>>,
        media_urls: Vec<ContentUrl>,
        shared_post_id: Option<Uuid>,
        created_at: DateTime<Utc>,
    },
    /// What changed: `None` leaves the content or the media as they were.
    PostEdited { post_id: Uuid, author_id: Uuid, content: Option<Personal<PostContent>>, media_urls: Option<Vec<ContentUrl>>, edited_at: DateTime<Utc> },
    PostDeleted { post_id: Uuid, deleted_by: Uuid, deleted_at: DateTime<Utc> },
    /// `previous` is what the user's reaction replaced, if anything.
    PostReacted { post_id: Uuid, user_id: Uuid, reaction: Reaction, previous: Option<Reaction> },
    PostReactionRemoved { post_id: Uuid, user_id: Uuid, reaction: Reaction },
    PostReported { post_id: Uuid, report_id: Uuid, reporter_id: Uuid, reason: ReportReason, details: Option<Personal<String>>, reported_at: DateTime<Utc> },
    ReportResolved { post_id: Uuid, report_id: Uuid, admin_id: Uuid, action: ReportAction, resolved_at: DateTime<Utc> },
    PostHidden { post_id: Uuid, hidden_at: DateTime<Utc> },
}

pub const POST_CREATED: EventType = EventType::new("PostCreated", 1);
pub const POST_EDITED: EventType = EventType::new("PostEdited", 1);
pub const POST_DELETED: EventType = EventType::new("PostDeleted", 1);
pub const POST_REACTED: EventType = EventType::new("PostReacted", 1);
pub const POST_REACTION_REMOVED: EventType = EventType::new("PostReactionRemoved", 1);
pub const POST_REPORTED: EventType = EventType::new("PostReported", 1);
pub const REPORT_RESOLVED: EventType = EventType::new("ReportResolved", 1);
pub const POST_HIDDEN: EventType = EventType::new("PostHidden", 1);

impl DomainEvent for PostEvent {
    const TYPES: &'static [EventType] =
        &[POST_CREATED, POST_EDITED, POST_DELETED, POST_REACTED, POST_REACTION_REMOVED, POST_REPORTED, REPORT_RESOLVED, POST_HIDDEN];

    fn data_subject(&self) -> Option<Uuid> {
        match self {
            PostEvent::PostCreated { author_id, content: Some(_), .. } | PostEvent::PostEdited { author_id, content: Some(_), .. } => Some(*author_id),
            PostEvent::PostReported { reporter_id, details: Some(_), .. } => Some(*reporter_id),
            _ => None,
        }
    }
}

/// A report and whether an admin has dealt with it.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Report {
    reporter_id: Uuid,
    resolved: bool,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Post {
    id: Option<Uuid>,
    author_id: Uuid,
    post_type: Option<PostType>,
    shared_post_id: Option<Uuid>,
    deleted: bool,
    hidden: bool,
    reactions: Reactions,
    reports: BTreeMap<Uuid, Report>,
}

impl Post {
    /// The post's id while it exists (not deleted).
    pub fn id(&self) -> Option<Uuid> {
        self.id.filter(|_| !self.deleted)
    }

    pub fn author_id(&self) -> Uuid {
        self.author_id
    }

    pub fn is_hidden(&self) -> bool {
        self.hidden
    }

    pub fn shared_post_id(&self) -> Option<Uuid> {
        self.shared_post_id
    }

    pub fn reaction_of(&self, user: Uuid) -> Option<Reaction> {
        self.reactions.of(user)
    }

    fn existing(&self) -> Result<Uuid, SocialError> {
        self.id().ok_or(SocialError::UnknownPost)
    }
}

impl Aggregate for Post {
    type Command = PostCommand;
    type Event = PostEvent;
    type Rejection = SocialError;

    fn handle(&self, command: PostCommand) -> Result<Vec<PostEvent>, SocialError> {
        let event = match command {
            PostCommand::Create { .. } if self.id.is_some() => return Err(SocialError::PostExists),
            PostCommand::Create { post_id, author_id, post_type, content, media_urls, shared_post_id, now } => {
                match (post_type, &content, shared_post_id) {
                    (PostType::Share, _, Some(_)) => {}
                    (PostType::Share, _, None) | (_, _, Some(_)) => return Err(SocialError::InvalidPostType),
                    (_, None, None) => return Err(SocialError::InvalidContent),
                    (_, Some(_), None) => {}
                }
                PostEvent::PostCreated { post_id, author_id, post_type, content: content.map(Personal::from), media_urls, shared_post_id, created_at: now }
            }
            PostCommand::Edit { actor, content, media_urls, now } => {
                let post_id = self.existing()?;
                if actor != self.author_id {
                    return Err(SocialError::NotAuthor);
                }
                if content.is_none() && media_urls.is_none() {
                    return Err(SocialError::InvalidContent);
                }
                PostEvent::PostEdited { post_id, author_id: actor, content: content.map(Personal::from), media_urls, edited_at: now }
            }
            PostCommand::Delete { actor, is_admin, now } => {
                let post_id = self.existing()?;
                if actor != self.author_id && !is_admin {
                    return Err(SocialError::NotAuthor);
                }
                PostEvent::PostDeleted { post_id, deleted_by: actor, deleted_at: now }
            }
            PostCommand::React { user_id, reaction } => {
                let post_id = self.existing()?;
                let Some(previous) = self.reactions.change(user_id, reaction) else { return Ok(vec![]) };
                PostEvent::PostReacted { post_id, user_id, reaction, previous }
            }
            PostCommand::Unreact { user_id } => {
                let post_id = self.existing()?;
                let Some(reaction) = self.reactions.of(user_id) else { return Ok(vec![]) };
                PostEvent::PostReactionRemoved { post_id, user_id, reaction }
            }
            PostCommand::Report { report_id, reporter_id, reason, details, now } => {
                let post_id = self.existing()?;
                if self.reports.values().any(|report| report.reporter_id == reporter_id) {
                    return Err(SocialError::AlreadyReported);
                }
                PostEvent::PostReported { post_id, report_id, reporter_id, reason, details: details.map(Personal::from), reported_at: now }
            }
            PostCommand::Resolve { report_id, admin_id, action, now } => {
                let post_id = self.id.ok_or(SocialError::UnknownReport)?;
                let report = self.reports.get(&report_id).ok_or(SocialError::UnknownReport)?;
                if report.resolved {
                    return Err(SocialError::AlreadyResolved);
                }
                let resolved = PostEvent::ReportResolved { post_id, report_id, admin_id, action, resolved_at: now };
                if action == ReportAction::HidePost && !self.hidden {
                    return Ok(vec![resolved, PostEvent::PostHidden { post_id, hidden_at: now }]);
                }
                resolved
            }
        };
        Ok(vec![event])
    }

    fn apply(&mut self, event: &PostEvent) {
        match event {
            PostEvent::PostCreated { post_id, author_id, post_type, shared_post_id, .. } => {
                self.id = Some(*post_id);
                self.author_id = *author_id;
                self.post_type = Some(*post_type);
                self.shared_post_id = *shared_post_id;
            }
            PostEvent::PostEdited { .. } => {}
            PostEvent::PostDeleted { .. } => self.deleted = true,
            PostEvent::PostReacted { user_id, reaction, .. } => self.reactions.set(*user_id, Some(*reaction)),
            PostEvent::PostReactionRemoved { user_id, .. } => self.reactions.set(*user_id, None),
            PostEvent::PostReported { report_id, reporter_id, .. } => {
                self.reports.insert(*report_id, Report { reporter_id: *reporter_id, resolved: false });
            }
            PostEvent::ReportResolved { report_id, .. } => {
                if let Some(report) = self.reports.get_mut(report_id) {
                    report.resolved = true;
                }
            }
            PostEvent::PostHidden { .. } => self.hidden = true,
        }
    }
}
