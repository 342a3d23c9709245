//! Admin decisions on withdrawals. Each moves money, so each takes an `Idempotency-Key`.

use actix_web::{HttpRequest, HttpResponse, web};
use commands::stream::decode;
use domain::ledger::ProviderName;
use domain::users::Role;
use domain::wallet::{WalletCommand, WalletEvent};
use event_store::RecordedEvent;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{WITHDRAWAL_APPROVED, WITHDRAWAL_REJECTED};
use crate::auth::AuthUser;
use crate::envelope::Reply;
use crate::error::ApiError;
use crate::extract::{Body, TOO_LONG, json_body};
use crate::idempotency::{self, Keyed};
use crate::startup::AppState;

/// Completed withdrawals are paid out by bank transfer.
const PAYOUT_PROVIDER: &str = "bank";
const REASON_LEN_MAX: usize = 500;

#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct RejectRequest {
    /// Why, shown to the speaker; at most 500 characters.
    #[schemars(example = "The IBAN does not match the account holder.")]
    pub reason: Option<String>,
}

/// A withdrawal once an admin decided it.
#[derive(Debug, Serialize, JsonSchema)]
pub struct WithdrawalDecision {
    pub withdrawal_id: Uuid,
    /// `completed` or `rejected`.
    #[schemars(example = &"completed", extend("enum" = ["completed", "rejected"]))]
    pub status: String,
}

fn withdrawal_id(path: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(path).map_err(|_| ApiError::NotFound)
}

/// Whose wallet the withdrawal is in: from its own stream in the store, so a decision never waits
/// for the read model; a withdrawal requested before those streams existed is found there.
async fn owner(state: &AppState, withdrawal_id: Uuid) -> Result<Uuid, ApiError> {
    if let Some(owner) = state.commands.wallet.withdrawal_owner(withdrawal_id).await? {
        return Ok(owner);
    }
    state.queries.wallet.withdrawal_owner(withdrawal_id).await?.ok_or(ApiError::NotFound)
}

pub async fn approve(request: HttpRequest, state: web::Data<AppState>, user: AuthUser, path: web::Path<String>, body: Body) -> Result<HttpResponse, ApiError> {
    user.require(Role::Admin)?;
    let work = async |context| {
        let withdrawal_id = withdrawal_id(&path)?;
        let owner = owner(&state, withdrawal_id).await?;
        let provider = ProviderName::parse(PAYOUT_PROVIDER).map_err(ApiError::internal)?;
        let outcome = state.commands.wallet.execute(owner, WalletCommand::CompleteWithdrawal { withdrawal_id, provider }, context).await?;
        Keyed::of_outcome(&outcome, || Ok(decided(withdrawal_id, "completed")))
    };
    idempotency::run(&state, &request, user.user_id, &body, work, replay_decision).await
}

pub async fn reject(request: HttpRequest, state: web::Data<AppState>, user: AuthUser, path: web::Path<String>, body: Body) -> Result<HttpResponse, ApiError> {
    user.require(Role::Admin)?;
    let work = async |context| {
        let withdrawal_id = withdrawal_id(&path)?;
        let input: RejectRequest = if body.is_empty() { RejectRequest::default() } else { json_body(&body)? };
        let reason = input.reason.unwrap_or_default().trim().to_owned();
        if reason.chars().count() > REASON_LEN_MAX {
            return Err(ApiError::field("reason", &TOO_LONG));
        }
        let owner = owner(&state, withdrawal_id).await?;
        let outcome = state.commands.wallet.execute(owner, WalletCommand::RejectWithdrawal { withdrawal_id, reason }, context).await?;
        Keyed::of_outcome(&outcome, || Ok(decided(withdrawal_id, "rejected")))
    };
    idempotency::run(&state, &request, user.user_id, &body, work, replay_decision).await
}

fn decided(withdrawal_id: Uuid, status: &str) -> Reply {
    let message = if status == "completed" { &WITHDRAWAL_APPROVED } else { &WITHDRAWAL_REJECTED };
    Reply::ok(WithdrawalDecision { withdrawal_id, status: status.to_owned() }).message(message)
}

/// The first answer to a decision, from the event it appended.
fn replay_decision(events: &[RecordedEvent]) -> Result<Reply, ApiError> {
    events
        .iter()
        .find_map(|event| match decode::<WalletEvent>(event) {
            Ok(WalletEvent::WithdrawalCompleted { withdrawal_id, .. }) => Some(decided(withdrawal_id, "completed")),
            Ok(WalletEvent::WithdrawalRejected { withdrawal_id, .. }) => Some(decided(withdrawal_id, "rejected")),
            _ => None,
        })
        .ok_or_else(|| ApiError::internal("a replayed withdrawal decision without its event"))
}
