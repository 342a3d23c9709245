//! The tamper-evident chain: each event's hash covers its content and the previous hash.

use sha2::{Digest, Sha256};

use crate::StoredEvent;

/// The hash before the first event.
pub const GENESIS_HASH: [u8; 32] = [0; 32];

/// Every field is length-prefixed so that no two different events hash the same bytes.
pub fn chain_hash(previous: &[u8; 32], event: &StoredEvent) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(previous);
    hasher.update(event.position.to_be_bytes());
    hasher.update(event.event_id.as_bytes());
    field(&mut hasher, event.stream.stream_type.as_bytes());
    field(&mut hasher, event.stream.stream_id.as_bytes());
    hasher.update(event.stream_version.to_be_bytes());
    field(&mut hasher, event.event_type.as_bytes());
    hasher.update(event.schema_version.to_be_bytes());
    field(&mut hasher, event.payload.as_bytes());
    field(&mut hasher, event.metadata.as_bytes());
    hasher.update(event.recorded_at.timestamp_micros().to_be_bytes());
    hasher.finalize().into()
}

fn field(hasher: &mut Sha256, bytes: &[u8]) {
    hasher.update((bytes.len() as u64).to_be_bytes());
    hasher.update(bytes);
}
