//! The social side and gifts over HTTP: follows and requests, the privacy matrix over every read
//! path, comments, reactions, shares, reports and hiding, feed pages under concurrent posting,
//! gifts racing for one balance, and rebuilds of every social projection.

use std::collections::HashSet;

use serde_json::{Value, json};
use uuid::Uuid;

use super::catalogue::id;
use super::commerce::{Shop, shop_on, transactions};
use super::{ADMIN_EMAIL, ADMIN_PASSWORD, admin_token, assert_error, cli, dump, key, read};
use crate::api::{NO_RATE_LIMITS, Response, Session, TestApp};

async fn spawn() -> TestApp {
    let [limit, auth_limit] = NO_RATE_LIMITS;
    TestApp::spawn(&[limit, auth_limit, ("BOOTSTRAP_ADMIN_EMAIL", ADMIN_EMAIL), ("BOOTSTRAP_ADMIN_PASSWORD", ADMIN_PASSWORD)]).await
}

async fn send(app: &TestApp, method: reqwest::Method, path: &str, session: &Session, body: Option<&Value>) -> Response {
    app.send(method, path, Some(&session.token), &[], body.map(|body| body.to_string().into_bytes())).await
}

async fn post(app: &TestApp, author: &Session, content: &str) -> Uuid {
    let created = app.post_json("/posts", Some(&author.token), &[], &json!({ "type": "text", "content": content })).await;
    assert_eq!(created.status, 201, "{}", created.text);
    id(&created.body["data"]["id"])
}

async fn follow(app: &TestApp, follower: &Session, followee: &Session) -> Response {
    app.post_json(&format!("/users/{}/follow", followee.username), Some(&follower.token), &[], &json!({})).await
}

async fn make_private(app: &TestApp, user: &Session, private: bool) {
    let changed = send(app, reqwest::Method::PATCH, "/me/profile", user, Some(&json!({ "is_private": private }))).await;
    assert_eq!((changed.status, changed.body["data"]["is_private"].as_bool()), (200, Some(private)), "{}", changed.text);
}

fn ids(response: &Response) -> Vec<Uuid> {
    response.body["data"].as_array().unwrap_or_else(|| panic!("a list: {}", response.text)).iter().map(|post| id(&post["id"])).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follows_requests_and_the_privacy_matrix_over_every_read_path() {
    let app = spawn().await;
    let admin = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let (author, follower, asker, stranger) = (app.register("speaker").await, app.register("student").await, app.register("student").await, app.register("student").await);
    let profile = send(&app, reqwest::Method::PATCH, "/me/profile", &author, Some(&json!({
        "headline": "Quran teacher", "bio": "Twenty years of tajweed.", "location": "Riyadh", "language": "ar", "timezone": "Asia/Dubai",
        "social_links": { "x": "https://x.com/teacher" }, "avatar_url": "https://cdn.example.com/a.png", "expertise": ["tajweed", "tajweed", "arabic"]
    }))).await;
    assert_eq!(profile.status, 200, "{}", profile.text);
    let data = &profile.body["data"];
    assert_eq!((data["headline"].as_str(), data["language"].as_str(), data["timezone"].as_str()), (Some("Quran teacher"), Some("ar"), Some("Asia/Dubai")));
    assert_eq!((data["expertise"].clone(), data["follow_status"].as_str()), (json!(["tajweed", "arabic"]), Some("self")));
    let bad = send(&app, reqwest::Method::PATCH, "/me/profile", &author, Some(&json!({ "avatar_url": "ftp://x", "social_links": { "x": "http://x.com" }, "timezone": "Mars/Base" }))).await;
    assert_error(&bad, 422, "validation_failed");
    for field in ["avatar_url", "social_links", "timezone"] {
        assert!(bad.body["error"]["details"]["fields"][field].is_array(), "{field}: {}", bad.text);
    }
    assert_error(&follow(&app, &author, &author).await, 422, "validation_failed");

    // A public post before the profile turns private, and one after.
    let public_post = post(&app, &author, "For everyone").await;
    assert_eq!(follow(&app, &follower, &author).await.body["data"]["follow_status"], "following");
    make_private(&app, &author, true).await;
    let private_post = post(&app, &author, "Followers only").await;
    let requested = follow(&app, &asker, &author).await;
    assert_eq!((requested.status, requested.body["data"]["follow_status"].as_str()), (200, Some("requested")), "{}", requested.text);
    assert_eq!(follow(&app, &asker, &author).await.body["data"]["follow_status"], "requested", "following again changes nothing");
    let requests = read(&app, "/me/follow-requests", Some(&author.token)).await;
    assert_eq!(requests.body["data"][0]["requester"]["username"].as_str(), Some(asker.username.as_str()), "{}", requests.text);

    // Shares of the private post by its follower, and of the public one by the stranger.
    let share = app.post_json(&format!("/posts/{private_post}/shares"), Some(&follower.token), &[], &json!({ "comment": "Worth reading" })).await;
    assert_eq!(share.status, 201, "{}", share.text);
    let share_id = id(&share.body["data"]["id"]);
    assert_eq!(share.body["data"]["shared_post"]["id"].as_str(), Some(private_post.to_string().as_str()));
    let comment = app.post_json(&format!("/posts/{private_post}/comments"), Some(&follower.token), &[], &json!({ "body": "Thank you" })).await;
    assert_eq!(comment.status, 201, "{}", comment.text);

    let tokens: [(&str, Option<&str>, bool); 6] = [
        ("author", Some(&author.token), true),
        ("follower", Some(&follower.token), true),
        ("admin", Some(&admin), true),
        ("requested, not accepted", Some(&asker.token), false),
        ("stranger", Some(&stranger.token), false),
        ("anonymous", None, false),
    ];
    for (who, token, sees) in tokens {
        let by_id = read(&app, &format!("/posts/{private_post}"), token).await;
        assert_eq!(by_id.status, if sees { 200 } else { 404 }, "{who} by id: {}", by_id.text);
        let listed = read(&app, &format!("/users/{}/posts", author.username), token).await;
        assert_eq!(listed.status, 200, "{}", listed.text);
        assert_eq!(ids(&listed).contains(&private_post), sees, "{who} in the author's posts");
        assert!(ids(&listed).contains(&public_post) == sees, "{who}: a private profile's older posts are private too");
        assert_eq!(listed.body["meta"]["pagination"]["total"].as_u64(), Some(if sees { 2 } else { 0 }), "{who}: counts reveal nothing");
        let comments = read(&app, &format!("/posts/{private_post}/comments"), token).await;
        assert_eq!(comments.status, if sees { 200 } else { 404 }, "{who} comments: {}", comments.text);
        let shared = read(&app, &format!("/posts/{share_id}"), token).await;
        assert_eq!(shared.status, 200, "{who}: the follower's share is public");
        assert_eq!(shared.body["data"]["shared_post"].is_null(), !sees, "{who} inside the share: {}", shared.text);
        if let Some(token) = token {
            let feed = read(&app, "/feed", Some(token)).await;
            assert_eq!(feed.status, 200, "{}", feed.text);
            assert_eq!(ids(&feed).contains(&private_post), who == "author" || who == "follower", "{who}'s feed");
        }
    }
    // Acting on what one may not see is not found either.
    let comment_denied = app.post_json(&format!("/posts/{private_post}/comments"), Some(&stranger.token), &[], &json!({ "body": "Hi" })).await;
    assert_error(&comment_denied, 404, "not_found");
    assert_error(&send(&app, reqwest::Method::PUT, &format!("/posts/{private_post}/reaction"), &asker, Some(&json!({ "type": "like" }))).await, 404, "not_found");
    assert_error(&app.post_json(&format!("/posts/{private_post}/shares"), Some(&stranger.token), &[], &json!({})).await, 404, "not_found");
    assert_error(&app.post_json(&format!("/posts/{private_post}/reports"), Some(&stranger.token), &[], &json!({ "reason": "spam" })).await, 404, "not_found");
    let shown = read(&app, &format!("/users/{}", author.username), Some(&stranger.token)).await;
    assert_eq!((shown.body["data"]["is_private"].as_bool(), shown.body["data"]["posts_count"].as_u64()), (Some(true), Some(3 - 1)), "{}", shown.text);
    assert_eq!(shown.body["data"]["followers_count"], 1, "a private profile's counts are public");

    // A rejected requester may ask again; turning public accepts what waits.
    let request_id = requests.body["data"][0]["id"].as_str().unwrap().to_owned();
    let rejected = app.post_json(&format!("/me/follow-requests/{request_id}/reject"), Some(&author.token), &[], &json!({})).await;
    assert_eq!(rejected.status, 200, "{}", rejected.text);
    assert_error(&app.post_json(&format!("/me/follow-requests/{request_id}/accept"), Some(&author.token), &[], &json!({})).await, 404, "not_found");
    assert_eq!(follow(&app, &asker, &author).await.body["data"]["follow_status"], "requested");
    make_private(&app, &author, false).await;
    let status = read(&app, &format!("/users/{}", author.username), Some(&asker.token)).await;
    assert_eq!(status.body["data"]["follow_status"], "following", "{}", status.text);
    assert_eq!(status.body["data"]["followers_count"], 2);
    let unfollowed = send(&app, reqwest::Method::DELETE, &format!("/users/{}/follow", author.username), &asker, None).await;
    assert_eq!((unfollowed.status, unfollowed.body["data"]["follow_status"].as_str()), (200, Some("none")), "{}", unfollowed.text);
    assert_eq!(send(&app, reqwest::Method::DELETE, &format!("/users/{}/follow", author.username), &asker, None).await.status, 200, "unfollowing again");
    let followers = read(&app, &format!("/users/{}/followers", author.username), None).await;
    assert_eq!(followers.body["meta"]["pagination"]["total"], 1, "{}", followers.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn comments_reactions_reports_and_hiding() {
    let app = spawn().await;
    let admin = Session { user_id: Uuid::nil(), username: String::new(), email: String::new(), token: admin_token(&app).await };
    let (author, reader, other) = (app.register("speaker").await, app.register("student").await, app.register("student").await);
    let post_id = post(&app, &author, "Ask me anything").await;
    let top = app.post_json(&format!("/posts/{post_id}/comments"), Some(&reader.token), &[], &json!({ "body": "When is the next room?" })).await;
    let top_id = id(&top.body["data"]["id"]);
    let reply = app.post_json(&format!("/posts/{post_id}/comments"), Some(&author.token), &[], &json!({ "body": "Friday", "parent_id": top_id })).await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    let deeper = app.post_json(&format!("/posts/{post_id}/comments"), Some(&reader.token), &[], &json!({ "body": "Thanks", "parent_id": reply.body["data"]["id"] })).await;
    assert_error(&deeper, 422, "validation_failed");
    assert!(deeper.body["error"]["details"]["fields"]["parent_id"].is_array(), "{}", deeper.text);

    for (reaction, user) in [("like", &reader), ("love", &reader), ("wow", &other)] {
        let reacted = send(&app, reqwest::Method::PUT, &format!("/posts/{post_id}/reaction"), user, Some(&json!({ "type": reaction }))).await;
        assert_eq!((reacted.status, reacted.body["data"]["type"].as_str()), (200, Some(reaction)), "{}", reacted.text);
    }
    assert_error(&send(&app, reqwest::Method::PUT, &format!("/posts/{post_id}/reaction"), &other, Some(&json!({ "type": "meh" }))).await, 422, "validation_failed");
    let shown = read(&app, &format!("/posts/{post_id}"), Some(&reader.token)).await;
    let data = &shown.body["data"];
    assert_eq!((data["reactions_count"].as_u64(), data["comments_count"].as_u64(), data["my_reaction"].as_str()), (Some(2), Some(2), Some("love")), "{}", shown.text);
    assert_eq!(send(&app, reqwest::Method::DELETE, &format!("/posts/{post_id}/reaction"), &other, None).await.status, 200);
    assert_eq!(read(&app, &format!("/posts/{post_id}"), None).await.body["data"]["reactions_count"], 1);

    // The post's author deletes the reader's comment: it stays in the thread, without its body.
    assert_error(&send(&app, reqwest::Method::DELETE, &format!("/comments/{top_id}"), &other, None).await, 403, "not_author");
    assert_eq!(send(&app, reqwest::Method::DELETE, &format!("/comments/{top_id}"), &author, None).await.status, 200);
    let thread = read(&app, &format!("/posts/{post_id}/comments"), None).await;
    let first = &thread.body["data"][0];
    assert_eq!((first["deleted"].as_bool(), first["body"].is_null(), first["replies_count"].as_u64()), (Some(true), true, Some(1)), "{}", thread.text);
    let replies = read(&app, &format!("/posts/{post_id}/comments?parent_id={top_id}"), None).await;
    assert_eq!(replies.body["data"][0]["body"], "Friday", "{}", replies.text);

    // Reports: once per user; an admin hides the post from everyone but its author and admins.
    let report = app.post_json(&format!("/posts/{post_id}/reports"), Some(&other.token), &[], &json!({ "reason": "spam", "details": "ads" })).await;
    assert_eq!(report.status, 201, "{}", report.text);
    assert_error(&app.post_json(&format!("/posts/{post_id}/reports"), Some(&other.token), &[], &json!({ "reason": "other" })).await, 409, "already_reported");
    assert_error(&read(&app, "/admin/reports", Some(&reader.token)).await, 403, "forbidden");
    let queue = read(&app, "/admin/reports?status=open", Some(&admin.token)).await;
    assert_eq!(queue.body["data"][0]["reason"], "spam", "{}", queue.text);
    let report_id = queue.body["data"][0]["id"].as_str().unwrap().to_owned();
    let resolved = app.post_json(&format!("/admin/reports/{report_id}/resolve"), Some(&admin.token), &[], &json!({ "action": "hide_post" })).await;
    assert_eq!((resolved.status, resolved.body["data"]["status"].as_str()), (200, Some("resolved")), "{}", resolved.text);
    assert_error(&app.post_json(&format!("/admin/reports/{report_id}/resolve"), Some(&admin.token), &[], &json!({ "action": "dismiss" })).await, 409, "already_resolved");
    assert_eq!(read(&app, &format!("/posts/{post_id}"), Some(&reader.token)).await.status, 404);
    assert_eq!(read(&app, &format!("/posts/{post_id}"), Some(&author.token)).await.status, 200);
    assert_eq!(read(&app, &format!("/posts/{post_id}"), Some(&admin.token)).await.status, 200);
    assert!(!ids(&read(&app, "/feed", Some(&author.token)).await).contains(&post_id), "a hidden post leaves every feed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feed_pages_stay_stable_while_posts_arrive_and_unfollowing_empties_it() {
    let app = spawn().await;
    let (author, reader) = (app.register("speaker").await, app.register("student").await);
    assert_eq!(follow(&app, &reader, &author).await.status, 200);
    let mut written = Vec::new();
    for n in 0..25 {
        written.push(post(&app, &author, &format!("post {n}")).await);
    }
    let first = read(&app, "/feed?limit=10", Some(&reader.token)).await;
    let mut seen = ids(&first);
    let mut cursor = first.body["meta"]["next_cursor"].as_str().map(str::to_owned);
    // Posts arrive while the reader pages on.
    let writer = {
        let (app_url, token) = (app.address.clone(), author.token.clone());
        tokio::spawn(async move {
            let http = reqwest::Client::new();
            for n in 0..20 {
                let sent = http.post(format!("{app_url}/posts")).bearer_auth(&token).json(&json!({ "type": "text", "content": format!("late {n}") })).send().await.unwrap();
                assert_eq!(sent.status(), 201);
            }
        })
    };
    while let Some(next) = cursor {
        let page = read(&app, &format!("/feed?limit=10&cursor={next}"), Some(&reader.token)).await;
        assert_eq!(page.status, 200, "{}", page.text);
        seen.extend(ids(&page));
        cursor = page.body["meta"]["next_cursor"].as_str().map(str::to_owned);
    }
    writer.await.unwrap();
    let unique: HashSet<Uuid> = seen.iter().copied().collect();
    assert_eq!(unique.len(), seen.len(), "no post twice");
    written.reverse();
    assert_eq!(seen, written, "every post once, newest first, none of the late ones inside the old pages");
    assert_error(&read(&app, "/feed?limit=51", Some(&reader.token)).await, 422, "validation_failed");
    assert_error(&read(&app, "/feed?cursor=abc", Some(&reader.token)).await, 422, "validation_failed");

    assert_eq!(send(&app, reqwest::Method::DELETE, &format!("/users/{}/follow", author.username), &reader, None).await.status, 200);
    let after = read(&app, "/feed", Some(&reader.token)).await;
    assert!(ids(&after).is_empty() && after.body["meta"]["next_cursor"].is_null(), "{}", after.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocking_ends_follows_both_ways_and_refuses_following_and_gifts_until_unblocked() {
    let Shop { app, admin, speaker: blocker, student: pest, .. } = shop_on(spawn().await, "50.00").await;
    let rose = gift(&app, &admin, "10.00").await;
    assert_eq!(follow(&app, &pest, &blocker).await.status, 200);
    assert_eq!(follow(&app, &blocker, &pest).await.status, 200);
    let block = |user: &Session| format!("/users/{}/block", user.username);

    let blocked = app.post_json(&block(&pest), Some(&blocker.token), &[], &json!({})).await;
    assert_eq!((blocked.status, blocked.body["data"].clone()), (200, json!({ "blocked": true })), "{}", blocked.text);
    let again = app.post_json(&block(&pest), Some(&blocker.token), &[], &json!({})).await;
    assert_eq!((again.status, again.body["data"]["blocked"].as_bool()), (200, Some(true)), "{}", again.text);
    assert!(again.body["meta"]["position"].as_u64().is_some());
    for (user, list) in [(&blocker, "followers"), (&blocker, "following"), (&pest, "followers"), (&pest, "following")] {
        let people = read(&app, &format!("/users/{}/{list}", user.username), None).await;
        assert_eq!(people.body["data"], json!([]), "{} {list}: {}", user.username, people.text);
    }
    let profile = read(&app, &format!("/users/{}", blocker.username), None).await;
    assert_eq!(profile.body["data"]["followers_count"], 0, "{}", profile.text);

    // The blocked user can neither follow nor gift the blocker, and nothing changes.
    assert_error(&follow(&app, &pest, &blocker).await, 403, "blocked");
    let one = json!({ "gift_id": rose, "receiver_id": blocker.user_id, "quantity": 1 });
    assert_error(&send_gift(&app, &pest, &one, &key()).await, 403, "blocked");
    assert_eq!(app.wallet(&pest.token, super::head(&app).await).await["balance"], "50.00");
    // Oneself: 422; nobody: 404.
    assert_error(&app.post_json(&block(&blocker), Some(&blocker.token), &[], &json!({})).await, 422, "validation_failed");
    assert_error(&app.post_json("/users/nobody_here/block", Some(&blocker.token), &[], &json!({})).await, 404, "not_found");

    let unblocked = send(&app, reqwest::Method::DELETE, &block(&pest), &blocker, None).await;
    assert_eq!((unblocked.status, unblocked.body["data"].clone()), (200, json!({ "blocked": false })), "{}", unblocked.text);
    assert_eq!(follow(&app, &pest, &blocker).await.body["data"]["follow_status"], "following");
    assert_eq!(send_gift(&app, &pest, &one, &key()).await.status, 201);
}

pub(crate) async fn gift(app: &TestApp, admin: &str, price: &str) -> Uuid {
    let created = app
        .post_json("/admin/gifts", Some(admin), &[], &json!({ "name_en": "Rose", "name_ar": "وردة", "icon_url": "https://cdn.example.com/rose.png", "price": price, "sort_order": 1 }))
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    id(&created.body["data"]["id"])
}

pub(crate) async fn send_gift(app: &TestApp, sender: &Session, body: &Value, key: &str) -> Response {
    app.post_json("/gifts/send", Some(&sender.token), &[("Idempotency-Key", key)], body).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thirty_concurrent_gifts_against_a_balance_for_ten_and_the_social_read_models_rebuild_identically() {
    let Shop { app, admin, speaker, student, .. } = shop_on(spawn().await, "100.00").await;
    let rose = gift(&app, &admin, "10.00").await;
    assert_error(&app.post_json("/admin/gifts", Some(&student.token), &[], &json!({})).await, 403, "forbidden");
    let one = json!({ "gift_id": rose, "receiver_id": speaker.user_id, "quantity": 1, "message": "Thank you", "context": { "type": "post", "id": Uuid::now_v7() } });
    assert_error(&send_gift(&app, &student, &json!({ "gift_id": rose, "receiver_id": student.user_id, "quantity": 1 }), &key()).await, 422, "validation_failed");
    assert_error(&send_gift(&app, &student, &json!({ "gift_id": rose, "receiver_id": speaker.user_id, "quantity": 101 }), &key()).await, 422, "validation_failed");
    assert_error(&app.post_json("/gifts/send", Some(&student.token), &[], &one).await, 400, "missing_idempotency_key");

    let sends = (0..30).map(|_| {
        let (app, student, one) = (&app, &student, &one);
        async move { send_gift(app, student, one, &key()).await }
    });
    let answers = futures::future::join_all(sends).await;
    let sent: Vec<&Response> = answers.iter().filter(|answer| answer.status == 201).collect();
    assert_eq!(sent.len(), 10, "exactly the balance's worth: {:?}", answers.iter().map(|a| a.status).collect::<Vec<_>>());
    for refused in answers.iter().filter(|answer| answer.status != 201) {
        assert_error(refused, 409, "insufficient_funds");
    }
    assert_eq!(sent[0].body["data"]["total"], "10.00");
    assert!(sent[0].body["data"]["invoice_id"].is_string(), "{}", sent[0].text);
    assert_eq!(super::balance(&app, &student.token).await, "0.00");
    let debits: Vec<Value> = transactions(&app, &student).await.into_iter().filter(|t| t["category"] == "gift").collect();
    assert_eq!(debits.len(), 10);
    // 10.00 is 8.70 net of VAT; the receiver earns it less 20% commission (1.74): 6.96, pending.
    let earnings: Vec<Value> = transactions(&app, &speaker).await.into_iter().filter(|t| t["category"] == "gift").collect();
    assert_eq!(earnings.len(), 10);
    assert!(earnings.iter().all(|t| t["amount"] == "6.96" && t["status"] == "pending"), "{earnings:?}");
    let received = read(&app, "/me/gifts/received", Some(&speaker.token)).await;
    assert_eq!(received.body["meta"]["pagination"]["total"], 10, "{}", received.text);
    assert_eq!(received.body["data"][0]["message"], "Thank you");
    let invoice = read(&app, &format!("/invoices/{}", sent[0].body["data"]["invoice_id"].as_str().unwrap()), Some(&student.token)).await;
    assert_eq!((invoice.status, invoice.body["data"]["total"].as_str()), (200, Some("10.00")), "{}", invoice.text);

    // Quantities, replays, and an inactive gift.
    app.fund(&student.token, "30.00").await;
    let three = json!({ "gift_id": rose, "receiver_id": speaker.user_id, "quantity": 3 });
    let three_key = key();
    let first = send_gift(&app, &student, &three, &three_key).await;
    assert_eq!((first.status, first.body["data"]["total"].as_str()), (201, Some("30.00")), "{}", first.text);
    let again = send_gift(&app, &student, &three, &three_key).await;
    assert_eq!((again.status, again.header("Idempotent-Replayed"), again.body["data"].clone()), (201, Some("true"), first.body["data"].clone()));
    let line = read(&app, &format!("/invoices/{}", first.body["data"]["invoice_id"].as_str().unwrap()), Some(&student.token)).await;
    let line = &line.body["data"]["lines"][0];
    assert_eq!((line["quantity"].as_u64(), line["unit_price"].as_str(), line["total"].as_str()), (Some(3), Some("10.00"), Some("30.00")), "{line}");
    let off = app.send(reqwest::Method::PATCH, &format!("/admin/gifts/{rose}"), Some(&admin), &[], Some(json!({ "is_active": false }).to_string().into_bytes())).await;
    assert_eq!(off.status, 200, "{}", off.text);
    assert_error(&send_gift(&app, &student, &one, &key()).await, 409, "gift_inactive");
    // 404 comes before 409: an inactive gift to nobody is about the receiver.
    let to_nobody = json!({ "gift_id": rose, "receiver_id": Uuid::now_v7(), "quantity": 1 });
    assert_error(&send_gift(&app, &student, &to_nobody, &key()).await, 404, "not_found");
    assert_eq!(read(&app, "/gifts", None).await.body["data"], json!([]));

    // Some of everything the social projector keeps, then rebuilds.
    let post_id = post(&app, &speaker, "Thank you all").await;
    assert_eq!(follow(&app, &student, &speaker).await.status, 200);
    let commented = app.post_json(&format!("/posts/{post_id}/comments"), Some(&student.token), &[], &json!({ "body": "You're welcome" })).await;
    assert_eq!(commented.status, 201);
    assert_eq!(send(&app, reqwest::Method::PUT, &format!("/comments/{}/reaction", commented.body["data"]["id"].as_str().unwrap()), &speaker, Some(&json!({ "type": "love" }))).await.status, 200);
    assert_eq!(send(&app, reqwest::Method::PUT, &format!("/posts/{post_id}/reaction"), &student, Some(&json!({ "type": "like" }))).await.status, 200);
    assert_eq!(app.post_json(&format!("/posts/{post_id}/reports"), Some(&student.token), &[], &json!({ "reason": "other" })).await.status, 201);
    make_private(&app, &student, true).await;
    assert_eq!(follow(&app, &speaker, &student).await.body["data"]["follow_status"], "requested");
    read(&app, "/feed", Some(&student.token)).await;
    const TABLES: [&str; 10] =
        ["profiles", "follows", "follow_requests", "posts", "post_reactions", "comments", "comment_reactions", "post_reports", "gifts", "gift_transfers"];
    let mut before = Vec::new();
    for table in TABLES {
        before.push(dump(&app, table).await);
    }
    assert!(before.iter().all(|rows| !rows.is_empty()), "every table has rows to compare");
    for projection in ["social", "gifts"] {
        let (status, report) = cli(&app, &["rebuild", projection]).await;
        assert_eq!(status, replay_tools::ExitStatus::Success, "{report}");
    }
    for (table, rows) in TABLES.iter().zip(before) {
        assert_eq!(dump(&app, table).await, rows, "{table} after rebuild");
    }
}
