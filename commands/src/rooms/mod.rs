//! The rooms context's commands: live rooms (scheduling, registration, the host's actions and the
//! scheduler's), consultation availabilities and bookings. A paid registration or booking sells
//! through commerce in the same unit of work (`Commerce::sell`), so it pays, earns and is
//! invoiced like a course; a cancellation pays back through commerce too (`pay_back`).

use chrono::{DateTime, Utc};
use domain::catalogue::Title;
use domain::commerce::order::{OrderEvent, RefundReason, Sale};
use domain::commerce::{ItemRef, ItemType};
use domain::kernel::Aggregate;
use domain::money::Money;
use domain::rooms::booking::{self, Booking, BookingCommand, BookingEvent, Rating, Review, Session};
use domain::rooms::message::{self, RoomMessage, RoomMessageBody, RoomMessageCommand, RoomMessageType};
use domain::rooms::room::{self, PaidBy, Room, RoomCommand, RoomDetails, RoomEvent};
use domain::rooms::schedule::{self, Availability, Schedule, ScheduleCommand, ScheduleEvent};
use domain::rooms::JitsiRoom;
use domain::users::UserError;
use uuid::Uuid;

use crate::catalogue::require_category;
use crate::commerce::{Commerce, pay_back};
use crate::kernel::{Kernel, Transacted, UnitOfWork};
use crate::stream::{Loaded, Stream};
use crate::users::user_stream;
use crate::{CommandContext, CommandError};

pub fn room_stream(room_id: Uuid) -> Stream<Room> {
    Stream::new(room::STREAM_TYPE, room_id.to_string())
}

pub fn room_message_stream(message_id: Uuid) -> Stream<RoomMessage> {
    Stream::new(message::STREAM_TYPE, message_id.to_string())
}

/// A room chat message as its author writes it.
#[derive(Clone, Debug)]
pub struct NewRoomMessage {
    pub message_type: RoomMessageType,
    pub body: RoomMessageBody,
    pub parent_id: Option<Uuid>,
}

pub fn schedule_stream(speaker_id: Uuid) -> Stream<Schedule> {
    Stream::new(schedule::STREAM_TYPE, speaker_id.to_string())
}

pub fn booking_stream(booking_id: Uuid) -> Stream<Booking> {
    Stream::new(booking::STREAM_TYPE, booking_id.to_string())
}

/// A new video room name from 128 random bits.
fn new_jitsi_room() -> JitsiRoom {
    JitsiRoom::from_random(Uuid::new_v4().as_u128() ^ Uuid::new_v4().as_u128().rotate_left(64))
}

fn refund_reason(text: &str) -> Result<RefundReason, CommandError> {
    RefundReason::parse(text).map_err(CommandError::rejected)
}

/// What a registration did: the seat, and the order that paid for it (none for a free room).
#[derive(Clone, Debug)]
pub struct Registered {
    pub registration_id: Uuid,
    pub room_id: Uuid,
    pub order: Option<OrderEvent>,
}

/// What a booking did: the session, and the order that paid for it (none for a free session).
#[derive(Clone, Debug)]
pub struct Booked {
    /// The `BookingPlaced` event.
    pub placed: BookingEvent,
    pub order: Option<OrderEvent>,
}

/// The context's command handler. Cheap to clone.
#[derive(Clone)]
pub struct Rooms {
    kernel: Kernel,
    commerce: Commerce,
}

impl Rooms {
    pub fn new(commerce: Commerce) -> Self {
        Self { kernel: commerce.kernel().clone(), commerce }
    }

    /// A new room hosted by `host`, with a fresh id and video room name.
    pub async fn schedule(&self, host: Uuid, details: RoomDetails, context: &CommandContext) -> Result<Transacted<Loaded<Room>>, CommandError> {
        let room_id = Uuid::now_v7();
        let stream = &room_stream(room_id);
        let (details, now) = (&details, self.kernel.now());
        self.kernel
            .transact(context, |unit| async move {
                require_category(&unit, details.category_id()).await?;
                let mut room = unit.create(stream).await?;
                let schedule = RoomCommand::Schedule { room_id, host_id: host, details: details.clone(), jitsi_room: new_jitsi_room(), now };
                unit.decide(stream, &mut room, schedule)?;
                Ok(room)
            })
            .await
    }

    /// Registers `user` for a room: a free one takes the seat alone, a paid one also places a
    /// one-line order paid from the wallet — the same events a cart's checkout of the room gives.
    #[tracing::instrument(skip_all, fields(%user, %room_id))]
    pub async fn register(&self, user: Uuid, room_id: Uuid, context: &CommandContext) -> Result<Transacted<Registered>, CommandError> {
        let stream = &room_stream(room_id);
        let now = self.kernel.now();
        // Registrations of one room queue here rather than race for its version.
        self.kernel
            .transact_in_turn(stream, context, |unit| async move {
                let room = unit.load(stream).await?;
                let details = room.state.registrable(user, now).map_err(CommandError::rejected)?;
                let item = ItemRef { item_type: ItemType::LiveRoom, item_id: room_id };
                let (paid_by, order) = self.sell(&unit, user, item, details.title().clone(), room.state.host_id(), details.price(), now).await?;
                let registration_id = take_seat(&unit, room_id, user, paid_by, now).await?;
                Ok(Registered { registration_id, room_id, order })
            })
            .await
    }

    pub async fn start(&self, host: Uuid, room_id: Uuid, context: &CommandContext) -> Result<Transacted<Loaded<Room>>, CommandError> {
        self.kernel.execute(&room_stream(room_id), RoomCommand::Start { host_id: host, now: self.kernel.now() }, context).await
    }

    pub async fn complete(&self, host: Uuid, room_id: Uuid, context: &CommandContext) -> Result<Transacted<Loaded<Room>>, CommandError> {
        self.kernel.execute(&room_stream(room_id), RoomCommand::Complete { host_id: host, now: self.kernel.now() }, context).await
    }

    /// The host calls the room off: every paid registration is paid back (the host's earning
    /// reversed, a credit note each) in the same append as the cancellation.
    #[tracing::instrument(skip_all, fields(%host, %room_id))]
    pub async fn cancel(&self, host: Uuid, room_id: Uuid, context: &CommandContext) -> Result<Transacted<Loaded<Room>>, CommandError> {
        let stream = &room_stream(room_id);
        let now = self.kernel.now();
        self.kernel
            .transact_in_turn(stream, context, |unit| async move {
                let mut room = unit.load(stream).await?;
                let cancelled = unit.decide(stream, &mut room, RoomCommand::Cancel { host_id: host, now })?;
                if let Some(RoomEvent::RoomCancelled { registrations, .. }) = cancelled.first() {
                    for paid in registrations.iter().filter_map(|registration| registration.paid_by) {
                        let reason = refund_reason("The host cancelled the live room")?;
                        pay_back(&unit, paid.order_id, Some(vec![paid.order_item_id]), reason, now).await?;
                    }
                }
                Ok(room)
            })
            .await
    }

    /// The scheduler's job for one room: start it if its start has come, complete it if it is
    /// active past its end. Runs any number of times, in any number of processes: one effect.
    pub async fn advance(&self, room_id: Uuid, context: &CommandContext) -> Result<Transacted<Loaded<Room>>, CommandError> {
        let stream = &room_stream(room_id);
        let now = self.kernel.now();
        self.kernel
            .transact(context, |unit| async move {
                let mut room = unit.load(stream).await?;
                unit.decide(stream, &mut room, RoomCommand::RemindIfSoon { now })?;
                unit.decide(stream, &mut room, RoomCommand::StartIfDue { now })?;
                unit.decide(stream, &mut room, RoomCommand::CompleteIfOver { now })?;
                Ok(room)
            })
            .await
    }

    /// A room as the store has it now.
    pub async fn room(&self, room_id: Uuid) -> Result<Loaded<Room>, CommandError> {
        self.kernel.read(&room_stream(room_id)).await
    }

    // ---- the room's chat ----

    /// Posts in the room's chat, as its host or a registrant while it is active: the message's id.
    pub async fn post_message(&self, author: Uuid, room_id: Uuid, message: NewRoomMessage, context: &CommandContext) -> Result<Transacted<Uuid>, CommandError> {
        let (message, message_id, now) = (&message, Uuid::now_v7(), self.kernel.now());
        let stream = &room_message_stream(message_id);
        self.kernel
            .transact(context, |unit| async move {
                unit.check(&unit.load(&room_stream(room_id)).await?, RoomCommand::Speak { user_id: author, now })?;
                let parent = match message.parent_id {
                    Some(parent_id) => Some(unit.load(&room_message_stream(parent_id)).await?.state),
                    None => None,
                };
                let mut posted = unit.create(stream).await?;
                let post = RoomMessageCommand::Post { message_id, room_id, author_id: author, message_type: message.message_type, body: message.body.clone(), parent, now };
                unit.decide(stream, &mut posted, post)?;
                Ok(message_id)
            })
            .await
    }

    /// Pins (`pinned`) or unpins a message of the room's chat, as its host.
    pub async fn pin_message(&self, host: Uuid, room_id: Uuid, message_id: Uuid, pinned: bool, context: &CommandContext) -> Result<Transacted<()>, CommandError> {
        let now = self.kernel.now();
        self.decide_message(room_id, message_id, context, move |room| {
            room.handle(RoomCommand::Moderate { user_id: host }).map_err(CommandError::rejected)?;
            Ok(match pinned {
                true => RoomMessageCommand::Pin { room_id, by: host, now },
                false => RoomMessageCommand::Unpin { room_id, by: host, now },
            })
        })
        .await
    }

    /// Deletes a message of the room's chat, as its author or the room's host.
    pub async fn delete_message(&self, by: Uuid, room_id: Uuid, message_id: Uuid, context: &CommandContext) -> Result<Transacted<()>, CommandError> {
        let now = self.kernel.now();
        self.decide_message(room_id, message_id, context, move |room| {
            let by_host = room.id().is_some() && room.host_id() == by;
            Ok(RoomMessageCommand::Delete { room_id, by, by_host, now })
        })
        .await
    }

    /// Decides on a message of a room's chat what `command` makes of the room.
    async fn decide_message(
        &self,
        room_id: Uuid,
        message_id: Uuid,
        context: &CommandContext,
        command: impl Fn(&Room) -> Result<RoomMessageCommand, CommandError> + Send + Sync,
    ) -> Result<Transacted<()>, CommandError> {
        let (stream, command) = (&room_message_stream(message_id), &command);
        self.kernel
            .transact(context, |unit| async move {
                let decided = command(&unit.load(&room_stream(room_id)).await?.state)?;
                let mut message = unit.load(stream).await?;
                unit.decide(stream, &mut message, decided)?;
                Ok(())
            })
            .await
    }

    // ---- consultations ----

    pub async fn add_availability(&self, speaker: Uuid, availability: Availability, context: &CommandContext) -> Result<Transacted<Uuid>, CommandError> {
        let availability_id = Uuid::now_v7();
        let command = ScheduleCommand::Add { speaker_id: speaker, availability_id, availability };
        let stream = &schedule_stream(speaker);
        let command = &command;
        self.kernel
            .transact_in_turn(stream, context, |unit| async move {
                let mut schedule = unit.load(stream).await?;
                unit.decide(stream, &mut schedule, command.clone())?;
                Ok(availability_id)
            })
            .await
    }

    pub async fn remove_availability(&self, speaker: Uuid, availability_id: Uuid, context: &CommandContext) -> Result<Transacted<Loaded<Schedule>>, CommandError> {
        self.kernel.execute(&schedule_stream(speaker), ScheduleCommand::Remove { availability_id }, context).await
    }

    /// Books the speaker's slot starting at `starts_at` for `student`, paying from the wallet
    /// when it has a price: the slot, the booking and the order in one append.
    #[tracing::instrument(skip_all, fields(%student, %speaker))]
    pub async fn book(&self, student: Uuid, speaker: Uuid, starts_at: DateTime<Utc>, context: &CommandContext) -> Result<Transacted<Booked>, CommandError> {
        let schedule_stream = &schedule_stream(speaker);
        let booking_id = Uuid::now_v7();
        let now = self.kernel.now();
        self.kernel
            .transact_in_turn(schedule_stream, context, |unit| async move {
                let speaker_user = unit.load(&user_stream(speaker)).await?;
                if !speaker_user.state.is_registered() {
                    return Err(CommandError::rejected(UserError::NotRegistered));
                }
                let zone = speaker_user.state.timezone().zone();
                let mut schedule = unit.load(schedule_stream).await?;
                let reserve = ScheduleCommand::Reserve { speaker_id: speaker, booking_id, student_id: student, starts_at, zone, now };
                let Some(ScheduleEvent::SlotReserved { slot, .. }) = unit.decide(schedule_stream, &mut schedule, reserve)?.pop() else {
                    return Err(CommandError::Internal("a reservation decided something else".into()));
                };
                let duration_minutes = u32::try_from((slot.ends_at - slot.starts_at).num_minutes()).unwrap_or(0);
                let title = format!("Consultation, {duration_minutes} minutes, {}", slot.starts_at.format("%Y-%m-%d %H:%M UTC"));
                let title = Title::parse(&title).map_err(CommandError::rejected)?;
                let item = ItemRef { item_type: ItemType::Consultation, item_id: booking_id };
                let (paid_by, order) = self.sell(&unit, student, item, title, speaker, slot.price, now).await?;
                let session = Session {
                    speaker_id: speaker,
                    student_id: student,
                    starts_at: slot.starts_at,
                    duration_minutes,
                    price: slot.price,
                    paid_by,
                    jitsi_room: new_jitsi_room(),
                };
                let stream = &booking_stream(booking_id);
                let mut booking = unit.create(stream).await?;
                let placed = unit.decide(stream, &mut booking, BookingCommand::Place { booking_id, session, now })?.remove(0);
                Ok(Booked { placed, order })
            })
            .await
    }

    /// Either party calls a session off before it starts: the student is paid back in full and
    /// the slot opens again, in one append.
    pub async fn cancel_booking(&self, user: Uuid, booking_id: Uuid, context: &CommandContext) -> Result<Transacted<Loaded<Booking>>, CommandError> {
        let stream = &booking_stream(booking_id);
        let now = self.kernel.now();
        self.kernel
            .transact(context, |unit| async move {
                let mut booking = unit.load(stream).await?;
                let cancelled = unit.decide(stream, &mut booking, BookingCommand::Cancel { by: user, now })?;
                settle_cancellation(&unit, &cancelled, now).await?;
                Ok(booking)
            })
            .await
    }

    pub async fn complete_booking(&self, user: Uuid, booking_id: Uuid, context: &CommandContext) -> Result<Transacted<Loaded<Booking>>, CommandError> {
        self.kernel.execute(&booking_stream(booking_id), BookingCommand::Complete { by: user, now: self.kernel.now() }, context).await
    }

    pub async fn rate_booking(
        &self,
        user: Uuid,
        booking_id: Uuid,
        rating: Rating,
        review: Option<Review>,
        context: &CommandContext,
    ) -> Result<Transacted<Loaded<Booking>>, CommandError> {
        let command = BookingCommand::Rate { by: user, rating, review, now: self.kernel.now() };
        self.kernel.execute(&booking_stream(booking_id), command, context).await
    }

    /// The scheduler's job for one booking: a no-show once a day has passed since its end.
    pub async fn mark_no_show(&self, booking_id: Uuid, context: &CommandContext) -> Result<Transacted<Loaded<Booking>>, CommandError> {
        self.kernel.execute(&booking_stream(booking_id), BookingCommand::MarkNoShowIfDue { now: self.kernel.now() }, context).await
    }

    pub async fn booking(&self, booking_id: Uuid) -> Result<Loaded<Booking>, CommandError> {
        self.kernel.read(&booking_stream(booking_id)).await
    }

    /// A seat's or a session's one-line order, when it has a price: the line that paid, and the
    /// `OrderPlaced` event. Nothing for a free one.
    #[allow(clippy::too_many_arguments)]
    async fn sell(
        &self,
        unit: &UnitOfWork,
        buyer: Uuid,
        item: ItemRef,
        title: Title,
        speaker_id: Uuid,
        price: Money,
        now: DateTime<Utc>,
    ) -> Result<(Option<PaidBy>, Option<OrderEvent>), CommandError> {
        if price.is_zero() {
            return Ok((None, None));
        }
        let (order_id, order_item_id) = (Uuid::now_v7(), Uuid::now_v7());
        let sale = Sale::one(order_item_id, item, title, speaker_id, price);
        let (_, placed) = self.commerce.sell(unit, order_id, buyer, vec![sale], now).await?;
        Ok((Some(PaidBy { order_id, order_item_id }), Some(placed)))
    }
}

/// Takes a seat in the room for `user` in the unit (`paid_by` is the order line that paid for
/// it): the registration's id.
pub(crate) async fn take_seat(unit: &UnitOfWork, room_id: Uuid, user: Uuid, paid_by: Option<PaidBy>, now: DateTime<Utc>) -> Result<Uuid, CommandError> {
    let stream = &room_stream(room_id);
    let mut room = unit.load(stream).await?;
    let registration_id = Uuid::now_v7();
    unit.decide(stream, &mut room, RoomCommand::Register { user_id: user, registration_id, paid_by, now })?;
    Ok(registration_id)
}

/// A refunded order line's seat goes back to the room.
pub(crate) async fn free_seat(unit: &UnitOfWork, room_id: Uuid, order_item_id: Uuid, now: DateTime<Utc>) -> Result<(), CommandError> {
    let stream = &room_stream(room_id);
    let mut room = unit.load(stream).await?;
    // A cancelled room's registrations were paid back with it; nothing to free then.
    if room.state.status() != room::RoomStatus::Cancelled {
        unit.decide(stream, &mut room, RoomCommand::Release { order_item_id, now })?;
    }
    Ok(())
}

/// A refunded session that was not held yet is cancelled, and its slot opens again.
pub(crate) async fn call_off_session(unit: &UnitOfWork, booking_id: Uuid, now: DateTime<Utc>) -> Result<(), CommandError> {
    let stream = &booking_stream(booking_id);
    let mut booking = unit.load(stream).await?;
    let cancelled = unit.decide(stream, &mut booking, BookingCommand::Refunded { now })?;
    release_slot(unit, &cancelled).await
}

/// After a party's cancellation: the slot opens again and a paid session is paid back.
async fn settle_cancellation(unit: &UnitOfWork, cancelled: &[BookingEvent], now: DateTime<Utc>) -> Result<(), CommandError> {
    if let Some(BookingEvent::BookingCancelled { paid_by: Some(paid), .. }) = cancelled.first() {
        pay_back(unit, paid.order_id, Some(vec![paid.order_item_id]), refund_reason("The consultation was cancelled")?, now).await?;
    }
    release_slot(unit, cancelled).await
}

async fn release_slot(unit: &UnitOfWork, cancelled: &[BookingEvent]) -> Result<(), CommandError> {
    if let Some(BookingEvent::BookingCancelled { booking_id, speaker_id, .. }) = cancelled.first() {
        let stream = &schedule_stream(*speaker_id);
        let mut schedule = unit.load(stream).await?;
        unit.decide(stream, &mut schedule, ScheduleCommand::Release { booking_id: *booking_id })?;
    }
    Ok(())
}
