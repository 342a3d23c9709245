//! The social context: what brings students back every day. A profile per user (`profile`), the
//! people who follow each user and the requests waiting for a private one's answer (`follow`),
//! whom each user has blocked (`block`),
//! posts with their reactions and reports (`post`), and comments (`comment`). Who may see a post
//! is one rule (`visibility`); the read side applies the same rule in one SQL predicate.
//!
//! What people write (profile texts, posts, comments, report details) is `Personal`: erasing its
//! author erases it.

pub mod block;
pub mod comment;
pub mod follow;
pub mod post;
pub mod profile;
pub mod visibility;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::kernel::{ContextEvents, DomainEvent, Rejection, RejectionKind, every};

/// The context's events, upcasters and rejections, for the kernel's registries.
pub const EVENTS: ContextEvents = ContextEvents {
    name: "social",
    tables: &[profile::ProfileEvent::TYPES, follow::FollowEvent::TYPES, block::BlockEvent::TYPES, post::PostEvent::TYPES, comment::CommentEvent::TYPES],
    upcasts: &[],
    rejections: every::<SocialError>,
};

/// A text people write: trimmed, 1 to `max` characters, line breaks and tabs allowed, no other
/// control characters.
pub(crate) fn text(text: &str, max: usize) -> Option<String> {
    let text = text.trim();
    let length = text.chars().count();
    let printable = !text.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'));
    (length > 0 && length <= max && printable).then(|| text.to_owned())
}

/// What someone thinks of a post or a comment: one per person per target; a new one replaces it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, strum::EnumIter)]
#[serde(rename_all = "snake_case")]
pub enum Reaction {
    Like,
    Love,
    Haha,
    Wow,
    Sad,
    Angry,
}

impl Reaction {
    pub fn as_str(self) -> &'static str {
        match self {
            Reaction::Like => "like",
            Reaction::Love => "love",
            Reaction::Haha => "haha",
            Reaction::Wow => "wow",
            Reaction::Sad => "sad",
            Reaction::Angry => "angry",
        }
    }

    pub fn parse(text: &str) -> Result<Reaction, SocialError> {
        <Reaction as strum::IntoEnumIterator>::iter().find(|reaction| reaction.as_str() == text.trim()).ok_or(SocialError::InvalidReaction)
    }
}

/// Who reacted how to one target.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Reactions(BTreeMap<Uuid, Reaction>);

impl Reactions {
    pub fn of(&self, user: Uuid) -> Option<Reaction> {
        self.0.get(&user).copied()
    }

    /// The reaction `user` had before, when reacting `reaction` changes anything.
    pub fn change(&self, user: Uuid, reaction: Reaction) -> Option<Option<Reaction>> {
        let previous = self.of(user);
        (previous != Some(reaction)).then_some(previous)
    }

    pub fn set(&mut self, user: Uuid, reaction: Option<Reaction>) {
        match reaction {
            Some(reaction) => self.0.insert(user, reaction),
            None => self.0.remove(&user),
        };
    }
}

/// Business rejections of the social context, and reasons of its invalid input.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, strum::EnumIter)]
pub enum SocialError {
    #[error("the headline must be 1 to 150 characters on one line")]
    InvalidHeadline,
    #[error("the bio must be 1 to 2,000 characters")]
    InvalidBio,
    #[error("the location must be 1 to 100 characters on one line")]
    InvalidLocation,
    #[error("social links map up to 10 names (1 to 30 of a-z, 0-9, '_') to https URLs")]
    InvalidSocialLinks,
    #[error("the avatar must be an http or https URL")]
    InvalidAvatarUrl,
    #[error("the cover must be an http or https URL")]
    InvalidCoverUrl,
    #[error("expertise is up to 20 tags of 1 to 50 characters")]
    InvalidExpertise,
    #[error("interests are up to 50 distinct category ids")]
    InvalidInterests,
    #[error("no such user")]
    UnknownUser,
    #[error("you cannot follow yourself")]
    CannotFollowSelf,
    #[error("you cannot block yourself")]
    CannotBlockSelf,
    #[error("this user has blocked you")]
    Blocked,
    #[error("no such follow request")]
    UnknownFollowRequest,
    #[error("the post type must be text, image, video or audio")]
    InvalidPostType,
    #[error("the content must be 1 to 5,000 characters")]
    InvalidContent,
    #[error("media URLs are up to 10 http or https URLs")]
    InvalidMediaUrls,
    #[error("no such post")]
    UnknownPost,
    #[error("the post already exists")]
    PostExists,
    #[error("only the author may do this")]
    NotAuthor,
    #[error("a share cannot be edited into another post type")]
    InvalidState,
    #[error("the reaction must be like, love, haha, wow, sad or angry")]
    InvalidReaction,
    #[error("the comment must be 1 to 2,000 characters")]
    InvalidCommentBody,
    #[error("no such comment")]
    UnknownComment,
    #[error("the comment already exists")]
    CommentExists,
    #[error("replies go to a top-level comment of the same post")]
    InvalidParent,
    #[error("the comment is deleted")]
    CommentDeleted,
    #[error("the reason must be spam, harassment, hate_speech, violence, misinformation or other")]
    InvalidReportReason,
    #[error("the details must be 1 to 1,000 characters")]
    InvalidReportDetails,
    #[error("you already reported this post")]
    AlreadyReported,
    #[error("no such report")]
    UnknownReport,
    #[error("the report is already resolved")]
    AlreadyResolved,
    #[error("the action must be hide_post or dismiss")]
    InvalidReportAction,
}

impl Rejection for SocialError {
    fn code(&self) -> &'static str {
        match self {
            SocialError::InvalidHeadline => "invalid_headline",
            SocialError::InvalidBio => "invalid_bio",
            SocialError::InvalidLocation => "invalid_location",
            SocialError::InvalidSocialLinks => "invalid_social_links",
            SocialError::InvalidAvatarUrl => "invalid_avatar_url",
            SocialError::InvalidCoverUrl => "invalid_cover_url",
            SocialError::InvalidExpertise => "invalid_expertise",
            SocialError::InvalidInterests => "invalid_interests",
            SocialError::UnknownUser
            | SocialError::UnknownFollowRequest
            | SocialError::UnknownPost
            | SocialError::UnknownComment
            | SocialError::UnknownReport => "not_found",
            SocialError::CannotFollowSelf => "cannot_follow_self",
            SocialError::CannotBlockSelf => "cannot_block_self",
            SocialError::Blocked => "blocked",
            SocialError::InvalidPostType => "invalid_post_type",
            SocialError::InvalidContent => "invalid_content",
            SocialError::InvalidMediaUrls => "invalid_media_urls",
            SocialError::PostExists | SocialError::CommentExists => "already_exists",
            SocialError::NotAuthor => "not_author",
            SocialError::InvalidState => "invalid_state",
            SocialError::InvalidReaction => "invalid_reaction",
            SocialError::InvalidCommentBody => "invalid_body",
            SocialError::InvalidParent => "invalid_parent",
            SocialError::CommentDeleted => "comment_deleted",
            SocialError::InvalidReportReason => "invalid_report_reason",
            SocialError::InvalidReportDetails => "invalid_details",
            SocialError::AlreadyReported => "already_reported",
            SocialError::AlreadyResolved => "already_resolved",
            SocialError::InvalidReportAction => "invalid_action",
        }
    }

    fn kind(&self) -> RejectionKind {
        match self {
            SocialError::UnknownUser
            | SocialError::UnknownFollowRequest
            | SocialError::UnknownPost
            | SocialError::UnknownComment
            | SocialError::UnknownReport => RejectionKind::NotFound,
            SocialError::NotAuthor | SocialError::Blocked => RejectionKind::Forbidden,
            SocialError::PostExists
            | SocialError::CommentExists
            | SocialError::InvalidState
            | SocialError::CommentDeleted
            | SocialError::AlreadyReported
            | SocialError::AlreadyResolved => RejectionKind::Conflict,
            _ => RejectionKind::Invalid,
        }
    }

    fn field(&self) -> Option<&'static str> {
        match self {
            SocialError::InvalidHeadline => Some("headline"),
            SocialError::InvalidBio => Some("bio"),
            SocialError::InvalidLocation => Some("location"),
            SocialError::InvalidSocialLinks => Some("social_links"),
            SocialError::InvalidAvatarUrl => Some("avatar_url"),
            SocialError::InvalidCoverUrl => Some("cover_url"),
            SocialError::InvalidExpertise => Some("expertise"),
            SocialError::InvalidInterests => Some("category_ids"),
            SocialError::CannotFollowSelf | SocialError::CannotBlockSelf => Some("username"),
            SocialError::InvalidPostType => Some("type"),
            SocialError::InvalidContent => Some("content"),
            SocialError::InvalidMediaUrls => Some("media_urls"),
            SocialError::InvalidReaction => Some("type"),
            SocialError::InvalidCommentBody => Some("body"),
            SocialError::InvalidParent => Some("parent_id"),
            SocialError::InvalidReportReason => Some("reason"),
            SocialError::InvalidReportDetails => Some("details"),
            SocialError::InvalidReportAction => Some("action"),
            _ => None,
        }
    }
}
