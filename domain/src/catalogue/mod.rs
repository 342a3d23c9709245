//! The catalogue context: what speakers sell. Admins create the categories (`category`);
//! speakers write courses with ordered sections and lessons (`course`) and books (`book`), each
//! draft → published → archived, edited by its author only.
//!
//! Catalogue text (titles, descriptions) is the public, commercial content of a listing, not
//! personal data: it is stored plain, and outlives an erasure of its author, whose name readers
//! take from the users context. `search` normalises Arabic and English text for matching.

pub mod book;
pub mod category;
pub mod course;
pub mod search;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::kernel::{ContextEvents, DomainEvent, Rejection, RejectionKind, every};
use crate::money::Money;

/// The context's events, upcasters and rejections, for the kernel's registries.
pub const EVENTS: ContextEvents = ContextEvents {
    name: "catalogue",
    tables: &[category::CategoryEvent::TYPES, course::CourseEvent::TYPES, book::BookEvent::TYPES],
    upcasts: &[],
    rejections: every::<CatalogueError>,
};

pub const TITLE_LEN_MAX: usize = 200;
pub const DESCRIPTION_LEN_MAX: usize = 10_000;
pub const CATEGORY_NAME_LEN_MAX: usize = 100;
pub const URL_LEN_MAX: usize = 2048;
/// The highest price a listing may ask: 100,000.00 SAR.
pub const PRICE_MAX: Money = Money::from_halalas_const(10_000_000);

/// Business rejections of catalogue commands, and reasons of invalid catalogue input.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, strum::EnumIter)]
pub enum CatalogueError {
    #[error("the title must be 1 to 200 characters without control characters")]
    InvalidTitle,
    #[error("the description must be 1 to 10,000 characters")]
    InvalidDescription,
    #[error("a category name must be 1 to 100 characters without control characters")]
    InvalidCategoryName,
    #[error("the price must be 0.00 to 100,000.00 SAR with at most two decimals")]
    InvalidPrice,
    #[error("the discount price must be below the price")]
    DiscountNotBelowPrice,
    #[error("the language must be ar or en")]
    InvalidLanguage,
    #[error("the level must be beginner, intermediate or advanced")]
    InvalidLevel,
    #[error("the content type must be video, audio, pdf, text or link")]
    InvalidContentType,
    #[error("the URL must be an http or https URL of at most 2048 characters")]
    InvalidUrl,
    #[error("the duration must be 0 to 86,400 seconds")]
    InvalidDuration,
    #[error("the author must be 1 to 200 characters without control characters")]
    InvalidAuthor,
    #[error("the ISBN must have 10 or 13 digits (an ISBN-10 may end in X)")]
    InvalidIsbn,
    #[error("the page count must be 1 to 100,000")]
    InvalidPageCount,
    #[error("the preview pages must be 0 to the page count")]
    InvalidPreviewPages,
    #[error("no such category")]
    UnknownCategory,
    #[error("a course needs at least one lesson to be published")]
    NoLessons,
    #[error("no such course, book or category")]
    NotFound,
    #[error("no such section in this course")]
    UnknownSection,
    #[error("only the author may change it")]
    NotAuthor,
    #[error("it already exists")]
    AlreadyExists,
    #[error("it cannot do that in its current state")]
    InvalidState,
}

impl Rejection for CatalogueError {
    fn code(&self) -> &'static str {
        match self {
            CatalogueError::InvalidTitle => "invalid_title",
            CatalogueError::InvalidDescription => "invalid_description",
            CatalogueError::InvalidCategoryName => "invalid_category_name",
            CatalogueError::InvalidPrice => "invalid_price",
            CatalogueError::DiscountNotBelowPrice => "discount_not_below_price",
            CatalogueError::InvalidLanguage => "invalid_language",
            CatalogueError::InvalidLevel => "invalid_level",
            CatalogueError::InvalidContentType => "invalid_content_type",
            CatalogueError::InvalidUrl => "invalid_url",
            CatalogueError::InvalidDuration => "invalid_duration",
            CatalogueError::InvalidAuthor => "invalid_author",
            CatalogueError::InvalidIsbn => "invalid_isbn",
            CatalogueError::InvalidPageCount => "invalid_page_count",
            CatalogueError::InvalidPreviewPages => "invalid_preview_pages",
            CatalogueError::UnknownCategory => "unknown_category",
            CatalogueError::NoLessons => "no_lessons",
            CatalogueError::NotFound => "not_found",
            CatalogueError::UnknownSection => "unknown_section",
            CatalogueError::NotAuthor => "not_author",
            CatalogueError::AlreadyExists => "already_exists",
            CatalogueError::InvalidState => "invalid_state",
        }
    }

    fn kind(&self) -> RejectionKind {
        match self {
            CatalogueError::NotFound | CatalogueError::UnknownSection => RejectionKind::NotFound,
            CatalogueError::NotAuthor => RejectionKind::Forbidden,
            CatalogueError::AlreadyExists | CatalogueError::InvalidState => RejectionKind::Conflict,
            _ => RejectionKind::Invalid,
        }
    }

    fn field(&self) -> Option<&'static str> {
        match self {
            CatalogueError::InvalidTitle => Some("title"),
            CatalogueError::InvalidDescription => Some("description"),
            CatalogueError::InvalidCategoryName => Some("name"),
            CatalogueError::InvalidPrice => Some("price"),
            CatalogueError::DiscountNotBelowPrice => Some("discount_price"),
            CatalogueError::InvalidLanguage => Some("language"),
            CatalogueError::InvalidLevel => Some("level"),
            CatalogueError::InvalidContentType => Some("content_type"),
            CatalogueError::InvalidUrl => Some("url"),
            CatalogueError::InvalidDuration => Some("duration_seconds"),
            CatalogueError::InvalidAuthor => Some("author"),
            CatalogueError::InvalidIsbn => Some("isbn"),
            CatalogueError::InvalidPageCount => Some("page_count"),
            CatalogueError::InvalidPreviewPages => Some("preview_pages"),
            CatalogueError::UnknownCategory => Some("category_id"),
            // A rule of the whole listing: the rejection's own code answers it.
            CatalogueError::NoLessons => None,
            CatalogueError::NotFound
            | CatalogueError::UnknownSection
            | CatalogueError::NotAuthor
            | CatalogueError::AlreadyExists
            | CatalogueError::InvalidState => None,
        }
    }
}

/// Where a listing is in its life. Only a published one can be bought.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ListingStatus {
    #[default]
    Draft,
    Published,
    Archived,
}

impl ListingStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ListingStatus::Draft => "draft",
            ListingStatus::Published => "published",
            ListingStatus::Archived => "archived",
        }
    }
}

/// A listing's price: VAT included, with an optional discount below it. Buyers pay the
/// effective price. Read back from events through `new` too, so no stored price breaks the rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "PriceFields")]
pub struct Price {
    price: Money,
    discount_price: Option<Money>,
}

#[derive(Deserialize)]
struct PriceFields {
    price: Money,
    #[serde(default)]
    discount_price: Option<Money>,
}

impl TryFrom<PriceFields> for Price {
    type Error = CatalogueError;

    fn try_from(fields: PriceFields) -> Result<Price, CatalogueError> {
        Price::new(fields.price, fields.discount_price)
    }
}

impl Price {
    /// A price of at most `PRICE_MAX`, and a discount strictly below it.
    pub fn new(price: Money, discount_price: Option<Money>) -> Result<Price, CatalogueError> {
        if price > PRICE_MAX {
            return Err(CatalogueError::InvalidPrice);
        }
        if discount_price.is_some_and(|discount| discount >= price) {
            return Err(CatalogueError::DiscountNotBelowPrice);
        }
        Ok(Price { price, discount_price })
    }

    pub fn price(&self) -> Money {
        self.price
    }

    pub fn discount_price(&self) -> Option<Money> {
        self.discount_price
    }

    /// What a buyer pays now.
    pub fn effective(&self) -> Money {
        self.discount_price.unwrap_or(self.price)
    }
}

/// Parses a price as requests give it: a decimal string of 0.00 to `PRICE_MAX`.
pub fn parse_price(text: &str) -> Result<Money, CatalogueError> {
    Money::parse(text).ok().filter(|price| *price <= PRICE_MAX).ok_or(CatalogueError::InvalidPrice)
}

/// The id of a listing `actor` may change, or why not: an unknown listing is not found, a draft
/// is invisible to anyone but its author (not found), a published or archived one visible but not
/// theirs to change, and an archived one changes no more.
pub(crate) fn changeable(id: Option<Uuid>, author: Uuid, actor: Uuid, status: ListingStatus) -> Result<Uuid, CatalogueError> {
    let id = id.ok_or(CatalogueError::NotFound)?;
    match (author == actor, status) {
        (false, ListingStatus::Draft) => Err(CatalogueError::NotFound),
        (false, _) => Err(CatalogueError::NotAuthor),
        (true, ListingStatus::Archived) => Err(CatalogueError::InvalidState),
        (true, _) => Ok(id),
    }
}

/// A single line of text: trimmed, 1 to `max` characters, no control characters.
pub(crate) fn line(text: &str, max: usize) -> Option<String> {
    let text = text.trim();
    let length = text.chars().count();
    (length > 0 && length <= max && !text.chars().any(char::is_control)).then(|| text.to_owned())
}

/// A title: one line of 1 to 200 characters.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Title(String);

impl Title {
    pub fn parse(text: &str) -> Result<Title, CatalogueError> {
        line(text, TITLE_LEN_MAX).map(Title).ok_or(CatalogueError::InvalidTitle)
    }
}

crate::text_value!(Title, CatalogueError, |_| CatalogueError::InvalidTitle);

/// A description: trimmed, 1 to 10,000 characters; line breaks and tabs allowed.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Description(String);

impl Description {
    pub fn parse(text: &str) -> Result<Description, CatalogueError> {
        let text = text.trim();
        let length = text.chars().count();
        let printable = !text.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'));
        if length == 0 || length > DESCRIPTION_LEN_MAX || !printable {
            return Err(CatalogueError::InvalidDescription);
        }
        Ok(Description(text.to_owned()))
    }
}

crate::text_value!(Description, CatalogueError, |_| CatalogueError::InvalidDescription);

/// An http(s) URL of content or an image, kept as given (trimmed).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ContentUrl(String);

impl ContentUrl {
    pub fn parse(text: &str) -> Result<ContentUrl, CatalogueError> {
        let url = text.trim();
        let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://")).unwrap_or("");
        let host = rest.split(['/', '?', '#']).next().unwrap_or("");
        let valid = !host.is_empty() && url.len() <= URL_LEN_MAX && !url.chars().any(|c| c.is_whitespace() || c.is_control());
        valid.then(|| ContentUrl(url.to_owned())).ok_or(CatalogueError::InvalidUrl)
    }
}

crate::text_value!(ContentUrl, CatalogueError, |_| CatalogueError::InvalidUrl);
