//! What rooms, registrations, availabilities, slots and bookings look like to clients.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use commands::rooms::Registered;
use domain::commerce::order::OrderEvent;
use domain::kernel::DELETED_USER_NAME;
use domain::rooms::booking::BookingEvent;
use domain::rooms::room::RoomEvent;
use domain::rooms::schedule::{Availability, Slot};
use projections::rooms::queries::{BookingRow, PersonRow, RoomRow};
use schemars::JsonSchema;
use serde::Serialize;
use uuid::Uuid;

use crate::catalogue::SpeakerView;
use crate::error::ApiError;
use crate::wallet::sar;

fn person(row: PersonRow) -> SpeakerView {
    SpeakerView { id: row.id, username: row.username, name: row.name.unwrap_or_else(|| DELETED_USER_NAME.to_owned()) }
}

fn known(people: &HashMap<Uuid, PersonRow>, id: Uuid) -> SpeakerView {
    person(people.get(&id).cloned().unwrap_or(PersonRow { id, username: None, name: None }))
}

/// The order that paid for something, and its invoice (none for a free order).
fn order_ids(order: Option<&OrderEvent>) -> (Option<Uuid>, Option<Uuid>) {
    match order {
        Some(OrderEvent::OrderPlaced { order_id, invoice_id, .. }) => (Some(*order_id), *invoice_id),
        _ => (None, None),
    }
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct RoomView {
    pub id: Uuid,
    pub host: SpeakerView,
    pub title: String,
    pub description: String,
    pub category_id: Uuid,
    pub starts_at: DateTime<Utc>,
    pub duration_minutes: u32,
    #[schemars(extend("enum" = ["free", "paid"]))]
    pub access_type: String,
    /// VAT included; "0.00" for a free room.
    #[schemars(example = "50.00")]
    pub price: String,
    pub max_participants: u32,
    pub registered_count: u32,
    #[schemars(extend("enum" = ["scheduled", "active", "completed", "cancelled"]))]
    pub status: String,
    /// Whether the caller holds a seat (false without a token).
    pub is_registered: bool,
}

impl From<RoomRow> for RoomView {
    fn from(row: RoomRow) -> Self {
        RoomView {
            id: row.id,
            host: person(row.host),
            title: row.title,
            description: row.description,
            category_id: row.category_id,
            starts_at: row.starts_at,
            duration_minutes: row.duration_minutes,
            access_type: row.access_type,
            price: sar(row.price),
            max_participants: row.max_participants,
            registered_count: row.registered_count,
            status: row.status,
            is_registered: row.is_registered,
        }
    }
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct RegistrationView {
    pub registration_id: Uuid,
    pub room_id: Uuid,
    #[schemars(extend("enum" = ["registered"]))]
    pub status: &'static str,
    /// The order that paid for the seat; absent for a free room.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invoice_id: Option<Uuid>,
}

impl RegistrationView {
    pub fn of(registered: &Registered) -> Self {
        Self::with_order(registered.registration_id, registered.room_id, registered.order.as_ref())
    }

    /// From a registration's first append, for its repeat.
    pub fn replayed(registration: &RoomEvent, order: Option<&OrderEvent>) -> Result<Self, ApiError> {
        let RoomEvent::RoomRegistered { room_id, registration, .. } = registration else {
            return Err(ApiError::internal("a registration answered with another event"));
        };
        Ok(Self::with_order(registration.registration_id, *room_id, order))
    }

    fn with_order(registration_id: Uuid, room_id: Uuid, order: Option<&OrderEvent>) -> Self {
        let (order_id, invoice_id) = order_ids(order);
        RegistrationView { registration_id, room_id, status: "registered", order_id, invoice_id }
    }
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct AvailabilityView {
    pub id: Uuid,
    #[schemars(extend("enum" = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]))]
    pub day_of_week: String,
    #[schemars(example = "18:00")]
    pub start_time: String,
    #[schemars(example = "21:00")]
    pub end_time: String,
    pub session_minutes: u32,
    #[schemars(example = "150.00")]
    pub price: String,
}

impl AvailabilityView {
    pub fn of(id: Uuid, availability: &Availability) -> Self {
        AvailabilityView {
            id,
            day_of_week: availability.day_of_week().as_str().to_owned(),
            start_time: availability.start_time().format("%H:%M").to_string(),
            end_time: availability.end_time().format("%H:%M").to_string(),
            session_minutes: availability.session_minutes(),
            price: availability.price().to_string(),
        }
    }
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct SlotView {
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// VAT included.
    #[schemars(example = "150.00")]
    pub price: String,
}

impl From<&Slot> for SlotView {
    fn from(slot: &Slot) -> Self {
        SlotView { starts_at: slot.starts_at, ends_at: slot.ends_at, price: slot.price.to_string() }
    }
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct BookingView {
    pub id: Uuid,
    pub speaker: SpeakerView,
    pub student: SpeakerView,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub duration_minutes: u32,
    /// VAT included, as paid.
    #[schemars(example = "150.00")]
    pub price: String,
    #[schemars(extend("enum" = ["scheduled", "completed", "cancelled", "no_show"]))]
    pub status: String,
    /// Where the parties get their video call token, while it is scheduled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub join_url: Option<String>,
    /// The order that paid for it; absent for a free session.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_id: Option<Uuid>,
    /// Only in the answer to the booking itself.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invoice_id: Option<Uuid>,
}

fn join_url(id: Uuid, status: &str) -> Option<String> {
    (status == "scheduled").then(|| format!("{}/consultations/bookings/{id}/join", crate::openapi::PREFIX))
}

impl BookingView {
    /// From the `BookingPlaced` event (and its order), with the parties' names.
    pub fn placed(placed: &BookingEvent, order: Option<&OrderEvent>, people: &HashMap<Uuid, PersonRow>) -> Result<Self, ApiError> {
        let BookingEvent::BookingPlaced { booking_id, session, .. } = placed else {
            return Err(ApiError::internal("a booking answered with another event"));
        };
        let (order_id, invoice_id) = order_ids(order);
        Ok(BookingView {
            id: *booking_id,
            speaker: known(people, session.speaker_id),
            student: known(people, session.student_id),
            starts_at: session.starts_at,
            ends_at: session.ends_at(),
            duration_minutes: session.duration_minutes,
            price: session.price.to_string(),
            status: "scheduled".to_owned(),
            join_url: join_url(*booking_id, "scheduled"),
            order_id,
            invoice_id,
        })
    }
}

impl From<BookingRow> for BookingView {
    fn from(row: BookingRow) -> Self {
        BookingView {
            id: row.id,
            speaker: person(row.speaker),
            student: person(row.student),
            starts_at: row.starts_at,
            ends_at: row.starts_at + chrono::Duration::minutes(i64::from(row.duration_minutes)),
            duration_minutes: row.duration_minutes,
            price: sar(row.price),
            join_url: join_url(row.id, &row.status),
            status: row.status,
            order_id: row.order_id,
            invoice_id: None,
        }
    }
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct RatingView {
    pub booking_id: Uuid,
    pub rating: u8,
    pub review: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ConsultationRatingView {
    /// Two decimals; null before the first rating.
    #[schemars(example = "4.50")]
    pub average: Option<String>,
    pub count: u64,
}

