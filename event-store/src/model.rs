//! The shapes that cross the store's boundary: what an append asks for and what a read returns.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A stream is named by its type (`wallet`) and an id unique within that type.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct StreamRef {
    pub stream_type: String,
    pub stream_id: String,
}

impl StreamRef {
    pub fn new(stream_type: impl Into<String>, stream_id: impl Into<String>) -> Self {
        Self { stream_type: stream_type.into(), stream_id: stream_id.into() }
    }
}

impl fmt::Display for StreamRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.stream_type, self.stream_id)
    }
}

/// What the writer of a stream believes its current version to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExpectedVersion {
    /// The stream's last event has exactly this version.
    Exact(u64),
    /// The stream's last event is this one, at this version. For an append decided on top of
    /// another that is not yet committed: should that one fail and someone else's event take
    /// its version, this append fails too instead of resting on an event that never happened.
    Follows { version: u64, event_id: Uuid },
    /// The stream has no event yet.
    NoStream,
    /// No check: used for streams nobody else decides on.
    Any,
}

/// The end of a stream: its version and the id of its last event (unknown when only the
/// version was cached).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct StreamTip {
    pub version: u64,
    pub last_event: Option<Uuid>,
}

impl ExpectedVersion {
    /// `NoStream` for version 0, `Exact(version)` otherwise.
    pub fn from_version(version: u64) -> Self {
        if version == 0 { Self::NoStream } else { Self::Exact(version) }
    }

    pub(crate) fn admits(self, actual: StreamTip) -> bool {
        match self {
            Self::Exact(expected) => expected == actual.version,
            Self::Follows { version, event_id } => version == actual.version && actual.last_event == Some(event_id),
            Self::NoStream => actual.version == 0,
            Self::Any => true,
        }
    }
}

/// Who did it and why: carried by every event of one append.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventMetadata {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    pub correlation_id: Uuid,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub causation_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idempotency_key: Option<String>,
    /// A digest of the request that carried the idempotency key, so a later request with the
    /// same key can be told apart from a retry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_fingerprint: Option<String>,
}

/// An event about to be appended.
#[derive(Clone, Debug, PartialEq)]
pub struct NewEvent {
    pub event_id: Uuid,
    pub event_type: String,
    pub schema_version: u16,
    pub payload: serde_json::Value,
    /// The person whose personal values (`{"$personal": …}`) the payload carries: the store
    /// seals them with that person's data key before they are written.
    pub data_subject: Option<Uuid>,
}

impl NewEvent {
    /// A new event with a fresh UUIDv7 id.
    pub fn new(event_type: impl Into<String>, schema_version: u16, payload: serde_json::Value) -> Self {
        Self { event_id: Uuid::now_v7(), event_type: event_type.into(), schema_version, payload, data_subject: None }
    }

    pub fn with_data_subject(mut self, subject: Option<Uuid>) -> Self {
        self.data_subject = subject;
        self
    }
}

/// The events for one stream inside an append, with the version the caller expects.
#[derive(Clone, Debug)]
pub struct StreamAppend {
    pub stream: StreamRef,
    pub expected: ExpectedVersion,
    pub events: Vec<NewEvent>,
}

/// One atomic append: every stream's events commit together or not at all.
#[derive(Clone, Debug)]
pub struct AppendRequest {
    pub streams: Vec<StreamAppend>,
    /// When set, a repeated key returns the first append's positions and appends nothing.
    pub idempotency_key: Option<String>,
    pub metadata: EventMetadata,
}

impl AppendRequest {
    pub fn single(stream: StreamRef, expected: ExpectedVersion, events: Vec<NewEvent>) -> Self {
        Self {
            streams: vec![StreamAppend { stream, expected, events }],
            idempotency_key: None,
            metadata: EventMetadata { correlation_id: Uuid::now_v7(), ..EventMetadata::default() },
        }
    }

    pub fn with_idempotency_key(mut self, key: impl Into<String>) -> Self {
        let key = key.into();
        self.metadata.idempotency_key = Some(key.clone());
        self.idempotency_key = Some(key);
        self
    }

    pub fn with_metadata(mut self, metadata: EventMetadata) -> Self {
        self.idempotency_key = metadata.idempotency_key.clone();
        self.metadata = metadata;
        self
    }

    pub fn event_count(&self) -> usize {
        self.streams.iter().map(|s| s.events.len()).sum()
    }
}

/// The global positions an append occupies. `replayed` means the idempotency key was seen
/// before and these are the first append's positions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AppendOutcome {
    pub first_position: u64,
    pub last_position: u64,
    pub replayed: bool,
}

/// An event exactly as stored: the payload text is what the hash covers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredEvent {
    pub position: u64,
    pub event_id: Uuid,
    pub stream: StreamRef,
    pub stream_version: u64,
    pub event_type: String,
    pub schema_version: u16,
    pub payload: String,
    pub metadata: String,
    pub recorded_at: DateTime<Utc>,
    #[serde(with = "hex_hash")]
    pub hash: [u8; 32],
}

/// An event as readers see it: payload decoded and upcast to the current schema version.
#[derive(Clone, Debug, PartialEq)]
pub struct RecordedEvent {
    pub position: u64,
    pub event_id: Uuid,
    pub stream: StreamRef,
    pub stream_version: u64,
    pub event_type: String,
    /// The schema version after upcasting, i.e. the current one.
    pub schema_version: u16,
    /// The version it was stored with.
    pub stored_schema_version: u16,
    pub payload: serde_json::Value,
    pub metadata: EventMetadata,
    pub recorded_at: DateTime<Utc>,
    pub hash: [u8; 32],
}

mod hex_hash {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub fn serialize<S: Serializer>(hash: &[u8; 32], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&hex::encode(hash))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<[u8; 32], D::Error> {
        let text = String::deserialize(deserializer)?;
        let bytes = hex::decode(text).map_err(D::Error::custom)?;
        bytes.try_into().map_err(|_| D::Error::custom("hash must be 32 bytes"))
    }
}
