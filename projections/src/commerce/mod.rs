//! The commerce context's read models: carts, libraries (enrollments and bought books), orders
//! and the sales figures speakers read; `queries` reads them.

mod projector;
pub mod queries;

pub use projector::CommerceProjector;

use std::sync::Arc;

use crate::Projector;

pub(crate) fn projectors() -> Vec<Arc<dyn Projector>> {
    vec![Arc::new(CommerceProjector)]
}
