//! The live feed: one NATS subscription per process, shared by every projector. Each event
//! crosses NATS and is decoded once, however many projectors follow it.
//!
//! The feed only says what just happened; it never decides what a projector applies. Runners
//! check each chunk against their checkpoint and read the store for anything the feed missed
//! (a NATS outage, a slow runner that fell behind the buffer, an undecodable message).

use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::{self, consumer::DeliverPolicy, consumer::push::OrderedConfig};
use event_store::{EventStore, RecordedEvent, StoredEvent, relay};
use futures::StreamExt;
use tokio::sync::{broadcast, watch};

/// Chunks the feed holds for a runner that is busy; beyond this the runner reads the store.
const BUFFERED_CHUNKS_MAX: usize = 1024;

#[derive(Clone, Debug)]
pub struct LiveConfig {
    /// The JetStream stream and subject prefix the relay publishes to.
    pub stream_name: String,
    pub subject_prefix: String,
    /// How long to gather more messages after the first one of a chunk: under load, many
    /// small projector transactions become one.
    pub linger_ms: u64,
    pub chunk_size_max: usize,
    /// Pause before subscribing again after NATS went away.
    pub retry_ms: u64,
}

impl Default for LiveConfig {
    fn default() -> Self {
        Self { stream_name: "EVENTS".into(), subject_prefix: "events".into(), linger_ms: 20, chunk_size_max: 2000, retry_ms: 1000 }
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
        let stream = relay::ensure_stream(&context, &self.config.stream_name, &self.config.subject_prefix)
            .await
            .map_err(|e| e.to_string())?;
        let consumer = stream
            .create_consumer(OrderedConfig {
                deliver_subject: self.client.new_inbox(),
                filter_subject: format!("{}.>", self.config.subject_prefix),
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
        loop {
            tokio::select! {
                chunk = next_chunk(&mut messages, self.config.chunk_size_max, linger) => match chunk {
                    Some(stored) => {
                        let decoded: Result<Vec<RecordedEvent>, _> = stored.into_iter().map(|e| self.store.upcasters().decode(e)).collect();
                        match decoded {
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
                _ = shutdown.changed() => break,
            }
        }
        self.following.send_replace(false);
    }
}

/// The messages NATS has ready (at least one, waiting for it); `None` when the subscription
/// ended.
async fn next_chunk(
    messages: &mut jetstream::consumer::push::Ordered,
    limit: usize,
    linger: Duration,
) -> Option<Vec<StoredEvent>> {
    let first = messages.next().await?.ok()?;
    let mut chunk = Vec::new();
    push_decoded(&mut chunk, &first);
    let until = tokio::time::Instant::now() + linger;
    while chunk.len() < limit {
        match tokio::time::timeout_at(until, messages.next()).await {
            Ok(Some(Ok(message))) => push_decoded(&mut chunk, &message),
            Ok(Some(Err(_))) | Ok(None) => return Some(chunk),
            Err(_) => break,
        }
    }
    Some(chunk)
}

fn push_decoded(chunk: &mut Vec<StoredEvent>, message: &jetstream::Message) {
    match serde_json::from_slice::<StoredEvent>(&message.payload) {
        Ok(event) => chunk.push(event),
        Err(error) => tracing::warn!(subject = %message.subject, %error, "ignoring a message that is not a relayed event"),
    }
}
