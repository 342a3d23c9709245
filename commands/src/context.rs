use event_store::EventMetadata;
use uuid::Uuid;

/// Who asked and how to deduplicate: becomes the events' metadata.
#[derive(Clone, Debug, Default)]
pub struct CommandContext {
    pub actor: Option<String>,
    pub correlation_id: Option<Uuid>,
    pub causation_id: Option<Uuid>,
    /// The caller scopes it (per user, per provider event); a repeat returns the first result.
    pub idempotency_key: Option<String>,
    /// What the caller keyed, digested: recorded so a reuse of the key for another request
    /// can be told apart from a retry.
    pub request_fingerprint: Option<String>,
}

impl CommandContext {
    pub fn idempotent(key: impl Into<String>) -> Self {
        Self { idempotency_key: Some(key.into()), ..Self::default() }
    }

    pub fn by(actor: impl Into<String>) -> Self {
        Self { actor: Some(actor.into()), ..Self::default() }
    }

    pub(crate) fn metadata(&self) -> EventMetadata {
        EventMetadata {
            actor: self.actor.clone(),
            correlation_id: self.correlation_id.unwrap_or_else(Uuid::now_v7),
            causation_id: self.causation_id,
            idempotency_key: self.idempotency_key.clone(),
            request_fingerprint: self.request_fingerprint.clone(),
        }
    }
}
