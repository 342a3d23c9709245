//! What the API reads from the catalogue: categories, listings (courses and books) by filter and
//! sort, and one listing with everything it shows. Lists are cached with the catalogue
//! projector's position they were read at, and an entry serves only while that projector has
//! applied nothing newer: a reader never sees a price older than the table's.

use std::sync::Arc;

use chrono::{DateTime, NaiveDateTime, Utc};
use domain::catalogue::search;
use rust_decimal::Decimal;
use sqlx::mysql::MySqlRow;
use sqlx::{MySql, MySqlPool, QueryBuilder, Row};
use tokio::sync::watch;
use uuid::Uuid;

/// Result pages kept in memory.
const CACHED_PAGES_MAX: u64 = 10_000;

/// Courses or books: the two kinds of listing, with the same filters and sorts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    Course,
    Book,
}

impl Kind {
    fn table(self) -> &'static str {
        match self {
            Kind::Course => "courses",
            Kind::Book => "books",
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Sort {
    #[default]
    Newest,
    Popular,
    Rating,
    PriceAsc,
    PriceDesc,
}

impl Sort {
    pub const NAMES: [&'static str; 5] = ["newest", "popular", "rating", "price_asc", "price_desc"];

    pub fn parse(text: &str) -> Option<Sort> {
        Some(match text {
            "newest" => Sort::Newest,
            "popular" => Sort::Popular,
            "rating" => Sort::Rating,
            "price_asc" => Sort::PriceAsc,
            "price_desc" => Sort::PriceDesc,
            _ => return None,
        })
    }

    fn order_by(self, kind: Kind) -> &'static str {
        // Ties are broken by id, so pages never overlap or skip.
        match (self, kind) {
            (Sort::Newest, _) => "l.published_at DESC, l.id DESC",
            (Sort::Popular, Kind::Course) => "l.students_count DESC, l.published_at DESC, l.id DESC",
            (Sort::Popular, Kind::Book) => "l.purchases_count DESC, l.published_at DESC, l.id DESC",
            (Sort::Rating, _) => "l.average_rating DESC, l.reviews_count DESC, l.published_at DESC, l.id DESC",
            (Sort::PriceAsc, _) => "l.effective_price ASC, l.published_at DESC, l.id DESC",
            (Sort::PriceDesc, _) => "l.effective_price DESC, l.published_at DESC, l.id DESC",
        }
    }
}

/// A search of published listings. `q` is split into normalised terms that must all match.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Filter {
    pub q: Option<String>,
    pub category_id: Option<Uuid>,
    pub language: Option<String>,
    /// Courses only.
    pub level: Option<String>,
    pub speaker_id: Option<Uuid>,
    pub min_price: Option<Decimal>,
    pub max_price: Option<Decimal>,
    pub sort: Sort,
    pub page: u64,
    pub per_page: u64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Category {
    pub id: Uuid,
    pub name_en: String,
    pub name_ar: String,
}

/// Who sells a listing.
#[derive(Clone, Debug, PartialEq)]
pub struct Speaker {
    pub id: Uuid,
    /// None once the speaker's account is erased.
    pub username: Option<String>,
    pub name: String,
}

/// A course or a book as lists show it; `extra` holds what only one kind has.
#[derive(Clone, Debug, PartialEq)]
pub struct Listing {
    pub id: Uuid,
    pub speaker: Speaker,
    pub title: String,
    pub description: String,
    pub category_id: Uuid,
    pub price: Decimal,
    pub discount_price: Option<Decimal>,
    pub status: String,
    pub average_rating: Decimal,
    pub reviews_count: u32,
    pub created_at: DateTime<Utc>,
    pub extra: Extra,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Extra {
    Course { language: String, level: String, total_lessons: u32, students_count: u32 },
    Book {
        author: String,
        isbn: Option<String>,
        page_count: u32,
        preview_pages: u32,
        cover_url: Option<String>,
        pdf_url: Option<String>,
        purchases_count: u32,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub struct Section {
    pub id: Uuid,
    pub title: String,
    pub lessons: Vec<Lesson>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Lesson {
    pub id: Uuid,
    pub title: String,
    pub content_type: String,
    pub content_url: String,
    pub duration_seconds: u32,
    pub is_preview: bool,
}

/// One page of listings and how many match in all.
#[derive(Clone, Debug, PartialEq)]
pub struct Page {
    pub total: u64,
    pub items: Vec<Listing>,
}

#[derive(Clone)]
pub struct CatalogueQueries {
    pool: MySqlPool,
    /// The catalogue projector's applied position.
    applied: watch::Receiver<u64>,
    pages: moka::future::Cache<(Kind, Filter), (Arc<Page>, u64)>,
}

const COURSE_COLUMNS: &str = "l.id, l.speaker_id, u.username, u.name, l.title, l.description, l.category_id, l.price, l.discount_price, \
     l.status, l.average_rating, l.reviews_count, l.created_at, l.language, l.level, l.total_lessons, l.students_count";
const BOOK_COLUMNS: &str = "l.id, l.speaker_id, u.username, u.name, l.title, l.description, l.category_id, l.price, l.discount_price, \
     l.status, l.average_rating, l.reviews_count, l.created_at, l.author, l.isbn, l.page_count, l.preview_pages, l.cover_url, l.pdf_url, \
     l.purchases_count";

impl CatalogueQueries {
    pub fn new(pool: MySqlPool, applied: watch::Receiver<u64>) -> Self {
        Self { pool, applied, pages: moka::future::Cache::new(CACHED_PAGES_MAX) }
    }

    /// Every category, by English name.
    pub async fn categories(&self) -> Result<Vec<Category>, sqlx::Error> {
        let rows = sqlx::query("SELECT id, name_en, name_ar FROM categories ORDER BY name_en, id").fetch_all(&self.pool).await?;
        rows.iter().map(|row| Ok(Category { id: row.try_get(0)?, name_en: row.try_get(1)?, name_ar: row.try_get(2)? })).collect()
    }

    pub async fn category(&self, id: Uuid) -> Result<Option<Category>, sqlx::Error> {
        let row = sqlx::query("SELECT id, name_en, name_ar FROM categories WHERE id = ?").bind(id).fetch_optional(&self.pool).await?;
        row.map(|row| Ok(Category { id: row.try_get(0)?, name_en: row.try_get(1)?, name_ar: row.try_get(2)? })).transpose()
    }

    /// A page of published listings matching `filter`.
    pub async fn search(&self, kind: Kind, filter: &Filter) -> Result<Arc<Page>, sqlx::Error> {
        let applied = *self.applied.borrow();
        let key = (kind, filter.clone());
        if let Some((page, at)) = self.pages.get(&key).await
            && at == applied
        {
            return Ok(page);
        }
        let page = Arc::new(self.read_page(kind, filter).await?);
        self.pages.insert(key, (page.clone(), applied)).await;
        Ok(page)
    }

    async fn read_page(&self, kind: Kind, filter: &Filter) -> Result<Page, sqlx::Error> {
        let terms = filter.q.as_deref().map(search::terms).unwrap_or_default();
        let mut count = QueryBuilder::new(format!("SELECT COUNT(*) FROM {} l", kind.table()));
        push_conditions(&mut count, kind, filter, &terms);
        let total: i64 = count.build_query_scalar().fetch_one(&self.pool).await?;
        let mut select = QueryBuilder::new(format!("SELECT {} FROM {} l JOIN users u ON u.id = l.speaker_id", columns(kind), kind.table()));
        push_conditions(&mut select, kind, filter, &terms);
        select.push(format!(" ORDER BY {} LIMIT ", filter.sort.order_by(kind)));
        select.push_bind(filter.per_page);
        select.push(" OFFSET ");
        select.push_bind(filter.page.saturating_sub(1).saturating_mul(filter.per_page));
        let rows = select.build().fetch_all(&self.pool).await?;
        let items = rows.iter().map(|row| listing(kind, row)).collect::<Result<_, _>>()?;
        Ok(Page { total: u64::try_from(total).unwrap_or(0), items })
    }

    /// One listing in any status: the caller decides who may see a draft.
    pub async fn listing(&self, kind: Kind, id: Uuid) -> Result<Option<Listing>, sqlx::Error> {
        let sql = format!("SELECT {} FROM {} l JOIN users u ON u.id = l.speaker_id WHERE l.id = ?", columns(kind), kind.table());
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&self.pool).await?;
        row.map(|row| listing(kind, &row)).transpose()
    }

    /// A course's sections with their lessons, in the order they were added.
    pub async fn sections(&self, course_id: Uuid) -> Result<Vec<Section>, sqlx::Error> {
        let sections = sqlx::query("SELECT id, title FROM course_sections WHERE course_id = ? ORDER BY position")
            .bind(course_id)
            .fetch_all(&self.pool)
            .await?;
        let lessons = sqlx::query(
            "SELECT section_id, id, title, content_type, content_url, duration_seconds, is_preview FROM course_lessons \
             WHERE course_id = ? ORDER BY position",
        )
        .bind(course_id)
        .fetch_all(&self.pool)
        .await?;
        let mut sections = sections
            .iter()
            .map(|row| Ok(Section { id: row.try_get(0)?, title: row.try_get(1)?, lessons: Vec::new() }))
            .collect::<Result<Vec<_>, sqlx::Error>>()?;
        for row in &lessons {
            let section_id: Uuid = row.try_get(0)?;
            let lesson = Lesson {
                id: row.try_get(1)?,
                title: row.try_get(2)?,
                content_type: row.try_get(3)?,
                content_url: row.try_get(4)?,
                duration_seconds: row.try_get(5)?,
                is_preview: row.try_get(6)?,
            };
            if let Some(section) = sections.iter_mut().find(|section| section.id == section_id) {
                section.lessons.push(lesson);
            }
        }
        Ok(sections)
    }

    /// A speaker's own listings in every status, newest first.
    pub async fn by_speaker(&self, kind: Kind, speaker_id: Uuid, page: u64, per_page: u64) -> Result<Page, sqlx::Error> {
        let total: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {} WHERE speaker_id = ?", kind.table())))
            .bind(speaker_id)
            .fetch_one(&self.pool)
            .await?;
        let sql = format!(
            "SELECT {} FROM {} l JOIN users u ON u.id = l.speaker_id WHERE l.speaker_id = ? ORDER BY l.created_at DESC, l.id DESC \
             LIMIT ? OFFSET ?",
            columns(kind),
            kind.table()
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(speaker_id)
            .bind(per_page)
            .bind(page.saturating_sub(1).saturating_mul(per_page))
            .fetch_all(&self.pool)
            .await?;
        let items = rows.iter().map(|row| listing(kind, row)).collect::<Result<_, _>>()?;
        Ok(Page { total: u64::try_from(total).unwrap_or(0), items })
    }
}

fn columns(kind: Kind) -> &'static str {
    match kind {
        Kind::Course => COURSE_COLUMNS,
        Kind::Book => BOOK_COLUMNS,
    }
}

/// `WHERE …` for a search: published only, every filter and every term (AND).
fn push_conditions(query: &mut QueryBuilder<MySql>, kind: Kind, filter: &Filter, terms: &[String]) {
    query.push(" WHERE l.status = 'published'");
    for term in terms {
        // search_text is normalised and compared byte for byte; LIKE's own wildcards are escaped.
        let escaped = term.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
        query.push(" AND l.search_text LIKE ").push_bind(format!("%{escaped}%"));
    }
    if let Some(category_id) = filter.category_id {
        query.push(" AND l.category_id = ").push_bind(category_id);
    }
    if let (Kind::Course, Some(language)) = (kind, &filter.language) {
        query.push(" AND l.language = ").push_bind(language.clone());
    }
    if let (Kind::Course, Some(level)) = (kind, &filter.level) {
        query.push(" AND l.level = ").push_bind(level.clone());
    }
    if let Some(speaker_id) = filter.speaker_id {
        query.push(" AND l.speaker_id = ").push_bind(speaker_id);
    }
    if let Some(min) = filter.min_price {
        query.push(" AND l.effective_price >= ").push_bind(min);
    }
    if let Some(max) = filter.max_price {
        query.push(" AND l.effective_price <= ").push_bind(max);
    }
}

fn listing(kind: Kind, row: &MySqlRow) -> Result<Listing, sqlx::Error> {
    let created_at: NaiveDateTime = row.try_get(12)?;
    let extra = match kind {
        Kind::Course => Extra::Course {
            language: row.try_get(13)?,
            level: row.try_get(14)?,
            total_lessons: row.try_get(15)?,
            students_count: row.try_get(16)?,
        },
        Kind::Book => Extra::Book {
            author: row.try_get(13)?,
            isbn: row.try_get(14)?,
            page_count: row.try_get(15)?,
            preview_pages: row.try_get(16)?,
            cover_url: row.try_get(17)?,
            pdf_url: row.try_get(18)?,
            purchases_count: row.try_get(19)?,
        },
    };
    Ok(Listing {
        id: row.try_get(0)?,
        speaker: Speaker { id: row.try_get(1)?, username: row.try_get(2)?, name: row.try_get(3)? },
        title: row.try_get(4)?,
        description: row.try_get(5)?,
        category_id: row.try_get(6)?,
        price: row.try_get(7)?,
        discount_price: row.try_get(8)?,
        status: row.try_get(9)?,
        average_rating: row.try_get(10)?,
        reviews_count: row.try_get(11)?,
        created_at: created_at.and_utc(),
        extra,
    })
}
