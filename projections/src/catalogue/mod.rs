//! The catalogue context's read models: categories, courses and books as everyone reads them;
//! `queries` reads them, searching with the same normalisation the projector stores.

mod projector;
pub mod queries;

pub use projector::CatalogueProjector;

use std::sync::Arc;

use crate::Projector;

pub(crate) fn projectors() -> Vec<Arc<dyn Projector>> {
    vec![Arc::new(CatalogueProjector)]
}
