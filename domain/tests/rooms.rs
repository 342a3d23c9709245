//! Rooms and consultations rules: seats, the host's and the scheduler's moves, slots on a wall
//! clock with daylight saving, reservations and bookings.

use chrono::{DateTime, Duration, NaiveTime, Utc};
use domain::catalogue::{Description, Title};
use domain::kernel::testing::given;
use domain::money::Money;
use domain::rooms::booking::{Booking, BookingCommand, BookingEvent, Rating, Session};
use domain::rooms::message::{RoomMessage, RoomMessageBody, RoomMessageCommand, RoomMessageEvent, RoomMessageType};
use domain::rooms::room::{AccessType, PaidBy, Registration, Room, RoomCommand, RoomDetails, RoomEvent};
use domain::rooms::schedule::{Availability, DayOfWeek, Reserved, Schedule, ScheduleCommand, ScheduleEvent, open_slots};
use domain::rooms::{JitsiRoom, RoomsError};
use uuid::Uuid;

fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

fn money(text: &str) -> Money {
    Money::parse(text).unwrap()
}

const HOST: u128 = 1;
const ROOM: u128 = 2;

fn details(price: Option<&str>, seats: u32) -> RoomDetails {
    let access = if price.is_some() { AccessType::Paid } else { AccessType::Free };
    RoomDetails::new(Title::parse("Live").unwrap(), Description::parse("Talk").unwrap(), id(9), at("2026-12-01T17:00:00Z"), 60, access, price.map(money), seats)
        .unwrap()
}

fn scheduled(price: Option<&str>, seats: u32) -> RoomEvent {
    RoomEvent::RoomScheduled {
        room_id: id(ROOM),
        host_id: id(HOST),
        details: details(price, seats),
        jitsi_room: JitsiRoom::from_random(7),
        scheduled_at: at("2026-11-20T10:00:00Z"),
    }
}

fn registered(user: u128, paid_by: Option<PaidBy>) -> RoomEvent {
    RoomEvent::RoomRegistered {
        room_id: id(ROOM),
        registration: Registration { user_id: id(user), registration_id: id(100 + user), paid_by },
        registered_at: at("2026-11-21T10:00:00Z"),
    }
}

#[test]
fn room_details_refuse_what_a_host_cannot_ask() {
    let build = |access, price: Option<&str>, minutes, seats| {
        RoomDetails::new(Title::parse("t").unwrap(), Description::parse("d").unwrap(), id(9), at("2026-12-01T17:00:00Z"), minutes, access, price.map(money), seats)
    };
    assert_eq!(build(AccessType::Paid, None, 60, 10).unwrap_err(), RoomsError::InvalidRoomPrice);
    assert_eq!(build(AccessType::Paid, Some("0.00"), 60, 10).unwrap_err(), RoomsError::InvalidRoomPrice);
    assert_eq!(build(AccessType::Free, Some("5.00"), 60, 10).unwrap_err(), RoomsError::InvalidRoomPrice);
    assert_eq!(build(AccessType::Free, None, 14, 10).unwrap_err(), RoomsError::InvalidDurationMinutes);
    assert_eq!(build(AccessType::Free, None, 60, 0).unwrap_err(), RoomsError::InvalidMaxParticipants);
    assert!(build(AccessType::Free, Some("0.00"), 480, 1000).is_ok());
}

#[test]
fn the_last_seat_goes_once_and_a_paid_seat_needs_its_order_line() {
    let now = at("2026-11-21T12:00:00Z");
    let paid = PaidBy { order_id: id(50), order_item_id: id(51) };
    given::<Room>([scheduled(Some("50.00"), 1)])
        .when(RoomCommand::Register { user_id: id(10), registration_id: id(110), paid_by: None, now })
        .then_rejected(RoomsError::NotAvailable);
    given::<Room>([scheduled(Some("50.00"), 1), registered(10, Some(paid))])
        .when(RoomCommand::Register { user_id: id(11), registration_id: id(111), paid_by: Some(paid), now })
        .then_rejected(RoomsError::RoomFull);
    given::<Room>([scheduled(None, 5), registered(10, None)])
        .when(RoomCommand::Register { user_id: id(10), registration_id: id(112), paid_by: None, now })
        .then_rejected(RoomsError::AlreadyRegistered);
    given::<Room>([scheduled(None, 5)]).when(RoomCommand::Register { user_id: id(HOST), registration_id: id(113), paid_by: None, now }).then_rejected(RoomsError::OwnItem);
    given::<Room>([scheduled(None, 5)])
        .when(RoomCommand::Register { user_id: id(10), registration_id: id(114), paid_by: None, now: at("2026-12-01T18:00:00Z") })
        .then_rejected(RoomsError::NotAvailable);
}

#[test]
fn the_scheduler_moves_a_room_only_when_its_time_has_come_and_only_once() {
    let start = RoomEvent::RoomStarted { room_id: id(ROOM), started_by: None, started_at: at("2026-12-01T17:00:00Z") };
    given::<Room>([scheduled(None, 5)]).when(RoomCommand::StartIfDue { now: at("2026-12-01T16:59:59Z") }).then_nothing();
    given::<Room>([scheduled(None, 5)]).when(RoomCommand::StartIfDue { now: at("2026-12-01T17:00:00Z") }).then(vec![start.clone()]);
    given::<Room>([scheduled(None, 5), start.clone()]).when(RoomCommand::StartIfDue { now: at("2026-12-01T17:30:00Z") }).then_nothing();
    given::<Room>([scheduled(None, 5), start.clone()]).when(RoomCommand::CompleteIfOver { now: at("2026-12-01T17:59:00Z") }).then_nothing();
    given::<Room>([scheduled(None, 5), start])
        .when(RoomCommand::CompleteIfOver { now: at("2026-12-01T18:00:00Z") })
        .then(vec![RoomEvent::RoomCompleted { room_id: id(ROOM), completed_by: None, completed_at: at("2026-12-01T18:00:00Z") }]);
}

#[test]
fn the_host_may_start_ten_minutes_early_and_a_cancellation_names_every_registration() {
    given::<Room>([scheduled(None, 5)]).when(RoomCommand::Start { host_id: id(HOST), now: at("2026-12-01T16:49:00Z") }).then_rejected(RoomsError::InvalidState);
    given::<Room>([scheduled(None, 5)]).when(RoomCommand::Start { host_id: id(10), now: at("2026-12-01T16:55:00Z") }).then_rejected(RoomsError::NotHost);
    given::<Room>([scheduled(None, 5)])
        .when(RoomCommand::Start { host_id: id(HOST), now: at("2026-12-01T16:50:00Z") })
        .then(vec![RoomEvent::RoomStarted { room_id: id(ROOM), started_by: Some(id(HOST)), started_at: at("2026-12-01T16:50:00Z") }]);
    let paid = PaidBy { order_id: id(50), order_item_id: id(51) };
    let now = at("2026-11-25T10:00:00Z");
    given::<Room>([scheduled(Some("50.00"), 5), registered(10, Some(paid))])
        .when(RoomCommand::Cancel { host_id: id(HOST), now })
        .then(vec![RoomEvent::RoomCancelled {
            room_id: id(ROOM),
            registrations: vec![Registration { user_id: id(10), registration_id: id(110), paid_by: Some(paid) }],
            cancelled_at: now,
        }]);
}

fn window(day: DayOfWeek, start: &str, end: &str, minutes: u32) -> Availability {
    let time = |text: &str| NaiveTime::parse_from_str(text, "%H:%M").unwrap();
    Availability::new(day, time(start), time(end), minutes, money("100.00")).unwrap()
}

#[test]
fn slots_skip_the_hour_a_spring_clock_change_removes_and_take_a_repeated_hour_once() {
    let berlin = chrono_tz::Europe::Berlin;
    let sunday = [window(DayOfWeek::Sun, "01:00", "04:00", 60)];
    let now = at("2027-01-01T00:00:00Z");
    let spring = open_slots(&sunday, berlin, at("2027-03-28T00:00:00Z"), at("2027-03-29T00:00:00Z"), now, &[]);
    let starts: Vec<String> = spring.iter().map(|slot| slot.starts_at.to_rfc3339()).collect();
    assert_eq!(starts, ["2027-03-28T00:00:00+00:00", "2027-03-28T01:00:00+00:00"], "02:00 local does not exist that night");
    // 31 October 2027: 02:00–03:00 local happens twice; the session starts at its first occurrence.
    let autumn = open_slots(&sunday, berlin, at("2027-10-30T12:00:00Z"), at("2027-11-01T00:00:00Z"), now, &[]);
    let starts: Vec<String> = autumn.iter().map(|slot| slot.starts_at.to_rfc3339()).collect();
    assert_eq!(starts, ["2027-10-30T23:00:00+00:00", "2027-10-31T00:00:00+00:00", "2027-10-31T02:00:00+00:00"]);
}

#[test]
fn slots_leave_out_started_and_reserved_sessions() {
    let riyadh = chrono_tz::Asia::Riyadh;
    let monday = [window(DayOfWeek::Mon, "10:00", "12:00", 30)];
    let (from, to) = (at("2026-11-30T00:00:00Z"), at("2026-12-01T00:00:00Z"));
    assert_eq!(open_slots(&monday, riyadh, from, to, at("2026-11-01T00:00:00Z"), &[]).len(), 4);
    let started = open_slots(&monday, riyadh, from, to, at("2026-11-30T07:00:00Z"), &[]);
    assert_eq!(started.first().map(|slot| slot.starts_at), Some(at("2026-11-30T07:30:00Z")), "a started slot is past");
    let reserved = [Reserved { starts_at: at("2026-11-30T07:15:00Z"), ends_at: at("2026-11-30T08:15:00Z") }];
    let open: Vec<_> = open_slots(&monday, riyadh, from, to, at("2026-11-01T00:00:00Z"), &reserved).iter().map(|slot| slot.starts_at).collect();
    assert_eq!(open, [at("2026-11-30T08:30:00Z")], "every slot overlapping a booked session is taken");
}

#[test]
fn a_schedule_refuses_overlaps_but_not_touching_windows_and_reserves_a_slot_once() {
    let speaker = id(HOST);
    let added = ScheduleEvent::AvailabilityAdded { speaker_id: speaker, availability_id: id(20), availability: window(DayOfWeek::Mon, "10:00", "12:00", 60) };
    given::<Schedule>([added.clone()])
        .when(ScheduleCommand::Add { speaker_id: speaker, availability_id: id(21), availability: window(DayOfWeek::Mon, "11:59", "13:00", 60) })
        .then_rejected(RoomsError::OverlappingAvailability);
    given::<Schedule>([added.clone()])
        .when(ScheduleCommand::Add { speaker_id: speaker, availability_id: id(21), availability: window(DayOfWeek::Mon, "12:00", "13:00", 60) })
        .then_ok();
    let reserve = |booking: u128, starts_at: &str| ScheduleCommand::Reserve {
        speaker_id: speaker,
        booking_id: id(booking),
        student_id: id(10),
        starts_at: at(starts_at),
        zone: chrono_tz::Asia::Riyadh,
        now: at("2026-11-01T00:00:00Z"),
    };
    let (events, _) = given::<Schedule>([added.clone()]).when(reserve(30, "2026-11-30T07:00:00Z")).then_ok();
    given::<Schedule>([added.clone()].into_iter().chain(events)).when(reserve(31, "2026-11-30T07:00:00Z")).then_rejected(RoomsError::SlotTaken);
    given::<Schedule>([added]).when(reserve(32, "2026-11-30T07:30:00Z")).then_rejected(RoomsError::NotASlot);
}

#[test]
fn a_booking_is_cancelled_before_it_starts_completed_by_its_speaker_after_and_rated_once_by_each_party() {
    let session = Session {
        speaker_id: id(HOST),
        student_id: id(10),
        starts_at: at("2026-11-30T07:00:00Z"),
        duration_minutes: 60,
        price: money("150.00"),
        paid_by: Some(PaidBy { order_id: id(50), order_item_id: id(51) }),
        jitsi_room: JitsiRoom::from_random(3),
    };
    let placed = BookingEvent::BookingPlaced { booking_id: id(40), session, placed_at: at("2026-11-20T00:00:00Z") };
    given::<Booking>([placed.clone()]).when(BookingCommand::Cancel { by: id(99), now: at("2026-11-21T00:00:00Z") }).then_rejected(RoomsError::UnknownBooking);
    given::<Booking>([placed.clone()]).when(BookingCommand::Cancel { by: id(HOST), now: at("2026-11-30T07:00:00Z") }).then_rejected(RoomsError::InvalidState);
    given::<Booking>([placed.clone()]).when(BookingCommand::Complete { by: id(10), now: at("2026-11-30T07:05:00Z") }).then_rejected(RoomsError::NotSpeaker);
    let (completed, _) = given::<Booking>([placed.clone()]).when(BookingCommand::Complete { by: id(HOST), now: at("2026-11-30T07:05:00Z") }).then_ok();
    let rate = |by: u128| BookingCommand::Rate { by: id(by), rating: Rating::new(5).unwrap(), review: None, now: at("2026-11-30T09:00:00Z") };
    let history: Vec<BookingEvent> = [placed.clone()].into_iter().chain(completed).collect();
    let (rated, _) = given::<Booking>(history.clone()).when(rate(10)).then_ok();
    given::<Booking>(history.iter().cloned().chain(rated)).when(rate(10)).then_rejected(RoomsError::AlreadyRated);
    given::<Booking>(history).when(rate(HOST)).then_ok();
    assert_eq!(Rating::new(0).unwrap_err(), RoomsError::InvalidRating);
    let ended = at("2026-11-30T08:00:00Z");
    given::<Booking>([placed.clone()]).when(BookingCommand::MarkNoShowIfDue { now: ended + Duration::hours(23) }).then_nothing();
    given::<Booking>([placed]).when(BookingCommand::MarkNoShowIfDue { now: ended + Duration::hours(24) }).then_ok();
}

#[test]
fn registrants_are_reminded_once_in_the_quarter_hour_before_the_start() {
    let history = [scheduled(None, 10), registered(10, None), registered(11, None)];
    let remind = |time: &str| RoomCommand::RemindIfSoon { now: at(time) };
    given::<Room>(history.clone()).when(remind("2026-12-01T16:44:59Z")).then_nothing();
    let reminded = RoomEvent::RoomStartingSoon {
        room_id: id(ROOM),
        registrants: vec![id(10), id(11)],
        starts_at: at("2026-12-01T17:00:00Z"),
        reminded_at: at("2026-12-01T16:45:00Z"),
    };
    given::<Room>(history.clone()).when(remind("2026-12-01T16:45:00Z")).then(vec![reminded.clone()]);
    let mut told = history.to_vec();
    told.push(reminded);
    given::<Room>(told).when(remind("2026-12-01T16:50:00Z")).then_nothing();
    // Once it has started there is nothing to remind of.
    given::<Room>(history).when(remind("2026-12-01T17:00:00Z")).then_nothing();
}

#[test]
fn the_host_and_registrants_speak_in_an_active_room_and_only_then() {
    let speak = |user: u128, now: &str| RoomCommand::Speak { user_id: id(user), now: at(now) };
    let history = vec![scheduled(None, 10), registered(5, None)];
    given::<Room>(history.clone()).when(speak(5, "2026-12-01T17:05:00Z")).then_rejected(RoomsError::NotStarted);
    let mut active = history;
    active.push(RoomEvent::RoomStarted { room_id: id(ROOM), started_by: Some(id(HOST)), started_at: at("2026-12-01T17:00:00Z") });
    given::<Room>(active.clone()).when(speak(5, "2026-12-01T17:05:00Z")).then_nothing();
    given::<Room>(active.clone()).when(speak(HOST, "2026-12-01T17:05:00Z")).then_nothing();
    given::<Room>(active.clone()).when(speak(6, "2026-12-01T17:05:00Z")).then_rejected(RoomsError::NotRegistered);
    // Past its end, even before the scheduler completes it.
    given::<Room>(active.clone()).when(speak(5, "2026-12-01T18:00:00Z")).then_rejected(RoomsError::NotAvailable);
    given::<Room>(active.clone()).when(RoomCommand::Moderate { user_id: id(5) }).then_rejected(RoomsError::NotHost);
    given::<Room>(active).when(RoomCommand::Moderate { user_id: id(HOST) }).then_nothing();
}

fn post(message: u128, author: u128, parent: Option<RoomMessage>) -> RoomMessageCommand {
    RoomMessageCommand::Post {
        message_id: id(message),
        room_id: id(ROOM),
        author_id: id(author),
        message_type: RoomMessageType::Text,
        body: RoomMessageBody::parse(RoomMessageType::Text, "Salam").unwrap(),
        parent,
        now: at("2026-12-01T17:05:00Z"),
    }
}

#[test]
fn room_messages_reply_one_level_deep_within_their_room_and_the_host_pins_and_deletes() {
    let (events, top) = given::<RoomMessage>([]).when(post(20, 5, None)).then_ok();
    assert!(matches!(&events[..], [RoomMessageEvent::RoomMessagePosted { parent_id: None, .. }]));
    let (_, reply) = given::<RoomMessage>([]).when(post(21, HOST, Some(top.clone()))).then_ok();
    given::<RoomMessage>([]).when(post(22, 5, Some(reply))).then_rejected(RoomsError::InvalidParent);
    given::<RoomMessage>(events.clone()).when(post(20, 5, None)).then_rejected(RoomsError::MessageExists);

    let now = at("2026-12-01T17:06:00Z");
    let pinned = RoomMessageEvent::RoomMessagePinned { room_id: id(ROOM), message_id: id(20), pinned_by: id(HOST), pinned_at: now };
    given::<RoomMessage>(events.clone()).when(RoomMessageCommand::Pin { room_id: id(ROOM), by: id(HOST), now }).then(vec![pinned.clone()]);
    let mut history = events.clone();
    history.push(pinned);
    given::<RoomMessage>(history.clone()).when(RoomMessageCommand::Pin { room_id: id(ROOM), by: id(HOST), now }).then_nothing();
    // A message of another room is not found there.
    given::<RoomMessage>(history.clone()).when(RoomMessageCommand::Pin { room_id: id(99), by: id(HOST), now }).then_rejected(RoomsError::UnknownMessage);
    // Someone else's message: only the host deletes it.
    given::<RoomMessage>(history.clone()).when(RoomMessageCommand::Delete { room_id: id(ROOM), by: id(6), by_host: false, now }).then_rejected(RoomsError::NotHost);
    let state = given::<RoomMessage>(history.clone())
        .when(RoomMessageCommand::Delete { room_id: id(ROOM), by: id(HOST), by_host: true, now })
        .then(vec![RoomMessageEvent::RoomMessageDeleted { room_id: id(ROOM), message_id: id(20), deleted_by: id(HOST), deleted_at: now }]);
    // Deleted: no pin, no replies.
    given::<RoomMessage>([]).when(post(23, 5, Some(state))).then_rejected(RoomsError::InvalidParent);
}

#[test]
fn room_message_bodies_are_texts_or_emoji_only() {
    assert!(RoomMessageBody::parse(RoomMessageType::Emoji, "👏🔥").is_ok());
    for bad in ["ok", "👏 👏", "", "👏👏👏👏👏👏👏👏👏👏👏👏👏👏👏👏👏"] {
        assert_eq!(RoomMessageBody::parse(RoomMessageType::Emoji, bad), Err(RoomsError::InvalidMessageBody), "{bad:?}");
    }
    assert_eq!(RoomMessageBody::parse(RoomMessageType::Text, &"x".repeat(1001)), Err(RoomsError::InvalidMessageBody));
    assert_eq!(RoomMessageType::parse("sticker"), Err(RoomsError::InvalidMessageType));
}
