//! Invoicing commands. Invoices themselves are a projection of the sale events; the one thing
//! recorded here is the seller of record, whenever the settings name a different one.

use domain::invoicing::seller::{STREAM_ID, STREAM_TYPE, Seller, SellerCommand, SellerRecord};

use crate::{CommandContext, CommandError, Kernel, Stream};

pub fn seller_stream() -> Stream<SellerRecord> {
    Stream::new(STREAM_TYPE, STREAM_ID)
}

#[derive(Clone)]
pub struct Invoicing {
    kernel: Kernel,
}

impl Invoicing {
    pub fn new(kernel: Kernel) -> Self {
        Self { kernel }
    }

    /// Records the seller's details unless they are the ones recorded last; the position of the
    /// record when one was appended.
    pub async fn record_seller(&self, seller: Seller) -> Result<Option<u64>, CommandError> {
        let done = self.kernel.execute(&seller_stream(), SellerCommand::Record(seller), &CommandContext::by("system:settings")).await?;
        Ok(done.position())
    }
}
