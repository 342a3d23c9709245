//! The gifts context's read models: the catalogue and the gifts sent (`GiftsProjector`).

mod projector;
pub mod queries;

pub use projector::GiftsProjector;

use std::sync::Arc;

use crate::Projector;

pub(crate) fn projectors() -> Vec<Arc<dyn Projector>> {
    vec![Arc::new(GiftsProjector)]
}
