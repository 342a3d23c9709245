//! The process's sockets, and the one task that feeds them. The task follows the projectors the
//! frames are read from: whenever all of them have applied further, it reads the frames of the
//! new positions (one query per kind for every socket at once) and hands each to its audience's
//! sockets. A frame therefore leaves only once what it shows is committed and readable over REST,
//! and every process does the same from the shared NATS feed, each for its own sockets.
//!
//! A socket's outbox is bounded: a reader too slow to take its frames is disconnected, never
//! buffered for without limit.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytestring::ByteString;
use projections::notifications::NotificationsProjector;
use projections::rooms::RoomChatProjector;
use projections::social::SocialProjector;
use projections::users::UsersProjector;
use projections::wallet::WalletProjector;
use projections::{Range, chat::ChatProjector, sleep_or_shutdown};
use tokio::sync::{mpsc, watch};
use uuid::Uuid;

use super::frames::{self, Audience, Only, Push};
use crate::i18n::Lang;
use crate::settings::Realtime;
use crate::startup::AppState;

/// The projectors whose tables frames are read from (and the users projector, whose revoked
/// tokens close sockets).
const PUSHED_FROM: &[&str] =
    &[UsersProjector::NAME, SocialProjector::NAME, NotificationsProjector::NAME, ChatProjector::NAME, RoomChatProjector::NAME, WalletProjector::NAME];
/// The most positions read in one go, so a long catch-up is read in pieces.
const POSITIONS_PER_READ_MAX: u64 = 5_000;
const RETRY: Duration = Duration::from_secs(1);

/// Why the server closes a socket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Closing {
    /// Its outbox was full: the client does not read fast enough.
    SlowReader,
    /// Its token was revoked (logout).
    Revoked,
}

/// A frame for one socket: its position and its text in the socket's language.
pub type Outgoing = (u64, ByteString);

/// What a socket gets when it registers.
pub struct Registration {
    pub id: u64,
    /// The position the socket's live frames start after: a resume replays up to here.
    pub start: u64,
    pub frames: mpsc::Receiver<Outgoing>,
    pub closing: watch::Receiver<Option<Closing>>,
}

/// Too many sockets for one user.
#[derive(Debug)]
pub struct Crowded;

struct Socket {
    user_id: Uuid,
    token_id: Uuid,
    lang: Lang,
    rooms: Vec<Uuid>,
    outbox: mpsc::Sender<Outgoing>,
    closing: watch::Sender<Option<Closing>>,
}

#[derive(Default)]
struct Registry {
    /// Every frame up to here has been handed to the sockets registered at the time.
    delivered: u64,
    sockets: HashMap<u64, Socket>,
    by_user: HashMap<Uuid, Vec<u64>>,
    by_room: HashMap<Uuid, Vec<u64>>,
}

impl Registry {
    fn audience(&self, audience: Audience) -> &[u64] {
        let ids = match audience {
            Audience::User(user) => self.by_user.get(&user),
            Audience::Room(room) => self.by_room.get(&room),
        };
        ids.map_or(&[], Vec::as_slice)
    }

    fn close(&mut self, id: u64, why: Closing) {
        if let Some(socket) = self.remove(id) {
            socket.closing.send_replace(Some(why));
        }
    }

    fn remove(&mut self, id: u64) -> Option<Socket> {
        let socket = self.sockets.remove(&id)?;
        forget(&mut self.by_user, socket.user_id, id);
        for room in &socket.rooms {
            forget(&mut self.by_room, *room, id);
        }
        Some(socket)
    }
}

fn forget(index: &mut HashMap<Uuid, Vec<u64>>, key: Uuid, id: u64) {
    if let Some(ids) = index.get_mut(&key) {
        ids.retain(|other| *other != id);
        if ids.is_empty() {
            index.remove(&key);
        }
    }
}

pub struct Hub {
    registry: Mutex<Registry>,
    next_id: AtomicU64,
    settings: Realtime,
}

impl Hub {
    pub fn new(settings: Realtime) -> Self {
        Self { registry: Mutex::default(), next_id: AtomicU64::new(1), settings }
    }

    pub fn settings(&self) -> &Realtime {
        &self.settings
    }

    fn registry(&self) -> std::sync::MutexGuard<'_, Registry> {
        self.registry.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// A new socket of `user_id`'s; refused beyond the sockets a user may have.
    pub fn register(&self, user_id: Uuid, token_id: Uuid, lang: Lang) -> Result<Registration, Crowded> {
        let mut registry = self.registry();
        if registry.by_user.get(&user_id).map_or(0, Vec::len) >= self.settings.sockets_per_user as usize {
            return Err(Crowded);
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (outbox, frames) = mpsc::channel(self.settings.outbox_frames as usize);
        let (closing_sender, closing) = watch::channel(None);
        registry.sockets.insert(id, Socket { user_id, token_id, lang, rooms: Vec::new(), outbox, closing: closing_sender });
        registry.by_user.entry(user_id).or_default().push(id);
        Ok(Registration { id, start: registry.delivered, frames, closing })
    }

    /// The socket joins a room's frames: the position they start after.
    pub fn join(&self, id: u64, room_id: Uuid) -> Option<u64> {
        let mut registry = self.registry();
        let delivered = registry.delivered;
        let socket = registry.sockets.get_mut(&id)?;
        if !socket.rooms.contains(&room_id) {
            socket.rooms.push(room_id);
            registry.by_room.entry(room_id).or_default().push(id);
        }
        Some(delivered)
    }

    pub fn leave(&self, id: u64, room_id: Uuid) {
        let mut registry = self.registry();
        if let Some(socket) = registry.sockets.get_mut(&id) {
            socket.rooms.retain(|room| *room != room_id);
            forget(&mut registry.by_room, room_id, id);
        }
    }

    pub fn unregister(&self, id: u64) {
        self.registry().remove(id);
    }

    /// Closes every socket ("server going away"), so clients move to another process at once
    /// instead of waiting out the graceful shutdown.
    pub fn close_all(&self) {
        let mut registry = self.registry();
        let ids: Vec<u64> = registry.sockets.keys().copied().collect();
        for id in ids {
            registry.remove(id);
        }
    }

    /// Open sockets in this process.
    pub fn sockets(&self) -> usize {
        self.registry().sockets.len()
    }

    /// Hands the frames of positions up to `upto` to their sockets and closes the sockets of
    /// revoked tokens. A socket whose outbox is full is closed as a slow reader.
    fn deliver(&self, upto: u64, pushes: &[Push], revoked: &[Uuid]) {
        let mut registry = self.registry();
        let mut slow = Vec::new();
        for push in pushes {
            for id in registry.audience(push.audience) {
                let socket = &registry.sockets[id];
                match socket.outbox.try_send((push.position, push.wire.text(socket.lang))) {
                    Ok(()) => {}
                    Err(mpsc::error::TrySendError::Full(_)) => slow.push(*id),
                    // The socket's task ended and unregisters it.
                    Err(mpsc::error::TrySendError::Closed(_)) => {}
                }
            }
            for id in slow.drain(..) {
                tracing::info!(socket = id, "closing a socket that does not read its frames");
                registry.close(id, Closing::SlowReader);
            }
        }
        if !revoked.is_empty() {
            let closed: Vec<u64> = registry.sockets.iter().filter(|(_, socket)| revoked.contains(&socket.token_id)).map(|(id, _)| *id).collect();
            for id in closed {
                registry.close(id, Closing::Revoked);
            }
        }
        registry.delivered = registry.delivered.max(upto);
    }

    /// Feeds the sockets until `shutdown` turns true. Starts at the store's head: a socket that
    /// connects later and missed something resumes from its last position.
    pub async fn run(self: std::sync::Arc<Self>, state: std::sync::Arc<AppState>, mut shutdown: watch::Receiver<bool>) {
        let mut applied: Vec<watch::Receiver<u64>> = PUSHED_FROM.iter().map(|name| state.projections.applied(name)).collect();
        loop {
            match state.commands.kernel.head().await {
                Ok(head) => {
                    self.registry().delivered = head.position;
                    break;
                }
                Err(error) => tracing::warn!(%error, "the gateway cannot read the store's head yet"),
            }
            if sleep_or_shutdown(RETRY, &mut shutdown).await {
                return;
            }
        }
        while !*shutdown.borrow() {
            let target = applied.iter_mut().map(|receiver| *receiver.borrow_and_update()).min().unwrap_or(0);
            let delivered = self.registry().delivered;
            if target <= delivered {
                let changes = futures::future::select_all(applied.iter_mut().map(|receiver| Box::pin(receiver.changed())));
                tokio::select! {
                    _ = changes => {}
                    _ = shutdown.changed() => {}
                }
                continue;
            }
            let range = Range { after: delivered, upto: target.min(delivered + POSITIONS_PER_READ_MAX) };
            match read(&state, range).await {
                Ok((pushes, revoked)) => self.deliver(range.upto, &pushes, &revoked),
                Err(error) => {
                    tracing::warn!(%error, after = range.after, upto = range.upto, "the gateway could not read its frames, will retry");
                    if sleep_or_shutdown(RETRY, &mut shutdown).await {
                        return;
                    }
                }
            }
        }
    }
}

async fn read(state: &AppState, range: Range) -> Result<(Vec<Push>, Vec<Uuid>), sqlx::Error> {
    tokio::try_join!(frames::load(&state.queries, range, Only::Everyone), state.queries.users.revoked_in(range))
}
