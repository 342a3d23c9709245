//! The catalogue's rules: given the events so far, when a command, then events or a rejection.

use chrono::{DateTime, TimeZone, Utc};
use domain::catalogue::course::{ContentType, Course, CourseCommand, CourseDetails, CourseEvent, Lesson, Level};
use domain::catalogue::book::{Book, BookCommand, BookDetails, BookEvent, Isbn, Author};
use domain::catalogue::search::{normalize, terms};
use domain::catalogue::{CatalogueError, ContentUrl, Description, ListingStatus, Price, Title, parse_price};
use domain::kernel::testing::given;
use domain::money::Money;
use domain::users::Language;
use uuid::Uuid;

fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

fn at(day: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, day, 9, 0, 0).unwrap()
}

fn sar(text: &str) -> Money {
    Money::parse(text).unwrap()
}

const AUTHOR: u128 = 100;
const STRANGER: u128 = 200;

fn details(price: &str, discount: Option<&str>) -> CourseDetails {
    CourseDetails {
        title: Title::parse("تجويد القرآن").unwrap(),
        description: Description::parse("Learn tajweed step by step.").unwrap(),
        category_id: id(5),
        language: Language::Ar,
        level: Level::Beginner,
        price: Price::new(sar(price), discount.map(sar)).unwrap(),
    }
}

fn created() -> CourseEvent {
    CourseEvent::CourseCreated { course_id: id(1), speaker_id: id(AUTHOR), details: details("115", None), created_at: at(1) }
}

fn section_added() -> CourseEvent {
    CourseEvent::SectionAdded { course_id: id(1), section_id: id(10), title: Title::parse("Basics").unwrap() }
}

fn lesson() -> Lesson {
    Lesson {
        lesson_id: id(20),
        title: Title::parse("Makharij").unwrap(),
        content_type: ContentType::Video,
        content_url: ContentUrl::parse("https://cdn.example.com/v/1.mp4").unwrap(),
        duration_seconds: 600,
        is_preview: true,
    }
}

fn lesson_added() -> CourseEvent {
    CourseEvent::LessonAdded { course_id: id(1), section_id: id(10), lesson: lesson() }
}

fn published() -> CourseEvent {
    CourseEvent::CoursePublished { course_id: id(1), published_at: at(2) }
}

#[test]
fn a_course_publishes_only_with_a_lesson() {
    given::<Course>([created(), section_added()])
        .when(CourseCommand::Publish { actor: id(AUTHOR), published_at: at(2) })
        .then_rejected(CatalogueError::NoLessons);
    let course = given::<Course>([created(), section_added(), lesson_added()])
        .when(CourseCommand::Publish { actor: id(AUTHOR), published_at: at(2) })
        .then(vec![published()]);
    assert_eq!((course.status(), course.lesson_count()), (ListingStatus::Published, 1));
}

#[test]
fn only_the_author_changes_a_course_and_a_draft_is_invisible_to_others() {
    given::<Course>([created()])
        .when(CourseCommand::AddSection { actor: id(STRANGER), section_id: id(11), title: Title::parse("Mine").unwrap() })
        .then_rejected(CatalogueError::NotFound);
    given::<Course>([created(), section_added(), lesson_added(), published()])
        .when(CourseCommand::Update { actor: id(STRANGER), details: details("1", None), updated_at: at(3) })
        .then_rejected(CatalogueError::NotAuthor);
    given::<Course>([])
        .when(CourseCommand::Publish { actor: id(AUTHOR), published_at: at(2) })
        .then_rejected(CatalogueError::NotFound);
}

#[test]
fn a_lesson_goes_into_an_existing_section_only() {
    given::<Course>([created()])
        .when(CourseCommand::AddLesson { actor: id(AUTHOR), section_id: id(99), lesson: lesson() })
        .then_rejected(CatalogueError::UnknownSection);
}

#[test]
fn an_archived_course_changes_no_more_and_publishing_twice_is_a_state_conflict() {
    let history = [created(), section_added(), lesson_added(), published()];
    given::<Course>(history.clone())
        .when(CourseCommand::Publish { actor: id(AUTHOR), published_at: at(3) })
        .then_rejected(CatalogueError::InvalidState);
    let archived = CourseEvent::CourseArchived { course_id: id(1), archived_at: at(4) };
    given::<Course>(history.into_iter().chain([archived]))
        .when(CourseCommand::Update { actor: id(AUTHOR), details: details("99", None), updated_at: at(5) })
        .then_rejected(CatalogueError::InvalidState);
}

#[test]
fn a_discount_must_be_below_the_price_and_the_buyer_pays_the_discounted_one() {
    assert_eq!(Price::new(sar("100"), Some(sar("100"))), Err(CatalogueError::DiscountNotBelowPrice));
    assert_eq!(Price::new(sar("100"), Some(sar("79.99"))).unwrap().effective(), sar("79.99"));
    assert_eq!(Price::new(sar("100"), None).unwrap().effective(), sar("100"));
    assert_eq!(parse_price("100000.01"), Err(CatalogueError::InvalidPrice));
    assert_eq!(parse_price("-1"), Err(CatalogueError::InvalidPrice));
    // A stored price that breaks the rule does not read back.
    let stored = serde_json::json!({"price": "10.00", "discount_price": "12.00"});
    assert!(serde_json::from_value::<Price>(stored).is_err());
}

#[test]
fn text_values_are_trimmed_and_bounded() {
    assert_eq!(Title::parse("  Tajweed  ").unwrap().as_str(), "Tajweed");
    assert_eq!(Title::parse("   "), Err(CatalogueError::InvalidTitle));
    assert_eq!(Title::parse(&"ع".repeat(201)), Err(CatalogueError::InvalidTitle));
    assert!(Description::parse("line one\nline two").is_ok());
    assert_eq!(ContentUrl::parse("ftp://x.example/a"), Err(CatalogueError::InvalidUrl));
    assert_eq!(ContentUrl::parse("https:///nohost"), Err(CatalogueError::InvalidUrl));
    assert_eq!(Isbn::parse("978-0-13-468599-1").unwrap().as_str(), "9780134685991");
    assert_eq!(Isbn::parse("0-306-40615-x").unwrap().as_str(), "030640615X");
    assert_eq!(Isbn::parse("12345"), Err(CatalogueError::InvalidIsbn));
}

#[test]
fn a_book_previews_at_most_its_pages() {
    let details = |preview_pages| BookDetails {
        title: Title::parse("Riyadh Stories").unwrap(),
        description: Description::parse("Short stories.").unwrap(),
        category_id: id(5),
        author: Author::parse("Amal").unwrap(),
        isbn: None,
        page_count: 120,
        preview_pages,
        price: Price::new(sar("45"), None).unwrap(),
        cover_url: None,
        pdf_url: Some(ContentUrl::parse("https://cdn.example.com/b.pdf").unwrap()),
    };
    given::<Book>([])
        .when(BookCommand::Create { book_id: id(2), speaker_id: id(AUTHOR), details: details(121), created_at: at(1) })
        .then_rejected(CatalogueError::InvalidPreviewPages);
    let created = BookEvent::BookCreated { book_id: id(2), speaker_id: id(AUTHOR), details: details(10), created_at: at(1) };
    let book = given::<Book>([created])
        .when(BookCommand::Publish { actor: id(AUTHOR), published_at: at(2) })
        .then(vec![BookEvent::BookPublished { book_id: id(2), published_at: at(2) }]);
    assert_eq!(book.status(), ListingStatus::Published);
}

#[test]
fn arabic_search_text_is_normalised_on_both_sides() {
    assert_eq!(normalize("القرآن"), normalize("القران"));
    assert_eq!(normalize("مدرسة"), normalize("مدرسه"));
    assert_eq!(normalize("إسلام أحمد"), "اسلام احمد");
    assert_eq!(normalize("مصطفى"), "مصطفي");
    assert_eq!(normalize("العَرَبِيّة"), "العربيه");
    assert_eq!(normalize("كـــتاب"), "كتاب");
    assert_eq!(normalize("Learn  RUST, fast!"), "learn rust fast");
    assert_eq!(normalize("درس ٣"), "درس 3");
    assert_eq!(terms("  القرآن   الكريم "), vec!["القران".to_owned(), "الكريم".to_owned()]);
    assert!(terms("!!! ...").is_empty());
}
