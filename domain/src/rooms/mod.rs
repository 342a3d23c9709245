//! The rooms context: what happens live. Hosts schedule live rooms (`room`) that students
//! register for, free or paid; speakers open weekly consultation availabilities (`schedule`) out
//! of which students book paid one-to-one sessions (`booking`). A paid registration or booking is
//! a sale like any other: the command layer places its order in the same append, so it has the
//! same ledger postings, invoice and refunds as a course.

pub mod booking;
pub mod message;
pub mod room;
pub mod schedule;

use serde::{Deserialize, Serialize};

use crate::kernel::{ContextEvents, DomainEvent, Rejection, RejectionKind, every};

/// The context's events, upcasters and rejections, for the kernel's registries.
pub const EVENTS: ContextEvents = ContextEvents {
    name: "rooms",
    tables: &[room::RoomEvent::TYPES, schedule::ScheduleEvent::TYPES, booking::BookingEvent::TYPES, message::RoomMessageEvent::TYPES],
    upcasts: &[],
    rejections: every::<RoomsError>,
};

/// The name of a session's video room: made up by the server from 128 random bits, so nobody
/// guesses their way in, and never shown in public reads.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct JitsiRoom(String);

const JITSI_ROOM_PREFIX: &str = "ispeaker-";

impl JitsiRoom {
    /// The name for 128 random bits (the caller draws them: the domain has no randomness).
    pub fn from_random(bits: u128) -> JitsiRoom {
        JitsiRoom(format!("{JITSI_ROOM_PREFIX}{bits:032x}"))
    }

    pub fn parse(text: &str) -> Result<JitsiRoom, RoomsError> {
        let hex = text.strip_prefix(JITSI_ROOM_PREFIX).ok_or(RoomsError::InvalidJitsiRoom)?;
        let valid = hex.len() == 32 && hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        valid.then(|| JitsiRoom(text.to_owned())).ok_or(RoomsError::InvalidJitsiRoom)
    }
}

crate::text_value!(JitsiRoom, RoomsError, |_| RoomsError::InvalidJitsiRoom);

/// Business rejections of rooms and consultations, and reasons of their invalid input.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, strum::EnumIter)]
pub enum RoomsError {
    #[error("the start must be in the future")]
    InvalidStartsAt,
    #[error("the duration must be 15 to 480 minutes")]
    InvalidDurationMinutes,
    #[error("the access type must be free or paid")]
    InvalidAccessType,
    #[error("a paid room asks 0.01 to 100,000.00 SAR; a free room asks nothing")]
    InvalidRoomPrice,
    #[error("the participant limit must be 1 to 1,000")]
    InvalidMaxParticipants,
    #[error("not a server-made room name")]
    InvalidJitsiRoom,
    #[error("no such room")]
    UnknownRoom,
    #[error("the room already exists")]
    RoomExists,
    #[error("only the host may do this")]
    NotHost,
    #[error("you cannot register for or book your own session")]
    OwnItem,
    #[error("already registered")]
    AlreadyRegistered,
    #[error("the room is full")]
    RoomFull,
    #[error("the session is over, cancelled or not open")]
    NotAvailable,
    #[error("not registered for this room")]
    NotRegistered,
    #[error("it has not started yet")]
    NotStarted,
    #[error("it cannot do that in its current state")]
    InvalidState,
    #[error("the day must be mon, tue, wed, thu, fri, sat or sun")]
    InvalidDayOfWeek,
    #[error("the end must come after the start, on the same day")]
    EndNotAfterStart,
    #[error("the session must be 15 to 240 minutes")]
    InvalidSessionMinutes,
    #[error("the window is shorter than one session")]
    SessionLongerThanWindow,
    #[error("the price must be 0.00 to 100,000.00 SAR")]
    InvalidSessionPrice,
    #[error("the availability overlaps another one")]
    OverlappingAvailability,
    #[error("no such availability")]
    UnknownAvailability,
    #[error("the time is not one of the speaker's open slots")]
    NotASlot,
    #[error("the slot is already booked")]
    SlotTaken,
    #[error("no such booking")]
    UnknownBooking,
    #[error("the booking already exists")]
    BookingExists,
    #[error("only the speaker may do this")]
    NotSpeaker,
    #[error("you already rated this session")]
    AlreadyRated,
    #[error("the rating must be a whole number from 1 to 5")]
    InvalidRating,
    #[error("the review must be 1 to 2,000 characters")]
    InvalidReview,
    #[error("the type must be text or emoji")]
    InvalidMessageType,
    #[error("a text is 1 to 1,000 characters; an emoji message 1 to 16 characters of emoji")]
    InvalidMessageBody,
    #[error("a reply answers a top-level message of the same room")]
    InvalidParent,
    #[error("no such message in this room")]
    UnknownMessage,
    #[error("the message already exists")]
    MessageExists,
}

impl Rejection for RoomsError {
    fn code(&self) -> &'static str {
        match self {
            RoomsError::InvalidStartsAt => "invalid_starts_at",
            RoomsError::InvalidDurationMinutes => "invalid_duration_minutes",
            RoomsError::InvalidAccessType => "invalid_access_type",
            RoomsError::InvalidRoomPrice => "invalid_room_price",
            RoomsError::InvalidMaxParticipants => "invalid_max_participants",
            RoomsError::InvalidJitsiRoom => "invalid_jitsi_room",
            RoomsError::UnknownRoom | RoomsError::UnknownAvailability | RoomsError::UnknownBooking | RoomsError::UnknownMessage => "not_found",
            RoomsError::RoomExists | RoomsError::BookingExists | RoomsError::MessageExists => "already_exists",
            RoomsError::NotHost => "not_host",
            RoomsError::OwnItem => "own_item",
            RoomsError::AlreadyRegistered => "already_registered",
            RoomsError::RoomFull => "room_full",
            RoomsError::NotAvailable => "not_available",
            RoomsError::NotRegistered => "not_registered",
            RoomsError::NotStarted => "not_started",
            RoomsError::InvalidState => "invalid_state",
            RoomsError::InvalidDayOfWeek => "invalid_day_of_week",
            RoomsError::EndNotAfterStart => "end_not_after_start",
            RoomsError::InvalidSessionMinutes => "invalid_session_minutes",
            RoomsError::SessionLongerThanWindow => "session_longer_than_window",
            RoomsError::InvalidSessionPrice => "invalid_price",
            RoomsError::OverlappingAvailability => "overlapping_availability",
            RoomsError::NotASlot => "not_a_slot",
            RoomsError::SlotTaken => "slot_taken",
            RoomsError::NotSpeaker => "not_speaker",
            RoomsError::AlreadyRated => "already_rated",
            RoomsError::InvalidRating => "invalid_rating",
            RoomsError::InvalidReview => "invalid_review",
            RoomsError::InvalidMessageType => "invalid_room_message_type",
            RoomsError::InvalidMessageBody => "invalid_room_message_body",
            RoomsError::InvalidParent => "invalid_room_message_parent",
        }
    }

    fn kind(&self) -> RejectionKind {
        match self {
            RoomsError::UnknownRoom | RoomsError::UnknownAvailability | RoomsError::UnknownBooking | RoomsError::UnknownMessage => RejectionKind::NotFound,
            RoomsError::NotHost | RoomsError::NotRegistered | RoomsError::NotSpeaker => RejectionKind::Forbidden,
            RoomsError::RoomExists
            | RoomsError::BookingExists
            | RoomsError::MessageExists
            | RoomsError::OwnItem
            | RoomsError::AlreadyRegistered
            | RoomsError::RoomFull
            | RoomsError::NotAvailable
            | RoomsError::NotStarted
            | RoomsError::InvalidState
            | RoomsError::SlotTaken
            | RoomsError::AlreadyRated => RejectionKind::Conflict,
            _ => RejectionKind::Invalid,
        }
    }

    fn field(&self) -> Option<&'static str> {
        match self {
            RoomsError::InvalidStartsAt | RoomsError::NotASlot => Some("starts_at"),
            RoomsError::InvalidDurationMinutes => Some("duration_minutes"),
            RoomsError::InvalidAccessType => Some("access_type"),
            RoomsError::InvalidRoomPrice | RoomsError::InvalidSessionPrice => Some("price"),
            RoomsError::InvalidMaxParticipants => Some("max_participants"),
            RoomsError::InvalidJitsiRoom => Some("jitsi_room"),
            RoomsError::InvalidDayOfWeek => Some("day_of_week"),
            RoomsError::EndNotAfterStart => Some("end_time"),
            RoomsError::InvalidSessionMinutes | RoomsError::SessionLongerThanWindow => Some("session_minutes"),
            RoomsError::InvalidRating => Some("rating"),
            RoomsError::InvalidReview => Some("review"),
            RoomsError::InvalidMessageType => Some("type"),
            RoomsError::InvalidMessageBody => Some("body"),
            RoomsError::InvalidParent => Some("parent_id"),
            _ => None,
        }
    }
}
