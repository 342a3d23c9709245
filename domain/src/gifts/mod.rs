//! The gifts context: an admin-managed catalogue of gifts (`Gift`), and gifts sent from one user
//! to another (`GiftTransfer`). Sending is a sale: the command layer places its order in the same
//! append, so the sender's wallet pays the VAT-inclusive price times the quantity, the receiver
//! earns the net less the commission (pending, category `gift`) and the sender gets an invoice.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::catalogue::{ContentUrl, Title};
use crate::kernel::{Aggregate, ContextEvents, DomainEvent, EventType, Personal, Rejection, RejectionKind, every};
use crate::money::Money;

/// The context's events, upcasters and rejections, for the kernel's registries.
pub const EVENTS: ContextEvents = ContextEvents {
    name: "gifts",
    tables: &[GiftEvent::TYPES, GiftTransferEvent::TYPES],
    upcasts: &[],
    rejections: every::<GiftError>,
};

/// Stream type of catalogue gifts; the stream id is the gift id.
pub const STREAM_TYPE: &str = "gift";
/// Stream type of sent gifts; the stream id is the gift transaction id.
pub const TRANSFER_STREAM_TYPE: &str = "gift_transfer";
pub const QUANTITY_MAX: u32 = 100;
pub const MESSAGE_LEN_MAX: usize = 500;
/// The dearest gift: 10,000.00 SAR.
pub const GIFT_PRICE_MAX: Money = Money::from_halalas_const(1_000_000);

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, strum::EnumIter)]
pub enum GiftError {
    #[error("the English name must be 1 to 200 characters on one line")]
    InvalidNameEn,
    #[error("the Arabic name must be 1 to 200 characters on one line")]
    InvalidNameAr,
    #[error("the icon must be an http or https URL")]
    InvalidIconUrl,
    #[error("the price must be 0.01 to 10,000.00 SAR")]
    InvalidPrice,
    #[error("the sort order must be a whole number from 0 to 1,000,000")]
    InvalidSortOrder,
    #[error("no such gift")]
    UnknownGift,
    #[error("the gift already exists")]
    GiftExists,
    #[error("the gift is not available")]
    GiftInactive,
    #[error("the quantity must be 1 to 100")]
    InvalidQuantity,
    #[error("you cannot send a gift to yourself")]
    OwnReceiver,
    #[error("the message must be 1 to 500 characters")]
    InvalidMessage,
    #[error("the context must be a post or a live_room with an id")]
    InvalidContext,
    #[error("the gift was already sent")]
    TransferExists,
}

impl Rejection for GiftError {
    fn code(&self) -> &'static str {
        match self {
            GiftError::InvalidNameEn => "invalid_name_en",
            GiftError::InvalidNameAr => "invalid_name_ar",
            GiftError::InvalidIconUrl => "invalid_icon_url",
            GiftError::InvalidPrice => "invalid_gift_price",
            GiftError::InvalidSortOrder => "invalid_sort_order",
            GiftError::UnknownGift => "not_found",
            GiftError::GiftExists | GiftError::TransferExists => "already_exists",
            GiftError::GiftInactive => "gift_inactive",
            GiftError::InvalidQuantity => "invalid_quantity",
            GiftError::OwnReceiver => "own_receiver",
            GiftError::InvalidMessage => "invalid_message",
            GiftError::InvalidContext => "invalid_context",
        }
    }

    fn kind(&self) -> RejectionKind {
        match self {
            GiftError::UnknownGift => RejectionKind::NotFound,
            GiftError::GiftExists | GiftError::TransferExists | GiftError::GiftInactive => RejectionKind::Conflict,
            _ => RejectionKind::Invalid,
        }
    }

    fn field(&self) -> Option<&'static str> {
        match self {
            GiftError::InvalidNameEn => Some("name_en"),
            GiftError::InvalidNameAr => Some("name_ar"),
            GiftError::InvalidIconUrl => Some("icon_url"),
            GiftError::InvalidPrice => Some("price"),
            GiftError::InvalidSortOrder => Some("sort_order"),
            GiftError::InvalidQuantity => Some("quantity"),
            GiftError::OwnReceiver => Some("receiver_id"),
            GiftError::InvalidMessage => Some("message"),
            GiftError::InvalidContext => Some("context"),
            _ => None,
        }
    }
}

/// A gift as the catalogue lists it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GiftDetails {
    pub name_en: Title,
    pub name_ar: Title,
    pub icon_url: ContentUrl,
    /// VAT included, per gift.
    pub price: Money,
    pub sort_order: u32,
}

/// The parts of a catalogue entry as requests give them, each checked.
pub fn name_en(text: &str) -> Result<Title, GiftError> {
    Title::parse(text).map_err(|_| GiftError::InvalidNameEn)
}

pub fn name_ar(text: &str) -> Result<Title, GiftError> {
    Title::parse(text).map_err(|_| GiftError::InvalidNameAr)
}

pub fn icon_url(text: &str) -> Result<ContentUrl, GiftError> {
    ContentUrl::parse(text).map_err(|_| GiftError::InvalidIconUrl)
}

pub fn price(text: &str) -> Result<Money, GiftError> {
    Money::parse(text).ok().filter(|price| !price.is_zero() && *price <= GIFT_PRICE_MAX).ok_or(GiftError::InvalidPrice)
}

pub fn sort_order(value: i64) -> Result<u32, GiftError> {
    u32::try_from(value).ok().filter(|order| *order <= 1_000_000).ok_or(GiftError::InvalidSortOrder)
}

/// A change to a catalogue gift: `None` leaves a field as it is.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GiftChange {
    pub name_en: Option<Title>,
    pub name_ar: Option<Title>,
    pub icon_url: Option<ContentUrl>,
    pub price: Option<Money>,
    pub sort_order: Option<u32>,
    pub is_active: Option<bool>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum GiftCommand {
    Create { gift_id: Uuid, details: GiftDetails },
    Change { change: GiftChange },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum GiftEvent {
    GiftCreated { gift_id: Uuid, details: GiftDetails },
    /// The whole entry as it is now.
    GiftChanged { gift_id: Uuid, details: GiftDetails, is_active: bool },
}

pub const GIFT_CREATED: EventType = EventType::new("GiftCreated", 1);
pub const GIFT_CHANGED: EventType = EventType::new("GiftChanged", 1);

impl DomainEvent for GiftEvent {
    const TYPES: &'static [EventType] = &[GIFT_CREATED, GIFT_CHANGED];
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Gift {
    id: Option<Uuid>,
    details: Option<GiftDetails>,
    is_active: bool,
}

impl Gift {
    pub fn id(&self) -> Option<Uuid> {
        self.id
    }

    pub fn details(&self) -> Option<&GiftDetails> {
        self.details.as_ref()
    }

    pub fn is_active(&self) -> bool {
        self.is_active
    }

    /// What sending it now costs per gift, or why it cannot be sent.
    pub fn sendable(&self) -> Result<&GiftDetails, GiftError> {
        let details = self.details.as_ref().ok_or(GiftError::UnknownGift)?;
        if !self.is_active {
            return Err(GiftError::GiftInactive);
        }
        Ok(details)
    }
}

impl Aggregate for Gift {
    type Command = GiftCommand;
    type Event = GiftEvent;
    type Rejection = GiftError;

    fn handle(&self, command: GiftCommand) -> Result<Vec<GiftEvent>, GiftError> {
        match command {
            GiftCommand::Create { .. } if self.id.is_some() => Err(GiftError::GiftExists),
            GiftCommand::Create { gift_id, details } => Ok(vec![GiftEvent::GiftCreated { gift_id, details }]),
            GiftCommand::Change { change } => {
                let (Some(gift_id), Some(current)) = (self.id, &self.details) else { return Err(GiftError::UnknownGift) };
                let details = GiftDetails {
                    name_en: change.name_en.unwrap_or_else(|| current.name_en.clone()),
                    name_ar: change.name_ar.unwrap_or_else(|| current.name_ar.clone()),
                    icon_url: change.icon_url.unwrap_or_else(|| current.icon_url.clone()),
                    price: change.price.unwrap_or(current.price),
                    sort_order: change.sort_order.unwrap_or(current.sort_order),
                };
                let is_active = change.is_active.unwrap_or(self.is_active);
                if details == *current && is_active == self.is_active {
                    return Ok(vec![]);
                }
                Ok(vec![GiftEvent::GiftChanged { gift_id, details, is_active }])
            }
        }
    }

    fn apply(&mut self, event: &GiftEvent) {
        match event {
            GiftEvent::GiftCreated { gift_id, details } => {
                *self = Gift { id: Some(*gift_id), details: Some(details.clone()), is_active: true };
            }
            GiftEvent::GiftChanged { details, is_active, .. } => {
                self.details = Some(details.clone());
                self.is_active = *is_active;
            }
        }
    }
}

/// Where a gift was sent from: under a post or in a live room.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GiftContext {
    #[serde(rename = "type")]
    pub kind: GiftContextKind,
    pub id: Uuid,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GiftContextKind {
    Post,
    LiveRoom,
}

impl GiftContextKind {
    pub fn as_str(self) -> &'static str {
        match self {
            GiftContextKind::Post => "post",
            GiftContextKind::LiveRoom => "live_room",
        }
    }

    pub fn parse(text: &str) -> Result<GiftContextKind, GiftError> {
        match text {
            "post" => Ok(GiftContextKind::Post),
            "live_room" => Ok(GiftContextKind::LiveRoom),
            _ => Err(GiftError::InvalidContext),
        }
    }
}

/// A note with a gift: 1 to 500 characters.
pub fn message(text: &str) -> Result<String, GiftError> {
    crate::social::text(text, MESSAGE_LEN_MAX).ok_or(GiftError::InvalidMessage)
}

#[derive(Clone, Debug, PartialEq)]
pub enum GiftTransferCommand {
    /// `gift` is the catalogue entry as the store has it now; `order_id` names the sale.
    Send {
        transfer_id: Uuid,
        gift_id: Uuid,
        gift: Gift,
        sender_id: Uuid,
        receiver_id: Uuid,
        quantity: u32,
        message: Option<String>,
        context: Option<GiftContext>,
        order_id: Uuid,
        now: DateTime<Utc>,
    },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum GiftTransferEvent {
    GiftSent {
        transfer_id: Uuid,
        gift_id: Uuid,
        sender_id: Uuid,
        receiver_id: Uuid,
        quantity: u32,
        unit_price: Money,
        total: Money,
        message: Option<Personal<String>>,
        context: Option<GiftContext>,
        order_id: Uuid,
        sent_at: DateTime<Utc>,
    },
}

pub const GIFT_SENT: EventType = EventType::new("GiftSent", 1);

impl DomainEvent for GiftTransferEvent {
    const TYPES: &'static [EventType] = &[GIFT_SENT];

    fn data_subject(&self) -> Option<Uuid> {
        let GiftTransferEvent::GiftSent { sender_id, message, .. } = self;
        message.as_ref().map(|_| *sender_id)
    }
}

/// A gift sent: once.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GiftTransfer {
    sent: Option<GiftTransferEvent>,
}

impl GiftTransfer {
    pub fn sent(&self) -> Option<&GiftTransferEvent> {
        self.sent.as_ref()
    }
}

impl Aggregate for GiftTransfer {
    type Command = GiftTransferCommand;
    type Event = GiftTransferEvent;
    type Rejection = GiftError;

    fn handle(&self, command: GiftTransferCommand) -> Result<Vec<GiftTransferEvent>, GiftError> {
        let GiftTransferCommand::Send { transfer_id, gift_id, gift, sender_id, receiver_id, quantity, message, context, order_id, now } = command;
        if self.sent.is_some() {
            return Err(GiftError::TransferExists);
        }
        if !(1..=QUANTITY_MAX).contains(&quantity) {
            return Err(GiftError::InvalidQuantity);
        }
        if sender_id == receiver_id {
            return Err(GiftError::OwnReceiver);
        }
        let unit_price = gift.sendable()?.price;
        let total = unit_price.times(quantity).ok_or(GiftError::InvalidQuantity)?;
        Ok(vec![GiftTransferEvent::GiftSent {
            transfer_id,
            gift_id,
            sender_id,
            receiver_id,
            quantity,
            unit_price,
            total,
            message: message.map(Personal::from),
            context,
            order_id,
            sent_at: now,
        }])
    }

    fn apply(&mut self, event: &GiftTransferEvent) {
        self.sent = Some(event.clone());
    }
}
