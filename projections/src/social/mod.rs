//! The social context's read models: profiles with their counts, follows and requests, posts,
//! reactions, comments and reports (`SocialProjector`); `queries` reads them through the one
//! visibility predicate.

mod projector;
pub mod queries;

pub use projector::SocialProjector;

use std::sync::Arc;

use crate::Projector;

pub(crate) fn projectors() -> Vec<Arc<dyn Projector>> {
    vec![Arc::new(SocialProjector)]
}
