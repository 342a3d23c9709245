//! The wallet and payments context over HTTP: balances, transactions, top-ups, withdrawals and
//! their admin decisions, and the payment providers' notifications, with their messages.

pub mod admin;
pub mod payments;

use actix_web::http::Method;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use commands::stream::decode;
use domain::kernel::Aggregate;
use domain::ledger::ProviderName;
use domain::money::{CURRENCY, Money};
use domain::users::Role;
use domain::wallet::top_up::{TopUp, TopUpEvent, TopUpStatus};
use domain::wallet::WalletEvent;
use projections::wallet::WalletProjector;
use rust_decimal::Decimal;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::envelope::{Pagination, Reply};
use crate::error::ApiError;
use crate::extract::{Body, PageQuery, json_body};
use crate::i18n::Text;
use crate::idempotency::{self, Keyed};
use crate::openapi::{Op, Routes};
use crate::startup::AppState;

pub fn routes(routes: &mut Routes) {
    use Method as M;
    const BALANCES: &[&str] = &[WalletProjector::NAME];
    routes.add(M::GET, "/wallet", balance, Op::new("wallet", "Wallet balances").auth().reads(BALANCES).data::<WalletView>());
    routes.add(M::GET, "/wallet/transactions", transactions,
        Op::new("wallet", "Wallet transactions, newest first").auth().reads(BALANCES).query::<TransactionsQuery>()
            .data::<Vec<TransactionView>>().errors(&[422])
            .description("A page of the caller's transactions; `meta.pagination` tells how many there are. 422 for a page, page size or category out of range."));
    routes.add(M::POST, "/wallet/top-ups", create_top_up,
        Op::new("wallet", "Start a top-up").auth().idempotent().body::<TopUpRequest>().data::<TopUpView>().created().errors(&[409, 503])
            .description("The top-up is pending until the provider confirms the payment through its notification; only then is the wallet credited. \
                          Pay at `checkout_url`."));
    routes.add(M::POST, "/wallet/withdrawals", request_withdrawal,
        Op::new("wallet", "Request a withdrawal").auth().idempotent().body::<WithdrawalRequest>().data::<WithdrawalView>().created()
            .errors(&[403, 409, 503])
            .description("Speakers only (403 otherwise). The amount leaves the available balance at once and is pending until an admin \
                          approves or rejects it; 409 `insufficient_funds` when the balance is short."));
    routes.add(M::POST, "/admin/withdrawals/{id}/approve", admin::approve,
        Op::new("admin", "Approve a pending withdrawal").auth().idempotent().path_params(&["id"])
            .data::<admin::WithdrawalDecision>().errors(&[403, 404, 409, 503])
            .description("Admins only. The withdrawal is paid out by bank transfer; 409 `withdrawal_not_pending` once it was decided."));
    routes.add(M::POST, "/admin/withdrawals/{id}/reject", admin::reject,
        Op::new("admin", "Reject a pending withdrawal").auth().idempotent().path_params(&["id"])
            .optional_body::<admin::RejectRequest>().data::<admin::WithdrawalDecision>().errors(&[403, 404, 409, 503])
            .description("Admins only. The amount returns to the speaker's available balance. The body, and its reason, may be left out."));
    routes.add(M::POST, "/payments/webhooks/{provider}", payments::webhook,
        Op::new("payments", "A payment provider's signed notification").path_params(&["provider"])
            .body::<payments::SandboxNotification>().data::<payments::NotificationReceipt>().errors(&[401, 404, 409, 503])
            .description("Called by the provider, not by clients. Header `Signature`: the hex HMAC-SHA256 of the raw body under the \
                          provider's secret (401 when it is missing or wrong). The same event delivered twice credits once. \
                          Providers: `sandbox`."));
    routes.add(M::GET, "/payments/sandbox/checkout/{top_up_id}", payments::checkout_page,
        Op::new("payments", "The sandbox provider's checkout page").path_params(&["top_up_id"]).content("text/html").errors(&[404, 503])
            .description("Development only: served when `SANDBOX_CHECKOUT=1`, else 404. A top-up's `checkout_url` points here."));
    routes.add(M::POST, "/payments/sandbox/checkout/{top_up_id}/{outcome}", payments::checkout_outcome,
        Op::new("payments", "Pay or fail a top-up as the sandbox provider").path_params(&["top_up_id", "outcome"])
            .data::<payments::NotificationReceipt>().errors(&[404, 409, 503])
            .description("Development only (`SANDBOX_CHECKOUT=1`). `outcome` is `pay` or `fail`: the sandbox signs its notification \
                          and delivers it through the webhook."));
}

pub const TOP_UP_CREATED: Text = Text::new(
    "top_up_created",
    "Top-up created; complete the payment to credit your wallet.",
    "تم إنشاء طلب الشحن؛ أكمل الدفع لإضافة الرصيد إلى محفظتك.",
);
pub const WITHDRAWAL_REQUESTED: Text = Text::new("withdrawal_requested", "Withdrawal requested.", "تم طلب السحب.");
pub const WITHDRAWAL_APPROVED: Text = Text::new("withdrawal_approved", "Withdrawal approved.", "تمت الموافقة على السحب.");
pub const WITHDRAWAL_REJECTED: Text =
    Text::new("withdrawal_rejected", "Withdrawal rejected; the amount is back in the wallet.", "تم رفض السحب وأعيد المبلغ إلى المحفظة.");
pub const WEBHOOK_PROCESSED: Text = Text::new("webhook_processed", "Payment notification processed.", "تمت معالجة إشعار الدفع.");
pub const TOP_UP_HELD: Text = Text::new(
    "top_up_held",
    "Payment received, but the wallet cannot take this amount: it is held for an operator to resolve.",
    "تم استلام الدفعة، لكن المحفظة لا تستوعب هذا المبلغ: المبلغ محجوز حتى يعالجه أحد المشغّلين.",
);

/// The messages of the context's rejections.
pub const REJECTIONS: &[Text] = &[
    Text::new("insufficient_funds", "The wallet balance is not enough.", "رصيد المحفظة غير كافٍ."),
    Text::new("wallet_not_open", "The wallet is not open.", "المحفظة غير مفعلة."),
    Text::new("wallet_already_open", "The wallet is already open.", "المحفظة مفعلة مسبقاً."),
    Text::new("vat_exceeds_gross", "The VAT must be less than the amount.", "يجب أن تكون ضريبة القيمة المضافة أقل من المبلغ."),
    Text::new("nothing_to_settle", "No earnings are due for release.", "لا توجد أرباح مستحقة للتحرير."),
    Text::new("duplicate_withdrawal", "This withdrawal already exists.", "طلب السحب هذا موجود مسبقاً."),
    Text::new("withdrawal_not_pending", "This withdrawal is no longer pending.", "طلب السحب هذا لم يعد قيد الانتظار."),
    Text::new("top_up_already_requested", "This top-up was already requested.", "تم طلب عملية الشحن هذه مسبقاً."),
    Text::new("top_up_already_settled", "This top-up is already settled.", "تمت تسوية عملية الشحن هذه مسبقاً."),
    Text::new("amount_mismatch", "The amount does not match the top-up.", "المبلغ لا يطابق عملية الشحن."),
];

pub const INVALID_AMOUNT: Text =
    Text::new("invalid_amount", "must be a positive amount with at most two decimals", "يجب أن يكون مبلغاً موجباً بخانتين عشريتين على الأكثر");
pub const UNKNOWN_PROVIDER: Text = Text::new("unknown_provider", "is not a supported payment provider", "ليس مزود دفع مدعوماً");
pub const INVALID_CATEGORY: Text = Text::new("invalid_category", "is not a known category", "ليست فئة معروفة");

/// The context's field reasons, its `Invalid` rejections among them.
pub const REASONS: &[Text] = &[INVALID_AMOUNT, UNKNOWN_PROVIDER, INVALID_CATEGORY];

/// Payment providers the API accepts top-ups through.
pub const PROVIDERS: &[&str] = &["sandbox"];

/// The caller's balances, in SAR.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct WalletView {
    /// What can be spent or withdrawn now.
    #[schemars(example = "250.00", extend("pattern" = MONEY_PATTERN))]
    pub balance: String,
    /// Earnings not released yet: they become available when they are settled.
    #[schemars(example = "40.00", extend("pattern" = MONEY_PATTERN))]
    pub pending_balance: String,
    #[schemars(example = "40.00", extend("pattern" = MONEY_PATTERN))]
    pub total_earned: String,
    #[schemars(example = "0.00", extend("pattern" = MONEY_PATTERN))]
    pub total_withdrawn: String,
    /// Always `SAR`.
    #[schemars(example = &"SAR")]
    pub currency: String,
}

/// Money as answers show it: a decimal string with exactly two decimals.
const MONEY_PATTERN: &str = r"^[0-9]+\.[0-9]{2}$";
/// Money as requests may give it: a positive decimal string, at most two decimals once trailing
/// zeros are dropped (checked by the handler, not by the pattern).
const AMOUNT_PATTERN: &str = r"^[0-9]+(\.[0-9]+)?$";

pub async fn balance(state: web::Data<AppState>, user: AuthUser) -> Result<Reply, ApiError> {
    let balance = state.queries.wallet.balance(user.user_id).await?;
    Ok(Reply::ok(WalletView {
        balance: sar(balance.balance),
        pending_balance: sar(balance.pending_balance),
        total_earned: sar(balance.total_earned),
        total_withdrawn: sar(balance.total_withdrawn),
        currency: CURRENCY.to_owned(),
    }))
}

/// An amount as the contract shows money: two decimals.
pub fn sar(amount: Decimal) -> String {
    format!("{amount:.2}")
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct TransactionsQuery {
    /// The page, from 1 (default 1).
    #[schemars(example = &"1")]
    pub page: Option<String>,
    /// Transactions per page, 1 to 100 (default 20).
    #[schemars(example = "20")]
    pub per_page: Option<String>,
    /// Only this category. Empty or left out: every category.
    #[schemars(example = &"top_up", extend("enum" = CATEGORIES_OR_ANY))]
    pub category: Option<String>,
}

const CATEGORIES: &[&str] =
    &["top_up", "course", "book", "live_room", "consultation", "gift", "earning", "settlement", "withdrawal", "refund"];
/// The `category` filter's values: a category, or empty for all of them.
const CATEGORIES_OR_ANY: &[&str] =
    &["top_up", "course", "book", "live_room", "consultation", "gift", "earning", "settlement", "withdrawal", "refund", ""];

/// What a transaction is about.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Related {
    /// `top_up`, `withdrawal`, `order`…
    #[serde(rename = "type")]
    #[schemars(example = &"top_up")]
    pub kind: String,
    pub id: Uuid,
}

/// One movement of the wallet's available or pending balance.
#[derive(Debug, Serialize, JsonSchema)]
pub struct TransactionView {
    pub id: Uuid,
    /// `credit` or `debit`.
    #[serde(rename = "type")]
    #[schemars(example = &"credit", extend("enum" = ["credit", "debit"]))]
    pub kind: String,
    /// `top_up`, `course`, `book`, `live_room`, `consultation`, `gift`, `earning`, `settlement`, `withdrawal` or `refund`.
    #[schemars(example = &"top_up", extend("enum" = CATEGORIES))]
    pub category: String,
    /// `pending` for an earning not released yet, `reversed` for one a refund took back,
    /// `completed` for everything else.
    #[schemars(example = &"completed", extend("enum" = ["pending", "completed", "reversed"]))]
    pub status: String,
    /// In SAR, always positive: `type` tells the direction.
    #[schemars(example = "100.00", extend("pattern" = MONEY_PATTERN))]
    pub amount: String,
    /// The balance the transaction moved, right after it.
    #[schemars(example = "250.00", extend("pattern" = MONEY_PATTERN))]
    pub balance_after: String,
    /// The provider's or the platform's reference.
    pub reference: String,
    pub related: Related,
    #[schemars(example = "Wallet top-up")]
    pub description: String,
    pub created_at: DateTime<Utc>,
}

pub async fn transactions(state: web::Data<AppState>, user: AuthUser, query: web::Query<TransactionsQuery>) -> Result<Reply, ApiError> {
    let (page, per_page) = PageQuery { page: query.page.clone(), per_page: query.per_page.clone() }.resolve()?;
    let category = match query.category.as_deref() {
        None | Some("") => None,
        Some(category) => Some(*CATEGORIES.iter().find(|c| **c == category).ok_or(ApiError::field("category", &INVALID_CATEGORY))?),
    };
    let (total, rows) = state.queries.wallet.transactions(user.user_id, category, page, per_page).await?;
    let items: Vec<TransactionView> = rows
        .into_iter()
        .map(|row| TransactionView {
            id: row.id,
            kind: row.direction,
            category: row.category,
            status: row.status,
            amount: sar(row.amount),
            balance_after: sar(row.balance_after),
            reference: row.reference,
            related: Related { kind: row.related_type, id: row.related_id },
            description: match crate::i18n::Lang::current() {
                crate::i18n::Lang::En => row.description,
                crate::i18n::Lang::Ar => row.description_ar,
            },
            created_at: row.created_at,
        })
        .collect();
    Ok(Reply::ok(items).pagination(Pagination::new(page, per_page, total)))
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct TopUpRequest {
    /// In SAR, positive, at most two decimals.
    #[schemars(example = "100.00", extend("pattern" = AMOUNT_PATTERN))]
    pub amount: String,
    /// The payment provider: `sandbox`.
    #[schemars(example = &"sandbox", extend("enum" = PROVIDERS))]
    pub provider: String,
}

/// A top-up waiting for its payment.
#[derive(Debug, Serialize, JsonSchema)]
pub struct TopUpView {
    pub top_up_id: Uuid,
    /// `pending` until the provider confirms the payment.
    #[schemars(example = &"pending")]
    pub status: String,
    #[schemars(example = "100.00", extend("pattern" = MONEY_PATTERN))]
    pub amount: String,
    /// Where the payer completes the payment, on the provider's side.
    #[schemars(example = "/api/v1/payments/sandbox/checkout/0193b0e4-7c1a-7b55-9a3e-5b2f4c7d8e90")]
    pub checkout_url: String,
}

pub fn parse_amount(text: &str) -> Result<Money, ApiError> {
    Money::parse(text).ok().filter(|m| !m.is_zero()).ok_or(ApiError::field("amount", &INVALID_AMOUNT))
}

pub async fn create_top_up(
    request: HttpRequest,
    state: web::Data<AppState>,
    user: AuthUser,
    body: Body,
) -> Result<HttpResponse, ApiError> {
    let work = async |context| {
        let input: TopUpRequest = json_body(&body)?;
        let amount = parse_amount(&input.amount);
        let provider = PROVIDERS
            .contains(&input.provider.as_str())
            .then(|| ProviderName::parse(&input.provider).ok())
            .flatten()
            .ok_or(ApiError::field("provider", &UNKNOWN_PROVIDER));
        let (amount, provider) = match (amount, provider) {
            (Ok(amount), Ok(provider)) => (amount, provider),
            (amount, provider) => return Err(merge_field_errors([amount.err(), provider.err()])),
        };
        let requested = state.commands.wallet.request_top_up(user.user_id, provider, amount, &context).await?;
        Keyed::of(requested, |top_up| top_up_created(&state, &top_up.state))
    };
    idempotency::run(&state, &request, user.user_id, &body, work, |events| {
        let events = events.iter().filter_map(|event| decode::<TopUpEvent>(event).ok()).collect::<Vec<_>>();
        top_up_created(&state, &TopUp::replay(&events))
    })
    .await
}

/// The answer to a new top-up, from its state right after the request.
fn top_up_created(state: &AppState, top_up: &TopUp) -> Result<Reply, ApiError> {
    let (Some(top_up_id), Some(provider), Some(amount)) = (top_up.id(), top_up.provider(), top_up.amount()) else {
        return Err(ApiError::internal("a requested top-up without its request"));
    };
    let view = TopUpView {
        top_up_id,
        status: TopUpStatus::Pending.as_str().into(),
        amount: amount.to_string(),
        checkout_url: format!("{}{}/payments/{provider}/checkout/{top_up_id}", state.public_url, crate::openapi::PREFIX),
    };
    Ok(Reply::created(&TOP_UP_CREATED, view))
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct WithdrawalRequest {
    /// In SAR, positive, at most two decimals, at most the available balance.
    #[schemars(example = "50.00", extend("pattern" = AMOUNT_PATTERN))]
    pub amount: String,
}

/// A withdrawal waiting for an admin's decision.
#[derive(Debug, Serialize, JsonSchema)]
pub struct WithdrawalView {
    pub withdrawal_id: Uuid,
    /// `pending`.
    #[schemars(example = &"pending")]
    pub status: String,
    #[schemars(example = "50.00", extend("pattern" = MONEY_PATTERN))]
    pub amount: String,
}

pub async fn request_withdrawal(
    request: HttpRequest,
    state: web::Data<AppState>,
    user: AuthUser,
    body: Body,
) -> Result<HttpResponse, ApiError> {
    user.require(Role::Speaker)?;
    let work = async |context| {
        let input: WithdrawalRequest = json_body(&body)?;
        let amount = parse_amount(&input.amount)?;
        let requested = state.commands.wallet.request_withdrawal(user.user_id, amount, &context).await?;
        Keyed::of(requested, |withdrawal_id| Ok(withdrawal_requested(withdrawal_id, amount)))
    };
    idempotency::run(&state, &request, user.user_id, &body, work, |events| {
        let requested = events.iter().find_map(|event| match decode::<WalletEvent>(event) {
            Ok(WalletEvent::WithdrawalRequested { withdrawal_id, amount, .. }) => Some((withdrawal_id, amount)),
            _ => None,
        });
        let (withdrawal_id, amount) = requested.ok_or_else(|| ApiError::internal("a replayed withdrawal without its request"))?;
        Ok(withdrawal_requested(withdrawal_id, amount))
    })
    .await
}

fn withdrawal_requested(withdrawal_id: Uuid, amount: Money) -> Reply {
    let view = WithdrawalView { withdrawal_id, status: "pending".into(), amount: amount.to_string() };
    Reply::created(&WITHDRAWAL_REQUESTED, view)
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
