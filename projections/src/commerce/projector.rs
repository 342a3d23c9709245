//! Commerce read models: what is in each cart, what each user owns, and orders with their lines.

use domain::commerce::cart::CartEvent;
use domain::commerce::library::LibraryEvent;
use domain::commerce::order::{OrderEvent, OrderStatus};
use domain::kernel::{DomainEvent, EventType};
use event_store::RecordedEvent;


use crate::ProjectionError;
use crate::runtime::{Prepared, Projector};
use crate::writes::{Value, Writes};

pub struct CommerceProjector;

impl CommerceProjector {
    pub const NAME: &'static str = "commerce";
}

const TABLES: &[&str] = &["cart_items", "library_items", "orders", "order_items"];

impl Projector for CommerceProjector {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn version(&self) -> u32 {
        1
    }

    fn tables(&self) -> &'static [&'static str] {
        TABLES
    }

    fn events(&self) -> &'static [&'static [EventType]] {
        &[CartEvent::TYPES, LibraryEvent::TYPES, OrderEvent::TYPES]
    }

    fn prepare(&self, events: &[RecordedEvent]) -> Result<Box<dyn Prepared>, ProjectionError> {
        let mut writes = Writes::new(TABLES);
        for event in events {
            if let Some(cart) = crate::decode::<CartEvent>(event)? {
                cart_writes(&mut writes, event, cart);
            } else if let Some(library) = crate::decode::<LibraryEvent>(event)? {
                match library {
                    LibraryEvent::ItemAcquired { user_id, item, order_id, order_item_id, acquired_at } => writes.insert(
                        "library_items",
                        &["user_id", "item_type", "item_id", "order_id", "order_item_id", "acquired_at", "position"],
                        vec![
                            user_id.into(),
                            item.item_type.as_str().into(),
                            item.item_id.into(),
                            order_id.into(),
                            order_item_id.into(),
                            acquired_at.into(),
                            event.position.into(),
                        ],
                    ),
                    LibraryEvent::ItemRevoked { user_id, item, .. } => writes.execute(
                        "DELETE FROM {library_items} WHERE user_id = ? AND item_type = ? AND item_id = ?",
                        vec![user_id.into(), item.item_type.as_str().into(), item.item_id.into()],
                    ),
                }
            } else if let Some(order) = crate::decode::<OrderEvent>(event)? {
                order_writes(&mut writes, event, order);
            }
        }
        Ok(Box::new(writes))
    }
}

fn cart_writes(writes: &mut Writes, event: &RecordedEvent, cart: CartEvent) {
    match cart {
        CartEvent::CartItemAdded { user_id, cart_item_id, item, added_at } => writes.insert(
            "cart_items",
            &["id", "user_id", "item_type", "item_id", "added_at", "position"],
            vec![cart_item_id.into(), user_id.into(), item.item_type.as_str().into(), item.item_id.into(), added_at.into(), event.position.into()],
        ),
        CartEvent::CartItemRemoved { user_id, cart_item_id } => {
            writes.execute("DELETE FROM {cart_items} WHERE user_id = ? AND id = ?", vec![user_id.into(), cart_item_id.into()])
        }
        CartEvent::CartCheckedOut { user_id, cart_item_ids, .. } => {
            let sql = format!("DELETE FROM {{cart_items}} WHERE user_id = ? AND id IN ({})", placeholders(cart_item_ids.len()));
            writes.execute(sql, std::iter::once(user_id.into()).chain(cart_item_ids.into_iter().map(Value::from)).collect());
        }
    }
}

fn order_writes(writes: &mut Writes, event: &RecordedEvent, order: OrderEvent) {
    match order {
        OrderEvent::OrderPlaced { order_id, buyer_id, lines, totals, commission_rate, invoice_id, placed_at } => {
            writes.insert(
                "orders",
                &["id", "buyer_id", "subtotal", "vat_amount", "total", "status", "invoice_id", "commission_rate", "placed_at", "position"],
                vec![
                    order_id.into(),
                    buyer_id.into(),
                    totals.subtotal.into(),
                    totals.vat_amount.into(),
                    totals.total.into(),
                    OrderStatus::Paid.as_str().into(),
                    invoice_id.into(),
                    rust_decimal::Decimal::from(commission_rate).into(),
                    placed_at.into(),
                    event.position.into(),
                ],
            );
            for (index, line) in lines.into_iter().enumerate() {
                writes.insert(
                    "order_items",
                    &[
                        "id", "order_id", "line", "item_type", "item_id", "title", "speaker_id", "unit_price", "quantity", "net", "vat", "commission",
                        "earning", "placed_at",
                    ],
                    vec![
                        line.order_item_id.into(),
                        order_id.into(),
                        (index as u64).into(),
                        line.item.item_type.as_str().into(),
                        line.item.item_id.into(),
                        line.title.as_str().into(),
                        line.speaker_id.into(),
                        line.split.unit_price.into(),
                        line.quantity.into(),
                        line.split.net.into(),
                        line.split.vat.into(),
                        line.split.commission.into(),
                        line.split.earning.into(),
                        placed_at.into(),
                    ],
                );
            }
        }
        OrderEvent::OrderRefunded { order_id, order_item_ids, amount, status_after, refunded_at, .. } => {
            let sql = format!("UPDATE {{order_items}} SET refunded_at = ? WHERE order_id = ? AND id IN ({})", placeholders(order_item_ids.len()));
            let values = [refunded_at.into(), order_id.into()].into_iter().chain(order_item_ids.iter().copied().map(Value::from)).collect();
            writes.execute(sql, values);
            writes.execute(
                "UPDATE {orders} SET refunded_amount = refunded_amount + ?, status = ? WHERE id = ?",
                vec![amount.into(), status_after.as_str().into(), order_id.into()],
            );
        }
    }
}

/// `?, ?, ?` for `count` values (at least one, so an empty list matches nothing).
fn placeholders(count: usize) -> String {
    if count == 0 { "NULL".to_owned() } else { vec!["?"; count].join(", ") }
}

