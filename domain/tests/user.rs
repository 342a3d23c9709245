//! User rules as given(events) → when(command) → then(events | error), and the validation of
//! the value types a registration is made of.

use chrono::{DateTime, TimeZone, Utc};
use domain::user::{
    DisplayName, EMAIL_STREAM_TYPE, Email, Language, ReservationEvent, Role, USERNAME_STREAM_TYPE,
    User, UserCommand, UserError, UserEvent, Username, check_password_strength, email_stream_id,
    granted_roles,
};
use uuid::Uuid;

// ---- the given/when/then helper ----

struct Given {
    user: User,
}

struct When {
    user: User,
    result: Result<Vec<UserEvent>, UserError>,
}

fn given(events: impl IntoIterator<Item = UserEvent>) -> Given {
    let events: Vec<UserEvent> = events.into_iter().collect();
    Given {
        user: User::replay(&events),
    }
}

impl Given {
    fn when(self, command: UserCommand) -> When {
        let result = self.user.handle(command);
        When {
            user: self.user,
            result,
        }
    }
}

impl When {
    /// Asserts the events and returns the state after applying them.
    #[track_caller]
    fn then(self, expected: Vec<UserEvent>) -> User {
        let events = self.result.expect("command should succeed");
        assert_eq!(events, expected);
        let mut user = self.user;
        for event in &events {
            user.apply(event);
        }
        user
    }

    #[track_caller]
    fn then_error(self, expected: UserError) {
        assert_eq!(self.result, Err(expected));
    }
}

// ---- fixtures ----

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
        name: DisplayName::parse("Sara Al-Harbi").unwrap(),
        username: Username::parse("sara.k").unwrap(),
        email: Email::parse("sara@example.com").unwrap(),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".to_owned(),
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
    assert_eq!(user.version(), 1);
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
        .then_error(UserError::InvalidRole);
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
        .then_error(UserError::InvalidPasswordHash);
}

#[test]
fn registering_twice_is_refused() {
    given([registered(vec![Role::Student])])
        .when(register(vec![Role::Student]))
        .then_error(UserError::AlreadyRegistered);
}

#[test]
fn a_registration_reserves_its_email_and_username() {
    let reservations = registered(vec![Role::Student]).reservations();
    assert_eq!(
        reservations,
        vec![
            ReservationEvent::EmailReserved {
                email: Email::parse("sara@example.com").unwrap(),
                user_id: user_id(),
            },
            ReservationEvent::UsernameReserved {
                username: Username::parse("sara.k").unwrap(),
                user_id: user_id(),
            },
        ]
    );
    assert_eq!(
        reservations[0].stream(),
        (EMAIL_STREAM_TYPE, "sara@example.com".to_owned())
    );
    assert_eq!(
        reservations[1].stream(),
        (USERNAME_STREAM_TYPE, "sara.k".to_owned())
    );
    assert!(revoked(1, 2).reservations().is_empty());
}

// ---- token revocation ----

#[test]
fn revoking_a_token_records_it() {
    let user = given([registered(vec![Role::Student])])
        .when(revoke(7, 2))
        .then(vec![revoked(7, 2)]);
    assert!(user.is_token_revoked(Uuid::from_u128(7)));
    assert!(!user.is_token_revoked(Uuid::from_u128(8)));
    assert_eq!(user.version(), 2);
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
        .then_error(UserError::NotRegistered);
}

// ---- payloads ----

#[test]
fn events_round_trip_through_their_payloads() {
    for event in [
        registered(vec![Role::Student, Role::Speaker]),
        revoked(7, 2),
    ] {
        let decoded = UserEvent::from_payload(
            event.event_type(),
            event.schema_version(),
            event.to_payload(),
        );
        assert_eq!(decoded, Ok(event));
    }
    for event in registered(vec![Role::Admin]).reservations() {
        let decoded = ReservationEvent::from_payload(
            event.event_type(),
            event.schema_version(),
            event.to_payload(),
        );
        assert_eq!(decoded, Ok(event));
    }
}

#[test]
fn the_payload_uses_snake_case_roles_and_lowercase_languages() {
    let payload = registered(vec![Role::Student, Role::Speaker]).to_payload();
    assert_eq!(payload["roles"], serde_json::json!(["student", "speaker"]));
    assert_eq!(payload["language"], "ar");
    assert_eq!(payload["email"], "sara@example.com");
    assert_eq!(payload["registered_at"], "2025-03-01T12:00:00Z");
}

#[test]
fn decoding_refuses_unknown_types_other_versions_and_invalid_values() {
    let payload = registered(vec![Role::Student]).to_payload();
    assert!(UserEvent::from_payload("UserRenamed", 1, payload.clone()).is_err());
    assert!(UserEvent::from_payload("UserRegistered", 2, payload.clone()).is_err());
    assert!(UserEvent::from_payload("UserRegistered", 1, serde_json::json!([])).is_err());
    let mut bad_email = payload.clone();
    bad_email["email"] = "not-an-email".into();
    assert!(UserEvent::from_payload("UserRegistered", 1, bad_email).is_err());
    let mut unnormalized = payload;
    unnormalized["username"] = "Sara.K".into();
    assert!(UserEvent::from_payload("UserRegistered", 1, unnormalized).is_err());
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
fn emails_are_capped_at_the_stream_id_limit() {
    let longest = format!("{}@example.com", "a".repeat(64 - "@example.com".len()));
    assert_eq!(longest.len(), 64);
    let email = Email::parse(&longest).unwrap();
    assert_eq!(email_stream_id(&email), longest);
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
