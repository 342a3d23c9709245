//! `GET /health`: the database, NATS and each projector's position behind the head of the log.
//! 503 when the database is down (answered at once when it is already known down), when the store
//! holds rows past its head, or when a projector claims a position the store does not have.

use actix_web::{HttpResponse, web};
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::json;

use crate::envelope::Reply;
use crate::error::STORE_CORRUPT;
use crate::i18n::Text;
use crate::startup::AppState;

pub const DATABASE_UNAVAILABLE: Text =
    Text::new("database_unavailable", "The database is unreachable; try again shortly.", "قاعدة البيانات غير متاحة؛ حاول بعد قليل.");
pub const PROJECTOR_AHEAD: Text = Text::new(
    "projector_ahead_of_store",
    "A read model claims events the store does not have: rebuild it (ispeaker-replay rebuild).",
    "أحد نماذج القراءة يدّعي أحداثاً غير موجودة في المخزن: أعد بناءه.",
);

#[derive(Debug, Serialize, JsonSchema)]
pub struct HealthView {
    /// "up".
    pub database: String,
    /// "connected", "disconnected" or "not_configured".
    pub nats: String,
    /// This deployment's name on NATS (its stream is `ISPEAKER_<NAME>`).
    pub deployment: String,
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

pub async fn health(state: web::Data<AppState>) -> HttpResponse {
    let nats = match &state.nats {
        None => "not_configured",
        Some(client) => match client.connection_state() {
            async_nats::connection::State::Connected => "connected",
            _ => "disconnected",
        },
    };
    // Positions before the head: a projector applying an append committed after the head was
    // read would look ahead of the store.
    let positions: Vec<(String, u64)> = state.projections.runners().iter().map(|runner| (runner.name().to_owned(), *runner.applied().borrow())).collect();
    let kernel = &state.commands.kernel;
    let head = if kernel.database_up() { kernel.head().await.ok() } else { None };
    let Some(head) = head else {
        return unhealthy(&DATABASE_UNAVAILABLE, json!({ "database": "down", "nats": nats }));
    };
    let projectors: Vec<ProjectorHealth> =
        positions.into_iter().map(|(name, position)| ProjectorHealth { name, position, lag: head.position.saturating_sub(position) }).collect();
    if kernel.has_rows_past_head(head.position).await.unwrap_or(false) {
        return unhealthy(&STORE_CORRUPT, json!({ "head_position": head.position }));
    }
    let ahead: Vec<&str> = projectors.iter().filter(|p| p.position > head.position).map(|p| p.name.as_str()).collect();
    if !ahead.is_empty() {
        return unhealthy(&PROJECTOR_AHEAD, json!({ "head_position": head.position, "projectors": ahead }));
    }
    let deployment = state.deployment.name().to_owned();
    Reply::ok(HealthView { database: "up".into(), nats: nats.into(), deployment, head_position: head.position, projectors }).into_response()
}

fn unhealthy(text: &Text, details: serde_json::Value) -> HttpResponse {
    HttpResponse::ServiceUnavailable().insert_header(("Retry-After", "5")).json(json!({
        "success": false,
        "message": text.current(),
        "error": { "code": text.code, "details": details }
    }))
}
