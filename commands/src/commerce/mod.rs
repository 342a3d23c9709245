//! The commerce context's commands: the cart, the checkout and refunds. A checkout is one unit
//! of work and one atomic append over the order, the buyer's library and cart, the buyer's wallet
//! (a debit per paid line) and each speaker's wallet (a pending earning per line); a refund
//! reverses exactly the lines it names, in the same way.

use chrono::{DateTime, Duration, Utc};
use domain::catalogue::{CatalogueError, ListingStatus, Title};
use domain::commerce::cart::{self, Cart, CartCommand};
use domain::commerce::library::{self, Library, LibraryCommand};
use domain::commerce::order::{self, Order, OrderCommand, OrderEvent, RefundReason, Sale};
use domain::commerce::pricing::CommissionRate;
use domain::commerce::{CommerceError, ItemRef, ItemType};
use domain::money::Money;
use domain::rooms::RoomsError;
use domain::rooms::room::PaidBy;
use domain::wallet::WalletCommand;
use uuid::Uuid;

use crate::catalogue::{book_stream, course_stream};
use crate::kernel::{Kernel, Transacted, UnitOfWork};
use crate::rooms;
use crate::stream::{Loaded, Stream};
use crate::{CommandContext, CommandError};

pub fn cart_stream(user_id: Uuid) -> Stream<Cart> {
    Stream::new(cart::STREAM_TYPE, user_id.to_string())
}

pub fn library_stream(user_id: Uuid) -> Stream<Library> {
    Stream::new(library::STREAM_TYPE, user_id.to_string())
}

pub fn order_stream(order_id: Uuid) -> Stream<Order> {
    Stream::new(order::STREAM_TYPE, order_id.to_string())
}

/// How sales pay their speakers.
#[derive(Clone, Copy, Debug)]
pub struct CommerceSettings {
    /// The platform's share of each sale's net (`COMMISSION_RATE`).
    pub commission_rate: CommissionRate,
    /// How long an earning stays pending (`EARNINGS_RELEASE_DAYS`).
    pub earnings_release: Duration,
}

impl Default for CommerceSettings {
    fn default() -> Self {
        Self { commission_rate: CommissionRate::DEFAULT, earnings_release: Duration::days(7) }
    }
}

/// The context's command handler. Cheap to clone.
#[derive(Clone)]
pub struct Commerce {
    kernel: Kernel,
    settings: CommerceSettings,
}

/// An item just put in a cart, as the store had it then.
#[derive(Clone, Debug)]
pub struct CartLine {
    pub cart_item_id: Uuid,
    pub item: ItemRef,
    pub title: Title,
    pub price: Money,
}

/// An item as a checkout sees it: what it is called, whose it is, and its price now.
struct Listing {
    title: Title,
    speaker_id: Uuid,
    price: Money,
    status: ListingStatus,
}

impl Commerce {
    pub fn new(kernel: Kernel, settings: CommerceSettings) -> Self {
        Self { kernel, settings }
    }

    pub fn kernel(&self) -> &Kernel {
        &self.kernel
    }

    /// Puts an item in the user's cart, if they may buy it: the cart line, at today's price.
    pub async fn add_to_cart(&self, user_id: Uuid, item: ItemRef, context: &CommandContext) -> Result<Transacted<CartLine>, CommandError> {
        let cart_item_id = Uuid::now_v7();
        let stream = &cart_stream(user_id);
        let now = self.kernel.now();
        self.kernel
            .transact_in_turn(stream, context, |unit| async move {
                let listing = listing(&unit, item, user_id, now).await?;
                let library = unit.load(&library_stream(user_id)).await?;
                buyable(&listing, user_id, item, &library.state)?;
                let mut cart = unit.load(stream).await?;
                unit.decide(stream, &mut cart, CartCommand::Add { user_id, cart_item_id, item, added_at: now })?;
                Ok(CartLine { cart_item_id, item, title: listing.title, price: listing.price })
            })
            .await
    }

    pub async fn remove_from_cart(&self, user_id: Uuid, cart_item_id: Uuid, context: &CommandContext) -> Result<Transacted<Loaded<Cart>>, CommandError> {
        self.kernel.execute(&cart_stream(user_id), CartCommand::Remove { cart_item_id }, context).await
    }

    /// A user's cart as the store has it now.
    pub async fn cart(&self, user_id: Uuid) -> Result<Cart, CommandError> {
        Ok(self.kernel.read(&cart_stream(user_id)).await?.state)
    }

    /// Buys the listed cart items, or the whole cart (`None`), from the user's wallet at today's
    /// prices: one append, or nothing when any item may no longer be bought or the wallet cannot
    /// pay. Answers the `OrderPlaced` event.
    #[tracing::instrument(skip_all, fields(%buyer))]
    pub async fn checkout(
        &self,
        buyer: Uuid,
        cart_item_ids: Option<Vec<Uuid>>,
        context: &CommandContext,
    ) -> Result<Transacted<OrderEvent>, CommandError> {
        let order_id = Uuid::now_v7();
        let cart_item_ids = &cart_item_ids;
        let now = self.kernel.now();
        self.kernel
            .transact_in_turn(&cart_stream(buyer), context, |unit| async move {
                let cart_stream = &cart_stream(buyer);
                let library_stream = &library_stream(buyer);
                let mut cart = unit.load(cart_stream).await?;
                let mut library = unit.load(library_stream).await?;
                let chosen = cart.state.chosen(cart_item_ids.as_deref()).map_err(CommandError::rejected)?;
                let mut sales = Vec::with_capacity(chosen.len());
                for added in &chosen {
                    let listing = listing(&unit, added.item, buyer, now).await?;
                    buyable(&listing, buyer, added.item, &library.state)?;
                    sales.push(Sale::one(Uuid::now_v7(), added.item, listing.title, listing.speaker_id, listing.price));
                }
                unit.decide(cart_stream, &mut cart, CartCommand::CheckOut { order_id, cart_item_ids: cart_item_ids.clone() })?;
                let (order, placed) = self.sell(&unit, order_id, buyer, sales, now).await?;
                for line in order.state.lines() {
                    let paid_by = PaidBy { order_id, order_item_id: line.order_item_id };
                    match line.item.item_type {
                        ItemType::Course | ItemType::Book => {
                            let acquire = LibraryCommand::Acquire { user_id: buyer, item: line.item, order_id, order_item_id: line.order_item_id, acquired_at: now };
                            unit.decide(library_stream, &mut library, acquire)?;
                        }
                        ItemType::LiveRoom => {
                            rooms::take_seat(&unit, line.item.item_id, buyer, Some(paid_by), now).await?;
                        }
                        ItemType::Consultation | ItemType::Gift => return Err(CommandError::Internal("a consultation or gift in a cart".into())),
                    }
                }
                Ok(placed)
            })
            .await
    }

    /// Places an order for `sales` in the unit: the buyer's wallet pays each paid line and each
    /// speaker earns (pending) — the money side of every sale, whatever delivers it.
    pub(crate) async fn sell(&self, unit: &UnitOfWork, order_id: Uuid, buyer: Uuid, sales: Vec<Sale>, now: DateTime<Utc>) -> Result<(Loaded<Order>, OrderEvent), CommandError> {
        let order_stream = &order_stream(order_id);
        let mut order = unit.create(order_stream).await?;
        let place = OrderCommand::Place { order_id, buyer_id: buyer, sales, commission_rate: self.settings.commission_rate, invoice_id: Uuid::now_v7(), placed_at: now };
        let placed = unit.decide(order_stream, &mut order, place)?.remove(0);
        let release_at = now + self.settings.earnings_release;
        for line in order.state.lines() {
            let (split, kind) = (line.split, line.item.item_type);
            if !split.unit_price.is_zero() {
                unit.wallet(buyer, WalletCommand::DebitForPurchase {
                    order_id,
                    order_item_id: line.order_item_id,
                    category: kind.purchase_category(),
                    gross: line.total(),
                    vat: split.vat,
                    description: line.title.to_string(),
                });
            }
            if !split.earning.is_zero() {
                let category = kind.earning_category();
                unit.wallet(line.speaker_id, WalletCommand::AddPendingEarnings {
                    earning_id: line.order_item_id,
                    order_id,
                    category,
                    amount: split.earning,
                    release_at,
                    description: format!("{}: {}", category.label(), line.title),
                });
            }
        }
        Ok((order, placed))
    }

    /// An admin's refund of some lines of an order, or of every line not refunded yet: the buyer
    /// is paid back, each speaker's earning reversed and what each line gave taken back (a course
    /// or book leaves the library, a room seat is freed, a session not held yet is cancelled), in
    /// one append.
    #[tracing::instrument(skip_all, fields(%order_id))]
    pub async fn refund(
        &self,
        order_id: Uuid,
        order_item_ids: Option<Vec<Uuid>>,
        reason: RefundReason,
        context: &CommandContext,
    ) -> Result<Transacted<(Loaded<Order>, OrderEvent)>, CommandError> {
        let (order_item_ids, reason) = (&order_item_ids, &reason);
        let now = self.kernel.now();
        self.kernel
            .transact(context, |unit| async move {
                let (order, refunded) = pay_back(&unit, order_id, order_item_ids.clone(), reason.clone(), now).await?;
                let OrderEvent::OrderRefunded { buyer_id, order_item_ids: refunded_lines, .. } = &refunded else {
                    return Err(CommandError::Internal("a refund decided something else".into()));
                };
                let library_stream = &library_stream(*buyer_id);
                let mut library = unit.load(library_stream).await?;
                for line in order.state.lines().iter().filter(|line| refunded_lines.contains(&line.order_item_id)) {
                    match line.item.item_type {
                        ItemType::Course | ItemType::Book => {
                            let revoke = LibraryCommand::Revoke { item: line.item, order_item_id: line.order_item_id, revoked_at: now };
                            unit.decide(library_stream, &mut library, revoke)?;
                        }
                        ItemType::LiveRoom => rooms::free_seat(&unit, line.item.item_id, line.order_item_id, now).await?,
                        ItemType::Consultation => rooms::call_off_session(&unit, line.item.item_id, now).await?,
                        // A gift was given when sent: the refund takes back the money only.
                        ItemType::Gift => {}
                    }
                }
                Ok((order, refunded))
            })
            .await
    }

    /// An order as the store has it now.
    pub async fn order(&self, order_id: Uuid) -> Result<Loaded<Order>, CommandError> {
        self.kernel.read(&order_stream(order_id)).await
    }
}

/// Pays back lines of an order in the unit: the buyer is credited, each speaker's earning
/// reversed, and a credit note named. What the lines gave is the caller's to take back.
pub(crate) async fn pay_back(
    unit: &UnitOfWork,
    order_id: Uuid,
    order_item_ids: Option<Vec<Uuid>>,
    reason: RefundReason,
    now: DateTime<Utc>,
) -> Result<(Loaded<Order>, OrderEvent), CommandError> {
    let stream = &order_stream(order_id);
    let mut order = unit.load(stream).await?;
    let command = OrderCommand::Refund { order_item_ids, reason, credit_note_id: Uuid::now_v7(), refunded_at: now };
    let refunded = unit.decide(stream, &mut order, command)?.remove(0);
    let OrderEvent::OrderRefunded { buyer_id, order_item_ids: refunded_lines, .. } = &refunded else {
        return Err(CommandError::Internal("a refund decided something else".into()));
    };
    for line in order.state.lines().iter().filter(|line| refunded_lines.contains(&line.order_item_id)) {
        if !line.split.unit_price.is_zero() {
            unit.wallet(*buyer_id, WalletCommand::RefundPurchase { order_item_id: line.order_item_id });
        }
        if !line.split.earning.is_zero() {
            unit.wallet(line.speaker_id, WalletCommand::ReverseEarning { earning_id: line.order_item_id });
        }
    }
    Ok((order, refunded))
}

/// The item's listing, read in the unit of work, for `buyer` now. Unknown items are not found;
/// a room is sold while a seat can be taken (its own refusals come first).
async fn listing(unit: &UnitOfWork, item: ItemRef, buyer: Uuid, now: DateTime<Utc>) -> Result<Listing, CommandError> {
    let not_found = || CommandError::rejected(CatalogueError::NotFound);
    match item.item_type {
        ItemType::Course => {
            let course = unit.load(&course_stream(item.item_id)).await?.state;
            let details = course.details().ok_or_else(not_found)?;
            Ok(Listing { title: details.title.clone(), speaker_id: course.speaker_id(), price: details.price.effective(), status: course.status() })
        }
        ItemType::Book => {
            let book = unit.load(&book_stream(item.item_id)).await?.state;
            let details = book.details().ok_or_else(not_found)?;
            Ok(Listing { title: details.title.clone(), speaker_id: book.speaker_id(), price: details.price.effective(), status: book.status() })
        }
        ItemType::LiveRoom => {
            let room = unit.load(&rooms::room_stream(item.item_id)).await?.state;
            let details = room.registrable(buyer, now).map_err(|refused| match refused {
                RoomsError::OwnItem => CommandError::rejected(CommerceError::OwnItem),
                RoomsError::AlreadyRegistered => CommandError::rejected(CommerceError::AlreadyOwned),
                refused => CommandError::rejected(refused),
            })?;
            Ok(Listing { title: details.title().clone(), speaker_id: room.host_id(), price: details.price(), status: ListingStatus::Published })
        }
        ItemType::Consultation | ItemType::Gift => Err(CommandError::rejected(CommerceError::InvalidItemType)),
    }
}

/// Whether `buyer` may buy the item now: a draft is not found (only its author sees it), an
/// archived one is no longer for sale, nobody buys their own, and nobody buys twice.
fn buyable(listing: &Listing, buyer: Uuid, item: ItemRef, library: &Library) -> Result<(), CommandError> {
    match listing.status {
        ListingStatus::Draft if listing.speaker_id != buyer => return Err(CommandError::rejected(CatalogueError::NotFound)),
        ListingStatus::Draft | ListingStatus::Archived => return Err(CommandError::rejected(CommerceError::NotAvailable)),
        ListingStatus::Published => {}
    }
    if listing.speaker_id == buyer {
        return Err(CommandError::rejected(CommerceError::OwnItem));
    }
    if library.owns(&item) {
        return Err(CommandError::rejected(CommerceError::AlreadyOwned));
    }
    Ok(())
}
