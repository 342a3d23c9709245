//! The chat context's read models: conversations, each participant's inbox row with its unread
//! count, and the messages (`ChatProjector`).

mod projector;
pub mod queries;

pub use projector::ChatProjector;

use std::sync::Arc;

use crate::Projector;

pub(crate) fn projectors() -> Vec<Arc<dyn Projector>> {
    vec![Arc::new(ChatProjector)]
}
