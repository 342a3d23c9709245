//! `ApiError`: every way a request can fail, each with its status and snake_case code, rendered
//! in the contract's error envelope. Internal details are logged, never sent.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use commands::CommandError;
use domain::wallet::WalletError;
use serde_json::{Value, json};

use crate::i18n::{message, reason};

/// Field name → reason codes, for 422 answers.
pub type FieldErrors = BTreeMap<&'static str, Vec<&'static str>>;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("malformed JSON: {0}")]
    MalformedJson(String),
    #[error("malformed request: {0}")]
    MalformedRequest(String),
    #[error("missing Idempotency-Key")]
    MissingIdempotencyKey,
    #[error("invalid Idempotency-Key")]
    InvalidIdempotencyKey,
    #[error("unauthenticated")]
    Unauthorized,
    #[error("invalid token")]
    InvalidToken,
    #[error("invalid credentials")]
    InvalidCredentials,
    #[error("invalid signature")]
    InvalidSignature,
    #[error("forbidden")]
    Forbidden,
    #[error("not found")]
    NotFound,
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("request body too large")]
    PayloadTooLarge,
    #[error("validation failed: {0:?}")]
    Validation(FieldErrors),
    #[error("idempotency key reused with a different body")]
    IdempotencyKeyReused,
    #[error("conflict: {0}")]
    Conflict(&'static str),
    #[error("rate limited")]
    RateLimited { retry_after_seconds: u64 },
    #[error("read model behind position {0}")]
    StaleRead(u64),
    #[error("unavailable: {0}")]
    Unavailable(String),
    #[error("internal: {0}")]
    Internal(String),
}

impl ApiError {
    pub fn field(field: &'static str, reason: &'static str) -> Self {
        Self::Validation(BTreeMap::from([(field, vec![reason])]))
    }

    pub fn internal(error: impl std::fmt::Display) -> Self {
        Self::Internal(error.to_string())
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::MalformedJson(_) => "malformed_json",
            Self::MalformedRequest(_) => "malformed_request",
            Self::MissingIdempotencyKey => "missing_idempotency_key",
            Self::InvalidIdempotencyKey => "invalid_idempotency_key",
            Self::Unauthorized => "unauthorized",
            Self::InvalidToken => "invalid_token",
            Self::InvalidCredentials => "invalid_credentials",
            Self::InvalidSignature => "invalid_signature",
            Self::Forbidden => "forbidden",
            Self::NotFound => "not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::PayloadTooLarge => "payload_too_large",
            Self::Validation(_) => "validation_failed",
            Self::IdempotencyKeyReused => "idempotency_key_reused",
            Self::Conflict(code) => code,
            Self::RateLimited { .. } => "rate_limited",
            Self::StaleRead(_) => "stale_read",
            Self::Unavailable(_) => "service_unavailable",
            Self::Internal(_) => "internal_error",
        }
    }

    fn details(&self) -> Value {
        match self {
            Self::Validation(fields) => {
                let fields: BTreeMap<&str, Vec<&str>> =
                    fields.iter().map(|(field, reasons)| (*field, reasons.iter().map(|r| reason(r)).collect())).collect();
                json!({ "fields": fields })
            }
            Self::RateLimited { retry_after_seconds } => json!({ "retry_after_seconds": retry_after_seconds }),
            Self::StaleRead(position) => json!({ "min_position": position }),
            _ => json!({}),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::MalformedJson(_) | Self::MalformedRequest(_) | Self::MissingIdempotencyKey | Self::InvalidIdempotencyKey => {
                StatusCode::BAD_REQUEST
            }
            Self::Unauthorized | Self::InvalidToken | Self::InvalidCredentials | Self::InvalidSignature => StatusCode::UNAUTHORIZED,
            Self::Forbidden => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Validation(_) | Self::IdempotencyKeyReused => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::StaleRead(_) | Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        match self {
            Self::Internal(_) | Self::Unavailable(_) => tracing::error!(error = %self, "request failed"),
            _ => tracing::info!(error = %self, status = status.as_u16(), "request refused"),
        }
        let mut response = HttpResponse::build(status);
        match self {
            Self::RateLimited { retry_after_seconds } => {
                response.insert_header(("Retry-After", retry_after_seconds.to_string()));
            }
            Self::StaleRead(_) | Self::Unavailable(_) => {
                response.insert_header(("Retry-After", "1"));
            }
            _ => {}
        }
        response.json(json!({
            "success": false,
            "message": message(self.code()),
            "error": { "code": self.code(), "details": self.details() },
        }))
    }
}

impl From<CommandError> for ApiError {
    fn from(error: CommandError) -> Self {
        match error {
            CommandError::Rejected(rejection) => rejection.into(),
            CommandError::Contention(_) => Self::Conflict("conflict"),
            CommandError::Unavailable(reason) => Self::Unavailable(reason),
            CommandError::Corrupt(reason) | CommandError::Internal(reason) => Self::Internal(reason),
            CommandError::EmailTaken => Self::Conflict("email_taken"),
            CommandError::UsernameTaken => Self::Conflict("username_taken"),
            CommandError::UserRejected(rejection) => Self::Conflict(rejection.code()),
            CommandError::TopUpRejected(rejection) => Self::Conflict(rejection.code()),
        }
    }
}

impl From<event_store::EventStoreError> for ApiError {
    fn from(error: event_store::EventStoreError) -> Self {
        CommandError::from(error).into()
    }
}

impl From<WalletError> for ApiError {
    fn from(rejection: WalletError) -> Self {
        match rejection {
            WalletError::InvalidAmount => Self::field("amount", "invalid_amount"),
            WalletError::InsufficientFunds { .. } => Self::Conflict("insufficient_funds"),
            WalletError::NotOpen => Self::Conflict("wallet_not_open"),
            WalletError::DuplicateWithdrawal => Self::Conflict("duplicate_withdrawal"),
            WalletError::UnknownWithdrawal => Self::NotFound,
            WalletError::WithdrawalNotPending => Self::Conflict("withdrawal_not_pending"),
            other => Self::Conflict(other.code()),
        }
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(error: sqlx::Error) -> Self {
        match error {
            sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed => Self::Unavailable(error.to_string()),
            other => Self::Internal(other.to_string()),
        }
    }
}
