//! The catalogue context's commands: categories (admins), courses with their sections and
//! lessons, and books (their authors). A listing names a category that must exist, checked in the
//! same unit of work that writes the listing.

use chrono::Utc;
use domain::catalogue::book::{self, Book, BookCommand, BookDetails, BookPatch};
use domain::catalogue::category::{self, Category, CategoryCommand, CategoryName};
use domain::catalogue::course::{self, Course, CourseCommand, CourseDetails, CoursePatch, Lesson};
use domain::catalogue::{CatalogueError, Title};
use uuid::Uuid;

use crate::kernel::{Kernel, Transacted, UnitOfWork};
use crate::stream::{Loaded, Stream};
use crate::{CommandContext, CommandError};

pub fn category_stream(category_id: Uuid) -> Stream<Category> {
    Stream::new(category::STREAM_TYPE, category_id.to_string())
}

pub fn course_stream(course_id: Uuid) -> Stream<Course> {
    Stream::new(course::STREAM_TYPE, course_id.to_string())
}

pub fn book_stream(book_id: Uuid) -> Stream<Book> {
    Stream::new(book::STREAM_TYPE, book_id.to_string())
}

/// The context's command handler. Cheap to clone.
#[derive(Clone)]
pub struct Catalogue {
    kernel: Kernel,
}

impl Catalogue {
    pub fn new(kernel: Kernel) -> Self {
        Self { kernel }
    }

    /// A new category with a fresh id.
    pub async fn create_category(
        &self,
        admin: Uuid,
        name_en: CategoryName,
        name_ar: CategoryName,
        context: &CommandContext,
    ) -> Result<Transacted<Uuid>, CommandError> {
        let category_id = Uuid::now_v7();
        let command = CategoryCommand::Create { category_id, name_en, name_ar, created_by: admin, created_at: Utc::now() };
        self.kernel.execute(&category_stream(category_id), command, context).await.map(|done| done.map(|_| category_id))
    }

    /// A new draft course by `speaker`, with a fresh id.
    pub async fn create_course(&self, speaker: Uuid, details: CourseDetails, context: &CommandContext) -> Result<Transacted<Loaded<Course>>, CommandError> {
        let course_id = Uuid::now_v7();
        let stream = &course_stream(course_id);
        let details = &details;
        self.kernel
            .transact(context, |unit| async move {
                require_category(&unit, details.category_id).await?;
                let mut course = unit.create(stream).await?;
                unit.decide(stream, &mut course, CourseCommand::Create { course_id, speaker_id: speaker, details: details.clone(), created_at: Utc::now() })?;
                Ok(course)
            })
            .await
    }

    /// The author's edit of a course: the fields given replace the current ones.
    pub async fn update_course(&self, actor: Uuid, course_id: Uuid, patch: CoursePatch, context: &CommandContext) -> Result<Transacted<Loaded<Course>>, CommandError> {
        let stream = &course_stream(course_id);
        let patch = &patch;
        self.kernel
            .transact(context, |unit| async move {
                let mut course = unit.load(stream).await?;
                let current = course.state.details().ok_or(CommandError::rejected(CatalogueError::NotFound))?;
                let details = current.patched(patch.clone()).map_err(CommandError::rejected)?;
                if details.category_id != current.category_id {
                    require_category(&unit, details.category_id).await?;
                }
                unit.decide(stream, &mut course, CourseCommand::Update { actor, details, updated_at: Utc::now() })?;
                Ok(course)
            })
            .await
    }

    /// A new, empty section at the end of the course: its id.
    pub async fn add_section(&self, actor: Uuid, course_id: Uuid, title: Title, context: &CommandContext) -> Result<Transacted<Uuid>, CommandError> {
        let section_id = Uuid::now_v7();
        let command = CourseCommand::AddSection { actor, section_id, title };
        self.kernel.execute(&course_stream(course_id), command, context).await.map(|done| done.map(|_| section_id))
    }

    /// A lesson at the end of a section.
    pub async fn add_lesson(&self, actor: Uuid, course_id: Uuid, section_id: Uuid, lesson: Lesson, context: &CommandContext) -> Result<Transacted<Loaded<Course>>, CommandError> {
        self.kernel.execute(&course_stream(course_id), CourseCommand::AddLesson { actor, section_id, lesson }, context).await
    }

    pub async fn publish_course(&self, actor: Uuid, course_id: Uuid, context: &CommandContext) -> Result<Transacted<Loaded<Course>>, CommandError> {
        self.kernel.execute(&course_stream(course_id), CourseCommand::Publish { actor, published_at: Utc::now() }, context).await
    }

    pub async fn archive_course(&self, actor: Uuid, course_id: Uuid, context: &CommandContext) -> Result<Transacted<Loaded<Course>>, CommandError> {
        self.kernel.execute(&course_stream(course_id), CourseCommand::Archive { actor, archived_at: Utc::now() }, context).await
    }

    /// A course as the store has it now.
    pub async fn course(&self, course_id: Uuid) -> Result<Loaded<Course>, CommandError> {
        self.kernel.read(&course_stream(course_id)).await
    }

    /// A new draft book by `speaker`, with a fresh id.
    pub async fn create_book(&self, speaker: Uuid, details: BookDetails, context: &CommandContext) -> Result<Transacted<Loaded<Book>>, CommandError> {
        let book_id = Uuid::now_v7();
        let stream = &book_stream(book_id);
        let details = &details;
        self.kernel
            .transact(context, |unit| async move {
                require_category(&unit, details.category_id).await?;
                let mut book = unit.create(stream).await?;
                unit.decide(stream, &mut book, BookCommand::Create { book_id, speaker_id: speaker, details: details.clone(), created_at: Utc::now() })?;
                Ok(book)
            })
            .await
    }

    pub async fn update_book(&self, actor: Uuid, book_id: Uuid, patch: BookPatch, context: &CommandContext) -> Result<Transacted<Loaded<Book>>, CommandError> {
        let stream = &book_stream(book_id);
        let patch = &patch;
        self.kernel
            .transact(context, |unit| async move {
                let mut book = unit.load(stream).await?;
                let current = book.state.details().ok_or(CommandError::rejected(CatalogueError::NotFound))?;
                let details = current.patched(patch.clone()).map_err(CommandError::rejected)?;
                if details.category_id != current.category_id {
                    require_category(&unit, details.category_id).await?;
                }
                unit.decide(stream, &mut book, BookCommand::Update { actor, details, updated_at: Utc::now() })?;
                Ok(book)
            })
            .await
    }

    pub async fn publish_book(&self, actor: Uuid, book_id: Uuid, context: &CommandContext) -> Result<Transacted<Loaded<Book>>, CommandError> {
        self.kernel.execute(&book_stream(book_id), BookCommand::Publish { actor, published_at: Utc::now() }, context).await
    }

    pub async fn archive_book(&self, actor: Uuid, book_id: Uuid, context: &CommandContext) -> Result<Transacted<Loaded<Book>>, CommandError> {
        self.kernel.execute(&book_stream(book_id), BookCommand::Archive { actor, archived_at: Utc::now() }, context).await
    }

    /// A book as the store has it now.
    pub async fn book(&self, book_id: Uuid) -> Result<Loaded<Book>, CommandError> {
        self.kernel.read(&book_stream(book_id)).await
    }
}

/// The category must exist when a listing names it.
pub(crate) async fn require_category(unit: &UnitOfWork, category_id: Uuid) -> Result<(), CommandError> {
    if unit.load(&category_stream(category_id)).await?.state.exists() {
        Ok(())
    } else {
        Err(CommandError::rejected(CatalogueError::UnknownCategory))
    }
}
