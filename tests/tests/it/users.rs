//! User registration, login lookups and token revocation through the real command layer,
//! event store and users projector.

use chrono::{TimeZone, Utc};
use std::sync::Arc;

use commands::users::{RegisteredUser, Registration, Users, email_stream, user_stream, username_stream};
use commands::{CommandContext, CommandError, Commands, wallet};
use domain::users::{DisplayName, Email, Language, ReservationError, Role, UserError, Username};
use domain::wallet::WalletEvent;
use event_store::{EventStore, StreamRef};
use projections::users::UsersProjector;
use projections::{ProjectorRunner, RunnerConfig};
use sqlx::Row;
use tests::TestDatabase;
use uuid::Uuid;

use crate::support::open_store;

const PASSWORD_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA";

struct Harness {
    db: TestDatabase,
    store: EventStore,
    commands: Commands,
    users: Users,
}

impl Harness {
    async fn new() -> Self {
        let db = TestDatabase::new().await;
        let store = open_store(&db.pool).await;
        let commands = Commands::new(store.clone());
        Self { db, store, users: commands.users.clone(), commands }
    }

    async fn register(&self, username: &str, email: &str, roles: Vec<Role>) -> Result<RegisteredUser, CommandError> {
        self.users.register(registration(username, email, roles), CommandContext::default()).await
    }

    async fn head(&self) -> u64 {
        self.store.head().await.unwrap().position
    }

    async fn catch_up_users(&self) {
        ProjectorRunner::new(self.store.clone(), Arc::new(UsersProjector), RunnerConfig::default())
            .catch_up()
            .await
            .unwrap();
    }
}

fn registration(username: &str, email: &str, roles: Vec<Role>) -> Registration {
    Registration {
        name: DisplayName::parse("Sara Al-Harbi").unwrap(),
        username: Username::parse(username).unwrap(),
        email: Email::parse(email).unwrap(),
        password_hash: PASSWORD_HASH.to_owned(),
        roles,
        language: Language::Ar,
        registered_at: Utc.with_ymd_and_hms(2025, 3, 1, 12, 0, 0).unwrap(),
    }
}

#[tokio::test]
async fn registering_appends_the_user_both_reservations_and_the_wallet_atomically() {
    let h = Harness::new().await;
    let before = h.head().await;

    let registered = h.register("sara.k", "Sara@Example.com", vec![Role::Student]).await.unwrap();

    assert_eq!(registered.position, before + 4, "one event on each of four streams, in one append");
    let events = h.store.read_all(before, 100).await.unwrap();
    let streams: Vec<(&StreamRef, &str)> = events.iter().map(|e| (&e.stream, e.event_type.as_str())).collect();
    let keys = h.store.data_keys().unwrap();
    let email = email_stream(keys, &Email::parse("sara@example.com").unwrap());
    let username = username_stream(keys, &Username::parse("sara.k").unwrap());
    assert_eq!(
        streams,
        vec![
            (email.stream_ref(), "EmailReserved"),
            (username.stream_ref(), "UsernameReserved"),
            (user_stream(registered.user_id).stream_ref(), "UserRegistered"),
            (wallet::stream(registered.user_id).stream_ref(), "WalletOpened"),
        ]
    );
    // The reservation streams are named by keyed hashes, never by the email or username.
    for reservation in [&email, &username] {
        let id = &reservation.stream_ref().stream_id;
        assert!(id.len() == 64 && id.bytes().all(|b| b.is_ascii_hexdigit()), "{id}");
    }
    assert_ne!(email.stream_ref(), &StreamRef::new("user_email", "sara@example.com"));
    assert!(events.iter().all(|e| e.stream_version == 1));
    assert!(events.iter().all(|e| e.metadata.correlation_id == events[0].metadata.correlation_id));
    assert_eq!(
        commands::stream::decode::<WalletEvent>(&events[3]).unwrap(),
        WalletEvent::WalletOpened { user_id: registered.user_id, currency: "SAR".to_owned() }
    );

    let wallet = h.commands.kernel.read(&wallet::stream(registered.user_id)).await.unwrap();
    assert_eq!(wallet.state.user_id(), Some(registered.user_id));
    assert_eq!(wallet.version, 1);

    let user = h.users.load(registered.user_id).await.unwrap().expect("the user is registered");
    assert_eq!(user.id(), Some(registered.user_id));
    assert_eq!(user.username().map(Username::as_str), Some("sara.k"));
    assert_eq!(user.email().map(Email::as_str), Some("sara@example.com"));
    assert_eq!(user.roles(), &[Role::Student]);
    assert_eq!(h.users.load(Uuid::now_v7()).await.unwrap(), None);
}

#[tokio::test]
async fn a_taken_email_is_refused_and_nothing_is_appended() {
    let h = Harness::new().await;
    h.register("sara.k", "sara@example.com", vec![Role::Student]).await.unwrap();
    let before = h.head().await;

    let result = h.register("another", " SARA@example.COM", vec![Role::Speaker]).await;

    assert!(result.as_ref().is_err_and(|error| error.is(&ReservationError::EmailTaken)), "{result:?}");
    assert_eq!(h.head().await, before, "nothing was appended");
    let another = username_stream(h.store.data_keys().unwrap(), &Username::parse("another").unwrap());
    assert!(h.store.read_stream(another.stream_ref(), 0).await.unwrap().is_empty(), "the username stays free");
    h.register("another", "another@example.com", vec![Role::Student]).await.unwrap();
}

#[tokio::test]
async fn a_taken_username_in_any_case_is_refused_and_nothing_is_appended() {
    let h = Harness::new().await;
    h.register("sara.k", "sara@example.com", vec![Role::Student]).await.unwrap();
    let before = h.head().await;

    let result = h.register("SARA.K", "other@example.com", vec![Role::Student]).await;

    assert!(result.as_ref().is_err_and(|error| error.is(&ReservationError::UsernameTaken)), "{result:?}");
    assert_eq!(h.head().await, before, "nothing was appended");
    let other = email_stream(h.store.data_keys().unwrap(), &Email::parse("other@example.com").unwrap());
    assert!(h.store.read_stream(other.stream_ref(), 0).await.unwrap().is_empty(), "the email stays free");
}

#[tokio::test]
async fn of_ten_concurrent_registrations_of_one_email_exactly_one_succeeds() {
    let h = Harness::new().await;
    let before = h.head().await;

    let attempts: Vec<_> = (0..10)
        .map(|n| {
            let users = h.users.clone();
            tokio::spawn(async move {
                users
                    .register(registration(&format!("racer{n}"), "race@example.com", vec![Role::Student]), CommandContext::default())
                    .await
            })
        })
        .collect();
    let mut winners = Vec::new();
    for attempt in attempts {
        match attempt.await.unwrap() {
            Ok(registered) => winners.push(registered),
            Err(error) => assert!(error.is(&ReservationError::EmailTaken), "{error:?}"),
        }
    }

    assert_eq!(winners.len(), 1, "exactly one registration wins");
    assert_eq!(h.head().await, before + 4, "only the winner appended");
    let login = h.users.find_for_login("race@example.com").await.unwrap().unwrap();
    assert_eq!(login.id(), Some(winners[0].user_id));
}

#[tokio::test]
async fn a_repeated_idempotency_key_answers_the_first_registration() {
    let h = Harness::new().await;
    let context = CommandContext::idempotent("register:sara");
    let first = h.users.register(registration("sara.k", "sara@example.com", vec![Role::Student]), context.clone()).await.unwrap();
    let head = h.head().await;

    let again = h.users.register(registration("sara.k", "sara@example.com", vec![Role::Student]), context).await.unwrap();

    assert_eq!(again, first);
    assert_eq!(h.head().await, head);
}

#[tokio::test]
async fn login_finds_the_user_by_email_or_username_at_once() {
    let h = Harness::new().await;
    let registered = h.register("sara.k", "sara@example.com", vec![Role::Speaker]).await.unwrap();

    // No projector has run: login reads the store.
    for login in ["sara@example.com", "  SARA@Example.COM ", "sara.k", "Sara.K"] {
        let user = h.users.find_for_login(login).await.unwrap().unwrap_or_else(|| panic!("{login:?} finds the user"));
        assert_eq!(user.id(), Some(registered.user_id));
        assert_eq!(user.password_hash(), Some(PASSWORD_HASH));
        assert_eq!(user.roles(), &[Role::Student, Role::Speaker]);
        assert_eq!(user.language(), Some(Language::Ar));
    }
    for unknown in ["nobody@example.com", "nobody", "", "x", "not an email@", "@"] {
        assert_eq!(h.users.find_for_login(unknown).await.unwrap(), None, "{unknown:?}");
    }
}

#[tokio::test]
async fn revoking_a_token_needs_a_user_and_happens_once() {
    let h = Harness::new().await;
    let registered = h.register("sara.k", "sara@example.com", vec![Role::Student]).await.unwrap();
    let token = Uuid::now_v7();
    let expires_at = Utc.with_ymd_and_hms(2025, 3, 2, 12, 0, 0).unwrap();

    let position = h.users.revoke_token(registered.user_id, token, expires_at, CommandContext::default()).await.unwrap();
    let head = h.head().await;
    assert_eq!(position, head);
    let again = h.users.revoke_token(registered.user_id, token, expires_at, CommandContext::default()).await.unwrap();

    assert_eq!(again, position, "a repeat answers the first revocation");
    assert_eq!(h.head().await, head, "and appends nothing");
    let user = h.users.load(registered.user_id).await.unwrap().unwrap();
    assert!(user.is_token_revoked(token));
    assert_eq!(h.commands.kernel.read(&user_stream(registered.user_id)).await.unwrap().version, 2);
    let unknown = h.users.revoke_token(Uuid::now_v7(), token, expires_at, CommandContext::default()).await;
    assert!(unknown.as_ref().is_err_and(|error| error.is(&UserError::NotRegistered)), "{unknown:?}");
}

#[tokio::test]
async fn any_admin_exists_reads_the_store() {
    let h = Harness::new().await;
    assert!(!h.users.any_admin_exists().await.unwrap());
    h.register("sara.k", "sara@example.com", vec![Role::Speaker]).await.unwrap();
    assert!(!h.users.any_admin_exists().await.unwrap());
    h.register("admin", "admin@example.com", vec![Role::Admin]).await.unwrap();
    assert!(h.users.any_admin_exists().await.unwrap(), "seen without any projector running");
}

#[tokio::test]
async fn the_users_projector_fills_users_and_revoked_tokens() {
    let h = Harness::new().await;
    let speaker = h.register("sara.k", "sara@example.com", vec![Role::Speaker]).await.unwrap();
    let admin = h.register("root", "root@example.com", vec![Role::Admin]).await.unwrap();
    let token = Uuid::now_v7();
    let expires_at = Utc.with_ymd_and_hms(2025, 3, 2, 12, 0, 0).unwrap();
    let revoked_position = h.users.revoke_token(speaker.user_id, token, expires_at, CommandContext::default()).await.unwrap();

    h.catch_up_users().await;

    let row = sqlx::query("SELECT name, username, email, roles, is_admin, language, registered_at, last_position FROM users WHERE id = ?")
        .bind(speaker.user_id)
        .fetch_one(&h.db.pool)
        .await
        .unwrap();
    assert_eq!(row.get::<String, _>("name"), "Sara Al-Harbi");
    assert_eq!(row.get::<String, _>("username"), "sara.k");
    assert_eq!(row.get::<String, _>("email"), "sara@example.com");
    assert_eq!(row.get::<String, _>("roles"), "student,speaker");
    assert!(!row.get::<bool, _>("is_admin"));
    assert_eq!(row.get::<String, _>("language"), "ar");
    assert_eq!(
        row.get::<chrono::NaiveDateTime, _>("registered_at"),
        Utc.with_ymd_and_hms(2025, 3, 1, 12, 0, 0).unwrap().naive_utc()
    );
    assert!(row.get::<u64, _>("last_position") <= speaker.position);

    let admins: Vec<Uuid> = sqlx::query_scalar("SELECT id FROM users WHERE is_admin = 1").fetch_all(&h.db.pool).await.unwrap();
    assert_eq!(admins, vec![admin.user_id]);
    let roles: String =
        sqlx::query_scalar("SELECT roles FROM users WHERE id = ?").bind(admin.user_id).fetch_one(&h.db.pool).await.unwrap();
    assert_eq!(roles, "admin");

    let revoked = sqlx::query("SELECT user_id, expires_at, revoked_at FROM revoked_tokens WHERE token_id = ?")
        .bind(token)
        .fetch_one(&h.db.pool)
        .await
        .unwrap();
    assert_eq!(revoked.get::<Uuid, _>("user_id"), speaker.user_id);
    assert_eq!(revoked.get::<chrono::NaiveDateTime, _>("expires_at"), expires_at.naive_utc());
    let recorded_at = h.store.read_all(revoked_position - 1, 1).await.unwrap()[0].recorded_at;
    assert_eq!(revoked.get::<chrono::NaiveDateTime, _>("revoked_at"), recorded_at.naive_utc());

    let password_columns: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = 'users' \
         AND column_name LIKE '%password%'",
    )
    .fetch_one(&h.db.pool)
    .await
    .unwrap();
    assert_eq!(password_columns, 0, "the read model keeps no password hash");

    let checkpoint = projections::checkpoint(&h.db.pool, UsersProjector::NAME).await.unwrap();
    assert_eq!(checkpoint, Some((projections::Projector::version(&UsersProjector), h.head().await)));
}
