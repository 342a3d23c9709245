//! Payment providers' signed notifications. The built-in `sandbox` provider speaks the same
//! protocol a real one does: HMAC-SHA256 of the raw body with the provider secret, hex, in the
//! `Signature` header. A forged or unsigned notification changes nothing; a repeated one credits
//! once; a failed payment credits nothing.

use actix_web::{HttpRequest, HttpResponse, web};
use commands::CommandContext;
use domain::top_up::{TopUpCommand, TopUpError};
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
    process(&state, &body, signature).await
}

/// Verifies and applies one notification, whoever delivered it.
async fn process(state: &AppState, body: &[u8], signature: Option<&str>) -> Result<Reply, ApiError> {
    verify(state.settings.payment_sandbox_secret.expose(), body, signature)?;
    let notification: SandboxNotification = json_body(body)?;
    if notification.event_id.is_empty() || notification.event_id.len() > PROVIDER_EVENT_ID_LEN_MAX {
        return Err(ApiError::field("event_id", "invalid"));
    }
    let top_up = state.top_ups.current(notification.top_up_id).await?;
    let Some(provider) = top_up.provider().cloned() else { return Err(ApiError::NotFound) };
    let context = |step: &str| CommandContext {
        actor: Some(format!("provider:{provider}")),
        idempotency_key: Some(format!("webhook:{provider}:{}:{step}", notification.event_id)),
        ..Default::default()
    };
    let top_up_id = notification.top_up_id;
    let provider_event_id = notification.event_id.clone();
    let settled = match notification.kind.as_str() {
        "payment.captured" => {
            let amount = parse_amount(notification.amount.as_deref().unwrap_or_default())?;
            // Settled and credited in one atomic append; a repeat changes nothing.
            let captured = state.top_ups.capture(&state.wallets, top_up_id, top_up, provider_event_id, amount, context("capture")).await;
            captured.map(|outcome| ("captured", outcome.position))
        }
        "payment.failed" => {
            let failed = state.top_ups.execute_on(top_up_id, top_up, TopUpCommand::Fail { provider_event_id }, context("fail")).await;
            failed.map(|outcome| ("failed", outcome.position))
        }
        _ => return Err(ApiError::field("type", "invalid")),
    };
    let (status, position) = settled.map_err(|error| match error {
        commands::CommandError::TopUpRejected(rejection) => top_up_error(rejection),
        other => other.into(),
    })?;
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

/// The sandbox provider's checkout page, where a developer pays or fails a top-up by hand. Only
/// served when `SANDBOX_CHECKOUT=1`; a real provider hosts its own.
pub async fn checkout_page(state: web::Data<AppState>, top_up_id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let top_up_id = checkout_top_up(&state, &top_up_id)?;
    let top_up = state.top_ups.load(top_up_id).await?;
    let (Some(amount), Some(status)) = (top_up.amount(), top_up.status()) else { return Err(ApiError::NotFound) };
    let page = format!(
        r#"<!doctype html><html><head><meta charset="utf-8"><title>Sandbox checkout</title></head>
<body style="font-family:system-ui,sans-serif;max-width:30rem;margin:3rem auto">
<h1>Sandbox checkout</h1><p>Top-up <code>{top_up_id}</code>: <strong>{amount} SAR</strong>, {status}.</p>
<form method="post" action="{top_up_id}/pay"><button>Pay</button></form>
<form method="post" action="{top_up_id}/fail"><button>Fail the payment</button></form></body></html>"#,
        status = status.as_str()
    );
    Ok(HttpResponse::Ok().content_type("text/html; charset=utf-8").body(page))
}

/// Plays the sandbox provider: signs its notification and delivers it through the webhook path.
pub async fn checkout_outcome(state: web::Data<AppState>, path: web::Path<(String, String)>) -> Result<Reply, ApiError> {
    let (top_up_id, outcome) = path.into_inner();
    let top_up_id = checkout_top_up(&state, &top_up_id)?;
    let top_up = state.top_ups.load(top_up_id).await?;
    let amount = top_up.amount().ok_or(ApiError::NotFound)?;
    let kind = match outcome.as_str() {
        "pay" => "payment.captured",
        "fail" => "payment.failed",
        _ => return Err(ApiError::NotFound),
    };
    let body = serde_json::json!({ "event_id": format!("checkout-{top_up_id}-{outcome}"), "type": kind, "top_up_id": top_up_id, "amount": amount.to_string() })
        .to_string();
    let signature = sign(state.settings.payment_sandbox_secret.expose(), body.as_bytes());
    process(&state, body.as_bytes(), Some(&signature)).await
}

fn checkout_top_up(state: &AppState, top_up_id: &str) -> Result<Uuid, ApiError> {
    if !state.settings.sandbox_checkout {
        return Err(ApiError::NotFound);
    }
    Uuid::parse_str(top_up_id).map_err(|_| ApiError::NotFound)
}
