use actix_web::{HttpResponse, web};
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::json;

use crate::envelope::Reply;
use crate::i18n::message;
use crate::startup::AppState;

#[derive(Debug, Serialize, JsonSchema)]
pub struct HealthView {
    /// "up".
    pub database: String,
    /// "connected", "disconnected" or "not_configured".
    pub nats: String,
    pub head_position: u64,
    pub projectors: Vec<ProjectorHealth>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ProjectorHealth {
    pub name: String,
    /// The last global position its read model includes.
    pub position: u64,
    /// Events it is behind the head of the log.
    pub lag: u64,
}

/// The database, NATS and each projector's lag behind the head of the log. 503 when the database
/// cannot be reached.
pub async fn health(state: web::Data<AppState>) -> HttpResponse {
    let nats = match &state.nats {
        None => "not_configured",
        Some(client) => match client.connection_state() {
            async_nats::connection::State::Connected => "connected",
            _ => "disconnected",
        },
    };
    let Ok(head) = state.store.head().await else {
        return HttpResponse::ServiceUnavailable().insert_header(("Retry-After", "5")).json(json!({
            "success": false,
            "message": message("database_unavailable"),
            "error": { "code": "database_unavailable", "details": { "database": "down", "nats": nats } }
        }));
    };
    let projectors = state
        .projectors
        .iter()
        .map(|runner| {
            let position = *runner.applied().borrow();
            ProjectorHealth { name: runner.name().to_owned(), position, lag: head.position.saturating_sub(position) }
        })
        .collect();
    Reply::ok(HealthView { database: "up".into(), nats: nats.into(), head_position: head.position, projectors }).into_response()
}
