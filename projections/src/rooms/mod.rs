//! The rooms context's read models: live rooms with their registrations (`RoomsProjector`), and
//! consultations — availabilities, bookings with their ratings, speakers' time zones
//! (`ConsultationsProjector`); `queries` reads them and computes open slots.

mod projector;
pub mod queries;

pub use projector::{ConsultationsProjector, RoomsProjector};

use std::sync::Arc;

use crate::Projector;

pub(crate) fn projectors() -> Vec<Arc<dyn Projector>> {
    vec![Arc::new(RoomsProjector), Arc::new(ConsultationsProjector)]
}
