//! Payment providers' signed notifications. The built-in `sandbox` provider speaks the same
//! protocol a real one does: HMAC-SHA256 of the raw body with the provider secret, hex, in the
//! `Signature` header. A forged or unsigned notification changes nothing; a repeated one credits
//! once; a failed payment credits nothing.

use actix_web::{HttpRequest, HttpResponse, web};
use commands::{CommandContext, Transacted};
use domain::wallet::top_up::TopUpStatus;
use domain::ledger::ProviderName;
use hmac::{Hmac, Mac};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use uuid::Uuid;

use super::{PROVIDERS, TOP_UP_HELD, WEBHOOK_PROCESSED, parse_amount};
use crate::envelope::Reply;
use crate::error::ApiError;
use crate::extract::{Body, INVALID, json_body};
use crate::startup::AppState;

pub const SIGNATURE_HEADER: &str = "Signature";
const PROVIDER_EVENT_ID_LEN_MAX: usize = 200;

/// The sandbox provider's notification.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct SandboxNotification {
    /// The provider's id for this notification, 1 to 200 characters: a redelivery has the same.
    #[schemars(example = &"evt_0001")]
    pub event_id: String,
    /// `payment.captured` or `payment.failed`.
    #[serde(rename = "type")]
    #[schemars(example = "payment.captured", extend("enum" = ["payment.captured", "payment.failed"]))]
    pub kind: String,
    /// The top-up this payment is for.
    #[schemars(example = "0193b0e4-7c1a-7b55-9a3e-5b2f4c7d8e90")]
    pub top_up_id: Uuid,
    /// The captured amount in SAR: required for `payment.captured`, and equal to the top-up's.
    #[schemars(example = "100.00")]
    pub amount: Option<String>,
}

/// What the notification did to its top-up.
#[derive(Debug, Serialize, JsonSchema)]
pub struct NotificationReceipt {
    pub top_up_id: Uuid,
    /// `captured` (the wallet is credited), `failed`, or `held` (captured, but the wallet cannot
    /// take it: held in suspense for an operator).
    #[schemars(example = &"captured", extend("enum" = ["captured", "failed", "held"]))]
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

pub async fn webhook(request: HttpRequest, state: web::Data<AppState>, provider: web::Path<String>, body: Body) -> Result<Reply, ApiError> {
    let provider = PROVIDERS.contains(&provider.as_str()).then(|| ProviderName::parse(&provider).ok()).flatten().ok_or(ApiError::NotFound)?;
    let signature = request.headers().get(SIGNATURE_HEADER).and_then(|v| v.to_str().ok());
    process(&state, &provider, &body, signature).await
}

/// Verifies and applies one notification, whoever delivered it.
async fn process(state: &AppState, provider: &ProviderName, body: &[u8], signature: Option<&str>) -> Result<Reply, ApiError> {
    verify(state.settings.payment_sandbox_secret.expose(), body, signature)?;
    let notification: SandboxNotification = json_body(body)?;
    if notification.event_id.is_empty() || notification.event_id.len() > PROVIDER_EVENT_ID_LEN_MAX {
        return Err(ApiError::field("event_id", &INVALID));
    }
    // The provider's event id is the key: a redelivery answers the first outcome.
    let context = |step: &str| CommandContext {
        actor: Some(format!("provider:{provider}")),
        idempotency_key: Some(format!("webhook:{provider}:{}:{step}", notification.event_id)),
        ..Default::default()
    };
    let top_up_id = notification.top_up_id;
    let wallet = &state.commands.wallet;
    let settled = match notification.kind.as_str() {
        "payment.captured" => {
            let amount = parse_amount(notification.amount.as_deref().unwrap_or_default())?;
            wallet.capture_top_up(top_up_id, provider, &notification.event_id, amount, &context("capture")).await?
        }
        "payment.failed" => wallet.fail_top_up(top_up_id, provider, &notification.event_id, &context("fail")).await?,
        _ => return Err(ApiError::field("type", &INVALID)),
    };
    let position = settled.position();
    let status = match settled {
        Transacted::Done { value, .. } => value.state.status(),
        // A redelivery: the top-up as the first delivery left it.
        Transacted::Replayed { .. } => wallet.top_up(top_up_id).await?.status(),
    };
    let status = status.ok_or(ApiError::NotFound)?;
    let message = if status == TopUpStatus::Held { &TOP_UP_HELD } else { &WEBHOOK_PROCESSED };
    Ok(Reply::ok(NotificationReceipt { top_up_id, status: status.as_str().into() }).message(message).position(position))
}

/// The sandbox provider's checkout page, where a developer pays or fails a top-up by hand. Only
/// served when `SANDBOX_CHECKOUT=1`; a real provider hosts its own.
pub async fn checkout_page(state: web::Data<AppState>, top_up_id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let top_up_id = checkout_top_up(&state, &top_up_id)?;
    let top_up = state.commands.wallet.top_up(top_up_id).await?;
    let (Some(amount), Some(status)) = (top_up.amount(), top_up.status()) else { return Err(ApiError::NotFound) };
    let body = if status == TopUpStatus::Pending {
        format!(
            r#"<p>Top-up <code>{top_up_id}</code>: <strong>{amount} SAR</strong>, pending: waiting for payment.</p>
<form method="post" action="{top_up_id}/pay"><button>Pay {amount} SAR</button></form>
<form method="post" action="{top_up_id}/fail"><button class="secondary">Fail the payment</button></form>"#
        )
    } else {
        format!("<p>Top-up <code>{top_up_id}</code>: <strong>{amount} SAR</strong>, {}. Nothing more to do here.</p>", settled_in_words(status))
    };
    Ok(page("Sandbox checkout", &body))
}

/// Plays the sandbox provider: signs its notification and delivers it through the webhook path.
/// A browser (the page's buttons) gets a page saying what happened; an API client the JSON.
pub async fn checkout_outcome(request: HttpRequest, state: web::Data<AppState>, path: web::Path<(String, String)>) -> Result<HttpResponse, ApiError> {
    let (top_up_id, outcome) = path.into_inner();
    let top_up_id = checkout_top_up(&state, &top_up_id)?;
    let top_up = state.commands.wallet.top_up(top_up_id).await?;
    let (Some(amount), Some(provider)) = (top_up.amount(), top_up.provider()) else { return Err(ApiError::NotFound) };
    let kind = match outcome.as_str() {
        "pay" => "payment.captured",
        "fail" => "payment.failed",
        _ => return Err(ApiError::NotFound),
    };
    let body = serde_json::json!({ "event_id": format!("checkout-{top_up_id}-{outcome}"), "type": kind, "top_up_id": top_up_id, "amount": amount.to_string() })
        .to_string();
    let signature = sign(state.settings.payment_sandbox_secret.expose(), body.as_bytes());
    let delivered = process(&state, provider, body.as_bytes(), Some(&signature)).await;
    let wants_page = request.headers().get(actix_web::http::header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|accept| accept.contains("text/html"));
    if !wants_page {
        return delivered.map(Reply::into_response);
    }
    let status = state.commands.wallet.top_up(top_up_id).await?.status().unwrap_or(TopUpStatus::Pending);
    let said = match &delivered {
        Ok(_) => format!("<p><strong>{amount} SAR</strong>: {}.</p>", settled_in_words(status)),
        Err(error) => format!("<p>The provider's notification was refused: {} The top-up is {}.</p>", error.text().en, settled_in_words(status)),
    };
    let back = format!(r#"<p><a href="{top_up_id}">Back to the top-up</a></p>"#);
    Ok(page("Sandbox checkout", &format!("{said}{back}")))
}

fn settled_in_words(status: TopUpStatus) -> &'static str {
    match status {
        TopUpStatus::Pending => "still waiting for payment",
        TopUpStatus::Captured => "paid, and credited to the wallet",
        TopUpStatus::Failed => "failed: nothing was charged or credited",
        TopUpStatus::Held => "paid, but held for an operator because the wallet cannot take it",
    }
}

fn page(title: &str, body: &str) -> HttpResponse {
    let html = format!(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;color:#1f2937}}
button{{font-size:1rem;padding:.5rem 1rem;margin:.25rem 0;border-radius:6px;border:1px solid #16a34a;background:#16a34a;color:#fff}}
button.secondary{{background:#fff;color:#b91c1c;border-color:#b91c1c}}code{{background:#f3f4f6;padding:0 .25rem}}</style></head>
<body><h1>{title}</h1><p><small>The sandbox payment provider, for development.</small></p>{body}</body></html>"#
    );
    HttpResponse::Ok().content_type("text/html; charset=utf-8").body(html)
}

fn checkout_top_up(state: &AppState, top_up_id: &str) -> Result<Uuid, ApiError> {
    if !state.settings.sandbox_checkout {
        return Err(ApiError::NotFound);
    }
    Uuid::parse_str(top_up_id).map_err(|_| ApiError::NotFound)
}
