//! The notifications read model (`NotificationsProjector`): what each user was told, and what
//! they marked read.

mod projector;
pub mod queries;

pub use projector::NotificationsProjector;

use std::sync::Arc;

use crate::Projector;

pub(crate) fn projectors() -> Vec<Arc<dyn Projector>> {
    vec![Arc::new(NotificationsProjector)]
}
