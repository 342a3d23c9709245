//! Bearer tokens: HS256 JWTs that live 24 hours, carry the user id in `sub` and the roles in
//! `roles`, and can be revoked by logging out. Only HS256 is accepted, so `alg: none` and
//! algorithm-confusion tokens fail.

use std::time::Duration;

use actix_web::{FromRequest, HttpMessage, HttpRequest, dev::Payload, web};
use chrono::{DateTime, Utc};
use domain::users::Role;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::ApiError;
use crate::startup::AppState;

pub const TOKEN_LIFETIME_HOURS: i64 = 24;
/// How long a "not revoked" answer is trusted before asking the read model again.
const REVOCATION_CACHE_TTL_MS: u64 = 2_000;
const REVOCATION_CACHE_CAPACITY: u64 = 100_000;
const KNOWN_USERS_CACHE_CAPACITY: u64 = 100_000;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Claims {
    pub sub: Uuid,
    pub roles: Vec<Role>,
    pub iat: i64,
    pub exp: i64,
    /// The token's own id: what logout revokes.
    pub jti: Uuid,
}

pub struct Tokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    revoked: moka::future::Cache<Uuid, bool>,
    known_users: moka::future::Cache<Uuid, ()>,
}

impl Tokens {
    pub fn new(secret: &str) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 5;
        validation.set_required_spec_claims(&["exp", "sub", "iat"]);
        Self {
            encoding: EncodingKey::from_secret(secret.as_bytes()),
            decoding: DecodingKey::from_secret(secret.as_bytes()),
            validation,
            revoked: moka::future::Cache::builder()
                .max_capacity(REVOCATION_CACHE_CAPACITY)
                .time_to_live(Duration::from_millis(REVOCATION_CACHE_TTL_MS))
                .build(),
            known_users: moka::future::Cache::new(KNOWN_USERS_CACHE_CAPACITY),
        }
    }

    pub fn issue(&self, user_id: Uuid, roles: &[Role], now: DateTime<Utc>) -> Result<(String, DateTime<Utc>), ApiError> {
        let expires_at = now + chrono::Duration::hours(TOKEN_LIFETIME_HOURS);
        let claims = Claims { sub: user_id, roles: roles.to_vec(), iat: now.timestamp(), exp: expires_at.timestamp(), jti: Uuid::now_v7() };
        let token = encode(&Header::new(Algorithm::HS256), &claims, &self.encoding).map_err(ApiError::internal)?;
        Ok((token, expires_at))
    }

    /// Signature, algorithm and expiry; not revocation.
    pub fn verify(&self, token: &str) -> Result<Claims, ApiError> {
        decode::<Claims>(token, &self.decoding, &self.validation).map(|data| data.claims).map_err(|_| ApiError::InvalidToken)
    }

    /// Whether the token's user exists in this deployment's store: a token signed with the right
    /// secret for a user this deployment never registered is no one's. Known users are kept.
    async fn is_known(&self, state: &AppState, user_id: Uuid) -> Result<bool, ApiError> {
        if self.known_users.get(&user_id).await.is_some() {
            return Ok(true);
        }
        let known = state.commands.users.exists(user_id).await?;
        if known {
            self.known_users.insert(user_id, ()).await;
        }
        Ok(known)
    }

    /// Marks a token revoked in this process at once; other processes learn it from the read model.
    pub async fn remember_revoked(&self, token_id: Uuid) {
        self.revoked.insert(token_id, true).await;
    }

    /// The user of a token: signature, algorithm and expiry (unless `verified` already holds its
    /// claims), then revocation and whether the user exists here.
    pub async fn authenticate(&self, state: &AppState, token: &str, verified: Option<Claims>) -> Result<AuthUser, ApiError> {
        let claims = match verified {
            Some(claims) => claims,
            None => self.verify(token)?,
        };
        if self.is_revoked(state, claims.jti).await? || !self.is_known(state, claims.sub).await? {
            return Err(ApiError::InvalidToken);
        }
        let expires_at = DateTime::from_timestamp(claims.exp, 0).ok_or(ApiError::InvalidToken)?;
        Ok(AuthUser { user_id: claims.sub, roles: claims.roles, token_id: claims.jti, expires_at })
    }

    async fn is_revoked(&self, state: &AppState, token_id: Uuid) -> Result<bool, ApiError> {
        if let Some(revoked) = self.revoked.get(&token_id).await {
            return Ok(revoked);
        }
        let revoked = state.queries.users.is_token_revoked(token_id).await?;
        self.revoked.insert(token_id, revoked).await;
        Ok(revoked)
    }
}

/// The caller, authenticated by a valid, unrevoked bearer token.
#[derive(Clone, Debug)]
pub struct AuthUser {
    pub user_id: Uuid,
    pub roles: Vec<Role>,
    pub token_id: Uuid,
    pub expires_at: DateTime<Utc>,
}

impl AuthUser {
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    pub fn require(&self, role: Role) -> Result<(), ApiError> {
        if self.has(role) { Ok(()) } else { Err(ApiError::Forbidden) }
    }

    /// A command of this user's that carries no idempotency key.
    pub fn context(&self) -> commands::CommandContext {
        commands::CommandContext::by(self.user_id.to_string())
    }
}

/// The bearer token of a request, if it has one that is well formed.
pub fn bearer(request: &HttpRequest) -> Result<Option<&str>, ApiError> {
    let Some(header) = request.headers().get(actix_web::http::header::AUTHORIZATION) else { return Ok(None) };
    let header = header.to_str().map_err(|_| ApiError::InvalidToken)?;
    match header.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() => Ok(Some(token.trim())),
        _ => Err(ApiError::InvalidToken),
    }
}

impl FromRequest for AuthUser {
    type Error = ApiError;
    type Future = std::pin::Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        let request = request.clone();
        Box::pin(async move {
            let state = request.app_data::<web::Data<AppState>>().ok_or_else(|| ApiError::internal("no state"))?.clone();
            let token = bearer(&request)?.ok_or(ApiError::Unauthorized)?;
            let verified = request.extensions().get::<Claims>().cloned();
            state.tokens.authenticate(&state, token, verified).await
        })
    }
}

/// The caller of a route anyone may read: `None` without a token; a token that is there must be
/// valid (401 otherwise), so a client never mistakes an expired session for an anonymous read.
#[derive(Clone, Debug)]
pub struct Viewer(pub Option<AuthUser>);

impl Viewer {
    pub fn user_id(&self) -> Option<Uuid> {
        self.0.as_ref().map(|user| user.user_id)
    }

    pub fn is_admin(&self) -> bool {
        self.0.as_ref().is_some_and(|user| user.has(Role::Admin))
    }
}

impl FromRequest for Viewer {
    type Error = ApiError;
    type Future = std::pin::Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(request: &HttpRequest, payload: &mut Payload) -> Self::Future {
        if request.headers().get(actix_web::http::header::AUTHORIZATION).is_none() {
            return Box::pin(async { Ok(Viewer(None)) });
        }
        let user = AuthUser::from_request(request, payload);
        Box::pin(async move { Ok(Viewer(Some(user.await?))) })
    }
}
