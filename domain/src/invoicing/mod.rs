//! The invoicing context: the platform, seller of record, issues a simplified tax invoice for
//! every paid sale and a credit note for every paid refund. Invoices are a projection of the sale
//! events; what is decided here is pure: the seller's details (`seller`, recorded in the log when
//! the settings change so that a rebuild shows each invoice with the seller of its day), the
//! numbering (`number`), how a sale's lines become document lines (`document`) and the ZATCA
//! phase-1 QR code (`zatca`).

pub mod document;
pub mod number;
pub mod seller;
pub mod zatca;

use crate::kernel::{ContextEvents, DomainEvent, every};

/// The context's events, upcasters and rejections, for the kernel's registries.
pub const EVENTS: ContextEvents = ContextEvents {
    name: "invoicing",
    tables: &[seller::SellerEvent::TYPES],
    upcasts: &[],
    rejections: every::<seller::SellerError>,
};
