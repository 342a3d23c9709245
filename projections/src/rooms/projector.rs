//! Rooms and consultations read models, each projector writing only its own tables.

use domain::kernel::{DomainEvent, EventType};
use domain::rooms::booking::{BookingEvent, BookingStatus, Party};
use domain::rooms::message::RoomMessageEvent;
use domain::rooms::room::{RoomEvent, RoomStatus};
use domain::rooms::schedule::ScheduleEvent;
use domain::users::UserEvent;
use event_store::RecordedEvent;

use crate::ProjectionError;
use crate::runtime::{Prepared, Projector};
use crate::writes::Writes;

pub struct RoomsProjector;

impl RoomsProjector {
    pub const NAME: &'static str = "rooms";
}

const ROOM_TABLES: &[&str] = &["rooms", "room_registrations"];

impl Projector for RoomsProjector {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn version(&self) -> u32 {
        1
    }

    fn tables(&self) -> &'static [&'static str] {
        ROOM_TABLES
    }

    fn events(&self) -> &'static [&'static [EventType]] {
        &[RoomEvent::TYPES]
    }

    fn prepare(&self, events: &[RecordedEvent]) -> Result<Box<dyn Prepared>, ProjectionError> {
        let mut writes = Writes::new(ROOM_TABLES);
        for event in events {
            let Some(room) = crate::decode::<RoomEvent>(event)? else { continue };
            let status = |writes: &mut Writes, room_id, status: RoomStatus| {
                writes.execute("UPDATE {rooms} SET status = ? WHERE id = ?", vec![status.as_str().into(), crate::writes::Value::from(room_id)])
            };
            match room {
                RoomEvent::RoomScheduled { room_id, host_id, details, scheduled_at, .. } => writes.insert(
                    "rooms",
                    &[
                        "id", "host_id", "title", "description", "category_id", "starts_at", "ends_at", "duration_minutes", "access_type", "price",
                        "max_participants", "status", "scheduled_at", "position",
                    ],
                    vec![
                        room_id.into(),
                        host_id.into(),
                        details.title().as_str().into(),
                        details.description().as_str().into(),
                        details.category_id().into(),
                        details.starts_at().into(),
                        details.ends_at().into(),
                        details.duration_minutes().into(),
                        details.access_type().as_str().into(),
                        details.price().into(),
                        details.max_participants().into(),
                        RoomStatus::Scheduled.as_str().into(),
                        scheduled_at.into(),
                        event.position.into(),
                    ],
                ),
                RoomEvent::RoomRegistered { room_id, registration, registered_at } => {
                    writes.insert(
                        "room_registrations",
                        &["room_id", "user_id", "registration_id", "order_id", "registered_at", "position"],
                        vec![
                            room_id.into(),
                            registration.user_id.into(),
                            registration.registration_id.into(),
                            registration.paid_by.map(|paid| paid.order_id).into(),
                            registered_at.into(),
                            event.position.into(),
                        ],
                    );
                    writes.execute("UPDATE {rooms} SET registered_count = registered_count + 1 WHERE id = ?", vec![room_id.into()]);
                }
                RoomEvent::RoomRegistrationReleased { room_id, user_id, .. } => {
                    writes.execute("DELETE FROM {room_registrations} WHERE room_id = ? AND user_id = ?", vec![room_id.into(), user_id.into()]);
                    writes.execute("UPDATE {rooms} SET registered_count = registered_count - 1 WHERE id = ?", vec![room_id.into()]);
                }
                RoomEvent::RoomStartingSoon { room_id, .. } => writes.execute("UPDATE {rooms} SET reminded = TRUE WHERE id = ?", vec![room_id.into()]),
                RoomEvent::RoomStarted { room_id, .. } => status(&mut writes, room_id, RoomStatus::Active),
                RoomEvent::RoomCompleted { room_id, .. } => status(&mut writes, room_id, RoomStatus::Completed),
                RoomEvent::RoomCancelled { room_id, .. } => status(&mut writes, room_id, RoomStatus::Cancelled),
            }
        }
        Ok(Box::new(writes))
    }
}

pub struct ConsultationsProjector;

impl ConsultationsProjector {
    pub const NAME: &'static str = "consultations";
}

const CONSULTATION_TABLES: &[&str] = &["consultation_availabilities", "consultation_bookings", "speaker_timezones"];

impl Projector for ConsultationsProjector {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn version(&self) -> u32 {
        1
    }

    fn tables(&self) -> &'static [&'static str] {
        CONSULTATION_TABLES
    }

    fn events(&self) -> &'static [&'static [EventType]] {
        &[ScheduleEvent::TYPES, BookingEvent::TYPES, UserEvent::TYPES]
    }

    fn prepare(&self, events: &[RecordedEvent]) -> Result<Box<dyn Prepared>, ProjectionError> {
        let mut writes = Writes::new(CONSULTATION_TABLES);
        for event in events {
            if let Some(schedule) = crate::decode::<ScheduleEvent>(event)? {
                match schedule {
                    ScheduleEvent::AvailabilityAdded { speaker_id, availability_id, availability } => writes.insert(
                        "consultation_availabilities",
                        &["id", "speaker_id", "day_of_week", "start_time", "end_time", "session_minutes", "price", "position"],
                        vec![
                            availability_id.into(),
                            speaker_id.into(),
                            availability.day_of_week().as_str().into(),
                            availability.start_time().format("%H:%M").to_string().into(),
                            availability.end_time().format("%H:%M").to_string().into(),
                            availability.session_minutes().into(),
                            availability.price().into(),
                            event.position.into(),
                        ],
                    ),
                    ScheduleEvent::AvailabilityRemoved { speaker_id, availability_id } => writes.execute(
                        "DELETE FROM {consultation_availabilities} WHERE id = ? AND speaker_id = ?",
                        vec![availability_id.into(), speaker_id.into()],
                    ),
                    // The booking's own events carry what the read model shows.
                    ScheduleEvent::SlotReserved { .. } | ScheduleEvent::SlotReleased { .. } => {}
                }
            } else if let Some(booking) = crate::decode::<BookingEvent>(event)? {
                let status = |writes: &mut Writes, booking_id, status: BookingStatus| {
                    writes.execute("UPDATE {consultation_bookings} SET status = ? WHERE id = ?", vec![status.as_str().into(), crate::writes::Value::from(booking_id)])
                };
                match booking {
                    BookingEvent::BookingPlaced { booking_id, session, placed_at } => writes.insert(
                        "consultation_bookings",
                        &["id", "speaker_id", "student_id", "starts_at", "ends_at", "duration_minutes", "price", "status", "order_id", "placed_at", "position"],
                        vec![
                            booking_id.into(),
                            session.speaker_id.into(),
                            session.student_id.into(),
                            session.starts_at.into(),
                            session.ends_at().into(),
                            session.duration_minutes.into(),
                            session.price.into(),
                            BookingStatus::Scheduled.as_str().into(),
                            session.paid_by.map(|paid| paid.order_id).into(),
                            placed_at.into(),
                            event.position.into(),
                        ],
                    ),
                    BookingEvent::BookingCancelled { booking_id, .. } => status(&mut writes, booking_id, BookingStatus::Cancelled),
                    BookingEvent::BookingCompleted { booking_id, .. } => status(&mut writes, booking_id, BookingStatus::Completed),
                    BookingEvent::BookingMarkedNoShow { booking_id, .. } => status(&mut writes, booking_id, BookingStatus::NoShow),
                    BookingEvent::BookingRated { booking_id, party, rating, .. } => {
                        let column = match party {
                            Party::Student => "student_rating",
                            Party::Speaker => "speaker_rating",
                        };
                        writes.execute(
                            format!("UPDATE {{consultation_bookings}} SET {column} = ? WHERE id = ?"),
                            vec![u32::from(rating.value()).into(), booking_id.into()],
                        );
                    }
                }
            } else if let Some(UserEvent::TimezoneChanged { user_id, timezone }) = crate::decode::<UserEvent>(event)? {
                writes.execute(
                    "INSERT INTO {speaker_timezones} (user_id, timezone) VALUES (?, ?) ON DUPLICATE KEY UPDATE timezone = VALUES(timezone)",
                    vec![user_id.into(), timezone.as_str().into()],
                );
            }
        }
        Ok(Box::new(writes))
    }
}

/// The chats of live rooms.
pub struct RoomChatProjector;

impl RoomChatProjector {
    pub const NAME: &'static str = "room_chat";
}

const ROOM_CHAT_TABLES: &[&str] = &["room_messages"];

impl Projector for RoomChatProjector {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn version(&self) -> u32 {
        1
    }

    fn tables(&self) -> &'static [&'static str] {
        ROOM_CHAT_TABLES
    }

    fn events(&self) -> &'static [&'static [EventType]] {
        &[RoomMessageEvent::TYPES]
    }

    fn prepare(&self, events: &[RecordedEvent]) -> Result<Box<dyn Prepared>, ProjectionError> {
        let mut writes = Writes::new(ROOM_CHAT_TABLES);
        for event in events {
            let Some(message) = crate::decode::<RoomMessageEvent>(event)? else { continue };
            let position = event.position;
            match message {
                RoomMessageEvent::RoomMessagePosted { room_id, message_id, author_id, message_type, body, parent_id, posted_at } => writes.insert(
                    "room_messages",
                    &["id", "seq", "room_id", "author_id", "type", "body", "parent_id", "created_at"],
                    vec![
                        message_id.into(),
                        position.into(),
                        room_id.into(),
                        author_id.into(),
                        message_type.as_str().into(),
                        body.into_known().map(String::from).into(),
                        parent_id.into(),
                        posted_at.into(),
                    ],
                ),
                RoomMessageEvent::RoomMessagePinned { message_id, .. } => {
                    writes.execute("UPDATE {room_messages} SET is_pinned = TRUE, changed_seq = ? WHERE id = ?", vec![position.into(), message_id.into()]);
                }
                RoomMessageEvent::RoomMessageUnpinned { message_id, .. } => {
                    writes.execute("UPDATE {room_messages} SET is_pinned = FALSE, changed_seq = ? WHERE id = ?", vec![position.into(), message_id.into()]);
                }
                RoomMessageEvent::RoomMessageDeleted { message_id, .. } => writes.execute(
                    "UPDATE {room_messages} SET is_deleted = TRUE, is_pinned = FALSE, body = NULL, changed_seq = ? WHERE id = ?",
                    vec![position.into(), message_id.into()],
                ),
            }
        }
        Ok(Box::new(writes))
    }
}
