//! `Idempotency-Key` for money-moving POSTs. The first response is kept (durably, in
//! `api_idempotency_keys`, for at least 24 hours) and served again for the same key and body with
//! `Idempotent-Replayed: true`; the same key with another body is refused with 422. Keys are scoped
//! to the user. This table is the HTTP layer's memory of its answers, not business state: the
//! command itself is also deduplicated by the event store, in the same transaction as its events,
//! so even a response lost here never doubles a payment.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use commands::CommandContext;
use serde_json::Value;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::envelope::Reply;
use crate::error::ApiError;
use crate::startup::AppState;

pub const IDEMPOTENCY_KEY_HEADER: &str = "Idempotency-Key";
pub const REPLAYED_HEADER: &str = "Idempotent-Replayed";
const KEY_LEN_MAX: usize = 255;

/// A request that holds its key until it records its answer.
pub struct Claimed {
    user_id: Uuid,
    key: String,
}

impl Claimed {
    /// The key scoped for the event store, so the command is deduplicated there too.
    fn command_key(&self, operation: &str) -> String {
        format!("http:{}:{operation}:{}", self.user_id, self.key)
    }
}

enum Idempotency {
    /// First time: run the command, then `finish`.
    Claimed(Claimed),
    /// Seen before with the same body: answer this.
    Replay(HttpResponse),
}

/// The header, validated: 400 when missing or malformed.
pub fn key(request: &HttpRequest) -> Result<String, ApiError> {
    let value = request.headers().get(IDEMPOTENCY_KEY_HEADER).ok_or(ApiError::MissingIdempotencyKey)?;
    let key = value.to_str().map_err(|_| ApiError::InvalidIdempotencyKey)?;
    if key.is_empty() || key.len() > KEY_LEN_MAX {
        return Err(ApiError::InvalidIdempotencyKey);
    }
    Ok(key.to_owned())
}

async fn begin(state: &AppState, request: &HttpRequest, user_id: Uuid, body: &[u8]) -> Result<Idempotency, ApiError> {
    let key = key(request)?;
    let fingerprint: [u8; 32] = Sha256::new().chain_update(request.path().as_bytes()).chain_update(body).finalize().into();
    let inserted = sqlx::query(
        "INSERT IGNORE INTO api_idempotency_keys (user_id, idempotency_key, fingerprint, created_at) VALUES (?, ?, ?, UTC_TIMESTAMP(6))",
    )
    .bind(user_id)
    .bind(&key)
    .bind(&fingerprint[..])
    .execute(&state.pool)
    .await?
    .rows_affected();
    if inserted == 1 {
        return Ok(Idempotency::Claimed(Claimed { user_id, key }));
    }
    let (stored, status, response): (Vec<u8>, Option<u16>, Option<String>) = sqlx::query_as(
        "SELECT fingerprint, status, response FROM api_idempotency_keys WHERE user_id = ? AND idempotency_key = ?",
    )
    .bind(user_id)
    .bind(&key)
    .fetch_one(&state.pool)
    .await?;
    if stored != fingerprint {
        return Err(ApiError::IdempotencyKeyReused);
    }
    match (status, response) {
        (Some(status), Some(response)) => {
            let body: Value = serde_json::from_str(&response).map_err(ApiError::internal)?;
            let status = StatusCode::from_u16(status).map_err(ApiError::internal)?;
            Ok(Idempotency::Replay(HttpResponse::build(status).insert_header((REPLAYED_HEADER, "true")).json(body)))
        }
        _ => Err(ApiError::Conflict("idempotency_in_progress")),
    }
}

/// Runs a money-moving command under the request's `Idempotency-Key`: replays a stored answer,
/// or runs `work` with a command context carrying the key (so the event store deduplicates too)
/// and stores its answer.
pub async fn run<Work, Answer>(
    state: &AppState,
    request: &HttpRequest,
    user_id: Uuid,
    body: &[u8],
    operation: &str,
    work: Work,
) -> Result<HttpResponse, ApiError>
where
    Work: FnOnce(CommandContext) -> Answer,
    Answer: Future<Output = Result<Reply, ApiError>>,
{
    let claimed = match begin(state, request, user_id, body).await? {
        Idempotency::Replay(response) => return Ok(response),
        Idempotency::Claimed(claimed) => claimed,
    };
    let context = CommandContext {
        actor: Some(user_id.to_string()),
        idempotency_key: Some(claimed.command_key(operation)),
        ..Default::default()
    };
    let answer = work(context).await;
    finish(state, claimed, answer).await
}

/// Records the answer for later replays, and returns it.
async fn finish(state: &AppState, claimed: Claimed, result: Result<Reply, ApiError>) -> Result<HttpResponse, ApiError> {
    match result {
        Ok(reply) => {
            let body = reply.body();
            sqlx::query("UPDATE api_idempotency_keys SET status = ?, response = ? WHERE user_id = ? AND idempotency_key = ?")
                .bind(reply.status().as_u16())
                .bind(body.to_string())
                .bind(claimed.user_id)
                .bind(&claimed.key)
                .execute(&state.pool)
                .await?;
            Ok(HttpResponse::build(reply.status()).json(body))
        }
        Err(error) => {
            // A refusal changed nothing: free the key so a corrected retry may use it.
            sqlx::query("DELETE FROM api_idempotency_keys WHERE user_id = ? AND idempotency_key = ? AND status IS NULL")
                .bind(claimed.user_id)
                .bind(&claimed.key)
                .execute(&state.pool)
                .await?;
            Err(error)
        }
    }
}
