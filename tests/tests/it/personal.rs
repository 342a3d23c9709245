//! Personal data that can be erased (ADR 7): sealed in the log, opened on every read path, gone
//! everywhere once its key is deleted — while the events, the hash chain and the ledger stay whole.

use chrono::{TimeZone, Utc};
use commands::CommandContext;
use commands::users::{RegisteredUser, Registration, user_stream};
use domain::kernel::DELETED_USER_NAME;
use domain::ledger::ProviderName;
use domain::money::Money;
use domain::users::{DisplayName, Email, Language, Role, Username};
use event_store::{AppendRequest, ExpectedVersion, NewEvent, StreamAppend, StreamRef};
use replay_tools::ExitStatus;
use sqlx::Row;
use uuid::Uuid;

use crate::support::Harness;

const PASSWORD_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA";

impl Harness {
    async fn register_user(&self, name: &str, username: &str, email: &str) -> RegisteredUser {
        let registration = Registration {
            name: DisplayName::parse(name).unwrap(),
            username: Username::parse(username).unwrap(),
            email: Email::parse(email).unwrap(),
            password_hash: PASSWORD_HASH.to_owned(),
            roles: vec![Role::Speaker],
            language: Language::Ar,
            registered_at: Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
        };
        self.commands.users.register(registration, CommandContext::default()).await.unwrap()
    }

    /// Stored payloads (as the log keeps them) that contain `text`.
    async fn stored_payloads_containing(&self, text: &str) -> i64 {
        sqlx::query_scalar("SELECT COUNT(*) FROM events WHERE INSTR(payload, ?) > 0 OR INSTR(stream_id, ?) > 0")
            .bind(text)
            .bind(text)
            .fetch_one(&self.db.pool)
            .await
            .unwrap()
    }

    async fn user_row(&self, user: Uuid) -> (String, Option<String>, Option<String>, bool) {
        let row = sqlx::query("SELECT name, username, email, is_erased FROM users WHERE id = ?").bind(user).fetch_one(&self.db.pool).await.unwrap();
        (row.get("name"), row.get("username"), row.get("email"), row.get("is_erased"))
    }

    async fn rebuild_all(&self) {
        let (status, report) = self.cli(&["rebuild", "--all"]).await;
        assert_eq!(status, ExitStatus::Success, "{report}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn personal_data_is_sealed_in_the_log_and_opened_on_every_read_path() {
    let h = Harness::new().await;
    let sara = h.register_user("Sara Al-Harbi", "sara.k", "sara@example.com").await;

    for secret in ["Sara Al-Harbi", "sara.k", "sara@example.com", PASSWORD_HASH] {
        assert_eq!(h.stored_payloads_containing(secret).await, 0, "{secret} is in the log in plain text");
    }
    let stored = h.store.read_all_stored(0, 10).await.unwrap();
    let registered = stored.iter().find(|e| e.event_type == "UserRegistered").unwrap();
    assert!(registered.payload.contains("$sealed"), "{}", registered.payload);

    // The aggregate, login and the read model all see the values.
    let user = h.commands.users.load(sara.user_id).await.unwrap().unwrap();
    assert_eq!(user.email().map(Email::as_str), Some("sara@example.com"));
    assert_eq!(user.password_hash(), Some(PASSWORD_HASH));
    let found = h.commands.users.find_for_login("SARA@example.com").await.unwrap().unwrap();
    assert_eq!(found.id(), Some(sara.user_id));
    h.catch_up().await;
    assert_eq!(h.user_row(sara.user_id).await, ("Sara Al-Harbi".to_owned(), Some("sara.k".to_owned()), Some("sara@example.com".to_owned()), false));

    // Another store with the wrong secret cannot open them.
    let wrong = event_store::EventStore::start(h.db.pool.clone(), commands::upcasters())
        .await
        .unwrap()
        .with_data_keys(event_store::DataKeys::new(h.db.pool.clone(), "another-secret-that-is-long-enough-for-tests"));
    assert!(wrong.read_stream(user_stream(sara.user_id).stream_ref(), 0).await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn erasing_a_key_erases_the_data_everywhere_and_leaves_chain_and_ledger_whole() {
    let h = Harness::new().await;
    let sara = h.register_user("Sara Al-Harbi", "sara.k", "sara@example.com").await;
    let omar = h.register_user("Omar", "omar", "omar@example.com").await;
    // Money moves through Sara's wallet, so the ledger has something to keep.
    let sandbox = ProviderName::parse("sandbox").unwrap();
    let none = CommandContext::default();
    let commands::Transacted::Done { value: top_up, .. } =
        h.commands.wallet.request_top_up(sara.user_id, sandbox.clone(), Money::parse("80.00").unwrap(), &none).await.unwrap()
    else {
        panic!("a new top-up");
    };
    let top_up_id = top_up.state.id().unwrap();
    h.commands.wallet.capture_top_up(top_up_id, &sandbox, "evt-1", Money::parse("80.00").unwrap(), &none).await.unwrap();
    h.catch_up().await;
    let (_, chain_before) = h.cli(&["verify-chain"]).await;
    let balance_before: String = sqlx::query_scalar("SELECT CAST(balance AS CHAR) FROM wallet_balances WHERE user_id = ?")
        .bind(sara.user_id)
        .fetch_one(&h.db.pool)
        .await
        .unwrap();

    h.commands.users.erase(sara.user_id).await.unwrap();
    h.rebuild_all().await;

    // The read model, the aggregate and login know nothing of Sara any more.
    assert_eq!(h.user_row(sara.user_id).await, (DELETED_USER_NAME.to_owned(), None, None, true));
    let erased = h.commands.users.load(sara.user_id).await.unwrap().unwrap();
    assert!(erased.is_erased());
    assert_eq!((erased.name(), erased.email(), erased.username(), erased.password_hash()), (None, None, None, None));
    assert_eq!(erased.roles(), &[Role::Student, Role::Speaker], "what is not personal stays");
    let login = h.commands.users.find_for_login("sara@example.com").await.unwrap();
    assert!(login.is_none_or(|user| user.password_hash().is_none()), "no password to log in with");
    // Nothing else was touched.
    assert_eq!(h.user_row(omar.user_id).await.2, Some("omar@example.com".to_owned()));
    // The log, its chain and the ledger are as they were.
    let (status, chain_after) = h.cli(&["verify-chain"]).await;
    assert_eq!(status, ExitStatus::Success, "{chain_after}");
    assert_eq!(chain_after, chain_before);
    let (status, audit) = h.cli(&["audit", "wallet", "--all"]).await;
    assert_eq!(status, ExitStatus::Success, "{audit}");
    let balance_after: String = sqlx::query_scalar("SELECT CAST(balance AS CHAR) FROM wallet_balances WHERE user_id = ?")
        .bind(sara.user_id)
        .fetch_one(&h.db.pool)
        .await
        .unwrap();
    assert_eq!((balance_before.as_str(), balance_after.as_str()), ("80.00", "80.00"));
    assert!(h.store.data_keys().unwrap().is_erased(sara.user_id).await.unwrap());
}

/// Registrations written before sealing existed hold plain text the log cannot forget: they read
/// as before, log in as before, and read as erased once their user is.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registrations_from_before_sealing_still_work_and_are_masked_after_erasure() {
    let h = Harness::new().await;
    let user = Uuid::now_v7();
    let v1 = |event_type: &str, payload: serde_json::Value| NewEvent::new(event_type, 1, payload);
    let streams = vec![
        StreamAppend {
            stream: StreamRef::new("user_email", "legacy@example.com"),
            expected: ExpectedVersion::NoStream,
            events: vec![v1("EmailReserved", serde_json::json!({ "email": "legacy@example.com", "user_id": user }))],
        },
        StreamAppend {
            stream: StreamRef::new("user_username", "legacy"),
            expected: ExpectedVersion::NoStream,
            events: vec![v1("UsernameReserved", serde_json::json!({ "username": "legacy", "user_id": user }))],
        },
        StreamAppend {
            stream: user_stream(user).stream_ref().clone(),
            expected: ExpectedVersion::NoStream,
            events: vec![v1(
                "UserRegistered",
                domain::users::schema::user_registered_v1_payload(user, "Legacy Lina", "legacy", "legacy@example.com", PASSWORD_HASH),
            )],
        },
    ];
    let mut append = AppendRequest::single(user_stream(user).stream_ref().clone(), ExpectedVersion::Any, Vec::new());
    append.streams = streams;
    h.store.append(append).await.unwrap();

    let found = h.commands.users.find_for_login("legacy@example.com").await.unwrap().expect("a legacy login");
    assert_eq!((found.id(), found.password_hash()), (Some(user), Some(PASSWORD_HASH)));
    assert_eq!(h.commands.users.find_for_login("LEGACY").await.unwrap().and_then(|u| u.id()), Some(user));
    // The legacy email and username stay taken.
    let registration = |username: &str, email: &str| Registration {
        name: DisplayName::parse("Copy").unwrap(),
        username: Username::parse(username).unwrap(),
        email: Email::parse(email).unwrap(),
        password_hash: PASSWORD_HASH.to_owned(),
        roles: vec![Role::Student],
        language: Language::En,
        registered_at: Utc::now(),
    };
    let taken = h.commands.users.register(registration("copy", "legacy@example.com"), CommandContext::default()).await.unwrap_err();
    assert!(taken.is(&domain::users::ReservationError::EmailTaken), "{taken:?}");
    let taken = h.commands.users.register(registration("legacy", "copy@example.com"), CommandContext::default()).await.unwrap_err();
    assert!(taken.is(&domain::users::ReservationError::UsernameTaken), "{taken:?}");
    h.catch_up().await;
    assert_eq!(h.user_row(user).await.0, "Legacy Lina");

    h.commands.users.erase(user).await.unwrap();
    h.rebuild_all().await;
    assert_eq!(h.user_row(user).await, (DELETED_USER_NAME.to_owned(), None, None, true));
    let masked = h.commands.users.load(user).await.unwrap().unwrap();
    assert_eq!((masked.name(), masked.email(), masked.password_hash()), (None, None, None));
}
