//! A user's cart: the items they mean to buy. Prices are not kept here: a checkout reads them
//! when it happens.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{CommerceError, ItemRef};
use crate::kernel::{Aggregate, DomainEvent, EventType};

/// Stream type of carts; the stream id is the user id.
pub const STREAM_TYPE: &str = "cart";
/// A cart holds at most this many items.
pub const CART_ITEMS_MAX: usize = 50;

#[derive(Clone, Debug, PartialEq)]
pub enum CartCommand {
    /// Whether the user may buy the item is checked by the command layer, which sees the item
    /// and the user's library.
    Add { user_id: Uuid, cart_item_id: Uuid, item: ItemRef, added_at: DateTime<Utc> },
    Remove { cart_item_id: Uuid },
    /// Checks out the listed cart items, or the whole cart (`None`).
    CheckOut { order_id: Uuid, cart_item_ids: Option<Vec<Uuid>> },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum CartEvent {
    CartItemAdded {
        user_id: Uuid,
        cart_item_id: Uuid,
        #[serde(flatten)]
        item: ItemRef,
        added_at: DateTime<Utc>,
    },
    CartItemRemoved {
        user_id: Uuid,
        cart_item_id: Uuid,
    },
    /// The cart's items became an order: the cart is empty.
    CartCheckedOut {
        user_id: Uuid,
        order_id: Uuid,
        cart_item_ids: Vec<Uuid>,
    },
}

pub const CART_ITEM_ADDED: EventType = EventType::new("CartItemAdded", 1);
pub const CART_ITEM_REMOVED: EventType = EventType::new("CartItemRemoved", 1);
pub const CART_CHECKED_OUT: EventType = EventType::new("CartCheckedOut", 1);

impl DomainEvent for CartEvent {
    const TYPES: &'static [EventType] = &[CART_ITEM_ADDED, CART_ITEM_REMOVED, CART_CHECKED_OUT];
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CartItem {
    pub cart_item_id: Uuid,
    pub item: ItemRef,
    pub added_at: DateTime<Utc>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Cart {
    user_id: Option<Uuid>,
    items: Vec<CartItem>,
}

impl Cart {
    /// In the order they were added.
    pub fn items(&self) -> &[CartItem] {
        &self.items
    }

    /// The listed items, in cart order, or every item (`None`); an id not in the cart is unknown.
    pub fn chosen(&self, cart_item_ids: Option<&[Uuid]>) -> Result<Vec<CartItem>, CommerceError> {
        let Some(ids) = cart_item_ids else { return Ok(self.items.clone()) };
        if ids.iter().any(|id| !self.items.iter().any(|added| added.cart_item_id == *id)) {
            return Err(CommerceError::UnknownCartItem);
        }
        Ok(self.items.iter().filter(|added| ids.contains(&added.cart_item_id)).copied().collect())
    }
}

impl Aggregate for Cart {
    type Command = CartCommand;
    type Event = CartEvent;
    type Rejection = CommerceError;

    fn handle(&self, command: CartCommand) -> Result<Vec<CartEvent>, CommerceError> {
        let event = match command {
            CartCommand::Add { user_id, cart_item_id, item, added_at } => {
                if self.items.iter().any(|added| added.item == item) {
                    return Err(CommerceError::AlreadyInCart);
                }
                if self.items.len() >= CART_ITEMS_MAX {
                    return Err(CommerceError::CartFull);
                }
                CartEvent::CartItemAdded { user_id, cart_item_id, item, added_at }
            }
            CartCommand::Remove { cart_item_id } => {
                let user_id = self.user_id.ok_or(CommerceError::UnknownCartItem)?;
                if !self.items.iter().any(|added| added.cart_item_id == cart_item_id) {
                    return Err(CommerceError::UnknownCartItem);
                }
                CartEvent::CartItemRemoved { user_id, cart_item_id }
            }
            CartCommand::CheckOut { order_id, cart_item_ids } => {
                let chosen = self.chosen(cart_item_ids.as_deref())?;
                let user_id = self.user_id.filter(|_| !chosen.is_empty()).ok_or(CommerceError::CartEmpty)?;
                CartEvent::CartCheckedOut { user_id, order_id, cart_item_ids: chosen.iter().map(|added| added.cart_item_id).collect() }
            }
        };
        Ok(vec![event])
    }

    fn apply(&mut self, event: &CartEvent) {
        match event {
            CartEvent::CartItemAdded { user_id, cart_item_id, item, added_at } => {
                self.user_id = Some(*user_id);
                self.items.push(CartItem { cart_item_id: *cart_item_id, item: *item, added_at: *added_at });
            }
            CartEvent::CartItemRemoved { cart_item_id, .. } => self.items.retain(|added| added.cart_item_id != *cart_item_id),
            CartEvent::CartCheckedOut { cart_item_ids, .. } => self.items.retain(|added| !cart_item_ids.contains(&added.cart_item_id)),
        }
    }
}
