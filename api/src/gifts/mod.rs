//! Gifts over HTTP: the catalogue (admins manage it), sending a gift from the wallet (an
//! `Idempotency-Key` is required: it moves money) and the gifts each side sent or received.

use actix_web::http::Method;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use commands::CommandContext;
use commands::gifts::Sending;
use domain::commerce::order::OrderEvent;
use domain::gifts::{self, GiftChange, GiftContext, GiftContextKind, GiftDetails, GiftTransferEvent};
use domain::users::Role;
use projections::gifts::GiftsProjector;
use projections::gifts::queries::{GiftRow, GiftSide, TransferRow};
use projections::users::UsersProjector;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::catalogue::parse_id;
use crate::envelope::{Pagination, Reply};
use crate::error::ApiError;
use crate::extract::{Body, Fields, PageQuery, json_body};
use crate::i18n::Text;
use crate::idempotency::{self, Keyed, appended, first_event, settled};
use crate::openapi::{Op, Routes};
use crate::startup::AppState;
use crate::wallet::sar;

/// Gifts sent are read with the names of who sent and received them.
const GIFTS: &[&str] = &[UsersProjector::NAME, GiftsProjector::NAME];

pub fn routes(routes: &mut Routes) {
    use Method as M;
    routes.add(M::GET, "/gifts", list,
        Op::new("gifts", "The gifts one can send, in order").token_optional().reads(GIFTS).data::<Vec<GiftView>>());
    routes.add(M::POST, "/admin/gifts", create,
        Op::new("gifts", "Add a gift to the catalogue (admin)").auth().body::<GiftRequest>().data::<GiftView>().created().errors(&[403, 422])
            .description("`price` is VAT-inclusive, 0.01–10,000.00."));
    routes.add(M::PATCH, "/admin/gifts/{id}", change,
        Op::new("gifts", "Change a gift (admin)").auth().path_params(&["id"]).body::<GiftChangeRequest>().data::<GiftView>()
            .errors(&[403, 404, 422]).description("Any of the fields, and `is_active`: an inactive gift is not listed and cannot be sent."));
    routes.add(M::POST, "/gifts/send", send,
        Op::new("gifts", "Send a gift").auth().idempotent().body::<SendRequest>().data::<SentView>().created().errors(&[403, 404, 409, 422, 503])
            .description("Paid from the wallet like a purchase (the VAT-inclusive price × `quantity`, 1–100), with an invoice; the \
                          receiver earns the net of VAT less the commission, pending. To yourself: 422 `own_receiver`; an inactive gift: \
                          409 `gift_inactive`; to someone who blocked you: 403 `blocked`; 409 `insufficient_funds` and nothing changes."));
    routes.add(M::GET, "/me/gifts/received", received,
        Op::new("gifts", "Gifts I received, newest first").auth().reads(GIFTS).query::<PageQuery>().data::<Vec<TransferView>>().errors(&[422]));
    routes.add(M::GET, "/me/gifts/sent", sent,
        Op::new("gifts", "Gifts I sent, newest first").auth().reads(GIFTS).query::<PageQuery>().data::<Vec<TransferView>>().errors(&[422]));
}

pub const GIFT_SAVED: Text = Text::new("gift_saved", "The gift is saved.", "تم حفظ الهدية.");
pub const GIFT_SENT: Text = Text::new("gift_sent", "Your gift is on its way.", "تم إرسال هديتك.");

pub const REJECTIONS: &[Text] = &[Text::new("gift_inactive", "This gift is not available.", "هذه الهدية غير متاحة.")];

pub const REASONS: &[Text] = &[
    Text::new("invalid_name_en", "must be 1 to 200 characters on one line", "يجب أن يكون من 1 إلى 200 حرف في سطر واحد"),
    Text::new("invalid_name_ar", "must be 1 to 200 characters on one line", "يجب أن يكون من 1 إلى 200 حرف في سطر واحد"),
    Text::new("invalid_icon_url", "must be an http or https URL", "يجب أن يكون رابط http أو https"),
    Text::new("invalid_gift_price", "must be 0.01 to 10,000.00", "يجب أن يكون من 0.01 إلى 10000.00"),
    Text::new("invalid_sort_order", "must be a whole number from 0 to 1,000,000", "يجب أن يكون عدداً صحيحاً من 0 إلى 1000000"),
    Text::new("invalid_quantity", "must be 1 to 100", "يجب أن تكون من 1 إلى 100"),
    Text::new("own_receiver", "you cannot send a gift to yourself", "لا يمكنك إرسال هدية لنفسك"),
    Text::new("invalid_message", "must be 1 to 500 characters", "يجب أن تكون من 1 إلى 500 حرف"),
    Text::new("invalid_context", "must be a post or a live_room with its id", "يجب أن يكون post أو live_room مع معرّفه"),
];

#[derive(Debug, Serialize, JsonSchema)]
pub struct GiftView {
    pub id: Uuid,
    pub name_en: String,
    pub name_ar: String,
    pub icon_url: String,
    /// VAT included.
    #[schemars(example = &"5.00")]
    pub price: String,
    pub sort_order: u32,
    pub is_active: bool,
}

impl From<GiftRow> for GiftView {
    fn from(row: GiftRow) -> Self {
        GiftView { id: row.id, name_en: row.name_en, name_ar: row.name_ar, icon_url: row.icon_url, price: sar(row.price), sort_order: row.sort_order, is_active: row.is_active }
    }
}

impl GiftView {
    fn of(gift_id: Uuid, details: &GiftDetails, is_active: bool) -> Self {
        GiftView {
            id: gift_id,
            name_en: details.name_en.to_string(),
            name_ar: details.name_ar.to_string(),
            icon_url: details.icon_url.to_string(),
            price: details.price.to_string(),
            sort_order: details.sort_order,
            is_active,
        }
    }
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct SentView {
    pub gift_transaction_id: Uuid,
    /// VAT included: the price × the quantity.
    #[schemars(example = &"15.00")]
    pub total: String,
    pub invoice_id: Option<Uuid>,
}

impl SentView {
    fn of(sent: &GiftTransferEvent, order: Option<&OrderEvent>) -> Self {
        let GiftTransferEvent::GiftSent { transfer_id, total, .. } = sent;
        let invoice_id = match order {
            Some(OrderEvent::OrderPlaced { invoice_id, .. }) => *invoice_id,
            _ => None,
        };
        SentView { gift_transaction_id: *transfer_id, total: total.to_string(), invoice_id }
    }
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct PartyView {
    pub id: Uuid,
    pub name: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ContextView {
    /// `post` or `live_room`.
    #[serde(rename = "type")]
    pub kind: String,
    pub id: Uuid,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct TransferView {
    pub id: Uuid,
    pub gift: GiftView,
    pub sender: PartyView,
    pub receiver: PartyView,
    pub quantity: u32,
    pub total: String,
    pub message: Option<String>,
    pub context: Option<ContextView>,
    pub order_id: Uuid,
    pub sent_at: DateTime<Utc>,
}

impl From<TransferRow> for TransferView {
    fn from(row: TransferRow) -> Self {
        let context = row.context_type.zip(row.context_id).map(|(kind, id)| ContextView { kind, id });
        TransferView {
            id: row.id,
            gift: row.gift.into(),
            sender: PartyView { id: row.sender_id, name: row.sender_name },
            receiver: PartyView { id: row.receiver_id, name: row.receiver_name },
            quantity: row.quantity,
            total: sar(row.total),
            message: row.message,
            context,
            order_id: row.order_id,
            sent_at: row.sent_at,
        }
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct GiftRequest {
    #[schemars(example = &"Rose")]
    pub name_en: String,
    #[schemars(example = &"وردة")]
    pub name_ar: String,
    #[schemars(example = &"https://cdn.example.com/gifts/rose.png")]
    pub icon_url: String,
    #[schemars(example = &"5.00")]
    pub price: String,
    #[schemars(example = 1)]
    pub sort_order: i64,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct GiftChangeRequest {
    pub name_en: Option<String>,
    pub name_ar: Option<String>,
    pub icon_url: Option<String>,
    pub price: Option<String>,
    pub sort_order: Option<i64>,
    #[schemars(example = false)]
    pub is_active: Option<bool>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct ContextRequest {
    /// `post` or `live_room`.
    #[serde(rename = "type")]
    pub kind: String,
    pub id: Uuid,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct SendRequest {
    #[schemars(example = &"0193b0e4-7c1a-7b55-9a3e-5b2f4c7d8e90")]
    pub gift_id: Uuid,
    #[schemars(example = &"0193b0e4-7c1a-7b55-9a3e-5b2f4c7d8e91")]
    pub receiver_id: Uuid,
    /// 1–100.
    #[schemars(example = 3)]
    pub quantity: i64,
    pub message: Option<String>,
    pub context: Option<ContextRequest>,
}

pub async fn list(state: web::Data<AppState>) -> Result<Reply, ApiError> {
    let gifts = state.queries.gifts.gifts(true).await?;
    let count = gifts.len() as u64;
    Ok(Reply::ok(gifts.into_iter().map(GiftView::from).collect::<Vec<_>>()).pagination(Pagination::whole(count)))
}

pub async fn create(state: web::Data<AppState>, user: AuthUser, body: Body) -> Result<Reply, ApiError> {
    user.require(Role::Admin)?;
    let input: GiftRequest = json_body(&body)?;
    let mut fields = Fields::default();
    let name_en = fields.check(gifts::name_en(&input.name_en));
    let name_ar = fields.check(gifts::name_ar(&input.name_ar));
    let icon_url = fields.check(gifts::icon_url(&input.icon_url));
    let price = fields.check(gifts::price(&input.price));
    let sort_order = fields.check(gifts::sort_order(input.sort_order));
    fields.done()?;
    let (Some(name_en), Some(name_ar), Some(icon_url), Some(price), Some(sort_order)) = (name_en, name_ar, icon_url, price, sort_order) else {
        return Err(ApiError::internal("checked fields missing"));
    };
    let details = GiftDetails { name_en, name_ar, icon_url, price, sort_order };
    let created = state.commands.gifts.create(details, &user.context()).await?;
    let (gift, position) = appended(created)?;
    let (Some(gift_id), Some(details)) = (gift.state.id(), gift.state.details()) else { return Err(ApiError::internal("a created gift without details")) };
    Ok(Reply::created(&GIFT_SAVED, GiftView::of(gift_id, details, gift.state.is_active())).position(Some(position)))
}

pub async fn change(state: web::Data<AppState>, user: AuthUser, id: web::Path<String>, body: Body) -> Result<Reply, ApiError> {
    user.require(Role::Admin)?;
    let gift_id = parse_id(&id)?;
    let input: GiftChangeRequest = json_body(&body)?;
    let mut fields = Fields::default();
    let change = GiftChange {
        name_en: fields.optional("name_en", input.name_en.as_deref().map(gifts::name_en)).flatten(),
        name_ar: fields.optional("name_ar", input.name_ar.as_deref().map(gifts::name_ar)).flatten(),
        icon_url: fields.optional("icon_url", input.icon_url.as_deref().map(gifts::icon_url)).flatten(),
        price: fields.optional("price", input.price.as_deref().map(gifts::price)).flatten(),
        sort_order: fields.optional("sort_order", input.sort_order.map(gifts::sort_order)).flatten(),
        is_active: input.is_active,
    };
    fields.done()?;
    let changed = state.commands.gifts.change(gift_id, change, &user.context()).await?;
    let (gift, position) = settled(&state, changed).await?;
    let (Some(gift_id), Some(details)) = (gift.state.id(), gift.state.details()) else { return Err(ApiError::NotFound) };
    Ok(Reply::ok(GiftView::of(gift_id, details, gift.state.is_active())).message(&GIFT_SAVED).position(Some(position)))
}

pub async fn send(request: HttpRequest, state: web::Data<AppState>, user: AuthUser, body: Body) -> Result<HttpResponse, ApiError> {
    let input: SendRequest = json_body(&body)?;
    let mut fields = Fields::default();
    let quantity = u32::try_from(input.quantity).ok().filter(|quantity| (1..=gifts::QUANTITY_MAX).contains(quantity));
    if quantity.is_none() {
        fields.check::<(), _>(Err(gifts::GiftError::InvalidQuantity));
    }
    if input.receiver_id == user.user_id {
        fields.check::<(), _>(Err(gifts::GiftError::OwnReceiver));
    }
    let message = fields.optional("message", input.message.as_deref().map(gifts::message)).flatten();
    let kind = fields.optional("context", input.context.as_ref().map(|context| GiftContextKind::parse(&context.kind))).flatten();
    fields.done()?;
    let context = kind.zip(input.context.as_ref()).map(|(kind, context)| GiftContext { kind, id: context.id });
    let sending = Sending { gift_id: input.gift_id, receiver_id: input.receiver_id, quantity: quantity.unwrap_or(1), message, context };
    let work = async |context: CommandContext| {
        let sent = state.commands.gifts.send(user.user_id, sending.clone(), &context).await?;
        Keyed::of(sent, |sent| Ok(Reply::created(&GIFT_SENT, SentView::of(&sent.sent, Some(&sent.order)))))
    };
    idempotency::run(&state, &request, user.user_id, &body, work, |events| {
        let sent = first_event(events, |_: &GiftTransferEvent| true)?;
        let order = events.iter().find_map(|event| commands::stream::decode::<OrderEvent>(event).ok());
        Ok(Reply::created(&GIFT_SENT, SentView::of(&sent, order.as_ref())))
    })
    .await
}

pub async fn received(state: web::Data<AppState>, user: AuthUser, query: web::Query<PageQuery>) -> Result<Reply, ApiError> {
    transfers(&state, &user, &query, GiftSide::Received).await
}

pub async fn sent(state: web::Data<AppState>, user: AuthUser, query: web::Query<PageQuery>) -> Result<Reply, ApiError> {
    transfers(&state, &user, &query, GiftSide::Sent).await
}

async fn transfers(state: &AppState, user: &AuthUser, query: &PageQuery, side: GiftSide) -> Result<Reply, ApiError> {
    let (page, per_page) = query.resolve()?;
    let (total, rows) = state.queries.gifts.transfers(user.user_id, side, page, per_page).await?;
    Ok(Reply::ok(rows.into_iter().map(TransferView::from).collect::<Vec<_>>()).pagination(Pagination::new(page, per_page, total)))
}
