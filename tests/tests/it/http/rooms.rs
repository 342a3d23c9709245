//! Live rooms and consultations over HTTP: paid seats sold like courses, capacity under a race,
//! the host's actions and the scheduler's (on a clock the tests move, never by sleeping), Jitsi
//! tokens decoded and checked, slots across a clock change, bookings, ratings and rebuilds.

use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Value, json};
use uuid::Uuid;

use super::catalogue::{id, patch};
use super::commerce::{Shop, add, checkout, shop_on, transactions, wallet_pay};
use super::{ADMIN_EMAIL, ADMIN_PASSWORD, assert_error, cli, count_events, dump, key, read};
use crate::api::{NO_RATE_LIMITS, Response, Session, TestApp};

async fn spawn() -> TestApp {
    let [limit, auth_limit] = NO_RATE_LIMITS;
    TestApp::spawn(&[limit, auth_limit, ("BOOTSTRAP_ADMIN_EMAIL", ADMIN_EMAIL), ("BOOTSTRAP_ADMIN_PASSWORD", ADMIN_PASSWORD)]).await
}

async fn shop(funds: &str) -> Shop {
    shop_on(spawn().await, funds).await
}

pub(crate) fn now(app: &TestApp) -> DateTime<Utc> {
    app.state.commands.kernel.now()
}

/// Schedules a room starting `in_minutes` from the server's now.
pub(crate) async fn room(app: &TestApp, host: &Session, category_id: Uuid, price: Option<&str>, seats: u32, in_minutes: i64) -> Uuid {
    let starts_at = now(app) + Duration::minutes(in_minutes);
    let mut body = json!({ "title": "Tajweed live", "description": "Questions and answers.", "category_id": category_id,
                           "starts_at": starts_at.to_rfc3339(), "duration_minutes": 60, "max_participants": seats,
                           "access_type": if price.is_some() { "paid" } else { "free" } });
    if let Some(price) = price {
        body["price"] = json!(price);
    }
    let created = app.post_json("/rooms", Some(&host.token), &[], &body).await;
    assert_eq!(created.status, 201, "{}", created.text);
    assert_eq!(created.body["data"]["status"], "scheduled");
    id(&created.body["data"]["id"])
}

pub(crate) async fn register(app: &TestApp, user: &Session, room_id: Uuid, key: Option<&str>) -> Response {
    let headers: Vec<(&str, &str)> = key.map(|key| ("Idempotency-Key", key)).into_iter().collect();
    app.post_json(&format!("/rooms/{room_id}/register"), Some(&user.token), &headers, &json!({})).await
}

pub(crate) async fn act(app: &TestApp, user: &Session, path: &str) -> Response {
    app.post_json(path, Some(&user.token), &[], &json!({})).await
}

async fn funded_student(app: &TestApp, funds: &str) -> Session {
    let student = app.register("student").await;
    app.fund(&student.token, funds).await;
    student
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paid_seat_is_sold_like_a_course_and_every_refusal_changes_nothing() {
    let Shop { app, category_id, speaker, student, .. } = shop("300.00").await;
    let paid = room(&app, &speaker, category_id, Some("115.00"), 2, 60).await;
    let shown = read(&app, &format!("/rooms/{paid}"), None).await;
    assert_eq!((shown.body["data"]["price"].as_str(), shown.body["data"]["is_registered"].as_bool()), (Some("115.00"), Some(false)));
    assert!(!shown.text.contains("ispeaker-"), "the video room's name is never public: {}", shown.text);

    assert_error(&register(&app, &student, paid, None).await, 400, "missing_idempotency_key");
    let first_key = key();
    let seat = register(&app, &student, paid, Some(&first_key)).await;
    assert_eq!(seat.status, 201, "{}", seat.text);
    assert_eq!(seat.body["data"]["status"], "registered");
    let invoice_id = seat.body["data"]["invoice_id"].as_str().expect("a paid seat is invoiced").to_owned();
    let again = register(&app, &student, paid, Some(&first_key)).await;
    assert_eq!((again.status, again.header("Idempotent-Replayed")), (201, Some("true")), "{}", again.text);
    assert_eq!(again.body["data"], seat.body["data"]);
    assert_error(&register(&app, &student, paid, Some(&key())).await, 409, "already_registered");
    assert_error(&register(&app, &speaker, paid, Some(&key())).await, 409, "own_item");
    assert_eq!(super::balance(&app, &student.token).await, "185.00");
    let history = transactions(&app, &student).await;
    assert_eq!((history[0]["category"].as_str(), history[0]["amount"].as_str()), (Some("live_room"), Some("115.00")), "{history:?}");
    let host_history = transactions(&app, &speaker).await;
    assert_eq!((host_history[0]["category"].as_str(), host_history[0]["status"].as_str(), host_history[0]["amount"].as_str()),
               (Some("earning"), Some("pending"), Some("80.00")), "the host's earning is pending: {host_history:?}");
    let position = seat.body["meta"]["position"].as_u64().unwrap().to_string();
    let invoice = app.send(reqwest::Method::GET, &format!("/invoices/{invoice_id}"), Some(&student.token), &[("X-Min-Position", &position)], None).await;
    assert_eq!((invoice.status, invoice.body["data"]["total"].as_str()), (200, Some("115.00")), "{}", invoice.text);

    // The cart sells the same seat with the same events; the last seat taken, the room is full.
    let other = funded_student(&app, "200.00").await;
    assert_eq!(add(&app, &other, "live_room", paid).await.status, 201);
    let bought = checkout(&app, &other, &key(), &wallet_pay()).await;
    assert_eq!(bought.status, 201, "{}", bought.text);
    assert_eq!(count_events(&app, "RoomRegistered").await, 2);
    assert_eq!(count_events(&app, "OrderPlaced").await, 2);
    let late = funded_student(&app, "200.00").await;
    assert_error(&add(&app, &late, "live_room", paid).await, 409, "room_full");
    let before = super::head(&app).await;
    assert_error(&register(&app, &late, paid, Some(&key())).await, 409, "room_full");
    assert_eq!(super::head(&app).await, before, "a refused registration appends nothing");
    assert_eq!(super::balance(&app, &late.token).await, "200.00");

    // A free room needs no key; a poor student cannot buy a paid one.
    let free = room(&app, &speaker, category_id, None, 10, 60).await;
    let free_seat = register(&app, &late, free, None).await;
    assert_eq!(free_seat.status, 201, "{}", free_seat.text);
    assert!(free_seat.body["data"].get("order_id").is_none(), "{}", free_seat.text);
    let poor = app.register("student").await;
    let pricey = room(&app, &speaker, category_id, Some("50.00"), 10, 60).await;
    assert_error(&register(&app, &poor, pricey, Some(&key())).await, 409, "insufficient_funds");
    let mine = app.send(reqwest::Method::GET, "/me/rooms", Some(&late.token), &[("X-Min-Position", &super::head(&app).await.to_string())], None).await;
    assert_eq!(mine.body["data"].as_array().map(Vec::len), Some(1), "{}", mine.text);
    let invalid = app.post_json("/rooms", Some(&speaker.token), &[], &json!({ "title": "", "description": "x", "category_id": category_id,
        "starts_at": (now(&app) - Duration::hours(1)).to_rfc3339(), "duration_minutes": 5, "access_type": "paid", "max_participants": 0 })).await;
    assert_eq!(invalid.status, 422, "{}", invalid.text);
    assert_error(&app.post_json("/rooms", Some(&late.token), &[], &json!({})).await, 403, "forbidden");
    let (status, report) = cli(&app, &["audit", "wallet", "--all"]).await;
    assert_eq!(status, replay_tools::ExitStatus::Success, "{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thirty_students_racing_for_the_last_five_seats_leave_exactly_five_registered_and_five_debits() {
    let Shop { app, category_id, speaker, .. } = shop("1.00").await;
    let room_id = room(&app, &speaker, category_id, Some("20.00"), 5, 60).await;
    let mut students = Vec::new();
    for _ in 0..30 {
        students.push(funded_student(&app, "20.00").await);
    }
    let debits_before = count_events(&app, "WalletDebited").await;
    let keys: Vec<String> = students.iter().map(|_| key()).collect();
    let answers = futures::future::join_all(students.iter().zip(&keys).map(|(student, key)| register(&app, student, room_id, Some(key)))).await;
    let statuses: Vec<u16> = answers.iter().map(|answer| answer.status).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 5, "{statuses:?}");
    for refused in answers.iter().filter(|answer| answer.status != 201) {
        assert_error(refused, 409, "room_full");
    }
    assert_eq!(count_events(&app, "WalletDebited").await - debits_before, 5);
    assert_eq!(count_events(&app, "RoomRegistered").await, 5);
    let shown = read(&app, &format!("/rooms/{room_id}"), None).await;
    assert_eq!(shown.body["data"]["registered_count"], 5, "{}", shown.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_host_starts_completes_and_cancels_and_a_cancellation_refunds_every_paid_seat_in_one_append() {
    let Shop { app, category_id, speaker, student, .. } = shop("300.00").await;
    let stranger = app.register("speaker").await;
    let room_id = room(&app, &speaker, category_id, None, 10, 60).await;
    assert_error(&act(&app, &speaker, &format!("/rooms/{room_id}/start")).await, 409, "invalid_state");
    app.state.commands.kernel.clock().advance(Duration::minutes(55));
    assert_error(&act(&app, &stranger, &format!("/rooms/{room_id}/start")).await, 403, "not_host");
    let started = act(&app, &speaker, &format!("/rooms/{room_id}/start")).await;
    assert_eq!((started.status, started.body["data"]["status"].as_str()), (200, Some("active")), "{}", started.text);
    assert_error(&act(&app, &speaker, &format!("/rooms/{room_id}/start")).await, 409, "invalid_state");
    let completed = act(&app, &speaker, &format!("/rooms/{room_id}/complete")).await;
    assert_eq!(completed.body["data"]["status"], "completed", "{}", completed.text);
    assert_error(&register(&app, &student, room_id, None).await, 409, "not_available");

    let paid = room(&app, &speaker, category_id, Some("115.00"), 10, 120).await;
    let other = funded_student(&app, "115.00").await;
    for buyer in [&student, &other] {
        assert_eq!(register(&app, buyer, paid, Some(&key())).await.status, 201);
    }
    let cancelled = act(&app, &speaker, &format!("/rooms/{paid}/cancel")).await;
    assert_eq!((cancelled.status, cancelled.body["data"]["status"].as_str()), (200, Some("cancelled")), "{}", cancelled.text);
    assert_eq!(count_events(&app, "OrderRefunded").await, 2);
    assert_eq!(super::balance(&app, &student.token).await, "300.00");
    assert_eq!(super::balance(&app, &other.token).await, "115.00");
    let host = super::commerce::wallet_of(&app, &speaker).await;
    assert_eq!((host["pending_balance"].as_str(), host["total_earned"].as_str()), (Some("0.00"), Some("0.00")), "{host}");
    assert_eq!(transactions(&app, &student).await[0]["category"], "refund");
    let position = cancelled.body["meta"]["position"].as_u64().unwrap().to_string();
    let invoices = app.send(reqwest::Method::GET, "/invoices", Some(&student.token), &[("X-Min-Position", &position)], None).await;
    let kinds: Vec<&str> = invoices.body["data"].as_array().unwrap().iter().filter_map(|doc| doc["kind"].as_str()).collect();
    assert!(kinds.contains(&"credit_note") && kinds.contains(&"invoice"), "{}", invoices.text);
    assert_error(&act(&app, &speaker, &format!("/rooms/{paid}/cancel")).await, 409, "invalid_state");
    assert_error(&register(&app, &student, paid, Some(&key())).await, 409, "not_available");
    let (status, report) = cli(&app, &["audit", "wallet", "--all"]).await;
    assert_eq!(status, replay_tools::ExitStatus::Success, "{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scheduler_starts_due_rooms_and_completes_overdue_ones_once_however_often_it_runs() {
    let Shop { app, category_id, speaker, .. } = shop("1.00").await;
    let room_id = room(&app, &speaker, category_id, None, 30, 30).await;
    let (commands, queries) = (&app.state.commands, &app.state.queries);
    assert_eq!(api::scheduler::tick(commands, queries).await.unwrap().rooms_advanced, 0, "nothing is due yet");
    app.state.commands.kernel.clock().advance(Duration::minutes(31));
    // Two runners at once, then a third: one start.
    let (first, second) = tokio::join!(api::scheduler::tick(commands, queries), api::scheduler::tick(commands, queries));
    assert_eq!(first.unwrap().rooms_advanced + second.unwrap().rooms_advanced, 1);
    settled(&app).await;
    assert_eq!(api::scheduler::tick(commands, queries).await.unwrap().rooms_advanced, 0);
    assert_eq!(count_events(&app, "RoomStarted").await, 1);
    assert_eq!(read(&app, &format!("/rooms/{room_id}"), None).await.body["data"]["status"], "active");
    app.state.commands.kernel.clock().advance(Duration::minutes(60));
    assert_eq!(api::scheduler::tick(commands, queries).await.unwrap().rooms_advanced, 1);
    settled(&app).await;
    assert_eq!(api::scheduler::tick(commands, queries).await.unwrap().rooms_advanced, 0);
    assert_eq!(count_events(&app, "RoomCompleted").await, 1);
    let completed = read(&app, "/rooms?status=completed", None).await;
    assert_eq!(completed.body["data"][0]["id"], room_id.to_string(), "{}", completed.text);
}

async fn rate(app: &TestApp, path: &str, user: &Session, rating: i64) -> Response {
    app.post_json(path, Some(&user.token), &[], &json!({ "rating": rating, "review": "Clear." })).await
}

/// Waits until the rooms read model has everything appended so far.
async fn settled(app: &TestApp) {
    let position = super::head(app).await;
    assert!(app.state.projections.wait_for(&["rooms"], position, std::time::Duration::from_secs(5)).await);
}

fn decode_jitsi(token: &str) -> Value {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_audience(&["ispeaker-live"]);
    validation.set_issuer(&["ispeaker-live"]);
    validation.set_required_spec_claims(&["exp", "nbf", "aud", "iss", "sub"]);
    // The server's clock runs ahead of the real one in these tests: the times are checked below.
    validation.validate_exp = false;
    validation.validate_nbf = false;
    let secret = tests::JITSI.iter().find(|(name, _)| *name == "JITSI_APP_SECRET").unwrap().1;
    jsonwebtoken::decode::<Value>(token, &DecodingKey::from_secret(secret.as_bytes()), &validation).expect("signed with the app secret").claims
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn joining_mints_a_jitsi_token_for_the_host_early_and_for_registrants_while_the_room_is_active() {
    let Shop { app, category_id, speaker, student, .. } = shop("1.00").await;
    let stranger = app.register("student").await;
    let room_id = room(&app, &speaker, category_id, None, 5, 30).await;
    // The room's own start: computing it again here can land a second later under load.
    let scheduled = read(&app, &format!("/rooms/{room_id}"), None).await;
    let starts_at: DateTime<Utc> = scheduled.body["data"]["starts_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(register(&app, &student, room_id, None).await.status, 201);
    let path = format!("/rooms/{room_id}/join");
    assert_error(&read(&app, &path, Some(&speaker.token)).await, 409, "not_started");
    assert_error(&read(&app, &path, Some(&student.token)).await, 409, "not_started");
    assert_error(&read(&app, &path, Some(&stranger.token)).await, 403, "not_registered");

    app.state.commands.kernel.clock().advance(Duration::minutes(25));
    let minted_at = now(&app).timestamp();
    let host = read(&app, &path, Some(&speaker.token)).await;
    assert_eq!(host.status, 200, "{}", host.text);
    let jitsi_room = host.body["data"]["jitsi_room"].as_str().unwrap().to_owned();
    let token = host.body["data"]["jwt"].as_str().unwrap();
    assert_eq!(host.body["data"]["url"].as_str(), Some(format!("https://meet.ispeaker.test/{jitsi_room}?jwt={token}").as_str()));
    let claims = decode_jitsi(token);
    assert_eq!((claims["iss"].as_str(), claims["aud"].as_str(), claims["sub"].as_str(), claims["room"].as_str()),
               (Some("ispeaker-live"), Some("ispeaker-live"), Some("meet.ispeaker.test"), Some(jitsi_room.as_str())));
    assert!((claims["nbf"].as_i64().unwrap() - minted_at).abs() <= 5, "nbf is the moment of minting: {claims}");
    assert_eq!(claims["exp"].as_i64(), Some((starts_at + Duration::minutes(60 + 15)).timestamp()), "{claims}");
    let user = &claims["context"]["user"];
    assert_eq!((user["id"].as_str(), user["name"].as_str(), user["email"].as_str(), user["avatar"].as_str(), user["moderator"].as_bool()),
               (Some(speaker.user_id.to_string().as_str()), Some("Test User"), Some(speaker.email.as_str()), Some(""), Some(true)));
    assert!(jitsi_room.len() >= 32 && !read(&app, "/rooms", None).await.text.contains(&jitsi_room));
    assert_error(&read(&app, &path, Some(&student.token)).await, 409, "not_started");

    assert_eq!(act(&app, &speaker, &format!("/rooms/{room_id}/start")).await.status, 200);
    let guest = read(&app, &path, Some(&student.token)).await;
    assert_eq!(guest.status, 200, "{}", guest.text);
    let claims = decode_jitsi(guest.body["data"]["jwt"].as_str().unwrap());
    assert_eq!((claims["room"].as_str(), claims["context"]["user"]["moderator"].as_bool()), (Some(jitsi_room.as_str()), Some(false)));
    assert_eq!(claims["context"]["user"]["email"].as_str(), Some(student.email.as_str()));
    assert_error(&read(&app, &path, Some(&stranger.token)).await, 403, "not_registered");
}

async fn set_timezone(app: &TestApp, user: &Session, timezone: &str) -> Response {
    patch(app, "/me/profile", &user.token, &json!({ "timezone": timezone })).await
}

pub(crate) async fn availability(app: &TestApp, speaker: &Session, day: &str, start: &str, end: &str, minutes: u32, price: &str) -> Response {
    let body = json!({ "day_of_week": day, "start_time": start, "end_time": end, "session_minutes": minutes, "price": price });
    app.post_json("/consultations/availabilities", Some(&speaker.token), &[], &body).await
}

async fn slots(app: &TestApp, speaker: &Session, from: &str, to: &str) -> Vec<(String, String)> {
    let position = super::head(app).await.to_string();
    let path = format!("/speakers/{}/slots?from={from}&to={to}", speaker.user_id);
    let response = app.send(reqwest::Method::GET, &path, None, &[("X-Min-Position", &position)], None).await;
    assert_eq!(response.status, 200, "{}", response.text);
    response.body["data"].as_array().unwrap().iter().map(|slot| (slot["starts_at"].as_str().unwrap().to_owned(), slot["ends_at"].as_str().unwrap().to_owned())).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slots_follow_the_speakers_wall_clock_across_a_daylight_saving_change() {
    let Shop { app, speaker, .. } = shop("1.00").await;
    // To 2027-03-18, before Berlin's clocks jump from 02:00 to 03:00 on Sunday 2027-03-28.
    let target = "2027-03-18T00:00:00Z".parse::<DateTime<Utc>>().unwrap();
    app.state.commands.kernel.clock().advance(target - now(&app));
    assert_eq!(set_timezone(&app, &speaker, "Europe/Berlin").await.body["data"]["timezone"], "Europe/Berlin");
    assert_error(&set_timezone(&app, &speaker, "Mars/Olympus").await, 422, "validation_failed");
    assert_eq!(availability(&app, &speaker, "sun", "01:00", "04:00", 60, "100.00").await.status, 201);
    let overlapping = availability(&app, &speaker, "sun", "03:30", "05:00", 30, "100.00").await;
    assert_error(&overlapping, 422, "overlapping_availability");
    assert_eq!(availability(&app, &speaker, "sun", "04:00", "05:00", 60, "100.00").await.status, 201, "touching is not overlapping");

    let found = slots(&app, &speaker, "2027-03-20T00:00:00Z", "2027-04-05T00:00:00Z").await;
    let starts: Vec<&str> = found.iter().map(|(start, _)| start.as_str()).collect();
    assert_eq!(starts, [
        // 21 March, CET (UTC+1): 01:00, 02:00, 03:00 and 04:00 local.
        "2027-03-21T00:00:00Z", "2027-03-21T01:00:00Z", "2027-03-21T02:00:00Z", "2027-03-21T03:00:00Z",
        // 28 March: 02:00 local does not exist; 01:00 is CET, 03:00 and 04:00 CEST (UTC+2).
        "2027-03-28T00:00:00Z", "2027-03-28T01:00:00Z", "2027-03-28T02:00:00Z",
        // 4 April, CEST: 01:00 local is 23:00 UTC the day before.
        "2027-04-03T23:00:00Z", "2027-04-04T00:00:00Z", "2027-04-04T01:00:00Z", "2027-04-04T02:00:00Z",
    ]);
    assert_eq!(found[5].1, "2027-03-28T02:00:00Z", "a session lasts its minutes of real time");
    let too_wide = app.send(reqwest::Method::GET, &format!("/speakers/{}/slots?from=2027-03-20&to=2027-04-25", speaker.user_id), None, &[], None).await;
    assert_error(&too_wide, 422, "validation_failed");
    assert_error(&read(&app, &format!("/speakers/{}/slots", Uuid::now_v7()), None).await, 404, "not_found");
}

pub(crate) async fn book(app: &TestApp, student: &Session, speaker: &Session, starts_at: &str) -> Response {
    let body = json!({ "speaker_id": speaker.user_id, "starts_at": starts_at });
    app.post_json("/consultations/bookings", Some(&student.token), &[("Idempotency-Key", &key())], &body).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bookings_pay_take_the_slot_refund_on_cancel_complete_and_are_rated_once_by_each_party() {
    let Shop { app, speaker, student, .. } = shop("500.00").await;
    let monday = (now(&app) + Duration::days(7)).date_naive();
    let monday = monday + Duration::days(i64::from(7 - chrono::Datelike::weekday(&monday).num_days_from_monday()) % 7);
    assert_eq!(availability(&app, &speaker, "mon", "10:00", "12:00", 60, "150.00").await.status, 201);
    // Riyadh is UTC+3: 10:00 and 11:00 local.
    let (ten, eleven) = (format!("{monday}T07:00:00Z"), format!("{monday}T08:00:00Z"));
    let window = |day: chrono::NaiveDate| (format!("{day}T00:00:00Z"), format!("{}T00:00:00Z", day + Duration::days(1)));
    let (from, to) = window(monday);
    assert_eq!(slots(&app, &speaker, &from, &to).await.len(), 2);

    assert_error(&book(&app, &student, &speaker, &format!("{monday}T07:30:00Z")).await, 422, "validation_failed");
    assert_error(&book(&app, &speaker, &speaker, &ten).await, 409, "own_item");
    // Twenty students race for the 10:00 slot: one booking, one debit.
    let mut racers = Vec::new();
    for _ in 0..20 {
        racers.push(funded_student(&app, "150.00").await);
    }
    let debits_before = count_events(&app, "WalletDebited").await;
    let answers = futures::future::join_all(racers.iter().map(|racer| book(&app, racer, &speaker, &ten))).await;
    let won: Vec<&Response> = answers.iter().filter(|answer| answer.status == 201).collect();
    assert_eq!(won.len(), 1, "{:?}", answers.iter().map(|a| a.status).collect::<Vec<_>>());
    for lost in answers.iter().filter(|answer| answer.status != 201) {
        assert_error(lost, 409, "slot_taken");
    }
    assert_eq!(count_events(&app, "WalletDebited").await - debits_before, 1);
    let booking = &won[0].body["data"];
    assert_eq!((booking["status"].as_str(), booking["price"].as_str(), booking["duration_minutes"].as_u64()), (Some("scheduled"), Some("150.00"), Some(60)));
    assert!(booking["invoice_id"].is_string(), "{booking}");
    let winner = racers.iter().find(|racer| racer.user_id.to_string() == booking["student"]["id"]).unwrap();
    let booking_id = id(&booking["id"]);
    assert_eq!(slots(&app, &speaker, &from, &to).await, [(eleven.clone(), format!("{monday}T09:00:00Z"))], "the booked slot is gone");
    let stranger = app.register("student").await;
    assert_error(&read(&app, &format!("/consultations/bookings/{booking_id}"), Some(&stranger.token)).await, 404, "not_found");

    // The student cancels before the start: refunded in full, the slot open again.
    let before = super::balance(&app, &winner.token).await;
    let cancelled = act(&app, winner, &format!("/consultations/bookings/{booking_id}/cancel")).await;
    assert_eq!((cancelled.status, cancelled.body["data"]["status"].as_str()), (200, Some("cancelled")), "{}", cancelled.text);
    let refunded: f64 = super::balance(&app, &winner.token).await.parse::<f64>().unwrap() - before.parse::<f64>().unwrap();
    assert!((refunded - 150.0).abs() < 0.001, "refunded {refunded}");
    assert_eq!(slots(&app, &speaker, &from, &to).await.len(), 2, "a cancelled booking's slot opens again");
    assert_error(&act(&app, winner, &format!("/consultations/bookings/{booking_id}/cancel")).await, 409, "invalid_state");

    // Booked again, completed by the speaker once started, rated once by each party.
    let rebooked = book(&app, &student, &speaker, &eleven).await;
    assert_eq!(rebooked.status, 201, "{}", rebooked.text);
    let rebooked_id = id(&rebooked.body["data"]["id"]);
    let complete = format!("/consultations/bookings/{rebooked_id}/complete");
    assert_error(&act(&app, &speaker, &complete).await, 409, "invalid_state");
    let rating_path = format!("/consultations/bookings/{rebooked_id}/rating");
    assert_error(&rate(&app, &rating_path, &student, 5).await, 409, "invalid_state");
    let eleven_at = eleven.parse::<DateTime<Utc>>().unwrap();
    app.state.commands.kernel.clock().advance(eleven_at - now(&app) + Duration::minutes(5));
    assert_error(&act(&app, &student, &format!("/consultations/bookings/{rebooked_id}/cancel")).await, 409, "invalid_state");
    assert_error(&act(&app, &student, &complete).await, 403, "not_speaker");
    let done = act(&app, &speaker, &complete).await;
    assert_eq!(done.body["data"]["status"], "completed", "{}", done.text);
    assert_error(&rate(&app, &rating_path, &student, 6).await, 422, "validation_failed");
    assert_eq!(rate(&app, &rating_path, &student, 4).await.status, 201);
    assert_error(&rate(&app, &rating_path, &student, 5).await, 409, "already_rated");
    assert_eq!(rate(&app, &rating_path, &speaker, 5).await.status, 201);
    let profile = app.send(reqwest::Method::GET, &format!("/users/{}", speaker.username), None, &[("X-Min-Position", &super::head(&app).await.to_string())], None).await;
    assert_eq!(profile.body["data"]["consultation_rating"], json!({ "average": "4.00", "count": 1 }), "{}", profile.text);
    let mine = read(&app, "/me/bookings?as=speaker", Some(&speaker.token)).await;
    assert_eq!(mine.body["data"].as_array().map(Vec::len), Some(1), "cancelled bookings leave the list: {}", mine.text);
    let (status, report) = cli(&app, &["audit", "wallet", "--all"]).await;
    assert_eq!(status, replay_tools::ExitStatus::Success, "{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_uncompleted_booking_becomes_a_no_show_a_day_after_it_ends_and_the_read_models_rebuild_identically() {
    let Shop { app, category_id, speaker, student, .. } = shop("500.00").await;
    assert_eq!(availability(&app, &speaker, "tue", "09:00", "10:00", 30, "60.00").await.status, 201);
    let tuesday = (now(&app) + Duration::days(1)).date_naive();
    let tuesday = tuesday + Duration::days(i64::from(8 - chrono::Datelike::weekday(&tuesday).num_days_from_monday()) % 7);
    let booked = book(&app, &student, &speaker, &format!("{tuesday}T06:00:00Z")).await;
    assert_eq!(booked.status, 201, "{}", booked.text);
    let booking_id = id(&booked.body["data"]["id"]);
    let room_id = room(&app, &speaker, category_id, Some("30.00"), 5, 60).await;
    assert_eq!(register(&app, &student, room_id, Some(&key())).await.status, 201);
    let (commands, queries) = (&app.state.commands, &app.state.queries);
    let end = format!("{tuesday}T06:30:00Z").parse::<DateTime<Utc>>().unwrap();
    app.state.commands.kernel.clock().advance(end - now(&app) + Duration::hours(23));
    assert_eq!(api::scheduler::tick(commands, queries).await.unwrap().no_shows, 0, "not a day yet");
    app.state.commands.kernel.clock().advance(Duration::hours(2));
    assert_eq!(api::scheduler::tick(commands, queries).await.unwrap().no_shows, 1);
    let position = super::head(&app).await.to_string();
    let shown = app.send(reqwest::Method::GET, &format!("/consultations/bookings/{booking_id}"), Some(&student.token), &[("X-Min-Position", &position)], None).await;
    assert_eq!(shown.body["data"]["status"], "no_show", "{}", shown.text);
    assert_eq!(api::scheduler::tick(commands, queries).await.unwrap().no_shows, 0);

    const TABLES: [&str; 5] = ["rooms", "room_registrations", "consultation_availabilities", "consultation_bookings", "speaker_timezones"];
    assert_eq!(set_timezone(&app, &speaker, "Asia/Dubai").await.status, 200);
    read(&app, "/rooms", None).await;
    let mut before = Vec::new();
    for table in TABLES {
        before.push(dump(&app, table).await);
    }
    assert!(before.iter().all(|rows| !rows.is_empty()), "every table has rows to compare");
    for projection in ["rooms", "consultations"] {
        let (status, report) = cli(&app, &["rebuild", projection]).await;
        assert_eq!(status, replay_tools::ExitStatus::Success, "{report}");
    }
    for (table, rows) in TABLES.iter().zip(before) {
        assert_eq!(dump(&app, table).await, rows, "{table} after rebuild");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_rooms_chat_is_its_hosts_and_registrants_while_active_and_the_host_pins_and_deletes() {
    let Shop { app, category_id, speaker, student, .. } = shop("10.00").await;
    let (other, stranger) = (app.register("student").await, app.register("student").await);
    let room_id = room(&app, &speaker, category_id, None, 10, 60).await;
    for user in [&student, &other] {
        assert_eq!(register(&app, user, room_id, None).await.status, 201);
    }
    let path = format!("/rooms/{room_id}/messages");
    let post = |user: &Session, body: Value| {
        let (app, path, token) = (&app, path.clone(), user.token.clone());
        async move { app.post_json(&path, Some(&token), &[], &body).await }
    };
    assert_error(&post(&student, json!({ "type": "text", "body": "early" })).await, 409, "not_started");
    app.state.commands.kernel.clock().advance(Duration::minutes(55));
    assert_eq!(act(&app, &speaker, &format!("/rooms/{room_id}/start")).await.status, 200);

    let hello = post(&student, json!({ "type": "text", "body": "  Hello from the front row " })).await;
    assert_eq!(hello.status, 201, "{}", hello.text);
    let hello_id = id(&hello.body["data"]["id"]);
    assert_eq!(hello.body["data"]["body"], "Hello from the front row");
    assert_eq!(hello.body["data"]["author"]["id"], student.user_id.to_string());
    let reply = post(&speaker, json!({ "type": "text", "body": "Welcome!", "parent_id": hello_id })).await;
    assert_eq!((reply.status, &reply.body["data"]["parent_id"]), (201, &json!(hello_id)), "{}", reply.text);
    let clap = post(&other, json!({ "type": "emoji", "body": "👏👏" })).await;
    assert_eq!(clap.status, 201, "{}", clap.text);

    // Refusals change nothing.
    let before = count_events(&app, "RoomMessagePosted").await;
    assert_error(&post(&stranger, json!({ "type": "text", "body": "let me in" })).await, 403, "not_registered");
    assert_error(&post(&other, json!({ "type": "emoji", "body": "ok" })).await, 422, "validation_failed");
    assert_error(&post(&other, json!({ "type": "sticker", "body": "👏" })).await, 422, "validation_failed");
    let reply_id = id(&reply.body["data"]["id"]);
    assert_error(&post(&other, json!({ "type": "text", "body": "deeper", "parent_id": reply_id })).await, 422, "validation_failed");
    assert_error(&post(&other, json!({ "type": "text", "body": "x".repeat(1001) })).await, 422, "validation_failed");
    assert_eq!(count_events(&app, "RoomMessagePosted").await, before);

    // The host pins; nobody else may. Reading is for members only.
    let pin = format!("{path}/{hello_id}/pin");
    assert_error(&act(&app, &other, &pin).await, 403, "not_host");
    let pinned = act(&app, &speaker, &pin).await;
    assert_eq!((pinned.status, &pinned.body["data"]["pinned"]), (200, &json!(true)), "{}", pinned.text);
    let list = app.get_with(&path, Some(&other.token), &[]).await;
    let ids: Vec<&str> = list.body["data"].as_array().unwrap().iter().map(|m| m["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [clap.body["data"]["id"].as_str().unwrap(), &reply_id.to_string(), &hello_id.to_string()], "newest first");
    let pinned_only = app.get_with(&format!("{path}?pinned_only=true"), Some(&other.token), &[]).await;
    assert_eq!(pinned_only.body["data"].as_array().unwrap().len(), 1);
    assert_error(&app.get_with(&path, Some(&stranger.token), &[]).await, 403, "not_registered");
    assert_error(&app.get_with(&format!("/rooms/{}/messages", Uuid::new_v4()), Some(&other.token), &[]).await, 404, "not_found");

    // An author deletes their own, the host any; a deleted message loses its body and its pin.
    let delete = |user: &Session, message_id: Uuid| {
        let (app, path, token) = (&app, format!("{path}/{message_id}"), user.token.clone());
        async move { app.send(reqwest::Method::DELETE, &path, Some(&token), &[], None).await }
    };
    assert_error(&delete(&other, hello_id).await, 403, "not_host");
    let deleted = delete(&speaker, hello_id).await;
    assert_eq!(deleted.status, 200, "{}", deleted.text);
    assert_eq!((&deleted.body["data"]["deleted"], &deleted.body["data"]["body"], &deleted.body["data"]["pinned"]), (&json!(true), &Value::Null, &json!(false)));
    let own = delete(&other, id(&clap.body["data"]["id"])).await;
    assert_eq!(own.body["data"]["deleted"], true, "{}", own.text);
    assert_error(&act(&app, &speaker, &pin).await, 409, "invalid_state");

    // After the room, its chat is read-only.
    assert_eq!(act(&app, &speaker, &format!("/rooms/{room_id}/complete")).await.status, 200);
    assert_error(&post(&student, json!({ "type": "text", "body": "late" })).await, 409, "not_available");
    assert_eq!(app.get_with(&path, Some(&student.token), &[]).await.body["data"].as_array().unwrap().len(), 3);
}
