//! Books: a speaker's PDF with a cover, a page count and some preview pages. Draft until
//! published, archived when no longer sold; only its author changes it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{CatalogueError, ContentUrl, Description, ListingStatus, Price, TITLE_LEN_MAX, Title, changeable, line};
use crate::kernel::{Aggregate, DomainEvent, EventType};
use crate::money::Money;

/// Stream type of books; the stream id is the book id.
pub const STREAM_TYPE: &str = "book";
pub const PAGE_COUNT_MAX: u32 = 100_000;

/// Who wrote the book (not necessarily the speaker selling it): one line of 1 to 200 characters.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Author(String);

impl Author {
    pub fn parse(text: &str) -> Result<Author, CatalogueError> {
        line(text, TITLE_LEN_MAX).map(Author).ok_or(CatalogueError::InvalidAuthor)
    }
}

crate::text_value!(Author, CatalogueError, |_| CatalogueError::InvalidAuthor);

/// An ISBN-10 or ISBN-13, kept as digits only (hyphens and spaces dropped; an ISBN-10 may end in
/// X). The check digit is not verified: publishers do print wrong ones.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Isbn(String);

impl Isbn {
    pub fn parse(text: &str) -> Result<Isbn, CatalogueError> {
        let isbn: String = text.chars().filter(|c| !matches!(c, '-' | ' ')).collect::<String>().to_ascii_uppercase();
        let (body, last) = isbn.split_at(isbn.len().saturating_sub(1));
        let digits = body.bytes().all(|b| b.is_ascii_digit());
        let valid = match isbn.len() {
            10 => digits && (last == "X" || last.bytes().all(|b| b.is_ascii_digit())),
            13 => digits && last.bytes().all(|b| b.is_ascii_digit()),
            _ => false,
        };
        valid.then_some(Isbn(isbn)).ok_or(CatalogueError::InvalidIsbn)
    }
}

crate::text_value!(Isbn, CatalogueError, |_| CatalogueError::InvalidIsbn);

/// A page count of 1 to `PAGE_COUNT_MAX`.
pub fn parse_page_count(pages: i64) -> Result<u32, CatalogueError> {
    u32::try_from(pages).ok().filter(|pages| (1..=PAGE_COUNT_MAX).contains(pages)).ok_or(CatalogueError::InvalidPageCount)
}

/// What the author writes about a book, all of it replaced by an edit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BookDetails {
    pub title: Title,
    pub description: Description,
    pub category_id: Uuid,
    pub author: Author,
    pub isbn: Option<Isbn>,
    pub page_count: u32,
    /// Pages anyone may read before buying, from the first: at most the page count.
    pub preview_pages: u32,
    #[serde(flatten)]
    pub price: Price,
    pub cover_url: Option<ContentUrl>,
    pub pdf_url: Option<ContentUrl>,
}

/// An edit: each field given replaces the current one; a field left out keeps it. `Some(None)`
/// removes an optional one (the ISBN, the discount, the cover, the PDF).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BookPatch {
    pub title: Option<Title>,
    pub description: Option<Description>,
    pub category_id: Option<Uuid>,
    pub author: Option<Author>,
    pub isbn: Option<Option<Isbn>>,
    pub page_count: Option<u32>,
    pub preview_pages: Option<u32>,
    pub price: Option<Money>,
    pub discount_price: Option<Option<Money>>,
    pub cover_url: Option<Option<ContentUrl>>,
    pub pdf_url: Option<Option<ContentUrl>>,
}

impl BookDetails {
    /// These details with the patch applied; the price rule holds for the result (the preview
    /// rule is checked when the edit is decided).
    pub fn patched(&self, patch: BookPatch) -> Result<BookDetails, CatalogueError> {
        let price = Price::new(
            patch.price.unwrap_or(self.price.price()),
            patch.discount_price.unwrap_or(self.price.discount_price()),
        )?;
        Ok(BookDetails {
            title: patch.title.unwrap_or_else(|| self.title.clone()),
            description: patch.description.unwrap_or_else(|| self.description.clone()),
            category_id: patch.category_id.unwrap_or(self.category_id),
            author: patch.author.unwrap_or_else(|| self.author.clone()),
            isbn: patch.isbn.unwrap_or_else(|| self.isbn.clone()),
            page_count: patch.page_count.unwrap_or(self.page_count),
            preview_pages: patch.preview_pages.unwrap_or(self.preview_pages),
            price,
            cover_url: patch.cover_url.unwrap_or_else(|| self.cover_url.clone()),
            pdf_url: patch.pdf_url.unwrap_or_else(|| self.pdf_url.clone()),
        })
    }

    fn check(&self) -> Result<(), CatalogueError> {
        if self.preview_pages > self.page_count {
            return Err(CatalogueError::InvalidPreviewPages);
        }
        Ok(())
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum BookCommand {
    /// The category is known to exist: the command layer checks it.
    Create { book_id: Uuid, speaker_id: Uuid, details: BookDetails, created_at: DateTime<Utc> },
    Update { actor: Uuid, details: BookDetails, updated_at: DateTime<Utc> },
    Publish { actor: Uuid, published_at: DateTime<Utc> },
    Archive { actor: Uuid, archived_at: DateTime<Utc> },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum BookEvent {
    BookCreated {
        book_id: Uuid,
        speaker_id: Uuid,
        #[serde(flatten)]
        details: BookDetails,
        created_at: DateTime<Utc>,
    },
    BookUpdated {
        book_id: Uuid,
        #[serde(flatten)]
        details: BookDetails,
        updated_at: DateTime<Utc>,
    },
    BookPublished {
        book_id: Uuid,
        published_at: DateTime<Utc>,
    },
    BookArchived {
        book_id: Uuid,
        archived_at: DateTime<Utc>,
    },
}

pub const BOOK_CREATED: EventType = EventType::new("BookCreated", 1);
pub const BOOK_UPDATED: EventType = EventType::new("BookUpdated", 1);
pub const BOOK_PUBLISHED: EventType = EventType::new("BookPublished", 1);
pub const BOOK_ARCHIVED: EventType = EventType::new("BookArchived", 1);

impl DomainEvent for BookEvent {
    const TYPES: &'static [EventType] = &[BOOK_CREATED, BOOK_UPDATED, BOOK_PUBLISHED, BOOK_ARCHIVED];
}

impl BookEvent {
    pub fn book_id(&self) -> Uuid {
        match self {
            BookEvent::BookCreated { book_id, .. }
            | BookEvent::BookUpdated { book_id, .. }
            | BookEvent::BookPublished { book_id, .. }
            | BookEvent::BookArchived { book_id, .. } => *book_id,
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Book {
    id: Option<Uuid>,
    speaker_id: Uuid,
    status: ListingStatus,
    details: Option<BookDetails>,
}

impl Book {
    pub fn id(&self) -> Option<Uuid> {
        self.id
    }

    pub fn speaker_id(&self) -> Uuid {
        self.speaker_id
    }

    pub fn status(&self) -> ListingStatus {
        self.status
    }

    pub fn details(&self) -> Option<&BookDetails> {
        self.details.as_ref()
    }

    fn changeable_by(&self, actor: Uuid) -> Result<Uuid, CatalogueError> {
        changeable(self.id, self.speaker_id, actor, self.status)
    }
}

impl Aggregate for Book {
    type Command = BookCommand;
    type Event = BookEvent;
    type Rejection = CatalogueError;

    fn handle(&self, command: BookCommand) -> Result<Vec<BookEvent>, CatalogueError> {
        let event = match command {
            BookCommand::Create { .. } if self.id.is_some() => return Err(CatalogueError::AlreadyExists),
            BookCommand::Create { book_id, speaker_id, details, created_at } => {
                details.check()?;
                BookEvent::BookCreated { book_id, speaker_id, details, created_at }
            }
            BookCommand::Update { actor, details, updated_at } => {
                let book_id = self.changeable_by(actor)?;
                details.check()?;
                BookEvent::BookUpdated { book_id, details, updated_at }
            }
            BookCommand::Publish { actor, published_at } => {
                let book_id = self.changeable_by(actor)?;
                if self.status != ListingStatus::Draft {
                    return Err(CatalogueError::InvalidState);
                }
                BookEvent::BookPublished { book_id, published_at }
            }
            BookCommand::Archive { actor, archived_at } => BookEvent::BookArchived { book_id: self.changeable_by(actor)?, archived_at },
        };
        Ok(vec![event])
    }

    fn apply(&mut self, event: &BookEvent) {
        match event {
            BookEvent::BookCreated { book_id, speaker_id, details, .. } => {
                self.id = Some(*book_id);
                self.speaker_id = *speaker_id;
                self.details = Some(details.clone());
            }
            BookEvent::BookUpdated { details, .. } => self.details = Some(details.clone()),
            BookEvent::BookPublished { .. } => self.status = ListingStatus::Published,
            BookEvent::BookArchived { .. } => self.status = ListingStatus::Archived,
        }
    }
}
