//! Catalogue read models: categories, courses with their sections and lessons, books, and how
//! many own each listing (from the buyers' libraries).

use domain::catalogue::book::{BookDetails, BookEvent};
use domain::catalogue::category::CategoryEvent;
use domain::catalogue::course::{CourseDetails, CourseEvent};
use domain::catalogue::search::normalize;
use domain::catalogue::{Description, ListingStatus, Title};
use domain::commerce::ItemType;
use domain::commerce::library::LibraryEvent;
use domain::kernel::{DomainEvent, EventType};
use event_store::RecordedEvent;

use crate::ProjectionError;
use crate::runtime::{Prepared, Projector};
use crate::writes::{Value, Writes};

pub struct CatalogueProjector;

impl CatalogueProjector {
    pub const NAME: &'static str = "catalogue";
}

const TABLES: &[&str] = &["categories", "courses", "course_sections", "course_lessons", "books"];

const COURSE_COLUMNS: &[&str] = &[
    "id", "speaker_id", "title", "description", "search_text", "category_id", "language", "level", "price", "discount_price",
    "effective_price", "status", "created_at", "position",
];
const BOOK_COLUMNS: &[&str] = &[
    "id", "speaker_id", "title", "description", "search_text", "category_id", "author", "isbn", "page_count", "preview_pages", "price",
    "discount_price", "effective_price", "cover_url", "pdf_url", "status", "created_at", "position",
];

/// What search compares a listing's text with.
fn search_text(title: &Title, description: &Description) -> String {
    normalize(&format!("{title} {description}"))
}

impl Projector for CatalogueProjector {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn version(&self) -> u32 {
        1
    }

    fn tables(&self) -> &'static [&'static str] {
        TABLES
    }

    fn events(&self) -> &'static [&'static [EventType]] {
        &[CategoryEvent::TYPES, CourseEvent::TYPES, BookEvent::TYPES, LibraryEvent::TYPES]
    }

    fn prepare(&self, events: &[RecordedEvent]) -> Result<Box<dyn Prepared>, ProjectionError> {
        let mut writes = Writes::new(TABLES);
        for event in events {
            if let Some(category) = crate::decode::<CategoryEvent>(event)? {
                let CategoryEvent::CategoryCreated { category_id, name_en, name_ar, created_at, .. } = category;
                writes.insert(
                    "categories",
                    &["id", "name_en", "name_ar", "created_at", "position"],
                    vec![category_id.into(), name_en.as_str().into(), name_ar.as_str().into(), created_at.into(), event.position.into()],
                );
            } else if let Some(course) = crate::decode::<CourseEvent>(event)? {
                course_writes(&mut writes, event, course);
            } else if let Some(book) = crate::decode::<BookEvent>(event)? {
                book_writes(&mut writes, event, book);
            } else if let Some(library) = crate::decode::<LibraryEvent>(event)? {
                let (item, change) = match &library {
                    LibraryEvent::ItemAcquired { item, .. } => (item, "+ 1"),
                    LibraryEvent::ItemRevoked { item, .. } => (item, "- 1"),
                };
                let sql = match item.item_type {
                    ItemType::Course => format!("UPDATE {{courses}} SET students_count = students_count {change} WHERE id = ?"),
                    ItemType::Book => format!("UPDATE {{books}} SET purchases_count = purchases_count {change} WHERE id = ?"),
                    ItemType::LiveRoom | ItemType::Consultation | ItemType::Gift => continue,
                };
                writes.execute(sql, vec![item.item_id.into()]);
            }
        }
        Ok(Box::new(writes))
    }
}

fn course_details(details: &CourseDetails) -> Vec<Value> {
    vec![
        details.title.as_str().into(),
        details.description.as_str().into(),
        search_text(&details.title, &details.description).into(),
        details.category_id.into(),
        details.language.as_str().into(),
        details.level.as_str().into(),
        details.price.price().into(),
        details.price.discount_price().into(),
        details.price.effective().into(),
    ]
}

fn course_writes(writes: &mut Writes, event: &RecordedEvent, course: CourseEvent) {
    match course {
        CourseEvent::CourseCreated { course_id, speaker_id, details, created_at } => {
            let mut row = vec![course_id.into(), speaker_id.into()];
            row.extend(course_details(&details));
            row.extend([ListingStatus::Draft.as_str().into(), created_at.into(), event.position.into()]);
            writes.insert("courses", COURSE_COLUMNS, row);
        }
        CourseEvent::CourseUpdated { course_id, details, .. } => {
            let mut values = course_details(&details);
            values.push(course_id.into());
            writes.execute(
                "UPDATE {courses} SET title = ?, description = ?, search_text = ?, category_id = ?, language = ?, level = ?, \
                 price = ?, discount_price = ?, effective_price = ? WHERE id = ?",
                values,
            );
        }
        CourseEvent::SectionAdded { course_id, section_id, title } => writes.insert(
            "course_sections",
            &["id", "course_id", "title", "position"],
            vec![section_id.into(), course_id.into(), title.as_str().into(), event.position.into()],
        ),
        CourseEvent::LessonAdded { course_id, section_id, lesson } => {
            writes.insert(
                "course_lessons",
                &["id", "course_id", "section_id", "title", "content_type", "content_url", "duration_seconds", "is_preview", "position"],
                vec![
                    lesson.lesson_id.into(),
                    course_id.into(),
                    section_id.into(),
                    lesson.title.as_str().into(),
                    lesson.content_type.as_str().into(),
                    lesson.content_url.as_str().into(),
                    lesson.duration_seconds.into(),
                    lesson.is_preview.into(),
                    event.position.into(),
                ],
            );
            writes.execute("UPDATE {courses} SET total_lessons = total_lessons + 1 WHERE id = ?", vec![course_id.into()]);
        }
        CourseEvent::CoursePublished { course_id, published_at } => writes.execute(
            "UPDATE {courses} SET status = ?, published_at = ? WHERE id = ?",
            vec![ListingStatus::Published.as_str().into(), published_at.into(), course_id.into()],
        ),
        CourseEvent::CourseArchived { course_id, .. } => {
            writes.execute("UPDATE {courses} SET status = ? WHERE id = ?", vec![ListingStatus::Archived.as_str().into(), course_id.into()])
        }
    }
}

fn book_details(details: &BookDetails) -> Vec<Value> {
    vec![
        details.title.as_str().into(),
        details.description.as_str().into(),
        search_text(&details.title, &details.description).into(),
        details.category_id.into(),
        details.author.as_str().into(),
        details.isbn.as_ref().map(|isbn| isbn.as_str()).into(),
        details.page_count.into(),
        details.preview_pages.into(),
        details.price.price().into(),
        details.price.discount_price().into(),
        details.price.effective().into(),
        details.cover_url.as_ref().map(|url| url.as_str()).into(),
        details.pdf_url.as_ref().map(|url| url.as_str()).into(),
    ]
}

fn book_writes(writes: &mut Writes, event: &RecordedEvent, book: BookEvent) {
    match book {
        BookEvent::BookCreated { book_id, speaker_id, details, created_at } => {
            let mut row = vec![book_id.into(), speaker_id.into()];
            row.extend(book_details(&details));
            row.extend([ListingStatus::Draft.as_str().into(), created_at.into(), event.position.into()]);
            writes.insert("books", BOOK_COLUMNS, row);
        }
        BookEvent::BookUpdated { book_id, details, .. } => {
            let mut values = book_details(&details);
            values.push(book_id.into());
            writes.execute(
                "UPDATE {books} SET title = ?, description = ?, search_text = ?, category_id = ?, author = ?, isbn = ?, page_count = ?, \
                 preview_pages = ?, price = ?, discount_price = ?, effective_price = ?, cover_url = ?, pdf_url = ? WHERE id = ?",
                values,
            );
        }
        BookEvent::BookPublished { book_id, published_at } => writes.execute(
            "UPDATE {books} SET status = ?, published_at = ? WHERE id = ?",
            vec![ListingStatus::Published.as_str().into(), published_at.into(), book_id.into()],
        ),
        BookEvent::BookArchived { book_id, .. } => {
            writes.execute("UPDATE {books} SET status = ? WHERE id = ?", vec![ListingStatus::Archived.as_str().into(), book_id.into()])
        }
    }
}
