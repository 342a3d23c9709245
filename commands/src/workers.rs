//! Serialising workers for hot aggregates (wallets, ADR 3).
//!
//! Each active stream has a worker task that owns its state. Commands queue to the worker, which
//! decides a whole queue against the state in memory and pipelines the appends with consecutive
//! expected versions into the store's group commit. So a hot stream costs no reload and no
//! conflict per command, and many commands share one database commit. When the store reports a
//! conflict (another process wrote the stream) the worker reloads and decides the command again;
//! the expected version still guarantees that no decision rests on stale state.
//!
//! A unit of work that spans several such streams (a checkout debits one wallet and credits
//! another) takes a *lease* on each, in a fixed order: the worker finishes what it has in flight,
//! lends its state out, and waits until the unit says what became of it (ADR 8).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use domain::kernel::{Aggregate, Rejected, Rejection};
use event_store::{AppendOutcome, AppendRequest, EventStore, EventStoreError, ExpectedVersion, StreamRef};
use uuid::Uuid;
use tokio::sync::{mpsc, oneshot};

use crate::stream::{Loaded, Stream, encode, load};
use crate::{CONFLICT_RETRIES_MAX, CommandContext, CommandError};

/// Commands waiting for one stream's worker.
const WORKER_QUEUE_CAPACITY: usize = 4096;
/// Most commands decided in one round of a worker.
const WORKER_ROUND_COMMANDS_MAX: usize = 512;
/// A worker with nothing to do for this long stops and frees its state.
const WORKER_IDLE_MS: u64 = 30_000;

/// What a command did through a worker.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome<E> {
    /// Global position of the command's last event; `None` when the command changed nothing.
    pub position: Option<u64>,
    /// The idempotency key was used before: this is the first command's position.
    pub replayed: bool,
    /// What this command appended (empty when replayed or nothing changed).
    pub events: Vec<E>,
}

/// A stream's state lent to a unit of work, which must end it.
pub(crate) struct Lease<A: Aggregate> {
    pub loaded: Loaded<A>,
    /// Loaded from the store for this lease rather than kept in memory: a rejection decided on
    /// it is final.
    pub fresh: bool,
    end: oneshot::Sender<LeaseEnd<A>>,
}

enum LeaseEnd<A: Aggregate> {
    /// The state as the store now has it: the lent one, with whatever the unit appended.
    Returned(Loaded<A>),
    /// The store may have changed beyond the lent state: reload.
    Stale,
}

impl<A: Aggregate> Lease<A> {
    /// Nothing was appended: the state goes back as it was.
    pub fn give_back(self) {
        let Lease { loaded, end, .. } = self;
        let _ = end.send(LeaseEnd::Returned(loaded));
    }

    /// These events were appended on top of the lent state.
    pub fn appended(self, events: &[A::Event]) {
        let Lease { mut loaded, end, .. } = self;
        loaded.apply(events);
        // A worker that went away reloads anyway.
        let _ = end.send(LeaseEnd::Returned(loaded));
    }

    /// The store may have moved beyond the lent state: the worker reloads.
    pub fn stale(self) {
        let _ = self.end.send(LeaseEnd::Stale);
    }
}

struct Decide<A: Aggregate> {
    command: A::Command,
    context: CommandContext,
    attempts: u32,
    reply: oneshot::Sender<Result<Outcome<A::Event>, CommandError>>,
}

impl<A: Aggregate> Decide<A> {
    fn answer(self, result: Result<Outcome<A::Event>, CommandError>) {
        // The caller may have gone away; the command's effect stands either way.
        let _ = self.reply.send(result);
    }
}

enum Job<A: Aggregate> {
    Decide(Decide<A>),
    Lease(oneshot::Sender<Result<Lease<A>, CommandError>>),
}

type PendingAppend = std::pin::Pin<Box<dyn Future<Output = Result<AppendOutcome, EventStoreError>> + Send>>;

enum Decision<E> {
    Appending(Vec<E>, PendingAppend),
    Rejected(Rejected),
    Unchanged,
    Failed(CommandError),
}

struct WorkerHandle<A: Aggregate> {
    id: u64,
    jobs: mpsc::Sender<Job<A>>,
}

struct Inner<A: Aggregate> {
    store: EventStore,
    workers: Mutex<HashMap<StreamRef, WorkerHandle<A>>>,
    next_worker_id: std::sync::atomic::AtomicU64,
}

/// The workers of one aggregate type. Cheap to clone; one per process is enough.
pub struct Workers<A: Aggregate> {
    inner: Arc<Inner<A>>,
}

impl<A: Aggregate> Clone for Workers<A> {
    fn clone(&self) -> Self {
        Self { inner: self.inner.clone() }
    }
}

impl<A: Aggregate> Workers<A> {
    pub fn new(store: EventStore) -> Self {
        Self { inner: Arc::new(Inner { store, workers: Mutex::new(HashMap::new()), next_worker_id: Default::default() }) }
    }

    /// Decides one command on the stream's state and appends its events.
    #[tracing::instrument(skip_all, fields(stream = ?stream))]
    pub async fn execute(&self, stream: &Stream<A>, command: A::Command, context: CommandContext) -> Result<Outcome<A::Event>, CommandError> {
        let (reply, answer) = oneshot::channel();
        self.send(stream, Job::Decide(Decide { command, context, attempts: 0, reply })).await;
        answer.await.map_err(|_| CommandError::Internal("worker stopped".to_owned()))?
    }

    /// The stream's state, lent until the lease is ended.
    pub(crate) async fn lease(&self, stream: &Stream<A>) -> Result<Lease<A>, CommandError> {
        let (reply, lease) = oneshot::channel();
        self.send(stream, Job::Lease(reply)).await;
        lease.await.map_err(|_| CommandError::Internal("worker stopped".to_owned()))?
    }

    async fn send(&self, stream: &Stream<A>, mut job: Job<A>) {
        loop {
            let sender = self.worker(stream);
            match sender.send(job).await {
                Ok(()) => return,
                // The worker stopped between lookup and send: look again, a new one starts.
                Err(mpsc::error::SendError(returned)) => job = returned,
            }
        }
    }

    fn worker(&self, stream: &Stream<A>) -> mpsc::Sender<Job<A>> {
        let mut workers = self.inner.workers.lock().expect("worker map lock");
        if let Some(handle) = workers.get(stream.stream_ref()).filter(|h| !h.jobs.is_closed()) {
            return handle.jobs.clone();
        }
        let (jobs, receiver) = mpsc::channel(WORKER_QUEUE_CAPACITY);
        let id = self.inner.next_worker_id.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        workers.insert(stream.stream_ref().clone(), WorkerHandle { id, jobs: jobs.clone() });
        let worker = Worker { inner: Arc::downgrade(&self.inner), store: self.inner.store.clone(), id, stream: stream.clone() };
        tokio::spawn(worker.run(receiver));
        jobs
    }
}

struct Worker<A: Aggregate> {
    inner: std::sync::Weak<Inner<A>>,
    store: EventStore,
    id: u64,
    stream: Stream<A>,
}

impl<A: Aggregate> Worker<A> {
    async fn run(self, mut receiver: mpsc::Receiver<Job<A>>) {
        let mut state: Option<Loaded<A>> = None;
        let mut retries: VecDeque<Decide<A>> = VecDeque::new();
        let mut lease = None;
        let mut stopping = false;
        loop {
            let mut jobs: Vec<Decide<A>> = retries.drain(..).collect();
            if jobs.is_empty() && lease.is_none() {
                if stopping {
                    return;
                }
                let idle = Duration::from_millis(WORKER_IDLE_MS);
                match tokio::time::timeout(idle, receiver.recv()).await {
                    Ok(Some(Job::Decide(job))) => jobs.push(job),
                    Ok(Some(Job::Lease(reply))) => lease = Some(reply),
                    Ok(None) => return,
                    Err(_) => {
                        // Leave the map first, then refuse new jobs, then finish what got in.
                        self.deregister();
                        receiver.close();
                        stopping = true;
                    }
                }
            }
            // A lease waits for the commands queued before it; later ones wait for the lease.
            while jobs.len() < WORKER_ROUND_COMMANDS_MAX && lease.is_none() {
                match receiver.try_recv() {
                    Ok(Job::Decide(job)) => jobs.push(job),
                    Ok(Job::Lease(reply)) => lease = Some(reply),
                    Err(_) => break,
                }
            }
            if !jobs.is_empty() {
                state = self.round(state, jobs, &mut retries).await;
            }
            if retries.is_empty()
                && let Some(reply) = lease.take()
            {
                state = self.lend(state, reply).await;
            }
        }
    }

    fn deregister(&self) {
        if let Some(inner) = self.inner.upgrade() {
            let mut workers = inner.workers.lock().expect("worker map lock");
            if workers.get(self.stream.stream_ref()).is_some_and(|h| h.id == self.id) {
                workers.remove(self.stream.stream_ref());
            }
        }
    }

    /// Lends the state to a unit of work (moved, not copied: a wallet's state grows with its
    /// history) and takes back what it says became of it.
    async fn lend(&self, state: Option<Loaded<A>>, reply: oneshot::Sender<Result<Lease<A>, CommandError>>) -> Option<Loaded<A>> {
        let fresh = state.is_none();
        let loaded = match state {
            Some(loaded) => loaded,
            None => match load(&self.store, &self.stream).await {
                Ok(loaded) => loaded,
                Err(error) => {
                    let _ = reply.send(Err(error));
                    return None;
                }
            },
        };
        let (end, ended) = oneshot::channel();
        if let Err(Ok(lease)) = reply.send(Ok(Lease { loaded, fresh, end })) {
            return Some(lease.loaded);
        }
        match ended.await {
            Ok(LeaseEnd::Returned(loaded)) => Some(loaded),
            // Dropped unended: the unit went away mid-append, its fate unknown.
            Ok(LeaseEnd::Stale) | Err(_) => None,
        }
    }

    /// Decides every job against the state, pipelines the appends, then settles each answer.
    /// Returns the state to keep, or `None` when it must be reloaded from the store.
    async fn round(&self, state: Option<Loaded<A>>, jobs: Vec<Decide<A>>, retries: &mut VecDeque<Decide<A>>) -> Option<Loaded<A>> {
        let cached = state.is_some();
        let mut working = match state {
            Some(loaded) => loaded,
            None => match load(&self.store, &self.stream).await {
                Ok(loaded) => loaded,
                Err(error) => {
                    for job in jobs {
                        job.answer(Err(error.clone()));
                    }
                    return None;
                }
            },
        };

        let mut decided = Vec::new();
        // The last event of this round's appends not yet known to be committed: the next append
        // builds on it, so it must follow that very event, not just its version.
        let mut in_flight: Option<Uuid> = None;
        for job in jobs {
            let decision = match working.state.handle(job.command.clone()) {
                Err(rejection) => Decision::Rejected(rejection.rejected()),
                Ok(events) if events.is_empty() => Decision::Unchanged,
                Ok(events) => {
                    let expected = match in_flight {
                        Some(event_id) => ExpectedVersion::Follows { version: working.version, event_id },
                        None => working.expected(),
                    };
                    match self.append(&events, &job.context, expected).await {
                        Ok((outcome, last_event)) => {
                            working.apply(&events);
                            in_flight = Some(last_event);
                            Decision::Appending(events, Box::pin(outcome))
                        }
                        Err(error) => Decision::Failed(error),
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
                        job.answer(Ok(Outcome { position: Some(last_position), replayed: false, events }));
                        None
                    }
                    Ok(AppendOutcome { last_position, replayed: true, .. }) => {
                        // Our state assumed these events; the store kept the first command's.
                        stale = true;
                        job.answer(Ok(Outcome { position: Some(last_position), replayed: true, events: Vec::new() }));
                        None
                    }
                    Err(error @ EventStoreError::Conflict { .. }) => {
                        stale = true;
                        if job.attempts < CONFLICT_RETRIES_MAX {
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
                // Another process may have changed the stream since it was cached: a refusal
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

    /// Queues the append; answers its outcome to come and the id of its last event.
    async fn append(
        &self,
        events: &[A::Event],
        context: &CommandContext,
        expected: ExpectedVersion,
    ) -> Result<(impl Future<Output = Result<AppendOutcome, EventStoreError>> + Send + use<A>, Uuid), CommandError> {
        let new_events = encode(events)?;
        let last_event = new_events.last().map(|event| event.event_id).ok_or_else(|| CommandError::Internal("an append of nothing".to_owned()))?;
        let request = AppendRequest::single(self.stream.stream_ref().clone(), expected, new_events).with_metadata(context.metadata());
        Ok((self.store.enqueue(request).await?, last_event))
    }

    /// A rejection of a command whose key was already used answers with the first result:
    /// the retry of a successful debit must not turn into "insufficient funds".
    async fn rejected(&self, context: &CommandContext, rejection: Rejected) -> Result<Outcome<A::Event>, CommandError> {
        match self.replayed(context).await? {
            Some(outcome) => Ok(outcome),
            None => Err(CommandError::Rejected(rejection)),
        }
    }

    async fn unchanged(&self, context: &CommandContext) -> Result<Outcome<A::Event>, CommandError> {
        Ok(self.replayed(context).await?.unwrap_or(Outcome { position: None, replayed: false, events: Vec::new() }))
    }

    async fn replayed(&self, context: &CommandContext) -> Result<Option<Outcome<A::Event>>, CommandError> {
        let Some(key) = context.idempotency_key.as_deref() else { return Ok(None) };
        let first = self.store.idempotent_outcome(key).await?;
        Ok(first.map(|first| Outcome { position: Some(first.last_position), replayed: true, events: Vec::new() }))
    }
}

