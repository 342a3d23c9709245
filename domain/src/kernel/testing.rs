//! The given/when/then harness every context's domain tests share:
//! `given(events).when(command).then(events)` or `.then_rejected(rejection)`.
//!
//! Every event it sees, given or produced, also goes through the context's event table: it must
//! encode, and decode back to itself. So a variant missing from the table, or a payload that does
//! not survive storage, fails the test that first produces it.

use crate::kernel::aggregate::Aggregate;
use crate::kernel::event::DomainEvent;

pub struct Given<A: Aggregate> {
    state: A,
}

pub struct When<A: Aggregate> {
    state: A,
    result: Result<Vec<A::Event>, A::Rejection>,
}

/// The aggregate after `events`.
pub fn given<A: Aggregate>(events: impl IntoIterator<Item = A::Event>) -> Given<A>
where
    A::Event: PartialEq,
{
    let mut state = A::default();
    for event in events {
        assert_round_trip(&event);
        state.apply(&event);
    }
    Given { state }
}

impl<A: Aggregate> Given<A> {
    pub fn when(self, command: A::Command) -> When<A> {
        let result = self.state.handle(command);
        When { state: self.state, result }
    }

    pub fn state(&self) -> &A {
        &self.state
    }
}

impl<A: Aggregate> When<A>
where
    A::Event: PartialEq,
    A::Rejection: PartialEq + std::fmt::Debug,
{
    /// Asserts the events and returns the state after applying them.
    #[track_caller]
    pub fn then(self, expected: Vec<A::Event>) -> A {
        let events = match self.result {
            Ok(events) => events,
            Err(rejection) => panic!("expected {expected:?}, the command was rejected: {rejection:?}"),
        };
        assert_eq!(events, expected);
        let mut state = self.state;
        for event in &events {
            assert_round_trip(event);
            state.apply(event);
        }
        state
    }

    /// Asserts that the command succeeded, and returns its events and the state after them.
    #[track_caller]
    pub fn then_ok(self) -> (Vec<A::Event>, A) {
        let events = match self.result {
            Ok(events) => events,
            Err(rejection) => panic!("the command was rejected: {rejection:?}"),
        };
        let mut state = self.state;
        for event in &events {
            assert_round_trip(event);
            state.apply(event);
        }
        (events, state)
    }

    #[track_caller]
    pub fn then_rejected(self, expected: A::Rejection) {
        match self.result {
            Ok(events) => panic!("expected {expected:?}, the command answered {events:?}"),
            Err(rejection) => assert_eq!(rejection, expected),
        }
    }

    /// The command changed nothing (a repeat the aggregate recognises).
    #[track_caller]
    pub fn then_nothing(self) -> A {
        self.then(Vec::new())
    }
}

/// An event encodes through its table and decodes back to itself.
#[track_caller]
pub fn assert_round_trip<E: DomainEvent + PartialEq>(event: &E) {
    let encoded = event.encode().unwrap_or_else(|error| panic!("{event:?} does not encode: {error}"));
    let decoded = E::decode(encoded.event_type, encoded.schema_version, &encoded.payload)
        .unwrap_or_else(|error| panic!("{event:?} does not decode: {error}"));
    assert_eq!(&decoded, event, "{} does not survive storage", encoded.event_type);
}
