//! The live feed: one NATS subscription per process, shared by every projector. Each event
//! crosses NATS and is decoded once, however many projectors follow it.
//!
//! The feed only says what just happened; it never decides what a projector applies. It passes
//! on only what it can prove came from its own store: a message must name this store and carry
//! the deployment's signature, and each event must extend the hash chain of the event before it
//! (as the store holds it, or as the feed last passed it on). Anything else is dropped, and the
//! runners, seeing a hole, read the store — as they do after a NATS outage, when they fall behind
//! the buffer, or for an undecodable message.

use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::{self, consumer::DeliverPolicy, consumer::push::OrderedConfig};
use event_store::relay::{self, Deployment};
use event_store::{EventStore, RecordedEvent, StoredEvent, chain_hash};
use futures::StreamExt;
use tokio::sync::{broadcast, watch};

/// Chunks the feed holds for a runner that is busy; beyond this the runner reads the store.
const BUFFERED_CHUNKS_MAX: usize = 1024;

/// How often a following feed checks that NATS is still connected: a subscription does not end
/// when the server goes away, and runners must not wait on a silent feed.
const CONNECTION_CHECK_MS: u64 = 100;

#[derive(Clone, Debug)]
pub struct LiveConfig {
    /// Whose fan-out to follow: the stream, the subjects, and the key messages are signed with.
    pub deployment: Deployment,
    /// How long to gather more messages after the first one of a chunk: under load, many
    /// small projector transactions become one.
    pub linger_ms: u64,
    pub chunk_size_max: usize,
    /// Pause before subscribing again after NATS went away.
    pub retry_ms: u64,
}

impl LiveConfig {
    pub fn new(deployment: Deployment) -> Self {
        Self { deployment, linger_ms: 20, chunk_size_max: 2000, retry_ms: 1000 }
    }
}

/// Consecutive relayed events, as NATS delivered them, decoded and upcast.
pub type Chunk = Arc<[RecordedEvent]>;

/// A handle on the process's live feed. Cheap to clone.
#[derive(Clone)]
pub struct LiveFeed {
    chunks: broadcast::Sender<Chunk>,
    following: watch::Receiver<bool>,
}

impl LiveFeed {
    /// Starts following NATS until `shutdown` turns true; keeps trying while NATS is away.
    pub fn start(store: EventStore, client: async_nats::Client, config: LiveConfig, shutdown: watch::Receiver<bool>) -> Self {
        let (chunks, _) = broadcast::channel(BUFFERED_CHUNKS_MAX);
        let (following_sender, following) = watch::channel(false);
        let feed = Feed { store, client, config, chunks: chunks.clone(), following: following_sender };
        tokio::spawn(feed.run(shutdown));
        Self { chunks, following }
    }

    /// Whether the feed is subscribed: only then does silence mean nothing happened.
    pub fn following(&self) -> watch::Receiver<bool> {
        self.following.clone()
    }

    /// Chunks from now on. Subscribe before reading the store, so nothing falls between.
    pub fn subscribe(&self) -> broadcast::Receiver<Chunk> {
        self.chunks.subscribe()
    }
}

struct Feed {
    store: EventStore,
    client: async_nats::Client,
    config: LiveConfig,
    chunks: broadcast::Sender<Chunk>,
    following: watch::Sender<bool>,
}

impl Feed {
    async fn run(self, mut shutdown: watch::Receiver<bool>) {
        while !*shutdown.borrow() {
            // Only a connected client is asked: JetStream requests would otherwise wait out
            // their timeout on every turn.
            if self.client.connection_state() == async_nats::connection::State::Connected {
                match self.subscribe().await {
                    Ok(messages) => self.follow(messages, &mut shutdown).await,
                    Err(error) => tracing::debug!(%error, "not following NATS yet"),
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(self.config.retry_ms)) => {}
                _ = shutdown.changed() => {}
            }
        }
    }

    async fn subscribe(&self) -> Result<jetstream::consumer::push::Ordered, String> {
        let context = jetstream::new(self.client.clone());
        let stream = relay::ensure_stream(&context, &self.config.deployment).await.map_err(|e| e.to_string())?;
        let consumer = stream
            .create_consumer(OrderedConfig {
                deliver_subject: self.client.new_inbox(),
                filter_subject: format!("{}.>", self.config.deployment.subject_prefix()),
                deliver_policy: DeliverPolicy::New,
                ..Default::default()
            })
            .await
            .map_err(|e| e.to_string())?;
        consumer.messages().await.map_err(|e| e.to_string())
    }

    async fn follow(&self, mut messages: jetstream::consumer::push::Ordered, shutdown: &mut watch::Receiver<bool>) {
        self.following.send_replace(true);
        let linger = Duration::from_millis(self.config.linger_ms);
        // Pinned outside the loop: polled by every turn, never restarted by one. A check that
        // won a turn's race would drop the chunk `next_chunk` was gathering.
        let disconnected = until_disconnected(&self.client);
        tokio::pin!(disconnected);
        // The last event passed on: the next one must extend its hash.
        let mut last: Option<(u64, [u8; 32])> = None;
        loop {
            tokio::select! {
                chunk = next_chunk(&mut messages, &self.config.deployment, self.config.chunk_size_max, linger) => match chunk {
                    Some(stored) => {
                        let proven = self.proven(stored, &mut last).await;
                        if proven.is_empty() {
                            continue;
                        }
                        match self.store.decode(proven).await {
                            // No runner listening is fine: they read the store when they start.
                            Ok(events) => drop(self.chunks.send(events.into())),
                            // Dropped: the runners see the hole and read the store.
                            Err(error) => tracing::warn!(%error, "undecodable live event"),
                        }
                    }
                    None => {
                        tracing::warn!("the NATS subscription ended; following again shortly");
                        break;
                    }
                },
                () = &mut disconnected => {
                    tracing::warn!("NATS is not connected; runners read the store until it is back");
                    break;
                }
                _ = shutdown.changed() => break,
            }
        }
        self.following.send_replace(false);
    }

    /// The leading events of `chunk` that extend the store's hash chain; the rest are dropped
    /// (and later ones are read from the store). The link before the first event is checked
    /// against the store itself when the feed did not pass on its predecessor.
    async fn proven(&self, chunk: Vec<StoredEvent>, last: &mut Option<(u64, [u8; 32])>) -> Vec<StoredEvent> {
        let mut proven = Vec::with_capacity(chunk.len());
        for event in chunk {
            let previous = match *last {
                Some((position, hash)) if position + 1 == event.position => Some(hash),
                _ => self.store.hash_at(event.position.saturating_sub(1)).await.ok().flatten(),
            };
            if event.position == 0 || previous.is_none_or(|previous| chain_hash(&previous, &event) != event.hash) {
                tracing::warn!(position = event.position, "a live event that does not extend the store's chain; reading the store instead");
                *last = None;
                break;
            }
            *last = Some((event.position, event.hash));
            proven.push(event);
        }
        proven
    }
}

/// Returns once the client is no longer connected.
async fn until_disconnected(client: &async_nats::Client) {
    let mut check = tokio::time::interval(Duration::from_millis(CONNECTION_CHECK_MS));
    while client.connection_state() == async_nats::connection::State::Connected {
        check.tick().await;
    }
}

/// The messages NATS has ready (at least one, waiting for it); `None` when the subscription
/// ended.
async fn next_chunk(
    messages: &mut jetstream::consumer::push::Ordered,
    deployment: &Deployment,
    limit: usize,
    linger: Duration,
) -> Option<Vec<StoredEvent>> {
    let first = messages.next().await?.ok()?;
    let mut chunk = Vec::new();
    push_decoded(&mut chunk, deployment, &first);
    let until = tokio::time::Instant::now() + linger;
    while chunk.len() < limit {
        match tokio::time::timeout_at(until, messages.next()).await {
            Ok(Some(Ok(message))) => push_decoded(&mut chunk, deployment, &message),
            Ok(Some(Err(_))) | Ok(None) => return Some(chunk),
            Err(_) => break,
        }
    }
    Some(chunk)
}

/// Keeps a message only if this store's relay published it (its store and signature headers).
fn push_decoded(chunk: &mut Vec<StoredEvent>, deployment: &Deployment, message: &jetstream::Message) {
    let header = |name: &str| message.headers.as_ref().and_then(|headers| headers.get(name)).map(|value| value.as_str());
    if !deployment.verify(header(relay::STORE_HEADER), header(relay::SIGNATURE_HEADER), &message.payload) {
        tracing::warn!(subject = %message.subject, "ignoring a message this store's relay did not sign");
        return;
    }
    match serde_json::from_slice::<StoredEvent>(&message.payload) {
        Ok(event) => chunk.push(event),
        Err(error) => tracing::warn!(subject = %message.subject, %error, "ignoring a message that is not a relayed event"),
    }
}
