//! Demo data for a development database (`SEED_DEMO_DATA=1`, which the run command sets), so a
//! newcomer sees a living catalogue: speakers and students with Arabic and English names who can
//! log in with `DEMO_PASSWORD`, categories, published courses with sections and lessons, books,
//! top-ups and purchases through checkout (the speakers' earnings pending), follows, posts, a
//! comment and a reaction, and a gift catalogue. Written as events
//! through the command layer like any other change, never into read models. Every step has its
//! own idempotency key (`seed:…`), so a second run appends nothing, and says so; a run that
//! resumes an interrupted one finds what the first made from the first append of each key.

use anyhow::Context;
use chrono::Utc;
use commands::social::NewPost;
use commands::users::Registration;
use commands::{CommandContext, Commands, Transacted};
use domain::catalogue::book::{Author, BookDetails, BookEvent};
use domain::catalogue::category::{CategoryEvent, CategoryName};
use domain::catalogue::course::{ContentType, CourseDetails, CourseEvent, Lesson, Level};
use domain::catalogue::{ContentUrl, Description, Price, Title};
use domain::commerce::{ItemRef, ItemType};
use domain::gifts::GiftDetails;
use domain::kernel::DomainEvent;
use domain::ledger::ProviderName;
use domain::money::Money;
use domain::social::Reaction;
use domain::social::comment::CommentBody;
use domain::social::post::{PostContent, PostEvent, PostType};
use domain::social::visibility::Viewer;
use domain::users::{DisplayName, Email, Language, Role, Username, granted_roles};
use domain::wallet::WalletCommand;
use uuid::Uuid;

use crate::users::hash_password;

/// The demo users' password: these are development accounts, and the README and the run
/// command's banner print it. It meets the password rule.
pub const DEMO_PASSWORD: &str = "Demo#Pass2026";

/// A demo account, logged in with its email or username and `DEMO_PASSWORD`.
pub struct DemoUser {
    pub name: &'static str,
    pub username: &'static str,
    pub email: &'static str,
    pub role: Role,
    pub language: Language,
}

pub const DEMO_STUDENT: DemoUser =
    DemoUser { name: "Demo Student", username: "demo_student", email: "student@ispeaker.local", role: Role::Student, language: Language::En };
pub const DEMO_SPEAKER: DemoUser =
    DemoUser { name: "Demo Speaker", username: "demo_speaker", email: "speaker@ispeaker.local", role: Role::Speaker, language: Language::En };
const AHMAD: DemoUser =
    DemoUser { name: "أحمد السالم", username: "ahmad_alsalem", email: "ahmad@ispeaker.local", role: Role::Speaker, language: Language::Ar };
const SARAH: DemoUser =
    DemoUser { name: "Sarah Khan", username: "sarah_khan", email: "sarah@ispeaker.local", role: Role::Speaker, language: Language::En };
const FATIMA: DemoUser =
    DemoUser { name: "فاطمة الزهراني", username: "fatima_z", email: "fatima@ispeaker.local", role: Role::Student, language: Language::Ar };

/// The demo student's top-up, in SAR.
pub const DEMO_TOP_UP: &str = "500.00";
/// The demo speaker's course the demo student buys, VAT included, in SAR.
pub const DEMO_COURSE_PRICE: &str = "115.00";
/// The demo speaker's share of that sale, pending for a week, in SAR.
pub const DEMO_EARNING: &str = "80.00";

/// What a seeding run found or made.
#[derive(Clone, Copy, Debug)]
pub struct Seeded {
    pub student: Uuid,
    pub speaker: Uuid,
    /// Whether this run appended anything: false when an earlier run seeded everything.
    pub appended: bool,
}

/// A course to seed: (title, description, language, level, price, discount, sections of lessons).
type DemoCourse = (&'static str, &'static str, &'static str, Level, &'static str, Option<&'static str>, &'static [(&'static str, &'static [&'static str])]);

pub async fn seed_demo_data(commands: &Commands) -> anyhow::Result<Seeded> {
    let mut seed = Seeding { commands, appended: false };
    let student = seed.user(&DEMO_STUDENT).await?;
    let speaker = seed.user(&DEMO_SPEAKER).await?;
    let ahmad = seed.user(&AHMAD).await?;
    let sarah = seed.user(&SARAH).await?;
    let fatima = seed.user(&FATIMA).await?;

    let speaking = seed.category("Public speaking", "الخطابة والإلقاء").await?;
    let quran = seed.category("Quran and Islamic studies", "القرآن والدراسات الإسلامية").await?;
    let languages = seed.category("Languages", "اللغات").await?;
    let programming = seed.category("Programming", "البرمجة").await?;

    const BASICS: &[(&str, &[&str])] = &[("Getting started", &["Welcome", "Your first talk"]), ("Practice", &["Voice and pace", "Handling questions"])];
    let fundamentals: DemoCourse =
        ("Public speaking fundamentals", "Speak with confidence: structure, voice and nerves.", "en", Level::Beginner, DEMO_COURSE_PRICE, None, BASICS);
    let tajweed: DemoCourse = ("تعلم القرآن الكريم بالتجويد", "دورة شاملة في التلاوة وأحكام التجويد للمبتدئين.", "ar", Level::Beginner, "200.00", Some("150.00"),
        &[("المقدمة", &["مخارج الحروف", "صفات الحروف"]), ("الأحكام", &["النون الساكنة والتنوين", "المدود"])]);
    let school: DemoCourse = ("مدرسة البرمجة للمبتدئين", "تعلّم أساسيات البرمجة خطوة بخطوة بلغة بايثون.", "ar", Level::Beginner, "0.00", None,
        &[("البداية", &["ما هي البرمجة؟", "أول برنامج"])]);
    let english: DemoCourse = ("English for Arabic speakers", "Everyday English, from greetings to business meetings.", "en", Level::Intermediate,
        "80.00", None, &[("Everyday English", &["Greetings", "At the airport"]), ("At work", &["Meetings", "Emails"])]);
    let fundamentals = seed.course(speaker, speaking, &fundamentals).await?;
    let tajweed = seed.course(ahmad, quran, &tajweed).await?;
    seed.course(ahmad, programming, &school).await?;
    seed.course(sarah, languages, &english).await?;
    let rhetoric = seed.book(ahmad, speaking, "فن الإلقاء", "دليل عملي لمهارات الخطابة والإلقاء أمام الجمهور.", "أحمد السالم", 180, "45.00").await?;
    seed.book(sarah, languages, "Grammar in use, simply", "A short, friendly English grammar with exercises.", "Sarah Khan", 120, "30.00").await?;

    seed.top_up(student, DEMO_TOP_UP).await?;
    seed.buy(student, &[(ItemType::Course, fundamentals)]).await?;
    seed.top_up(fatima, "300.00").await?;
    seed.buy(fatima, &[(ItemType::Course, tajweed), (ItemType::Book, rhetoric)]).await?;

    // The social side: who follows whom, a few posts, a comment and a reaction, and the gifts
    // anyone may send.
    for (follower, followee) in [(student, speaker), (student, ahmad), (fatima, ahmad), (fatima, sarah), (speaker, ahmad)] {
        seed.follow(follower, followee).await?;
    }
    let welcome = seed.post(ahmad, "welcome", "أهلاً بكم! دورة التجويد متاحة الآن، والدرس الأول مجاني للمعاينة.").await?;
    let tip = seed.post(speaker, "tip", "Tip of the day: pause for two seconds before your first sentence. The room leans in.").await?;
    seed.post(sarah, "small-talk", "A new lesson on small talk at the airport is up. Which phrase do you always forget?").await?;
    seed.comment(fatima, welcome, "جزاك الله خيراً، بدأت الدورة وهي ممتازة.").await?;
    seed.react(student, tip, Reaction::Like).await?;
    for (sort_order, (name_en, name_ar, price)) in (0..).zip([("Rose", "وردة", "5.00"), ("Coffee", "قهوة", "15.00"), ("Trophy", "كأس", "100.00")]) {
        seed.gift(name_en, name_ar, price, sort_order).await?;
    }

    if seed.appended {
        tracing::info!(%student, %speaker, "demo data seeded");
    } else {
        tracing::info!("demo data already present; nothing seeded");
    }
    Ok(Seeded { student, speaker, appended: seed.appended })
}

struct Seeding<'a> {
    commands: &'a Commands,
    appended: bool,
}

impl Seeding<'_> {
    async fn user(&mut self, demo: &DemoUser) -> anyhow::Result<Uuid> {
        let (id, registered) = demo_user(self.commands, demo).await?;
        self.appended |= registered;
        Ok(id)
    }

    /// What a keyed step made: its value when it ran now, else the id its first append names.
    async fn made<T>(&mut self, key: &str, done: Transacted<T>, value_id: impl FnOnce(T) -> Option<Uuid>, event_id: fn(&event_store::RecordedEvent) -> Option<Uuid>) -> anyhow::Result<Uuid> {
        match done {
            Transacted::Done { value, position, .. } => {
                self.appended |= position.is_some();
                value_id(value).context("a seeded step without its id")
            }
            Transacted::Replayed { .. } => {
                let (_, events) = self.commands.kernel.first_append(key).await?.context("a replayed seed step the store does not hold")?;
                events.iter().find_map(event_id).with_context(|| format!("the first append of {key} names nothing"))
            }
        }
    }

    async fn category(&mut self, name_en: &str, name_ar: &str) -> anyhow::Result<Uuid> {
        let key = format!("seed:category:{name_en}");
        let done = self.commands.catalogue.create_category(Uuid::nil(), CategoryName::parse(name_en)?, CategoryName::parse(name_ar)?, &CommandContext::idempotent(&key)).await?;
        self.made(&key, done, Some, |event| match decode::<CategoryEvent>(event)? {
            CategoryEvent::CategoryCreated { category_id, .. } => Some(category_id),
        }).await
    }

    async fn course(&mut self, speaker: Uuid, category_id: Uuid, course: &DemoCourse) -> anyhow::Result<Uuid> {
        let (title, description, language, level, price, discount, sections) = *course;
        let details = CourseDetails {
            title: Title::parse(title)?,
            description: Description::parse(description)?,
            category_id,
            language: Language::parse(language)?,
            level,
            price: Price::new(money(price), discount.map(money))?,
        };
        let key = format!("seed:course:{title}");
        let done = self.commands.catalogue.create_course(speaker, details, &CommandContext::idempotent(&key)).await?;
        let course_id = self.made(&key, done, |course| course.state.id(), |event| match decode::<CourseEvent>(event)? {
            CourseEvent::CourseCreated { course_id, .. } => Some(course_id),
            _ => None,
        }).await?;
        for (s, (section, lessons)) in sections.iter().enumerate() {
            let key = format!("seed:course:{course_id}:section:{s}");
            let done = self.commands.catalogue.add_section(speaker, course_id, Title::parse(section)?, &CommandContext::idempotent(&key)).await?;
            let section_id = self.made(&key, done, Some, |event| match decode::<CourseEvent>(event)? {
                CourseEvent::SectionAdded { section_id, .. } => Some(section_id),
                _ => None,
            }).await?;
            for (l, lesson) in lessons.iter().enumerate() {
                let lesson = Lesson {
                    lesson_id: Uuid::now_v7(),
                    title: Title::parse(lesson)?,
                    content_type: ContentType::Video,
                    content_url: ContentUrl::parse(&format!("https://media.ispeaker.local/{course_id}/{s}-{l}.mp4"))?,
                    duration_seconds: 300 + 60 * u32::try_from(l).unwrap_or(0),
                    is_preview: s == 0 && l == 0,
                };
                let key = format!("seed:course:{course_id}:lesson:{s}:{l}");
                let done = self.commands.catalogue.add_lesson(speaker, course_id, section_id, lesson, &CommandContext::idempotent(key)).await?;
                self.appended |= matches!(done, Transacted::Done { position: Some(_), .. });
            }
        }
        let done = self.commands.catalogue.publish_course(speaker, course_id, &CommandContext::idempotent(format!("seed:course:{course_id}:publish"))).await?;
        self.appended |= matches!(done, Transacted::Done { position: Some(_), .. });
        Ok(course_id)
    }

    #[allow(clippy::too_many_arguments)]
    async fn book(&mut self, speaker: Uuid, category_id: Uuid, title: &str, description: &str, author: &str, pages: u32, price: &str) -> anyhow::Result<Uuid> {
        let details = BookDetails {
            title: Title::parse(title)?,
            description: Description::parse(description)?,
            category_id,
            author: Author::parse(author)?,
            isbn: None,
            page_count: pages,
            preview_pages: 10,
            price: Price::new(money(price), None)?,
            cover_url: Some(ContentUrl::parse("https://media.ispeaker.local/covers/book.jpg")?),
            pdf_url: Some(ContentUrl::parse("https://media.ispeaker.local/books/book.pdf")?),
        };
        let key = format!("seed:book:{title}");
        let done = self.commands.catalogue.create_book(speaker, details, &CommandContext::idempotent(&key)).await?;
        let book_id = self.made(&key, done, |book| book.state.id(), |event| match decode::<BookEvent>(event)? {
            BookEvent::BookCreated { book_id, .. } => Some(book_id),
            _ => None,
        }).await?;
        let done = self.commands.catalogue.publish_book(speaker, book_id, &CommandContext::idempotent(format!("seed:book:{book_id}:publish"))).await?;
        self.appended |= matches!(done, Transacted::Done { position: Some(_), .. });
        Ok(book_id)
    }

    async fn top_up(&mut self, user: Uuid, amount: &str) -> anyhow::Result<()> {
        let command = WalletCommand::CreditTopUp { top_up_id: Uuid::from_u128(user.as_u128() ^ 0x5eed), provider: sandbox(), amount: money(amount) };
        let outcome = self.commands.wallet.execute(user, command, CommandContext::idempotent(format!("seed:{user}:top-up"))).await.context("demo top-up")?;
        self.appended |= !outcome.replayed && !outcome.events.is_empty();
        Ok(())
    }

    async fn follow(&mut self, follower: Uuid, followee: Uuid) -> anyhow::Result<()> {
        let done = self.commands.social.follow(follower, followee, &CommandContext::idempotent(format!("seed:{follower}:follow:{followee}"))).await?;
        self.appended |= matches!(done, Transacted::Done { position: Some(_), .. });
        Ok(())
    }

    async fn post(&mut self, author: Uuid, label: &str, text: &str) -> anyhow::Result<Uuid> {
        let key = format!("seed:post:{label}");
        let post = NewPost { post_type: PostType::Text, content: PostContent::parse(text)?, media_urls: Vec::new() };
        let done = self.commands.social.create_post(author, post, &CommandContext::idempotent(&key)).await?;
        self.made(&key, done, Some, |event| match decode::<PostEvent>(event)? {
            PostEvent::PostCreated { post_id, .. } => Some(post_id),
            _ => None,
        }).await
    }

    async fn comment(&mut self, author: Uuid, post_id: Uuid, body: &str) -> anyhow::Result<()> {
        let reader = Viewer::User { id: author, is_admin: false };
        let context = CommandContext::idempotent(format!("seed:{author}:comment:{post_id}"));
        let done = self.commands.social.comment(reader, post_id, None, CommentBody::parse(body)?, &context).await?;
        self.appended |= matches!(done, Transacted::Done { position: Some(_), .. });
        Ok(())
    }

    async fn react(&mut self, user: Uuid, post_id: Uuid, reaction: Reaction) -> anyhow::Result<()> {
        let reader = Viewer::User { id: user, is_admin: false };
        let context = CommandContext::idempotent(format!("seed:{user}:reaction:{post_id}"));
        let done = self.commands.social.react_to_post(reader, post_id, Some(reaction), &context).await?;
        self.appended |= matches!(done, Transacted::Done { position: Some(_), .. });
        Ok(())
    }

    async fn gift(&mut self, name_en: &str, name_ar: &str, price: &str, sort_order: u32) -> anyhow::Result<()> {
        let details = GiftDetails {
            name_en: Title::parse(name_en)?,
            name_ar: Title::parse(name_ar)?,
            icon_url: ContentUrl::parse(&format!("https://media.ispeaker.local/gifts/{}.png", name_en.to_lowercase()))?,
            price: money(price),
            sort_order,
        };
        let done = self.commands.gifts.create(details, &CommandContext::idempotent(format!("seed:gift:{name_en}"))).await?;
        self.appended |= matches!(done, Transacted::Done { position: Some(_), .. });
        Ok(())
    }

    /// Puts the items in the buyer's cart and checks out, paying from the wallet.
    async fn buy(&mut self, buyer: Uuid, items: &[(ItemType, Uuid)]) -> anyhow::Result<()> {
        for (item_type, item_id) in items {
            let item = ItemRef { item_type: *item_type, item_id: *item_id };
            let done = self.commands.commerce.add_to_cart(buyer, item, &CommandContext::idempotent(format!("seed:{buyer}:cart:{item_id}"))).await?;
            self.appended |= matches!(done, Transacted::Done { position: Some(_), .. });
        }
        let done = self.commands.commerce.checkout(buyer, None, &CommandContext::idempotent(format!("seed:{buyer}:checkout"))).await.context("demo checkout")?;
        self.appended |= matches!(done, Transacted::Done { position: Some(_), .. });
        Ok(())
    }
}

fn decode<E: DomainEvent>(event: &event_store::RecordedEvent) -> Option<E> {
    commands::stream::decode::<E>(event).ok()
}

/// The demo user's id, registering them first if they are not yet: with whether this registered
/// them. Looked up first, so a restart spends no time on the deliberately slow password hash.
async fn demo_user(commands: &Commands, demo: &DemoUser) -> anyhow::Result<(Uuid, bool)> {
    if let Some(user) = commands.users.find_for_login(demo.email).await? {
        return Ok((user.id().context("a registered user without an id")?, false));
    }
    let invalid = |error: domain::users::UserError| anyhow::anyhow!("demo user {}: {error}", demo.username);
    let registration = Registration {
        name: DisplayName::parse(demo.name).map_err(invalid)?,
        username: Username::parse(demo.username).map_err(invalid)?,
        email: Email::parse(demo.email).map_err(invalid)?,
        password_hash: hash_password(DEMO_PASSWORD.to_owned()).await.map_err(|e| anyhow::anyhow!("{e}"))?,
        roles: granted_roles(&[demo.role]).map_err(invalid)?,
        language: demo.language,
        registered_at: Utc::now(),
    };
    // Keyed, so two processes seeding at once register the user once.
    let context = CommandContext::idempotent(format!("seed:{}:register", demo.username));
    let registered = commands.users.register(registration, context).await.with_context(|| format!("registering demo user {}", demo.email))?;
    Ok((registered.user_id, true))
}

fn money(amount: &str) -> Money {
    Money::parse(amount).expect("a valid demo amount")
}

fn sandbox() -> ProviderName {
    ProviderName::parse("sandbox").expect("a valid provider name")
}
