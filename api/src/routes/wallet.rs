//! The caller's wallet: balance, transactions, top-ups and withdrawals.

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, NaiveDateTime, Utc};
use domain::ledger::ProviderName;
use domain::money::{CURRENCY, Money};
use domain::top_up::{TopUp, TopUpCommand, TopUpEvent, TopUpStatus};
use domain::user::Role;
use domain::wallet::{WalletCommand, WalletEvent};
use rust_decimal::Decimal;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sqlx::Row;
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::envelope::{Pagination, Reply};
use crate::error::ApiError;
use crate::extract::{PageQuery, json_body, wait_for_min_position};
use crate::idempotency::{self, Keyed};
use crate::startup::AppState;

/// Payment providers the API accepts top-ups through.
pub const PROVIDERS: &[&str] = &["sandbox"];

#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct WalletView {
    pub balance: String,
    pub pending_balance: String,
    pub total_earned: String,
    pub total_withdrawn: String,
    pub currency: String,
}

pub async fn balance(request: HttpRequest, state: web::Data<AppState>, user: AuthUser) -> Result<Reply, ApiError> {
    wait_for_min_position(&request, &state).await?;
    Ok(Reply::ok(cached_wallet(&state, user.user_id).await?))
}

/// Balance rows, cached with the wallet projector's position at the time of reading: an entry
/// serves only while that projector has applied nothing newer, so the cache is never staler than
/// the table it saves a query on.
async fn cached_wallet(state: &AppState, user_id: Uuid) -> Result<WalletView, ApiError> {
    let applied = state.projectors.iter().find(|r| r.name() == "wallets").map(|r| *r.applied().borrow());
    let Some(applied) = applied else { return read_wallet(state, user_id).await };
    if let Some((view, at)) = state.wallet_cache.get(&user_id).await
        && at == applied {
            return Ok(view);
        }
    let view = read_wallet(state, user_id).await?;
    state.wallet_cache.insert(user_id, (view.clone(), applied)).await;
    Ok(view)
}

/// Reads a wallet's balance row. Zeros when the row is not there yet: every user has a wallet.
pub async fn read_wallet(state: &AppState, user_id: Uuid) -> Result<WalletView, ApiError> {
    let row = sqlx::query("SELECT balance, pending_balance, total_earned, total_withdrawn FROM wallet_balances WHERE user_id = ?")
        .bind(user_id)
        .fetch_optional(&state.pool)
        .await?;
    let amount = |index: usize| -> Result<String, ApiError> {
        let value: Decimal = match &row {
            Some(row) => row.try_get(index)?,
            None => Decimal::ZERO,
        };
        Ok(format!("{:.2}", value))
    };
    Ok(WalletView {
        balance: amount(0)?,
        pending_balance: amount(1)?,
        total_earned: amount(2)?,
        total_withdrawn: amount(3)?,
        currency: CURRENCY.to_owned(),
    })
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct TransactionsQuery {
    pub page: Option<String>,
    pub per_page: Option<String>,
    /// One of top_up, course, book, live_room, consultation, gift, earning, settlement, withdrawal, refund.
    pub category: Option<String>,
}

const CATEGORIES: &[&str] =
    &["top_up", "course", "book", "live_room", "consultation", "gift", "earning", "settlement", "withdrawal", "refund"];

#[derive(Debug, Serialize, JsonSchema)]
pub struct Related {
    #[serde(rename = "type")]
    pub kind: String,
    pub id: Uuid,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct TransactionView {
    pub id: Uuid,
    /// credit or debit.
    #[serde(rename = "type")]
    pub kind: String,
    pub category: String,
    pub amount: String,
    pub balance_after: String,
    pub reference: String,
    pub related: Related,
    pub description: String,
    pub created_at: DateTime<Utc>,
}

pub async fn transactions(
    request: HttpRequest,
    state: web::Data<AppState>,
    user: AuthUser,
    query: web::Query<TransactionsQuery>,
) -> Result<Reply, ApiError> {
    let (page, per_page) = PageQuery { page: query.page.clone(), per_page: query.per_page.clone() }.resolve()?;
    let category = match query.category.as_deref() {
        None | Some("") => None,
        Some(category) => Some(*CATEGORIES.iter().find(|c| **c == category).ok_or(ApiError::field("category", "invalid_category"))?),
    };
    wait_for_min_position(&request, &state).await?;
    let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM wallet_transactions WHERE user_id = ? AND (? IS NULL OR category = ?)")
        .bind(user.user_id)
        .bind(category)
        .bind(category)
        .fetch_one(&state.pool)
        .await?;
    let rows = sqlx::query(
        "SELECT id, direction, category, amount, balance_after, reference, related_type, related_id, description, created_at \
         FROM wallet_transactions WHERE user_id = ? AND (? IS NULL OR category = ?) ORDER BY position DESC LIMIT ? OFFSET ?",
    )
    .bind(user.user_id)
    .bind(category)
    .bind(category)
    .bind(per_page)
    .bind((page - 1) * per_page)
    .fetch_all(&state.pool)
    .await?;
    let items = rows
        .iter()
        .map(|row| {
            Ok(TransactionView {
                id: row.try_get("id")?,
                kind: row.try_get("direction")?,
                category: row.try_get("category")?,
                amount: format!("{:.2}", row.try_get::<Decimal, _>("amount")?),
                balance_after: format!("{:.2}", row.try_get::<Decimal, _>("balance_after")?),
                reference: row.try_get("reference")?,
                related: Related { kind: row.try_get("related_type")?, id: row.try_get("related_id")? },
                description: row.try_get("description")?,
                created_at: row.try_get::<NaiveDateTime, _>("created_at")?.and_utc(),
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    Ok(Reply::ok(items).pagination(Pagination::new(page, per_page, total.max(0) as u64)))
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct TopUpRequest {
    /// Amount in SAR, e.g. "100.00".
    pub amount: String,
    /// The payment provider: "sandbox".
    pub provider: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct TopUpView {
    pub top_up_id: Uuid,
    pub status: String,
    pub amount: String,
    pub checkout_url: String,
}

pub fn parse_amount(text: &str) -> Result<Money, ApiError> {
    Money::parse(text).ok().filter(|m| !m.is_zero()).ok_or(ApiError::field("amount", "invalid_amount"))
}

pub async fn create_top_up(
    request: HttpRequest,
    state: web::Data<AppState>,
    user: AuthUser,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let work = async |context| {
        let input: TopUpRequest = json_body(&body)?;
        let amount = parse_amount(&input.amount);
        let provider = PROVIDERS
            .contains(&input.provider.as_str())
            .then(|| ProviderName::parse(&input.provider).ok())
            .flatten()
            .ok_or(ApiError::field("provider", "unknown_provider"));
        let (amount, provider) = match (amount, provider) {
            (Ok(amount), Ok(provider)) => (amount, provider),
            (amount, provider) => return Err(merge_field_errors([amount.err(), provider.err()])),
        };
        let top_up_id = Uuid::now_v7();
        let command = TopUpCommand::Request { top_up_id, user_id: user.user_id, provider, amount };
        // A fresh id: nothing to load (NoStream still guards the append).
        let outcome = state.top_ups.execute_on(top_up_id, TopUp::default(), command, context).await?;
        Keyed::of(outcome.replayed, outcome.position, || top_up_created(&outcome.top_up))
    };
    idempotency::run(&state, &request, user.user_id, &body, work, |events| {
        let mut top_up = TopUp::default();
        for event in events.iter().filter(|e| e.stream.stream_type == domain::top_up::STREAM_TYPE) {
            let event = TopUpEvent::from_payload(&event.event_type, event.payload.clone()).map_err(ApiError::internal)?;
            top_up.apply(&event);
        }
        top_up_created(&top_up)
    })
    .await
}

/// The answer to a new top-up, from its state right after the request.
fn top_up_created(top_up: &TopUp) -> Result<Reply, ApiError> {
    let (Some(top_up_id), Some(provider), Some(amount)) = (top_up.id(), top_up.provider(), top_up.amount()) else {
        return Err(ApiError::internal("a requested top-up without its request"));
    };
    let view = TopUpView {
        top_up_id,
        status: TopUpStatus::Pending.as_str().into(),
        amount: amount.to_string(),
        checkout_url: format!("/api/v1/payments/{provider}/checkout/{top_up_id}"),
    };
    Ok(Reply::created("top_up_created", view))
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct WithdrawalRequest {
    /// Amount in SAR, e.g. "50.00".
    pub amount: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct WithdrawalView {
    pub withdrawal_id: Uuid,
    pub status: String,
    pub amount: String,
}

pub async fn request_withdrawal(
    request: HttpRequest,
    state: web::Data<AppState>,
    user: AuthUser,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    user.require(Role::Speaker)?;
    let work = async |context| {
        let input: WithdrawalRequest = json_body(&body)?;
        let amount = parse_amount(&input.amount)?;
        let withdrawal_id = Uuid::now_v7();
        let outcome = state.wallets.execute(user.user_id, WalletCommand::RequestWithdrawal { withdrawal_id, amount }, context).await?;
        Keyed::of(outcome.replayed, outcome.position, || Ok(withdrawal_requested(withdrawal_id, amount)))
    };
    idempotency::run(&state, &request, user.user_id, &body, work, |events| {
        let requested = events.iter().find_map(|event| {
            match WalletEvent::from_payload_ref(&event.event_type, event.schema_version, &event.payload) {
                Ok(WalletEvent::WithdrawalRequested { withdrawal_id, amount, .. }) => Some((withdrawal_id, amount)),
                _ => None,
            }
        });
        let (withdrawal_id, amount) = requested.ok_or_else(|| ApiError::internal("a replayed withdrawal without its request"))?;
        Ok(withdrawal_requested(withdrawal_id, amount))
    })
    .await
}

fn withdrawal_requested(withdrawal_id: Uuid, amount: Money) -> Reply {
    let view = WithdrawalView { withdrawal_id, status: "pending".into(), amount: amount.to_string() };
    Reply::created("withdrawal_requested", view)
}

/// Several fields' reasons in one 422.
pub fn merge_field_errors<const N: usize>(errors: [Option<ApiError>; N]) -> ApiError {
    let mut fields = crate::error::FieldErrors::new();
    for error in errors.into_iter().flatten() {
        match error {
            ApiError::Validation(more) => {
                for (field, reasons) in more {
                    fields.entry(field).or_default().extend(reasons);
                }
            }
            other => return other,
        }
    }
    ApiError::Validation(fields)
}
