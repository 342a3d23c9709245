//! Live rooms: a host's scheduled session, free or paid, with a seat limit. Scheduled → active →
//! completed, or cancelled. The room holds its registrations, so two registrations for the last
//! seat cannot both be appended; a paid one names the order line that paid for it.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{JitsiRoom, RoomsError};
use crate::catalogue::{Description, PRICE_MAX, Title};
use crate::kernel::{Aggregate, DomainEvent, EventType};
use crate::money::Money;

/// Stream type of live rooms; the stream id is the room id.
pub const STREAM_TYPE: &str = "room";
pub const DURATION_MINUTES: std::ops::RangeInclusive<u32> = 15..=480;
pub const MAX_PARTICIPANTS: std::ops::RangeInclusive<u32> = 1..=1000;
/// How long before the start the host may open the room.
pub const HOST_EARLY_MINUTES: i64 = 10;
/// How long before a room starts its registrants are told.
pub const REMINDER_MINUTES: i64 = 15;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccessType {
    Free,
    Paid,
}

impl AccessType {
    pub fn parse(text: &str) -> Result<AccessType, RoomsError> {
        match text {
            "free" => Ok(AccessType::Free),
            "paid" => Ok(AccessType::Paid),
            _ => Err(RoomsError::InvalidAccessType),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            AccessType::Free => "free",
            AccessType::Paid => "paid",
        }
    }
}

/// What a host schedules: valid by construction (`RoomDetails::new`), and read back through it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "DetailFields", into = "DetailFields")]
pub struct RoomDetails {
    title: Title,
    description: Description,
    category_id: Uuid,
    starts_at: DateTime<Utc>,
    duration_minutes: u32,
    access_type: AccessType,
    /// VAT included; zero for a free room.
    price: Money,
    max_participants: u32,
}

#[derive(Clone, Serialize, Deserialize)]
struct DetailFields {
    title: Title,
    description: Description,
    category_id: Uuid,
    starts_at: DateTime<Utc>,
    duration_minutes: u32,
    access_type: AccessType,
    price: Money,
    max_participants: u32,
}

impl TryFrom<DetailFields> for RoomDetails {
    type Error = RoomsError;

    fn try_from(f: DetailFields) -> Result<RoomDetails, RoomsError> {
        RoomDetails::new(f.title, f.description, f.category_id, f.starts_at, f.duration_minutes, f.access_type, Some(f.price), f.max_participants)
    }
}

impl From<RoomDetails> for DetailFields {
    fn from(d: RoomDetails) -> DetailFields {
        DetailFields {
            title: d.title,
            description: d.description,
            category_id: d.category_id,
            starts_at: d.starts_at,
            duration_minutes: d.duration_minutes,
            access_type: d.access_type,
            price: d.price,
            max_participants: d.max_participants,
        }
    }
}

impl RoomDetails {
    /// A paid room asks 0.01 to 100,000.00 SAR; a free one asks nothing (no price, or 0.00).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        title: Title,
        description: Description,
        category_id: Uuid,
        starts_at: DateTime<Utc>,
        duration_minutes: u32,
        access_type: AccessType,
        price: Option<Money>,
        max_participants: u32,
    ) -> Result<RoomDetails, RoomsError> {
        if !DURATION_MINUTES.contains(&duration_minutes) {
            return Err(RoomsError::InvalidDurationMinutes);
        }
        if !MAX_PARTICIPANTS.contains(&max_participants) {
            return Err(RoomsError::InvalidMaxParticipants);
        }
        let price = match (access_type, price) {
            (AccessType::Free, None) => Money::ZERO,
            (AccessType::Free, Some(price)) if price.is_zero() => Money::ZERO,
            (AccessType::Paid, Some(price)) if !price.is_zero() && price <= PRICE_MAX => price,
            _ => return Err(RoomsError::InvalidRoomPrice),
        };
        Ok(RoomDetails { title, description, category_id, starts_at, duration_minutes, access_type, price, max_participants })
    }

    pub fn title(&self) -> &Title {
        &self.title
    }

    pub fn description(&self) -> &Description {
        &self.description
    }

    pub fn category_id(&self) -> Uuid {
        self.category_id
    }

    pub fn starts_at(&self) -> DateTime<Utc> {
        self.starts_at
    }

    pub fn duration_minutes(&self) -> u32 {
        self.duration_minutes
    }

    pub fn ends_at(&self) -> DateTime<Utc> {
        self.starts_at + Duration::minutes(i64::from(self.duration_minutes))
    }

    pub fn access_type(&self) -> AccessType {
        self.access_type
    }

    pub fn price(&self) -> Money {
        self.price
    }

    pub fn max_participants(&self) -> u32 {
        self.max_participants
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoomStatus {
    #[default]
    Scheduled,
    Active,
    Completed,
    Cancelled,
}

impl RoomStatus {
    pub const ALL: [RoomStatus; 4] = [RoomStatus::Scheduled, RoomStatus::Active, RoomStatus::Completed, RoomStatus::Cancelled];

    pub fn as_str(self) -> &'static str {
        match self {
            RoomStatus::Scheduled => "scheduled",
            RoomStatus::Active => "active",
            RoomStatus::Completed => "completed",
            RoomStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(text: &str) -> Option<RoomStatus> {
        RoomStatus::ALL.into_iter().find(|status| status.as_str() == text)
    }
}

/// The order line that paid for a registration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaidBy {
    pub order_id: Uuid,
    pub order_item_id: Uuid,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registration {
    pub user_id: Uuid,
    pub registration_id: Uuid,
    /// None for a free room.
    pub paid_by: Option<PaidBy>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum RoomCommand {
    Schedule { room_id: Uuid, host_id: Uuid, details: RoomDetails, jitsi_room: JitsiRoom, now: DateTime<Utc> },
    /// `paid_by` is the order line of a paid room's price; the command layer places the order in
    /// the same unit of work.
    Register { user_id: Uuid, registration_id: Uuid, paid_by: Option<PaidBy>, now: DateTime<Utc> },
    /// An admin's refund of the order line took the seat back.
    Release { order_item_id: Uuid, now: DateTime<Utc> },
    Start { host_id: Uuid, now: DateTime<Utc> },
    Complete { host_id: Uuid, now: DateTime<Utc> },
    Cancel { host_id: Uuid, now: DateTime<Utc> },
    /// The scheduler: tells the registrants once, `REMINDER_MINUTES` before the start, or does
    /// nothing.
    RemindIfSoon { now: DateTime<Utc> },
    /// The scheduler: starts the room if its start has come, or does nothing.
    StartIfDue { now: DateTime<Utc> },
    /// The scheduler: completes the room if it is active past its end, or does nothing.
    CompleteIfOver { now: DateTime<Utc> },
    /// A rule, no event: whether `user_id` may post in the room's chat now (the host and
    /// registrants, while it is active).
    Speak { user_id: Uuid, now: DateTime<Utc> },
    /// A rule, no event: whether `user_id` may pin and delete any message of the room's chat.
    Moderate { user_id: Uuid },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum RoomEvent {
    RoomScheduled { room_id: Uuid, host_id: Uuid, details: RoomDetails, jitsi_room: JitsiRoom, scheduled_at: DateTime<Utc> },
    RoomRegistered {
        room_id: Uuid,
        #[serde(flatten)]
        registration: Registration,
        registered_at: DateTime<Utc>,
    },
    RoomRegistrationReleased { room_id: Uuid, user_id: Uuid, registration_id: Uuid, released_at: DateTime<Utc> },
    /// `started_by` is the host, or None for the scheduler.
    /// The registrants at that moment, told the room starts soon.
    RoomStartingSoon { room_id: Uuid, registrants: Vec<Uuid>, starts_at: DateTime<Utc>, reminded_at: DateTime<Utc> },
    RoomStarted { room_id: Uuid, started_by: Option<Uuid>, started_at: DateTime<Utc> },
    RoomCompleted { room_id: Uuid, completed_by: Option<Uuid>, completed_at: DateTime<Utc> },
    /// Every registration at that moment; the paid ones are refunded in the same append.
    RoomCancelled { room_id: Uuid, registrations: Vec<Registration>, cancelled_at: DateTime<Utc> },
}

pub const ROOM_SCHEDULED: EventType = EventType::new("RoomScheduled", 1);
pub const ROOM_REGISTERED: EventType = EventType::new("RoomRegistered", 1);
pub const ROOM_REGISTRATION_RELEASED: EventType = EventType::new("RoomRegistrationReleased", 1);
pub const ROOM_STARTING_SOON: EventType = EventType::new("RoomStartingSoon", 1);
pub const ROOM_STARTED: EventType = EventType::new("RoomStarted", 1);
pub const ROOM_COMPLETED: EventType = EventType::new("RoomCompleted", 1);
pub const ROOM_CANCELLED: EventType = EventType::new("RoomCancelled", 1);

impl DomainEvent for RoomEvent {
    const TYPES: &'static [EventType] = &[ROOM_SCHEDULED, ROOM_REGISTERED, ROOM_REGISTRATION_RELEASED, ROOM_STARTING_SOON, ROOM_STARTED, ROOM_COMPLETED, ROOM_CANCELLED];
}

impl RoomEvent {
    pub fn room_id(&self) -> Uuid {
        match self {
            RoomEvent::RoomScheduled { room_id, .. }
            | RoomEvent::RoomRegistered { room_id, .. }
            | RoomEvent::RoomRegistrationReleased { room_id, .. }
            | RoomEvent::RoomStartingSoon { room_id, .. }
            | RoomEvent::RoomStarted { room_id, .. }
            | RoomEvent::RoomCompleted { room_id, .. }
            | RoomEvent::RoomCancelled { room_id, .. } => *room_id,
        }
    }
}

/// Who may enter a room now, and as what.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Entry {
    Host,
    Participant,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Room {
    id: Option<Uuid>,
    host_id: Uuid,
    details: Option<RoomDetails>,
    jitsi_room: Option<JitsiRoom>,
    status: RoomStatus,
    registrations: BTreeMap<Uuid, Registration>,
    reminded: bool,
}

impl Room {
    pub fn id(&self) -> Option<Uuid> {
        self.id
    }

    pub fn host_id(&self) -> Uuid {
        self.host_id
    }

    pub fn details(&self) -> Option<&RoomDetails> {
        self.details.as_ref()
    }

    pub fn status(&self) -> RoomStatus {
        self.status
    }

    pub fn jitsi_room(&self) -> Option<&JitsiRoom> {
        self.jitsi_room.as_ref()
    }

    pub fn is_registered(&self, user_id: Uuid) -> bool {
        self.registrations.contains_key(&user_id)
    }

    /// The host or a registrant: who reads and (while it is active) writes the room's chat.
    pub fn is_member(&self, user_id: Uuid) -> bool {
        self.details.is_some() && (user_id == self.host_id || self.is_registered(user_id))
    }

    pub fn registered_count(&self) -> usize {
        self.registrations.len()
    }

    /// Whether a registration may be taken now: the room is scheduled or active and not over.
    pub fn is_open(&self, now: DateTime<Utc>) -> bool {
        matches!(self.status, RoomStatus::Scheduled | RoomStatus::Active) && self.details.as_ref().is_some_and(|d| now < d.ends_at())
    }

    /// Why `user_id` may not register now, if they may not. A buyer's own checks (the host, twice,
    /// a full or closed room) in the order clients are told them.
    pub fn registrable(&self, user_id: Uuid, now: DateTime<Utc>) -> Result<&RoomDetails, RoomsError> {
        let details = self.details.as_ref().ok_or(RoomsError::UnknownRoom)?;
        if user_id == self.host_id {
            return Err(RoomsError::OwnItem);
        }
        if !self.is_open(now) {
            return Err(RoomsError::NotAvailable);
        }
        if self.is_registered(user_id) {
            return Err(RoomsError::AlreadyRegistered);
        }
        if self.registrations.len() >= details.max_participants as usize {
            return Err(RoomsError::RoomFull);
        }
        Ok(details)
    }

    /// Whether `user_id` may join now, and as what: the host from ten minutes before the start
    /// until the room ends, registrants while it is active.
    pub fn entry(&self, user_id: Uuid, now: DateTime<Utc>) -> Result<Entry, RoomsError> {
        let details = self.details.as_ref().ok_or(RoomsError::UnknownRoom)?;
        let over = matches!(self.status, RoomStatus::Completed | RoomStatus::Cancelled) || now >= details.ends_at();
        if user_id == self.host_id {
            let early = now < details.starts_at - Duration::minutes(HOST_EARLY_MINUTES) && self.status != RoomStatus::Active;
            return match (over, early) {
                (true, _) => Err(RoomsError::NotAvailable),
                (false, true) => Err(RoomsError::NotStarted),
                (false, false) => Ok(Entry::Host),
            };
        }
        if !self.is_registered(user_id) {
            return Err(RoomsError::NotRegistered);
        }
        match self.status {
            RoomStatus::Active if !over => Ok(Entry::Participant),
            RoomStatus::Scheduled if !over => Err(RoomsError::NotStarted),
            _ => Err(RoomsError::NotAvailable),
        }
    }

    fn hosted_by(&self, host_id: Uuid) -> Result<(Uuid, &RoomDetails), RoomsError> {
        let (Some(id), Some(details)) = (self.id, self.details.as_ref()) else { return Err(RoomsError::UnknownRoom) };
        if host_id != self.host_id {
            return Err(RoomsError::NotHost);
        }
        Ok((id, details))
    }
}

impl Aggregate for Room {
    type Command = RoomCommand;
    type Event = RoomEvent;
    type Rejection = RoomsError;

    fn handle(&self, command: RoomCommand) -> Result<Vec<RoomEvent>, RoomsError> {
        let event = match command {
            RoomCommand::Schedule { .. } if self.id.is_some() => return Err(RoomsError::RoomExists),
            RoomCommand::Schedule { room_id, host_id, details, jitsi_room, now } => {
                if details.starts_at <= now {
                    return Err(RoomsError::InvalidStartsAt);
                }
                RoomEvent::RoomScheduled { room_id, host_id, details, jitsi_room, scheduled_at: now }
            }
            RoomCommand::Register { user_id, registration_id, paid_by, now } => {
                let details = self.registrable(user_id, now)?;
                if paid_by.is_some() == details.price.is_zero() {
                    // A paid room's seat is taken only with its order line, a free one's without.
                    return Err(RoomsError::NotAvailable);
                }
                let room_id = self.id.ok_or(RoomsError::UnknownRoom)?;
                RoomEvent::RoomRegistered { room_id, registration: Registration { user_id, registration_id, paid_by }, registered_at: now }
            }
            RoomCommand::Release { order_item_id, now } => {
                let room_id = self.id.ok_or(RoomsError::UnknownRoom)?;
                let registration = self
                    .registrations
                    .values()
                    .find(|r| r.paid_by.is_some_and(|paid| paid.order_item_id == order_item_id))
                    .ok_or(RoomsError::NotRegistered)?;
                RoomEvent::RoomRegistrationReleased {
                    room_id,
                    user_id: registration.user_id,
                    registration_id: registration.registration_id,
                    released_at: now,
                }
            }
            RoomCommand::Start { host_id, now } => {
                let (room_id, details) = self.hosted_by(host_id)?;
                let early = now < details.starts_at - Duration::minutes(HOST_EARLY_MINUTES);
                if self.status != RoomStatus::Scheduled || early || now >= details.ends_at() {
                    return Err(RoomsError::InvalidState);
                }
                RoomEvent::RoomStarted { room_id, started_by: Some(host_id), started_at: now }
            }
            RoomCommand::Complete { host_id, now } => {
                let (room_id, _) = self.hosted_by(host_id)?;
                if self.status != RoomStatus::Active {
                    return Err(RoomsError::InvalidState);
                }
                RoomEvent::RoomCompleted { room_id, completed_by: Some(host_id), completed_at: now }
            }
            RoomCommand::Cancel { host_id, now } => {
                let (room_id, _) = self.hosted_by(host_id)?;
                if !matches!(self.status, RoomStatus::Scheduled | RoomStatus::Active) {
                    return Err(RoomsError::InvalidState);
                }
                RoomEvent::RoomCancelled { room_id, registrations: self.registrations.values().copied().collect(), cancelled_at: now }
            }
            RoomCommand::RemindIfSoon { now } => {
                let (Some(room_id), Some(details)) = (self.id, self.details.as_ref()) else { return Err(RoomsError::UnknownRoom) };
                let soon = now >= details.starts_at - chrono::Duration::minutes(REMINDER_MINUTES) && now < details.starts_at;
                if self.status != RoomStatus::Scheduled || self.reminded || !soon {
                    return Ok(Vec::new());
                }
                let registrants = self.registrations.keys().copied().collect();
                RoomEvent::RoomStartingSoon { room_id, registrants, starts_at: details.starts_at, reminded_at: now }
            }
            RoomCommand::StartIfDue { now } => {
                let (Some(room_id), Some(details)) = (self.id, self.details.as_ref()) else { return Err(RoomsError::UnknownRoom) };
                if self.status != RoomStatus::Scheduled || now < details.starts_at {
                    return Ok(Vec::new());
                }
                RoomEvent::RoomStarted { room_id, started_by: None, started_at: now }
            }
            RoomCommand::Speak { user_id, now } => {
                let details = self.details.as_ref().ok_or(RoomsError::UnknownRoom)?;
                if !self.is_member(user_id) {
                    return Err(RoomsError::NotRegistered);
                }
                return match self.status {
                    RoomStatus::Active if now < details.ends_at() => Ok(Vec::new()),
                    RoomStatus::Scheduled if now < details.ends_at() => Err(RoomsError::NotStarted),
                    _ => Err(RoomsError::NotAvailable),
                };
            }
            RoomCommand::Moderate { user_id } => {
                self.hosted_by(user_id)?;
                return Ok(Vec::new());
            }
            RoomCommand::CompleteIfOver { now } => {
                let (Some(room_id), Some(details)) = (self.id, self.details.as_ref()) else { return Err(RoomsError::UnknownRoom) };
                if self.status != RoomStatus::Active || now < details.ends_at() {
                    return Ok(Vec::new());
                }
                RoomEvent::RoomCompleted { room_id, completed_by: None, completed_at: now }
            }
        };
        Ok(vec![event])
    }

    fn apply(&mut self, event: &RoomEvent) {
        match event {
            RoomEvent::RoomScheduled { room_id, host_id, details, jitsi_room, .. } => {
                self.id = Some(*room_id);
                self.host_id = *host_id;
                self.details = Some(details.clone());
                self.jitsi_room = Some(jitsi_room.clone());
            }
            RoomEvent::RoomRegistered { registration, .. } => {
                self.registrations.insert(registration.user_id, *registration);
            }
            RoomEvent::RoomRegistrationReleased { user_id, .. } => {
                self.registrations.remove(user_id);
            }
            RoomEvent::RoomStartingSoon { .. } => self.reminded = true,
            RoomEvent::RoomStarted { .. } => self.status = RoomStatus::Active,
            RoomEvent::RoomCompleted { .. } => self.status = RoomStatus::Completed,
            RoomEvent::RoomCancelled { .. } => self.status = RoomStatus::Cancelled,
        }
    }
}
