//! The rooms context's read models: live rooms with their registrations (`RoomsProjector`), and
//! consultations — availabilities, bookings with their ratings, speakers' time zones
//! (`ConsultationsProjector`), the chats of live rooms (`RoomChatProjector`); `queries` reads them and computes open slots.

pub mod chat;
mod projector;
pub mod queries;

pub use projector::{ConsultationsProjector, RoomChatProjector, RoomsProjector};

use std::sync::Arc;

use crate::Projector;

pub(crate) fn projectors() -> Vec<Arc<dyn Projector>> {
    vec![Arc::new(RoomsProjector), Arc::new(ConsultationsProjector), Arc::new(RoomChatProjector)]
}
