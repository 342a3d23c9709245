//! The gifts context's commands: the admin's catalogue, and sending a gift, which is a sale
//! through commerce (`Commerce::sell`) in the same unit of work: the sender's debit (category
//! `gift`), the receiver's pending earning (category `gift`), the platform's commission and the
//! VAT payable, and the sender's invoice.

use domain::commerce::order::{OrderEvent, Sale};
use domain::commerce::{ItemRef, ItemType};
use domain::gifts::{self, Gift, GiftCommand, GiftContext, GiftDetails, GiftChange, GiftError, GiftTransfer, GiftTransferCommand, GiftTransferEvent};
use uuid::Uuid;

use crate::commerce::Commerce;
use crate::kernel::{Kernel, Transacted};
use crate::social::check_reach;
use crate::stream::{Loaded, Stream};
use crate::users::user_stream;
use crate::{CommandContext, CommandError};

pub fn gift_stream(gift_id: Uuid) -> Stream<Gift> {
    Stream::new(gifts::STREAM_TYPE, gift_id.to_string())
}

pub fn transfer_stream(transfer_id: Uuid) -> Stream<GiftTransfer> {
    Stream::new(gifts::TRANSFER_STREAM_TYPE, transfer_id.to_string())
}

/// A gift to send, as the sender asks for it.
#[derive(Clone, Debug)]
pub struct Sending {
    pub gift_id: Uuid,
    pub receiver_id: Uuid,
    pub quantity: u32,
    pub message: Option<String>,
    pub context: Option<GiftContext>,
}

/// What sending did: the `GiftSent` event and the order that paid for it.
#[derive(Clone, Debug)]
pub struct Sent {
    pub sent: GiftTransferEvent,
    pub order: OrderEvent,
}

/// The context's command handler. Cheap to clone.
#[derive(Clone)]
pub struct Gifts {
    kernel: Kernel,
    commerce: Commerce,
}

impl Gifts {
    pub fn new(commerce: Commerce) -> Self {
        Self { kernel: commerce.kernel().clone(), commerce }
    }

    pub async fn create(&self, details: GiftDetails, context: &CommandContext) -> Result<Transacted<Loaded<Gift>>, CommandError> {
        let gift_id = Uuid::now_v7();
        let stream = &gift_stream(gift_id);
        let details = &details;
        self.kernel
            .transact(context, |unit| async move {
                let mut gift = unit.create(stream).await?;
                unit.decide(stream, &mut gift, GiftCommand::Create { gift_id, details: details.clone() })?;
                Ok(gift)
            })
            .await
    }

    pub async fn change(&self, gift_id: Uuid, change: GiftChange, context: &CommandContext) -> Result<Transacted<Loaded<Gift>>, CommandError> {
        self.kernel.execute(&gift_stream(gift_id), GiftCommand::Change { change }, context).await
    }

    /// Sends a gift from the sender's wallet: the transfer, its order, debit and the receiver's
    /// pending earning in one append, or nothing (`insufficient_funds` when the wallet cannot pay).
    #[tracing::instrument(skip_all, fields(%sender, gift_id = %sending.gift_id))]
    pub async fn send(&self, sender: Uuid, sending: Sending, context: &CommandContext) -> Result<Transacted<Sent>, CommandError> {
        let (transfer_id, order_id) = (Uuid::now_v7(), Uuid::now_v7());
        let stream = &transfer_stream(transfer_id);
        let (sending, now) = (&sending, self.kernel.now());
        self.kernel
            .transact(context, |unit| async move {
                let gift = unit.load(&gift_stream(sending.gift_id)).await?.state;
                let mut transfer = unit.create(stream).await?;
                let send = GiftTransferCommand::Send {
                    transfer_id,
                    gift_id: sending.gift_id,
                    gift: gift.clone(),
                    sender_id: sender,
                    receiver_id: sending.receiver_id,
                    quantity: sending.quantity,
                    message: sending.message.clone(),
                    context: sending.context,
                    order_id,
                    now,
                };
                // An unknown receiver is a 404, which comes before the gift's own 409s.
                if !unit.load(&user_stream(sending.receiver_id)).await?.state.is_registered() {
                    return Err(CommandError::rejected(domain::users::UserError::NotRegistered));
                }
                check_reach(&unit, sending.receiver_id, sender).await?;
                let sent = unit.decide(stream, &mut transfer, send)?.remove(0);
                let details = gift.details().ok_or_else(|| CommandError::rejected(GiftError::UnknownGift))?;
                let item = ItemRef { item_type: ItemType::Gift, item_id: sending.gift_id };
                let sale = Sale { quantity: sending.quantity, ..Sale::one(Uuid::now_v7(), item, details.name_en.clone(), sending.receiver_id, details.price) };
                let (_, order) = self.commerce.sell(&unit, order_id, sender, vec![sale], now).await?;
                Ok(Sent { sent, order })
            })
            .await
    }
}
