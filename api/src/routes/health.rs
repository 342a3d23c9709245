use actix_web::{HttpResponse, web};
use serde_json::json;

use crate::startup::AppState;

/// The database, NATS and each projector's lag behind the head of the log. 503 when the database
/// cannot be reached.
pub async fn health(state: web::Data<AppState>) -> HttpResponse {
    let head = state.store.head().await;
    let nats = match &state.nats {
        None => "not_configured",
        Some(client) => match client.connection_state() {
            async_nats::connection::State::Connected => "connected",
            _ => "disconnected",
        },
    };
    let Ok(head) = head else {
        return HttpResponse::ServiceUnavailable().insert_header(("Retry-After", "5")).json(json!({
            "success": false,
            "message": "The database is unreachable",
            "error": { "code": "database_unavailable", "details": { "database": "down", "nats": nats } }
        }));
    };
    let projectors: Vec<_> = state
        .projectors
        .iter()
        .map(|runner| {
            let applied = *runner.applied().borrow();
            json!({ "name": runner.name(), "position": applied, "lag": head.position.saturating_sub(applied) })
        })
        .collect();
    HttpResponse::Ok().json(json!({
        "success": true,
        "message": "OK",
        "data": { "database": "up", "nats": nats, "head_position": head.position, "projectors": projectors }
    }))
}
