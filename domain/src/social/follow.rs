//! Who follows a user, and who asked to: one stream per followed user, so the decision whether
//! someone follows, asked, or may ask again rests on one version, however many follow at once.
//! A public profile is followed at once; a private one gets a request its owner accepts or
//! rejects. Unfollowing withdraws a request too.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::SocialError;
use crate::kernel::{Aggregate, DomainEvent, EventType};

/// Stream type of a user's followers; the stream id is the followed user's id.
pub const STREAM_TYPE: &str = "followers";

/// Where one user stands with another, as `GET /users/{username}` shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FollowStatus {
    None,
    Requested,
    Following,
    #[serde(rename = "self")]
    Oneself,
}

impl FollowStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            FollowStatus::None => "none",
            FollowStatus::Requested => "requested",
            FollowStatus::Following => "following",
            FollowStatus::Oneself => "self",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum FollowCommand {
    /// `is_private` is the followed profile's privacy now; `request_id` names the request if one
    /// is made.
    Follow { followee: Uuid, follower: Uuid, is_private: bool, request_id: Uuid, now: DateTime<Utc> },
    Unfollow { followee: Uuid, follower: Uuid, now: DateTime<Utc> },
    Accept { request_id: Uuid, now: DateTime<Utc> },
    Reject { request_id: Uuid, now: DateTime<Utc> },
    /// The profile turned public: every waiting request is accepted.
    AcceptAll { now: DateTime<Utc> },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum FollowEvent {
    Followed { followee_id: Uuid, follower_id: Uuid, followed_at: DateTime<Utc> },
    FollowRequested { followee_id: Uuid, follower_id: Uuid, request_id: Uuid, requested_at: DateTime<Utc> },
    FollowRequestAccepted { followee_id: Uuid, follower_id: Uuid, request_id: Uuid, followed_at: DateTime<Utc> },
    /// Rejected by the followed user, or withdrawn by the one who asked.
    FollowRequestClosed { followee_id: Uuid, follower_id: Uuid, request_id: Uuid, closed_at: DateTime<Utc> },
    Unfollowed { followee_id: Uuid, follower_id: Uuid, unfollowed_at: DateTime<Utc> },
}

pub const FOLLOWED: EventType = EventType::new("Followed", 1);
pub const FOLLOW_REQUESTED: EventType = EventType::new("FollowRequested", 1);
pub const FOLLOW_REQUEST_ACCEPTED: EventType = EventType::new("FollowRequestAccepted", 1);
pub const FOLLOW_REQUEST_CLOSED: EventType = EventType::new("FollowRequestClosed", 1);
pub const UNFOLLOWED: EventType = EventType::new("Unfollowed", 1);

impl DomainEvent for FollowEvent {
    const TYPES: &'static [EventType] = &[FOLLOWED, FOLLOW_REQUESTED, FOLLOW_REQUEST_ACCEPTED, FOLLOW_REQUEST_CLOSED, UNFOLLOWED];
}

/// A user's followers and the requests waiting for them.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Followers {
    followee: Option<Uuid>,
    followers: BTreeSet<Uuid>,
    /// Request id to the one who asked.
    requests: BTreeMap<Uuid, Uuid>,
}

impl Followers {
    pub fn status_of(&self, user: Uuid) -> FollowStatus {
        if self.followee == Some(user) {
            FollowStatus::Oneself
        } else if self.followers.contains(&user) {
            FollowStatus::Following
        } else if self.requests.values().any(|asker| *asker == user) {
            FollowStatus::Requested
        } else {
            FollowStatus::None
        }
    }

    pub fn is_follower(&self, user: Uuid) -> bool {
        self.followers.contains(&user)
    }

    fn request_of(&self, user: Uuid) -> Option<Uuid> {
        self.requests.iter().find(|(_, asker)| **asker == user).map(|(request, _)| *request)
    }

    fn request(&self, request_id: Uuid) -> Result<(Uuid, Uuid), SocialError> {
        let follower = self.requests.get(&request_id).ok_or(SocialError::UnknownFollowRequest)?;
        Ok((self.followee.ok_or(SocialError::UnknownFollowRequest)?, *follower))
    }
}

impl Aggregate for Followers {
    type Command = FollowCommand;
    type Event = FollowEvent;
    type Rejection = SocialError;

    fn handle(&self, command: FollowCommand) -> Result<Vec<FollowEvent>, SocialError> {
        let event = match command {
            FollowCommand::Follow { followee, follower, .. } if followee == follower => return Err(SocialError::CannotFollowSelf),
            // Following again changes nothing; the status answers it.
            FollowCommand::Follow { follower, .. } if self.status_of(follower) != FollowStatus::None => return Ok(vec![]),
            FollowCommand::Follow { followee, follower, is_private: true, request_id, now } => {
                FollowEvent::FollowRequested { followee_id: followee, follower_id: follower, request_id, requested_at: now }
            }
            FollowCommand::Follow { followee, follower, is_private: false, now, .. } => FollowEvent::Followed { followee_id: followee, follower_id: follower, followed_at: now },
            FollowCommand::Unfollow { followee, follower, now } => {
                if self.followers.contains(&follower) {
                    FollowEvent::Unfollowed { followee_id: followee, follower_id: follower, unfollowed_at: now }
                } else if let Some(request_id) = self.request_of(follower) {
                    FollowEvent::FollowRequestClosed { followee_id: followee, follower_id: follower, request_id, closed_at: now }
                } else {
                    return Ok(vec![]);
                }
            }
            FollowCommand::Accept { request_id, now } => {
                let (followee_id, follower_id) = self.request(request_id)?;
                FollowEvent::FollowRequestAccepted { followee_id, follower_id, request_id, followed_at: now }
            }
            FollowCommand::Reject { request_id, now } => {
                let (followee_id, follower_id) = self.request(request_id)?;
                FollowEvent::FollowRequestClosed { followee_id, follower_id, request_id, closed_at: now }
            }
            FollowCommand::AcceptAll { now } => {
                let Some(followee_id) = self.followee else { return Ok(vec![]) };
                return Ok(self
                    .requests
                    .iter()
                    .map(|(request_id, follower_id)| FollowEvent::FollowRequestAccepted { followee_id, follower_id: *follower_id, request_id: *request_id, followed_at: now })
                    .collect());
            }
        };
        Ok(vec![event])
    }

    fn apply(&mut self, event: &FollowEvent) {
        match event {
            FollowEvent::Followed { followee_id, follower_id, .. } => {
                self.followee = Some(*followee_id);
                self.followers.insert(*follower_id);
            }
            FollowEvent::FollowRequested { followee_id, follower_id, request_id, .. } => {
                self.followee = Some(*followee_id);
                self.requests.insert(*request_id, *follower_id);
            }
            FollowEvent::FollowRequestAccepted { follower_id, request_id, .. } => {
                self.requests.remove(request_id);
                self.followers.insert(*follower_id);
            }
            FollowEvent::FollowRequestClosed { request_id, .. } => {
                self.requests.remove(request_id);
            }
            FollowEvent::Unfollowed { follower_id, .. } => {
                self.followers.remove(follower_id);
            }
        }
    }
}
