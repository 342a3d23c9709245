//! What every request goes through: a request id (in every log line and the `X-Request-Id`
//! header), the language of its messages, the rate limits, and read-your-writes: a GET with
//! `X-Min-Position` waits until the projections its route reads have applied that position.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{ACCEPT_LANGUAGE, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, ResponseError, web};
use tracing::Instrument;
use uuid::Uuid;

use crate::auth::bearer;
use crate::error::ApiError;
use crate::i18n::Lang;
use crate::startup::AppState;

pub const REQUEST_ID_HEADER: &str = "x-request-id";
pub const MIN_POSITION_HEADER: &str = "X-Min-Position";
/// How long a query waits for its read models to reach `X-Min-Position`.
const MIN_POSITION_WAIT_MS: u64 = 3_000;
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
        let checked = match rate_limit(&request).and_then(|()| database_up(&request)) {
            Ok(()) => fresh_enough(&request).await,
            Err(error) => Err(error),
        };
        let response = match checked {
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
    response.headers_mut().insert(actix_web::http::header::CONTENT_LANGUAGE, HeaderValue::from_static(lang.code()));
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

/// While the database is known to be down, a request that needs it is answered 503 at once
/// instead of waiting out a connection timeout. Health answers for itself; the docs need nothing.
fn database_up(request: &ServiceRequest) -> Result<(), ApiError> {
    let Some(state) = request.app_data::<web::Data<AppState>>() else { return Ok(()) };
    let path = request.path();
    let needs_no_database = path.ends_with("/health") || path.ends_with("/openapi.json") || path.contains("/docs");
    if needs_no_database || state.commands.kernel.database_up() {
        Ok(())
    } else {
        Err(ApiError::Unavailable("the database is down".to_owned()))
    }
}

/// Waits, for a GET with `X-Min-Position`, until the projections its route reads have applied
/// that position (503 `stale_read` after a few seconds). A request its route would refuse for
/// want of a token is let through at once, to be answered 401.
async fn fresh_enough(request: &ServiceRequest) -> Result<(), ApiError> {
    if request.method() != Method::GET {
        return Ok(());
    }
    let Some(value) = request.headers().get(MIN_POSITION_HEADER) else { return Ok(()) };
    let Some(state) = request.app_data::<web::Data<AppState>>() else { return Ok(()) };
    let Some(route) = request.match_pattern().and_then(|pattern| state.routes.get(request.method(), &pattern)) else { return Ok(()) };
    if route.auth && request.extensions().get::<crate::auth::Claims>().is_none() {
        return Ok(());
    }
    let position: u64 = value
        .to_str()
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| ApiError::MalformedRequest("X-Min-Position must be a whole number".into()))?;
    let wait = Duration::from_millis(MIN_POSITION_WAIT_MS);
    if state.projections.wait_for(route.reads, position, wait).await { Ok(()) } else { Err(ApiError::StaleRead(position)) }
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
