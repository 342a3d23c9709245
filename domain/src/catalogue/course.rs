//! Courses: a speaker's listing with ordered sections of ordered lessons. Draft until published
//! (which needs a lesson), then archived when it is no longer sold; only its author changes it.
//! A price change applies to purchases after it: checkouts read the price when they happen.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{CatalogueError, ContentUrl, Description, ListingStatus, Price, Title, changeable};
use crate::kernel::{Aggregate, DomainEvent, EventType};
use crate::money::Money;
use crate::users::Language;

/// Stream type of courses; the stream id is the course id.
pub const STREAM_TYPE: &str = "course";
/// The longest a lesson may last: a day.
pub const LESSON_DURATION_SECONDS_MAX: u32 = 86_400;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Beginner,
    Intermediate,
    Advanced,
}

impl Level {
    pub const ALL: [Level; 3] = [Level::Beginner, Level::Intermediate, Level::Advanced];

    pub fn parse(text: &str) -> Result<Level, CatalogueError> {
        Level::ALL.into_iter().find(|level| level.as_str() == text).ok_or(CatalogueError::InvalidLevel)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Level::Beginner => "beginner",
            Level::Intermediate => "intermediate",
            Level::Advanced => "advanced",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContentType {
    Video,
    Audio,
    Pdf,
    Text,
    Link,
}

impl ContentType {
    pub const ALL: [ContentType; 5] = [ContentType::Video, ContentType::Audio, ContentType::Pdf, ContentType::Text, ContentType::Link];

    pub fn parse(text: &str) -> Result<ContentType, CatalogueError> {
        ContentType::ALL.into_iter().find(|kind| kind.as_str() == text).ok_or(CatalogueError::InvalidContentType)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ContentType::Video => "video",
            ContentType::Audio => "audio",
            ContentType::Pdf => "pdf",
            ContentType::Text => "text",
            ContentType::Link => "link",
        }
    }
}

/// A course's language: `ar` or `en`.
pub fn parse_language(text: &str) -> Result<Language, CatalogueError> {
    Language::parse(text).map_err(|_| CatalogueError::InvalidLanguage)
}

/// A lesson's length in seconds, at most a day.
pub fn parse_duration(seconds: i64) -> Result<u32, CatalogueError> {
    u32::try_from(seconds).ok().filter(|seconds| *seconds <= LESSON_DURATION_SECONDS_MAX).ok_or(CatalogueError::InvalidDuration)
}

/// What the author writes about a course, all of it replaced by an edit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CourseDetails {
    pub title: Title,
    pub description: Description,
    pub category_id: Uuid,
    pub language: Language,
    pub level: Level,
    #[serde(flatten)]
    pub price: Price,
}

/// An edit: each field given replaces the current one; a field left out keeps it.
/// `discount_price: Some(None)` removes the discount.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CoursePatch {
    pub title: Option<Title>,
    pub description: Option<Description>,
    pub category_id: Option<Uuid>,
    pub language: Option<Language>,
    pub level: Option<Level>,
    pub price: Option<Money>,
    pub discount_price: Option<Option<Money>>,
}

impl CourseDetails {
    /// These details with the patch applied; the price rule holds for the result.
    pub fn patched(&self, patch: CoursePatch) -> Result<CourseDetails, CatalogueError> {
        let price = Price::new(
            patch.price.unwrap_or(self.price.price()),
            patch.discount_price.unwrap_or(self.price.discount_price()),
        )?;
        Ok(CourseDetails {
            title: patch.title.unwrap_or_else(|| self.title.clone()),
            description: patch.description.unwrap_or_else(|| self.description.clone()),
            category_id: patch.category_id.unwrap_or(self.category_id),
            language: patch.language.unwrap_or(self.language),
            level: patch.level.unwrap_or(self.level),
            price,
        })
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Lesson {
    pub lesson_id: Uuid,
    pub title: Title,
    pub content_type: ContentType,
    pub content_url: ContentUrl,
    pub duration_seconds: u32,
    pub is_preview: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub enum CourseCommand {
    /// The category is known to exist: the command layer checks it.
    Create { course_id: Uuid, speaker_id: Uuid, details: CourseDetails, created_at: DateTime<Utc> },
    Update { actor: Uuid, details: CourseDetails, updated_at: DateTime<Utc> },
    AddSection { actor: Uuid, section_id: Uuid, title: Title },
    AddLesson { actor: Uuid, section_id: Uuid, lesson: Lesson },
    Publish { actor: Uuid, published_at: DateTime<Utc> },
    Archive { actor: Uuid, archived_at: DateTime<Utc> },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum CourseEvent {
    CourseCreated {
        course_id: Uuid,
        speaker_id: Uuid,
        #[serde(flatten)]
        details: CourseDetails,
        created_at: DateTime<Utc>,
    },
    CourseUpdated {
        course_id: Uuid,
        #[serde(flatten)]
        details: CourseDetails,
        updated_at: DateTime<Utc>,
    },
    SectionAdded {
        course_id: Uuid,
        section_id: Uuid,
        title: Title,
    },
    LessonAdded {
        course_id: Uuid,
        section_id: Uuid,
        #[serde(flatten)]
        lesson: Lesson,
    },
    CoursePublished {
        course_id: Uuid,
        published_at: DateTime<Utc>,
    },
    CourseArchived {
        course_id: Uuid,
        archived_at: DateTime<Utc>,
    },
}

pub const COURSE_CREATED: EventType = EventType::new("CourseCreated", 1);
pub const COURSE_UPDATED: EventType = EventType::new("CourseUpdated", 1);
pub const SECTION_ADDED: EventType = EventType::new("SectionAdded", 1);
pub const LESSON_ADDED: EventType = EventType::new("LessonAdded", 1);
pub const COURSE_PUBLISHED: EventType = EventType::new("CoursePublished", 1);
pub const COURSE_ARCHIVED: EventType = EventType::new("CourseArchived", 1);

impl DomainEvent for CourseEvent {
    const TYPES: &'static [EventType] = &[COURSE_CREATED, COURSE_UPDATED, SECTION_ADDED, LESSON_ADDED, COURSE_PUBLISHED, COURSE_ARCHIVED];
}

impl CourseEvent {
    pub fn course_id(&self) -> Uuid {
        match self {
            CourseEvent::CourseCreated { course_id, .. }
            | CourseEvent::CourseUpdated { course_id, .. }
            | CourseEvent::SectionAdded { course_id, .. }
            | CourseEvent::LessonAdded { course_id, .. }
            | CourseEvent::CoursePublished { course_id, .. }
            | CourseEvent::CourseArchived { course_id, .. } => *course_id,
        }
    }
}

/// The course as its rules need it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Course {
    id: Option<Uuid>,
    speaker_id: Uuid,
    status: ListingStatus,
    details: Option<CourseDetails>,
    /// Each section and how many lessons it has, in order.
    sections: Vec<(Uuid, usize)>,
}

impl Course {
    pub fn id(&self) -> Option<Uuid> {
        self.id
    }

    pub fn speaker_id(&self) -> Uuid {
        self.speaker_id
    }

    pub fn status(&self) -> ListingStatus {
        self.status
    }

    pub fn details(&self) -> Option<&CourseDetails> {
        self.details.as_ref()
    }

    pub fn lesson_count(&self) -> usize {
        self.sections.iter().map(|(_, lessons)| lessons).sum()
    }

    /// The course for its author (or the actor) to change, or why not.
    fn changeable_by(&self, actor: Uuid) -> Result<Uuid, CatalogueError> {
        changeable(self.id, self.speaker_id, actor, self.status)
    }
}

impl Aggregate for Course {
    type Command = CourseCommand;
    type Event = CourseEvent;
    type Rejection = CatalogueError;

    fn handle(&self, command: CourseCommand) -> Result<Vec<CourseEvent>, CatalogueError> {
        let event = match command {
            CourseCommand::Create { .. } if self.id.is_some() => return Err(CatalogueError::AlreadyExists),
            CourseCommand::Create { course_id, speaker_id, details, created_at } => {
                CourseEvent::CourseCreated { course_id, speaker_id, details, created_at }
            }
            CourseCommand::Update { actor, details, updated_at } => {
                CourseEvent::CourseUpdated { course_id: self.changeable_by(actor)?, details, updated_at }
            }
            CourseCommand::AddSection { actor, section_id, title } => {
                let course_id = self.changeable_by(actor)?;
                if self.sections.iter().any(|(id, _)| *id == section_id) {
                    return Err(CatalogueError::AlreadyExists);
                }
                CourseEvent::SectionAdded { course_id, section_id, title }
            }
            CourseCommand::AddLesson { actor, section_id, lesson } => {
                let course_id = self.changeable_by(actor)?;
                if !self.sections.iter().any(|(id, _)| *id == section_id) {
                    return Err(CatalogueError::UnknownSection);
                }
                CourseEvent::LessonAdded { course_id, section_id, lesson }
            }
            CourseCommand::Publish { actor, published_at } => {
                let course_id = self.changeable_by(actor)?;
                if self.status != ListingStatus::Draft {
                    return Err(CatalogueError::InvalidState);
                }
                if self.lesson_count() == 0 {
                    return Err(CatalogueError::NoLessons);
                }
                CourseEvent::CoursePublished { course_id, published_at }
            }
            CourseCommand::Archive { actor, archived_at } => CourseEvent::CourseArchived { course_id: self.changeable_by(actor)?, archived_at },
        };
        Ok(vec![event])
    }

    fn apply(&mut self, event: &CourseEvent) {
        match event {
            CourseEvent::CourseCreated { course_id, speaker_id, details, .. } => {
                self.id = Some(*course_id);
                self.speaker_id = *speaker_id;
                self.details = Some(details.clone());
            }
            CourseEvent::CourseUpdated { details, .. } => self.details = Some(details.clone()),
            CourseEvent::SectionAdded { section_id, .. } => self.sections.push((*section_id, 0)),
            CourseEvent::LessonAdded { section_id, .. } => {
                if let Some((_, lessons)) = self.sections.iter_mut().find(|(id, _)| id == section_id) {
                    *lessons += 1;
                }
            }
            CourseEvent::CoursePublished { .. } => self.status = ListingStatus::Published,
            CourseEvent::CourseArchived { .. } => self.status = ListingStatus::Archived,
        }
    }
}
