//! The gifts read models: the catalogue and the gifts sent.

use domain::gifts::{GiftEvent, GiftTransferEvent};
use domain::kernel::{DomainEvent, EventType};
use event_store::RecordedEvent;

use crate::ProjectionError;
use crate::runtime::{Prepared, Projector};
use crate::writes::Writes;

pub struct GiftsProjector;

impl GiftsProjector {
    pub const NAME: &'static str = "gifts";
}

const TABLES: &[&str] = &["gifts", "gift_transfers"];

impl Projector for GiftsProjector {
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
        &[GiftEvent::TYPES, GiftTransferEvent::TYPES]
    }

    fn prepare(&self, events: &[RecordedEvent]) -> Result<Box<dyn Prepared>, ProjectionError> {
        let mut writes = Writes::new(TABLES);
        for event in events {
            if let Some(gift) = crate::decode::<GiftEvent>(event)? {
                let (gift_id, details, is_active) = match gift {
                    GiftEvent::GiftCreated { gift_id, details } => (gift_id, details, true),
                    GiftEvent::GiftChanged { gift_id, details, is_active } => (gift_id, details, is_active),
                };
                writes.execute(
                    "INSERT INTO {gifts} (id, name_en, name_ar, icon_url, price, sort_order, is_active) VALUES (?, ?, ?, ?, ?, ?, ?) \
                     ON DUPLICATE KEY UPDATE name_en = VALUES(name_en), name_ar = VALUES(name_ar), icon_url = VALUES(icon_url), \
                     price = VALUES(price), sort_order = VALUES(sort_order), is_active = VALUES(is_active)",
                    vec![
                        gift_id.into(),
                        details.name_en.as_str().into(),
                        details.name_ar.as_str().into(),
                        details.icon_url.as_str().into(),
                        details.price.into(),
                        details.sort_order.into(),
                        is_active.into(),
                    ],
                );
            } else if let Some(GiftTransferEvent::GiftSent { transfer_id, gift_id, sender_id, receiver_id, quantity, unit_price, total, message, context, order_id, sent_at }) =
                crate::decode::<GiftTransferEvent>(event)?
            {
                writes.insert(
                    "gift_transfers",
                    &["id", "seq", "gift_id", "sender_id", "receiver_id", "quantity", "unit_price", "total", "message", "context_type", "context_id", "order_id", "sent_at"],
                    vec![
                        transfer_id.into(),
                        event.position.into(),
                        gift_id.into(),
                        sender_id.into(),
                        receiver_id.into(),
                        quantity.into(),
                        unit_price.into(),
                        total.into(),
                        message.and_then(|message| message.into_known()).into(),
                        context.map(|context| context.kind.as_str()).into(),
                        context.map(|context| context.id).into(),
                        order_id.into(),
                        sent_at.into(),
                    ],
                );
            }
        }
        Ok(Box::new(writes))
    }
}
