//! Live rooms and consultations over HTTP. Paid registrations and bookings move money: they take
//! an `Idempotency-Key` (a free room's registration honours one if given), and a repeat is
//! answered from the first one's events. Joining mints a token for the video service (`jitsi`).

pub mod chat;
mod jitsi;
mod views;

use actix_web::http::Method;
use actix_web::{HttpRequest, HttpResponse, web};
use commands::stream::decode;
use commands::{CommandContext, Transacted};
use domain::catalogue::{Description, Title, parse_price};
use domain::commerce::order::OrderEvent;
use domain::kernel::DELETED_USER_NAME;
use domain::rooms::booking::{BookingEvent, Rating, Review};
use domain::rooms::room::{AccessType, Entry, RoomDetails, RoomEvent, RoomStatus};
use domain::rooms::schedule::{Availability, DayOfWeek, SLOT_WINDOW_DAYS_MAX, parse_clock_time};
use domain::users::Role;
use projections::rooms::queries::BookingSide;
use projections::rooms::{ConsultationsProjector, RoomsProjector};
use schemars::JsonSchema;
use serde::Deserialize;
use uuid::Uuid;

use crate::auth::{AuthUser, Viewer};
use crate::catalogue::parse_id;
use crate::envelope::{Pagination, Reply};
use crate::error::ApiError;
use crate::extract::{Body, Fields, Invalid, PageQuery, json_body, parse_instant};
use crate::i18n::Text;
use crate::idempotency::{self, Keyed, appended, first_event};
use crate::openapi::{Op, Routes};
use crate::startup::AppState;

pub use jitsi::JoinView;
pub use views::{AvailabilityView, BookingView, ConsultationRatingView, RatingView, RegistrationView, RoomView, SlotView};

const ROOMS: &[&str] = &[RoomsProjector::NAME];
const CONSULTATIONS: &[&str] = &[ConsultationsProjector::NAME];
/// Slots without a window: the next week.
const SLOT_WINDOW_DAYS_DEFAULT: i64 = 7;

pub fn routes(routes: &mut Routes) {
    use Method as M;
    routes.add(M::POST, "/rooms", create_room,
        Op::new("rooms", "Schedule a live room").auth().body::<RoomRequest>().data::<RoomView>().created().errors(&[403, 404, 422])
            .description("Speakers only. `starts_at` in the future; `duration_minutes` 15–480; `max_participants` 1–1000; a `paid` room \
                          has a VAT-inclusive `price` above 0.00, a `free` one none. An unknown category is 404."));
    routes.add(M::GET, "/rooms", list_rooms,
        Op::new("rooms", "Rooms, soonest first").token_optional().reads(ROOMS).query::<RoomsQuery>().data::<Vec<RoomView>>().errors(&[422])
            .description("`status` is `scheduled`, `active`, `completed` or `cancelled` (all when left out)."));
    routes.add(M::GET, "/rooms/{id}", room,
        Op::new("rooms", "A room").token_optional().reads(ROOMS).path_params(&["id"]).data::<RoomView>().errors(&[404]));
    routes.add(M::POST, "/rooms/{id}/register", register,
        Op::new("rooms", "Register for a room").auth().idempotent_when_paid().path_params(&["id"]).data::<RegistrationView>().created()
            .errors(&[404, 409, 503])
            .description("A paid room is paid from the wallet in the same change as the seat (an order, an invoice, the host's pending \
                          earning) and needs `Idempotency-Key`; a free room does not (one given is honoured). 409 `room_full`, \
                          `already_registered`, `own_item` (the host), `not_available` (completed, cancelled or over), \
                          `insufficient_funds`."));
    routes.add(M::POST, "/rooms/{id}/start", start_room,
        Op::new("rooms", "Start the room (host)").auth().path_params(&["id"]).data::<RoomView>().errors(&[403, 404, 409])
            .description("From ten minutes before `starts_at` until its end; 409 `invalid_state` otherwise."));
    routes.add(M::POST, "/rooms/{id}/complete", complete_room,
        Op::new("rooms", "Complete the room (host)").auth().path_params(&["id"]).data::<RoomView>().errors(&[403, 404, 409])
            .description("An active room only; 409 `invalid_state` otherwise."));
    routes.add(M::POST, "/rooms/{id}/cancel", cancel_room,
        Op::new("rooms", "Cancel the room (host)").auth().path_params(&["id"]).data::<RoomView>().errors(&[403, 404, 409])
            .description("Every paid registration is refunded in the same change (the host's earning reversed, a credit note each)."));
    routes.add(M::GET, "/rooms/{id}/join", join_room,
        Op::new("rooms", "A token to enter the room's video call").auth().path_params(&["id"]).data::<JoinView>().errors(&[403, 404, 409])
            .description("The host from ten minutes before the start until the end (as moderator); registrants while the room is \
                          active (409 `not_started` before). Anyone else: 403."));
    routes.add(M::GET, "/me/rooms", my_rooms,
        Op::new("rooms", "The rooms the caller is registered for").auth().reads(ROOMS).query::<PageQuery>().data::<Vec<RoomView>>()
            .errors(&[422]).description("Cancelled rooms and refunded seats leave the list."));
    routes.add(M::GET, "/me/hosted-rooms", hosted_rooms,
        Op::new("rooms", "The rooms the caller hosts").auth().reads(ROOMS).query::<PageQuery>().data::<Vec<RoomView>>().errors(&[422]));

    routes.add(M::POST, "/consultations/availabilities", add_availability,
        Op::new("consultations", "Open a weekly availability").auth().body::<AvailabilityRequest>().data::<AvailabilityView>().created()
            .errors(&[403, 422])
            .description("Speakers only. Times are `HH:MM` on the speaker's profile time zone; sessions of `session_minutes` run back to \
                          back from `start_time`. Overlapping another availability: 422 `overlapping_availability` (touching is fine)."));
    routes.add(M::GET, "/consultations/availabilities", availabilities,
        Op::new("consultations", "My availabilities").auth().reads(CONSULTATIONS).data::<Vec<AvailabilityView>>().errors(&[403]));
    routes.add(M::DELETE, "/consultations/availabilities/{id}", remove_availability,
        Op::new("consultations", "Remove an availability").auth().path_params(&["id"]).data::<()>().errors(&[403, 404])
            .description("Sessions already booked out of it stay booked."));
    routes.add(M::GET, "/speakers/{id}/slots", slots,
        Op::new("consultations", "A speaker's open slots, in UTC").token_optional().reads(CONSULTATIONS).path_params(&["id"])
            .query::<SlotsQuery>().data::<Vec<SlotView>>().errors(&[404, 422])
            .description("Slots starting in [`from`, `to`) — the next 7 days when left out, at most 31 days — less booked and started \
                          ones, computed on the speaker's wall clock (a time skipped by a clock change gives no slot)."));
    routes.add(M::POST, "/consultations/bookings", book,
        Op::new("consultations", "Book a slot").auth().idempotent().body::<BookingRequest>().data::<BookingView>().created()
            .errors(&[404, 409, 422, 503])
            .description("Pays the slot's price from the wallet in the same change (an order, an invoice, the speaker's pending earning). \
                          409 `slot_taken`, `own_item`, `insufficient_funds`; 422 `not_a_slot` for a time that is not an open slot."));
    routes.add(M::GET, "/consultations/bookings/{id}", booking,
        Op::new("consultations", "A booking").auth().reads(CONSULTATIONS).path_params(&["id"]).data::<BookingView>().errors(&[404])
            .description("For its two parties (and admins); 404 to anyone else."));
    routes.add(M::POST, "/consultations/bookings/{id}/cancel", cancel_booking,
        Op::new("consultations", "Cancel a booking").auth().path_params(&["id"]).data::<BookingView>().errors(&[404, 409])
            .description("Either party, before it starts: the student is refunded in full and the slot opens again. 409 `invalid_state`."));
    routes.add(M::POST, "/consultations/bookings/{id}/complete", complete_booking,
        Op::new("consultations", "Complete a session (speaker)").auth().path_params(&["id"]).data::<BookingView>().errors(&[403, 404, 409])
            .description("Once it has started; 409 `invalid_state` otherwise, 403 for the student."));
    routes.add(M::POST, "/consultations/bookings/{id}/rating", rate_booking,
        Op::new("consultations", "Rate a completed session").auth().path_params(&["id"]).body::<RatingRequest>().data::<RatingView>()
            .created().errors(&[404, 409, 422])
            .description("Each party once (409 `already_rated`), after completion (409 `invalid_state`). The students' ratings make the \
                          speaker's `consultation_rating`."));
    routes.add(M::GET, "/consultations/bookings/{id}/join", join_booking,
        Op::new("consultations", "A token to enter the session's video call").auth().path_params(&["id"]).data::<JoinView>()
            .errors(&[404, 409])
            .description("The speaker from ten minutes before the start (as moderator), the student from the start, both until the end."));
    routes.add(M::GET, "/me/bookings", my_bookings,
        Op::new("consultations", "My bookings, as student and as speaker").auth().reads(CONSULTATIONS).query::<MyBookingsQuery>()
            .data::<Vec<BookingView>>().errors(&[422])
            .description("`as=student` or `as=speaker` narrows the list; cancelled bookings leave it."));
    chat::routes(routes);
}

pub const ROOM_SCHEDULED: Text = Text::new("room_scheduled", "The room is scheduled.", "تمت جدولة الغرفة.");
pub const ROOM_REGISTERED: Text = Text::new("room_registered", "You are registered.", "تم تسجيلك.");
pub const ROOM_UPDATED: Text = Text::new("room_updated", "The room is updated.", "تم تحديث الغرفة.");
pub const AVAILABILITY_ADDED: Text = Text::new("availability_added", "The availability is open.", "تم فتح الموعد المتاح.");
pub const AVAILABILITY_REMOVED: Text = Text::new("availability_removed", "The availability is removed.", "تمت إزالة الموعد المتاح.");
pub const BOOKED: Text = Text::new("booked", "Your session is booked.", "تم حجز جلستك.");
pub const BOOKING_UPDATED: Text = Text::new("booking_updated", "The booking is updated.", "تم تحديث الحجز.");
pub const RATED: Text = Text::new("rated", "Thank you for your rating.", "شكراً لتقييمك.");

/// Messages of the context's conflicts and refusals (`own_item`, `not_available`,
/// `already_registered`, `already_exists` and `invalid_state` are shared with other contexts).
pub const REJECTIONS: &[Text] = &[
    Text::new("not_host", "Only the host may do this.", "هذا الإجراء متاح للمضيف فقط."),
    Text::new("room_full", "This room is full.", "هذه الغرفة ممتلئة."),
    Text::new("not_registered", "You are not registered for this room.", "أنت غير مسجل في هذه الغرفة."),
    Text::new("not_started", "It has not started yet.", "لم تبدأ بعد."),
    Text::new("overlapping_availability", "This availability overlaps another one.", "هذا الموعد المتاح يتداخل مع موعد آخر."),
    Text::new("slot_taken", "This slot is already booked.", "هذا الموعد محجوز مسبقاً."),
    Text::new("not_speaker", "Only the speaker may do this.", "هذا الإجراء متاح للمتحدث فقط."),
    Text::new("already_rated", "You already rated this session.", "لقد قيّمت هذه الجلسة مسبقاً."),
];

pub const INVALID_STATUS: Text = Text::new("invalid_status", "must be scheduled, active, completed or cancelled", "يجب أن تكون scheduled أو active أو completed أو cancelled");
pub const INVALID_TIME: Text = Text::new("invalid_time", "must be HH:MM, from 00:00 to 23:59", "يجب أن يكون بصيغة HH:MM من 00:00 إلى 23:59");
pub const INVALID_WINDOW: Text = Text::new("invalid_window", "must end after it starts, at most 31 days later", "يجب أن تنتهي بعد أن تبدأ وخلال 31 يوماً على الأكثر");
pub const INVALID_SIDE: Text = Text::new("invalid_side", "must be student or speaker", "يجب أن تكون student أو speaker");

/// Reasons of the context's invalid fields.
pub const REASONS: &[Text] = &[
    Text::new("invalid_starts_at", "must be a time in the future", "يجب أن يكون وقتاً في المستقبل"),
    Text::new("invalid_duration_minutes", "must be 15 to 480 minutes", "يجب أن تكون من 15 إلى 480 دقيقة"),
    Text::new("invalid_access_type", "must be free or paid", "يجب أن يكون free أو paid"),
    Text::new("invalid_room_price", "a paid room needs a price above 0.00; a free room takes none", "الغرفة المدفوعة تحتاج سعراً أعلى من 0.00، والمجانية بلا سعر"),
    Text::new("invalid_max_participants", "must be 1 to 1000", "يجب أن يكون من 1 إلى 1000"),
    Text::new("invalid_jitsi_room", "is not a room name this server made", "ليس اسم غرفة أنشأه هذا الخادم"),
    Text::new("invalid_day_of_week", "must be mon, tue, wed, thu, fri, sat or sun", "يجب أن يكون mon أو tue أو wed أو thu أو fri أو sat أو sun"),
    Text::new("end_not_after_start", "must come after the start, on the same day", "يجب أن يأتي بعد البداية في اليوم نفسه"),
    Text::new("invalid_session_minutes", "must be 15 to 240 minutes", "يجب أن تكون من 15 إلى 240 دقيقة"),
    Text::new("session_longer_than_window", "is longer than the window", "أطول من الفترة المتاحة"),
    Text::new("not_a_slot", "is not one of the speaker's open slots", "ليس من المواعيد المتاحة لدى المتحدث"),
    Text::new("invalid_rating", "must be a whole number from 1 to 5", "يجب أن يكون عدداً صحيحاً من 1 إلى 5"),
    Text::new("invalid_review", "must be 1 to 2,000 characters", "يجب أن يكون من 1 إلى 2000 حرف"),
    INVALID_STATUS,
    INVALID_TIME,
    INVALID_WINDOW,
    INVALID_SIDE,
];

// ---- live rooms ----

#[derive(Debug, Deserialize, JsonSchema)]
pub struct RoomRequest {
    #[schemars(example = &"Live Q&A: Tajweed basics")]
    pub title: String,
    #[schemars(example = &"An hour of questions and answers on the rules of recitation.")]
    pub description: String,
    #[schemars(example = &"0193b0e4-7c1a-7b55-9a3e-5b2f4c7d8e90")]
    pub category_id: Uuid,
    /// RFC 3339, in the future.
    #[schemars(example = &"2026-12-01T17:00:00Z")]
    pub starts_at: String,
    #[schemars(example = 60)]
    pub duration_minutes: i64,
    /// `free` or `paid`.
    #[schemars(example = &"paid")]
    pub access_type: String,
    /// VAT included; for a paid room only.
    #[schemars(example = &"50.00")]
    pub price: Option<String>,
    #[schemars(example = 100)]
    pub max_participants: i64,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct RoomsQuery {
    /// `scheduled`, `active`, `completed` or `cancelled`.
    pub status: Option<String>,
    pub page: Option<String>,
    pub per_page: Option<String>,
}

pub async fn create_room(state: web::Data<AppState>, user: AuthUser, body: Body) -> Result<Reply, ApiError> {
    user.require(Role::Speaker)?;
    let input: RoomRequest = json_body(&body)?;
    let mut fields = Fields::default();
    let title = fields.check(Title::parse(&input.title));
    let description = fields.check(Description::parse(&input.description));
    let starts_at = fields.check_as("starts_at", parse_instant(&input.starts_at));
    let access_type = fields.check(AccessType::parse(input.access_type.trim()));
    let price = fields.optional("price", input.price.as_deref().map(parse_price)).flatten();
    let numbers = |value: i64| u32::try_from(value).unwrap_or(u32::MAX);
    fields.done()?;
    let (Some(title), Some(description), Some(starts_at), Some(access_type)) = (title, description, starts_at, access_type) else {
        return Err(ApiError::internal("checked fields missing"));
    };
    let mut fields = Fields::default();
    let details = fields.check(RoomDetails::new(
        title,
        description,
        input.category_id,
        starts_at,
        numbers(input.duration_minutes),
        access_type,
        price,
        numbers(input.max_participants),
    ));
    fields.done()?;
    let Some(details) = details else { return Err(ApiError::internal("checked fields missing")) };
    let scheduled = state.commands.rooms.schedule(user.user_id, details, &user.context()).await?;
    let (room, position) = appended(scheduled)?;
    let room_id = room.state.id().ok_or_else(|| ApiError::internal("a scheduled room without an id"))?;
    Ok(Reply::created(&ROOM_SCHEDULED, shown_room(&state, room_id, user.user_id, position).await?).position(Some(position)))
}

pub async fn list_rooms(state: web::Data<AppState>, viewer: Viewer, query: web::Query<RoomsQuery>) -> Result<Reply, ApiError> {
    let (page, per_page) = PageQuery { page: query.page.clone(), per_page: query.per_page.clone() }.resolve()?;
    let status = match query.status.as_deref() {
        None => None,
        Some(text) => Some(RoomStatus::parse(text).ok_or(ApiError::field("status", &INVALID_STATUS))?),
    };
    let (total, rooms) = state.queries.rooms.rooms(status.map(RoomStatus::as_str), viewer.user_id(), page, per_page).await?;
    Ok(Reply::ok(rooms.into_iter().map(RoomView::from).collect::<Vec<_>>()).pagination(Pagination::new(page, per_page, total)))
}

pub async fn room(state: web::Data<AppState>, viewer: Viewer, id: web::Path<String>) -> Result<Reply, ApiError> {
    let room = state.queries.rooms.room(parse_id(&id)?, viewer.user_id()).await?.ok_or(ApiError::NotFound)?;
    Ok(Reply::ok(RoomView::from(room)))
}

pub async fn register(request: HttpRequest, state: web::Data<AppState>, user: AuthUser, id: web::Path<String>, body: Body) -> Result<HttpResponse, ApiError> {
    let room_id = parse_id(&id)?;
    let has_key = request.headers().contains_key(idempotency::IDEMPOTENCY_KEY_HEADER);
    let work = async |context: CommandContext| {
        let registered = state.commands.rooms.register(user.user_id, room_id, &context).await?;
        Keyed::of(registered, |registered| Ok(Reply::created(&ROOM_REGISTERED, RegistrationView::of(&registered))))
    };
    if !has_key {
        let room = state.commands.rooms.room(room_id).await?.state;
        let details = room.details().ok_or(ApiError::NotFound)?;
        if !details.price().is_zero() {
            return Err(ApiError::MissingIdempotencyKey);
        }
        let keyless = work(user.context()).await?;
        let Keyed::Done(reply) = keyless else { return Err(ApiError::internal("an unkeyed registration replayed")) };
        return Ok(reply.into_response());
    }
    idempotency::run(&state, &request, user.user_id, &body, work, |events| {
        let registration = first_event(events, |event: &RoomEvent| matches!(event, RoomEvent::RoomRegistered { .. }))?;
        let order = events.iter().find_map(|event| decode::<OrderEvent>(event).ok());
        Ok(Reply::created(&ROOM_REGISTERED, RegistrationView::replayed(&registration, order.as_ref())?))
    })
    .await
}

pub async fn start_room(state: web::Data<AppState>, user: AuthUser, id: web::Path<String>) -> Result<Reply, ApiError> {
    let room_id = parse_id(&id)?;
    let started = state.commands.rooms.start(user.user_id, room_id, &user.context()).await?;
    room_changed(&state, &user, room_id, started).await
}

pub async fn complete_room(state: web::Data<AppState>, user: AuthUser, id: web::Path<String>) -> Result<Reply, ApiError> {
    let room_id = parse_id(&id)?;
    let completed = state.commands.rooms.complete(user.user_id, room_id, &user.context()).await?;
    room_changed(&state, &user, room_id, completed).await
}

pub async fn cancel_room(state: web::Data<AppState>, user: AuthUser, id: web::Path<String>) -> Result<Reply, ApiError> {
    let room_id = parse_id(&id)?;
    let cancelled = state.commands.rooms.cancel(user.user_id, room_id, &user.context()).await?;
    room_changed(&state, &user, room_id, cancelled).await
}

async fn room_changed<T>(state: &AppState, user: &AuthUser, room_id: Uuid, changed: Transacted<T>) -> Result<Reply, ApiError> {
    let (_, position) = appended(changed)?;
    Ok(Reply::ok(shown_room(state, room_id, user.user_id, position).await?).message(&ROOM_UPDATED).position(Some(position)))
}

pub async fn join_room(state: web::Data<AppState>, user: AuthUser, id: web::Path<String>) -> Result<Reply, ApiError> {
    let room = state.commands.rooms.room(parse_id(&id)?).await?.state;
    let now = state.commands.kernel.now();
    let entry = room.entry(user.user_id, now).map_err(commands::CommandError::rejected)?;
    let (Some(details), Some(jitsi_room)) = (room.details(), room.jitsi_room()) else { return Err(ApiError::NotFound) };
    let (name, email) = person(&state, user.user_id).await?;
    Ok(Reply::ok(jitsi::join(&state.settings.jitsi, jitsi_room, user.user_id, &name, &email, entry == Entry::Host, now, details.ends_at())?))
}

pub async fn my_rooms(state: web::Data<AppState>, user: AuthUser, query: web::Query<PageQuery>) -> Result<Reply, ApiError> {
    let (page, per_page) = query.resolve()?;
    let (total, rooms) = state.queries.rooms.registered(user.user_id, page, per_page).await?;
    Ok(Reply::ok(rooms.into_iter().map(RoomView::from).collect::<Vec<_>>()).pagination(Pagination::new(page, per_page, total)))
}

pub async fn hosted_rooms(state: web::Data<AppState>, user: AuthUser, query: web::Query<PageQuery>) -> Result<Reply, ApiError> {
    let (page, per_page) = query.resolve()?;
    let (total, rooms) = state.queries.rooms.hosted(user.user_id, page, per_page).await?;
    Ok(Reply::ok(rooms.into_iter().map(RoomView::from).collect::<Vec<_>>()).pagination(Pagination::new(page, per_page, total)))
}

/// The room as its read model shows it once it includes `position`.
async fn shown_room(state: &AppState, room_id: Uuid, viewer: Uuid, position: u64) -> Result<RoomView, ApiError> {
    state.shown(ROOMS, position).await?;
    Ok(state.queries.rooms.room(room_id, Some(viewer)).await?.ok_or_else(|| ApiError::internal("a room its read model lacks"))?.into())
}

// ---- consultations ----

#[derive(Debug, Deserialize, JsonSchema)]
pub struct AvailabilityRequest {
    /// `mon` … `sun`.
    #[schemars(example = &"mon")]
    pub day_of_week: String,
    #[schemars(example = &"18:00")]
    pub start_time: String,
    #[schemars(example = &"21:00")]
    pub end_time: String,
    #[schemars(example = 60)]
    pub session_minutes: i64,
    /// Per session, VAT included.
    #[schemars(example = &"150.00")]
    pub price: String,
}

pub async fn add_availability(state: web::Data<AppState>, user: AuthUser, body: Body) -> Result<Reply, ApiError> {
    user.require(Role::Speaker)?;
    let input: AvailabilityRequest = json_body(&body)?;
    let mut fields = Fields::default();
    let day = fields.check(DayOfWeek::parse(input.day_of_week.trim()));
    let start = fields.check_as("start_time", parse_clock_time(input.start_time.trim()).ok_or(Invalid(&INVALID_TIME)));
    let end = fields.check_as("end_time", parse_clock_time(input.end_time.trim()).ok_or(Invalid(&INVALID_TIME)));
    let price = fields.check_as("price", parse_price(&input.price));
    fields.done()?;
    let (Some(day), Some(start), Some(end), Some(price)) = (day, start, end, price) else { return Err(ApiError::internal("checked fields missing")) };
    let mut fields = Fields::default();
    let availability = fields.check(Availability::new(day, start, end, u32::try_from(input.session_minutes).unwrap_or(0), price));
    fields.done()?;
    let Some(availability) = availability else { return Err(ApiError::internal("checked fields missing")) };
    let added = state.commands.rooms.add_availability(user.user_id, availability, &user.context()).await?;
    let (availability_id, position) = appended(added)?;
    Ok(Reply::created(&AVAILABILITY_ADDED, AvailabilityView::of(availability_id, &availability)).position(Some(position)))
}

pub async fn availabilities(state: web::Data<AppState>, user: AuthUser) -> Result<Reply, ApiError> {
    user.require(Role::Speaker)?;
    let rows = state.queries.rooms.availabilities(user.user_id).await?;
    let whole = Pagination::whole(rows.len() as u64);
    Ok(Reply::ok(rows.iter().map(|row| AvailabilityView::of(row.id, &row.availability)).collect::<Vec<_>>()).pagination(whole))
}

pub async fn remove_availability(state: web::Data<AppState>, user: AuthUser, id: web::Path<String>) -> Result<Reply, ApiError> {
    user.require(Role::Speaker)?;
    let removed = state.commands.rooms.remove_availability(user.user_id, parse_id(&id)?, &user.context()).await?;
    Ok(Reply::ok(serde_json::Value::Null).message(&AVAILABILITY_REMOVED).position(removed.position()))
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct SlotsQuery {
    /// Inclusive: an RFC 3339 date-time, or a date (00:00 Asia/Riyadh). Default: now.
    #[schemars(example = &"2026-12-01")]
    pub from: Option<String>,
    /// Exclusive, at most 31 days after `from`. Default: 7 days after `from`.
    #[schemars(example = &"2026-12-31")]
    pub to: Option<String>,
}

pub async fn slots(state: web::Data<AppState>, id: web::Path<String>, query: web::Query<SlotsQuery>) -> Result<Reply, ApiError> {
    let speaker = parse_id(&id)?;
    let now = state.commands.kernel.now();
    let mut fields = Fields::default();
    let from = fields.optional("from", query.from.as_deref().map(parse_instant)).flatten();
    let to = fields.optional("to", query.to.as_deref().map(parse_instant)).flatten();
    fields.done()?;
    let from = from.unwrap_or(now);
    let to = to.unwrap_or(from + chrono::Duration::days(SLOT_WINDOW_DAYS_DEFAULT));
    if to <= from || to - from > chrono::Duration::days(SLOT_WINDOW_DAYS_MAX) {
        return Err(ApiError::field("to", &INVALID_WINDOW));
    }
    let slots = state.queries.rooms.slots(speaker, from, to, now).await?.ok_or(ApiError::NotFound)?;
    Ok(Reply::ok(slots.iter().map(SlotView::from).collect::<Vec<_>>()).pagination(Pagination::whole(slots.len() as u64)))
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct BookingRequest {
    #[schemars(example = &"0193b0e4-7c1a-7b55-9a3e-5b2f4c7d8e90")]
    pub speaker_id: Uuid,
    /// The slot's start, as `GET /speakers/{id}/slots` gives it.
    #[schemars(example = &"2026-12-01T15:00:00Z")]
    pub starts_at: String,
}

pub async fn book(request: HttpRequest, state: web::Data<AppState>, user: AuthUser, body: Body) -> Result<HttpResponse, ApiError> {
    let input: BookingRequest = json_body(&body)?;
    let mut fields = Fields::default();
    let starts_at = fields.check_as("starts_at", parse_instant(&input.starts_at));
    fields.done()?;
    let Some(starts_at) = starts_at else { return Err(ApiError::internal("checked fields missing")) };
    // Both parties' names, for the answer and for its repeats.
    let people = state.queries.rooms.people(&[user.user_id, input.speaker_id]).await?;
    let work = async |context: CommandContext| {
        let booked = state.commands.rooms.book(user.user_id, input.speaker_id, starts_at, &context).await?;
        Keyed::of(booked, |booked| Ok(Reply::created(&BOOKED, BookingView::placed(&booked.placed, booked.order.as_ref(), &people)?)))
    };
    idempotency::run(&state, &request, user.user_id, &body, work, |events| {
        let placed = first_event(events, |event: &BookingEvent| matches!(event, BookingEvent::BookingPlaced { .. }))?;
        let order = events.iter().find_map(|event| decode::<OrderEvent>(event).ok());
        Ok(Reply::created(&BOOKED, BookingView::placed(&placed, order.as_ref(), &people)?))
    })
    .await
}

pub async fn booking(state: web::Data<AppState>, user: AuthUser, id: web::Path<String>) -> Result<Reply, ApiError> {
    let row = state.queries.rooms.booking(parse_id(&id)?).await?.ok_or(ApiError::NotFound)?;
    if row.student.id != user.user_id && row.speaker.id != user.user_id && !user.has(Role::Admin) {
        return Err(ApiError::NotFound);
    }
    Ok(Reply::ok(BookingView::from(row)))
}

pub async fn cancel_booking(state: web::Data<AppState>, user: AuthUser, id: web::Path<String>) -> Result<Reply, ApiError> {
    let booking_id = parse_id(&id)?;
    let cancelled = state.commands.rooms.cancel_booking(user.user_id, booking_id, &user.context()).await?;
    booking_changed(&state, booking_id, cancelled).await
}

pub async fn complete_booking(state: web::Data<AppState>, user: AuthUser, id: web::Path<String>) -> Result<Reply, ApiError> {
    let booking_id = parse_id(&id)?;
    let completed = state.commands.rooms.complete_booking(user.user_id, booking_id, &user.context()).await?;
    booking_changed(&state, booking_id, completed).await
}

async fn booking_changed<T>(state: &AppState, booking_id: Uuid, changed: Transacted<T>) -> Result<Reply, ApiError> {
    let (_, position) = appended(changed)?;
    state.shown(CONSULTATIONS, position).await?;
    let row = state.queries.rooms.booking(booking_id).await?.ok_or_else(|| ApiError::internal("a booking its read model lacks"))?;
    Ok(Reply::ok(BookingView::from(row)).message(&BOOKING_UPDATED).position(Some(position)))
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct RatingRequest {
    /// 1 to 5.
    #[schemars(example = 5)]
    pub rating: i64,
    #[schemars(example = &"Clear and patient; exactly what I needed.")]
    pub review: Option<String>,
}

pub async fn rate_booking(state: web::Data<AppState>, user: AuthUser, id: web::Path<String>, body: Body) -> Result<Reply, ApiError> {
    let booking_id = parse_id(&id)?;
    let input: RatingRequest = json_body(&body)?;
    let mut fields = Fields::default();
    let rating = fields.check(Rating::new(input.rating));
    let review = fields.optional("review", input.review.as_deref().map(Review::parse)).flatten();
    fields.done()?;
    let Some(rating) = rating else { return Err(ApiError::internal("checked fields missing")) };
    let rated = state.commands.rooms.rate_booking(user.user_id, booking_id, rating, review.clone(), &user.context()).await?;
    let (_, position) = appended(rated)?;
    let view = RatingView { booking_id, rating: rating.value(), review: review.map(String::from) };
    Ok(Reply::created(&RATED, view).position(Some(position)))
}

pub async fn join_booking(state: web::Data<AppState>, user: AuthUser, id: web::Path<String>) -> Result<Reply, ApiError> {
    let booking = state.commands.rooms.booking(parse_id(&id)?).await?.state;
    let now = state.commands.kernel.now();
    let party = booking.entry(user.user_id, now).map_err(commands::CommandError::rejected)?;
    let Some(session) = booking.session() else { return Err(ApiError::NotFound) };
    let (name, email) = person(&state, user.user_id).await?;
    let moderator = party == domain::rooms::booking::Party::Speaker;
    Ok(Reply::ok(jitsi::join(&state.settings.jitsi, &session.jitsi_room, user.user_id, &name, &email, moderator, now, session.ends_at())?))
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct MyBookingsQuery {
    /// `student` or `speaker`; both when left out.
    #[serde(rename = "as")]
    pub side: Option<String>,
    pub page: Option<String>,
    pub per_page: Option<String>,
}

pub async fn my_bookings(state: web::Data<AppState>, user: AuthUser, query: web::Query<MyBookingsQuery>) -> Result<Reply, ApiError> {
    let (page, per_page) = PageQuery { page: query.page.clone(), per_page: query.per_page.clone() }.resolve()?;
    let side = match query.side.as_deref() {
        None => BookingSide::Either,
        Some("student") => BookingSide::Student,
        Some("speaker") => BookingSide::Speaker,
        Some(_) => return Err(ApiError::field("as", &INVALID_SIDE)),
    };
    let (total, rows) = state.queries.rooms.bookings(user.user_id, side, page, per_page).await?;
    Ok(Reply::ok(rows.into_iter().map(BookingView::from).collect::<Vec<_>>()).pagination(Pagination::new(page, per_page, total)))
}

// ---- shared ----

/// A participant's name and email, as the video service shows them (empty once erased).
async fn person(state: &AppState, user_id: Uuid) -> Result<(String, String), ApiError> {
    let found = state.commands.users.load(user_id).await?;
    let name = found.as_ref().and_then(|user| user.name()).map_or_else(|| DELETED_USER_NAME.to_owned(), |name| name.as_str().to_owned());
    let email = found.as_ref().and_then(|user| user.email()).map_or_else(String::new, |email| email.as_str().to_owned());
    Ok((name, email))
}
