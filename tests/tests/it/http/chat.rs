//! Chat over HTTP against MariaDB and NATS: one conversation per pair, privacy, messages,
//! replies, deletion, unread counts, blocking, and a rebuild that gives the same rows.

use serde_json::{Value, json};
use uuid::Uuid;

use super::catalogue::id;
use super::{assert_error, cli, dump, read};
use crate::api::{NO_RATE_LIMITS, Response, Session, TestApp};

async fn spawn() -> TestApp {
    let [limit, auth_limit] = NO_RATE_LIMITS;
    TestApp::spawn(&[limit, auth_limit]).await
}

async fn open(app: &TestApp, from: &Session, to: Uuid) -> Response {
    app.post_json("/conversations", Some(&from.token), &[], &json!({ "user_id": to })).await
}

async fn say(app: &TestApp, from: &Session, conversation: Uuid, body: &Value) -> Response {
    app.post_json(&format!("/conversations/{conversation}/messages"), Some(&from.token), &[], body).await
}

async fn text(app: &TestApp, from: &Session, conversation: Uuid, words: &str) -> Uuid {
    let sent = say(app, from, conversation, &json!({ "type": "text", "body": words })).await;
    assert_eq!(sent.status, 201, "{}", sent.text);
    id(&sent.body["data"]["id"])
}

fn bodies(response: &Response) -> Vec<Value> {
    response.body["data"].as_array().unwrap_or_else(|| panic!("a list: {}", response.text)).iter().map(|message| message["body"].clone()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pair_shares_one_private_conversation_with_replies_deletes_unread_counts_and_blocks() {
    let app = spawn().await;
    let (anna, bilal, stranger) = (app.register("student").await, app.register("speaker").await, app.register("student").await);

    // Both open it at once: one conversation.
    let (first, second) = tokio::join!(open(&app, &anna, bilal.user_id), open(&app, &bilal, anna.user_id));
    assert_eq!((first.status, second.status), (200, 200), "{} {}", first.text, second.text);
    let conversation = id(&first.body["data"]["id"]);
    assert_eq!(id(&second.body["data"]["id"]), conversation);
    assert_eq!(first.body["data"]["user"]["username"], bilal.username.as_str(), "{}", first.text);
    assert_error(&open(&app, &anna, anna.user_id).await, 422, "validation_failed");
    assert_error(&open(&app, &anna, Uuid::now_v7()).await, 404, "not_found");
    // Listed once it has a message.
    assert_eq!(read(&app, "/conversations", Some(&anna.token)).await.body["data"], json!([]));

    let hello = text(&app, &anna, conversation, "السلام عليكم").await;
    let reply = say(&app, &bilal, conversation, &json!({ "type": "text", "body": "وعليكم السلام", "reply_to_id": hello })).await;
    assert_eq!((reply.status, reply.body["data"]["reply_to_id"].clone()), (201, json!(hello)), "{}", reply.text);
    let photo = say(&app, &anna, conversation, &json!({ "type": "image", "media_urls": ["https://cdn.example.com/a.jpg"] })).await;
    assert_eq!((photo.status, photo.body["data"]["body"].clone()), (201, Value::Null), "{}", photo.text);
    // Bad messages change nothing.
    assert_error(&say(&app, &anna, conversation, &json!({ "type": "text" })).await, 422, "validation_failed");
    assert_error(&say(&app, &anna, conversation, &json!({ "type": "sticker", "body": "x" })).await, 422, "validation_failed");
    assert_error(&say(&app, &anna, conversation, &json!({ "type": "text", "body": "x", "reply_to_id": Uuid::now_v7() })).await, 422, "validation_failed");

    // Only the two see it.
    let path = format!("/conversations/{conversation}/messages");
    assert_error(&read(&app, &path, Some(&stranger.token)).await, 404, "not_found");
    assert_error(&say(&app, &stranger, conversation, &json!({ "type": "text", "body": "hi" })).await, 404, "not_found");
    assert_error(&app.send(reqwest::Method::DELETE, &format!("/messages/{hello}"), Some(&stranger.token), &[], None).await, 404, "not_found");
    assert_eq!(read(&app, "/conversations", Some(&stranger.token)).await.body["data"], json!([]));

    // Newest first, paged by `before`.
    let all = read(&app, &path, Some(&bilal.token)).await;
    assert_eq!(bodies(&all), [Value::Null, json!("وعليكم السلام"), json!("السلام عليكم")], "{}", all.text);
    let older = read(&app, &format!("{path}?before={}&limit=1", all.body["data"][1]["id"].as_str().unwrap()), Some(&bilal.token)).await;
    assert_eq!(bodies(&older), [json!("السلام عليكم")], "{}", older.text);
    assert_error(&read(&app, &format!("{path}?limit=101"), Some(&bilal.token)).await, 422, "validation_failed");
    assert_error(&read(&app, &format!("{path}?before={}", Uuid::now_v7()), Some(&bilal.token)).await, 422, "validation_failed");

    // Unread counts: Bilal has two from Anna; Anna none of her own, one from Bilal.
    let inbox = read(&app, "/conversations", Some(&bilal.token)).await;
    assert_eq!((inbox.body["data"][0]["unread_count"].as_u64(), inbox.body["data"][0]["last_message"]["type"].as_str()), (Some(2), Some("image")), "{}", inbox.text);
    assert_eq!(read(&app, "/conversations", Some(&anna.token)).await.body["data"][0]["unread_count"], 1);
    let marked = app.post_json(&format!("/conversations/{conversation}/read"), Some(&bilal.token), &[], &json!({})).await;
    assert_eq!((marked.status, marked.body["data"]["unread_count"].as_u64()), (200, Some(0)), "{}", marked.text);
    assert_eq!(app.post_json(&format!("/conversations/{conversation}/read"), Some(&bilal.token), &[], &json!({})).await.status, 200);

    // Only the sender deletes; the message stays, emptied.
    assert_error(&app.send(reqwest::Method::DELETE, &format!("/messages/{hello}"), Some(&bilal.token), &[], None).await, 403, "not_sender");
    let deleted = app.send(reqwest::Method::DELETE, &format!("/messages/{hello}"), Some(&anna.token), &[], None).await;
    assert_eq!((deleted.status, deleted.body["data"].clone()), (200, Value::Null), "{}", deleted.text);
    let last = read(&app, &format!("{path}?limit=100"), Some(&bilal.token)).await;
    assert_eq!((last.body["data"][2]["deleted"].as_bool(), last.body["data"][2]["body"].clone()), (Some(true), Value::Null), "{}", last.text);

    // Blocked: no message, no new conversation; the blocker still may write; unblocking lifts it.
    assert_eq!(app.post_json(&format!("/users/{}/block", anna.username), Some(&bilal.token), &[], &json!({})).await.status, 200);
    assert_error(&say(&app, &anna, conversation, &json!({ "type": "text", "body": "hello?" })).await, 403, "blocked");
    assert_error(&open(&app, &anna, bilal.user_id).await, 403, "blocked");
    text(&app, &bilal, conversation, "bye").await;
    assert_eq!(app.send(reqwest::Method::DELETE, &format!("/users/{}/block", anna.username), Some(&bilal.token), &[], None).await.status, 200);
    text(&app, &anna, conversation, "hello again").await;

    const TABLES: [&str; 3] = ["conversations", "conversation_members", "messages"];
    let mut before = Vec::new();
    for table in TABLES {
        before.push(dump(&app, table).await);
    }
    let (status, report) = cli(&app, &["rebuild", "chat"]).await;
    assert_eq!(status, replay_tools::ExitStatus::Success, "{report}");
    for (table, rows) in TABLES.iter().zip(before) {
        assert_eq!(dump(&app, table).await, rows, "{table} after rebuild");
    }
}
