//! Aggregates and their rejections. An aggregate decides in one place and applies in another:
//! `handle` holds every business rule and answers with events or a rejection; `apply` folds an
//! event that already happened and cannot fail.

use crate::kernel::event::DomainEvent;

pub trait Aggregate: Default + Clone + std::fmt::Debug + Send + Sync + 'static {
    type Command: Clone + std::fmt::Debug + Send + Sync + 'static;
    type Event: DomainEvent;
    type Rejection: Rejection;

    /// Decides what a command does. Holds every rule; changes nothing.
    fn handle(&self, command: Self::Command) -> Result<Vec<Self::Event>, Self::Rejection>;

    /// Folds one event into state. No rules and no failure: the event already happened.
    fn apply(&mut self, event: &Self::Event);

    /// The state after `events`, from nothing.
    fn replay<'a>(events: impl IntoIterator<Item = &'a Self::Event>) -> Self {
        let mut state = Self::default();
        for event in events {
            state.apply(event);
        }
        state
    }
}

/// What kind of "no" a rejection is: the API maps each kind to one status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RejectionKind {
    /// The input breaks a rule of its own (422, with the field it concerns).
    Invalid,
    /// The thing the command is about does not exist (404, which clients see as `not_found`
    /// whatever the code: what the caller may not see is answered the same way).
    NotFound,
    /// The state does not allow it (409).
    Conflict,
    /// The actor may not do it (403).
    Forbidden,
}

/// A business rejection: a stable snake_case code for clients and logs, and its kind.
pub trait Rejection: std::error::Error + Clone + Send + Sync + 'static {
    fn code(&self) -> &'static str;
    fn kind(&self) -> RejectionKind;
    /// For an `Invalid` rejection: the input field it concerns.
    fn field(&self) -> Option<&'static str> {
        None
    }

    fn rejected(&self) -> Rejected {
        Rejected { code: self.code(), kind: self.kind(), field: self.field(), reason: self.to_string() }
    }
}

/// Any context's rejection, as the layers above see it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {reason}")]
pub struct Rejected {
    pub code: &'static str,
    pub kind: RejectionKind,
    pub field: Option<&'static str>,
    /// The rejection in words, for logs.
    pub reason: String,
}

impl Rejected {
    /// Whether this is that rejection (by code).
    pub fn is(&self, rejection: &impl Rejection) -> bool {
        self.code == rejection.code()
    }
}

impl<R: Rejection> From<R> for Rejected {
    fn from(rejection: R) -> Rejected {
        rejection.rejected()
    }
}

/// Every rejection of an enum, one per variant, for the checks that every code has messages.
pub fn every<R: Rejection + strum::IntoEnumIterator>() -> Vec<Rejected> {
    R::iter().map(|rejection| rejection.rejected()).collect()
}
