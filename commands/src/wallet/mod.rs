//! The wallet and payments context's commands: wallet commands through the wallets' workers,
//! and top-ups, whose capture credits the wallet in the same atomic append.

use chrono::{DateTime, Utc};
use domain::ledger::ProviderName;
use domain::money::Money;
use domain::wallet::top_up::{self, TopUp, TopUpCommand};
use domain::wallet::withdrawal::{self, WithdrawalRecord, WithdrawalRecordCommand};
use domain::wallet::{self as wallets, Wallet, WalletCommand, WalletError, WalletEvent};
use uuid::Uuid;

use crate::kernel::{Kernel, Transacted};
use crate::stream::{Loaded, Stream};
use crate::workers::Outcome;
use crate::{CommandContext, CommandError};

pub fn stream(user_id: Uuid) -> Stream<Wallet> {
    Stream::new(wallets::STREAM_TYPE, user_id.to_string())
}

pub fn top_up_stream(top_up_id: Uuid) -> Stream<TopUp> {
    Stream::new(top_up::STREAM_TYPE, top_up_id.to_string())
}

pub fn withdrawal_stream(withdrawal_id: Uuid) -> Stream<WithdrawalRecord> {
    Stream::new(withdrawal::STREAM_TYPE, withdrawal_id.to_string())
}

/// Why a captured payment is held instead of credited.
const HELD_OVER_WALLET_MAXIMUM: &str = "the wallet cannot take this amount: its balance would pass the largest a wallet holds";

/// Wallets `release_due` asks for at a time.
const WALLETS_PER_BATCH: u32 = 500;

/// Why `release_due` stopped: the list of due wallets could not be read, or a release failed.
#[derive(Debug, thiserror::Error)]
pub enum ReleaseError<E> {
    #[error("cannot read the wallets with due earnings")]
    Due(#[source] E),
    #[error("cannot release earnings")]
    Command(#[source] CommandError),
}

/// The context's command handler. Cheap to clone.
#[derive(Clone)]
pub struct Wallets {
    kernel: Kernel,
}

impl Wallets {
    pub fn new(kernel: Kernel) -> Self {
        Self { kernel }
    }

    /// One command on one wallet, through its worker.
    pub async fn execute(&self, user_id: Uuid, command: WalletCommand, context: CommandContext) -> Result<Outcome<WalletEvent>, CommandError> {
        self.kernel.wallets().execute(&stream(user_id), command, context).await
    }

    /// Releases the wallet's earnings due by `as_of`: how many were released. Running it again,
    /// here or in another process, releases nothing twice.
    pub async fn settle(&self, user_id: Uuid, as_of: DateTime<Utc>, context: CommandContext) -> Result<usize, CommandError> {
        match self.execute(user_id, WalletCommand::SettlePending { as_of }, context).await {
            Ok(outcome) => Ok(outcome.events.len()),
            Err(error) if error.is(&WalletError::NothingToSettle) => Ok(0),
            Err(error) => Err(error),
        }
    }

    /// Releases every earning due by `as_of`. `due(limit)` names up to `limit` wallets that have
    /// one (the wallet read model knows, and may lag); each wallet then decides on its own events,
    /// so a wallet named again, or settled by another process meanwhile, releases nothing twice.
    /// Answers how many earnings were released.
    pub async fn release_due<E, Due>(&self, as_of: DateTime<Utc>, actor: &str, mut due: impl FnMut(u32) -> Due) -> Result<usize, ReleaseError<E>>
    where
        Due: Future<Output = Result<Vec<Uuid>, E>>,
    {
        let mut released = 0;
        loop {
            let wallets = due(WALLETS_PER_BATCH).await.map_err(ReleaseError::Due)?;
            let mut settled = 0;
            for user_id in &wallets {
                settled += self.settle(*user_id, as_of, CommandContext::by(actor.to_owned())).await.map_err(ReleaseError::Command)?;
            }
            released += settled;
            // A batch that released nothing names only wallets the lagging read model still
            // lists: asking again would name them again.
            if settled == 0 || wallets.len() < WALLETS_PER_BATCH as usize {
                return Ok(released);
            }
        }
    }

    /// A wallet as the store has it now.
    pub async fn load(&self, user_id: Uuid) -> Result<Wallet, CommandError> {
        Ok(self.kernel.read(&stream(user_id)).await?.state)
    }

    /// Opens a top-up with a fresh id.
    pub async fn request_top_up(
        &self,
        user_id: Uuid,
        provider: ProviderName,
        amount: Money,
        context: &CommandContext,
    ) -> Result<Transacted<Loaded<TopUp>>, CommandError> {
        let top_up_id = Uuid::now_v7();
        let stream = top_up_stream(top_up_id);
        let command = TopUpCommand::Request { top_up_id, user_id, provider, amount };
        let (stream, command) = (&stream, &command);
        self.kernel
            .transact(context, |unit| async move {
                let mut top_up = unit.create(stream).await?;
                unit.decide(stream, &mut top_up, command.clone())?;
                Ok(top_up)
            })
            .await
    }

    /// A top-up as the store has it now.
    pub async fn top_up(&self, top_up_id: Uuid) -> Result<TopUp, CommandError> {
        Ok(self.kernel.read(&top_up_stream(top_up_id)).await?.state)
    }

    /// The provider captured the payment: settles the top-up and credits its wallet in one
    /// atomic append, so no crash or refusal can leave a captured top-up uncredited. A wallet
    /// that cannot take the amount does not turn the notification away (the provider would stop
    /// telling us about money it has taken): the top-up is held in suspense for an operator. The
    /// same notification again changes nothing.
    #[tracing::instrument(skip_all, fields(%top_up_id))]
    pub async fn capture_top_up(
        &self,
        top_up_id: Uuid,
        provider: &ProviderName,
        provider_event_id: &str,
        amount: Money,
        context: &CommandContext,
    ) -> Result<Transacted<Loaded<TopUp>>, CommandError> {
        let credited = self.credit_top_up(top_up_id, provider, provider_event_id, amount, context).await;
        match credited {
            Err(refused) if refused.is(&WalletError::InvalidAmount) => {
                let hold = TopUpCommand::Hold {
                    provider: provider.clone(),
                    provider_event_id: provider_event_id.to_owned(),
                    amount,
                    reason: HELD_OVER_WALLET_MAXIMUM.to_owned(),
                };
                tracing::warn!(%top_up_id, %amount, "a captured top-up the wallet cannot take is held in suspense");
                self.kernel.execute(&top_up_stream(top_up_id), hold, context).await
            }
            credited => credited,
        }
    }

    async fn credit_top_up(
        &self,
        top_up_id: Uuid,
        provider: &ProviderName,
        provider_event_id: &str,
        amount: Money,
        context: &CommandContext,
    ) -> Result<Transacted<Loaded<TopUp>>, CommandError> {
        let stream = &top_up_stream(top_up_id);
        self.kernel
            .transact(context, |unit| async move {
                let mut top_up = unit.load(stream).await?;
                let command = TopUpCommand::Capture { provider: provider.clone(), provider_event_id: provider_event_id.to_owned(), amount };
                if unit.decide(stream, &mut top_up, command)?.is_empty() {
                    return Ok(top_up);
                }
                let Some(user_id) = top_up.state.user_id() else { return Err(CommandError::rejected(top_up::TopUpError::Unknown)) };
                unit.wallet(user_id, WalletCommand::CreditTopUp { top_up_id, provider: provider.clone(), amount });
                Ok(top_up)
            })
            .await
    }

    /// A speaker asks to withdraw: the amount leaves the available balance, and the withdrawal's
    /// own stream records whose it is, in one append.
    pub async fn request_withdrawal(&self, user_id: Uuid, amount: Money, context: &CommandContext) -> Result<Transacted<Uuid>, CommandError> {
        let withdrawal_id = Uuid::now_v7();
        let stream = &withdrawal_stream(withdrawal_id);
        self.kernel
            .transact(context, |unit| async move {
                let mut record = unit.create(stream).await?;
                unit.decide(stream, &mut record, WithdrawalRecordCommand::Open { withdrawal_id, user_id })?;
                unit.wallet(user_id, WalletCommand::RequestWithdrawal { withdrawal_id, amount });
                Ok(withdrawal_id)
            })
            .await
    }

    /// Whose wallet a withdrawal is in, from the store; `None` for one it has no record of
    /// (unknown, or requested before withdrawals had a stream of their own).
    pub async fn withdrawal_owner(&self, withdrawal_id: Uuid) -> Result<Option<Uuid>, CommandError> {
        Ok(self.kernel.read(&withdrawal_stream(withdrawal_id)).await?.state.owner())
    }

    /// The provider says the payment failed: the top-up is settled and nothing is credited.
    pub async fn fail_top_up(
        &self,
        top_up_id: Uuid,
        provider: &ProviderName,
        provider_event_id: &str,
        context: &CommandContext,
    ) -> Result<Transacted<Loaded<TopUp>>, CommandError> {
        let command = TopUpCommand::Fail { provider: provider.clone(), provider_event_id: provider_event_id.to_owned() };
        self.kernel.execute(&top_up_stream(top_up_id), command, context).await
    }
}
