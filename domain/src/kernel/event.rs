//! Events as they cross the storage boundary. Each context declares one table of its event types
//! with the schema version new events are written with; the variant names of its event enums are
//! those types. Encoding and decoding go through that table, so an event type lives in one place.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde::de::value::{MapAccessDeserializer, MapDeserializer};
use serde_json::Value;
use uuid::Uuid;

/// One row of a context's event table: a stored event type and its current schema version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct EventType {
    pub name: &'static str,
    pub version: u16,
}

impl EventType {
    pub const fn new(name: &'static str, version: u16) -> EventType {
        EventType { name, version }
    }
}

/// A stored payload could not be turned into a domain event, or an event into a payload.
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

/// An event ready to store: its type and schema version from the table, and its fields.
#[derive(Clone, Debug, PartialEq)]
pub struct Encoded {
    pub event_type: &'static str,
    pub schema_version: u16,
    pub payload: Value,
    /// Whose personal data the payload carries (its `Personal` fields), sealed with their key.
    pub data_subject: Option<Uuid>,
}

/// An event enum of a context: externally tagged by variant name, each variant a struct whose
/// fields are the stored payload. Renaming a field needs a new schema version and an upcaster.
pub trait DomainEvent: Serialize + DeserializeOwned + Clone + std::fmt::Debug + Send + Sync + 'static {
    /// Every variant's event type with its current schema version.
    const TYPES: &'static [EventType];

    /// The user whose personal data this event carries, if it carries any.
    fn data_subject(&self) -> Option<Uuid> {
        None
    }

    /// The event's type, version and payload. Fails only for a variant missing from `TYPES`,
    /// which is a bug the domain tests catch (every event they produce is encoded).
    fn encode(&self) -> Result<Encoded, DecodeError> {
        let tagged = serde_json::to_value(self).map_err(|error| DecodeError::new(error.to_string()))?;
        let Value::Object(tagged) = tagged else {
            return Err(DecodeError::new("an event must serialize as an externally tagged struct variant"));
        };
        let Some((name, payload)) = tagged.into_iter().next() else {
            return Err(DecodeError::new("an event serialized as an empty object"));
        };
        let event_type = Self::TYPES
            .iter()
            .find(|declared| declared.name == name)
            .ok_or_else(|| DecodeError::new(format!("{name} is missing from its context's event table")))?;
        Ok(Encoded {
            event_type: event_type.name,
            schema_version: event_type.version,
            payload,
            data_subject: self.data_subject(),
        })
    }

    /// Decodes a payload of `event_type`, which must already be at its current schema version
    /// (readers upcast first). Reads the payload in place: no copy of it is made.
    fn decode(event_type: &str, schema_version: u16, payload: &Value) -> Result<Self, DecodeError> {
        let declared = Self::TYPES
            .iter()
            .find(|declared| declared.name == event_type)
            .ok_or_else(|| DecodeError::new(format!("unknown event type {event_type:?}")))?;
        if schema_version != declared.version {
            return Err(DecodeError::new(format!(
                "{event_type} has schema version {schema_version}, expected {}; upcast it first",
                declared.version
            )));
        }
        if !payload.is_object() {
            return Err(DecodeError::new(format!("{event_type} payload is not a JSON object")));
        }
        // The externally tagged form `{ "<EventType>": payload }`, without building it.
        let tagged = MapDeserializer::<_, serde_json::Error>::new(std::iter::once((event_type, payload)));
        Self::deserialize(MapAccessDeserializer::new(tagged)).map_err(|error| DecodeError::new(format!("{event_type}: {error}")))
    }

    /// Whether this enum has an event of this type.
    fn declares(event_type: &str) -> bool {
        Self::TYPES.iter().any(|declared| declared.name == event_type)
    }
}

/// Rewrites a payload of `from_version` into `from_version + 1`, or explains why it cannot.
pub type UpcastFn = fn(Value) -> Result<Value, String>;

/// One step of one event type's schema history. Stored events are never rewritten: every reader
/// upcasts old payloads step by step until they reach the version in the table.
#[derive(Clone, Copy)]
pub struct Upcast {
    pub event_type: &'static str,
    pub from_version: u16,
    pub upcast: UpcastFn,
}

/// What a context contributes to the kernel's registries: its event tables and upcasters.
pub struct ContextEvents {
    pub name: &'static str,
    pub tables: &'static [&'static [EventType]],
    pub upcasts: &'static [Upcast],
    /// Every rejection the context's aggregates can answer, for the message checks.
    pub rejections: fn() -> Vec<crate::kernel::Rejected>,
}

impl ContextEvents {
    pub fn event_types(&self) -> impl Iterator<Item = &'static EventType> + '_ {
        self.tables.iter().flat_map(|table| table.iter())
    }
}

/// Applies `upcasts` until the payload reaches `current`. Used by the domain's own tests and
/// by the store, which registers the same steps.
pub fn upcast_to(upcasts: &[Upcast], event_type: &str, mut version: u16, current: u16, mut payload: Value) -> Result<(u16, Value), String> {
    if version > current {
        return Err(format!("{event_type} schema version {version} is newer than {current}"));
    }
    while version < current {
        let step = upcasts
            .iter()
            .find(|upcast| upcast.event_type == event_type && upcast.from_version == version)
            .ok_or_else(|| format!("no upcaster for {event_type} from schema version {version}"))?;
        payload = (step.upcast)(payload)?;
        version += 1;
    }
    Ok((version, payload))
}

/// A field of an object payload, for upcasters.
pub fn field<T: DeserializeOwned>(fields: &serde_json::Map<String, Value>, name: &str) -> Result<T, String> {
    let value = fields.get(name).ok_or_else(|| format!("missing field {name}"))?;
    serde_json::from_value(value.clone()).map_err(|error| format!("field {name}: {error}"))
}
