//! The commerce context: what students buy and what they then own. A cart per user (`cart`)
//! collects items; a checkout places an order (`order`), puts the items in the buyer's library
//! (`library`: enrollments and bought books), empties the cart, debits the buyer's wallet once per
//! item and credits each speaker's pending earning — all in one atomic append (the command layer
//! builds it). `pricing` splits the VAT-inclusive prices into net, VAT, commission and earning.
//! A refund reverses exactly the refunded lines and takes back what they gave.

pub mod cart;
pub mod library;
pub mod order;
pub mod pricing;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::kernel::{ContextEvents, DomainEvent, Rejection, RejectionKind, every};
use crate::wallet::{EarningCategory, PurchaseCategory};

/// The context's events, upcasters and rejections, for the kernel's registries.
pub const EVENTS: ContextEvents = ContextEvents {
    name: "commerce",
    tables: &[cart::CartEvent::TYPES, library::LibraryEvent::TYPES, order::OrderEvent::TYPES],
    upcasts: &[],
    rejections: every::<CommerceError>,
};

/// What can be bought.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemType {
    Course,
    Book,
    LiveRoom,
    /// A booked consultation session (the item id is the booking's): sold by its booking,
    /// never through a cart.
    Consultation,
    /// A gift sent to someone (the item id is the catalogue gift's), sold by sending it.
    Gift,
}

impl ItemType {
    /// What a cart takes.
    pub const IN_CARTS: [ItemType; 3] = [ItemType::Course, ItemType::Book, ItemType::LiveRoom];

    /// A cart's item type.
    pub fn parse(text: &str) -> Result<ItemType, CommerceError> {
        ItemType::IN_CARTS.into_iter().find(|kind| kind.as_str() == text).ok_or(CommerceError::InvalidItemType)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ItemType::Course => "course",
            ItemType::Book => "book",
            ItemType::LiveRoom => "live_room",
            ItemType::Consultation => "consultation",
            ItemType::Gift => "gift",
        }
    }

    /// How the buyer's wallet history names a purchase of this kind.
    pub fn purchase_category(self) -> PurchaseCategory {
        match self {
            ItemType::Course => PurchaseCategory::Course,
            ItemType::Book => PurchaseCategory::Book,
            ItemType::LiveRoom => PurchaseCategory::LiveRoom,
            ItemType::Consultation => PurchaseCategory::Consultation,
            ItemType::Gift => PurchaseCategory::Gift,
        }
    }

    /// How the seller's wallet history names what a sale of this kind earned.
    pub fn earning_category(self) -> EarningCategory {
        match self {
            ItemType::Gift => EarningCategory::Gift,
            _ => EarningCategory::Earning,
        }
    }
}

/// One thing that can be bought: its kind and its id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ItemRef {
    pub item_type: ItemType,
    pub item_id: Uuid,
}

/// Business rejections of commerce commands.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, strum::EnumIter)]
pub enum CommerceError {
    #[error("the item type must be course, book or live_room")]
    InvalidItemType,
    #[error("the item is already in the cart")]
    AlreadyInCart,
    #[error("no such item in the cart")]
    UnknownCartItem,
    #[error("the cart holds 50 items, its most")]
    CartFull,
    #[error("the cart is empty")]
    CartEmpty,
    #[error("you cannot buy your own item")]
    OwnItem,
    #[error("you already own this item")]
    AlreadyOwned,
    #[error("the item is not available")]
    NotAvailable,
    #[error("the item is not in the library")]
    NotOwned,
    #[error("no such order")]
    UnknownOrder,
    #[error("the order already exists")]
    OrderExists,
    #[error("an order needs at least one item")]
    NoItems,
    #[error("no such item in this order")]
    UnknownOrderItem,
    #[error("the item is already refunded")]
    AlreadyRefunded,
    #[error("the reason must be 1 to 500 characters without control characters")]
    InvalidReason,
}

impl Rejection for CommerceError {
    fn code(&self) -> &'static str {
        match self {
            CommerceError::InvalidItemType => "invalid_item_type",
            CommerceError::AlreadyInCart => "already_in_cart",
            CommerceError::UnknownCartItem => "not_found",
            CommerceError::CartFull => "cart_full",
            CommerceError::CartEmpty => "cart_empty",
            CommerceError::OwnItem => "own_item",
            CommerceError::AlreadyOwned => "already_owned",
            CommerceError::NotAvailable => "not_available",
            CommerceError::NotOwned => "not_owned",
            CommerceError::UnknownOrder => "unknown_order",
            CommerceError::OrderExists => "order_exists",
            CommerceError::NoItems => "no_items",
            CommerceError::UnknownOrderItem => "unknown_order_item",
            CommerceError::AlreadyRefunded => "already_refunded",
            CommerceError::InvalidReason => "invalid_reason",
        }
    }

    fn kind(&self) -> RejectionKind {
        match self {
            CommerceError::InvalidItemType
            | CommerceError::CartEmpty
            | CommerceError::NoItems
            | CommerceError::UnknownOrderItem
            | CommerceError::InvalidReason => RejectionKind::Invalid,
            CommerceError::UnknownCartItem | CommerceError::UnknownOrder => RejectionKind::NotFound,
            CommerceError::AlreadyInCart
            | CommerceError::CartFull
            | CommerceError::OwnItem
            | CommerceError::AlreadyOwned
            | CommerceError::NotAvailable
            | CommerceError::NotOwned
            | CommerceError::OrderExists
            | CommerceError::AlreadyRefunded => RejectionKind::Conflict,
        }
    }

    fn field(&self) -> Option<&'static str> {
        match self {
            CommerceError::InvalidItemType => Some("item_type"),
            CommerceError::UnknownOrderItem => Some("item_ids"),
            CommerceError::InvalidReason => Some("reason"),
            _ => None,
        }
    }
}
