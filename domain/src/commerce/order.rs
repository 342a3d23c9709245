//! Orders: what a checkout sold, line by line, at the prices and with the VAT, commission and
//! earnings of that moment. An order is placed once and refunded line by line, at most once each.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::pricing::{self, CommissionRate, LineSplit, Totals};
use super::{CommerceError, ItemRef};
use crate::catalogue::{Title, line};
use crate::kernel::{Aggregate, DomainEvent, EventType};
use crate::money::Money;

/// Stream type of orders; the stream id is the order id.
pub const STREAM_TYPE: &str = "order";
pub const REFUND_REASON_LEN_MAX: usize = 500;

/// Why an admin refunded: one line of 1 to 500 characters.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RefundReason(String);

impl RefundReason {
    pub fn parse(text: &str) -> Result<RefundReason, CommerceError> {
        line(text, REFUND_REASON_LEN_MAX).map(RefundReason).ok_or(CommerceError::InvalidReason)
    }
}

crate::text_value!(RefundReason, CommerceError, |_| CommerceError::InvalidReason);

/// One item a checkout sells, at the price it reads at that moment, `quantity` times (gifts are
/// sent several at once; everything else sells one).
#[derive(Clone, Debug, PartialEq)]
pub struct Sale {
    pub order_item_id: Uuid,
    pub item: ItemRef,
    pub title: Title,
    pub speaker_id: Uuid,
    pub unit_price: Money,
    pub quantity: u32,
}

impl Sale {
    /// One of an item.
    pub fn one(order_item_id: Uuid, item: ItemRef, title: Title, speaker_id: Uuid, unit_price: Money) -> Sale {
        Sale { order_item_id, item, title, speaker_id, unit_price, quantity: 1 }
    }
}

/// A line of a placed order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OrderLine {
    pub order_item_id: Uuid,
    #[serde(flatten)]
    pub item: ItemRef,
    pub title: Title,
    pub speaker_id: Uuid,
    pub quantity: u32,
    #[serde(flatten)]
    pub split: LineSplit,
}

impl OrderLine {
    /// What the line costs, VAT included: its unit price times its quantity (checked when placed).
    pub fn total(&self) -> Money {
        self.split.unit_price.times(self.quantity).unwrap_or(Money::MAX)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum OrderCommand {
    /// `invoice_id` names the invoice the order gets if anything is paid.
    Place { order_id: Uuid, buyer_id: Uuid, sales: Vec<Sale>, commission_rate: CommissionRate, invoice_id: Uuid, placed_at: DateTime<Utc> },
    /// The listed lines, or every line not refunded yet. `credit_note_id` names the credit note
    /// if anything is paid back.
    Refund { order_item_ids: Option<Vec<Uuid>>, reason: RefundReason, credit_note_id: Uuid, refunded_at: DateTime<Utc> },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum OrderEvent {
    OrderPlaced {
        order_id: Uuid,
        buyer_id: Uuid,
        lines: Vec<OrderLine>,
        #[serde(flatten)]
        totals: Totals,
        commission_rate: CommissionRate,
        /// None when nothing was paid: a free order has no invoice.
        invoice_id: Option<Uuid>,
        placed_at: DateTime<Utc>,
    },
    OrderRefunded {
        order_id: Uuid,
        buyer_id: Uuid,
        order_item_ids: Vec<Uuid>,
        /// What goes back to the buyer, VAT included; `vat` and `net` are its parts.
        amount: Money,
        vat: Money,
        net: Money,
        reason: RefundReason,
        /// None when nothing was paid back.
        credit_note_id: Option<Uuid>,
        /// The order's status once refunded so: `refunded` or `partially_refunded`.
        status_after: OrderStatus,
        refunded_at: DateTime<Utc>,
    },
}

pub const ORDER_PLACED: EventType = EventType::new("OrderPlaced", 1);
pub const ORDER_REFUNDED: EventType = EventType::new("OrderRefunded", 1);

impl DomainEvent for OrderEvent {
    const TYPES: &'static [EventType] = &[ORDER_PLACED, ORDER_REFUNDED];
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    Paid,
    PartiallyRefunded,
    Refunded,
}

impl OrderStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Paid => "paid",
            OrderStatus::PartiallyRefunded => "partially_refunded",
            OrderStatus::Refunded => "refunded",
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Order {
    id: Option<Uuid>,
    buyer_id: Uuid,
    lines: Vec<OrderLine>,
    refunded: BTreeSet<Uuid>,
}

impl Order {
    pub fn id(&self) -> Option<Uuid> {
        self.id
    }

    pub fn buyer_id(&self) -> Uuid {
        self.buyer_id
    }

    pub fn lines(&self) -> &[OrderLine] {
        &self.lines
    }

    pub fn is_refunded(&self, order_item_id: Uuid) -> bool {
        self.refunded.contains(&order_item_id)
    }

    pub fn status(&self) -> OrderStatus {
        match self.refunded.len() {
            0 => OrderStatus::Paid,
            refunded if refunded == self.lines.len() => OrderStatus::Refunded,
            _ => OrderStatus::PartiallyRefunded,
        }
    }

    /// The lines a refund takes: the listed ones (each once), or all not refunded yet.
    fn refundable(&self, order_item_ids: Option<Vec<Uuid>>) -> Result<Vec<&OrderLine>, CommerceError> {
        let lines: Vec<&OrderLine> = match order_item_ids {
            None => self.lines.iter().filter(|line| !self.is_refunded(line.order_item_id)).collect(),
            Some(ids) => {
                let ids: BTreeSet<Uuid> = ids.into_iter().collect();
                if ids.is_empty() || ids.iter().any(|id| !self.lines.iter().any(|line| line.order_item_id == *id)) {
                    return Err(CommerceError::UnknownOrderItem);
                }
                self.lines.iter().filter(|line| ids.contains(&line.order_item_id)).collect()
            }
        };
        if lines.is_empty() || lines.iter().any(|line| self.is_refunded(line.order_item_id)) {
            return Err(CommerceError::AlreadyRefunded);
        }
        Ok(lines)
    }
}

impl Aggregate for Order {
    type Command = OrderCommand;
    type Event = OrderEvent;
    type Rejection = CommerceError;

    fn handle(&self, command: OrderCommand) -> Result<Vec<OrderEvent>, CommerceError> {
        let event = match command {
            OrderCommand::Place { .. } if self.id.is_some() => return Err(CommerceError::OrderExists),
            OrderCommand::Place { order_id, buyer_id, sales, commission_rate, invoice_id, placed_at } => {
                if sales.is_empty() {
                    return Err(CommerceError::NoItems);
                }
                if sales.iter().any(|sale| sale.quantity == 0) {
                    return Err(CommerceError::NoItems);
                }
                let prices: Option<Vec<Money>> = sales.iter().map(|sale| sale.unit_price.times(sale.quantity)).collect();
                let (splits, totals) = prices.and_then(|prices| pricing::split(&prices, commission_rate)).ok_or(CommerceError::NotAvailable)?;
                let lines = sales
                    .into_iter()
                    .zip(splits)
                    .map(|(sale, split)| OrderLine {
                        order_item_id: sale.order_item_id,
                        item: sale.item,
                        title: sale.title,
                        speaker_id: sale.speaker_id,
                        quantity: sale.quantity,
                        // The split is of the whole line; the line shows the price of one.
                        split: LineSplit { unit_price: sale.unit_price, ..split },
                    })
                    .collect();
                let invoice_id = (!totals.total.is_zero()).then_some(invoice_id);
                OrderEvent::OrderPlaced { order_id, buyer_id, lines, totals, commission_rate, invoice_id, placed_at }
            }
            OrderCommand::Refund { order_item_ids, reason, credit_note_id, refunded_at } => {
                let order_id = self.id.ok_or(CommerceError::UnknownOrder)?;
                let lines = self.refundable(order_item_ids)?;
                let sum = |part: fn(&OrderLine) -> Money| lines.iter().try_fold(Money::ZERO, |sum, line| sum.checked_add(part(line)));
                let (Some(amount), Some(vat), Some(net)) = (sum(OrderLine::total), sum(|l| l.split.vat), sum(|l| l.split.net)) else {
                    return Err(CommerceError::NotAvailable);
                };
                OrderEvent::OrderRefunded {
                    order_id,
                    buyer_id: self.buyer_id,
                    order_item_ids: lines.iter().map(|line| line.order_item_id).collect(),
                    amount,
                    vat,
                    net,
                    reason,
                    credit_note_id: (!amount.is_zero()).then_some(credit_note_id),
                    status_after: if self.refunded.len() + lines.len() == self.lines.len() {
                        OrderStatus::Refunded
                    } else {
                        OrderStatus::PartiallyRefunded
                    },
                    refunded_at,
                }
            }
        };
        Ok(vec![event])
    }

    fn apply(&mut self, event: &OrderEvent) {
        match event {
            OrderEvent::OrderPlaced { order_id, buyer_id, lines, .. } => {
                self.id = Some(*order_id);
                self.buyer_id = *buyer_id;
                self.lines = lines.clone();
            }
            OrderEvent::OrderRefunded { order_item_ids, .. } => self.refunded.extend(order_item_ids.iter().copied()),
        }
    }
}
