//! Categories, created by admins, named in English and Arabic. Courses and books name one.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{CATEGORY_NAME_LEN_MAX, CatalogueError, line};
use crate::kernel::{Aggregate, DomainEvent, EventType};

/// Stream type of categories; the stream id is the category id.
pub const STREAM_TYPE: &str = "category";

/// A category's name in one language: one line of 1 to 100 characters.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CategoryName(String);

impl CategoryName {
    pub fn parse(text: &str) -> Result<CategoryName, CatalogueError> {
        line(text, CATEGORY_NAME_LEN_MAX).map(CategoryName).ok_or(CatalogueError::InvalidCategoryName)
    }
}

crate::text_value!(CategoryName, CatalogueError, |_| CatalogueError::InvalidCategoryName);

#[derive(Clone, Debug, PartialEq)]
pub enum CategoryCommand {
    Create { category_id: Uuid, name_en: CategoryName, name_ar: CategoryName, created_by: Uuid, created_at: DateTime<Utc> },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum CategoryEvent {
    CategoryCreated { category_id: Uuid, name_en: CategoryName, name_ar: CategoryName, created_by: Uuid, created_at: DateTime<Utc> },
}

pub const CATEGORY_CREATED: EventType = EventType::new("CategoryCreated", 1);

impl DomainEvent for CategoryEvent {
    const TYPES: &'static [EventType] = &[CATEGORY_CREATED];
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Category {
    id: Option<Uuid>,
}

impl Category {
    pub fn exists(&self) -> bool {
        self.id.is_some()
    }
}

impl Aggregate for Category {
    type Command = CategoryCommand;
    type Event = CategoryEvent;
    type Rejection = CatalogueError;

    fn handle(&self, command: CategoryCommand) -> Result<Vec<CategoryEvent>, CatalogueError> {
        match command {
            CategoryCommand::Create { .. } if self.exists() => Err(CatalogueError::AlreadyExists),
            CategoryCommand::Create { category_id, name_en, name_ar, created_by, created_at } => {
                Ok(vec![CategoryEvent::CategoryCreated { category_id, name_en, name_ar, created_by, created_at }])
            }
        }
    }

    fn apply(&mut self, event: &CategoryEvent) {
        match event {
            CategoryEvent::CategoryCreated { category_id, .. } => self.id = Some(*category_id),
        }
    }
}
