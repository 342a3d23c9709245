//! Consultation bookings: one student's paid session with one speaker. Scheduled, then
//! completed by the speaker, cancelled by either party before it starts (the student is refunded
//! in full), or marked a no-show by the scheduler a day after it ended. Each party rates a
//! completed session once.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::room::PaidBy;
use super::{JitsiRoom, RoomsError};
use crate::kernel::{Aggregate, DomainEvent, EventType, Personal};
use crate::money::Money;

/// Stream type of bookings; the stream id is the booking id.
pub const STREAM_TYPE: &str = "booking";
/// How long after its end an uncompleted session becomes a no-show.
pub const NO_SHOW_AFTER_HOURS: i64 = 24;
pub const REVIEW_LEN_MAX: usize = 2000;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BookingStatus {
    #[default]
    Scheduled,
    Completed,
    Cancelled,
    NoShow,
}

impl BookingStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            BookingStatus::Scheduled => "scheduled",
            BookingStatus::Completed => "completed",
            BookingStatus::Cancelled => "cancelled",
            BookingStatus::NoShow => "no_show",
        }
    }
}

/// The two sides of a booking.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Party {
    Student,
    Speaker,
}

impl Party {
    pub fn as_str(self) -> &'static str {
        match self {
            Party::Student => "student",
            Party::Speaker => "speaker",
        }
    }
}

/// A rating of a session: 1 to 5.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub struct Rating(u8);

impl Rating {
    pub fn new(value: i64) -> Result<Rating, RoomsError> {
        u8::try_from(value).ok().filter(|v| (1..=5).contains(v)).map(Rating).ok_or(RoomsError::InvalidRating)
    }

    pub fn value(self) -> u8 {
        self.0
    }
}

impl TryFrom<u8> for Rating {
    type Error = RoomsError;

    fn try_from(value: u8) -> Result<Rating, RoomsError> {
        Rating::new(i64::from(value))
    }
}

impl From<Rating> for u8 {
    fn from(rating: Rating) -> u8 {
        rating.0
    }
}

/// What a party wrote with a rating: trimmed, 1 to 2,000 characters.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Review(String);

impl Review {
    pub fn parse(text: &str) -> Result<Review, RoomsError> {
        let text = text.trim();
        let length = text.chars().count();
        let printable = !text.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'));
        (length > 0 && length <= REVIEW_LEN_MAX && printable).then(|| Review(text.to_owned())).ok_or(RoomsError::InvalidReview)
    }
}

crate::text_value!(Review, RoomsError, |_| RoomsError::InvalidReview);

/// A booked session as placed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Session {
    pub speaker_id: Uuid,
    pub student_id: Uuid,
    pub starts_at: DateTime<Utc>,
    pub duration_minutes: u32,
    /// VAT included, as paid.
    pub price: Money,
    /// None for a free session.
    pub paid_by: Option<PaidBy>,
    pub jitsi_room: JitsiRoom,
}

impl Session {
    pub fn ends_at(&self) -> DateTime<Utc> {
        self.starts_at + Duration::minutes(i64::from(self.duration_minutes))
    }

    /// The caller's side of the booking, if they are one of its two parties.
    pub fn party(&self, user_id: Uuid) -> Option<Party> {
        if user_id == self.speaker_id {
            Some(Party::Speaker)
        } else if user_id == self.student_id {
            Some(Party::Student)
        } else {
            None
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum BookingCommand {
    Place { booking_id: Uuid, session: Session, now: DateTime<Utc> },
    /// Either party, before the start.
    Cancel { by: Uuid, now: DateTime<Utc> },
    /// An admin refunded its order line: a session not held yet is cancelled; a held one stays
    /// as it was.
    Refunded { now: DateTime<Utc> },
    /// The speaker, once it has started.
    Complete { by: Uuid, now: DateTime<Utc> },
    /// The scheduler: a no-show once a day has passed since the end, or nothing.
    MarkNoShowIfDue { now: DateTime<Utc> },
    Rate { by: Uuid, rating: Rating, review: Option<Review>, now: DateTime<Utc> },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum BookingEvent {
    BookingPlaced {
        booking_id: Uuid,
        #[serde(flatten)]
        session: Session,
        placed_at: DateTime<Utc>,
    },
    /// `cancelled_by` is a party, or None for an admin's refund.
    BookingCancelled { booking_id: Uuid, speaker_id: Uuid, student_id: Uuid, cancelled_by: Option<Uuid>, paid_by: Option<PaidBy>, cancelled_at: DateTime<Utc> },
    BookingCompleted { booking_id: Uuid, speaker_id: Uuid, student_id: Uuid, completed_at: DateTime<Utc> },
    BookingMarkedNoShow { booking_id: Uuid, speaker_id: Uuid, student_id: Uuid, marked_at: DateTime<Utc> },
    /// The review is the rater's own words: personal, erased with them.
    BookingRated {
        booking_id: Uuid,
        speaker_id: Uuid,
        rated_by: Uuid,
        party: Party,
        rating: Rating,
        review: Option<Personal<Review>>,
        rated_at: DateTime<Utc>,
    },
}

pub const BOOKING_PLACED: EventType = EventType::new("BookingPlaced", 1);
pub const BOOKING_CANCELLED: EventType = EventType::new("BookingCancelled", 1);
pub const BOOKING_COMPLETED: EventType = EventType::new("BookingCompleted", 1);
pub const BOOKING_MARKED_NO_SHOW: EventType = EventType::new("BookingMarkedNoShow", 1);
pub const BOOKING_RATED: EventType = EventType::new("BookingRated", 1);

impl DomainEvent for BookingEvent {
    const TYPES: &'static [EventType] = &[BOOKING_PLACED, BOOKING_CANCELLED, BOOKING_COMPLETED, BOOKING_MARKED_NO_SHOW, BOOKING_RATED];

    fn data_subject(&self) -> Option<Uuid> {
        match self {
            BookingEvent::BookingRated { rated_by, review: Some(_), .. } => Some(*rated_by),
            _ => None,
        }
    }
}

impl BookingEvent {
    pub fn booking_id(&self) -> Uuid {
        match self {
            BookingEvent::BookingPlaced { booking_id, .. }
            | BookingEvent::BookingCancelled { booking_id, .. }
            | BookingEvent::BookingCompleted { booking_id, .. }
            | BookingEvent::BookingMarkedNoShow { booking_id, .. }
            | BookingEvent::BookingRated { booking_id, .. } => *booking_id,
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Booking {
    id: Option<Uuid>,
    session: Option<Session>,
    status: BookingStatus,
    rated: Vec<Party>,
}

impl Booking {
    pub fn id(&self) -> Option<Uuid> {
        self.id
    }

    pub fn session(&self) -> Option<&Session> {
        self.session.as_ref()
    }

    pub fn status(&self) -> BookingStatus {
        self.status
    }

    /// The booking and the caller's side of it; anyone else is told it does not exist.
    pub fn seen_by(&self, user_id: Uuid) -> Result<(Uuid, &Session, Party), RoomsError> {
        let (Some(id), Some(session)) = (self.id, self.session.as_ref()) else { return Err(RoomsError::UnknownBooking) };
        let party = session.party(user_id).ok_or(RoomsError::UnknownBooking)?;
        Ok((id, session, party))
    }

    /// Whether a party may join now: the speaker from ten minutes before the start, the student
    /// from the start, both until the end, while it is scheduled.
    pub fn entry(&self, user_id: Uuid, now: DateTime<Utc>) -> Result<Party, RoomsError> {
        let (_, session, party) = self.seen_by(user_id)?;
        if self.status != BookingStatus::Scheduled || now >= session.ends_at() {
            return Err(RoomsError::NotAvailable);
        }
        let opens = match party {
            Party::Speaker => session.starts_at - Duration::minutes(super::room::HOST_EARLY_MINUTES),
            Party::Student => session.starts_at,
        };
        if now < opens {
            return Err(RoomsError::NotStarted);
        }
        Ok(party)
    }
}

impl Aggregate for Booking {
    type Command = BookingCommand;
    type Event = BookingEvent;
    type Rejection = RoomsError;

    fn handle(&self, command: BookingCommand) -> Result<Vec<BookingEvent>, RoomsError> {
        let event = match command {
            BookingCommand::Place { .. } if self.id.is_some() => return Err(RoomsError::BookingExists),
            BookingCommand::Place { booking_id, session, now } => BookingEvent::BookingPlaced { booking_id, session, placed_at: now },
            BookingCommand::Cancel { by, now } => {
                let (booking_id, session, _) = self.seen_by(by)?;
                if self.status != BookingStatus::Scheduled || now >= session.starts_at {
                    return Err(RoomsError::InvalidState);
                }
                cancelled(booking_id, session, Some(by), now)
            }
            BookingCommand::Refunded { now } => {
                let (Some(booking_id), Some(session)) = (self.id, self.session.as_ref()) else { return Err(RoomsError::UnknownBooking) };
                if self.status != BookingStatus::Scheduled {
                    return Ok(Vec::new());
                }
                cancelled(booking_id, session, None, now)
            }
            BookingCommand::Complete { by, now } => {
                let (booking_id, session, party) = self.seen_by(by)?;
                if party != Party::Speaker {
                    return Err(RoomsError::NotSpeaker);
                }
                if self.status != BookingStatus::Scheduled || now < session.starts_at {
                    return Err(RoomsError::InvalidState);
                }
                BookingEvent::BookingCompleted { booking_id, speaker_id: session.speaker_id, student_id: session.student_id, completed_at: now }
            }
            BookingCommand::MarkNoShowIfDue { now } => {
                let (Some(booking_id), Some(session)) = (self.id, self.session.as_ref()) else { return Err(RoomsError::UnknownBooking) };
                if self.status != BookingStatus::Scheduled || now < session.ends_at() + Duration::hours(NO_SHOW_AFTER_HOURS) {
                    return Ok(Vec::new());
                }
                BookingEvent::BookingMarkedNoShow { booking_id, speaker_id: session.speaker_id, student_id: session.student_id, marked_at: now }
            }
            BookingCommand::Rate { by, rating, review, now } => {
                let (booking_id, session, party) = self.seen_by(by)?;
                if self.status != BookingStatus::Completed {
                    return Err(RoomsError::InvalidState);
                }
                if self.rated.contains(&party) {
                    return Err(RoomsError::AlreadyRated);
                }
                BookingEvent::BookingRated {
                    booking_id,
                    speaker_id: session.speaker_id,
                    rated_by: by,
                    party,
                    rating,
                    review: review.map(Personal::Known),
                    rated_at: now,
                }
            }
        };
        Ok(vec![event])
    }

    fn apply(&mut self, event: &BookingEvent) {
        match event {
            BookingEvent::BookingPlaced { booking_id, session, .. } => {
                self.id = Some(*booking_id);
                self.session = Some(session.clone());
            }
            BookingEvent::BookingCancelled { .. } => self.status = BookingStatus::Cancelled,
            BookingEvent::BookingCompleted { .. } => self.status = BookingStatus::Completed,
            BookingEvent::BookingMarkedNoShow { .. } => self.status = BookingStatus::NoShow,
            BookingEvent::BookingRated { party, .. } => self.rated.push(*party),
        }
    }
}

fn cancelled(booking_id: Uuid, session: &Session, by: Option<Uuid>, now: DateTime<Utc>) -> BookingEvent {
    BookingEvent::BookingCancelled {
        booking_id,
        speaker_id: session.speaker_id,
        student_id: session.student_id,
        cancelled_by: by,
        paid_by: session.paid_by,
        cancelled_at: now,
    }
}
