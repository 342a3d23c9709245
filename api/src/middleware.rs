//! What every request goes through: a request id (in every log line and the `X-Request-Id`
//! header), the language of its messages, and the rate limits.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{ACCEPT_LANGUAGE, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, ResponseError, web};
use tracing::Instrument;
use uuid::Uuid;

use crate::auth::bearer;
use crate::error::ApiError;
use crate::i18n::Lang;
use crate::startup::AppState;

pub const REQUEST_ID_HEADER: &str = "x-request-id";
const RATE_WINDOW: Duration = Duration::from_secs(60);
const RATE_KEYS_MAX: u64 = 1_000_000;

pub async fn conventions(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let request_id = Uuid::now_v7();
    let lang = Lang::from_accept_language(request.headers().get(ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()));
    let span = tracing::info_span!("request", %request_id, method = %request.method(), path = %request.path());
    let handled = async move {
        let started = Instant::now();
        let response = match rate_limit(&request) {
            Err(error) => request.error_response(error),
            Ok(()) => enveloped(next.call(request).await?.map_into_boxed_body()),
        };
        tracing::info!(status = response.status().as_u16(), elapsed_us = started.elapsed().as_micros() as u64, "served");
        Ok::<_, actix_web::Error>(response)
    };
    let mut response = lang.scope(handled.instrument(span)).await?;
    if let Ok(value) = HeaderValue::from_str(&request_id.to_string()) {
        response.headers_mut().insert(REQUEST_ID_HEADER.parse().expect("valid header name"), value);
    }
    Ok(response)
}

/// A body over the size limit is refused by actix-web's own extractor, with its own plain answer;
/// the client gets the envelope like for any other error.
fn enveloped(response: ServiceResponse<BoxBody>) -> ServiceResponse<BoxBody> {
    let foreign = response.response().error().is_some_and(|error| error.as_error::<ApiError>().is_none());
    if foreign && response.status() == StatusCode::PAYLOAD_TOO_LARGE {
        let (request, _) = response.into_parts();
        return ServiceResponse::new(request, ApiError::PayloadTooLarge.error_response());
    }
    response
}

/// Fixed one-minute windows per key: the user when the request carries a valid token, the
/// client address otherwise; login and registration also count against a stricter per-address
/// window. Health probes and signed provider notifications are not limited.
fn rate_limit(request: &ServiceRequest) -> Result<(), ApiError> {
    let Some(state) = request.app_data::<web::Data<AppState>>() else { return Ok(()) };
    let path = request.path();
    // Health probes and providers' signed notifications come from a few machines, often and
    // for good reason; a probe or a payment must not be turned away by a per-address limit.
    if path.ends_with("/health") || path.contains("/payments/webhooks/") {
        return Ok(());
    }
    let address = request.connection_info().realip_remote_addr().unwrap_or("unknown").to_owned();
    if path.ends_with("/auth/login") || path.ends_with("/auth/register") {
        state.rate_limiter.check(&format!("auth:{address}"), state.settings.auth_rate_limit_per_minute)?;
    }
    let claims = bearer(request.request()).ok().flatten().and_then(|token| state.tokens.verify(token).ok());
    let user = claims.as_ref().map(|c| c.sub);
    if let Some(claims) = claims {
        // The extractor takes them from here instead of checking the signature again.
        request.extensions_mut().insert(claims);
    }
    let key = match user {
        Some(user) => format!("user:{user}"),
        None => format!("ip:{address}"),
    };
    state.rate_limiter.check(&key, state.settings.rate_limit_per_minute)
}

pub struct RateLimiter {
    windows: moka::sync::Cache<String, Arc<Mutex<Window>>>,
}

struct Window {
    started: Instant,
    count: u32,
}

impl Default for RateLimiter {
    fn default() -> Self {
        Self { windows: moka::sync::Cache::builder().max_capacity(RATE_KEYS_MAX).time_to_idle(RATE_WINDOW * 2).build() }
    }
}

impl RateLimiter {
    pub fn check(&self, key: &str, limit: u32) -> Result<(), ApiError> {
        let window = self.windows.get_with(key.to_owned(), || Arc::new(Mutex::new(Window { started: Instant::now(), count: 0 })));
        let mut window = window.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let now = Instant::now();
        if now.duration_since(window.started) >= RATE_WINDOW {
            *window = Window { started: now, count: 0 };
        }
        if window.count >= limit {
            let left = RATE_WINDOW.saturating_sub(now.duration_since(window.started));
            return Err(ApiError::RateLimited { retry_after_seconds: left.as_secs().max(1) });
        }
        window.count += 1;
        Ok(())
    }
}
