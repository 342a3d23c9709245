//! The users context over HTTP: registration, login, logout and the current user, with their
//! messages. Passwords are hashed with argon2id and never logged; login reads the event store, so
//! it works the moment registration returns.

use actix_web::http::Method;
use actix_web::{HttpResponse, web};
use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use chrono::{DateTime, Utc};
use commands::CommandContext;
use commands::users::Registration;
use domain::kernel::Rejection;
use domain::users::{DisplayName, Email, Language, ReservationError, Role, User, UserError, Username, check_password_strength, granted_roles};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::envelope::Reply;
use crate::error::{ApiError, FieldErrors};
use crate::extract::{Body, json_body};
use crate::i18n::Text;
use crate::openapi::{Op, Routes};
use crate::startup::AppState;

pub fn routes(routes: &mut Routes) {
    routes.add(Method::POST, "/auth/register", register,
        Op::new("auth", "Register as a student or speaker").body::<RegisterRequest>().data::<SessionView>().created().errors(&[409, 503])
            .description("Answers the new user and a token, as login does. 409 `email_taken` or `username_taken` when either is registered already."));
    routes.add(Method::POST, "/auth/login", login,
        Op::new("auth", "Log in with email or username").body::<LoginRequest>().data::<SessionView>().errors(&[401, 503])
            .description("401 `invalid_credentials` for a wrong login or password, the same whether the user exists or not."));
    routes.add(Method::POST, "/auth/logout", logout,
        Op::new("auth", "Revoke the current token").auth().errors(&[409, 503]).description("The token stops working at once."));
    routes.add(Method::GET, "/auth/me", me, Op::new("auth", "The current user with roles").auth().data::<UserView>().errors(&[503]));
}

pub const REGISTERED: Text = Text::new("registered", "Your account was created.", "تم إنشاء حسابك.");
pub const LOGGED_IN: Text = Text::new("logged_in", "You are logged in.", "تم تسجيل الدخول.");
pub const LOGGED_OUT: Text = Text::new("logged_out", "You are logged out.", "تم تسجيل الخروج.");

/// The messages of the context's rejections.
pub const REJECTIONS: &[Text] = &[
    Text::new("email_taken", "This email is already registered.", "هذا البريد الإلكتروني مسجل مسبقاً."),
    Text::new("username_taken", "This username is already taken.", "اسم المستخدم هذا مستخدم مسبقاً."),
    Text::new("already_registered", "You are already registered.", "أنت مسجل مسبقاً."),
];

/// The context's field reasons, its `Invalid` rejections among them.
pub const REASONS: &[Text] = &[
    Text::new("invalid_email", "is not a valid email address", "ليس بريداً إلكترونياً صالحاً"),
    Text::new(
        "invalid_username",
        "must be 3 to 30 letters, digits, '_' or '.', starting with a letter",
        "يجب أن يكون من 3 إلى 30 حرفاً أو رقماً أو '_' أو '.' ويبدأ بحرف",
    ),
    Text::new("invalid_name", "must be 1 to 100 characters", "يجب أن يكون من 1 إلى 100 حرف"),
    Text::new(
        "weak_password",
        "needs at least 8 characters with an upper-case letter, a digit and a symbol",
        "يجب أن تتكون من 8 أحرف على الأقل وتحتوي حرفاً كبيراً ورقماً ورمزاً",
    ),
    Text::new("invalid_password_hash", "could not be stored", "تعذّر حفظها"),
    Text::new("invalid_role", "must be student or speaker", "يجب أن يكون student أو speaker"),
    Text::new("invalid_language", "must be ar or en", "يجب أن تكون ar أو en"),
];

/// A new account. Its email and username must not be registered yet.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct RegisterRequest {
    /// The name others see, 1 to 100 characters.
    #[schemars(example = "Lina Haddad")]
    pub name: String,
    /// 3 to 30 letters, digits, `_` or `.`, starting with a letter.
    #[schemars(example = &"lina.h")]
    pub username: String,
    #[schemars(example = "lina@example.com")]
    pub email: String,
    /// At least 8 characters with an upper-case letter, a digit and a symbol.
    #[schemars(example = &"Correct#Horse9")]
    pub password: String,
    /// `student` or `speaker`; a speaker is a student too.
    #[schemars(example = &"speaker", extend("enum" = ["student", "speaker"]))]
    pub role: String,
    /// The language of the account: `ar` or `en` (the default).
    #[schemars(example = &"ar", extend("enum" = ["ar", "en", null]))]
    pub language: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct LoginRequest {
    /// Email or username.
    #[schemars(example = "lina@example.com")]
    pub login: String,
    #[schemars(example = &"Correct#Horse9")]
    pub password: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct UserView {
    pub id: Uuid,
    #[schemars(example = "Lina Haddad")]
    pub name: String,
    #[schemars(example = &"lina.h")]
    pub username: String,
    #[schemars(example = "lina@example.com")]
    pub email: String,
    /// `student`, `speaker` or `admin`; a speaker is also a student.
    #[schemars(example = ["speaker", "student"])]
    pub roles: Vec<String>,
    /// `ar` or `en`.
    #[schemars(example = &"ar")]
    pub language: String,
    /// When the user registered.
    pub created_at: DateTime<Utc>,
}

/// A user and a bearer token for them.
#[derive(Debug, Serialize, JsonSchema)]
pub struct SessionView {
    pub user: UserView,
    /// Send it as `Authorization: Bearer <token>`.
    #[schemars(example = "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIwMTkzYjBlNC03YzFhIn0.c2lnbmF0dXJl")]
    pub token: String,
    /// Always `Bearer`.
    #[schemars(example = &"Bearer")]
    pub token_type: String,
    /// When the token stops working (24 hours after it was issued).
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
            created_at: user.registered_at().ok_or_else(missing)?,
        })
    }
}

fn session(state: &AppState, user: &User) -> Result<SessionView, ApiError> {
    let user_id = user.id().ok_or_else(|| ApiError::internal("user without id"))?;
    let (token, expires_at) = state.tokens.issue(user_id, user.roles(), Utc::now())?;
    Ok(SessionView { user: UserView::of(user)?, token, token_type: "Bearer".into(), expires_at })
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

pub async fn register(state: web::Data<AppState>, body: Body) -> Result<Reply, ApiError> {
    let input: RegisterRequest = json_body(&body)?;
    let mut fields = FieldErrors::new();
    let mut check = |field: &'static str, result: Result<(), UserError>| {
        if let Err(error) = result {
            fields.entry(field.to_owned()).or_default().push(error.code());
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
        fields.entry("role".to_owned()).or_default().push(UserError::InvalidRole.code());
    }
    let (Ok(name), Ok(username), Ok(email), Ok(language), Some(role), true) = (name, username, email, language, role, fields.is_empty()) else {
        return Err(ApiError::Validation(fields));
    };
    let roles = granted_roles(&[role]).map_err(|error| ApiError::Rejected(error.rejected()))?;
    let registration = Registration {
        name,
        username,
        email,
        password_hash: hash_password(input.password).await?,
        roles,
        language: language.unwrap_or_default(),
        registered_at: Utc::now(),
    };
    let registered = state.commands.users.register(registration, CommandContext::default()).await?;
    let user = state.commands.users.load(registered.user_id).await?.ok_or_else(|| ApiError::internal("registered user not found"))?;
    Ok(Reply::created(&REGISTERED, session(&state, &user)?).position(Some(registered.position)))
}

pub async fn login(state: web::Data<AppState>, body: Body) -> Result<Reply, ApiError> {
    let input: LoginRequest = json_body(&body)?;
    let user = state.commands.users.find_for_login(input.login.trim()).await?;
    let hash = user.as_ref().and_then(|u| u.password_hash().map(str::to_owned));
    let matches = password_matches(input.password, hash).await?;
    match user {
        Some(user) if matches => Ok(Reply::ok(session(&state, &user)?).message(&LOGGED_IN)),
        _ => Err(ApiError::InvalidCredentials),
    }
}

pub async fn logout(state: web::Data<AppState>, user: AuthUser) -> Result<Reply, ApiError> {
    let context = CommandContext::by(user.user_id.to_string());
    let position = state.commands.users.revoke_token(user.user_id, user.token_id, user.expires_at, context).await?;
    state.tokens.remember_revoked(user.token_id).await;
    Ok(Reply::ok(serde_json::json!({})).message(&LOGGED_OUT).position(Some(position)))
}

pub async fn me(state: web::Data<AppState>, user: AuthUser) -> Result<HttpResponse, ApiError> {
    let found = state.commands.users.load(user.user_id).await?.ok_or(ApiError::InvalidToken)?;
    Ok(Reply::ok(UserView::of(&found)?).into_response())
}

/// Creates the first admin from the settings when no admin exists yet, as events like any other
/// registration. A second start finds the admin (or its email taken) and does nothing.
pub async fn bootstrap_admin(state: &AppState) -> anyhow::Result<()> {
    let Some((email, password)) = state.settings.bootstrap_admin.clone() else { return Ok(()) };
    if state.commands.users.any_admin_exists().await? {
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
    match state.commands.users.register(registration, CommandContext::default()).await {
        Ok(registered) => tracing::info!(user_id = %registered.user_id, "bootstrap admin created"),
        Err(error) if error.is(&ReservationError::EmailTaken) || error.is(&ReservationError::UsernameTaken) => {
            tracing::info!("bootstrap admin already registered")
        }
        Err(error) => return Err(error.into()),
    }
    Ok(())
}
