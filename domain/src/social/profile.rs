//! A user's public face beyond their registration: what they say about themselves, where to find
//! them elsewhere, whether their posts are for followers only, and the categories they care about.
//! The name, language and time zone live on the user's own stream (`users`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{SocialError, text};
use crate::catalogue::ContentUrl;
use crate::kernel::{Aggregate, DomainEvent, EventType, Personal};

/// Stream type of profiles; the stream id is the user id.
pub const STREAM_TYPE: &str = "profile";
pub const HEADLINE_LEN_MAX: usize = 150;
pub const BIO_LEN_MAX: usize = 2000;
pub const LOCATION_LEN_MAX: usize = 100;
pub const SOCIAL_LINKS_MAX: usize = 10;
pub const EXPERTISE_MAX: usize = 20;
pub const EXPERTISE_TAG_LEN_MAX: usize = 50;
pub const INTERESTS_MAX: usize = 50;

/// What a user writes about themselves. Every field is optional; `None` shows as null.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ProfileDetails {
    pub headline: Option<String>,
    pub bio: Option<String>,
    pub location: Option<String>,
    /// A name (`twitter`, `linkedin`, …) to an https URL.
    pub social_links: BTreeMap<String, ContentUrl>,
    pub avatar_url: Option<ContentUrl>,
    pub cover_url: Option<ContentUrl>,
    pub expertise: Vec<String>,
}

/// A change to a profile: each field `None` to leave it, `Some(None)` to clear it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ProfileChange {
    pub headline: Option<Option<String>>,
    pub bio: Option<Option<String>>,
    pub location: Option<Option<String>>,
    pub social_links: Option<BTreeMap<String, String>>,
    pub avatar_url: Option<Option<String>>,
    pub cover_url: Option<Option<String>>,
    pub expertise: Option<Vec<String>>,
    pub is_private: Option<bool>,
}

impl ProfileChange {
    /// Every field this change gets wrong, for an answer that names them all.
    pub fn problems(&self) -> Vec<SocialError> {
        let fields = [
            ProfileChange { headline: self.headline.clone(), ..ProfileChange::default() },
            ProfileChange { bio: self.bio.clone(), ..ProfileChange::default() },
            ProfileChange { location: self.location.clone(), ..ProfileChange::default() },
            ProfileChange { social_links: self.social_links.clone(), ..ProfileChange::default() },
            ProfileChange { avatar_url: self.avatar_url.clone(), ..ProfileChange::default() },
            ProfileChange { cover_url: self.cover_url.clone(), ..ProfileChange::default() },
            ProfileChange { expertise: self.expertise.clone(), ..ProfileChange::default() },
        ];
        fields.iter().filter_map(|field| field.applied_to(&ProfileDetails::default()).err()).collect()
    }

    /// `details` with this change made, every changed field checked.
    fn applied_to(&self, details: &ProfileDetails) -> Result<ProfileDetails, SocialError> {
        let one_line = |value: &Option<String>, max: usize, refused: SocialError| -> Result<Option<String>, SocialError> {
            value.as_deref().map(|value| text(value, max).filter(|line| !line.contains(['\n', '\r'])).ok_or(refused)).transpose()
        };
        let url = |value: &Option<String>, refused: SocialError| -> Result<Option<ContentUrl>, SocialError> {
            value.as_deref().map(|value| ContentUrl::parse(value).map_err(|_| refused)).transpose()
        };
        let mut next = details.clone();
        if let Some(headline) = &self.headline {
            next.headline = one_line(headline, HEADLINE_LEN_MAX, SocialError::InvalidHeadline)?;
        }
        if let Some(bio) = &self.bio {
            next.bio = bio.as_deref().map(|bio| text(bio, BIO_LEN_MAX).ok_or(SocialError::InvalidBio)).transpose()?;
        }
        if let Some(location) = &self.location {
            next.location = one_line(location, LOCATION_LEN_MAX, SocialError::InvalidLocation)?;
        }
        if let Some(links) = &self.social_links {
            next.social_links = social_links(links)?;
        }
        if let Some(avatar) = &self.avatar_url {
            next.avatar_url = url(avatar, SocialError::InvalidAvatarUrl)?;
        }
        if let Some(cover) = &self.cover_url {
            next.cover_url = url(cover, SocialError::InvalidCoverUrl)?;
        }
        if let Some(expertise) = &self.expertise {
            next.expertise = expertise_tags(expertise)?;
        }
        Ok(next)
    }
}

fn social_links(links: &BTreeMap<String, String>) -> Result<BTreeMap<String, ContentUrl>, SocialError> {
    if links.len() > SOCIAL_LINKS_MAX {
        return Err(SocialError::InvalidSocialLinks);
    }
    links
        .iter()
        .map(|(name, url)| {
            let name_ok = (1..=30).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
            let url = ContentUrl::parse(url).ok().filter(|url| url.as_str().starts_with("https://"));
            match (name_ok, url) {
                (true, Some(url)) => Ok((name.clone(), url)),
                _ => Err(SocialError::InvalidSocialLinks),
            }
        })
        .collect()
}

fn expertise_tags(tags: &[String]) -> Result<Vec<String>, SocialError> {
    let mut kept: Vec<String> = Vec::with_capacity(tags.len());
    for tag in tags {
        let tag = text(tag, EXPERTISE_TAG_LEN_MAX).filter(|tag| !tag.contains(['\n', '\r'])).ok_or(SocialError::InvalidExpertise)?;
        if !kept.contains(&tag) {
            kept.push(tag);
        }
    }
    if kept.len() > EXPERTISE_MAX {
        return Err(SocialError::InvalidExpertise);
    }
    Ok(kept)
}

#[derive(Clone, Debug, PartialEq)]
pub enum ProfileCommand {
    Change { user_id: Uuid, change: ProfileChange },
    SetInterests { user_id: Uuid, category_ids: Vec<Uuid> },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ProfileEvent {
    /// The whole of what the user writes about themselves, as it is now.
    ProfileDetailsChanged { user_id: Uuid, details: Personal<ProfileDetails> },
    /// Turning private keeps existing followers; turning public accepts pending requests (the
    /// command layer appends their acceptances alongside).
    ProfilePrivacyChanged { user_id: Uuid, is_private: bool },
    InterestsChanged { user_id: Uuid, category_ids: Vec<Uuid> },
}

pub const PROFILE_DETAILS_CHANGED: EventType = EventType::new("ProfileDetailsChanged", 1);
pub const PROFILE_PRIVACY_CHANGED: EventType = EventType::new("ProfilePrivacyChanged", 1);
pub const INTERESTS_CHANGED: EventType = EventType::new("InterestsChanged", 1);

impl DomainEvent for ProfileEvent {
    const TYPES: &'static [EventType] = &[PROFILE_DETAILS_CHANGED, PROFILE_PRIVACY_CHANGED, INTERESTS_CHANGED];

    fn data_subject(&self) -> Option<Uuid> {
        match self {
            ProfileEvent::ProfileDetailsChanged { user_id, .. } => Some(*user_id),
            _ => None,
        }
    }
}

/// A profile as its events left it. A user who never changed it has the empty, public one.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Profile {
    details: Personal<ProfileDetails>,
    is_private: bool,
    interests: Vec<Uuid>,
}

impl Default for Personal<ProfileDetails> {
    fn default() -> Self {
        Personal::Known(ProfileDetails::default())
    }
}

impl Profile {
    /// What the user wrote; empty once erased.
    pub fn details(&self) -> ProfileDetails {
        self.details.known().cloned().unwrap_or_default()
    }

    pub fn is_private(&self) -> bool {
        self.is_private
    }

    pub fn interests(&self) -> &[Uuid] {
        &self.interests
    }
}

impl Aggregate for Profile {
    type Command = ProfileCommand;
    type Event = ProfileEvent;
    type Rejection = SocialError;

    fn handle(&self, command: ProfileCommand) -> Result<Vec<ProfileEvent>, SocialError> {
        match command {
            ProfileCommand::Change { user_id, change } => {
                let (current, mut events) = (self.details(), Vec::new());
                let details = change.applied_to(&current)?;
                if details != current || self.details.is_erased() {
                    events.push(ProfileEvent::ProfileDetailsChanged { user_id, details: details.into() });
                }
                if let Some(is_private) = change.is_private.filter(|is_private| *is_private != self.is_private) {
                    events.push(ProfileEvent::ProfilePrivacyChanged { user_id, is_private });
                }
                Ok(events)
            }
            ProfileCommand::SetInterests { user_id, mut category_ids } => {
                category_ids.sort_unstable();
                category_ids.dedup();
                if category_ids.len() > INTERESTS_MAX {
                    return Err(SocialError::InvalidInterests);
                }
                if category_ids == self.interests {
                    return Ok(vec![]);
                }
                Ok(vec![ProfileEvent::InterestsChanged { user_id, category_ids }])
            }
        }
    }

    fn apply(&mut self, event: &ProfileEvent) {
        match event {
            ProfileEvent::ProfileDetailsChanged { details, .. } => self.details = details.clone(),
            ProfileEvent::ProfilePrivacyChanged { is_private, .. } => self.is_private = *is_private,
            ProfileEvent::InterestsChanged { category_ids, .. } => self.interests = category_ids.clone(),
        }
    }
}
