//! User rules as given(events) → when(command) → then(events | error), and the validation of
//! the value types a registration is made of.

use chrono::{DateTime, TimeZone, Utc};
use domain::kernel::testing::{self, Given};
use domain::kernel::{DomainEvent, Rejection};
use domain::users::{
    DisplayName, Email, Language, Reservation, ReservationCommand, ReservationError, ReservationEvent, Role, User,
    UserCommand, UserError, UserEvent, Username, check_password_strength, granted_roles,
};
use uuid::Uuid;

// ---- the given/when/then harness every context shares ----

fn given(events: impl IntoIterator<Item = UserEvent>) -> Given<User> {
    testing::given(events)
}

fn user_id() -> Uuid {
    Uuid::from_u128(0x0190_f5e2_7b1c_7d2e_8f00_1234_5678_9abc)
}

fn at(day: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, day, 12, 0, 0).unwrap()
}

fn register(roles: Vec<Role>) -> UserCommand {
    UserCommand::Register {
        user_id: user_id(),
        name: DisplayName::parse("Sara Al-Harbi").unwrap(),
        username: Username::parse("Sara.K").unwrap(),
        email: Email::parse("  Sara@Example.COM ").unwrap(),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".to_owned(),
        roles,
        language: Language::Ar,
        registered_at: at(1),
    }
}

fn registered(roles: Vec<Role>) -> UserEvent {
    UserEvent::UserRegistered {
        user_id: user_id(),
        name: DisplayName::parse("Sara Al-Harbi").unwrap().into(),
        username: Username::parse("sara.k").unwrap().into(),
        email: Email::parse("sara@example.com").unwrap().into(),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".to_owned().into(),
        roles,
        language: Language::Ar,
        registered_at: at(1),
    }
}

fn revoked(token: u128, expires_day: u32) -> UserEvent {
    UserEvent::TokenRevoked {
        user_id: user_id(),
        token_id: Uuid::from_u128(token),
        expires_at: at(expires_day),
    }
}

fn revoke(token: u128, expires_day: u32) -> UserCommand {
    UserCommand::RevokeToken {
        token_id: Uuid::from_u128(token),
        expires_at: at(expires_day),
    }
}

// ---- registration ----

#[test]
fn registering_records_the_normalized_profile() {
    let user = given([])
        .when(register(vec![Role::Student]))
        .then(vec![registered(vec![Role::Student])]);
    assert!(user.is_registered());
    assert_eq!(user.id(), Some(user_id()));
    assert_eq!(user.username().map(Username::as_str), Some("sara.k"));
    assert_eq!(user.email().map(Email::as_str), Some("sara@example.com"));
    assert_eq!(user.name().map(DisplayName::as_str), Some("Sara Al-Harbi"));
    assert_eq!(
        user.password_hash(),
        Some("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA")
    );
    assert_eq!(user.roles(), &[Role::Student]);
    assert_eq!(user.language(), Some(Language::Ar));
    assert_eq!(user.registered_at(), Some(at(1)));
}

#[test]
fn a_speaker_is_also_a_student() {
    given([])
        .when(register(vec![Role::Speaker]))
        .then(vec![registered(vec![Role::Student, Role::Speaker])]);
}

#[test]
fn an_admin_gets_exactly_admin() {
    let user = given([])
        .when(register(vec![Role::Admin]))
        .then(vec![registered(vec![Role::Admin])]);
    assert!(user.has_role(Role::Admin));
    assert!(!user.has_role(Role::Student));
}

#[test]
fn roles_are_sorted_and_deduplicated() {
    assert_eq!(
        granted_roles(&[Role::Admin, Role::Speaker, Role::Admin]),
        Ok(vec![Role::Student, Role::Speaker, Role::Admin])
    );
}

#[test]
fn registering_without_a_role_is_refused() {
    given([])
        .when(register(vec![]))
        .then_rejected(UserError::InvalidRole);
}

#[test]
fn registering_without_a_password_hash_is_refused() {
    let UserCommand::Register {
        user_id,
        name,
        username,
        email,
        roles,
        language,
        registered_at,
        ..
    } = register(vec![Role::Student])
    else {
        unreachable!()
    };
    given([])
        .when(UserCommand::Register {
            user_id,
            name,
            username,
            email,
            password_hash: "  ".to_owned(),
            roles,
            language,
            registered_at,
        })
        .then_rejected(UserError::InvalidPasswordHash);
}

#[test]
fn registering_twice_is_refused() {
    given([registered(vec![Role::Student])])
        .when(register(vec![Role::Student]))
        .then_rejected(UserError::AlreadyRegistered);
}

#[test]
fn an_email_or_username_is_reserved_once() {
    let holder = user_id();
    let reservation = testing::given::<Reservation>([])
        .when(ReservationCommand::ReserveEmail { user_id: holder })
        .then(vec![ReservationEvent::EmailReserved { user_id: holder }]);
    assert_eq!(reservation.holder(), Some(holder));
    testing::given::<Reservation>([ReservationEvent::EmailReserved { user_id: holder }])
        .when(ReservationCommand::ReserveEmail { user_id: Uuid::from_u128(2) })
        .then_rejected(ReservationError::EmailTaken);
    testing::given::<Reservation>([ReservationEvent::UsernameReserved { user_id: holder }])
        .when(ReservationCommand::ReserveUsername { user_id: Uuid::from_u128(2) })
        .then_rejected(ReservationError::UsernameTaken);
    // A reservation names the user, never the email or username itself.
    let payload = ReservationEvent::EmailReserved { user_id: holder }.encode().unwrap().payload;
    assert_eq!(payload, serde_json::json!({ "user_id": holder }));
}

// ---- token revocation ----

#[test]
fn revoking_a_token_records_it() {
    let user = given([registered(vec![Role::Student])])
        .when(revoke(7, 2))
        .then(vec![revoked(7, 2)]);
    assert!(user.is_token_revoked(Uuid::from_u128(7)));
    assert!(!user.is_token_revoked(Uuid::from_u128(8)));
}

#[test]
fn revoking_a_token_twice_changes_nothing() {
    given([registered(vec![Role::Student]), revoked(7, 2)])
        .when(revoke(7, 2))
        .then(vec![]);
}

#[test]
fn revoking_for_an_unregistered_user_is_refused() {
    given([])
        .when(revoke(7, 2))
        .then_rejected(UserError::NotRegistered);
}

// ---- payloads ----

#[test]
fn events_round_trip_through_their_payloads() {
    for event in [registered(vec![Role::Student, Role::Speaker]), revoked(7, 2)] {
        testing::assert_round_trip(&event);
    }
    for event in [ReservationEvent::EmailReserved { user_id: user_id() }, ReservationEvent::UsernameReserved { user_id: user_id() }] {
        testing::assert_round_trip(&event);
    }
}

#[test]
fn the_payload_uses_snake_case_roles_and_lowercase_languages_and_marks_personal_data() {
    let encoded = registered(vec![Role::Student, Role::Speaker]).encode().unwrap();
    assert_eq!(encoded.data_subject, Some(user_id()));
    let payload = encoded.payload;
    assert_eq!(payload["roles"], serde_json::json!(["student", "speaker"]));
    assert_eq!(payload["language"], "ar");
    assert_eq!(payload["email"], serde_json::json!({ "$personal": "sara@example.com" }));
    assert_eq!(payload["registered_at"], "2025-03-01T12:00:00Z");
    assert_eq!(revoked(7, 2).encode().unwrap().data_subject, None);
}

#[test]
fn decoding_refuses_unknown_types_other_versions_and_invalid_values() {
    let payload = registered(vec![Role::Student]).encode().unwrap().payload;
    assert!(UserEvent::decode("UserRenamed", 2, &payload).is_err());
    assert!(UserEvent::decode("UserRegistered", 1, &payload).is_err());
    assert!(UserEvent::decode("UserRegistered", 2, &serde_json::json!([])).is_err());
    let mut bad_email = payload.clone();
    bad_email["email"] = serde_json::json!({ "$personal": "not-an-email" });
    assert!(UserEvent::decode("UserRegistered", 2, &bad_email).is_err());
    let mut unnormalized = payload.clone();
    unnormalized["username"] = serde_json::json!({ "$personal": "Sara.K" });
    assert!(UserEvent::decode("UserRegistered", 2, &unnormalized).is_err());
    // Sealed data never reaches the domain: the store opens it first.
    let mut sealed = payload;
    sealed["email"] = serde_json::json!({ "$sealed": { "subject": user_id(), "data": "AAAA" } });
    assert!(UserEvent::decode("UserRegistered", 2, &sealed).is_err());
}

#[test]
fn an_erased_registration_still_decodes_and_shows_nothing_personal() {
    let mut payload = registered(vec![Role::Student, Role::Speaker]).encode().unwrap().payload;
    for field in ["name", "username", "email", "password_hash"] {
        payload[field] = serde_json::json!({ "$erased": true });
    }
    let event = UserEvent::decode("UserRegistered", 2, &payload).unwrap();
    let user = given([event]).state().clone();
    assert!(user.is_registered() && user.is_erased());
    assert_eq!((user.name(), user.email(), user.username(), user.password_hash()), (None, None, None, None));
    assert_eq!(user.roles(), &[Role::Student, Role::Speaker]);
}

// ---- value types ----

#[test]
fn emails_are_trimmed_and_lower_cased() {
    assert_eq!(
        Email::parse("  Sara.K+live@Mail.Example.SA ")
            .unwrap()
            .as_str(),
        "sara.k+live@mail.example.sa"
    );
}

#[test]
fn invalid_emails_are_refused() {
    for text in [
        "",
        "   ",
        "sara",
        "@example.com",
        "sara@",
        "sara@example",
        "sara@@example.com",
        "sara@exa@mple.com",
        "sara@.com",
        "sara@example.",
        "sara@example..com",
        "sa ra@example.com",
        "sara@exam\tple.com",
    ] {
        assert_eq!(Email::parse(text), Err(UserError::InvalidEmail), "{text:?}");
    }
}

#[test]
fn emails_are_capped_at_64_bytes() {
    let longest = format!("{}@example.com", "a".repeat(64 - "@example.com".len()));
    assert_eq!(longest.len(), 64);
    assert!(Email::parse(&longest).is_ok());
    let too_long = format!("a{longest}");
    assert_eq!(Email::parse(&too_long), Err(UserError::InvalidEmail));
}

#[test]
fn usernames_are_lower_cased_and_checked() {
    assert_eq!(
        Username::parse(" Sara_K.99 ").unwrap().as_str(),
        "sara_k.99"
    );
    assert_eq!(Username::parse("abc").unwrap().as_str(), "abc");
    assert!(Username::parse(&"a".repeat(30)).is_ok());
    for text in [
        "ab",
        &"a".repeat(31),
        "9lives",
        "_sara",
        ".sara",
        "sara-k",
        "sara k",
        "سارة",
        "sára",
        "",
    ] {
        assert_eq!(
            Username::parse(text),
            Err(UserError::InvalidUsername),
            "{text:?}"
        );
    }
}

#[test]
fn display_names_are_trimmed_and_checked() {
    assert_eq!(
        DisplayName::parse("  سارة الحربي ").unwrap().as_str(),
        "سارة الحربي"
    );
    assert!(DisplayName::parse("S").is_ok());
    assert!(DisplayName::parse(&"ع".repeat(100)).is_ok());
    for text in ["", "   ", "Sara\nK", "Sara\u{7}", &"a".repeat(101)] {
        assert_eq!(
            DisplayName::parse(text),
            Err(UserError::InvalidName),
            "{text:?}"
        );
    }
}

#[test]
fn roles_and_languages_parse_and_print() {
    for role in [Role::Student, Role::Speaker, Role::Admin] {
        assert_eq!(Role::parse(role.as_str()), Ok(role));
        assert_eq!(
            serde_json::to_value(role).unwrap(),
            serde_json::json!(role.as_str())
        );
    }
    assert_eq!(Role::parse(" Speaker "), Ok(Role::Speaker));
    assert_eq!(Role::parse("teacher"), Err(UserError::InvalidRole));
    assert_eq!(Language::default(), Language::En);
    assert_eq!(Language::parse("AR"), Ok(Language::Ar));
    assert_eq!(Language::parse("fr"), Err(UserError::InvalidLanguage));
    assert_eq!(
        serde_json::to_value(Language::Ar).unwrap(),
        serde_json::json!("ar")
    );
}

#[test]
fn strong_passwords_pass() {
    assert_eq!(check_password_strength("Passw0rd!"), Ok(()));
    assert_eq!(check_password_strength("Aa1!aaaa"), Ok(()));
    assert_eq!(
        check_password_strength(&format!("A1!{}", "a".repeat(125))),
        Ok(())
    );
}

#[test]
fn weak_passwords_are_refused() {
    for password in [
        "",
        "Aa1!aaa",                          // 7 characters
        "password1!",                       // no upper-case letter
        "Password!!",                       // no digit
        "Password11",                       // no symbol
        &format!("A1!{}", "a".repeat(126)), // 129 characters
    ] {
        assert_eq!(
            check_password_strength(password),
            Err(UserError::WeakPassword),
            "{password:?}"
        );
    }
}

#[test]
fn error_codes_are_stable() {
    let codes: Vec<&str> = [
        UserError::InvalidEmail,
        UserError::InvalidUsername,
        UserError::InvalidName,
        UserError::WeakPassword,
        UserError::AlreadyRegistered,
        UserError::NotRegistered,
        UserError::InvalidRole,
    ]
    .iter()
    .map(UserError::code)
    .collect();
    assert_eq!(
        codes,
        [
            "invalid_email",
            "invalid_username",
            "invalid_name",
            "weak_password",
            "already_registered",
            "not_registered",
            "invalid_role"
        ]
    );
}
