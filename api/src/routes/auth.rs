//! Registration, login, logout and the current user. Passwords are hashed with argon2id and never
//! logged; login reads the event store, so it works the moment registration returns.

use actix_web::{HttpResponse, web};
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use chrono::{DateTime, Utc};
use commands::{CommandContext, CommandError, Registration};
use domain::user::{DisplayName, Email, Language, Role, User, UserError, Username, check_password_strength, granted_roles};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::envelope::Reply;
use crate::error::{ApiError, FieldErrors};
use crate::extract::json_body;
use crate::startup::AppState;

#[derive(Debug, Deserialize, JsonSchema)]
pub struct RegisterRequest {
    pub name: String,
    pub username: String,
    pub email: String,
    /// At least 8 characters with an upper-case letter, a digit and a symbol.
    pub password: String,
    /// student or speaker.
    pub role: String,
    /// ar or en (default en).
    pub language: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct LoginRequest {
    /// Email or username.
    pub login: String,
    pub password: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct UserView {
    pub id: Uuid,
    pub name: String,
    pub username: String,
    pub email: String,
    pub roles: Vec<String>,
    pub language: String,
    pub created_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct SessionView {
    pub user: UserView,
    pub token: String,
    pub token_type: String,
    pub expires_at: DateTime<Utc>,
}

impl UserView {
    pub fn of(user: &User) -> Result<Self, ApiError> {
        let missing = || ApiError::internal("user without registration");
        Ok(Self {
            id: user.id().ok_or_else(missing)?,
            name: user.name().ok_or_else(missing)?.as_str().to_owned(),
            username: user.username().ok_or_else(missing)?.as_str().to_owned(),
            email: user.email().ok_or_else(missing)?.as_str().to_owned(),
            roles: user.roles().iter().map(|r| r.as_str().to_owned()).collect(),
            language: user.language().unwrap_or_default().as_str().to_owned(),
            created_at: user.registered_at(),
        })
    }
}

fn session(state: &AppState, user: &User) -> Result<SessionView, ApiError> {
    let user_id = user.id().ok_or_else(|| ApiError::internal("user without id"))?;
    let (token, expires_at) = state.tokens.issue(user_id, user.roles(), Utc::now())?;
    Ok(SessionView { user: UserView::of(user)?, token, token_type: "Bearer".into(), expires_at })
}

fn field_code(error: &UserError) -> &'static str {
    match error {
        UserError::InvalidEmail => "invalid_email",
        UserError::InvalidUsername => "invalid_username",
        UserError::InvalidName => "invalid_name",
        UserError::WeakPassword => "weak_password",
        UserError::InvalidLanguage => "invalid_language",
        _ => "invalid",
    }
}

/// Hashing is deliberately slow, so it runs off the request threads.
pub async fn hash_password(password: String) -> Result<String, ApiError> {
    web::block(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default().hash_password(password.as_bytes(), &salt).map(|hash| hash.to_string())
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(ApiError::internal)
}

async fn password_matches(password: String, hash: Option<String>) -> Result<bool, ApiError> {
    web::block(move || {
        // Without a user, still spend the time of a check: the answer must not tell who exists.
        let hash = hash.unwrap_or_else(|| DUMMY_HASH.clone());
        let parsed = PasswordHash::new(&hash).map_err(|e| e.to_string())?;
        Ok::<_, String>(Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(ApiError::internal)
}

/// An argon2id hash of a random password nobody knows.
static DUMMY_HASH: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(Uuid::new_v4().as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .unwrap_or_default()
});

pub async fn register(state: web::Data<AppState>, body: web::Bytes) -> Result<Reply, ApiError> {
    let input: RegisterRequest = json_body(&body)?;
    let mut fields = FieldErrors::new();
    let mut check = |field: &'static str, result: Result<(), UserError>| {
        if let Err(error) = result {
            fields.entry(field).or_default().push(field_code(&error));
        }
    };
    let name = DisplayName::parse(&input.name);
    let username = Username::parse(&input.username);
    let email = Email::parse(&input.email);
    let language = input.language.as_deref().map(Language::parse).transpose();
    check("name", name.as_ref().map(|_| ()).map_err(Clone::clone));
    check("username", username.as_ref().map(|_| ()).map_err(Clone::clone));
    check("email", email.as_ref().map(|_| ()).map_err(Clone::clone));
    check("password", check_password_strength(&input.password));
    check("language", language.as_ref().map(|_| ()).map_err(Clone::clone));
    let role = match input.role.trim().to_ascii_lowercase().as_str() {
        "student" => Some(Role::Student),
        "speaker" => Some(Role::Speaker),
        _ => None,
    };
    if role.is_none() {
        fields.entry("role").or_default().push("invalid_role");
    }
    let (Ok(name), Ok(username), Ok(email), Ok(language), Some(role), true) = (name, username, email, language, role, fields.is_empty()) else {
        return Err(ApiError::Validation(fields));
    };
    let roles = granted_roles(&[role]).map_err(|_| ApiError::field("role", "invalid_role"))?;
    let registration = Registration {
        name,
        username,
        email,
        password_hash: hash_password(input.password).await?,
        roles,
        language: language.unwrap_or_default(),
        registered_at: Utc::now(),
    };
    let registered = state.users.register(registration, CommandContext::default()).await?;
    let user = state.users.load(registered.user_id).await?.ok_or_else(|| ApiError::internal("registered user not found"))?;
    Ok(Reply::created("registered", session(&state, &user)?).position(Some(registered.position)))
}

pub async fn login(state: web::Data<AppState>, body: web::Bytes) -> Result<Reply, ApiError> {
    let input: LoginRequest = json_body(&body)?;
    let user = state.users.find_for_login(input.login.trim()).await?;
    let hash = user.as_ref().and_then(|u| u.password_hash().map(str::to_owned));
    let matches = password_matches(input.password, hash).await?;
    match user {
        Some(user) if matches => Ok(Reply::ok(session(&state, &user)?).message("logged_in")),
        _ => Err(ApiError::InvalidCredentials),
    }
}

pub async fn logout(state: web::Data<AppState>, user: AuthUser) -> Result<Reply, ApiError> {
    let context = CommandContext { actor: Some(user.user_id.to_string()), ..Default::default() };
    let position = state.users.revoke_token(user.user_id, user.token_id, user.expires_at, context).await?;
    state.tokens.remember_revoked(user.token_id).await;
    Ok(Reply::ok(serde_json::json!({})).message("logged_out").position(Some(position)))
}

pub async fn me(state: web::Data<AppState>, user: AuthUser) -> Result<HttpResponse, ApiError> {
    let found = state.users.load(user.user_id).await?.ok_or(ApiError::InvalidToken)?;
    Ok(Reply::ok(UserView::of(&found)?).into_response())
}

/// Creates the first admin from the settings when no admin exists yet, as events like any other
/// registration. A second start finds the admin (or its email taken) and does nothing.
pub async fn bootstrap_admin(state: &AppState) -> anyhow::Result<()> {
    let Some((email, password)) = state.settings.bootstrap_admin.clone() else { return Ok(()) };
    if state.users.any_admin_exists().await? {
        return Ok(());
    }
    let email = Email::parse(&email).map_err(|e| anyhow::anyhow!("BOOTSTRAP_ADMIN_EMAIL: {e}"))?;
    check_password_strength(password.expose()).map_err(|e| anyhow::anyhow!("BOOTSTRAP_ADMIN_PASSWORD: {e}"))?;
    let registration = Registration {
        name: DisplayName::parse("Administrator").map_err(|e| anyhow::anyhow!("{e}"))?,
        username: Username::parse("admin").map_err(|e| anyhow::anyhow!("{e}"))?,
        email,
        password_hash: hash_password(password.expose().to_owned()).await.map_err(|e| anyhow::anyhow!("{e}"))?,
        roles: vec![Role::Admin],
        language: Language::En,
        registered_at: Utc::now(),
    };
    match state.users.register(registration, CommandContext::default()).await {
        Ok(registered) => tracing::info!(user_id = %registered.user_id, "bootstrap admin created"),
        Err(CommandError::EmailTaken | CommandError::UsernameTaken) => tracing::info!("bootstrap admin already registered"),
        Err(error) => return Err(error.into()),
    }
    Ok(())
}
