//! The WebSocket gateway with real WebSocket clients: frames of chat, notifications and wallets
//! as REST already shows them, live rooms for their members only, resume without gap or
//! duplicate, a second server process pushing what the first one wrote, a revoked token and a
//! slow reader disconnected.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use uuid::Uuid;

use super::catalogue::{category, id};
use super::rooms::{act, register, room};
use super::{ADMIN_EMAIL, ADMIN_PASSWORD, admin_token, assert_error, claims, forge};
use crate::api::{JWT_SECRET, NO_RATE_LIMITS, SANDBOX_SECRET, Session, TestApp};

/// How long a test waits for a frame it expects.
const FRAME_WAIT: Duration = Duration::from_secs(10);
/// Silence long enough to say no more frames are coming.
const QUIET: Duration = Duration::from_millis(700);

async fn spawn(extra: &[(&str, &str)]) -> TestApp {
    let [limit, auth_limit] = NO_RATE_LIMITS;
    let mut settings = vec![limit, auth_limit, ("BOOTSTRAP_ADMIN_EMAIL", ADMIN_EMAIL), ("BOOTSTRAP_ADMIN_PASSWORD", ADMIN_PASSWORD)];
    settings.extend_from_slice(extra);
    TestApp::spawn(&settings).await
}

/// A WebSocket client of the gateway.
struct Ws {
    stream: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

fn ws_url(address: &str, token: &str) -> String {
    format!("{}/ws?token={token}", address.replacen("http://", "ws://", 1))
}

impl Ws {
    /// Connects and reads the `ready` frame: the position live frames start after.
    async fn connect(address: &str, token: &str) -> (Ws, u64) {
        Self::open(ws_url(address, token)).await
    }

    /// Reconnects, resuming after `after` before any live frame.
    async fn resume(address: &str, token: &str, after: u64) -> (Ws, u64) {
        Self::open(format!("{}&after={after}", ws_url(address, token))).await
    }

    async fn open(url: String) -> (Ws, u64) {
        let (stream, _) = tokio_tungstenite::connect_async(url).await.expect("the WebSocket opens");
        let mut ws = Ws { stream };
        let ready = ws.frame().await;
        assert_eq!(ready["type"], "ready", "{ready}");
        (ws, ready["position"].as_u64().expect("a position"))
    }

    async fn send(&mut self, message: Value) {
        self.stream.send(Message::text(message.to_string())).await.expect("the message goes");
    }

    /// The next text frame, as JSON; pings and pongs are skipped.
    async fn next(&mut self, wait: Duration) -> Option<Result<Value, Option<(CloseCode, String)>>> {
        loop {
            let message = tokio::time::timeout(wait, self.stream.next()).await.ok()?;
            return Some(match message {
                Some(Ok(Message::Text(text))) => Ok(serde_json::from_str(&text).expect("a JSON frame")),
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                Some(Ok(Message::Close(frame))) => Err(frame.map(|frame| (frame.code, frame.reason.to_string()))),
                Some(Ok(other)) => panic!("an unexpected message: {other:?}"),
                Some(Err(_)) | None => Err(None),
            });
        }
    }

    async fn frame(&mut self) -> Value {
        match self.next(FRAME_WAIT).await {
            Some(Ok(frame)) => frame,
            Some(Err(closed)) => panic!("closed instead of a frame: {closed:?}"),
            None => panic!("no frame within {FRAME_WAIT:?}"),
        }
    }

    /// Every frame until none comes for a while.
    async fn until_quiet(&mut self) -> Vec<Value> {
        let mut frames = Vec::new();
        while let Some(Ok(frame)) = self.next(QUIET).await {
            frames.push(frame);
        }
        frames
    }

    /// The close the server sends within `wait`: its code and reason.
    async fn closed_within(&mut self, wait: Duration) -> Option<(CloseCode, String)> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.next(left).await {
                Some(Ok(_)) => continue,
                Some(Err(closed)) => return closed,
                None => panic!("still open after {wait:?}"),
            }
        }
    }
}

fn kinds(frames: &[Value]) -> Vec<(String, u64)> {
    frames.iter().map(|frame| (frame["type"].as_str().unwrap_or_default().to_owned(), frame["position"].as_u64().unwrap_or(0))).collect()
}

async fn conversation(app: &TestApp, from: &Session, to: &Session) -> Uuid {
    let opened = app.post_json("/conversations", Some(&from.token), &[], &json!({ "user_id": to.user_id })).await;
    assert_eq!(opened.status, 200, "{}", opened.text);
    id(&opened.body["data"]["id"])
}

/// Sends a text; returns the message id and the position of the send.
async fn say(app: &TestApp, from: &Session, conversation: Uuid, words: &str) -> (Uuid, u64) {
    let sent = app.post_json(&format!("/conversations/{conversation}/messages"), Some(&from.token), &[], &json!({ "type": "text", "body": words })).await;
    assert_eq!(sent.status, 201, "{}", sent.text);
    (id(&sent.body["data"]["id"]), sent.position())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_reaches_the_receiver_as_message_and_notification_frames_already_readable_over_rest() {
    let app = spawn(&[]).await;
    let (anna, bilal) = (app.register("student").await, app.register("speaker").await);
    let conversation = conversation(&app, &anna, &bilal).await;
    let (mut socket, start) = Ws::connect(&app.address, &bilal.token).await;
    let (message_id, position) = say(&app, &anna, conversation, "Salam!").await;
    assert!(position > start);

    let message = socket.frame().await;
    assert_eq!((&message["type"], message["position"].as_u64()), (&json!("message"), Some(position)), "{message}");
    assert_eq!((&message["data"]["id"], &message["data"]["body"]), (&json!(message_id), &json!("Salam!")));
    let notification = socket.frame().await;
    assert_eq!((&notification["type"], &notification["data"]["type"]), (&json!("notification"), &json!("new_message")), "{notification}");
    // Pushed once committed: the same notification is already in the list, without waiting.
    let listed = app.get_with("/notifications", Some(&bilal.token), &[]).await;
    assert_eq!(listed.body["data"][0], notification["data"], "{}", listed.text);

    // Money: a top-up gives a wallet frame with the new balances.
    let credited = app.fund(&bilal.token, "50.00").await;
    let wallet = socket.frame().await;
    assert_eq!(wallet, json!({ "type": "wallet", "position": credited, "data": { "balance": "50.00", "pending_balance": "0.00" } }));
    // Nothing for anyone else, and nothing of my own: Anna's own actions push nothing to Bilal.
    assert!(socket.until_quiet().await.is_empty());

    // The protocol's own answers.
    socket.send(json!({ "type": "ping" })).await;
    assert_eq!(socket.frame().await["type"], "pong");
    socket.send(json!({ "type": "subscribe" })).await;
    assert_eq!(socket.frame().await["data"]["code"], "invalid_frame");

    // Without a token, or with a bad one, there is no socket.
    let refused = tokio_tungstenite::connect_async(ws_url(&app.address, "not-a-token")).await;
    assert!(refused.is_err(), "a bad token opens no socket");
    assert_error(&app.get_with("/ws", None, &[]).await, 401, "unauthorized");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resume_replays_exactly_what_was_missed_and_a_too_old_one_asks_for_a_resync() {
    let app = spawn(&[]).await;
    let (anna, bilal) = (app.register("student").await, app.register("speaker").await);
    let conversation = conversation(&app, &anna, &bilal).await;
    let (mut socket, _) = Ws::connect(&app.address, &bilal.token).await;
    let (_, first) = say(&app, &anna, conversation, "one").await;
    let seen = socket.until_quiet().await;
    assert_eq!(kinds(&seen), [("message".to_owned(), first), ("notification".to_owned(), first)]);
    drop(socket);

    // Missed while away: three messages.
    let mut missed = Vec::new();
    for words in ["two", "three", "four"] {
        missed.push(say(&app, &anna, conversation, words).await.1);
    }
    let (mut socket, _) = Ws::resume(&app.address, &bilal.token, first).await;
    let replayed = socket.until_quiet().await;
    // Replayed up to where the live frames start, then live: each once, in order, whichever
    // side of the socket's start a message fell on.
    let expected: Vec<(String, u64)> = missed.iter().flat_map(|p| [("message".to_owned(), *p), ("notification".to_owned(), *p)]).collect();
    let without_resumed: Vec<(String, u64)> = kinds(&replayed).into_iter().filter(|(kind, _)| kind != "resumed").collect();
    assert_eq!(without_resumed, expected, "{replayed:?}");
    let bodies: Vec<&Value> = replayed.iter().filter(|f| f["type"] == "message").map(|f| &f["data"]["body"]).collect();
    assert_eq!(bodies, [&json!("two"), &json!("three"), &json!("four")]);

    // Live again, once each.
    let (_, fifth) = say(&app, &anna, conversation, "five").await;
    assert_eq!(kinds(&socket.until_quiet().await), [("message".to_owned(), fifth), ("notification".to_owned(), fifth)]);

    // A resume from what this socket already had live replays nothing again.
    socket.send(json!({ "type": "resume", "after": fifth })).await;
    assert_eq!(kinds(&socket.until_quiet().await), [("resumed".to_owned(), fifth)]);

    // More than 24 hours back: reload over REST instead.
    app.state.commands.kernel.clock().advance(chrono::Duration::hours(25));
    let (mut late, _) = Ws::connect(&app.address, &bilal.token).await;
    late.send(json!({ "type": "resume", "after": first })).await;
    assert_eq!(late.frame().await["type"], "resync_required");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_rooms_messages_go_to_the_members_who_joined_it() {
    let app = spawn(&[]).await;
    let category_id = category(&app, &admin_token(&app).await).await;
    let (host, student, stranger) = (app.register("speaker").await, app.register("student").await, app.register("student").await);
    let room_id = room(&app, &host, category_id, None, 10, 60).await;
    assert_eq!(register(&app, &student, room_id, None).await.status, 201);

    let (mut member, _) = Ws::connect(&app.address, &student.token).await;
    let (mut outsider, _) = Ws::connect(&app.address, &stranger.token).await;
    member.send(json!({ "type": "join_room", "room_id": room_id })).await;
    assert_eq!(member.frame().await["type"], "joined_room");
    outsider.send(json!({ "type": "join_room", "room_id": room_id })).await;
    assert_eq!(outsider.frame().await["data"]["code"], "not_registered");
    outsider.send(json!({ "type": "join_room", "room_id": Uuid::now_v7() })).await;
    assert_eq!(outsider.frame().await["data"]["code"], "not_found");

    app.state.commands.kernel.clock().advance(chrono::Duration::minutes(55));
    assert_eq!(act(&app, &host, &format!("/rooms/{room_id}/start")).await.status, 200);
    let posted = app.post_json(&format!("/rooms/{room_id}/messages"), Some(&host.token), &[], &json!({ "type": "text", "body": "Welcome" })).await;
    assert_eq!(posted.status, 201, "{}", posted.text);
    let pushed = member.frame().await;
    assert_eq!((&pushed["type"], pushed["position"].as_u64()), (&json!("room_message"), Some(posted.position())), "{pushed}");
    assert_eq!(pushed["data"], posted.body["data"]);
    let pinned = act(&app, &host, &format!("/rooms/{room_id}/messages/{}/pin", posted.body["data"]["id"].as_str().unwrap())).await;
    let repushed = member.frame().await;
    assert_eq!((repushed["position"].as_u64(), &repushed["data"]["pinned"]), (Some(pinned.position()), &json!(true)));
    assert!(outsider.until_quiet().await.is_empty(), "nothing for someone who is not a member");

    member.send(json!({ "type": "leave_room", "room_id": room_id })).await;
    assert_eq!(member.frame().await["type"], "left_room");
    let again = app.post_json(&format!("/rooms/{room_id}/messages"), Some(&host.token), &[], &json!({ "type": "emoji", "body": "🎉" })).await;
    assert_eq!(again.status, 201);
    assert!(member.until_quiet().await.is_empty(), "a room left sends nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_or_expired_token_closes_its_socket_within_five_seconds_and_sockets_per_user_are_limited() {
    let app = spawn(&[("WS_SOCKETS_PER_USER", "2")]).await;
    let user = app.register("student").await;
    let (mut first, _) = Ws::connect(&app.address, &user.token).await;
    let (_second, _) = Ws::connect(&app.address, &user.token).await;
    let third = app.get_with(&format!("/ws?token={}", user.token), None, &[("Connection", "Upgrade"), ("Upgrade", "websocket"), ("Sec-WebSocket-Version", "13"), ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")]).await;
    assert_error(&third, 429, "too_many_sockets");

    let logout = app.post_raw("/auth/logout", Some(&user.token), &[], b"").await;
    assert_eq!(logout.status, 200, "{}", logout.text);
    let started = std::time::Instant::now();
    let closed = first.closed_within(Duration::from_secs(5)).await;
    assert_eq!(closed.as_ref().map(|(code, reason)| (*code, reason.as_str())), Some((CloseCode::Policy, "token revoked")), "after {:?}", started.elapsed());

    // A token that expires while its socket is open closes it then.
    let other = app.register("student").await;
    let short_lived = forge(jsonwebtoken::Algorithm::HS256, JWT_SECRET, &claims(other.user_id, &["student"], 2));
    let (mut expiring, _) = Ws::connect(&app.address, &short_lived).await;
    let closed = expiring.closed_within(Duration::from_secs(5)).await;
    assert_eq!(closed.as_ref().map(|(code, reason)| (*code, reason.as_str())), Some((CloseCode::Policy, "token expired")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_that_does_not_keep_up_is_disconnected_instead_of_buffered_for() {
    let app = spawn(&[("WS_OUTBOX_FRAMES", "4")]).await;
    let (anna, bilal) = (app.register("student").await, app.register("speaker").await);
    let conversation = conversation(&app, &anna, &bilal).await;
    // A client with a tiny receive window that reads nothing.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let address = app.address.trim_start_matches("http://").split('/').next().unwrap().parse().unwrap();
    let tcp = socket.connect(address).await.unwrap();
    let (stream, _) = tokio_tungstenite::client_async(ws_url(&app.address, &bilal.token), MaybeTlsStream::Plain(tcp)).await.unwrap();
    let mut slow = Ws { stream };
    // 20 KB a frame: 5,000 four-byte characters.
    let long = "😀".repeat(5000);
    let mut sent = 0;
    while app.state.hub.sockets() > 0 {
        assert!(sent < 300, "300 messages and the socket is still served");
        say(&app, &anna, conversation, &long).await;
        sent += 1;
    }
    // What it gets when it finally reads is bounded, and then the socket is gone.
    let mut frames = 0;
    while let Some(Ok(_)) = slow.next(Duration::from_secs(10)).await {
        frames += 1;
    }
    assert!(frames < 2 * sent, "{frames} frames of {} pushed", 2 * sent);
    assert_eq!(app.state.hub.sockets(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_frames_are_limited_in_size_and_rate_and_a_client_that_answers_no_ping_is_dropped() {
    let app = spawn(&[("WS_PING_SECONDS", "1")]).await;
    let user = app.register("student").await;

    let (mut big, _) = Ws::connect(&app.address, &user.token).await;
    big.send(json!({ "type": "ping", "padding": "x".repeat(5 * 1024) })).await;
    assert_eq!(big.closed_within(Duration::from_secs(5)).await.map(|(code, _)| code), Some(CloseCode::Size));

    let (mut chatty, _) = Ws::connect(&app.address, &user.token).await;
    for _ in 0..31 {
        chatty.send(json!({ "type": "ping" })).await;
    }
    let closed = chatty.closed_within(Duration::from_secs(5)).await;
    assert_eq!(closed.as_ref().map(|(code, reason)| (*code, reason.as_str())), Some((CloseCode::Policy, "too many messages")));

    // Unread, the client never answers the server's pings: three intervals later it is dropped.
    let (mut silent, _) = Ws::connect(&app.address, &user.token).await;
    assert_eq!(app.state.hub.sockets(), 1);
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(app.state.hub.sockets(), 0, "the server dropped the silent socket");
    // Its close frame comes first, unless answering the pings queued before it met a closed
    // connection (a reset discards what was not read yet).
    let closed = silent.closed_within(Duration::from_secs(5)).await;
    assert!(matches!(closed.as_ref().map(|(code, reason)| (*code, reason.as_str())), None | Some((CloseCode::Away, "no answer to pings"))), "{closed:?}");
}

/// The api binary beside this test binary (`cargo test --workspace` builds it).
fn api_binary() -> std::path::PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    let binary = exe.parent().and_then(|deps| deps.parent()).expect("target/debug").join("ispeaker-api");
    assert!(binary.exists(), "{} is missing: build it with `cargo build -p api`", binary.display());
    binary
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_sent_through_one_server_process_reaches_a_socket_on_another() {
    let nats = tests::nats_url();
    let app = spawn(&[("NATS_URL", nats.as_str())]).await;
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut other = tokio::process::Command::new(api_binary());
    other
        .env_clear()
        .env("DATABASE_URL", &app.db.url)
        .env("HTTP_ADDR", format!("127.0.0.1:{port}"))
        .env("NATS_URL", &nats)
        .env("JWT_SECRET", JWT_SECRET)
        .env("PAYMENT_SANDBOX_SECRET", SANDBOX_SECRET)
        .env("DATA_KEY_SECRET", tests::DATA_KEY_SECRET)
        .env("RUST_LOG", "warn")
        .envs(tests::SELLER.iter().chain(&tests::JITSI).copied())
        .current_dir(std::env::temp_dir())
        .stdout(std::process::Stdio::null())
        .kill_on_drop(true);
    let mut other = other.spawn().expect("the second server starts");
    let other_address = format!("http://127.0.0.1:{port}/api/v1");
    let client = reqwest::Client::new();
    let mut up = false;
    for _ in 0..300 {
        if client.get(format!("{other_address}/health")).send().await.is_ok_and(|r| r.status().is_success()) {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(up, "the second server did not come up");

    let (anna, bilal) = (app.register("student").await, app.register("speaker").await);
    let conversation = conversation(&app, &anna, &bilal).await;
    // Bilal's socket is on the other process; Anna writes through this one.
    let (mut on_other, _) = Ws::connect(&other_address, &bilal.token).await;
    let (_, position) = say(&app, &anna, conversation, "across processes").await;
    let frame = on_other.frame().await;
    assert_eq!((&frame["type"], frame["position"].as_u64(), &frame["data"]["body"]), (&json!("message"), Some(position), &json!("across processes")));
    // And the other way round: Bilal writes through the other process to Anna's socket here.
    let (mut here, _) = Ws::resume(&app.address, &anna.token, position).await;
    let sent = client
        .post(format!("{other_address}/conversations/{conversation}/messages"))
        .bearer_auth(&bilal.token)
        .json(&json!({ "type": "text", "body": "and back" }))
        .send()
        .await
        .unwrap();
    assert_eq!(sent.status().as_u16(), 201);
    let messages: Vec<Value> = here.until_quiet().await.into_iter().filter(|f| f["type"] == "message").collect();
    assert_eq!(messages.iter().map(|f| &f["data"]["body"]).collect::<Vec<_>>(), [&json!("and back")]);
    // A resume on the other process replays what this one pushed.
    let (mut resumed, _) = Ws::connect(&other_address, &anna.token).await;
    resumed.send(json!({ "type": "resume", "after": position })).await;
    let replayed = resumed.until_quiet().await;
    assert_eq!(replayed.iter().filter(|f| f["type"] == "message").map(|f| &f["data"]["body"]).collect::<Vec<_>>(), [&json!("and back")]);
    other.kill().await.ok();
}
