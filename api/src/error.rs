//! `ApiError`: every way a request can fail, each with its status, snake_case code and message,
//! rendered in the contract's error envelope. A domain rejection's status comes from its kind
//! alone (one mapping, `status_of`). Internal details are logged, never sent.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use commands::CommandError;
use domain::kernel::{Rejected, RejectionKind};
use serde_json::{Value, json};

use crate::i18n::{Text, reason, rejection_message};

/// Field name → reason codes, for 422 answers.
pub type FieldErrors = BTreeMap<String, Vec<&'static str>>;

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
    #[error("method not allowed; allowed: {allow}")]
    MethodNotAllowed { allow: String },
    #[error("request body too large")]
    PayloadTooLarge,
    #[error("the request body did not arrive in time")]
    RequestTimeout,
    #[error("validation failed: {0:?}")]
    Validation(FieldErrors),
    #[error("idempotency key reused with a different body")]
    IdempotencyKeyReused,
    /// The business said no.
    #[error("rejected: {0}")]
    Rejected(Rejected),
    #[error("too much contention")]
    Contention,
    #[error("rate limited")]
    RateLimited { retry_after_seconds: u64 },
    #[error("too many sockets")]
    TooManySockets { retry_after_seconds: u64 },
    #[error("read model behind position {0}")]
    StaleRead(u64),
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// The event store holds something its writer did not write: an operator must look.
    #[error("store corrupt: {0}")]
    StoreCorrupt(String),
    /// The command reached the database, which failed while committing it.
    #[error("outcome unknown: {0}")]
    OutcomeUnknown(String),
    #[error("internal: {0}")]
    Internal(String),
}

pub const MALFORMED_JSON: Text = Text::new("malformed_json", "The request body is not valid JSON.", "نص الطلب ليس بصيغة JSON صالحة.");
pub const MALFORMED_REQUEST: Text = Text::new("malformed_request", "The request is malformed.", "الطلب غير صالح.");
pub const MISSING_IDEMPOTENCY_KEY: Text =
    Text::new("missing_idempotency_key", "The Idempotency-Key header is required.", "ترويسة Idempotency-Key مطلوبة.");
pub const INVALID_IDEMPOTENCY_KEY: Text = Text::new(
    "invalid_idempotency_key",
    "The Idempotency-Key header must be 1 to 255 characters.",
    "يجب أن تكون ترويسة Idempotency-Key بين 1 و255 حرفاً.",
);
pub const UNAUTHORIZED: Text = Text::new("unauthorized", "Authentication is required.", "يلزم تسجيل الدخول.");
pub const INVALID_TOKEN: Text =
    Text::new("invalid_token", "The access token is invalid, expired or revoked.", "رمز الدخول غير صالح أو منتهي الصلاحية أو ملغى.");
pub const INVALID_CREDENTIALS: Text = Text::new("invalid_credentials", "The login or password is incorrect.", "بيانات الدخول غير صحيحة.");
pub const INVALID_SIGNATURE: Text = Text::new("invalid_signature", "The signature is missing or wrong.", "التوقيع مفقود أو غير صحيح.");
pub const FORBIDDEN: Text = Text::new("forbidden", "You are not allowed to do this.", "غير مسموح لك بهذا الإجراء.");
pub const NOT_FOUND: Text = Text::new("not_found", "Not found.", "غير موجود.");
pub const METHOD_NOT_ALLOWED: Text = Text::new("method_not_allowed", "This method is not allowed here.", "هذه الطريقة غير مسموح بها هنا.");
pub const PAYLOAD_TOO_LARGE: Text = Text::new("payload_too_large", "The request body is larger than 64 KiB.", "نص الطلب أكبر من 64 كيلوبايت.");
pub const REQUEST_TIMEOUT: Text =
    Text::new("request_timeout", "The request body did not arrive in time.", "لم يصل نص الطلب في الوقت المحدد.");
pub const VALIDATION_FAILED: Text = Text::new("validation_failed", "Some fields are invalid.", "بعض الحقول غير صالحة.");
pub const IDEMPOTENCY_KEY_REUSED: Text = Text::new(
    "idempotency_key_reused",
    "This Idempotency-Key was already used with a different request.",
    "استُخدم مفتاح Idempotency-Key هذا مسبقاً مع طلب مختلف.",
);
pub const CONFLICT: Text =
    Text::new("conflict", "The resource was changed at the same time; try again.", "تم تعديل المورد في الوقت نفسه؛ حاول مجدداً.");
pub const RATE_LIMITED: Text = Text::new("rate_limited", "Too many requests; try again later.", "طلبات كثيرة جداً؛ حاول لاحقاً.");
pub const TOO_MANY_SOCKETS: Text =
    Text::new("too_many_sockets", "Too many open connections for this account; close one and try again.", "اتصالات مفتوحة كثيرة لهذا الحساب؛ أغلق أحدها وحاول مجدداً.");
pub const STALE_READ: Text =
    Text::new("stale_read", "The data is not up to date yet; try again shortly.", "البيانات لم تُحدَّث بعد؛ حاول بعد قليل.");
pub const SERVICE_UNAVAILABLE: Text =
    Text::new("service_unavailable", "A service is unavailable; try again shortly.", "إحدى الخدمات غير متاحة؛ حاول بعد قليل.");
pub const OUTCOME_UNKNOWN: Text = Text::new(
    "outcome_unknown",
    "We could not confirm whether this was saved. Repeat the same request (with the same Idempotency-Key where one is required): it will not be applied twice.",
    "تعذّر التأكد من حفظ الطلب. أعد إرسال الطلب نفسه (بمفتاح Idempotency-Key نفسه عند طلبه): لن يُنفَّذ مرتين.",
);
pub const STORE_CORRUPT: Text = Text::new(
    "store_corrupt",
    "The event store holds rows it did not write; an operator must look (ispeaker-replay verify-chain). Nothing was changed.",
    "يحتوي مخزن الأحداث على صفوف لم يكتبها؛ يلزم تدخل المشغّل. لم يتغيّر شيء.",
);
pub const INTERNAL_ERROR: Text = Text::new("internal_error", "Something went wrong on our side.", "حدث خطأ من جهتنا.");

/// The status of a domain rejection: its kind decides, nothing else.
pub fn status_of(kind: RejectionKind) -> StatusCode {
    match kind {
        RejectionKind::Invalid => StatusCode::UNPROCESSABLE_ENTITY,
        RejectionKind::NotFound => StatusCode::NOT_FOUND,
        RejectionKind::Conflict => StatusCode::CONFLICT,
        RejectionKind::Forbidden => StatusCode::FORBIDDEN,
    }
}

impl ApiError {
    pub fn field(field: impl Into<String>, reason: &'static Text) -> Self {
        Self::Validation(BTreeMap::from([(field.into(), vec![reason.code])]))
    }

    pub fn internal(error: impl std::fmt::Display) -> Self {
        Self::Internal(error.to_string())
    }

    /// The code and message the client sees.
    pub fn text(&self) -> &'static Text {
        match self {
            Self::MalformedJson(_) => &MALFORMED_JSON,
            Self::MalformedRequest(_) => &MALFORMED_REQUEST,
            Self::MissingIdempotencyKey => &MISSING_IDEMPOTENCY_KEY,
            Self::InvalidIdempotencyKey => &INVALID_IDEMPOTENCY_KEY,
            Self::Unauthorized => &UNAUTHORIZED,
            Self::InvalidToken => &INVALID_TOKEN,
            Self::InvalidCredentials => &INVALID_CREDENTIALS,
            Self::InvalidSignature => &INVALID_SIGNATURE,
            Self::Forbidden => &FORBIDDEN,
            Self::NotFound => &NOT_FOUND,
            Self::MethodNotAllowed { .. } => &METHOD_NOT_ALLOWED,
            Self::PayloadTooLarge => &PAYLOAD_TOO_LARGE,
            Self::RequestTimeout => &REQUEST_TIMEOUT,
            Self::Validation(_) => &VALIDATION_FAILED,
            Self::IdempotencyKeyReused => &IDEMPOTENCY_KEY_REUSED,
            // An invalid field is one of `validation_failed`'s fields; an invalid request as a whole
            // (`no_lessons`, `cart_empty`) answers its own code.
            Self::Rejected(Rejected { kind: RejectionKind::Invalid, field: Some(_), .. }) => &VALIDATION_FAILED,
            Self::Rejected(rejected) if rejected.kind == RejectionKind::NotFound => &NOT_FOUND,
            Self::Rejected(rejected) => rejection_message(rejected.code).unwrap_or_else(|| {
                tracing::error!(code = rejected.code, "a rejection without a message");
                &INTERNAL_ERROR
            }),
            Self::Contention => &CONFLICT,
            Self::RateLimited { .. } => &RATE_LIMITED,
            Self::TooManySockets { .. } => &TOO_MANY_SOCKETS,
            Self::StaleRead(_) => &STALE_READ,
            Self::Unavailable(_) => &SERVICE_UNAVAILABLE,
            Self::OutcomeUnknown(_) => &OUTCOME_UNKNOWN,
            Self::StoreCorrupt(_) => &STORE_CORRUPT,
            Self::Internal(_) => &INTERNAL_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::Rejected(Rejected { kind: RejectionKind::Invalid, field: Some(_), .. } | Rejected { kind: RejectionKind::NotFound, .. }) => {
                self.text().code
            }
            Self::Rejected(rejected) => rejected.code,
            other => other.text().code,
        }
    }

    fn details(&self) -> Value {
        let fields = |fields: &FieldErrors| {
            let fields: BTreeMap<&str, Vec<&str>> =
                fields.iter().map(|(field, reasons)| (field.as_str(), reasons.iter().map(|code| reason_text(code)).collect())).collect();
            json!({ "fields": fields })
        };
        match self {
            Self::Validation(errors) => fields(errors),
            Self::Rejected(Rejected { kind: RejectionKind::Invalid, field: Some(field), code, .. }) => {
                fields(&BTreeMap::from([((*field).to_owned(), vec![*code])]))
            }
            Self::RateLimited { retry_after_seconds } | Self::TooManySockets { retry_after_seconds } => json!({ "retry_after_seconds": retry_after_seconds }),
            Self::StaleRead(position) => json!({ "min_position": position }),
            _ => json!({}),
        }
    }
}

fn reason_text(code: &str) -> &'static str {
    match reason(code) {
        Some(text) => text.current(),
        None => {
            tracing::error!(code, "a field reason without a text");
            crate::extract::INVALID.current()
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
            Self::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            Self::Validation(_) | Self::IdempotencyKeyReused => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Rejected(rejected) => status_of(rejected.kind),
            Self::Contention => StatusCode::CONFLICT,
            Self::RateLimited { .. } | Self::TooManySockets { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::StaleRead(_) | Self::Unavailable(_) | Self::OutcomeUnknown(_) | Self::StoreCorrupt(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        match self {
            Self::Internal(_) | Self::Unavailable(_) | Self::OutcomeUnknown(_) | Self::StoreCorrupt(_) => {
                tracing::error!(error = %self, "request failed")
            }
            _ => tracing::info!(error = %self, status = status.as_u16(), "request refused"),
        }
        let mut response = HttpResponse::build(status);
        match self {
            Self::RateLimited { retry_after_seconds } | Self::TooManySockets { retry_after_seconds } => {
                response.insert_header(("Retry-After", retry_after_seconds.to_string()));
            }
            Self::StaleRead(_) | Self::Unavailable(_) | Self::OutcomeUnknown(_) => {
                response.insert_header(("Retry-After", "1"));
            }
            Self::StoreCorrupt(_) => {
                response.insert_header(("Retry-After", "60"));
            }
            Self::MethodNotAllowed { allow } => {
                response.insert_header(("Allow", allow.as_str()));
            }
            _ => {}
        }
        response.json(json!({
            "success": false,
            "message": self.text().current(),
            "error": { "code": self.code(), "details": self.details() },
        }))
    }
}

impl From<CommandError> for ApiError {
    fn from(error: CommandError) -> Self {
        match error {
            CommandError::Rejected(rejected) => Self::Rejected(rejected),
            CommandError::Contention(_) => Self::Contention,
            CommandError::Unavailable(reason) => Self::Unavailable(reason),
            CommandError::OutcomeUnknown(reason) => Self::OutcomeUnknown(reason),
            CommandError::Corrupt(reason) => Self::StoreCorrupt(reason),
            CommandError::Internal(reason) => Self::Internal(reason),
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

