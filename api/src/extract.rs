//! Small request helpers shared by handlers: JSON bodies, pagination and read-your-writes.

use std::time::Duration;

use actix_web::HttpRequest;
use schemars::JsonSchema;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::startup::AppState;

pub const MIN_POSITION_HEADER: &str = "X-Min-Position";
/// How long a query waits for the read models to reach `X-Min-Position`.
const MIN_POSITION_WAIT_MS: u64 = 3_000;
pub const PER_PAGE_MAX: u64 = 100;
const PER_PAGE_DEFAULT: u64 = 20;

/// Parses a JSON body: 400 when it is not JSON, 422 when it is JSON of the wrong shape.
pub fn json_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let value: serde_json::Value = serde_json::from_slice(body).map_err(|e| ApiError::MalformedJson(e.to_string()))?;
    if !value.is_object() {
        return Err(ApiError::MalformedJson("the body must be a JSON object".into()));
    }
    serde_json::from_value(value).map_err(|error| {
        let text = error.to_string();
        match text.strip_prefix("missing field `").and_then(|rest| rest.split('`').next()) {
            Some(field) => ApiError::field(leak_field(field), "required"),
            None => ApiError::field("body", "invalid"),
        }
    })
}

/// Field names come from our own DTOs, so there are few of them; keep them for the error.
fn leak_field(field: &str) -> &'static str {
    match field {
        "name" => "name",
        "username" => "username",
        "email" => "email",
        "password" => "password",
        "role" => "role",
        "login" => "login",
        "amount" => "amount",
        "provider" => "provider",
        "event_id" => "event_id",
        "type" => "type",
        "top_up_id" => "top_up_id",
        _ => "body",
    }
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct PageQuery {
    /// Page number, from 1.
    pub page: Option<String>,
    /// Items per page, 1 to 100 (default 20).
    pub per_page: Option<String>,
}

impl PageQuery {
    /// (page, per_page), validated.
    pub fn resolve(&self) -> Result<(u64, u64), ApiError> {
        let page = match &self.page {
            None => 1,
            Some(text) => text.parse::<u64>().ok().filter(|p| (1..=1_000_000).contains(p)).ok_or(ApiError::field("page", "invalid_page"))?,
        };
        let per_page = match &self.per_page {
            None => PER_PAGE_DEFAULT,
            Some(text) => text
                .parse::<u64>()
                .ok()
                .filter(|p| (1..=PER_PAGE_MAX).contains(p))
                .ok_or(ApiError::field("per_page", "invalid_per_page"))?,
        };
        Ok((page, per_page))
    }
}

/// Waits until every projector has applied `X-Min-Position`, if the request names one.
pub async fn wait_for_min_position(request: &HttpRequest, state: &AppState) -> Result<(), ApiError> {
    let Some(value) = request.headers().get(MIN_POSITION_HEADER) else { return Ok(()) };
    let position: u64 = value
        .to_str()
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| ApiError::MalformedRequest("X-Min-Position must be a whole number".into()))?;
    let wait = Duration::from_millis(MIN_POSITION_WAIT_MS);
    let waits = state.projectors.iter().map(|runner| runner.wait_for(position, wait));
    if futures::future::join_all(waits).await.into_iter().all(|reached| reached) {
        Ok(())
    } else {
        Err(ApiError::StaleRead(position))
    }
}
