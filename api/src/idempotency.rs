//! `Idempotency-Key` for money-moving POSTs, kept by the event store itself. The key, scoped to
//! the user, goes with the command's append and is stored in the same transaction as its events;
//! a digest of the request (path and body) goes in their metadata. A repeat finds the first
//! append and answers from its events, with `Idempotent-Replayed: true`; the same key with
//! another request is refused with 422. So an answer can never disagree with what happened,
//! nothing else is written per request, and keys are kept as long as the events.

use actix_web::{HttpRequest, HttpResponse};
use commands::{CommandContext, Outcome, Transacted};
use event_store::RecordedEvent;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::envelope::Reply;
use crate::error::ApiError;
use crate::startup::AppState;

pub const IDEMPOTENCY_KEY_HEADER: &str = "Idempotency-Key";
pub const REPLAYED_HEADER: &str = "Idempotent-Replayed";
const KEY_LEN_MAX: usize = 255;

/// What a keyed command did.
pub enum Keyed {
    /// It ran now: this is the answer.
    Done(Reply),
    /// The store had seen the key: the first command's events answer.
    Replayed,
}

impl Keyed {
    /// `answer` (with `meta.position`) for a unit of work that ran now, else the replay.
    pub fn of<T>(transacted: Transacted<T>, answer: impl FnOnce(T) -> Result<Reply, ApiError>) -> Result<Self, ApiError> {
        Ok(match transacted {
            Transacted::Done { value, position, .. } => Self::Done(answer(value)?.position(position)),
            Transacted::Replayed { .. } => Self::Replayed,
        })
    }

    /// `answer` (with `meta.position`) for a worker's command that ran now, else the replay.
    pub fn of_outcome<E>(outcome: &Outcome<E>, answer: impl FnOnce() -> Result<Reply, ApiError>) -> Result<Self, ApiError> {
        Ok(if outcome.replayed { Self::Replayed } else { Self::Done(answer()?.position(outcome.position)) })
    }
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

/// Runs a money-moving command under the request's `Idempotency-Key`: `work` gets a command
/// context carrying the key; when the store reports the key seen before, `replay` rebuilds the
/// first answer from the first command's events.
pub async fn run<Work, Answer, Replay>(
    state: &AppState,
    request: &HttpRequest,
    user_id: Uuid,
    body: &[u8],
    work: Work,
    replay: Replay,
) -> Result<HttpResponse, ApiError>
where
    Work: FnOnce(CommandContext) -> Answer,
    Answer: Future<Output = Result<Keyed, ApiError>>,
    Replay: FnOnce(&[RecordedEvent]) -> Result<Reply, ApiError>,
{
    let store_key = format!("http:{user_id}:{}", key(request)?);
    let fingerprint = hex::encode(Sha256::new().chain_update(request.path()).chain_update(b"\n").chain_update(body).finalize());
    let context = CommandContext {
        actor: Some(user_id.to_string()),
        idempotency_key: Some(store_key.clone()),
        request_fingerprint: Some(fingerprint.clone()),
        ..Default::default()
    };
    let refused = match work(context).await {
        Ok(Keyed::Done(reply)) => return Ok(reply.into_response()),
        Ok(Keyed::Replayed) => None,
        // Refused now, but the key may have been used by a request that was not.
        Err(error) => Some(error),
    };
    let (first, events) = match (state.commands.kernel.first_append(&store_key).await?, refused) {
        (Some(first), _) => first,
        (None, Some(error)) => return Err(error),
        (None, None) => return Err(ApiError::internal("a replayed key the store does not hold")),
    };
    let recorded_fingerprint = events.first().and_then(|event| event.metadata.request_fingerprint.as_deref());
    if recorded_fingerprint != Some(fingerprint.as_str()) {
        return Err(ApiError::IdempotencyKeyReused);
    }
    let reply = replay(&events)?.position(Some(first.last_position));
    Ok(HttpResponse::build(reply.status()).insert_header((REPLAYED_HEADER, "true")).json(reply.body()))
}

/// The value and position of a command without an idempotency key, which therefore appended now
/// or not at all (a replay cannot happen).
pub fn appended<T>(transacted: Transacted<T>) -> Result<(T, u64), ApiError> {
    match transacted {
        Transacted::Done { value, position: Some(position), .. } => Ok((value, position)),
        Transacted::Done { .. } => Err(ApiError::internal("a command appended nothing")),
        Transacted::Replayed { .. } => Err(ApiError::internal("a command replayed without a key")),
    }
}

/// The value and position of a set-like command without an idempotency key: its append's
/// position, or the store's head when it changed nothing (the state asked for already held).
pub async fn settled<T>(state: &AppState, transacted: Transacted<T>) -> Result<(T, u64), ApiError> {
    match transacted {
        Transacted::Done { value, position: Some(position), .. } => Ok((value, position)),
        Transacted::Done { value, position: None, .. } => Ok((value, state.commands.kernel.head().await?.position)),
        Transacted::Replayed { .. } => Err(ApiError::internal("a command replayed without a key")),
    }
}

/// The event of this kind in a command's first append, to answer its repeat.
pub fn first_event<E: domain::kernel::DomainEvent>(events: &[RecordedEvent], kind: fn(&E) -> bool) -> Result<E, ApiError> {
    events
        .iter()
        .find_map(|event| commands::stream::decode::<E>(event).ok().filter(kind))
        .ok_or_else(|| ApiError::internal("a first append without its event"))
}
