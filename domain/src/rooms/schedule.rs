//! A speaker's consultation schedule: weekly availabilities in the speaker's time zone, and the
//! sessions booked out of them. One stream per speaker, so two bookings of one slot cannot both
//! be appended. `open_slots` is the one rule for what can be booked: the command side checks a
//! booking with it, the read side lists slots with it.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::RoomsError;
use crate::catalogue::PRICE_MAX;
use crate::kernel::{Aggregate, DomainEvent, EventType};
use crate::money::Money;

/// Stream type of schedules; the stream id is the speaker's user id.
pub const STREAM_TYPE: &str = "consultation_schedule";
pub const SESSION_MINUTES: std::ops::RangeInclusive<u32> = 15..=240;
/// The widest window of slots one read may ask for.
pub const SLOT_WINDOW_DAYS_MAX: i64 = 31;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DayOfWeek {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}

impl DayOfWeek {
    pub const ALL: [DayOfWeek; 7] = [DayOfWeek::Mon, DayOfWeek::Tue, DayOfWeek::Wed, DayOfWeek::Thu, DayOfWeek::Fri, DayOfWeek::Sat, DayOfWeek::Sun];

    pub fn parse(text: &str) -> Result<DayOfWeek, RoomsError> {
        DayOfWeek::ALL.into_iter().find(|day| day.as_str() == text).ok_or(RoomsError::InvalidDayOfWeek)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            DayOfWeek::Mon => "mon",
            DayOfWeek::Tue => "tue",
            DayOfWeek::Wed => "wed",
            DayOfWeek::Thu => "thu",
            DayOfWeek::Fri => "fri",
            DayOfWeek::Sat => "sat",
            DayOfWeek::Sun => "sun",
        }
    }

    fn weekday(self) -> Weekday {
        match self {
            DayOfWeek::Mon => Weekday::Mon,
            DayOfWeek::Tue => Weekday::Tue,
            DayOfWeek::Wed => Weekday::Wed,
            DayOfWeek::Thu => Weekday::Thu,
            DayOfWeek::Fri => Weekday::Fri,
            DayOfWeek::Sat => Weekday::Sat,
            DayOfWeek::Sun => Weekday::Sun,
        }
    }
}

/// `HH:MM`, 00:00 to 23:59: a time of day on the speaker's wall clock.
pub fn parse_clock_time(text: &str) -> Option<NaiveTime> {
    let (hours, minutes) = text.split_once(':')?;
    let two_digits = |part: &str| part.len() == 2 && part.bytes().all(|b| b.is_ascii_digit());
    if !two_digits(hours) || !two_digits(minutes) {
        return None;
    }
    NaiveTime::from_hms_opt(hours.parse().ok()?, minutes.parse().ok()?, 0)
}

mod clock_time {
    use chrono::NaiveTime;
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub fn serialize<S: Serializer>(time: &NaiveTime, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&time.format("%H:%M").to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<NaiveTime, D::Error> {
        let text = String::deserialize(deserializer)?;
        super::parse_clock_time(&text).ok_or_else(|| D::Error::custom(format!("{text:?} is not HH:MM")))
    }
}

/// One weekly window in which sessions of `session_minutes` can be booked back to back, at
/// `price` each (VAT included).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "AvailabilityFields", into = "AvailabilityFields")]
pub struct Availability {
    day_of_week: DayOfWeek,
    start_time: NaiveTime,
    end_time: NaiveTime,
    session_minutes: u32,
    price: Money,
}

#[derive(Clone, Copy, Serialize, Deserialize)]
struct AvailabilityFields {
    day_of_week: DayOfWeek,
    #[serde(with = "clock_time")]
    start_time: NaiveTime,
    #[serde(with = "clock_time")]
    end_time: NaiveTime,
    session_minutes: u32,
    price: Money,
}

impl TryFrom<AvailabilityFields> for Availability {
    type Error = RoomsError;

    fn try_from(f: AvailabilityFields) -> Result<Availability, RoomsError> {
        Availability::new(f.day_of_week, f.start_time, f.end_time, f.session_minutes, f.price)
    }
}

impl From<Availability> for AvailabilityFields {
    fn from(a: Availability) -> AvailabilityFields {
        AvailabilityFields { day_of_week: a.day_of_week, start_time: a.start_time, end_time: a.end_time, session_minutes: a.session_minutes, price: a.price }
    }
}

impl Availability {
    /// The window ends after it starts (on the same day), holds at least one session, and the
    /// price is 0.00 to 100,000.00.
    pub fn new(day_of_week: DayOfWeek, start_time: NaiveTime, end_time: NaiveTime, session_minutes: u32, price: Money) -> Result<Availability, RoomsError> {
        if end_time <= start_time {
            return Err(RoomsError::EndNotAfterStart);
        }
        if !SESSION_MINUTES.contains(&session_minutes) {
            return Err(RoomsError::InvalidSessionMinutes);
        }
        if end_time - start_time < Duration::minutes(i64::from(session_minutes)) {
            return Err(RoomsError::SessionLongerThanWindow);
        }
        if price > PRICE_MAX {
            return Err(RoomsError::InvalidSessionPrice);
        }
        Ok(Availability { day_of_week, start_time, end_time, session_minutes, price })
    }

    pub fn day_of_week(&self) -> DayOfWeek {
        self.day_of_week
    }

    pub fn start_time(&self) -> NaiveTime {
        self.start_time
    }

    pub fn end_time(&self) -> NaiveTime {
        self.end_time
    }

    pub fn session_minutes(&self) -> u32 {
        self.session_minutes
    }

    pub fn price(&self) -> Money {
        self.price
    }

    /// Windows on the same day that share more than an end point.
    pub fn overlaps(&self, other: &Availability) -> bool {
        self.day_of_week == other.day_of_week && self.start_time < other.end_time && other.start_time < self.end_time
    }

    /// The sessions this window gives on one local date (which must be its day), in UTC. A local
    /// time the zone skips (the hour clocks jump over) gives no session; one it repeats gives its
    /// first occurrence.
    fn sessions_on(&self, date: NaiveDate, zone: Tz) -> impl Iterator<Item = Slot> + '_ {
        let length = Duration::minutes(i64::from(self.session_minutes));
        let mut start = date.and_time(self.start_time);
        let end = date.and_time(self.end_time);
        std::iter::from_fn(move || {
            while start + length <= end {
                let local = start;
                start += length;
                if let Some(starts_at) = zone.from_local_datetime(&local).earliest() {
                    let starts_at = starts_at.with_timezone(&Utc);
                    return Some(Slot { starts_at, ends_at: starts_at + length, price: self.price });
                }
            }
            None
        })
    }
}

/// A bookable session, in UTC.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Slot {
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub price: Money,
}

/// A booked session's span.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reserved {
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

/// The open slots starting in [`from`, `to`): every session of every availability, computed on
/// the speaker's wall clock in `zone`, less the ones started by `now` and the ones overlapping a
/// reserved session. Sorted by start.
pub fn open_slots<'a>(
    availabilities: impl IntoIterator<Item = &'a Availability>,
    zone: Tz,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    now: DateTime<Utc>,
    reserved: &[Reserved],
) -> Vec<Slot> {
    let availabilities: Vec<&Availability> = availabilities.into_iter().collect();
    // Local dates one either side: a zone's offset moves a session's UTC date by up to a day.
    let (Some(first), Some(last)) = (from.with_timezone(&zone).date_naive().pred_opt(), to.with_timezone(&zone).date_naive().succ_opt()) else {
        return Vec::new();
    };
    let mut slots: Vec<Slot> = first
        .iter_days()
        .take_while(|date| *date <= last)
        .flat_map(|date| {
            availabilities.iter().filter(move |a| a.day_of_week.weekday() == date.weekday()).flat_map(move |a| a.sessions_on(date, zone))
        })
        .filter(|slot| slot.starts_at >= from && slot.starts_at < to && slot.starts_at > now)
        .filter(|slot| !reserved.iter().any(|r| slot.starts_at < r.ends_at && r.starts_at < slot.ends_at))
        .collect();
    slots.sort();
    slots.dedup_by_key(|slot| slot.starts_at);
    slots
}

#[derive(Clone, Debug, PartialEq)]
pub enum ScheduleCommand {
    Add { speaker_id: Uuid, availability_id: Uuid, availability: Availability },
    Remove { availability_id: Uuid },
    /// Takes the session starting at `starts_at` for a booking; `zone` is the speaker's.
    Reserve { speaker_id: Uuid, booking_id: Uuid, student_id: Uuid, starts_at: DateTime<Utc>, zone: Tz, now: DateTime<Utc> },
    /// A cancelled booking's session opens again.
    Release { booking_id: Uuid },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ScheduleEvent {
    AvailabilityAdded {
        speaker_id: Uuid,
        availability_id: Uuid,
        #[serde(flatten)]
        availability: Availability,
    },
    AvailabilityRemoved {
        speaker_id: Uuid,
        availability_id: Uuid,
    },
    SlotReserved {
        speaker_id: Uuid,
        booking_id: Uuid,
        #[serde(flatten)]
        slot: Slot,
    },
    SlotReleased {
        speaker_id: Uuid,
        booking_id: Uuid,
    },
}

pub const AVAILABILITY_ADDED: EventType = EventType::new("AvailabilityAdded", 1);
pub const AVAILABILITY_REMOVED: EventType = EventType::new("AvailabilityRemoved", 1);
pub const SLOT_RESERVED: EventType = EventType::new("SlotReserved", 1);
pub const SLOT_RELEASED: EventType = EventType::new("SlotReleased", 1);

impl DomainEvent for ScheduleEvent {
    const TYPES: &'static [EventType] = &[AVAILABILITY_ADDED, AVAILABILITY_REMOVED, SLOT_RESERVED, SLOT_RELEASED];
}

impl ScheduleEvent {
    pub fn speaker_id(&self) -> Uuid {
        match self {
            ScheduleEvent::AvailabilityAdded { speaker_id, .. }
            | ScheduleEvent::AvailabilityRemoved { speaker_id, .. }
            | ScheduleEvent::SlotReserved { speaker_id, .. }
            | ScheduleEvent::SlotReleased { speaker_id, .. } => *speaker_id,
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Schedule {
    speaker_id: Option<Uuid>,
    availabilities: BTreeMap<Uuid, Availability>,
    reserved: BTreeMap<Uuid, Reserved>,
}

impl Schedule {
    pub fn availabilities(&self) -> impl Iterator<Item = (&Uuid, &Availability)> {
        self.availabilities.iter()
    }
}

impl Aggregate for Schedule {
    type Command = ScheduleCommand;
    type Event = ScheduleEvent;
    type Rejection = RoomsError;

    fn handle(&self, command: ScheduleCommand) -> Result<Vec<ScheduleEvent>, RoomsError> {
        let event = match command {
            ScheduleCommand::Add { speaker_id, availability_id, availability } => {
                if self.availabilities.values().any(|other| other.overlaps(&availability)) {
                    return Err(RoomsError::OverlappingAvailability);
                }
                ScheduleEvent::AvailabilityAdded { speaker_id, availability_id, availability }
            }
            ScheduleCommand::Remove { availability_id } => {
                let speaker_id = self.speaker_id.filter(|_| self.availabilities.contains_key(&availability_id)).ok_or(RoomsError::UnknownAvailability)?;
                ScheduleEvent::AvailabilityRemoved { speaker_id, availability_id }
            }
            ScheduleCommand::Reserve { speaker_id, booking_id, student_id, starts_at, zone, now } => {
                if student_id == speaker_id {
                    return Err(RoomsError::OwnItem);
                }
                let slot = open_slots(self.availabilities.values(), zone, starts_at, starts_at + Duration::seconds(1), now, &[])
                    .into_iter()
                    .find(|slot| slot.starts_at == starts_at)
                    .ok_or(RoomsError::NotASlot)?;
                if self.reserved.values().any(|r| slot.starts_at < r.ends_at && r.starts_at < slot.ends_at) {
                    return Err(RoomsError::SlotTaken);
                }
                ScheduleEvent::SlotReserved { speaker_id, booking_id, slot }
            }
            ScheduleCommand::Release { booking_id } => {
                let speaker_id = self.speaker_id.filter(|_| self.reserved.contains_key(&booking_id)).ok_or(RoomsError::UnknownBooking)?;
                ScheduleEvent::SlotReleased { speaker_id, booking_id }
            }
        };
        Ok(vec![event])
    }

    fn apply(&mut self, event: &ScheduleEvent) {
        self.speaker_id = Some(event.speaker_id());
        match event {
            ScheduleEvent::AvailabilityAdded { availability_id, availability, .. } => {
                self.availabilities.insert(*availability_id, *availability);
            }
            ScheduleEvent::AvailabilityRemoved { availability_id, .. } => {
                self.availabilities.remove(availability_id);
            }
            ScheduleEvent::SlotReserved { booking_id, slot, .. } => {
                self.reserved.insert(*booking_id, Reserved { starts_at: slot.starts_at, ends_at: slot.ends_at });
            }
            ScheduleEvent::SlotReleased { booking_id, .. } => {
                self.reserved.remove(booking_id);
            }
        }
    }
}
