//! Catalogue objects as the contract shows them, built from the read models for one viewer.

use chrono::{DateTime, Utc};
use projections::catalogue::queries::{Category, Extra, Kind, Listing};
use rust_decimal::prelude::ToPrimitive;
use schemars::JsonSchema;
use serde::Serialize;
use uuid::Uuid;

use crate::auth::Viewer;
use crate::error::ApiError;
use crate::i18n::Lang;
use crate::startup::AppState;
use crate::wallet::sar;

#[derive(Debug, Serialize, JsonSchema)]
pub struct CategoryView {
    pub id: Uuid,
    /// In the request's language.
    pub name: String,
    pub name_en: String,
    pub name_ar: String,
}

impl From<Category> for CategoryView {
    fn from(category: Category) -> Self {
        let name = match Lang::current() {
            Lang::En => category.name_en.clone(),
            Lang::Ar => category.name_ar.clone(),
        };
        CategoryView { id: category.id, name, name_en: category.name_en, name_ar: category.name_ar }
    }
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct SpeakerView {
    pub id: Uuid,
    /// Null once the speaker's account is erased.
    pub username: Option<String>,
    pub name: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct LessonView {
    pub id: Uuid,
    pub title: String,
    #[schemars(extend("enum" = ["video", "audio", "pdf", "text", "link"]))]
    pub content_type: String,
    /// For enrolled students, the author and admins, and in preview lessons.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_url: Option<String>,
    pub duration_seconds: u32,
    pub is_preview: bool,
}

impl LessonView {
    /// A lesson as its author sees it.
    pub fn of(lesson: &domain::catalogue::course::Lesson) -> LessonView {
        LessonView {
            id: lesson.lesson_id,
            title: lesson.title.to_string(),
            content_type: lesson.content_type.as_str().to_owned(),
            content_url: Some(lesson.content_url.to_string()),
            duration_seconds: lesson.duration_seconds,
            is_preview: lesson.is_preview,
        }
    }
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct SectionView {
    pub id: Uuid,
    pub title: String,
    pub lessons: Vec<LessonView>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct CourseView {
    pub id: Uuid,
    pub speaker: SpeakerView,
    pub title: String,
    pub description: String,
    pub category_id: Uuid,
    #[schemars(extend("enum" = ["ar", "en"]))]
    pub language: String,
    #[schemars(extend("enum" = ["beginner", "intermediate", "advanced"]))]
    pub level: String,
    /// VAT included.
    #[schemars(example = "115.00", extend("pattern" = r"^[0-9]+\.[0-9]{2}$"))]
    pub price: String,
    /// What buyers pay while it is set; absent without a discount.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(example = "99.00", extend("pattern" = r"^[0-9]+\.[0-9]{2}$"))]
    pub discount_price: Option<String>,
    #[schemars(extend("enum" = ["draft", "published", "archived"]))]
    pub status: String,
    pub total_lessons: u32,
    pub students_count: u32,
    /// From 0 to 5; 0 before the first review.
    pub average_rating: f64,
    pub reviews_count: u32,
    /// Whether the caller is enrolled; false without a token.
    pub is_enrolled: bool,
    /// In the course's detail only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sections: Option<Vec<SectionView>>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct BookView {
    pub id: Uuid,
    pub speaker: SpeakerView,
    pub title: String,
    pub description: String,
    pub category_id: Uuid,
    pub author: String,
    pub isbn: Option<String>,
    pub page_count: u32,
    #[schemars(example = "45.00", extend("pattern" = r"^[0-9]+\.[0-9]{2}$"))]
    pub price: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(extend("pattern" = r"^[0-9]+\.[0-9]{2}$"))]
    pub discount_price: Option<String>,
    pub preview_pages: u32,
    pub cover_url: Option<String>,
    #[schemars(extend("enum" = ["draft", "published", "archived"]))]
    pub status: String,
    pub purchases_count: u32,
    pub average_rating: f64,
    pub reviews_count: u32,
    /// Whether the caller bought it; false without a token.
    pub is_owned: bool,
    /// For buyers, the author and admins only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pdf_url: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// What one viewer may see of one listing.
struct Access {
    owned: bool,
    /// The author or an admin.
    manages: bool,
}

impl Access {
    async fn of(state: &AppState, viewer: &Viewer, kind: Kind, listing: &Listing) -> Result<Access, ApiError> {
        let Some(user_id) = viewer.user_id() else { return Ok(Access { owned: false, manages: false }) };
        let owned = state.queries.commerce.owns(user_id, item_type(kind), listing.id).await?;
        Ok(Access { owned, manages: listing.speaker.id == user_id || viewer.is_admin() })
    }

    /// Drafts are for their managers; archived listings also for those who own them.
    fn sees(&self, listing: &Listing) -> bool {
        match listing.status.as_str() {
            "published" => true,
            "archived" => self.manages || self.owned,
            _ => self.manages,
        }
    }

    fn opens_content(&self) -> bool {
        self.manages || self.owned
    }
}

pub(crate) fn item_type(kind: Kind) -> &'static str {
    match kind {
        Kind::Course => "course",
        Kind::Book => "book",
    }
}

/// A page of listings for one viewer, with `is_enrolled` / `is_owned` filled in.
pub async fn listings(state: &AppState, viewer: &Viewer, kind: Kind, items: &[Listing]) -> Result<Vec<serde_json::Value>, ApiError> {
    let owned = match viewer.user_id() {
        Some(user_id) => {
            let ids: Vec<Uuid> = items.iter().map(|listing| listing.id).collect();
            state.queries.commerce.owned_among(user_id, item_type(kind), &ids).await?
        }
        None => Default::default(),
    };
    items
        .iter()
        .map(|listing| {
            let owned = owned.contains(&listing.id);
            let value = match kind {
                Kind::Course => serde_json::to_value(course_view(listing, owned, None)),
                Kind::Book => serde_json::to_value(book_view(listing, owned, false)?),
            };
            value.map_err(ApiError::internal)
        })
        .collect()
}

/// A course with its sections, as `viewer` may see it: 404 when they may not.
pub async fn course(state: &AppState, viewer: &Viewer, course_id: Uuid) -> Result<CourseView, ApiError> {
    let listing = state.queries.catalogue.listing(Kind::Course, course_id).await?.ok_or(ApiError::NotFound)?;
    let access = Access::of(state, viewer, Kind::Course, &listing).await?;
    if !access.sees(&listing) {
        return Err(ApiError::NotFound);
    }
    let sections = state
        .queries
        .catalogue
        .sections(course_id)
        .await?
        .into_iter()
        .map(|section| SectionView {
            id: section.id,
            title: section.title,
            lessons: section
                .lessons
                .into_iter()
                .map(|lesson| LessonView {
                    content_url: (access.opens_content() || lesson.is_preview).then_some(lesson.content_url),
                    id: lesson.id,
                    title: lesson.title,
                    content_type: lesson.content_type,
                    duration_seconds: lesson.duration_seconds,
                    is_preview: lesson.is_preview,
                })
                .collect(),
        })
        .collect();
    Ok(course_view(&listing, access.owned, Some(sections)))
}

/// A book as `viewer` may see it: 404 when they may not.
pub async fn book(state: &AppState, viewer: &Viewer, book_id: Uuid) -> Result<BookView, ApiError> {
    let listing = state.queries.catalogue.listing(Kind::Book, book_id).await?.ok_or(ApiError::NotFound)?;
    let access = Access::of(state, viewer, Kind::Book, &listing).await?;
    if !access.sees(&listing) {
        return Err(ApiError::NotFound);
    }
    book_view(&listing, access.owned, access.opens_content())
}

fn speaker(listing: &Listing) -> SpeakerView {
    SpeakerView { id: listing.speaker.id, username: listing.speaker.username.clone(), name: listing.speaker.name.clone() }
}

fn course_view(listing: &Listing, is_enrolled: bool, sections: Option<Vec<SectionView>>) -> CourseView {
    let (language, level, total_lessons, students_count) = match &listing.extra {
        Extra::Course { language, level, total_lessons, students_count } => (language.clone(), level.clone(), *total_lessons, *students_count),
        Extra::Book { .. } => Default::default(),
    };
    CourseView {
        id: listing.id,
        speaker: speaker(listing),
        title: listing.title.clone(),
        description: listing.description.clone(),
        category_id: listing.category_id,
        language,
        level,
        price: sar(listing.price),
        discount_price: listing.discount_price.map(sar),
        status: listing.status.clone(),
        total_lessons,
        students_count,
        average_rating: listing.average_rating.to_f64().unwrap_or(0.0),
        reviews_count: listing.reviews_count,
        is_enrolled,
        sections,
        created_at: listing.created_at,
    }
}

fn book_view(listing: &Listing, is_owned: bool, opens_content: bool) -> Result<BookView, ApiError> {
    let Extra::Book { author, isbn, page_count, preview_pages, cover_url, pdf_url, purchases_count } = &listing.extra else {
        return Err(ApiError::internal("a book listing without a book's fields"));
    };
    Ok(BookView {
        id: listing.id,
        speaker: speaker(listing),
        title: listing.title.clone(),
        description: listing.description.clone(),
        category_id: listing.category_id,
        author: author.clone(),
        isbn: isbn.clone(),
        page_count: *page_count,
        price: sar(listing.price),
        discount_price: listing.discount_price.map(sar),
        preview_pages: *preview_pages,
        cover_url: cover_url.clone(),
        status: listing.status.clone(),
        purchases_count: *purchases_count,
        average_rating: listing.average_rating.to_f64().unwrap_or(0.0),
        reviews_count: listing.reviews_count,
        is_owned,
        pdf_url: pdf_url.clone().filter(|_| opens_content || is_owned),
        created_at: listing.created_at,
    })
}
