//! User accounts: one stream per user holding the registration and the tokens revoked at
//! logout, plus one reservation stream per email and per username that makes them unique.
//!
//! Uniqueness is not a rule this aggregate can check alone (it sees one user), so registration
//! also appends the first event of the email's and the username's reservation streams, all in
//! one atomic append that expects those streams not to exist yet. The store refusing the append
//! is what "taken" means.
//!
//! Passwords never reach the domain: `check_password_strength` judges the plain text before the
//! caller hashes it, and events carry only the hash.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Stream type for user events; the stream id is the user id.
pub const STREAM_TYPE: &str = "user";
/// Stream type of email reservations; the stream id is the normalized email (`email_stream_id`).
pub const EMAIL_STREAM_TYPE: &str = "user_email";
/// Stream type of username reservations; the stream id is the normalized username.
pub const USERNAME_STREAM_TYPE: &str = "user_username";

/// An email is a reservation stream id, and the event store limits stream ids to 64 bytes, so
/// emails are capped here rather than at RFC 5321's 254. Truncating or hashing longer emails
/// would need a collision story (and `sha2`, which the domain does not use).
pub const EMAIL_LEN_MAX: usize = 64;
pub const USERNAME_LEN_MIN: usize = 3;
pub const USERNAME_LEN_MAX: usize = 30;
pub const DISPLAY_NAME_LEN_MAX: usize = 100;
pub const PASSWORD_LEN_MIN: usize = 8;
pub const PASSWORD_LEN_MAX: usize = 128;

/// Business rejections of user input and user commands.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
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
}

impl UserError {
    /// A stable machine-readable code for clients and logs.
    pub fn code(&self) -> &'static str {
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
        }
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

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Email {
    type Error = UserError;
    fn try_from(text: String) -> Result<Email, UserError> {
        let email = Email::parse(&text)?;
        // Stored values were normalized when written; anything else was not written by us.
        if email.0 != text {
            return Err(UserError::InvalidEmail);
        }
        Ok(email)
    }
}

impl From<Email> for String {
    fn from(email: Email) -> String {
        email.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

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

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Username {
    type Error = UserError;
    fn try_from(text: String) -> Result<Username, UserError> {
        let username = Username::parse(&text)?;
        if username.0 != text {
            return Err(UserError::InvalidUsername);
        }
        Ok(username)
    }
}

impl From<Username> for String {
    fn from(username: Username) -> String {
        username.0
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

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

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for DisplayName {
    type Error = UserError;
    fn try_from(text: String) -> Result<DisplayName, UserError> {
        DisplayName::parse(&text)
    }
}

impl From<DisplayName> for String {
    fn from(name: DisplayName) -> String {
        name.0
    }
}

impl fmt::Display for DisplayName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

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

/// The reservation stream id of an email: the normalized email itself, which `Email::parse`
/// keeps within the store's 64-byte stream id limit.
pub fn email_stream_id(email: &Email) -> String {
    email.as_str().to_owned()
}

/// The reservation stream id of a username: the normalized username itself.
pub fn username_stream_id(username: &Username) -> String {
    username.as_str().to_owned()
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
    RevokeToken {
        token_id: Uuid,
        expires_at: DateTime<Utc>,
    },
}

/// Everything that can happen on a user stream. The serde shape of each variant's fields is
/// the stored payload, so renaming a field needs a new schema version and an upcaster.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum UserEvent {
    UserRegistered {
        user_id: Uuid,
        name: DisplayName,
        username: Username,
        email: Email,
        password_hash: String,
        roles: Vec<Role>,
        language: Language,
        registered_at: DateTime<Utc>,
    },
    TokenRevoked {
        user_id: Uuid,
        token_id: Uuid,
        expires_at: DateTime<Utc>,
    },
}

/// The first (and only) event of an email or username reservation stream: it names the user
/// who holds the email or username.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ReservationEvent {
    EmailReserved { email: Email, user_id: Uuid },
    UsernameReserved { username: Username, user_id: Uuid },
}

pub use crate::codec::DecodeError;

/// Every user and reservation event type with its current schema version.
const CURRENT_SCHEMA_VERSIONS: &[(&str, u16)] = &[
    ("UserRegistered", 1),
    ("TokenRevoked", 1),
    ("EmailReserved", 1),
    ("UsernameReserved", 1),
];

/// The schema version new events of `event_type` are written with, or `None` if unknown.
pub fn current_schema_version(event_type: &str) -> Option<u16> {
    crate::codec::version_in(CURRENT_SCHEMA_VERSIONS, event_type)
}

impl UserEvent {
    /// The variant name, stored as the event type.
    pub fn event_type(&self) -> &'static str {
        match self {
            UserEvent::UserRegistered { .. } => "UserRegistered",
            UserEvent::TokenRevoked { .. } => "TokenRevoked",
        }
    }

    pub fn schema_version(&self) -> u16 {
        1
    }

    /// The event's fields as a JSON object; times as RFC 3339.
    pub fn to_payload(&self) -> serde_json::Value {
        crate::codec::to_payload(self, self.event_type())
    }

    /// Decodes a stored payload written with the current schema version of `event_type`.
    /// A reservation event type is refused: it belongs to `ReservationEvent`.
    pub fn from_payload(
        event_type: &str,
        schema_version: u16,
        payload: serde_json::Value,
    ) -> Result<UserEvent, DecodeError> {
        crate::codec::from_payload(event_type, schema_version, current_schema_version(event_type), &payload)
    }

    pub fn user_id(&self) -> Uuid {
        match self {
            UserEvent::UserRegistered { user_id, .. } | UserEvent::TokenRevoked { user_id, .. } => {
                *user_id
            }
        }
    }

    /// The reservations that must be appended with this event, in the same atomic append:
    /// the email and the username of a registration, nothing for other events.
    pub fn reservations(&self) -> Vec<ReservationEvent> {
        match self {
            UserEvent::UserRegistered {
                user_id,
                username,
                email,
                ..
            } => vec![
                ReservationEvent::EmailReserved {
                    email: email.clone(),
                    user_id: *user_id,
                },
                ReservationEvent::UsernameReserved {
                    username: username.clone(),
                    user_id: *user_id,
                },
            ],
            UserEvent::TokenRevoked { .. } => Vec::new(),
        }
    }
}

impl ReservationEvent {
    /// The variant name, stored as the event type.
    pub fn event_type(&self) -> &'static str {
        match self {
            ReservationEvent::EmailReserved { .. } => "EmailReserved",
            ReservationEvent::UsernameReserved { .. } => "UsernameReserved",
        }
    }

    pub fn schema_version(&self) -> u16 {
        1
    }

    pub fn to_payload(&self) -> serde_json::Value {
        crate::codec::to_payload(self, self.event_type())
    }

    pub fn from_payload(
        event_type: &str,
        schema_version: u16,
        payload: serde_json::Value,
    ) -> Result<ReservationEvent, DecodeError> {
        crate::codec::from_payload(event_type, schema_version, current_schema_version(event_type), &payload)
    }

    /// The user holding the email or username.
    pub fn user_id(&self) -> Uuid {
        match self {
            ReservationEvent::EmailReserved { user_id, .. }
            | ReservationEvent::UsernameReserved { user_id, .. } => *user_id,
        }
    }

    /// The reservation stream this event opens: `(stream type, stream id)`.
    pub fn stream(&self) -> (&'static str, String) {
        match self {
            ReservationEvent::EmailReserved { email, .. } => {
                (EMAIL_STREAM_TYPE, email_stream_id(email))
            }
            ReservationEvent::UsernameReserved { username, .. } => {
                (USERNAME_STREAM_TYPE, username_stream_id(username))
            }
        }
    }
}

/// What a registration recorded about a user.
#[derive(Clone, Debug, PartialEq)]
struct Profile {
    id: Uuid,
    name: DisplayName,
    username: Username,
    email: Email,
    password_hash: String,
    roles: Vec<Role>,
    language: Language,
    registered_at: DateTime<Utc>,
}

/// The user aggregate's state, rebuilt from its events. Until a `UserRegistered` is applied
/// the user does not exist, and every profile getter answers `None`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct User {
    profile: Option<Profile>,
    /// Token id to its expiry. Kept whole (expired ones too): the domain has no clock.
    revoked_tokens: BTreeMap<Uuid, DateTime<Utc>>,
    version: u64,
}

impl User {
    pub fn is_registered(&self) -> bool {
        self.profile.is_some()
    }

    pub fn id(&self) -> Option<Uuid> {
        self.profile.as_ref().map(|p| p.id)
    }

    pub fn name(&self) -> Option<&DisplayName> {
        self.profile.as_ref().map(|p| &p.name)
    }

    pub fn username(&self) -> Option<&Username> {
        self.profile.as_ref().map(|p| &p.username)
    }

    pub fn email(&self) -> Option<&Email> {
        self.profile.as_ref().map(|p| &p.email)
    }

    pub fn password_hash(&self) -> Option<&str> {
        self.profile.as_ref().map(|p| p.password_hash.as_str())
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

    pub fn is_token_revoked(&self, token_id: Uuid) -> bool {
        self.revoked_tokens.contains_key(&token_id)
    }

    /// Number of events applied; the stream version to expect when appending.
    pub fn version(&self) -> u64 {
        self.version
    }

    pub fn replay<'a>(events: impl IntoIterator<Item = &'a UserEvent>) -> User {
        let mut user = User::default();
        for event in events {
            user.apply(event);
        }
        user
    }

    /// Decides what a command does. Holds every rule; changes nothing.
    pub fn handle(&self, command: UserCommand) -> Result<Vec<UserEvent>, UserError> {
        match (&self.profile, command) {
            (Some(_), UserCommand::Register { .. }) => Err(UserError::AlreadyRegistered),
            (
                None,
                UserCommand::Register {
                    user_id,
                    name,
                    username,
                    email,
                    password_hash,
                    roles,
                    language,
                    registered_at,
                },
            ) => {
                if password_hash.trim().is_empty() {
                    return Err(UserError::InvalidPasswordHash);
                }
                Ok(vec![UserEvent::UserRegistered {
                    user_id,
                    name,
                    username,
                    email,
                    password_hash,
                    roles: granted_roles(&roles)?,
                    language,
                    registered_at,
                }])
            }
            (None, UserCommand::RevokeToken { .. }) => Err(UserError::NotRegistered),
            (
                Some(profile),
                UserCommand::RevokeToken {
                    token_id,
                    expires_at,
                },
            ) => {
                if self.revoked_tokens.contains_key(&token_id) {
                    // Logging out twice with the same token changes nothing.
                    return Ok(vec![]);
                }
                Ok(vec![UserEvent::TokenRevoked {
                    user_id: profile.id,
                    token_id,
                    expires_at,
                }])
            }
        }
    }

    /// Folds one event into state. No rules and no failure: the event already happened.
    pub fn apply(&mut self, event: &UserEvent) {
        self.version += 1;
        match event {
            UserEvent::UserRegistered {
                user_id,
                name,
                username,
                email,
                password_hash,
                roles,
                language,
                registered_at,
            } => {
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
            UserEvent::TokenRevoked {
                token_id,
                expires_at,
                ..
            } => {
                self.revoked_tokens.insert(*token_id, *expires_at);
            }
        }
    }
}
