//! The users context: one stream per user holding the registration and the tokens revoked at
//! logout, plus one reservation stream per email and per username that makes them unique.
//!
//! Uniqueness is not a rule one user can check (it sees one user), so registration also reserves
//! the email and the username, each in a stream of its own, in the same atomic append. Those
//! streams are named by keyed hashes of the normalised values (the command layer computes them),
//! so no stream id carries personal data; the names, email and password hash of a registration
//! are `Personal` and can be erased.
//!
//! Passwords never reach the domain: `check_password_strength` judges the plain text before the
//! caller hashes it, and events carry only the hash.

pub mod schema;

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::kernel::{Aggregate, ContextEvents, DomainEvent, EventType, Personal, Rejection, RejectionKind, every};

/// The context's events, upcasters and rejections, for the kernel's registries.
pub const EVENTS: ContextEvents = ContextEvents {
    name: "users",
    tables: &[UserEvent::TYPES, ReservationEvent::TYPES],
    upcasts: schema::UPCASTS,
    rejections: || [every::<UserError>(), every::<ReservationError>()].concat(),
};

/// Stream type for user events; the stream id is the user id.
pub const STREAM_TYPE: &str = "user";
/// Stream type of email reservations; the stream id is a keyed hash of the normalised email.
pub const EMAIL_STREAM_TYPE: &str = "user_email";
/// Stream type of username reservations; the stream id is a keyed hash of the username.
pub const USERNAME_STREAM_TYPE: &str = "user_username";

/// The longest email accepted. Reservation streams used to be named by the email itself, within
/// the store's 64-byte stream ids; the limit stays so earlier accounts and clients see no change.
pub const EMAIL_LEN_MAX: usize = 64;
pub const USERNAME_LEN_MIN: usize = 3;
pub const USERNAME_LEN_MAX: usize = 30;
pub const DISPLAY_NAME_LEN_MAX: usize = 100;
pub const PASSWORD_LEN_MIN: usize = 8;
pub const PASSWORD_LEN_MAX: usize = 128;

/// Business rejections of user input and user commands.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, strum::EnumIter)]
pub enum UserError {
    #[error("the email address is not valid")]
    InvalidEmail,
    #[error("the username must be 3 to 30 of a-z, 0-9, '_' and '.', starting with a letter")]
    InvalidUsername,
    #[error("the name must be 1 to 100 characters without control characters")]
    InvalidName,
    #[error(
        "the password must be 8 to 128 characters with an upper-case letter, a digit and a symbol"
    )]
    WeakPassword,
    #[error("the user is already registered")]
    AlreadyRegistered,
    #[error("the user is not registered")]
    NotRegistered,
    #[error("the role is not valid, or no role was given")]
    InvalidRole,
    #[error("the language is not supported")]
    InvalidLanguage,
    #[error("the password hash is empty")]
    InvalidPasswordHash,
    #[error("the time zone must be an IANA name such as Asia/Riyadh")]
    InvalidTimezone,
}

impl Rejection for UserError {
    fn code(&self) -> &'static str {
        match self {
            UserError::InvalidEmail => "invalid_email",
            UserError::InvalidUsername => "invalid_username",
            UserError::InvalidName => "invalid_name",
            UserError::WeakPassword => "weak_password",
            UserError::AlreadyRegistered => "already_registered",
            UserError::NotRegistered => "not_registered",
            UserError::InvalidRole => "invalid_role",
            UserError::InvalidLanguage => "invalid_language",
            UserError::InvalidPasswordHash => "invalid_password_hash",
            UserError::InvalidTimezone => "invalid_timezone",
        }
    }

    fn kind(&self) -> RejectionKind {
        match self {
            UserError::AlreadyRegistered => RejectionKind::Conflict,
            UserError::NotRegistered => RejectionKind::NotFound,
            _ => RejectionKind::Invalid,
        }
    }

    fn field(&self) -> Option<&'static str> {
        match self {
            UserError::InvalidEmail => Some("email"),
            UserError::InvalidUsername => Some("username"),
            UserError::InvalidName => Some("name"),
            UserError::WeakPassword | UserError::InvalidPasswordHash => Some("password"),
            UserError::InvalidRole => Some("role"),
            UserError::InvalidLanguage => Some("language"),
            UserError::InvalidTimezone => Some("timezone"),
            UserError::AlreadyRegistered | UserError::NotRegistered => None,
        }
    }
}

/// An email or username another user holds.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, strum::EnumIter)]
pub enum ReservationError {
    #[error("the email address is already registered")]
    EmailTaken,
    #[error("the username is already taken")]
    UsernameTaken,
}

impl Rejection for ReservationError {
    fn code(&self) -> &'static str {
        match self {
            ReservationError::EmailTaken => "email_taken",
            ReservationError::UsernameTaken => "username_taken",
        }
    }

    fn kind(&self) -> RejectionKind {
        RejectionKind::Conflict
    }
}

/// A normalized email: trimmed, lower-cased, one '@', a non-empty local part and a domain with
/// a dot inside it, no whitespace or control characters, at most `EMAIL_LEN_MAX` bytes.
/// Deserializing validates too, so a stored event cannot smuggle in an invalid one.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    pub fn parse(text: &str) -> Result<Email, UserError> {
        let email = text.trim().to_lowercase();
        if email.is_empty() || email.len() > EMAIL_LEN_MAX {
            return Err(UserError::InvalidEmail);
        }
        if email.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(UserError::InvalidEmail);
        }
        let mut parts = email.split('@');
        let (Some(local), Some(domain), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(UserError::InvalidEmail);
        };
        let dotted = domain.split('.').collect::<Vec<_>>();
        if local.is_empty() || dotted.len() < 2 || dotted.iter().any(|label| label.is_empty()) {
            return Err(UserError::InvalidEmail);
        }
        Ok(Email(email))
    }
}

crate::text_value!(Email, UserError, |_| UserError::InvalidEmail);

/// A normalized username: 3 to 30 of `[a-z0-9_.]`, starting with a letter, stored lower-case
/// (input is trimmed and lower-cased first, so `Sara_K` is `sara_k`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Username(String);

impl Username {
    pub fn parse(text: &str) -> Result<Username, UserError> {
        let username = text.trim().to_ascii_lowercase();
        let length_ok = (USERNAME_LEN_MIN..=USERNAME_LEN_MAX).contains(&username.len());
        let starts_with_letter = username.starts_with(|c: char| c.is_ascii_lowercase());
        let allowed = username
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '.');
        if !(length_ok && starts_with_letter && allowed) {
            return Err(UserError::InvalidUsername);
        }
        Ok(Username(username))
    }
}

crate::text_value!(Username, UserError, |_| UserError::InvalidUsername);

/// The name a user shows others: 1 to 100 characters after trimming, no control characters.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DisplayName(String);

impl DisplayName {
    pub fn parse(text: &str) -> Result<DisplayName, UserError> {
        let name = text.trim();
        let length = name.chars().count();
        if length == 0 || length > DISPLAY_NAME_LEN_MAX || name.chars().any(char::is_control) {
            return Err(UserError::InvalidName);
        }
        Ok(DisplayName(name.to_owned()))
    }
}

crate::text_value!(DisplayName, UserError, |_| UserError::InvalidName);

/// What a user may do. The order (student, speaker, admin) is the order roles are listed in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Student,
    Speaker,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Student => "student",
            Role::Speaker => "speaker",
            Role::Admin => "admin",
        }
    }

    /// Accepts `student`, `speaker` or `admin`, ignoring case and surrounding whitespace.
    pub fn parse(text: &str) -> Result<Role, UserError> {
        match text.trim().to_ascii_lowercase().as_str() {
            "student" => Ok(Role::Student),
            "speaker" => Ok(Role::Speaker),
            "admin" => Ok(Role::Admin),
            _ => Err(UserError::InvalidRole),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The roles a registration grants for the roles asked for: sorted, without repeats, and a
/// speaker is always a student too (speakers attend others' sessions). An admin gets exactly
/// the roles asked for. No role at all is refused rather than defaulted.
pub fn granted_roles(requested: &[Role]) -> Result<Vec<Role>, UserError> {
    if requested.is_empty() {
        return Err(UserError::InvalidRole);
    }
    let mut roles = requested.to_vec();
    if roles.contains(&Role::Speaker) {
        roles.push(Role::Student);
    }
    roles.sort_unstable();
    roles.dedup();
    Ok(roles)
}

/// The language a user reads the application in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    Ar,
    #[default]
    En,
}

impl Language {
    pub fn as_str(self) -> &'static str {
        match self {
            Language::Ar => "ar",
            Language::En => "en",
        }
    }

    /// Accepts `ar` or `en`, ignoring case and surrounding whitespace.
    pub fn parse(text: &str) -> Result<Language, UserError> {
        match text.trim().to_ascii_lowercase().as_str() {
            "ar" => Ok(Language::Ar),
            "en" => Ok(Language::En),
            _ => Err(UserError::InvalidLanguage),
        }
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Judges a plain-text password before it is hashed: 8 to 128 characters, with at least one
/// upper-case letter, one digit and one symbol (any character that is not a letter or digit).
pub fn check_password_strength(password: &str) -> Result<(), UserError> {
    let length = password.chars().count();
    let long_enough = (PASSWORD_LEN_MIN..=PASSWORD_LEN_MAX).contains(&length);
    let has_upper = password.chars().any(char::is_uppercase);
    let has_digit = password.chars().any(|c| c.is_ascii_digit());
    let has_symbol = password.chars().any(|c| !c.is_alphanumeric());
    if long_enough && has_upper && has_digit && has_symbol {
        Ok(())
    } else {
        Err(UserError::WeakPassword)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum UserCommand {
    /// The password is already hashed; `registered_at` is the caller's clock.
    Register {
        user_id: Uuid,
        name: DisplayName,
        username: Username,
        email: Email,
        password_hash: String,
        roles: Vec<Role>,
        language: Language,
        registered_at: DateTime<Utc>,
    },
    /// Logout: the token stays refused until it expires.
    RevokeToken { token_id: Uuid, expires_at: DateTime<Utc> },
    /// The zone the user's wall-clock times (consultation availabilities) are read in.
    SetTimezone { timezone: Timezone },
    /// The language the application, its messages and notifications speak to the user in.
    SetLanguage { language: Language },
}

/// Everything that can happen on a user stream.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum UserEvent {
    UserRegistered {
        user_id: Uuid,
        name: Personal<DisplayName>,
        username: Personal<Username>,
        email: Personal<Email>,
        password_hash: Personal<String>,
        roles: Vec<Role>,
        language: Language,
        registered_at: DateTime<Utc>,
    },
    TokenRevoked {
        user_id: Uuid,
        token_id: Uuid,
        expires_at: DateTime<Utc>,
    },
    TimezoneChanged {
        user_id: Uuid,
        timezone: Timezone,
    },
    LanguageChanged {
        user_id: Uuid,
        language: Language,
    },
}

pub const USER_REGISTERED: EventType = EventType::new("UserRegistered", 2);
pub const TOKEN_REVOKED: EventType = EventType::new("TokenRevoked", 1);
pub const TIMEZONE_CHANGED: EventType = EventType::new("TimezoneChanged", 1);
pub const LANGUAGE_CHANGED: EventType = EventType::new("LanguageChanged", 1);

impl DomainEvent for UserEvent {
    const TYPES: &'static [EventType] = &[USER_REGISTERED, TOKEN_REVOKED, TIMEZONE_CHANGED, LANGUAGE_CHANGED];

    fn data_subject(&self) -> Option<Uuid> {
        match self {
            UserEvent::UserRegistered { user_id, .. } => Some(*user_id),
            UserEvent::TokenRevoked { .. } | UserEvent::TimezoneChanged { .. } | UserEvent::LanguageChanged { .. } => None,
        }
    }
}

impl UserEvent {
    pub fn user_id(&self) -> Uuid {
        match self {
            UserEvent::UserRegistered { user_id, .. }
            | UserEvent::TokenRevoked { user_id, .. }
            | UserEvent::TimezoneChanged { user_id, .. }
            | UserEvent::LanguageChanged { user_id, .. } => *user_id,
        }
    }
}

/// An IANA time zone name, such as `Asia/Riyadh` (everyone's until they choose another).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Timezone(String);

impl Timezone {
    pub fn parse(text: &str) -> Result<Timezone, UserError> {
        text.trim().parse::<chrono_tz::Tz>().map(|zone| Timezone(zone.name().to_owned())).map_err(|_| UserError::InvalidTimezone)
    }

    pub fn zone(&self) -> chrono_tz::Tz {
        self.0.parse().unwrap_or(chrono_tz::Asia::Riyadh)
    }
}

impl Default for Timezone {
    fn default() -> Timezone {
        Timezone(chrono_tz::Asia::Riyadh.name().to_owned())
    }
}

crate::text_value!(Timezone, UserError, |_| UserError::InvalidTimezone);

/// What a registration recorded about a user.
#[derive(Clone, Debug, PartialEq)]
struct Profile {
    id: Uuid,
    name: Personal<DisplayName>,
    username: Personal<Username>,
    email: Personal<Email>,
    password_hash: Personal<String>,
    roles: Vec<Role>,
    language: Language,
    registered_at: DateTime<Utc>,
}

/// The user aggregate's state, rebuilt from its events. Until a `UserRegistered` is applied
/// the user does not exist, and every profile getter answers `None`; so do the personal ones
/// once the user's data is erased.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct User {
    profile: Option<Profile>,
    /// Token id to its expiry. Kept whole (expired ones too): the domain has no clock.
    revoked_tokens: BTreeMap<Uuid, DateTime<Utc>>,
    timezone: Timezone,
}

impl User {
    pub fn is_registered(&self) -> bool {
        self.profile.is_some()
    }

    /// Registered, and erased: their personal data can no longer be read.
    pub fn is_erased(&self) -> bool {
        self.profile.as_ref().is_some_and(|p| p.email.is_erased())
    }

    pub fn id(&self) -> Option<Uuid> {
        self.profile.as_ref().map(|p| p.id)
    }

    pub fn name(&self) -> Option<&DisplayName> {
        self.profile.as_ref().and_then(|p| p.name.known())
    }

    pub fn username(&self) -> Option<&Username> {
        self.profile.as_ref().and_then(|p| p.username.known())
    }

    pub fn email(&self) -> Option<&Email> {
        self.profile.as_ref().and_then(|p| p.email.known())
    }

    pub fn password_hash(&self) -> Option<&str> {
        self.profile.as_ref().and_then(|p| p.password_hash.known()).map(String::as_str)
    }

    /// The granted roles, sorted; empty before registration.
    pub fn roles(&self) -> &[Role] {
        self.profile.as_ref().map_or(&[], |p| p.roles.as_slice())
    }

    pub fn has_role(&self, role: Role) -> bool {
        self.roles().contains(&role)
    }

    pub fn language(&self) -> Option<Language> {
        self.profile.as_ref().map(|p| p.language)
    }

    pub fn registered_at(&self) -> Option<DateTime<Utc>> {
        self.profile.as_ref().map(|p| p.registered_at)
    }

    pub fn timezone(&self) -> &Timezone {
        &self.timezone
    }

    pub fn is_token_revoked(&self, token_id: Uuid) -> bool {
        self.revoked_tokens.contains_key(&token_id)
    }
}

impl Aggregate for User {
    type Command = UserCommand;
    type Event = UserEvent;
    type Rejection = UserError;

    fn handle(&self, command: UserCommand) -> Result<Vec<UserEvent>, UserError> {
        match (&self.profile, command) {
            (Some(_), UserCommand::Register { .. }) => Err(UserError::AlreadyRegistered),
            (None, UserCommand::Register { user_id, name, username, email, password_hash, roles, language, registered_at }) => {
                if password_hash.trim().is_empty() {
                    return Err(UserError::InvalidPasswordHash);
                }
                Ok(vec![UserEvent::UserRegistered {
                    user_id,
                    name: name.into(),
                    username: username.into(),
                    email: email.into(),
                    password_hash: password_hash.into(),
                    roles: granted_roles(&roles)?,
                    language,
                    registered_at,
                }])
            }
            (None, UserCommand::RevokeToken { .. }) => Err(UserError::NotRegistered),
            (Some(profile), UserCommand::RevokeToken { token_id, expires_at }) => {
                if self.revoked_tokens.contains_key(&token_id) {
                    // Logging out twice with the same token changes nothing.
                    return Ok(vec![]);
                }
                Ok(vec![UserEvent::TokenRevoked { user_id: profile.id, token_id, expires_at }])
            }
            (None, UserCommand::SetTimezone { .. }) => Err(UserError::NotRegistered),
            // Setting the zone it already has changes nothing.
            (Some(_), UserCommand::SetTimezone { timezone }) if timezone == self.timezone => Ok(vec![]),
            (Some(profile), UserCommand::SetTimezone { timezone }) => Ok(vec![UserEvent::TimezoneChanged { user_id: profile.id, timezone }]),
            (None, UserCommand::SetLanguage { .. }) => Err(UserError::NotRegistered),
            (Some(profile), UserCommand::SetLanguage { language }) if language == profile.language => Ok(vec![]),
            (Some(profile), UserCommand::SetLanguage { language }) => Ok(vec![UserEvent::LanguageChanged { user_id: profile.id, language }]),
        }
    }

    fn apply(&mut self, event: &UserEvent) {
        match event {
            UserEvent::UserRegistered { user_id, name, username, email, password_hash, roles, language, registered_at } => {
                self.profile = Some(Profile {
                    id: *user_id,
                    name: name.clone(),
                    username: username.clone(),
                    email: email.clone(),
                    password_hash: password_hash.clone(),
                    roles: roles.clone(),
                    language: *language,
                    registered_at: *registered_at,
                });
            }
            UserEvent::TokenRevoked { token_id, expires_at, .. } => {
                self.revoked_tokens.insert(*token_id, *expires_at);
            }
            UserEvent::TimezoneChanged { timezone, .. } => self.timezone = timezone.clone(),
            UserEvent::LanguageChanged { language, .. } => {
                if let Some(profile) = self.profile.as_mut() {
                    profile.language = *language;
                }
            }
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum ReservationCommand {
    ReserveEmail { user_id: Uuid },
    ReserveUsername { user_id: Uuid },
}

/// The first and only event of an email or username reservation stream: the user who holds it.
/// The email or username itself is not in it: the stream's name is its keyed hash.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ReservationEvent {
    EmailReserved { user_id: Uuid },
    UsernameReserved { user_id: Uuid },
}

pub const EMAIL_RESERVED: EventType = EventType::new("EmailReserved", 2);
pub const USERNAME_RESERVED: EventType = EventType::new("UsernameReserved", 2);

impl DomainEvent for ReservationEvent {
    const TYPES: &'static [EventType] = &[EMAIL_RESERVED, USERNAME_RESERVED];
}

impl ReservationEvent {
    /// The user holding the email or username.
    pub fn user_id(&self) -> Uuid {
        match self {
            ReservationEvent::EmailReserved { user_id } | ReservationEvent::UsernameReserved { user_id } => *user_id,
        }
    }
}

/// An email or a username, reserved by at most one user.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Reservation {
    holder: Option<Uuid>,
}

impl Reservation {
    pub fn holder(&self) -> Option<Uuid> {
        self.holder
    }
}

impl Aggregate for Reservation {
    type Command = ReservationCommand;
    type Event = ReservationEvent;
    type Rejection = ReservationError;

    fn handle(&self, command: ReservationCommand) -> Result<Vec<ReservationEvent>, ReservationError> {
        match (self.holder, command) {
            (Some(_), ReservationCommand::ReserveEmail { .. }) => Err(ReservationError::EmailTaken),
            (Some(_), ReservationCommand::ReserveUsername { .. }) => Err(ReservationError::UsernameTaken),
            (None, ReservationCommand::ReserveEmail { user_id }) => Ok(vec![ReservationEvent::EmailReserved { user_id }]),
            (None, ReservationCommand::ReserveUsername { user_id }) => Ok(vec![ReservationEvent::UsernameReserved { user_id }]),
        }
    }

    fn apply(&mut self, event: &ReservationEvent) {
        self.holder = Some(event.user_id());
    }
}
