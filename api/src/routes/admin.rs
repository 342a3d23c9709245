//! Admin decisions on withdrawals.

use actix_web::{HttpRequest, web};
use commands::CommandContext;
use domain::ledger::ProviderName;
use domain::user::Role;
use domain::wallet::WalletCommand;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::envelope::Reply;
use crate::error::ApiError;
use crate::extract::json_body;
use crate::startup::AppState;

/// Completed withdrawals are paid out by bank transfer.
const PAYOUT_PROVIDER: &str = "bank";
const REASON_LEN_MAX: usize = 500;

#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct RejectRequest {
    /// Why, shown to the speaker.
    pub reason: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct WithdrawalDecision {
    pub withdrawal_id: Uuid,
    pub status: String,
}

fn withdrawal_id(path: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(path).map_err(|_| ApiError::NotFound)
}

async fn owner(state: &AppState, withdrawal_id: Uuid) -> Result<Uuid, ApiError> {
    sqlx::query_scalar("SELECT user_id FROM withdrawals WHERE id = ?")
        .bind(withdrawal_id)
        .fetch_optional(&state.pool)
        .await?
        .ok_or(ApiError::NotFound)
}

pub async fn approve(state: web::Data<AppState>, user: AuthUser, path: web::Path<String>) -> Result<Reply, ApiError> {
    user.require(Role::Admin)?;
    let withdrawal_id = withdrawal_id(&path)?;
    let owner = owner(&state, withdrawal_id).await?;
    let provider = ProviderName::parse(PAYOUT_PROVIDER).map_err(ApiError::internal)?;
    let context = CommandContext { actor: Some(user.user_id.to_string()), ..Default::default() };
    let outcome = state.wallets.execute(owner, WalletCommand::CompleteWithdrawal { withdrawal_id, provider }, context).await?;
    Ok(Reply::ok(WithdrawalDecision { withdrawal_id, status: "completed".into() })
        .message("withdrawal_approved")
        .position(outcome.position))
}

pub async fn reject(
    _request: HttpRequest,
    state: web::Data<AppState>,
    user: AuthUser,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<Reply, ApiError> {
    user.require(Role::Admin)?;
    let withdrawal_id = withdrawal_id(&path)?;
    let input: RejectRequest = if body.is_empty() { RejectRequest::default() } else { json_body(&body)? };
    let reason = input.reason.unwrap_or_default().trim().to_owned();
    if reason.chars().count() > REASON_LEN_MAX {
        return Err(ApiError::field("reason", "too_long"));
    }
    let owner = owner(&state, withdrawal_id).await?;
    let context = CommandContext { actor: Some(user.user_id.to_string()), ..Default::default() };
    let outcome = state.wallets.execute(owner, WalletCommand::RejectWithdrawal { withdrawal_id, reason }, context).await?;
    Ok(Reply::ok(WithdrawalDecision { withdrawal_id, status: "rejected".into() })
        .message("withdrawal_rejected")
        .position(outcome.position))
}
