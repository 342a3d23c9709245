//! Stored payloads of the domain's events: each event enum is externally tagged by its event
//! type, and a payload is the inner object. One place for the shape, and for refusing a payload
//! that is not of the current schema version (those are upcast first, see `crate::schema`).

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde::de::value::{MapAccessDeserializer, MapDeserializer};

/// A stored payload could not be turned into a domain event.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("cannot decode event: {message}")]
pub struct DecodeError {
    pub message: String,
}

impl DecodeError {
    pub fn new(message: impl Into<String>) -> DecodeError {
        DecodeError { message: message.into() }
    }
}

/// The version `event_type` has in a table of (event type, current schema version).
pub fn version_in(table: &[(&str, u16)], event_type: &str) -> Option<u16> {
    table.iter().find(|(name, _)| *name == event_type).map(|(_, version)| *version)
}

/// The fields of an externally tagged event, without the tag.
pub fn to_payload<T: Serialize>(event: &T, event_type: &str) -> serde_json::Value {
    // Serializing these plain types into a Value cannot fail.
    match serde_json::to_value(event) {
        Ok(serde_json::Value::Object(mut tagged)) => tagged.remove(event_type).unwrap_or_default(),
        _ => serde_json::Value::Null,
    }
}

/// Decodes a payload of `event_type`, which must be at `current` (its current schema version).
/// Reads the payload in place: no copy of it is made.
pub fn from_payload<T: DeserializeOwned>(
    event_type: &str,
    schema_version: u16,
    current: Option<u16>,
    payload: &serde_json::Value,
) -> Result<T, DecodeError> {
    let current = current.ok_or_else(|| DecodeError::new(format!("unknown event type {event_type:?}")))?;
    if schema_version != current {
        return Err(DecodeError::new(format!(
            "{event_type} has schema version {schema_version}, expected {current}; upcast it first"
        )));
    }
    if !payload.is_object() {
        return Err(DecodeError::new(format!("{event_type} payload is not a JSON object")));
    }
    // The externally tagged form `{ "<EventType>": payload }`, without building it.
    let tagged = MapDeserializer::<_, serde_json::Error>::new(std::iter::once((event_type, payload)));
    T::deserialize(MapAccessDeserializer::new(tagged)).map_err(|error| DecodeError::new(format!("{event_type}: {error}")))
}
