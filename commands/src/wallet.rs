//! Wallet commands, decided one wallet at a time.
//!
//! Each active wallet has a worker task that owns its state. Commands queue to the worker, which
//! decides a whole queue against the state in memory and pipelines the appends with consecutive
//! expected versions into the store's group commit. So a hot wallet costs no reload and no
//! conflict per command, and many commands share one database commit. When the store reports a
//! conflict (another process wrote the wallet) the worker reloads from the store and decides the
//! command again; the expected version still guarantees that no decision rests on stale state.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use domain::wallet::{STREAM_TYPE, Wallet, WalletCommand, WalletError, WalletEvent};
use event_store::{
    AppendOutcome, AppendRequest, EventMetadata, EventStore, EventStoreError, ExpectedVersion, NewEvent, StreamAppend, StreamRef,
};
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use crate::CommandError;

/// Commands waiting for one wallet's worker.
const WALLET_QUEUE_CAPACITY: usize = 4096;
/// Most commands decided in one round of a worker.
const WORKER_ROUND_COMMANDS_MAX: usize = 512;
/// A conflicted command is decided again at most this often before giving up.
const CONFLICT_RETRIES_MAX: u32 = 8;
/// A worker with nothing to do for this long stops and frees its state.
const WORKER_IDLE_MS: u64 = 30_000;

/// Who asked and how to deduplicate: becomes the events' metadata.
#[derive(Clone, Debug, Default)]
pub struct CommandContext {
    pub actor: Option<String>,
    pub correlation_id: Option<Uuid>,
    pub causation_id: Option<Uuid>,
    /// The caller scopes it (per user, per provider event); a repeat returns the first result.
    pub idempotency_key: Option<String>,
    /// What the caller keyed, digested: recorded so a reuse of the key for another request
    /// can be told apart from a retry.
    pub request_fingerprint: Option<String>,
}

impl CommandContext {
    pub fn idempotent(key: impl Into<String>) -> Self {
        Self { idempotency_key: Some(key.into()), ..Self::default() }
    }

    pub(crate) fn metadata(&self) -> EventMetadata {
        EventMetadata {
            actor: self.actor.clone(),
            correlation_id: self.correlation_id.unwrap_or_else(Uuid::now_v7),
            causation_id: self.causation_id,
            idempotency_key: self.idempotency_key.clone(),
            request_fingerprint: self.request_fingerprint.clone(),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct CommandOutcome {
    /// Global position of the command's last event; `None` when the command changed nothing
    /// (a provider capture seen before).
    pub position: Option<u64>,
    /// The idempotency key was used before: this is the first command's position.
    pub replayed: bool,
    /// What this command appended (empty when replayed or nothing changed).
    pub events: Vec<WalletEvent>,
}

pub fn wallet_stream(user_id: Uuid) -> StreamRef {
    StreamRef::new(STREAM_TYPE, user_id.to_string())
}

/// Replays a wallet from the store. Postings are re-checked for balance as they decode.
pub async fn load_wallet(store: &EventStore, user_id: Uuid) -> Result<Wallet, CommandError> {
    let recorded = store.read_stream(&wallet_stream(user_id), 0).await?;
    let mut wallet = Wallet::default();
    for event in recorded {
        let decoded = WalletEvent::from_payload(&event.event_type, event.schema_version, event.payload)
            .map_err(|e| CommandError::Corrupt(format!("position {}: {e}", event.position)))?;
        wallet.apply(&decoded);
        if wallet.version() != event.stream_version {
            return Err(CommandError::Corrupt(format!("wallet {user_id} skips to version {}", event.stream_version)));
        }
    }
    Ok(wallet)
}

struct Job {
    command: WalletCommand,
    /// Other streams' events to append in the same transaction as the wallet's.
    also: Vec<StreamAppend>,
    context: CommandContext,
    attempts: u32,
    reply: oneshot::Sender<Result<CommandOutcome, CommandError>>,
}

impl Job {
    fn answer(self, result: Result<CommandOutcome, CommandError>) {
        // The caller may have gone away; the command's effect stands either way.
        let _ = self.reply.send(result);
    }
}

type PendingAppend = std::pin::Pin<Box<dyn Future<Output = Result<AppendOutcome, EventStoreError>> + Send>>;

enum Decision {
    Appending(Vec<WalletEvent>, PendingAppend),
    Rejected(WalletError),
    Unchanged,
    Failed(CommandError),
}

struct WorkerHandle {
    id: u64,
    jobs: mpsc::Sender<Job>,
}

struct Inner {
    store: EventStore,
    workers: Mutex<HashMap<Uuid, WorkerHandle>>,
    next_worker_id: std::sync::atomic::AtomicU64,
}

/// The wallet command handler. Cheap to clone; one per process is enough.
#[derive(Clone)]
pub struct WalletCommands {
    inner: Arc<Inner>,
}

impl WalletCommands {
    pub fn new(store: EventStore) -> Self {
        Self {
            inner: Arc::new(Inner { store, workers: Mutex::new(HashMap::new()), next_worker_id: Default::default() }),
        }
    }

    pub fn store(&self) -> &EventStore {
        &self.inner.store
    }

    #[tracing::instrument(skip_all, fields(%user_id))]
    pub async fn execute(
        &self,
        user_id: Uuid,
        command: WalletCommand,
        context: CommandContext,
    ) -> Result<CommandOutcome, CommandError> {
        self.execute_with(user_id, command, Vec::new(), context).await
    }

    /// Executes a wallet command and appends `also` (other streams' events, with their expected
    /// versions) in the same atomic append: one business transaction over several aggregates.
    /// A conflict on one of those streams is answered at once as `Contention`: the caller decides
    /// them again.
    pub async fn execute_with(
        &self,
        user_id: Uuid,
        command: WalletCommand,
        also: Vec<StreamAppend>,
        context: CommandContext,
    ) -> Result<CommandOutcome, CommandError> {
        let (reply, answer) = oneshot::channel();
        let mut job = Job { command, also, context, attempts: 0, reply };
        loop {
            let sender = self.worker(user_id);
            match sender.send(job).await {
                Ok(()) => break,
                // The worker stopped between lookup and send: look again, a new one starts.
                Err(mpsc::error::SendError(returned)) => job = returned,
            }
        }
        answer.await.map_err(|_| CommandError::Internal("wallet worker stopped".to_owned()))?
    }

    fn worker(&self, user_id: Uuid) -> mpsc::Sender<Job> {
        let mut workers = self.inner.workers.lock().expect("worker map lock");
        if let Some(handle) = workers.get(&user_id).filter(|h| !h.jobs.is_closed()) {
            return handle.jobs.clone();
        }
        let (jobs, receiver) = mpsc::channel(WALLET_QUEUE_CAPACITY);
        let id = self.inner.next_worker_id.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        workers.insert(user_id, WorkerHandle { id, jobs: jobs.clone() });
        let worker = Worker { inner: Arc::downgrade(&self.inner), store: self.inner.store.clone(), id, user_id };
        tokio::spawn(worker.run(receiver));
        jobs
    }
}

struct Worker {
    inner: std::sync::Weak<Inner>,
    store: EventStore,
    id: u64,
    user_id: Uuid,
}

impl Worker {
    async fn run(self, mut receiver: mpsc::Receiver<Job>) {
        let mut state: Option<Wallet> = None;
        let mut retries: VecDeque<Job> = VecDeque::new();
        let mut stopping = false;
        loop {
            let mut jobs: Vec<Job> = retries.drain(..).collect();
            if jobs.is_empty() {
                if stopping {
                    return;
                }
                let idle = Duration::from_millis(WORKER_IDLE_MS);
                match tokio::time::timeout(idle, receiver.recv()).await {
                    Ok(Some(job)) => jobs.push(job),
                    Ok(None) => return,
                    Err(_) => {
                        // Leave the map first, then refuse new jobs, then finish what got in.
                        self.deregister();
                        receiver.close();
                        stopping = true;
                    }
                }
            }
            while jobs.len() < WORKER_ROUND_COMMANDS_MAX {
                let Ok(job) = receiver.try_recv() else { break };
                jobs.push(job);
            }
            if !jobs.is_empty() {
                state = self.round(state, jobs, &mut retries).await;
            }
        }
    }

    fn deregister(&self) {
        if let Some(inner) = self.inner.upgrade() {
            let mut workers = inner.workers.lock().expect("worker map lock");
            if workers.get(&self.user_id).is_some_and(|h| h.id == self.id) {
                workers.remove(&self.user_id);
            }
        }
    }

    /// Decides every job against the state, pipelines the appends, then settles each answer.
    /// Returns the state to keep, or `None` when it must be reloaded from the store.
    async fn round(&self, state: Option<Wallet>, jobs: Vec<Job>, retries: &mut VecDeque<Job>) -> Option<Wallet> {
        let cached = state.is_some();
        let mut working = match state {
            Some(wallet) => wallet,
            None => match load_wallet(&self.store, self.user_id).await {
                Ok(wallet) => wallet,
                Err(error) => {
                    for job in jobs {
                        job.answer(Err(error.clone()));
                    }
                    return None;
                }
            },
        };

        let mut decided = Vec::new();
        for job in jobs {
            let decision = match working.handle(job.command.clone()) {
                Err(rejection) => Decision::Rejected(rejection),
                Ok(events) if events.is_empty() && job.also.is_empty() => Decision::Unchanged,
                Ok(events) => {
                    let mut request = append_request(self.user_id, &events, &job.context, working.version());
                    if events.is_empty() {
                        request.streams.clear();
                    }
                    request.streams.extend(job.also.iter().cloned());
                    match self.store.enqueue(request).await {
                        Ok(outcome) => {
                            for event in &events {
                                working.apply(event);
                            }
                            Decision::Appending(events, Box::pin(outcome))
                        }
                        Err(error) => Decision::Failed(error.into()),
                    }
                }
            };
            decided.push((job, decision));
        }

        // Answers go out in decision order. Once an append has failed, every later decision
        // rested on state that did not happen, so those commands are decided again.
        let mut stale = false;
        let mut reload = false;
        for (job, decision) in decided {
            let retry = match decision {
                Decision::Appending(events, outcome) => match outcome.await {
                    Ok(AppendOutcome { last_position, replayed: false, .. }) => {
                        job.answer(Ok(CommandOutcome { position: Some(last_position), replayed: false, events }));
                        None
                    }
                    Ok(AppendOutcome { last_position, replayed: true, .. }) => {
                        // Our state assumed these events; the store kept the first command's.
                        stale = true;
                        job.answer(Ok(CommandOutcome { position: Some(last_position), replayed: true, events: Vec::new() }));
                        None
                    }
                    Err(error @ EventStoreError::Conflict { .. }) => {
                        stale = true;
                        let on_wallet = matches!(&error, EventStoreError::Conflict { stream, .. } if *stream == wallet_stream(self.user_id));
                        if on_wallet && job.attempts < CONFLICT_RETRIES_MAX {
                            Some(job)
                        } else {
                            job.answer(Err(error.into()));
                            None
                        }
                    }
                    Err(error) => {
                        stale = true;
                        job.answer(Err(error.into()));
                        None
                    }
                },
                _ if stale && job.attempts < CONFLICT_RETRIES_MAX => Some(job),
                // Another process may have changed the wallet since it was cached: a refusal
                // is only final when decided on state fresh from the store.
                Decision::Rejected(_) if cached && job.attempts < CONFLICT_RETRIES_MAX => {
                    reload = true;
                    Some(job)
                }
                Decision::Rejected(rejection) => {
                    let answer = self.rejected(&job.context, rejection).await;
                    job.answer(answer);
                    None
                }
                Decision::Unchanged => {
                    let answer = self.unchanged(&job.context).await;
                    job.answer(answer);
                    None
                }
                Decision::Failed(error) => {
                    job.answer(Err(error));
                    None
                }
            };
            if let Some(mut job) = retry {
                job.attempts += 1;
                retries.push_back(job);
            }
        }
        if stale || reload { None } else { Some(working) }
    }

    /// A rejection of a command whose key was already used answers with the first result:
    /// the retry of a successful debit must not turn into "insufficient funds".
    async fn rejected(&self, context: &CommandContext, rejection: WalletError) -> Result<CommandOutcome, CommandError> {
        match self.replayed(context).await? {
            Some(outcome) => Ok(outcome),
            None => Err(CommandError::Rejected(rejection)),
        }
    }

    async fn unchanged(&self, context: &CommandContext) -> Result<CommandOutcome, CommandError> {
        Ok(self.replayed(context).await?.unwrap_or(CommandOutcome { position: None, replayed: false, events: Vec::new() }))
    }

    async fn replayed(&self, context: &CommandContext) -> Result<Option<CommandOutcome>, CommandError> {
        let Some(key) = context.idempotency_key.as_deref() else { return Ok(None) };
        let first = self.store.idempotent_outcome(key).await?;
        Ok(first.map(|first| CommandOutcome { position: Some(first.last_position), replayed: true, events: Vec::new() }))
    }
}

fn append_request(user_id: Uuid, events: &[WalletEvent], context: &CommandContext, version: u64) -> AppendRequest {
    let events = events
        .iter()
        .map(|event| NewEvent::new(event.event_type(), event.schema_version(), event.to_payload()))
        .collect();
    AppendRequest::single(wallet_stream(user_id), ExpectedVersion::from_version(version), events)
        .with_metadata(context.metadata())
}
