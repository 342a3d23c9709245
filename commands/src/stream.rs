//! Aggregates in their streams: a typed stream name, the state read from it with the version the
//! next append must expect, and the one place events are encoded for the store and decoded back.

use std::marker::PhantomData;

use domain::kernel::{Aggregate, DomainEvent};
use event_store::{EventStore, ExpectedVersion, NewEvent, RecordedEvent, StreamRef};

use crate::CommandError;

/// The stream of one aggregate of type `A`.
pub struct Stream<A> {
    stream: StreamRef,
    aggregate: PhantomData<fn() -> A>,
}

impl<A> Stream<A> {
    pub fn new(stream_type: &str, stream_id: impl Into<String>) -> Self {
        Self { stream: StreamRef::new(stream_type, stream_id), aggregate: PhantomData }
    }

    pub fn stream_ref(&self) -> &StreamRef {
        &self.stream
    }
}

impl<A> Clone for Stream<A> {
    fn clone(&self) -> Self {
        Self { stream: self.stream.clone(), aggregate: PhantomData }
    }
}

impl<A> std::fmt::Debug for Stream<A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.stream)
    }
}

/// An aggregate as its stream has it: the state, and how many events it was folded from.
#[derive(Clone, Debug, PartialEq)]
pub struct Loaded<A> {
    pub state: A,
    pub version: u64,
}

impl<A: Aggregate> Loaded<A> {
    /// A stream with no event yet.
    pub fn empty() -> Self {
        Self { state: A::default(), version: 0 }
    }

    /// What an append deciding on this state must expect.
    pub fn expected(&self) -> ExpectedVersion {
        ExpectedVersion::from_version(self.version)
    }

    pub fn apply(&mut self, events: &[A::Event]) {
        for event in events {
            self.state.apply(event);
            self.version += 1;
        }
    }
}

/// Replays a stream. Versions must run 1, 2, 3, … with no gap: anything else is a broken store.
pub async fn load<A: Aggregate>(store: &EventStore, stream: &Stream<A>) -> Result<Loaded<A>, CommandError> {
    let recorded = store.read_stream(stream.stream_ref(), 0).await?;
    let mut loaded = Loaded::empty();
    for event in &recorded {
        let decoded = decode::<A::Event>(event)?;
        loaded.apply(std::slice::from_ref(&decoded));
        if loaded.version != event.stream_version {
            return Err(CommandError::Corrupt(format!("{stream:?} skips to version {}", event.stream_version)));
        }
    }
    Ok(loaded)
}

/// A recorded event as its domain type.
pub fn decode<E: DomainEvent>(event: &RecordedEvent) -> Result<E, CommandError> {
    E::decode(&event.event_type, event.schema_version, &event.payload)
        .map_err(|error| CommandError::Corrupt(format!("position {}: {error}", event.position)))
}

/// Domain events as the store takes them: type and version from the context's table, personal
/// values marked for sealing with their subject's key.
pub fn encode<E: DomainEvent>(events: &[E]) -> Result<Vec<NewEvent>, CommandError> {
    events
        .iter()
        .map(|event| {
            let encoded = event.encode().map_err(|error| CommandError::Internal(error.to_string()))?;
            Ok(NewEvent::new(encoded.event_type, encoded.schema_version, encoded.payload).with_data_subject(encoded.data_subject))
        })
        .collect()
}
