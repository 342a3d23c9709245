//! The kernel every context builds on: aggregates that decide and apply, rejections with a code
//! and a kind, event enums declared in one table per context with their upcasters, personal data
//! that can be erased, text values valid by construction, and the given/when/then harness their tests share.

mod aggregate;
mod event;
mod personal;
pub mod riyadh;
pub mod testing;
mod text;

pub use aggregate::{Aggregate, Rejected, Rejection, RejectionKind, every};
pub use event::{ContextEvents, DecodeError, DomainEvent, Encoded, EventType, Upcast, UpcastFn, field, upcast_to};
pub use personal::{DELETED_USER_NAME, ERASED_MARKER, PERSONAL_MARKER, PLAIN_MARKER, Personal, plain_personal};
