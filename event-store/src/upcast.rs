//! Schema evolution on read: every read path turns an old payload into the current shape.

use std::collections::HashMap;

use crate::{EventStoreError, RecordedEvent, StoredEvent};

/// One step from `from_version` to `from_version + 1`.
pub type UpcastFn = fn(serde_json::Value) -> Result<serde_json::Value, String>;

/// Steps are kept per event type and applied one after another until none is left.
#[derive(Clone, Default)]
pub struct Upcasters {
    steps: HashMap<(String, u16), UpcastFn>,
}

/// More steps than this for one event means a cycle, not a history.
const UPCAST_STEPS_MAX: usize = 64;

impl Upcasters {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn register(&mut self, event_type: &str, from_version: u16, step: UpcastFn) -> &mut Self {
        self.steps.insert((event_type.to_owned(), from_version), step);
        self
    }

    pub fn upcast(
        &self,
        event_type: &str,
        schema_version: u16,
        mut payload: serde_json::Value,
    ) -> Result<(u16, serde_json::Value), EventStoreError> {
        for version in (schema_version..).take(UPCAST_STEPS_MAX) {
            let Some(step) = self.steps.get(&(event_type.to_owned(), version)) else {
                return Ok((version, payload));
            };
            payload = step(payload).map_err(|reason| EventStoreError::Upcast {
                event_type: event_type.to_owned(),
                schema_version: version,
                reason,
            })?;
        }
        Err(EventStoreError::Upcast {
            event_type: event_type.to_owned(),
            schema_version,
            reason: "too many upcast steps".to_owned(),
        })
    }

    /// Decodes a stored event for readers; a payload that is not JSON is corruption.
    pub fn decode(&self, stored: StoredEvent) -> Result<RecordedEvent, EventStoreError> {
        let corrupt = |reason: String| EventStoreError::Corrupt { position: stored.position, reason };
        let payload: serde_json::Value =
            serde_json::from_str(&stored.payload).map_err(|e| corrupt(format!("payload: {e}")))?;
        let metadata =
            serde_json::from_str(&stored.metadata).map_err(|e| corrupt(format!("metadata: {e}")))?;
        let (schema_version, payload) = self.upcast(&stored.event_type, stored.schema_version, payload)?;
        Ok(RecordedEvent {
            position: stored.position,
            event_id: stored.event_id,
            stream: stored.stream,
            stream_version: stored.stream_version,
            event_type: stored.event_type,
            schema_version,
            stored_schema_version: stored.schema_version,
            payload,
            metadata,
            recorded_at: stored.recorded_at,
            hash: stored.hash,
        })
    }
}
