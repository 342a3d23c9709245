//! Notifications over HTTP: every type from the command that triggers it, never to the actor,
//! in the request's language, read one or all, and a rebuild that gives the same rows.

use serde_json::json;
use uuid::Uuid;

use super::catalogue::id;
use super::catalogue::course;
use super::commerce::{Shop, add, checkout, shop, wallet_pay};
use super::rooms::{act, availability, book, now, register, room};
use super::social::{gift, send_gift};
use super::{ADMIN_EMAIL, ADMIN_PASSWORD, assert_error, cli, dump, key, read, withdraw};
use crate::api::{Response, Session, TestApp};

async fn notifications(app: &TestApp, user: &Session) -> Vec<(String, String)> {
    let listed = read(app, "/notifications?per_page=100", Some(&user.token)).await;
    assert_eq!(listed.status, 200, "{}", listed.text);
    listed.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| (n["type"].as_str().unwrap().to_owned(), n["actor"]["username"].as_str().unwrap_or_default().to_owned()))
        .collect()
}

async fn post_as(app: &TestApp, user: &Session, path: &str, body: serde_json::Value) -> Response {
    let response = app.post_json(path, Some(&user.token), &[], &body).await;
    assert!(response.status == 200 || response.status == 201, "POST {path}: {}", response.text);
    response
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_social_gift_and_message_notification_reaches_the_right_reader_once_and_never_the_actor() {
    let Shop { app, admin, speaker: anna, student: bilal, .. } = shop("50.00").await;
    let carla = app.register("student").await;
    let name = |user: &Session| user.username.clone();

    post_as(&app, &bilal, &format!("/users/{}/follow", anna.username), json!({})).await;
    let private = app.send(reqwest::Method::PATCH, "/me/profile", Some(&anna.token), &[], Some(json!({ "is_private": true }).to_string().into_bytes())).await;
    assert_eq!(private.status, 200, "{}", private.text);
    post_as(&app, &carla, &format!("/users/{}/follow", anna.username), json!({})).await;
    let requests = read(&app, "/me/follow-requests", Some(&anna.token)).await;
    let request = requests.body["data"][0]["id"].as_str().unwrap().to_owned();
    post_as(&app, &anna, &format!("/me/follow-requests/{request}/accept"), json!({})).await;

    let post = id(&post_as(&app, &anna, "/posts", json!({ "type": "text", "content": "Welcome" })).await.body["data"]["id"]);
    let comment = id(&post_as(&app, &bilal, &format!("/posts/{post}/comments"), json!({ "body": "Thanks!" })).await.body["data"]["id"]);
    // Anna's own reply notifies Bilal, not Anna; her reaction to her own post notifies nobody.
    post_as(&app, &anna, &format!("/posts/{post}/comments"), json!({ "body": "You're welcome", "parent_id": comment })).await;
    let reaction = format!("/posts/{post}/reaction");
    for (user, kind) in [(&anna, "love"), (&bilal, "like"), (&bilal, "wow")] {
        // The last one changes a reaction: it notifies nobody again.
        let reacted = app.send(reqwest::Method::PUT, &reaction, Some(&user.token), &[], Some(json!({ "type": kind }).to_string().into_bytes())).await;
        assert_eq!(reacted.status, 200, "{}", reacted.text);
    }

    let rose = gift(&app, &admin, "10.00").await;
    assert_eq!(send_gift(&app, &bilal, &json!({ "gift_id": rose, "receiver_id": anna.user_id, "quantity": 1 }), &key()).await.status, 201);
    let conversation = id(&post_as(&app, &bilal, "/conversations", json!({ "user_id": anna.user_id })).await.body["data"]["id"]);
    post_as(&app, &bilal, &format!("/conversations/{conversation}/messages"), json!({ "type": "text", "body": "مرحبا" })).await;

    let types = |pairs: &[(&str, String)]| pairs.iter().map(|(kind, who)| (kind.to_string(), who.clone())).collect::<Vec<_>>();
    assert_eq!(
        notifications(&app, &anna).await,
        types(&[("new_message", name(&bilal)), ("gift_received", name(&bilal)), ("post_reaction", name(&bilal)), ("post_comment", name(&bilal)),
                ("follow_request", name(&carla)), ("new_follower", name(&bilal))])
    );
    // Bilal's own gift is a purchase: its receipt is the one notification of his own doing.
    assert_eq!(notifications(&app, &bilal).await, types(&[("purchase_completed", name(&bilal)), ("comment_reply", name(&anna))]));
    assert_eq!(notifications(&app, &carla).await, types(&[("follow_accepted", name(&anna))]));

    // In the request's language, with the actor's name.
    let arabic = app.get_with("/notifications", Some(&bilal.token), &[("Accept-Language", "ar")]).await;
    let message = arabic.body["data"][1]["message"].as_str().unwrap();
    assert!(message.starts_with("ردّ ") && message.ends_with(" على تعليقك."), "{message}");
    let english = read(&app, "/notifications", Some(&bilal.token)).await;
    assert_eq!(english.body["data"][1]["subject"]["type"], "comment", "{}", english.text);
    assert!(english.body["data"][1]["message"].as_str().unwrap().ends_with("replied to your comment."), "{}", english.text);

    // Read one, again, someone else's; then all.
    let count = |user: &Session| {
        let app = &app;
        let token = user.token.clone();
        async move { read(app, "/notifications/unread-count", Some(&token)).await.body["data"]["count"].as_u64() }
    };
    assert_eq!(count(&anna).await, Some(6));
    let first = read(&app, "/notifications", Some(&anna.token)).await.body["data"][0]["id"].as_str().unwrap().to_owned();
    let marked = app.post_json(&format!("/notifications/{first}/read"), Some(&anna.token), &[], &json!({})).await;
    assert_eq!((marked.status, marked.body["data"]["read_at"].is_string()), (200, true), "{}", marked.text);
    assert_eq!(app.post_json(&format!("/notifications/{first}/read"), Some(&anna.token), &[], &json!({})).await.status, 200);
    assert_error(&app.post_json(&format!("/notifications/{first}/read"), Some(&bilal.token), &[], &json!({})).await, 404, "not_found");
    assert_error(&app.post_json(&format!("/notifications/{}/read", Uuid::now_v7()), Some(&anna.token), &[], &json!({})).await, 404, "not_found");
    assert_eq!(count(&anna).await, Some(5));
    assert_eq!(read(&app, "/notifications?unread_only=true", Some(&anna.token)).await.body["data"].as_array().unwrap().len(), 5);
    assert_error(&read(&app, "/notifications?unread_only=maybe", Some(&anna.token)).await, 422, "validation_failed");
    let all = app.post_json("/notifications/read-all", Some(&anna.token), &[], &json!({})).await;
    assert_eq!((all.status, all.body["data"]["count"].as_u64()), (200, Some(0)), "{}", all.text);
    assert_eq!(read(&app, "/notifications?unread_only=true", Some(&anna.token)).await.body["data"], json!([]));
    assert_eq!(count(&bilal).await, Some(2), "reading mine reads nobody else's");

    const TABLES: [&str; 3] = ["notifications", "notification_authors", "notification_conversations"];
    let mut before = Vec::new();
    for table in TABLES {
        before.push(dump(&app, table).await);
    }
    let (status, report) = cli(&app, &["rebuild", "notifications"]).await;
    assert_eq!(status, replay_tools::ExitStatus::Success, "{report}");
    for (table, rows) in TABLES.iter().zip(before) {
        assert_eq!(dump(&app, table).await, rows, "{table} after rebuild");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn purchases_enrollments_bookings_cancelled_rooms_and_withdrawal_decisions_notify_their_reader() {
    let Shop { app, category_id, speaker, student, .. } = shop("500.00").await;
    let name = |user: &Session| user.username.clone();
    // A course bought: a receipt for the buyer, an enrollment for its speaker.
    let course_id = course(&app, &speaker, category_id, "تعلم التجويد", "115.00").await;
    assert_eq!(add(&app, &student, "course", course_id).await.status, 201);
    assert_eq!(checkout(&app, &student, &key(), &wallet_pay()).await.status, 201);
    // A free room the student registered for, cancelled by its host.
    let room_id = room(&app, &speaker, category_id, None, 10, 120).await;
    assert_eq!(register(&app, &student, room_id, None).await.status, 201);
    assert_eq!(act(&app, &speaker, &format!("/rooms/{room_id}/cancel")).await.status, 200);
    // A consultation booked and paid.
    let day = (now(&app) + chrono::Duration::days(7)).date_naive();
    let monday = day + chrono::Duration::days(i64::from(7 - chrono::Datelike::weekday(&day).num_days_from_monday()) % 7);
    assert_eq!(availability(&app, &speaker, "mon", "10:00", "12:00", 60, "150.00").await.status, 201);
    let booked = book(&app, &student, &speaker, &format!("{monday}T07:00:00Z")).await;
    assert_eq!(booked.status, 201, "{}", booked.text);
    // Two withdrawals: one approved, one rejected.
    app.fund(&speaker.token, "100.00").await;
    let admin = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    for (amount, decision) in [("30.00", "approve"), ("20.00", "reject")] {
        let requested = withdraw(&app, &speaker.token, amount, &key()).await;
        let withdrawal = requested.body["data"]["withdrawal_id"].as_str().unwrap().to_owned();
        let decided = app.post_json(&format!("/admin/withdrawals/{withdrawal}/{decision}"), Some(&admin), &[("Idempotency-Key", &key())], &json!({ "reason": "IBAN does not match" })).await;
        assert_eq!(decided.status, 200, "{}", decided.text);
    }

    let pairs = |pairs: &[(&str, String)]| pairs.iter().map(|(kind, who)| (kind.to_string(), who.clone())).collect::<Vec<_>>();
    assert_eq!(
        notifications(&app, &speaker).await,
        pairs(&[("withdrawal_rejected", String::new()), ("withdrawal_approved", String::new()), ("booking_created", name(&student)), ("course_enrollment", name(&student))])
    );
    assert_eq!(
        notifications(&app, &student).await,
        pairs(&[("purchase_completed", name(&student)), ("room_cancelled", String::new()), ("purchase_completed", name(&student))])
    );
    // A room starting in an hour: its registrant is told once, a quarter of an hour before.
    let soon = room(&app, &speaker, category_id, None, 10, 60).await;
    assert_eq!(register(&app, &student, soon, None).await.status, 201);
    let (commands, queries) = (&app.state.commands, &app.state.queries);
    app.state.commands.kernel.clock().advance(chrono::Duration::minutes(46));
    for _ in 0..2 {
        api::scheduler::tick(commands, queries).await.unwrap();
        read(&app, "/rooms", None).await;
    }
    let told = notifications(&app, &student).await;
    assert_eq!(told.iter().filter(|(kind, _)| kind == "room_starting").count(), 1, "{told:?}");
    assert_eq!(told[0], ("room_starting".to_owned(), String::new()));

    let listed = read(&app, "/notifications", Some(&speaker.token)).await;
    let enrollment = &listed.body["data"][3];
    assert_eq!((enrollment["subject"]["type"].as_str(), enrollment["subject"]["id"].as_str()), (Some("course"), Some(course_id.to_string().as_str())), "{}", listed.text);
    assert_eq!((listed.body["data"][0]["actor"].clone(), listed.body["data"][0]["message"].as_str()), (serde_json::Value::Null, Some("Your withdrawal was rejected.")));
}
