//! Top-ups: load, decide, append with the expected version, retry on conflict. A top-up is
//! written by one user request and one or two provider notifications, so no worker is needed.
//! The state this process last saw is cached: the notification that follows a request finds it
//! without a read. A cached top-up may be behind the store (another process settled it), never
//! ahead of it, and the expected version turns any decision on it into a conflict and a reload.

use domain::money::Money;
use domain::top_up::{STREAM_TYPE, TopUp, TopUpCommand, TopUpError, TopUpEvent};
use domain::wallet::WalletCommand;
use event_store::{AppendRequest, EventStore, ExpectedVersion, NewEvent, StreamAppend, StreamRef};
use moka::sync::Cache;
use std::time::Duration;
use uuid::Uuid;

use crate::{CommandContext, CommandError, WalletCommands};

const CONFLICT_RETRIES_MAX: u32 = 8;
/// Top-ups kept in memory, and how long an untouched one stays.
const CACHED_TOP_UPS_MAX: u64 = 100_000;
const CACHED_TOP_UP_IDLE: Duration = Duration::from_secs(600);

pub fn top_up_stream(top_up_id: Uuid) -> StreamRef {
    StreamRef::new(STREAM_TYPE, top_up_id.to_string())
}

/// What a top-up command did.
#[derive(Clone, Debug, PartialEq)]
pub struct TopUpOutcome {
    /// The state after the command; when `replayed`, the state in the store.
    pub top_up: TopUp,
    /// Global position of the command's last event; `None` when nothing changed.
    pub position: Option<u64>,
    /// The idempotency key was used before: `position` is the first command's.
    pub replayed: bool,
}

#[derive(Clone)]
pub struct TopUps {
    store: EventStore,
    cache: Cache<Uuid, TopUp>,
}

impl TopUps {
    pub fn new(store: EventStore) -> Self {
        let cache = Cache::builder().max_capacity(CACHED_TOP_UPS_MAX).time_to_idle(CACHED_TOP_UP_IDLE).build();
        Self { store, cache }
    }

    /// The top-up as the store has it now.
    pub async fn load(&self, top_up_id: Uuid) -> Result<TopUp, CommandError> {
        let mut top_up = TopUp::default();
        for recorded in self.store.read_stream(&top_up_stream(top_up_id), 0).await? {
            let event = TopUpEvent::from_payload(&recorded.event_type, recorded.payload)
                .map_err(|reason| CommandError::Corrupt(format!("position {}: {reason}", recorded.position)))?;
            top_up.apply(&event);
        }
        self.remember(top_up_id, &top_up);
        Ok(top_up)
    }

    /// The top-up to decide on: as this process last saw it, else loaded. Good enough for any
    /// decision, since appends carry its version.
    pub async fn current(&self, top_up_id: Uuid) -> Result<TopUp, CommandError> {
        match self.cache.get(&top_up_id) {
            Some(top_up) => Ok(top_up),
            None => self.load(top_up_id).await,
        }
    }

    fn remember(&self, top_up_id: Uuid, top_up: &TopUp) {
        // An unknown top-up is not cached: another process may create it at any moment.
        if top_up.version() > 0 {
            self.cache.insert(top_up_id, top_up.clone());
        }
    }

    /// After an append whose fate is unknown or that the store turned down.
    fn forget(&self, top_up_id: Uuid) {
        self.cache.invalidate(&top_up_id);
    }

    /// Decides and appends; returns the state after and the position of the last event, if any.
    pub async fn execute(
        &self,
        top_up_id: Uuid,
        command: TopUpCommand,
        context: CommandContext,
    ) -> Result<TopUpOutcome, CommandError> {
        let top_up = self.current(top_up_id).await?;
        self.execute_on(top_up_id, top_up, command, context).await
    }

    /// Like `execute`, deciding first on the state the caller has (`TopUp::default()` for a new
    /// one); reloads only on a conflict.
    #[tracing::instrument(skip_all, fields(%top_up_id))]
    pub async fn execute_on(
        &self,
        top_up_id: Uuid,
        mut top_up: TopUp,
        command: TopUpCommand,
        context: CommandContext,
    ) -> Result<TopUpOutcome, CommandError> {
        let mut attempts = 0;
        loop {
            let events = top_up.handle(command.clone())?;
            if events.is_empty() {
                return Ok(TopUpOutcome { top_up, position: None, replayed: false });
            }
            let request = AppendRequest::single(top_up_stream(top_up_id), ExpectedVersion::from_version(top_up.version()), new_events(&events))
                .with_metadata(context.metadata());
            let appended = self.store.append(request).await;
            match appended {
                Ok(outcome) if outcome.replayed => {
                    let top_up = self.load(top_up_id).await?;
                    return Ok(TopUpOutcome { top_up, position: Some(outcome.last_position), replayed: true });
                }
                Ok(outcome) => {
                    self.applied(top_up_id, &mut top_up, &events);
                    return Ok(TopUpOutcome { top_up, position: Some(outcome.last_position), replayed: false });
                }
                Err(error) if error.is_conflict() && attempts < CONFLICT_RETRIES_MAX => {
                    attempts += 1;
                    top_up = self.load(top_up_id).await?;
                }
                Err(error) => {
                    self.forget(top_up_id);
                    return Err(error.into());
                }
            }
        }
    }

    fn applied(&self, top_up_id: Uuid, top_up: &mut TopUp, events: &[TopUpEvent]) {
        for event in events {
            top_up.apply(event);
        }
        self.remember(top_up_id, top_up);
    }

    /// Settles a top-up (in the state the caller has) as captured and credits its wallet in one atomic
    /// append: both happen or neither, so no crash or refusal can leave a captured top-up
    /// uncredited. A repeat of the same notification changes nothing.
    #[tracing::instrument(skip_all, fields(%top_up_id))]
    pub async fn capture(
        &self,
        wallets: &WalletCommands,
        top_up_id: Uuid,
        mut top_up: TopUp,
        provider_event_id: String,
        amount: Money,
        context: CommandContext,
    ) -> Result<TopUpOutcome, CommandError> {
        let mut attempts = 0;
        loop {
            let command = TopUpCommand::Capture { provider_event_id: provider_event_id.clone(), amount };
            let events = top_up.handle(command)?;
            if events.is_empty() {
                return Ok(TopUpOutcome { top_up, position: None, replayed: false });
            }
            let (Some(user_id), Some(provider)) = (top_up.user_id(), top_up.provider().cloned()) else {
                return Err(TopUpError::Unknown.into());
            };
            let settle = StreamAppend {
                stream: top_up_stream(top_up_id),
                expected: ExpectedVersion::from_version(top_up.version()),
                events: new_events(&events),
            };
            let credit = WalletCommand::CreditTopUp { top_up_id, provider, amount };
            match wallets.execute_with(user_id, credit, vec![settle], context.clone()).await {
                Ok(outcome) if outcome.replayed => {
                    let top_up = self.load(top_up_id).await?;
                    return Ok(TopUpOutcome { top_up, position: outcome.position, replayed: true });
                }
                Ok(outcome) => {
                    self.applied(top_up_id, &mut top_up, &events);
                    return Ok(TopUpOutcome { top_up, position: outcome.position, replayed: false });
                }
                // Another notification settled it meanwhile: decide again on what it did.
                Err(CommandError::Contention(_)) if attempts < CONFLICT_RETRIES_MAX => {
                    attempts += 1;
                    top_up = self.load(top_up_id).await?;
                }
                Err(error) => {
                    self.forget(top_up_id);
                    return Err(error);
                }
            }
        }
    }
}

fn new_events(events: &[TopUpEvent]) -> Vec<NewEvent> {
    events.iter().map(|event| NewEvent::new(event.event_type(), event.schema_version(), event.to_payload())).collect()
}
