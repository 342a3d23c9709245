//! Comments on posts, with one level of replies. A deleted comment stays in its thread, without
//! its body, so the replies under it keep their place. Its author, the post's author or an admin
//! may delete it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Reaction, Reactions, SocialError, text};
use crate::kernel::{Aggregate, DomainEvent, EventType, Personal};

/// Stream type of comments; the stream id is the comment id.
pub const STREAM_TYPE: &str = "comment";
pub const BODY_LEN_MAX: usize = 2000;

/// What a comment says: 1 to 2,000 characters.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CommentBody(String);

impl CommentBody {
    pub fn parse(body: &str) -> Result<CommentBody, SocialError> {
        text(body, BODY_LEN_MAX).map(CommentBody).ok_or(SocialError::InvalidCommentBody)
    }
}

crate::text_value!(CommentBody, SocialError, |_| SocialError::InvalidCommentBody);

#[derive(Clone, Debug, PartialEq)]
pub enum CommentCommand {
    /// `parent` is the comment replied to, as its stream has it.
    Add { comment_id: Uuid, post_id: Uuid, author_id: Uuid, parent: Option<Comment>, body: CommentBody, now: DateTime<Utc> },
    /// `post_author` is the author of the commented post.
    Delete { actor: Uuid, post_author: Uuid, is_admin: bool, now: DateTime<Utc> },
    React { user_id: Uuid, reaction: Reaction },
    Unreact { user_id: Uuid },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum CommentEvent {
    CommentAdded { comment_id: Uuid, post_id: Uuid, author_id: Uuid, parent_id: Option<Uuid>, body: Personal<CommentBody>, created_at: DateTime<Utc> },
    CommentDeleted { comment_id: Uuid, post_id: Uuid, deleted_by: Uuid, deleted_at: DateTime<Utc> },
    CommentReacted { comment_id: Uuid, user_id: Uuid, reaction: Reaction, previous: Option<Reaction> },
    CommentReactionRemoved { comment_id: Uuid, user_id: Uuid, reaction: Reaction },
}

pub const COMMENT_ADDED: EventType = EventType::new("CommentAdded", 1);
pub const COMMENT_DELETED: EventType = EventType::new("CommentDeleted", 1);
pub const COMMENT_REACTED: EventType = EventType::new("CommentReacted", 1);
pub const COMMENT_REACTION_REMOVED: EventType = EventType::new("CommentReactionRemoved", 1);

impl DomainEvent for CommentEvent {
    const TYPES: &'static [EventType] = &[COMMENT_ADDED, COMMENT_DELETED, COMMENT_REACTED, COMMENT_REACTION_REMOVED];

    fn data_subject(&self) -> Option<Uuid> {
        match self {
            CommentEvent::CommentAdded { author_id, .. } => Some(*author_id),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Comment {
    id: Option<Uuid>,
    post_id: Uuid,
    author_id: Uuid,
    parent_id: Option<Uuid>,
    deleted: bool,
    reactions: Reactions,
}

impl Comment {
    pub fn id(&self) -> Option<Uuid> {
        self.id
    }

    pub fn post_id(&self) -> Uuid {
        self.post_id
    }

    fn existing(&self) -> Result<Uuid, SocialError> {
        self.id.ok_or(SocialError::UnknownComment)
    }

    fn alive(&self) -> Result<Uuid, SocialError> {
        let id = self.existing()?;
        if self.deleted {
            return Err(SocialError::CommentDeleted);
        }
        Ok(id)
    }
}

impl Aggregate for Comment {
    type Command = CommentCommand;
    type Event = CommentEvent;
    type Rejection = SocialError;

    fn handle(&self, command: CommentCommand) -> Result<Vec<CommentEvent>, SocialError> {
        let event = match command {
            CommentCommand::Add { .. } if self.id.is_some() => return Err(SocialError::CommentExists),
            CommentCommand::Add { comment_id, post_id, author_id, parent, body, now } => {
                let parent_id = match parent {
                    None => None,
                    Some(parent) => match parent.id {
                        Some(parent_id) if parent.post_id == post_id && parent.parent_id.is_none() => Some(parent_id),
                        _ => return Err(SocialError::InvalidParent),
                    },
                };
                CommentEvent::CommentAdded { comment_id, post_id, author_id, parent_id, body: body.into(), created_at: now }
            }
            CommentCommand::Delete { actor, post_author, is_admin, now } => {
                let comment_id = self.existing()?;
                if self.deleted {
                    return Ok(vec![]);
                }
                if actor != self.author_id && actor != post_author && !is_admin {
                    return Err(SocialError::NotAuthor);
                }
                CommentEvent::CommentDeleted { comment_id, post_id: self.post_id, deleted_by: actor, deleted_at: now }
            }
            CommentCommand::React { user_id, reaction } => {
                let comment_id = self.alive()?;
                let Some(previous) = self.reactions.change(user_id, reaction) else { return Ok(vec![]) };
                CommentEvent::CommentReacted { comment_id, user_id, reaction, previous }
            }
            CommentCommand::Unreact { user_id } => {
                let comment_id = self.existing()?;
                let Some(reaction) = self.reactions.of(user_id) else { return Ok(vec![]) };
                CommentEvent::CommentReactionRemoved { comment_id, user_id, reaction }
            }
        };
        Ok(vec![event])
    }

    fn apply(&mut self, event: &CommentEvent) {
        match event {
            CommentEvent::CommentAdded { comment_id, post_id, author_id, parent_id, .. } => {
                *self = Comment { id: Some(*comment_id), post_id: *post_id, author_id: *author_id, parent_id: *parent_id, ..Comment::default() };
            }
            CommentEvent::CommentDeleted { .. } => self.deleted = true,
            CommentEvent::CommentReacted { user_id, reaction, .. } => self.reactions.set(*user_id, Some(*reaction)),
            CommentEvent::CommentReactionRemoved { user_id, .. } => self.reactions.set(*user_id, None),
        }
    }
}
