//! Demo data for a development database (`SEED_DEMO_DATA=1`, which the run command sets): a
//! student and a speaker who can log in with `DEMO_PASSWORD`, and some wallet activity — the
//! student's top-up and a course purchase, the speaker's pending earning from it. Written as
//! events through the command layer like any other change. Every step has its own idempotency
//! key (`seed:…`), so a second run appends nothing, and says so.

use anyhow::Context;
use chrono::{Duration, Utc};
use commands::users::Registration;
use commands::{CommandContext, Commands};
use domain::ledger::ProviderName;
use domain::money::{Money, vat_split};
use domain::users::{DisplayName, Email, Language, Role, Username, granted_roles};
use domain::wallet::{PurchaseCategory, WalletCommand};
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
}

pub const DEMO_STUDENT: DemoUser =
    DemoUser { name: "Demo Student", username: "demo_student", email: "student@ispeaker.local", role: Role::Student };
pub const DEMO_SPEAKER: DemoUser =
    DemoUser { name: "Demo Speaker", username: "demo_speaker", email: "speaker@ispeaker.local", role: Role::Speaker };

/// The student's top-up, in SAR.
pub const DEMO_TOP_UP: &str = "500.00";
/// The course the student buys from the speaker, VAT included, in SAR.
pub const DEMO_COURSE_PRICE: &str = "115.00";
/// The speaker's share of the sale, pending for a week, in SAR.
pub const DEMO_EARNING: &str = "80.00";

/// Fixed ids, so a run that resumes an interrupted one names the same top-up and order.
const DEMO_TOP_UP_ID: Uuid = Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0202);
const DEMO_ORDER_ID: Uuid = Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0102);

/// What a seeding run found or made.
#[derive(Clone, Copy, Debug)]
pub struct Seeded {
    pub student: Uuid,
    pub speaker: Uuid,
    /// Whether this run appended anything: false when an earlier run seeded everything.
    pub appended: bool,
}

pub async fn seed_demo_data(commands: &Commands) -> anyhow::Result<Seeded> {
    let (student, student_registered) = demo_user(commands, &DEMO_STUDENT).await?;
    let (speaker, speaker_registered) = demo_user(commands, &DEMO_SPEAKER).await?;
    let mut appended = student_registered || speaker_registered;
    let price = money(DEMO_COURSE_PRICE);
    let (_, vat) = vat_split(price);
    let steps = [
        (student, "top-up", WalletCommand::CreditTopUp { top_up_id: DEMO_TOP_UP_ID, provider: sandbox(), amount: money(DEMO_TOP_UP) }),
        (
            student,
            "purchase",
            WalletCommand::DebitForPurchase {
                order_id: DEMO_ORDER_ID,
                order_item_id: DEMO_ORDER_ID,
                category: PurchaseCategory::Course,
                gross: price,
                vat,
                description: "Public speaking fundamentals".into(),
            },
        ),
        (
            speaker,
            "earning",
            WalletCommand::AddPendingEarnings {
                earning_id: DEMO_ORDER_ID,
                order_id: DEMO_ORDER_ID,
                amount: money(DEMO_EARNING),
                release_at: Utc::now() + Duration::days(7),
                description: "Sale: Public speaking fundamentals".into(),
            },
        ),
    ];
    for (user, step, command) in steps {
        let key = format!("seed:{user}:{step}");
        let outcome = commands.wallet.execute(user, command, CommandContext::idempotent(key)).await.with_context(|| format!("demo {step}"))?;
        appended |= !outcome.replayed && !outcome.events.is_empty();
    }
    if appended {
        tracing::info!(%student, %speaker, "demo data seeded");
    } else {
        tracing::info!("demo data already present; nothing seeded");
    }
    Ok(Seeded { student, speaker, appended })
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
        language: Language::En,
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
