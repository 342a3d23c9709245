//! Top-ups: load, decide, append with the expected version, retry on conflict. A top-up is
//! written by one user request and one or two provider notifications, so no worker is needed.

use domain::money::Money;
use domain::top_up::{STREAM_TYPE, TopUp, TopUpCommand, TopUpError, TopUpEvent};
use domain::wallet::WalletCommand;
use event_store::{AppendRequest, EventStore, ExpectedVersion, NewEvent, StreamAppend, StreamRef};
use uuid::Uuid;

use crate::{CommandContext, CommandError, WalletCommands};

const CONFLICT_RETRIES_MAX: u32 = 8;

pub fn top_up_stream(top_up_id: Uuid) -> StreamRef {
    StreamRef::new(STREAM_TYPE, top_up_id.to_string())
}

#[derive(Clone)]
pub struct TopUps {
    store: EventStore,
}

impl TopUps {
    pub fn new(store: EventStore) -> Self {
        Self { store }
    }

    pub async fn load(&self, top_up_id: Uuid) -> Result<TopUp, CommandError> {
        let mut top_up = TopUp::default();
        for recorded in self.store.read_stream(&top_up_stream(top_up_id), 0).await? {
            let event = TopUpEvent::from_payload(&recorded.event_type, recorded.payload)
                .map_err(|reason| CommandError::Corrupt(format!("position {}: {reason}", recorded.position)))?;
            top_up.apply(&event);
        }
        Ok(top_up)
    }

    /// Decides and appends; returns the state after and the position of the last event, if any.
    pub async fn execute(
        &self,
        top_up_id: Uuid,
        command: TopUpCommand,
        context: CommandContext,
    ) -> Result<(TopUp, Option<u64>), CommandError> {
        let top_up = self.load(top_up_id).await?;
        self.execute_on(top_up_id, top_up, command, context).await
    }

    /// Like `execute`, deciding first on a state the caller has just loaded; reloads only on a
    /// conflict.
    #[tracing::instrument(skip_all, fields(%top_up_id))]
    pub async fn execute_on(
        &self,
        top_up_id: Uuid,
        mut top_up: TopUp,
        command: TopUpCommand,
        context: CommandContext,
    ) -> Result<(TopUp, Option<u64>), CommandError> {
        let mut attempts = 0;
        loop {
            let events = top_up.handle(command.clone())?;
            if events.is_empty() {
                return Ok((top_up, None));
            }
            let request = AppendRequest::single(top_up_stream(top_up_id), ExpectedVersion::from_version(top_up.version()), new_events(&events))
                .with_metadata(context.metadata());
            match self.store.append(request).await {
                Ok(outcome) => {
                    for event in &events {
                        top_up.apply(event);
                    }
                    return Ok((top_up, Some(outcome.last_position)));
                }
                Err(error) if error.is_conflict() && attempts < CONFLICT_RETRIES_MAX => {
                    attempts += 1;
                    top_up = self.load(top_up_id).await?;
                }
                Err(error) => return Err(error.into()),
            }
        }
    }

    /// Settles a top-up (as just loaded) as captured and credits its wallet in one atomic
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
    ) -> Result<(TopUp, Option<u64>), CommandError> {
        let mut attempts = 0;
        loop {
            let command = TopUpCommand::Capture { provider_event_id: provider_event_id.clone(), amount };
            let events = top_up.handle(command)?;
            if events.is_empty() {
                return Ok((top_up, None));
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
                Ok(outcome) => {
                    for event in &events {
                        top_up.apply(event);
                    }
                    return Ok((top_up, outcome.position));
                }
                // Another notification settled it meanwhile: decide again on what it did.
                Err(CommandError::Contention(_)) if attempts < CONFLICT_RETRIES_MAX => {
                    attempts += 1;
                    top_up = self.load(top_up_id).await?;
                }
                Err(error) => return Err(error),
            }
        }
    }
}

fn new_events(events: &[TopUpEvent]) -> Vec<NewEvent> {
    events.iter().map(|event| NewEvent::new(event.event_type(), event.schema_version(), event.to_payload())).collect()
}
