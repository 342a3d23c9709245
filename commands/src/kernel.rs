//! The one command path (ADR 8). Every command is a unit of work: load the aggregates it needs,
//! let the domain decide, append every stream's events in one atomic append with the versions the
//! decisions rested on and the command's idempotency key, and decide again from fresh state when
//! another writer got there first (at most `CONFLICT_RETRIES_MAX` times).
//!
//! Wallets are the hot aggregates: their state lives in serialising workers, and a unit of work
//! takes a lease on each wallet it touches, in user-id order so that two units never wait on each
//! other.

use std::any::Any;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use domain::kernel::{Aggregate, Rejected, Rejection};
use domain::wallet::{Wallet, WalletCommand, WalletEvent};
use event_store::{AppendOutcome, AppendRequest, EventStore, EventStoreError, RecordedEvent, StreamAppend, StreamRef};
use uuid::Uuid;

use crate::clock::Clock;
use crate::stream::{Loaded, Stream, encode, load};
use crate::workers::{Lease, Workers};
use crate::{CONFLICT_RETRIES_MAX, CommandContext, CommandError, wallet};

/// Streams whose last decided state this process keeps, and for how long: the next command on
/// one of them (a payment notification right after its top-up) needs no read. A stale entry
/// costs one conflict and a reload, never a wrong decision.
const CACHED_STREAMS_MAX: u64 = 100_000;
const CACHED_STREAM_TTL: Duration = Duration::from_secs(60);

type CachedState = Arc<dyn Any + Send + Sync>;

/// The command side's handle on the store. Cheap to clone; one per process.
#[derive(Clone)]
pub struct Kernel {
    store: EventStore,
    wallets: Workers<Wallet>,
    cache: moka::sync::Cache<StreamRef, CachedState>,
    /// Turns for units of work that start from a busy stream (a buyer's cart): in this process
    /// they queue instead of racing and retrying.
    turns: moka::sync::Cache<StreamRef, Arc<tokio::sync::Mutex<()>>>,
    clock: Clock,
}

/// What a unit of work did.
#[derive(Clone, Debug, PartialEq)]
pub enum Transacted<T> {
    /// Decided and appended now; `position` is `None` when there was nothing to append.
    Done { value: T, position: Option<u64>, wallet_events: Vec<WalletEvent> },
    /// Its idempotency key was used before: nothing was appended now, and `position` is the
    /// first append's last position.
    Replayed { position: u64 },
}

impl<T> Transacted<T> {
    pub fn position(&self) -> Option<u64> {
        match self {
            Transacted::Done { position, .. } => *position,
            Transacted::Replayed { position } => Some(*position),
        }
    }

    pub fn is_replayed(&self) -> bool {
        matches!(self, Transacted::Replayed { .. })
    }

    /// The same outcome with its value turned into another.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Transacted<U> {
        match self {
            Transacted::Done { value, position, wallet_events } => Transacted::Done { value: f(value), position, wallet_events },
            Transacted::Replayed { position } => Transacted::Replayed { position },
        }
    }
}

impl Kernel {
    pub fn new(store: EventStore) -> Kernel {
        let cache = moka::sync::Cache::builder().max_capacity(CACHED_STREAMS_MAX).time_to_live(CACHED_STREAM_TTL).build();
        let turns = moka::sync::Cache::builder().max_capacity(CACHED_STREAMS_MAX).time_to_idle(CACHED_STREAM_TTL).build();
        Kernel { wallets: Workers::new(store.clone()), store, cache, turns, clock: Clock::default() }
    }

    /// Now, by the clock every command decides on.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }

    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    pub fn store(&self) -> &EventStore {
        &self.store
    }

    pub fn wallets(&self) -> &Workers<Wallet> {
        &self.wallets
    }

    /// Runs `work` as one business transaction: everything it decides is appended atomically, or
    /// nothing is. On a conflict `work` runs again on fresh state; a rejection of a command whose
    /// idempotency key was used before answers the first command's outcome instead.
    ///
    /// `work` gets the unit as an owned handle (`|unit| async move { … }`): its future then
    /// borrows nothing from the call, and stays `Send` wherever it runs.
    pub async fn transact<T, Work, Decided>(&self, context: &CommandContext, mut work: Work) -> Result<Transacted<T>, CommandError>
    where
        Work: FnMut(UnitOfWork) -> Decided,
        Decided: Future<Output = Result<T, CommandError>>,
    {
        for attempt in 0..=CONFLICT_RETRIES_MAX {
            let unit = UnitOfWork { kernel: self.clone(), attempt, decisions: Arc::new(Mutex::new(Decisions::default())) };
            let value = match work(unit.clone()).await {
                Ok(value) => value,
                Err(CommandError::Rejected(rejection)) => return self.rejected(context, rejection).await,
                Err(error) => return Err(error),
            };
            match unit.commit(context).await {
                Ok(Committed::Appended { position, wallet_events }) => {
                    return Ok(Transacted::Done { value, position: Some(position), wallet_events });
                }
                Ok(Committed::Replayed { position }) => return Ok(Transacted::Replayed { position }),
                Ok(Committed::Nothing) => {
                    return Ok(match self.first_outcome(context).await? {
                        Some(first) => Transacted::Replayed { position: first.last_position },
                        None => Transacted::Done { value, position: None, wallet_events: Vec::new() },
                    });
                }
                Err(Unsettled::Conflict(_)) if attempt < CONFLICT_RETRIES_MAX => back_off(attempt).await,
                Err(Unsettled::Conflict(stream)) => return Err(CommandError::Contention(stream)),
                Err(Unsettled::Rejected(rejection)) => return self.rejected(context, rejection).await,
                Err(Unsettled::Failed(error)) => return Err(error),
            }
        }
        unreachable!("the last attempt returns")
    }

    /// `transact`, after the units of work this process runs from `stream` before it: many
    /// concurrent checkouts of one cart then cost one attempt each instead of racing on the
    /// cart's version until they run out of retries. Other processes still race, and retry.
    pub async fn transact_in_turn<A, T, Work, Decided>(
        &self,
        stream: &Stream<A>,
        context: &CommandContext,
        work: Work,
    ) -> Result<Transacted<T>, CommandError>
    where
        A: Aggregate,
        Work: FnMut(UnitOfWork) -> Decided,
        Decided: Future<Output = Result<T, CommandError>>,
    {
        let turn = self.turns.get_with(stream.stream_ref().clone(), Arc::default);
        let _turn = turn.lock().await;
        self.transact(context, work).await
    }

    /// One command on one aggregate: the unit of work with a single decision.
    pub async fn execute<A: Aggregate>(
        &self,
        stream: &Stream<A>,
        command: A::Command,
        context: &CommandContext,
    ) -> Result<Transacted<Loaded<A>>, CommandError> {
        let command = &command;
        self.transact(context, |unit| async move {
            let mut loaded = unit.load(stream).await?;
            unit.decide(stream, &mut loaded, command.clone())?;
            Ok(loaded)
        })
        .await
    }

    /// The last committed position and its hash.
    pub async fn head(&self) -> Result<event_store::Head, CommandError> {
        Ok(self.store.head().await?)
    }

    /// Whether the events table holds a row past the head: a store something else wrote to.
    /// An append committed since `head` was read is not past it, so the head is read again
    /// before saying so.
    pub async fn has_rows_past_head(&self, head: u64) -> Result<bool, CommandError> {
        let last_row = self.store.last_row_position().await?;
        Ok(last_row > head && last_row > self.store.head().await?.position)
    }

    /// Whether the database answers, as last seen (in memory: no query).
    pub fn database_up(&self) -> bool {
        self.store.availability().is_up()
    }

    /// A stream as the store has it now, for answers; decisions load through a unit of work.
    pub async fn read<A: Aggregate>(&self, stream: &Stream<A>) -> Result<Loaded<A>, CommandError> {
        load(&self.store, stream).await
    }

    /// The first append made under this idempotency key, with its events, if the key was used.
    pub async fn first_append(&self, key: &str) -> Result<Option<(AppendOutcome, Vec<RecordedEvent>)>, CommandError> {
        let Some(first) = self.store.idempotent_outcome(key).await? else { return Ok(None) };
        let count = usize::try_from(first.last_position + 1 - first.first_position).unwrap_or(event_store::READ_BATCH_MAX);
        let events = self.store.read_all(first.first_position - 1, count).await?;
        Ok(Some((first, events)))
    }

    /// What this process last decided on for a stream, if it still keeps it.
    pub fn cached<A: Aggregate>(&self, stream: &Stream<A>) -> Option<Loaded<A>> {
        self.cache.get(stream.stream_ref()).and_then(|cached| cached.downcast_ref::<Loaded<A>>().cloned())
    }

    /// Forgets what this process kept of a stream (after an erasure, say).
    pub fn forget(&self, stream: &StreamRef) {
        self.cache.invalidate(stream);
    }

    async fn first_outcome(&self, context: &CommandContext) -> Result<Option<AppendOutcome>, CommandError> {
        match context.idempotency_key.as_deref() {
            Some(key) => Ok(self.store.idempotent_outcome(key).await?),
            None => Ok(None),
        }
    }

    /// A refusal is final unless the key was used: then the first outcome stands.
    async fn rejected<T>(&self, context: &CommandContext, rejection: Rejected) -> Result<Transacted<T>, CommandError> {
        match self.first_outcome(context).await? {
            Some(first) => Ok(Transacted::Replayed { position: first.last_position }),
            None => Err(CommandError::Rejected(rejection)),
        }
    }
}

/// A random pause before deciding again, growing with each attempt (at most 64 ms): units that
/// keep colliding on the same streams spread out instead of colliding again.
async fn back_off(attempt: u32) {
    let ceiling_ms = 1u64 << attempt.min(6);
    let pause_us = (Uuid::new_v4().as_u128() as u64) % (ceiling_ms * 1000);
    tokio::time::sleep(Duration::from_micros(pause_us)).await;
}

/// One business transaction being decided: a handle that collects every stream's events, which
/// `Kernel::transact` appends. Cheap to clone; every clone adds to the same unit.
#[derive(Clone)]
pub struct UnitOfWork {
    kernel: Kernel,
    attempt: u32,
    decisions: Arc<Mutex<Decisions>>,
}

#[derive(Default)]
struct Decisions {
    appends: Vec<StreamAppend>,
    /// The state each decided stream reaches, kept once the append succeeds.
    states: Vec<(StreamRef, CachedState)>,
    wallet_commands: Vec<(Uuid, WalletCommand)>,
}

enum Committed {
    Appended { position: u64, wallet_events: Vec<WalletEvent> },
    Replayed { position: u64 },
    Nothing,
}

/// Why a unit was not appended.
enum Unsettled {
    /// Another writer changed a stream the unit decided on: decide again.
    Conflict(String),
    Rejected(Rejected),
    Failed(CommandError),
}

impl UnitOfWork {
    /// An aggregate to decide on: as this process last left it, or from the store (always from
    /// the store when deciding again after a conflict).
    pub async fn load<A: Aggregate>(&self, stream: &Stream<A>) -> Result<Loaded<A>, CommandError> {
        if self.attempt == 0
            && let Some(cached) = self.kernel.cache.get(stream.stream_ref())
            && let Some(loaded) = cached.downcast_ref::<Loaded<A>>()
        {
            return Ok(loaded.clone());
        }
        load(&self.kernel.store, stream).await
    }

    /// An aggregate whose id was just made up: nothing to read. Should the stream exist after
    /// all, the append conflicts and the decision is made again on what the store holds.
    pub async fn create<A: Aggregate>(&self, stream: &Stream<A>) -> Result<Loaded<A>, CommandError> {
        if self.attempt == 0 { Ok(Loaded::empty()) } else { load(&self.kernel.store, stream).await }
    }

    /// Lets the aggregate decide; its events join the unit's append, and `loaded` moves on.
    pub fn decide<A: Aggregate>(&self, stream: &Stream<A>, loaded: &mut Loaded<A>, command: A::Command) -> Result<Vec<A::Event>, CommandError> {
        let events = loaded.state.handle(command).map_err(|rejection| CommandError::Rejected(rejection.rejected()))?;
        if events.is_empty() {
            return Ok(events);
        }
        let encoded = encode(&events)?;
        let expected = loaded.expected();
        loaded.apply(&events);
        let mut decisions = self.decisions.lock().expect("decisions lock");
        match decisions.appends.iter_mut().find(|append| &append.stream == stream.stream_ref()) {
            Some(append) => append.events.extend(encoded),
            None => decisions.appends.push(StreamAppend { stream: stream.stream_ref().clone(), expected, events: encoded }),
        }
        decisions.states.retain(|(decided, _)| decided != stream.stream_ref());
        decisions.states.push((stream.stream_ref().clone(), Arc::new(loaded.clone())));
        Ok(events)
    }

    /// A rule of an aggregate this unit reads but does not change: the command must be one it
    /// would accept.
    pub fn check<A: Aggregate>(&self, loaded: &Loaded<A>, command: A::Command) -> Result<(), CommandError> {
        loaded.state.handle(command).map(|_| ()).map_err(|rejection| CommandError::Rejected(rejection.rejected()))
    }

    /// A command for a user's wallet, decided by its worker's state when the unit commits.
    pub fn wallet(&self, user_id: Uuid, command: WalletCommand) {
        self.decisions.lock().expect("decisions lock").wallet_commands.push((user_id, command));
    }

    async fn commit(self, context: &CommandContext) -> Result<Committed, Unsettled> {
        let Decisions { mut appends, states, wallet_commands } = std::mem::take(&mut *self.decisions.lock().expect("decisions lock"));
        // Leases in user-id order: two units never hold one each of the same two wallets.
        let mut wallet_ids: Vec<Uuid> = wallet_commands.iter().map(|(user_id, _)| *user_id).collect();
        wallet_ids.sort_unstable();
        wallet_ids.dedup();
        let mut leases = Vec::with_capacity(wallet_ids.len());
        for user_id in wallet_ids {
            match self.kernel.wallets.lease(&wallet::stream(user_id)).await {
                Ok(lease) => leases.push((user_id, lease, Vec::new())),
                Err(error) => {
                    end_leases(leases, Lease::give_back);
                    return Err(Unsettled::Failed(error));
                }
            }
        }
        for (user_id, command) in wallet_commands {
            let Some((_, lease, events)) = leases.iter_mut().find(|(id, ..)| *id == user_id) else { continue };
            // A second command on one wallet decides on the state after the first.
            let decided = if events.is_empty() {
                lease.loaded.state.handle(command)
            } else {
                let mut state = lease.loaded.clone();
                state.apply(events);
                state.state.handle(command)
            };
            match decided {
                Ok(decided) => events.extend(decided),
                Err(rejection) => {
                    // Decided on state kept in memory, which another process may have moved
                    // on: only a refusal on fresh state is final.
                    let fresh = lease.fresh;
                    end_leases(leases, |lease| if lease.fresh { lease.give_back() } else { lease.stale() });
                    return Err(if fresh {
                        Unsettled::Rejected(rejection.rejected())
                    } else {
                        Unsettled::Conflict(wallet::stream(user_id).stream_ref().to_string())
                    });
                }
            }
        }
        for (user_id, lease, events) in &leases {
            if !events.is_empty() {
                let encoded = encode(events).map_err(Unsettled::Failed)?;
                appends.push(StreamAppend { stream: wallet::stream(*user_id).stream_ref().clone(), expected: lease.loaded.expected(), events: encoded });
            }
        }
        if appends.is_empty() {
            end_leases(leases, Lease::give_back);
            return Ok(Committed::Nothing);
        }

        let request = AppendRequest { streams: appends, idempotency_key: None, metadata: Default::default() }
            .with_metadata(context.metadata());
        match self.kernel.store.append(request).await {
            Ok(outcome) if !outcome.replayed => {
                for (stream, state) in states {
                    self.kernel.cache.insert(stream, state);
                }
                let mut wallet_events = Vec::new();
                for (_, lease, events) in leases {
                    lease.appended(&events);
                    wallet_events.extend(events);
                }
                Ok(Committed::Appended { position: outcome.last_position, wallet_events })
            }
            Ok(outcome) => {
                self.forget(&states);
                end_leases(leases, Lease::stale);
                Ok(Committed::Replayed { position: outcome.last_position })
            }
            Err(EventStoreError::Conflict { stream, .. }) => {
                self.forget(&states);
                end_leases(leases, Lease::stale);
                Err(Unsettled::Conflict(stream.to_string()))
            }
            Err(error) => {
                self.forget(&states);
                end_leases(leases, Lease::stale);
                Err(Unsettled::Failed(error.into()))
            }
        }
    }

    fn forget(&self, states: &[(StreamRef, CachedState)]) {
        for (stream, _) in states {
            self.kernel.forget(stream);
        }
    }
}

/// Ends every lease; `end` says what became of each lent state.
fn end_leases(leases: Vec<(Uuid, Lease<Wallet>, Vec<WalletEvent>)>, end: impl Fn(Lease<Wallet>)) {
    for (_, lease, _) in leases {
        end(lease);
    }
}
