//! One socket: what the hub hands it goes out in order; what the client sends (`join_room`,
//! `leave_room`, `resume`, `ping`) is answered; pings keep it alive and a silent client is
//! dropped; the token's expiry, its revocation, a too-large or too-frequent client frame and a
//! slow reader each close it with a reason.

use std::time::{Duration, Instant};

use actix_ws::{AggregatedMessage, CloseCode, CloseReason, Session};
use chrono::Utc;
use futures::StreamExt;
use projections::Range;
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use super::frames::{self, Audience, Frame, Only};
use super::hub::{Closing, Registration};
use crate::i18n::{Lang, Text};
use crate::startup::AppState;

/// How far back a resume may reach; older than that, the client reloads over REST.
const RESUME_WINDOW_HOURS: i64 = 24;
/// The most frames one resume replays; beyond that, the client reloads over REST.
const RESUME_FRAMES_MAX: usize = 2_000;
/// What a client may send: small control messages only.
pub const CLIENT_FRAME_BYTES_MAX: usize = 4 * 1024;
/// Client messages allowed per window, beyond which the socket is closed.
const CLIENT_MESSAGES_PER_WINDOW: u32 = 30;
const CLIENT_WINDOW: Duration = Duration::from_secs(10);
/// How long one frame may wait for the client to take it, and the closing handshake too.
const WRITE_TIMEOUT: Duration = Duration::from_secs(5);

pub const INVALID_FRAME: Text = Text::new("invalid_frame", "Send JSON: join_room, leave_room, resume or ping.", "أرسل JSON: join_room أو leave_room أو resume أو ping.");
pub const NOT_A_MEMBER: Text =
    Text::new("not_registered", "Only the host and registrants receive a room's messages.", "رسائل الغرفة للمضيف والمسجلين فقط.");
pub const NO_SUCH_ROOM: Text = Text::new("not_found", "No such room.", "لا توجد غرفة بهذا المعرّف.");

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ClientMessage {
    JoinRoom { room_id: Uuid },
    LeaveRoom { room_id: Uuid },
    Resume { after: u64 },
    Ping,
}

/// Who is connected, as their token said.
pub struct Caller {
    pub user_id: Uuid,
    pub expires_at: chrono::DateTime<Utc>,
    pub lang: Lang,
    /// `?after=`: resume before the first live frame.
    pub resume_after: Option<u64>,
}

struct Socket {
    state: std::sync::Arc<AppState>,
    caller: Caller,
    registration: Registration,
    session: Session,
    /// Rooms joined, with the position their frames started after.
    rooms: Vec<(Uuid, u64)>,
    /// Frames up to here were replayed (or the client says it has them): live ones are skipped.
    skip_upto: u64,
}

/// Serves the socket until it closes, then unregisters it.
pub async fn run(state: std::sync::Arc<AppState>, caller: Caller, registration: Registration, session: Session, stream: actix_ws::MessageStream) {
    let id = registration.id;
    let hub = state.hub.clone();
    let mut socket = Socket { state, caller, registration, session, rooms: Vec::new(), skip_upto: 0 };
    let reason = socket.serve(stream).await;
    hub.unregister(id);
    if let Some(reason) = reason {
        let _ = tokio::time::timeout(WRITE_TIMEOUT, socket.session.close(Some(reason))).await;
    }
}

fn close(code: CloseCode, description: &str) -> Option<CloseReason> {
    Some(CloseReason { code, description: Some(description.to_owned()) })
}

impl Socket {
    /// Why the server closes, or `None` when the client went.
    async fn serve(&mut self, stream: actix_ws::MessageStream) -> Option<CloseReason> {
        let settings = self.state.hub.settings().clone();
        let mut stream = stream.max_frame_size(CLIENT_FRAME_BYTES_MAX).aggregate_continuations().max_continuation_size(CLIENT_FRAME_BYTES_MAX);
        let ready = Frame::new("ready", Some(self.registration.start), json!({ "user_id": self.caller.user_id }));
        self.session.text(ready.wire()).await.ok()?;
        if let Some(after) = self.caller.resume_after {
            self.resume(after).await.ok()?;
        }
        let mut ping = tokio::time::interval(settings.ping_interval);
        ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let silence_max = settings.ping_interval * 3;
        let mut last_heard = Instant::now();
        let (mut window_start, mut in_window) = (Instant::now(), 0u32);
        let expiry = (self.caller.expires_at - Utc::now()).to_std().unwrap_or_default();
        let expired = tokio::time::sleep(expiry);
        tokio::pin!(expired);
        loop {
            tokio::select! {
                _ = self.registration.closing.changed() => return self.removed_by_hub(),
                _ = &mut expired => return close(CloseCode::Policy, "token expired"),
                frame = self.registration.frames.recv() => {
                    // The hub dropped the outbox: it closed this socket, and says why.
                    let Some((position, text)) = frame else { return self.removed_by_hub() };
                    if position > self.skip_upto {
                        match tokio::time::timeout(WRITE_TIMEOUT, self.session.text(text)).await {
                            Ok(sent) => sent.ok()?,
                            Err(_) => return close(CloseCode::Policy, "slow reader: frames were not read in time"),
                        }
                    }
                }
                message = stream.next() => {
                    last_heard = Instant::now();
                    match message {
                        Some(Ok(AggregatedMessage::Text(text))) => {
                            if window_start.elapsed() > CLIENT_WINDOW {
                                (window_start, in_window) = (Instant::now(), 0);
                            }
                            in_window += 1;
                            if in_window > CLIENT_MESSAGES_PER_WINDOW {
                                return close(CloseCode::Policy, "too many messages");
                            }
                            self.answer(&text).await.ok()?;
                        }
                        Some(Ok(AggregatedMessage::Binary(_))) => self.error(&INVALID_FRAME).await.ok()?,
                        Some(Ok(AggregatedMessage::Ping(bytes))) => self.session.pong(&bytes).await.ok()?,
                        Some(Ok(AggregatedMessage::Pong(_))) => {}
                        Some(Ok(AggregatedMessage::Close(_))) | None => return None,
                        Some(Err(actix_ws::ProtocolError::Overflow)) => return close(CloseCode::Size, "a client frame is at most 4 KiB"),
                        Some(Err(_)) => return close(CloseCode::Protocol, "protocol error"),
                    }
                }
                _ = ping.tick() => {
                    if last_heard.elapsed() > silence_max {
                        return close(CloseCode::Away, "no answer to pings");
                    }
                    self.session.ping(b"").await.ok()?;
                }
            }
        }
    }

    /// Why the hub removed this socket: its token was revoked, its client read too slowly, or
    /// (no reason given) the server is stopping.
    fn removed_by_hub(&self) -> Option<CloseReason> {
        match *self.registration.closing.borrow() {
            Some(Closing::Revoked) => close(CloseCode::Policy, "token revoked"),
            Some(Closing::SlowReader) => close(CloseCode::Policy, "slow reader: frames were not read in time"),
            None => close(CloseCode::Away, "server going away"),
        }
    }

    async fn answer(&mut self, text: &str) -> Result<(), actix_ws::Closed> {
        let Ok(message) = serde_json::from_str::<ClientMessage>(text) else { return self.error(&INVALID_FRAME).await };
        match message {
            ClientMessage::Ping => self.session.text(Frame::new("pong", None, json!({})).wire()).await,
            ClientMessage::JoinRoom { room_id } => self.join(room_id).await,
            ClientMessage::LeaveRoom { room_id } => {
                self.state.hub.leave(self.registration.id, room_id);
                self.rooms.retain(|(room, _)| *room != room_id);
                self.session.text(Frame::new("left_room", None, json!({ "room_id": room_id })).wire()).await
            }
            ClientMessage::Resume { after } => self.resume(after).await,
        }
    }

    async fn join(&mut self, room_id: Uuid) -> Result<(), actix_ws::Closed> {
        let room = match self.state.commands.rooms.room(room_id).await {
            Ok(room) => room.state,
            Err(error) => {
                tracing::warn!(%error, "could not read a room to join");
                return self.error(&crate::error::SERVICE_UNAVAILABLE).await;
            }
        };
        if room.id().is_none() {
            return self.error(&NO_SUCH_ROOM).await;
        }
        if !room.is_member(self.caller.user_id) {
            return self.error(&NOT_A_MEMBER).await;
        }
        let Some(joined_at) = self.state.hub.join(self.registration.id, room_id) else { return Err(actix_ws::Closed) };
        if !self.rooms.iter().any(|(room, _)| *room == room_id) {
            self.rooms.push((room_id, joined_at));
        }
        self.session.text(Frame::new("joined_room", Some(joined_at), json!({ "room_id": room_id })).wire()).await
    }

    /// Replays what the socket missed after `after`: the user's frames up to where this socket's
    /// live frames started, and each joined room's up to where it was joined. Live frames at or
    /// below `after` are skipped from now on, so nothing comes twice.
    async fn resume(&mut self, after: u64) -> Result<(), actix_ws::Closed> {
        self.skip_upto = self.skip_upto.max(after);
        let mut ranges = vec![(Audience::User(self.caller.user_id), self.registration.start)];
        ranges.extend(self.rooms.iter().map(|(room, joined_at)| (Audience::Room(*room), *joined_at)));
        ranges.retain(|(_, upto)| after < *upto);
        if ranges.is_empty() {
            return self.session.text(Frame::new("resumed", Some(after), json!({ "replayed": 0 })).wire()).await;
        }
        let replay = match self.replay(after, &ranges).await {
            Ok(Some(replay)) => replay,
            Ok(None) => return self.session.text(Frame::new("resync_required", Some(after), json!({})).wire()).await,
            Err(error) => {
                tracing::warn!(%error, "could not read the frames to replay");
                return self.error(&crate::error::SERVICE_UNAVAILABLE).await;
            }
        };
        let replayed = replay.len();
        for push in replay {
            self.session.text(push.wire.text(self.caller.lang)).await?;
        }
        self.session.text(Frame::new("resumed", Some(after), json!({ "replayed": replayed })).wire()).await
    }

    /// The frames to replay, or `None` when they reach further back than a resume may.
    async fn replay(&self, after: u64, ranges: &[(Audience, u64)]) -> Result<Option<Vec<frames::Push>>, Box<dyn std::error::Error + Send + Sync>> {
        let first_missed = self.state.commands.kernel.store().read_all_stored(after, 1).await?;
        let window_start = self.state.commands.kernel.now() - chrono::Duration::hours(RESUME_WINDOW_HOURS);
        if first_missed.first().is_some_and(|event| event.recorded_at < window_start) {
            return Ok(None);
        }
        let mut replay = Vec::new();
        for (audience, upto) in ranges {
            replay.extend(frames::load(&self.state.queries, Range { after, upto: *upto }, Only::Audience(*audience)).await?);
            if replay.len() > RESUME_FRAMES_MAX {
                return Ok(None);
            }
        }
        replay.sort_by_key(|push| push.position);
        Ok(Some(replay))
    }

    async fn error(&mut self, text: &Text) -> Result<(), actix_ws::Closed> {
        let message = text.in_language(self.caller.lang);
        self.session.text(Frame::new("error", None, json!({ "code": text.code, "message": message })).wire()).await
    }
}
