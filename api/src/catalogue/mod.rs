//! The catalogue over HTTP: categories, courses with their sections and lessons, and books.
//! Reads need no token; with one, `is_enrolled` / `is_owned` and the content a buyer may open are
//! filled in. Writes answer the listing as the read model has it once it has applied them.

mod views;


use actix_web::http::Method;
use actix_web::web;
use commands::Transacted;
use domain::catalogue::book::{Author, BookDetails, BookPatch, Isbn, parse_page_count};
use domain::catalogue::category::CategoryName;
use domain::catalogue::course::{ContentType, CourseDetails, CoursePatch, Lesson, Level, parse_duration, parse_language};
use domain::catalogue::{CatalogueError, ContentUrl, Description, Price, Title, parse_price};
use domain::users::Role;
use projections::catalogue::CatalogueProjector;
use projections::catalogue::queries::{Filter, Kind, Sort};
use projections::commerce::CommerceProjector;
use projections::users::UsersProjector;
use schemars::JsonSchema;
use serde::Deserialize;
use uuid::Uuid;

use crate::auth::{AuthUser, Viewer};
use crate::idempotency::appended;
use crate::envelope::{Pagination, Reply};
use crate::error::ApiError;
use crate::extract::{Body, Fields, Invalid, PageQuery, json_body, present};
use crate::i18n::Text;
use crate::openapi::{Op, Routes};
use crate::startup::AppState;

pub use views::{BookView, CategoryView, CourseView, LessonView, SectionView, SpeakerView};

/// Catalogue reads show ownership too, and each listing joins its speaker's `users` row: a
/// listing read just after its speaker registered waits for all three projections.
const READS: &[&str] = &[UsersProjector::NAME, CatalogueProjector::NAME, CommerceProjector::NAME];

pub fn routes(routes: &mut Routes) {
    use Method as M;
    routes.add(M::GET, "/categories", categories, Op::new("catalogue", "Categories").reads(READS).data::<Vec<CategoryView>>()
        .description("`name` is in the request's language."));
    routes.add(M::POST, "/admin/categories", create_category,
        Op::new("admin", "Create a category").auth().body::<CategoryRequest>().data::<CategoryView>().created().errors(&[403, 422]));

    routes.add(M::GET, "/courses", list_courses,
        Op::new("catalogue", "Search published courses").token_optional().reads(READS).query::<ListQuery>().data::<Vec<CourseView>>().errors(&[422])
            .description("`q` matches every word in titles and descriptions, Arabic letter forms and diacritics aside, English in any case. \
                          Filters and `q` combine with AND; prices are the effective (discounted) ones, bounds inclusive."));
    routes.add(M::POST, "/courses", create_course,
        Op::new("catalogue", "Create a draft course").auth().body::<CourseRequest>().data::<CourseView>().created().errors(&[403, 422])
            .description("Speakers only. The course is a draft, seen by its author and admins, until it is published."));
    routes.add(M::GET, "/courses/{id}", course,
        Op::new("catalogue", "A course with its sections and lessons").token_optional().reads(READS).path_params(&["id"]).data::<CourseView>().errors(&[404])
            .description("A draft or archived course is 404 to everyone but its author and admins (an archived one stays readable for its \
                          students). Lesson `content_url` is shown to enrolled students, the author and admins, and for preview lessons."));
    routes.add(M::PATCH, "/courses/{id}", update_course,
        Op::new("catalogue", "Edit a course").auth().path_params(&["id"]).body::<CoursePatchRequest>().data::<CourseView>()
            .errors(&[403, 404, 422])
            .description("The author only. Fields left out keep their value; `discount_price: null` removes the discount. A new price \
                          applies to later purchases only."));
    routes.add(M::POST, "/courses/{id}/sections", add_section,
        Op::new("catalogue", "Add a section").auth().path_params(&["id"]).body::<SectionRequest>().data::<SectionView>().created()
            .errors(&[403, 404, 422]));
    routes.add(M::POST, "/courses/{id}/sections/{section_id}/lessons", add_lesson,
        Op::new("catalogue", "Add a lesson to a section").auth().path_params(&["id", "section_id"]).body::<LessonRequest>()
            .data::<LessonView>().created().errors(&[403, 404, 422]));
    routes.add(M::POST, "/courses/{id}/publish", publish_course,
        Op::new("catalogue", "Publish a course").auth().path_params(&["id"]).data::<CourseView>().errors(&[403, 404, 409, 422])
            .description("Needs at least one lesson (422 `no_lessons`); 409 `invalid_state` once it is not a draft."));
    routes.add(M::POST, "/courses/{id}/archive", archive_course,
        Op::new("catalogue", "Archive a course").auth().path_params(&["id"]).data::<CourseView>().errors(&[403, 404, 409])
            .description("No longer for sale; its students keep it."));
    routes.add(M::GET, "/me/courses", my_courses,
        Op::new("catalogue", "The speaker's own courses, in every status").auth().reads(READS).query::<PageQuery>()
            .data::<Vec<CourseView>>().errors(&[403, 422]));

    routes.add(M::GET, "/books", list_books,
        Op::new("catalogue", "Search published books").token_optional().reads(READS).query::<ListQuery>().data::<Vec<BookView>>().errors(&[422])
            .description("The courses' search, filters and sorts (`language` and `level` do not apply to books)."));
    routes.add(M::POST, "/books", create_book,
        Op::new("catalogue", "Create a draft book").auth().body::<BookRequest>().data::<BookView>().created().errors(&[403, 422]));
    routes.add(M::GET, "/books/{id}", book,
        Op::new("catalogue", "A book").token_optional().reads(READS).path_params(&["id"]).data::<BookView>().errors(&[404])
            .description("`pdf_url` is shown to buyers, the author and admins only."));
    routes.add(M::PATCH, "/books/{id}", update_book,
        Op::new("catalogue", "Edit a book").auth().path_params(&["id"]).body::<BookPatchRequest>().data::<BookView>()
            .errors(&[403, 404, 422]));
    routes.add(M::POST, "/books/{id}/publish", publish_book,
        Op::new("catalogue", "Publish a book").auth().path_params(&["id"]).data::<BookView>().errors(&[403, 404, 409]));
    routes.add(M::POST, "/books/{id}/archive", archive_book,
        Op::new("catalogue", "Archive a book").auth().path_params(&["id"]).data::<BookView>().errors(&[403, 404, 409]));
}

pub const CATEGORY_CREATED: Text = Text::new("category_created", "Category created.", "تم إنشاء الفئة.");
pub const COURSE_CREATED: Text = Text::new("course_created", "Course created as a draft.", "تم إنشاء المقرر كمسودة.");
pub const COURSE_UPDATED: Text = Text::new("course_updated", "Course updated.", "تم تحديث المقرر.");
pub const SECTION_ADDED: Text = Text::new("section_added", "Section added.", "تمت إضافة القسم.");
pub const LESSON_ADDED: Text = Text::new("lesson_added", "Lesson added.", "تمت إضافة الدرس.");
pub const PUBLISHED: Text = Text::new("published", "Published.", "تم النشر.");
pub const ARCHIVED: Text = Text::new("archived", "Archived.", "تمت الأرشفة.");
pub const BOOK_CREATED: Text = Text::new("book_created", "Book created as a draft.", "تم إنشاء الكتاب كمسودة.");
pub const BOOK_UPDATED: Text = Text::new("book_updated", "Book updated.", "تم تحديث الكتاب.");

/// Messages of the catalogue's conflicts and refusals.
pub const REJECTIONS: &[Text] = &[
    Text::new("no_lessons", "A course needs at least one lesson before it is published.", "يحتاج المقرر إلى درس واحد على الأقل قبل نشره."),
    Text::new("not_author", "Only the author can change this.", "لا يستطيع تعديل هذا إلا صاحبه."),
    Text::new("already_exists", "This already exists.", "هذا موجود مسبقاً."),
    Text::new("invalid_state", "This cannot be done in its current state.", "لا يمكن تنفيذ هذا في حالته الحالية."),
];

pub const INVALID_SORT: Text =
    Text::new("invalid_sort", "must be newest, popular, rating, price_asc or price_desc", "يجب أن يكون newest أو popular أو rating أو price_asc أو price_desc");
pub const INVALID_ID: Text = Text::new("invalid_id", "must be a UUID", "يجب أن يكون معرّفاً بصيغة UUID");

/// Reasons of the catalogue's invalid fields (`invalid_language` is the users' one).
pub const REASONS: &[Text] = &[
    Text::new("invalid_title", "must be 1 to 200 characters without control characters", "يجب أن يكون بين 1 و200 حرف دون محارف تحكم"),
    Text::new("invalid_description", "must be 1 to 10,000 characters", "يجب أن يكون بين 1 و10,000 حرف"),
    Text::new("invalid_category_name", "must be 1 to 100 characters", "يجب أن يكون بين 1 و100 حرف"),
    Text::new(
        "invalid_price",
        "must be an amount from 0.00 to 100000.00 with at most two decimals",
        "يجب أن يكون مبلغاً من 0.00 إلى 100000.00 بمنزلتين عشريتين على الأكثر",
    ),
    Text::new("discount_not_below_price", "must be below the price", "يجب أن يكون أقل من السعر"),
    Text::new("invalid_level", "must be beginner, intermediate or advanced", "يجب أن يكون beginner أو intermediate أو advanced"),
    Text::new("invalid_content_type", "must be video, audio, pdf, text or link", "يجب أن يكون video أو audio أو pdf أو text أو link"),
    Text::new("invalid_url", "must be an http or https URL of at most 2048 characters", "يجب أن يكون رابط http أو https لا يتجاوز 2048 حرفاً"),
    Text::new("invalid_duration", "must be 0 to 86,400 seconds", "يجب أن تكون بين 0 و86,400 ثانية"),
    Text::new("invalid_author", "must be 1 to 200 characters", "يجب أن يكون بين 1 و200 حرف"),
    Text::new("invalid_isbn", "must have 10 or 13 digits (an ISBN-10 may end in X)", "يجب أن يتكون من 10 أو 13 رقماً (وقد ينتهي ISBN-10 بالحرف X)"),
    Text::new("invalid_page_count", "must be a whole number from 1 to 100,000", "يجب أن يكون عدداً صحيحاً من 1 إلى 100,000"),
    Text::new("invalid_preview_pages", "must be 0 to the page count", "يجب أن يكون بين 0 وعدد الصفحات"),
    Text::new("unknown_category", "is not a known category", "ليست فئة معروفة"),
    INVALID_SORT,
    INVALID_ID,
];

// ---- categories ----

#[derive(Debug, Deserialize, JsonSchema)]
pub struct CategoryRequest {
    #[schemars(example = &"Languages")]
    pub name_en: String,
    #[schemars(example = &"اللغات")]
    pub name_ar: String,
}

pub async fn categories(state: web::Data<AppState>) -> Result<Reply, ApiError> {
    let categories = state.queries.catalogue.categories().await?;
    // Every category, on one page.
    let count = categories.len() as u64;
    Ok(Reply::ok(categories.into_iter().map(CategoryView::from).collect::<Vec<_>>()).pagination(Pagination::whole(count)))
}

pub async fn create_category(state: web::Data<AppState>, user: AuthUser, body: Body) -> Result<Reply, ApiError> {
    user.require(Role::Admin)?;
    let input: CategoryRequest = json_body(&body)?;
    let mut fields = Fields::default();
    let name_en = fields.check_as("name_en", CategoryName::parse(&input.name_en));
    let name_ar = fields.check_as("name_ar", CategoryName::parse(&input.name_ar));
    fields.done()?;
    let (Some(name_en), Some(name_ar)) = (name_en, name_ar) else { return Err(ApiError::internal("checked fields missing")) };
    let created = state.commands.catalogue.create_category(user.user_id, name_en, name_ar, &user.context()).await?;
    let (category_id, position) = appended(created)?;
    state.shown(READS, position).await?;
    let category = state.queries.catalogue.category(category_id).await?.ok_or(ApiError::NotFound)?;
    Ok(Reply::created(&CATEGORY_CREATED, CategoryView::from(category)).position(Some(position)))
}

// ---- listings: reading ----

#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct ListQuery {
    /// Words to find in titles and descriptions, Arabic or English.
    #[schemars(example = &"القران")]
    pub q: Option<String>,
    pub category_id: Option<String>,
    /// `ar` or `en` (courses).
    pub language: Option<String>,
    /// `beginner`, `intermediate` or `advanced` (courses).
    pub level: Option<String>,
    pub speaker_id: Option<String>,
    /// Inclusive, on the effective price.
    #[schemars(example = &"50.00")]
    pub min_price: Option<String>,
    /// Inclusive, on the effective price.
    #[schemars(example = &"200.00")]
    pub max_price: Option<String>,
    /// `newest` (default), `popular`, `rating`, `price_asc` or `price_desc`.
    #[schemars(extend("enum" = Sort::NAMES))]
    pub sort: Option<String>,
    pub page: Option<String>,
    pub per_page: Option<String>,
}

impl ListQuery {
    fn filter(&self) -> Result<Filter, ApiError> {
        let mut fields = Fields::default();
        let (page, per_page) = PageQuery { page: self.page.clone(), per_page: self.per_page.clone() }.resolve()?;
        let id = |fields: &mut Fields, name: &str, text: &Option<String>| {
            fields.optional(name, text.as_deref().map(|text| Uuid::parse_str(text.trim()).map_err(|_| Invalid(&INVALID_ID)))).flatten()
        };
        let category_id = id(&mut fields, "category_id", &self.category_id);
        let speaker_id = id(&mut fields, "speaker_id", &self.speaker_id);
        let language = fields.optional("language", self.language.as_deref().map(parse_language)).flatten();
        let level = fields.optional("level", self.level.as_deref().map(Level::parse)).flatten();
        let min_price = fields.optional("min_price", self.min_price.as_deref().map(parse_price)).flatten();
        let max_price = fields.optional("max_price", self.max_price.as_deref().map(parse_price)).flatten();
        let sort = fields.optional("sort", self.sort.as_deref().map(|text| Sort::parse(text).ok_or(Invalid(&INVALID_SORT)))).flatten();
        fields.done()?;
        Ok(Filter {
            q: self.q.as_deref().map(str::trim).filter(|q| !q.is_empty()).map(str::to_owned),
            category_id,
            language: language.map(|language| language.as_str().to_owned()),
            level: level.map(|level| level.as_str().to_owned()),
            speaker_id,
            min_price: min_price.map(|price| price.amount()),
            max_price: max_price.map(|price| price.amount()),
            sort: sort.unwrap_or_default(),
            page,
            per_page,
        })
    }
}

pub async fn list_courses(state: web::Data<AppState>, viewer: Viewer, query: web::Query<ListQuery>) -> Result<Reply, ApiError> {
    list(&state, &viewer, Kind::Course, &query.filter()?).await
}

pub async fn list_books(state: web::Data<AppState>, viewer: Viewer, query: web::Query<ListQuery>) -> Result<Reply, ApiError> {
    list(&state, &viewer, Kind::Book, &query.filter()?).await
}

async fn list(state: &AppState, viewer: &Viewer, kind: Kind, filter: &Filter) -> Result<Reply, ApiError> {
    let page = state.queries.catalogue.search(kind, filter).await?;
    let views = views::listings(state, viewer, kind, &page.items).await?;
    Ok(Reply::ok(views).pagination(Pagination::new(filter.page, filter.per_page, page.total)))
}

pub async fn course(state: web::Data<AppState>, viewer: Viewer, id: web::Path<String>) -> Result<Reply, ApiError> {
    Ok(Reply::ok(views::course(&state, &viewer, parse_id(&id)?).await?))
}

pub async fn book(state: web::Data<AppState>, viewer: Viewer, id: web::Path<String>) -> Result<Reply, ApiError> {
    Ok(Reply::ok(views::book(&state, &viewer, parse_id(&id)?).await?))
}

pub async fn my_courses(state: web::Data<AppState>, user: AuthUser, query: web::Query<PageQuery>) -> Result<Reply, ApiError> {
    user.require(Role::Speaker)?;
    let (page, per_page) = query.resolve()?;
    let listed = state.queries.catalogue.by_speaker(Kind::Course, user.user_id, page, per_page).await?;
    let viewer = Viewer(Some(user));
    let views = views::listings(&state, &viewer, Kind::Course, &listed.items).await?;
    Ok(Reply::ok(views).pagination(Pagination::new(page, per_page, listed.total)))
}

/// A path id: anything but a UUID names nothing.
pub fn parse_id(text: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(text).map_err(|_| ApiError::NotFound)
}

// ---- courses: writing ----

#[derive(Debug, Deserialize, JsonSchema)]
pub struct CourseRequest {
    #[schemars(example = "تعلم القرآن الكريم")]
    pub title: String,
    #[schemars(example = &"دورة شاملة في التلاوة والتجويد للمبتدئين.")]
    pub description: String,
    #[schemars(example = &"0193b0e4-7c1a-7b55-9a3e-5b2f4c7d8e90")]
    pub category_id: Uuid,
    /// `ar` or `en`.
    #[schemars(example = &"ar")]
    pub language: String,
    /// `beginner`, `intermediate` or `advanced`.
    #[schemars(example = &"beginner")]
    pub level: String,
    /// VAT included, in SAR; `0.00` for a free course.
    #[schemars(example = "115.00")]
    pub price: String,
    /// Below `price`; what buyers pay while it is set.
    #[schemars(example = "99.00")]
    pub discount_price: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct CoursePatchRequest {
    pub title: Option<String>,
    pub description: Option<String>,
    pub category_id: Option<Uuid>,
    pub language: Option<String>,
    pub level: Option<String>,
    pub price: Option<String>,
    /// `null` removes the discount.
    #[serde(default, deserialize_with = "present")]
    #[schemars(example = &"89.00")]
    pub discount_price: Option<Option<String>>,
}

pub async fn create_course(state: web::Data<AppState>, user: AuthUser, body: Body) -> Result<Reply, ApiError> {
    user.require(Role::Speaker)?;
    let input: CourseRequest = json_body(&body)?;
    let mut fields = Fields::default();
    let title = fields.check(Title::parse(&input.title));
    let description = fields.check(Description::parse(&input.description));
    let language = fields.check(parse_language(&input.language));
    let level = fields.check(Level::parse(&input.level));
    let price = priced(&mut fields, &input.price, input.discount_price.as_deref());
    fields.done()?;
    let (Some(title), Some(description), Some(language), Some(level), Some(price)) = (title, description, language, level, price) else {
        return Err(ApiError::internal("checked fields missing"));
    };
    let details = CourseDetails { title, description, category_id: input.category_id, language, level, price };
    let created = state.commands.catalogue.create_course(user.user_id, details, &user.context()).await?;
    let (course, position) = appended(created)?;
    let course_id = course.state.id().ok_or_else(|| ApiError::internal("a created course without an id"))?;
    state.shown(READS, position).await?;
    let view = views::course(&state, &Viewer(Some(user)), course_id).await?;
    Ok(Reply::created(&COURSE_CREATED, view).position(Some(position)))
}

pub async fn update_course(state: web::Data<AppState>, user: AuthUser, id: web::Path<String>, body: Body) -> Result<Reply, ApiError> {
    user.require(Role::Speaker)?;
    let course_id = parse_id(&id)?;
    let input: CoursePatchRequest = json_body(&body)?;
    let mut fields = Fields::default();
    let patch = CoursePatch {
        title: fields.optional("title", input.title.as_deref().map(Title::parse)).flatten(),
        description: fields.optional("description", input.description.as_deref().map(Description::parse)).flatten(),
        category_id: input.category_id,
        language: fields.optional("language", input.language.as_deref().map(parse_language)).flatten(),
        level: fields.optional("level", input.level.as_deref().map(Level::parse)).flatten(),
        price: fields.optional("price", input.price.as_deref().map(parse_price)).flatten(),
        discount_price: match &input.discount_price {
            None => None,
            Some(None) => Some(None),
            Some(Some(text)) => fields.check_as("discount_price", parse_price(text)).map(Some),
        },
    };
    fields.done()?;
    let updated = state.commands.catalogue.update_course(user.user_id, course_id, patch, &user.context()).await?;
    answer_course(&state, user, course_id, updated, &COURSE_UPDATED).await
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct SectionRequest {
    #[schemars(example = &"المقدمة")]
    pub title: String,
}

pub async fn add_section(state: web::Data<AppState>, user: AuthUser, id: web::Path<String>, body: Body) -> Result<Reply, ApiError> {
    user.require(Role::Speaker)?;
    let course_id = parse_id(&id)?;
    let input: SectionRequest = json_body(&body)?;
    let mut fields = Fields::default();
    let title = fields.check(Title::parse(&input.title));
    fields.done()?;
    let Some(title) = title else { return Err(ApiError::internal("checked fields missing")) };
    let added = state.commands.catalogue.add_section(user.user_id, course_id, title.clone(), &user.context()).await?;
    let (section_id, position) = appended(added)?;
    Ok(Reply::created(&SECTION_ADDED, SectionView { id: section_id, title: title.to_string(), lessons: Vec::new() }).position(Some(position)))
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct LessonRequest {
    #[schemars(example = "الدرس الأول")]
    pub title: String,
    /// `video`, `audio`, `pdf`, `text` or `link`.
    #[schemars(example = &"video")]
    pub content_type: String,
    #[schemars(example = "https://media.example.com/lesson-1.mp4")]
    pub content_url: String,
    #[schemars(example = 600)]
    pub duration_seconds: i64,
    /// Anyone may open a preview lesson.
    #[serde(default)]
    pub is_preview: bool,
}

pub async fn add_lesson(state: web::Data<AppState>, user: AuthUser, path: web::Path<(String, String)>, body: Body) -> Result<Reply, ApiError> {
    user.require(Role::Speaker)?;
    let (course_id, section_id) = (parse_id(&path.0)?, parse_id(&path.1)?);
    let input: LessonRequest = json_body(&body)?;
    let mut fields = Fields::default();
    let title = fields.check(Title::parse(&input.title));
    let content_type = fields.check(ContentType::parse(&input.content_type));
    let content_url = fields.check_as("content_url", ContentUrl::parse(&input.content_url));
    let duration_seconds = fields.check(parse_duration(input.duration_seconds));
    fields.done()?;
    let (Some(title), Some(content_type), Some(content_url), Some(duration_seconds)) = (title, content_type, content_url, duration_seconds) else {
        return Err(ApiError::internal("checked fields missing"));
    };
    let lesson = Lesson { lesson_id: Uuid::now_v7(), title, content_type, content_url, duration_seconds, is_preview: input.is_preview };
    let view = LessonView::of(&lesson);
    let added = state.commands.catalogue.add_lesson(user.user_id, course_id, section_id, lesson, &user.context()).await?;
    let (_, position) = appended(added)?;
    Ok(Reply::created(&LESSON_ADDED, view).position(Some(position)))
}

pub async fn publish_course(state: web::Data<AppState>, user: AuthUser, id: web::Path<String>) -> Result<Reply, ApiError> {
    user.require(Role::Speaker)?;
    let course_id = parse_id(&id)?;
    let published = state.commands.catalogue.publish_course(user.user_id, course_id, &user.context()).await?;
    answer_course(&state, user, course_id, published, &PUBLISHED).await
}

pub async fn archive_course(state: web::Data<AppState>, user: AuthUser, id: web::Path<String>) -> Result<Reply, ApiError> {
    user.require(Role::Speaker)?;
    let course_id = parse_id(&id)?;
    let archived = state.commands.catalogue.archive_course(user.user_id, course_id, &user.context()).await?;
    answer_course(&state, user, course_id, archived, &ARCHIVED).await
}

async fn answer_course<T>(state: &AppState, user: AuthUser, course_id: Uuid, transacted: Transacted<T>, message: &'static Text) -> Result<Reply, ApiError> {
    let (_, position) = appended(transacted)?;
    state.shown(READS, position).await?;
    Ok(Reply::ok(views::course(state, &Viewer(Some(user)), course_id).await?).message(message).position(Some(position)))
}

// ---- books: writing ----

#[derive(Debug, Deserialize, JsonSchema)]
pub struct BookRequest {
    #[schemars(example = &"فن الإلقاء")]
    pub title: String,
    #[schemars(example = &"كتاب عملي في مهارات الخطابة والإلقاء.")]
    pub description: String,
    #[schemars(example = &"0193b0e4-7c1a-7b55-9a3e-5b2f4c7d8e90")]
    pub category_id: Uuid,
    #[schemars(example = "د. أحمد السالم")]
    pub author: String,
    /// ISBN-10 or ISBN-13; hyphens and spaces are ignored.
    #[schemars(example = "978-3-16-148410-0")]
    pub isbn: Option<String>,
    #[schemars(example = 240)]
    pub page_count: i64,
    /// VAT included, in SAR.
    #[schemars(example = "45.00")]
    pub price: String,
    pub discount_price: Option<String>,
    /// Pages anyone may read, from the first: at most `page_count`.
    #[schemars(example = 10)]
    pub preview_pages: i64,
    pub cover_url: Option<String>,
    /// Shown to buyers and the author only.
    pub pdf_url: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct BookPatchRequest {
    pub title: Option<String>,
    pub description: Option<String>,
    pub category_id: Option<Uuid>,
    pub author: Option<String>,
    /// `null` removes it.
    #[serde(default, deserialize_with = "present")]
    pub isbn: Option<Option<String>>,
    pub page_count: Option<i64>,
    pub preview_pages: Option<i64>,
    #[schemars(example = &"39.00")]
    pub price: Option<String>,
    /// `null` removes the discount.
    #[serde(default, deserialize_with = "present")]
    pub discount_price: Option<Option<String>>,
    /// `null` removes it.
    #[serde(default, deserialize_with = "present")]
    pub cover_url: Option<Option<String>>,
    /// `null` removes it.
    #[serde(default, deserialize_with = "present")]
    pub pdf_url: Option<Option<String>>,
}

fn preview_pages(pages: i64) -> Result<u32, CatalogueError> {
    u32::try_from(pages).map_err(|_| CatalogueError::InvalidPreviewPages)
}

pub async fn create_book(state: web::Data<AppState>, user: AuthUser, body: Body) -> Result<Reply, ApiError> {
    user.require(Role::Speaker)?;
    let input: BookRequest = json_body(&body)?;
    let mut fields = Fields::default();
    let title = fields.check(Title::parse(&input.title));
    let description = fields.check(Description::parse(&input.description));
    let author = fields.check(Author::parse(&input.author));
    let isbn = fields.optional("isbn", input.isbn.as_deref().map(Isbn::parse));
    let page_count = fields.check(parse_page_count(input.page_count));
    let preview = fields.check(preview_pages(input.preview_pages));
    let price = priced(&mut fields, &input.price, input.discount_price.as_deref());
    let cover_url = fields.optional("cover_url", input.cover_url.as_deref().map(ContentUrl::parse));
    let pdf_url = fields.optional("pdf_url", input.pdf_url.as_deref().map(ContentUrl::parse));
    if let (Some(pages), Some(preview)) = (page_count, preview)
        && preview > pages
    {
        fields.check::<(), _>(Err(CatalogueError::InvalidPreviewPages));
    }
    fields.done()?;
    let (Some(title), Some(description), Some(author), Some(isbn), Some(page_count), Some(preview_pages), Some(price), Some(cover_url), Some(pdf_url)) =
        (title, description, author, isbn, page_count, preview, price, cover_url, pdf_url)
    else {
        return Err(ApiError::internal("checked fields missing"));
    };
    let details = BookDetails { title, description, category_id: input.category_id, author, isbn, page_count, preview_pages, price, cover_url, pdf_url };
    let created = state.commands.catalogue.create_book(user.user_id, details, &user.context()).await?;
    let (book, position) = appended(created)?;
    let book_id = book.state.id().ok_or_else(|| ApiError::internal("a created book without an id"))?;
    state.shown(READS, position).await?;
    let view = views::book(&state, &Viewer(Some(user)), book_id).await?;
    Ok(Reply::created(&BOOK_CREATED, view).position(Some(position)))
}

pub async fn update_book(state: web::Data<AppState>, user: AuthUser, id: web::Path<String>, body: Body) -> Result<Reply, ApiError> {
    user.require(Role::Speaker)?;
    let book_id = parse_id(&id)?;
    let input: BookPatchRequest = json_body(&body)?;
    let mut fields = Fields::default();
    let optional_url = |fields: &mut Fields, name: &str, value: &Option<Option<String>>| match value {
        None => None,
        Some(None) => Some(None),
        Some(Some(text)) => fields.check_as(name, ContentUrl::parse(text)).map(Some),
    };
    let patch = BookPatch {
        title: fields.optional("title", input.title.as_deref().map(Title::parse)).flatten(),
        description: fields.optional("description", input.description.as_deref().map(Description::parse)).flatten(),
        category_id: input.category_id,
        author: fields.optional("author", input.author.as_deref().map(Author::parse)).flatten(),
        isbn: match &input.isbn {
            None => None,
            Some(None) => Some(None),
            Some(Some(text)) => fields.check_as("isbn", Isbn::parse(text)).map(Some),
        },
        page_count: fields.optional("page_count", input.page_count.map(parse_page_count)).flatten(),
        preview_pages: fields.optional("preview_pages", input.preview_pages.map(preview_pages)).flatten(),
        price: fields.optional("price", input.price.as_deref().map(parse_price)).flatten(),
        discount_price: match &input.discount_price {
            None => None,
            Some(None) => Some(None),
            Some(Some(text)) => fields.check_as("discount_price", parse_price(text)).map(Some),
        },
        cover_url: optional_url(&mut fields, "cover_url", &input.cover_url),
        pdf_url: optional_url(&mut fields, "pdf_url", &input.pdf_url),
    };
    fields.done()?;
    let updated = state.commands.catalogue.update_book(user.user_id, book_id, patch, &user.context()).await?;
    answer_book(&state, user, book_id, updated, &BOOK_UPDATED).await
}

pub async fn publish_book(state: web::Data<AppState>, user: AuthUser, id: web::Path<String>) -> Result<Reply, ApiError> {
    user.require(Role::Speaker)?;
    let book_id = parse_id(&id)?;
    let published = state.commands.catalogue.publish_book(user.user_id, book_id, &user.context()).await?;
    answer_book(&state, user, book_id, published, &PUBLISHED).await
}

pub async fn archive_book(state: web::Data<AppState>, user: AuthUser, id: web::Path<String>) -> Result<Reply, ApiError> {
    user.require(Role::Speaker)?;
    let book_id = parse_id(&id)?;
    let archived = state.commands.catalogue.archive_book(user.user_id, book_id, &user.context()).await?;
    answer_book(&state, user, book_id, archived, &ARCHIVED).await
}

async fn answer_book<T>(state: &AppState, user: AuthUser, book_id: Uuid, transacted: Transacted<T>, message: &'static Text) -> Result<Reply, ApiError> {
    let (_, position) = appended(transacted)?;
    state.shown(READS, position).await?;
    Ok(Reply::ok(views::book(state, &Viewer(Some(user)), book_id).await?).message(message).position(Some(position)))
}

// ---- shared ----

/// A new listing's price and optional discount, checked together.
fn priced(fields: &mut Fields, price: &str, discount: Option<&str>) -> Option<Price> {
    let price = fields.check_as("price", parse_price(price));
    let discount = match discount {
        None => Some(None),
        Some(text) => fields.check_as("discount_price", parse_price(text)).map(Some),
    };
    fields.check(Price::new(price?, discount?))
}

