//! Buying over HTTP: the cart, checkout, orders and refunds, and what the buyer owns and the
//! speaker sold. Checkout and refunds move money: they take an `Idempotency-Key`, and a repeat
//! is answered from the first one's events.

use actix_web::http::Method;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use commands::CommandContext;
use domain::commerce::order::{OrderEvent, RefundReason};
use domain::commerce::pricing::Totals;
use domain::commerce::{ItemRef, ItemType};
use domain::invoicing::document::VAT_RATE;
use domain::money::Money;
use domain::users::Role;
use projections::catalogue::CatalogueProjector;
use projections::commerce::CommerceProjector;
use projections::wallet::WalletProjector;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::catalogue::parse_id;
use crate::envelope::{Pagination, Reply};
use crate::error::ApiError;
use crate::extract::{Body, Fields, PageQuery, json_body, parse_instant};
use crate::i18n::Text;
use crate::idempotency::{self, Keyed, first_event};
use crate::openapi::{Op, Routes};
use crate::startup::AppState;
use crate::wallet::sar;

const CART: &[&str] = &[CommerceProjector::NAME, CatalogueProjector::NAME];
const ORDERS: &[&str] = &[CommerceProjector::NAME];
const SALES: &[&str] = &[CommerceProjector::NAME, WalletProjector::NAME];

pub fn routes(routes: &mut Routes) {
    use Method as M;
    routes.add(M::POST, "/cart/items", add_to_cart,
        Op::new("buying", "Put an item in the cart").auth().body::<CartItemRequest>().data::<CartLineView>().created()
            .errors(&[404, 409, 422])
            .description("409 `already_in_cart`, `own_item`, `already_owned`, `not_available` (archived), `cart_full` (50 items); \
                          a draft or unknown item is 404. The price shown is today's: checkout takes the price of its own moment."));
    routes.add(M::GET, "/cart", cart,
        Op::new("buying", "The cart, with today's prices and totals").auth().reads(CART).data::<CartView>());
    routes.add(M::DELETE, "/cart/items/{id}", remove_from_cart,
        Op::new("buying", "Take an item out of the cart").auth().path_params(&["id"]).data::<()>().errors(&[404]));
    routes.add(M::POST, "/cart/checkout", checkout,
        Op::new("buying", "Buy the cart from the wallet").auth().idempotent().body::<CheckoutRequest>().data::<CheckoutView>().created()
            .errors(&[404, 409, 422, 503])
            .description("One atomic change: the wallet pays each paid item, each speaker earns (pending), the items are yours and the \
                          cart is empty — or nothing changes. 409 `insufficient_funds`, `own_item`, `already_owned`, `not_available`; \
                          422 `cart_empty`. `cart_item_ids` buys only those cart items. A free order has no invoice."));
    routes.add(M::GET, "/orders", orders,
        Op::new("buying", "Orders, newest first").auth().reads(ORDERS).query::<PageQuery>().data::<Vec<OrderView>>().errors(&[422])
            .description("The caller's orders; an admin sees everyone's."));
    routes.add(M::GET, "/orders/{id}", order,
        Op::new("buying", "An order").auth().reads(ORDERS).path_params(&["id"]).data::<OrderView>().errors(&[404])
            .description("The buyer's own, or any for an admin; 404 otherwise."));
    routes.add(M::POST, "/orders/{id}/refund", refund,
        Op::new("admin", "Refund an order, or some of its items").auth().idempotent().path_params(&["id"]).body::<RefundRequest>()
            .data::<RefundView>().errors(&[403, 404, 409, 422, 503])
            .description("Admins only. Pays the buyer back from the platform, takes back each speaker's earning (pending or released) \
                          and the access the items gave. Without `item_ids`, every item not refunded yet. 409 `already_refunded`."));
    routes.add(M::GET, "/me/enrollments", enrollments,
        Op::new("buying", "The courses the caller is enrolled in").auth().reads(ORDERS).query::<PageQuery>().data::<Vec<OwnedView>>()
            .errors(&[422]));
    routes.add(M::GET, "/me/books", my_books,
        Op::new("buying", "The books the caller bought").auth().reads(ORDERS).query::<PageQuery>().data::<Vec<OwnedView>>()
            .errors(&[422]));
    routes.add(M::GET, "/me/sales", sales,
        Op::new("buying", "The speaker's sales dashboard").auth().reads(SALES).query::<SalesQuery>().data::<SalesView>().errors(&[403, 422])
            .description("Sales placed in [`from`, `to`) (RFC 3339, or a date meaning 00:00 Asia/Riyadh), refunded items left out. \
                          `gross` is VAT-inclusive; `pending` and `available` are the wallet's balances now."));
}

pub const ADDED_TO_CART: Text = Text::new("added_to_cart", "Added to your cart.", "تمت الإضافة إلى سلتك.");
pub const REMOVED_FROM_CART: Text = Text::new("removed_from_cart", "Removed from your cart.", "تمت الإزالة من سلتك.");
pub const ORDER_PLACED: Text = Text::new("order_placed", "Thank you: your order is placed.", "شكراً لك: تم تنفيذ طلبك.");
pub const ORDER_REFUNDED: Text = Text::new("order_refunded", "Refunded.", "تم الاسترداد.");

/// Messages of commerce's conflicts and refusals.
pub const REJECTIONS: &[Text] = &[
    Text::new("already_in_cart", "This item is already in your cart.", "هذا العنصر موجود في سلتك مسبقاً."),
    Text::new("cart_full", "Your cart is full.", "سلتك ممتلئة."),
    Text::new("cart_empty", "Your cart is empty.", "سلتك فارغة."),
    Text::new("own_item", "You cannot buy your own item.", "لا يمكنك شراء عنصر تملكه أنت."),
    Text::new("already_owned", "You already own this item.", "أنت تملك هذا العنصر مسبقاً."),
    Text::new("not_available", "This item is not available.", "هذا العنصر غير متاح."),
    Text::new("not_owned", "You do not own this item.", "أنت لا تملك هذا العنصر."),
    Text::new("order_exists", "This order already exists.", "هذا الطلب موجود مسبقاً."),
    Text::new("no_items", "An order needs at least one item.", "يحتاج الطلب إلى عنصر واحد على الأقل."),
    Text::new("already_refunded", "This has already been refunded.", "تم استرداد هذا مسبقاً."),
];

pub const INVALID_PAYMENT_METHOD: Text = Text::new("invalid_payment_method", "must be wallet", "يجب أن تكون wallet");

/// Reasons of commerce's invalid fields.
pub const REASONS: &[Text] = &[
    Text::new("invalid_item_type", "must be course, book or live_room", "يجب أن يكون course أو book أو live_room"),
    Text::new("unknown_order_item", "names an item that is not in this order", "يشير إلى عنصر ليس في هذا الطلب"),
    Text::new("invalid_reason", "must be 1 to 500 characters", "يجب أن يكون بين 1 و500 حرف"),
    INVALID_PAYMENT_METHOD,
];

// ---- the cart ----

#[derive(Debug, Deserialize, JsonSchema)]
pub struct CartItemRequest {
    /// `course`, `book` or `live_room`.
    #[schemars(example = &"course")]
    pub item_type: String,
    #[schemars(example = &"0193b0e4-7c1a-7b55-9a3e-5b2f4c7d8e90")]
    pub item_id: Uuid,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct CartLineView {
    /// The cart item's id, for `DELETE /cart/items/{id}`.
    pub id: Uuid,
    #[schemars(extend("enum" = ["course", "book", "live_room"]))]
    pub item_type: String,
    pub item_id: Uuid,
    pub title: String,
    /// Today's effective price, VAT included.
    #[schemars(example = "115.00", extend("pattern" = r"^[0-9]+\.[0-9]{2}$"))]
    pub price: String,
}

/// A cart's, an order's or a checkout's totals (API.md "Money and commerce").
#[derive(Debug, Serialize, JsonSchema)]
pub struct TotalsView {
    /// `total − vat_amount`: the net.
    #[schemars(example = "100.00")]
    pub subtotal: String,
    /// `total − round_half_up(total / 1.15, 2)`.
    #[schemars(example = "15.00")]
    pub vat_amount: String,
    /// The sum of the VAT-inclusive prices.
    #[schemars(example = "115.00")]
    pub total: String,
}

impl From<Totals> for TotalsView {
    fn from(totals: Totals) -> Self {
        TotalsView { subtotal: totals.subtotal.to_string(), vat_amount: totals.vat_amount.to_string(), total: totals.total.to_string() }
    }
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct CartView {
    pub items: Vec<CartLineView>,
    #[serde(flatten)]
    pub totals: TotalsView,
}

pub async fn add_to_cart(state: web::Data<AppState>, user: AuthUser, body: Body) -> Result<Reply, ApiError> {
    let input: CartItemRequest = json_body(&body)?;
    let mut fields = Fields::default();
    let item_type = fields.check(ItemType::parse(&input.item_type));
    fields.done()?;
    let Some(item_type) = item_type else { return Err(ApiError::internal("checked fields missing")) };
    let item = ItemRef { item_type, item_id: input.item_id };
    let added = state.commands.commerce.add_to_cart(user.user_id, item, &user.context()).await?;
    let position = added.position();
    let commands::Transacted::Done { value: line, .. } = added else { return Err(ApiError::internal("an unkeyed cart change replayed")) };
    let view = CartLineView {
        id: line.cart_item_id,
        item_type: line.item.item_type.as_str().to_owned(),
        item_id: line.item.item_id,
        title: line.title.to_string(),
        price: line.price.to_string(),
    };
    Ok(Reply::created(&ADDED_TO_CART, view).position(position))
}

pub async fn cart(state: web::Data<AppState>, user: AuthUser) -> Result<Reply, ApiError> {
    let lines = state.queries.commerce.cart(user.user_id).await?;
    let prices = lines.iter().map(|line| Money::try_from(line.price.unwrap_or_default())).collect::<Result<Vec<_>, _>>().map_err(ApiError::internal)?;
    let totals = Totals::of(&prices).ok_or_else(|| ApiError::internal("a cart beyond the largest amount"))?;
    let items = lines
        .into_iter()
        .zip(prices)
        .map(|(line, price)| CartLineView {
            id: line.id,
            item_type: line.item_type,
            item_id: line.item_id,
            title: line.title.unwrap_or_default(),
            price: price.to_string(),
        })
        .collect();
    Ok(Reply::ok(CartView { items, totals: totals.into() }))
}

pub async fn remove_from_cart(state: web::Data<AppState>, user: AuthUser, id: web::Path<String>) -> Result<Reply, ApiError> {
    let cart_item_id = parse_id(&id)?;
    let removed = state.commands.commerce.remove_from_cart(user.user_id, cart_item_id, &user.context()).await?;
    Ok(Reply::ok(serde_json::Value::Null).message(&REMOVED_FROM_CART).position(removed.position()))
}

// ---- checkout ----

#[derive(Debug, Deserialize, JsonSchema)]
pub struct CheckoutRequest {
    /// `wallet`.
    #[schemars(example = &"wallet")]
    pub payment_method: String,
    /// Only these cart items; left out, the whole cart.
    pub cart_item_ids: Option<Vec<Uuid>>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct OrderLineView {
    /// The order item's id, for refunds.
    pub id: Uuid,
    #[schemars(extend("enum" = ["course", "book", "live_room"]))]
    pub item_type: String,
    pub item_id: Uuid,
    pub title: String,
    /// VAT included, as paid.
    #[schemars(example = "115.00")]
    pub price: String,
    #[schemars(example = "115.00")]
    pub unit_price: String,
    pub quantity: u32,
    #[schemars(example = "100.00")]
    pub net: String,
    #[schemars(example = "0.15")]
    pub vat_rate: String,
    #[schemars(example = "15.00")]
    pub vat: String,
    #[schemars(example = "115.00")]
    pub total: String,
    /// Whether this item was refunded.
    pub refunded: bool,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct CheckoutView {
    pub order_id: Uuid,
    pub items: Vec<OrderLineView>,
    #[serde(flatten)]
    pub totals: TotalsView,
    /// Null for a free order.
    pub invoice_id: Option<Uuid>,
}

pub async fn checkout(request: HttpRequest, state: web::Data<AppState>, user: AuthUser, body: Body) -> Result<HttpResponse, ApiError> {
    let work = async |context: CommandContext| {
        let input: CheckoutRequest = json_body(&body)?;
        if input.payment_method.trim() != "wallet" {
            return Err(ApiError::field("payment_method", &INVALID_PAYMENT_METHOD));
        }
        let placed = state.commands.commerce.checkout(user.user_id, input.cart_item_ids, &context).await?;
        Keyed::of(placed, |placed| checked_out(&placed))
    };
    idempotency::run(&state, &request, user.user_id, &body, work, |events| {
        checked_out(&first_event(events, |event| matches!(event, OrderEvent::OrderPlaced { .. }))?)
    })
    .await
}

fn checked_out(placed: &OrderEvent) -> Result<Reply, ApiError> {
    let OrderEvent::OrderPlaced { order_id, lines, totals, invoice_id, .. } = placed else {
        return Err(ApiError::internal("a checkout answered with another event"));
    };
    let items = lines
        .iter()
        .map(|line| OrderLineView {
            id: line.order_item_id,
            item_type: line.item.item_type.as_str().to_owned(),
            item_id: line.item.item_id,
            title: line.title.to_string(),
            price: line.split.unit_price.to_string(),
            unit_price: line.split.unit_price.to_string(),
            quantity: line.quantity,
            net: line.split.net.to_string(),
            vat_rate: VAT_RATE.to_string(),
            vat: line.split.vat.to_string(),
            total: line.split.unit_price.to_string(),
            refunded: false,
        })
        .collect();
    let view = CheckoutView {
        order_id: *order_id,
        items,
        totals: (*totals).into(),
        invoice_id: *invoice_id,
    };
    Ok(Reply::created(&ORDER_PLACED, view))
}

// ---- orders ----

#[derive(Debug, Serialize, JsonSchema)]
pub struct BuyerView {
    pub id: Uuid,
    pub name: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct OrderView {
    pub id: Uuid,
    pub buyer: BuyerView,
    pub items: Vec<OrderLineView>,
    #[serde(flatten)]
    pub totals: TotalsView,
    /// What was paid back so far, VAT included.
    pub refunded_amount: String,
    #[schemars(extend("enum" = ["paid", "refunded", "partially_refunded"]))]
    pub status: String,
    pub invoice_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

impl From<projections::commerce::queries::Order> for OrderView {
    fn from(order: projections::commerce::queries::Order) -> Self {
        OrderView {
            id: order.id,
            buyer: BuyerView { id: order.buyer_id, name: order.buyer_name },
            items: order
                .lines
                .into_iter()
                .map(|line| OrderLineView {
                    id: line.id,
                    item_type: line.item_type,
                    item_id: line.item_id,
                    title: line.title,
                    price: sar(line.unit_price),
                    unit_price: sar(line.unit_price),
                    quantity: line.quantity,
                    net: sar(line.net),
                    vat_rate: VAT_RATE.to_string(),
                    vat: sar(line.vat),
                    total: sar(line.unit_price * rust_decimal::Decimal::from(line.quantity)),
                    refunded: line.refunded,
                })
                .collect(),
            totals: TotalsView { subtotal: sar(order.subtotal), vat_amount: sar(order.vat_amount), total: sar(order.total) },
            refunded_amount: sar(order.refunded_amount),
            status: order.status,
            invoice_id: order.invoice_id,
            created_at: order.placed_at,
        }
    }
}

pub async fn orders(state: web::Data<AppState>, user: AuthUser, query: web::Query<PageQuery>) -> Result<Reply, ApiError> {
    let (page, per_page) = query.resolve()?;
    let buyer = (!user.has(Role::Admin)).then_some(user.user_id);
    let (total, orders) = state.queries.commerce.orders(buyer, page, per_page).await?;
    Ok(Reply::ok(orders.into_iter().map(OrderView::from).collect::<Vec<_>>()).pagination(Pagination::new(page, per_page, total)))
}

pub async fn order(state: web::Data<AppState>, user: AuthUser, id: web::Path<String>) -> Result<Reply, ApiError> {
    let order = state.queries.commerce.order(parse_id(&id)?).await?.ok_or(ApiError::NotFound)?;
    if order.buyer_id != user.user_id && !user.has(Role::Admin) {
        return Err(ApiError::NotFound);
    }
    Ok(Reply::ok(OrderView::from(order)))
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct RefundRequest {
    /// Order item ids; left out, every item not refunded yet.
    pub item_ids: Option<Vec<Uuid>>,
    #[schemars(example = "The course was not what was described.")]
    pub reason: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct RefundView {
    pub order_id: Uuid,
    #[schemars(extend("enum" = ["refunded", "partially_refunded"]))]
    pub status: String,
    /// Paid back by this refund, VAT included.
    #[schemars(example = "115.00")]
    pub refunded_amount: String,
    /// Null when nothing was paid back (free items).
    pub credit_note_id: Option<Uuid>,
}

pub async fn refund(request: HttpRequest, state: web::Data<AppState>, user: AuthUser, id: web::Path<String>, body: Body) -> Result<HttpResponse, ApiError> {
    user.require(Role::Admin)?;
    let order_id = parse_id(&id)?;
    let work = async |context: CommandContext| {
        let input: RefundRequest = json_body(&body)?;
        let mut fields = Fields::default();
        let reason = fields.check(RefundReason::parse(&input.reason));
        fields.done()?;
        let Some(reason) = reason else { return Err(ApiError::internal("checked fields missing")) };
        let refunded = state.commands.commerce.refund(order_id, input.item_ids, reason, &context).await?;
        Keyed::of(refunded, |(_, refunded)| refunded_view(&refunded))
    };
    idempotency::run(&state, &request, user.user_id, &body, work, |events| {
        refunded_view(&first_event(events, |event| matches!(event, OrderEvent::OrderRefunded { .. }))?)
    })
    .await
}

fn refunded_view(refunded: &OrderEvent) -> Result<Reply, ApiError> {
    let OrderEvent::OrderRefunded { order_id, amount, credit_note_id, status_after: status, .. } = refunded else {
        return Err(ApiError::internal("a refund answered with another event"));
    };
    let view = RefundView { order_id: *order_id, status: status.as_str().to_owned(), refunded_amount: amount.to_string(), credit_note_id: *credit_note_id };
    Ok(Reply::ok(view).message(&ORDER_REFUNDED))
}

// ---- what users own and sold ----

#[derive(Debug, Serialize, JsonSchema)]
pub struct OwnedView {
    #[schemars(extend("enum" = ["course", "book", "live_room"]))]
    pub item_type: String,
    pub item_id: Uuid,
    pub title: String,
    pub order_id: Uuid,
    pub order_item_id: Uuid,
    pub acquired_at: DateTime<Utc>,
}

pub async fn enrollments(state: web::Data<AppState>, user: AuthUser, query: web::Query<PageQuery>) -> Result<Reply, ApiError> {
    owned(&state, &user, ItemType::Course, &query).await
}

pub async fn my_books(state: web::Data<AppState>, user: AuthUser, query: web::Query<PageQuery>) -> Result<Reply, ApiError> {
    owned(&state, &user, ItemType::Book, &query).await
}

async fn owned(state: &AppState, user: &AuthUser, item_type: ItemType, query: &PageQuery) -> Result<Reply, ApiError> {
    let (page, per_page) = query.resolve()?;
    let (total, items) = state.queries.commerce.library(user.user_id, item_type.as_str(), page, per_page).await?;
    let views: Vec<OwnedView> = items
        .into_iter()
        .map(|item| OwnedView {
            item_type: item.item_type,
            item_id: item.item_id,
            title: item.title,
            order_id: item.order_id,
            order_item_id: item.order_item_id,
            acquired_at: item.acquired_at,
        })
        .collect();
    Ok(Reply::ok(views).pagination(Pagination::new(page, per_page, total)))
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct SalesQuery {
    /// Inclusive: an RFC 3339 date-time, or a date (00:00 Asia/Riyadh).
    #[schemars(example = &"2026-11-01")]
    pub from: Option<String>,
    /// Exclusive, in the same forms.
    #[schemars(example = &"2026-12-01")]
    pub to: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ItemSalesView {
    pub item_type: String,
    pub item_id: Uuid,
    pub title: String,
    pub sales_count: u64,
    pub net_earnings: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct SalesView {
    pub orders_count: u64,
    /// VAT included.
    pub gross: String,
    pub vat: String,
    pub commission: String,
    /// What the speaker earns: gross less VAT less commission.
    pub net_earnings: String,
    /// The wallet's pending balance now.
    pub pending: String,
    /// The wallet's available balance now.
    pub available: String,
    pub by_item: Vec<ItemSalesView>,
}

pub async fn sales(state: web::Data<AppState>, user: AuthUser, query: web::Query<SalesQuery>) -> Result<Reply, ApiError> {
    user.require(Role::Speaker)?;
    let mut fields = Fields::default();
    let from = fields.optional("from", query.from.as_deref().map(parse_instant)).flatten();
    let to = fields.optional("to", query.to.as_deref().map(parse_instant)).flatten();
    fields.done()?;
    let sales = state.queries.commerce.sales(user.user_id, from, to).await?;
    let balance = state.queries.wallet.balance(user.user_id).await?;
    Ok(Reply::ok(SalesView {
        orders_count: sales.orders_count,
        gross: sar(sales.gross),
        vat: sar(sales.vat),
        commission: sar(sales.commission),
        net_earnings: sar(sales.net_earnings),
        pending: sar(balance.pending_balance),
        available: sar(balance.balance),
        by_item: sales
            .by_item
            .into_iter()
            .map(|item| ItemSalesView {
                item_type: item.item_type,
                item_id: item.item_id,
                title: item.title,
                sales_count: item.sales_count,
                net_earnings: sar(item.net_earnings),
            })
            .collect(),
    }))
}
