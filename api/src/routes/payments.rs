//! Payment providers' signed notifications. The built-in `sandbox` provider speaks the same
//! protocol a real one does: HMAC-SHA256 of the raw body with the provider secret, hex, in the
//! `Signature` header. A forged or unsigned notification changes nothing; a repeated one credits
//! once; a failed payment credits nothing.

use actix_web::{HttpRequest, web};
use commands::CommandContext;
use domain::top_up::{TopUpCommand, TopUpError};
use domain::wallet::WalletCommand;
use hmac::{Hmac, Mac};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use uuid::Uuid;

use crate::envelope::Reply;
use crate::error::ApiError;
use crate::extract::json_body;
use crate::routes::wallet::parse_amount;
use crate::startup::AppState;

pub const SIGNATURE_HEADER: &str = "Signature";
const PROVIDER_EVENT_ID_LEN_MAX: usize = 200;

/// The sandbox provider's notification.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct SandboxNotification {
    pub event_id: String,
    /// payment.captured or payment.failed.
    #[serde(rename = "type")]
    pub kind: String,
    pub top_up_id: Uuid,
    /// The captured amount, e.g. "100.00".
    pub amount: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct NotificationReceipt {
    pub top_up_id: Uuid,
    pub status: String,
}

/// The signature of `body` under `secret`, as the provider computes it.
pub fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

fn verify(secret: &str, body: &[u8], signature: Option<&str>) -> Result<(), ApiError> {
    let signature = signature.and_then(|s| hex::decode(s.trim()).ok()).ok_or(ApiError::InvalidSignature)?;
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).map_err(ApiError::internal)?;
    mac.update(body);
    // Constant-time comparison.
    mac.verify_slice(&signature).map_err(|_| ApiError::InvalidSignature)
}

pub async fn webhook(
    request: HttpRequest,
    state: web::Data<AppState>,
    provider: web::Path<String>,
    body: web::Bytes,
) -> Result<Reply, ApiError> {
    if provider.as_str() != "sandbox" {
        return Err(ApiError::NotFound);
    }
    let signature = request.headers().get(SIGNATURE_HEADER).and_then(|v| v.to_str().ok());
    verify(state.settings.payment_sandbox_secret.expose(), &body, signature)?;
    let notification: SandboxNotification = json_body(&body)?;
    if notification.event_id.is_empty() || notification.event_id.len() > PROVIDER_EVENT_ID_LEN_MAX {
        return Err(ApiError::field("event_id", "invalid"));
    }
    let top_up = state.top_ups.load(notification.top_up_id).await?;
    let (Some(user_id), Some(provider)) = (top_up.user_id(), top_up.provider().cloned()) else {
        return Err(ApiError::NotFound);
    };
    let context = |step: &str| CommandContext {
        actor: Some(format!("provider:{provider}")),
        idempotency_key: Some(format!("webhook:{provider}:{}:{step}", notification.event_id)),
        ..Default::default()
    };
    let top_up_id = notification.top_up_id;
    let (command, status) = match notification.kind.as_str() {
        "payment.captured" => {
            let amount = parse_amount(notification.amount.as_deref().unwrap_or_default())?;
            (TopUpCommand::Capture { provider_event_id: notification.event_id.clone(), amount }, "captured")
        }
        "payment.failed" => (TopUpCommand::Fail { provider_event_id: notification.event_id.clone() }, "failed"),
        _ => return Err(ApiError::field("type", "invalid")),
    };
    // Settle the top-up before any money moves: of a capture and a failure racing, only the one
    // the top-up records may credit. A repeat (even after a crash between the two steps) finds
    // the top-up settled by this same event and goes on to the credit, which happens once.
    let (_, settled_at) = state.top_ups.execute(top_up_id, command.clone(), context("settle")).await.map_err(|error| match error {
        commands::CommandError::TopUpRejected(rejection) => top_up_error(rejection),
        other => other.into(),
    })?;
    let mut position = settled_at;
    if let TopUpCommand::Capture { amount, .. } = &command {
        // The wallet is credited once per top-up, whatever the provider repeats.
        let credit = WalletCommand::CreditTopUp { top_up_id, provider: provider.clone(), amount: *amount };
        position = state.wallets.execute(user_id, credit, context("credit")).await?.position.or(position);
    }
    Ok(Reply::ok(NotificationReceipt { top_up_id, status: status.into() })
        .message("webhook_processed")
        .position(position))
}

fn top_up_error(error: TopUpError) -> ApiError {
    match error {
        TopUpError::Unknown => ApiError::NotFound,
        TopUpError::AmountMismatch => ApiError::Conflict("amount_mismatch"),
        TopUpError::InvalidAmount => ApiError::field("amount", "invalid_amount"),
        TopUpError::AlreadySettled | TopUpError::AlreadyRequested => ApiError::Conflict("top_up_already_settled"),
    }
}
