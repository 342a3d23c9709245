//! The seller of record: the platform's legal names (Arabic, the one in the QR code, and
//! English), its VAT registration number and its address. They come from the settings; the log
//! records them whenever they change, so every invoice shows the seller of the day it was issued,
//! on every rebuild.

use serde::{Deserialize, Serialize};

use crate::kernel::{Aggregate, DomainEvent, EventType, Rejection, RejectionKind};
use crate::invoicing::zatca::FIELD_BYTES_MAX;

/// Stream type of the seller's record; there is one stream, `seller/platform`.
pub const STREAM_TYPE: &str = "seller";
pub const STREAM_ID: &str = "platform";
/// An address may be longer than a QR field: it is not in the QR code.
pub const ADDRESS_LEN_MAX: usize = 500;

/// Which of the seller's details is wrong.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, strum::EnumIter)]
pub enum SellerField {
    #[default]
    NameAr,
    NameEn,
    VatNumber,
    Address,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, strum::EnumIter)]
pub enum SellerError {
    #[error("{0:?}: must be one line of text")]
    Blank(SellerField),
    #[error("{0:?}: longer than a ZATCA QR field takes (255 bytes of UTF-8)")]
    TooLong(SellerField),
    #[error("VatNumber: must be 15 digits, starting and ending with 3")]
    InvalidVatNumber,
}

impl SellerError {
    /// The detail that is wrong (the `Rejection` field names it for an API).
    pub fn detail(&self) -> SellerField {
        match self {
            SellerError::Blank(field) | SellerError::TooLong(field) => *field,
            SellerError::InvalidVatNumber => SellerField::VatNumber,
        }
    }
}

impl Rejection for SellerError {
    fn code(&self) -> &'static str {
        match self {
            SellerError::Blank(_) | SellerError::TooLong(_) => "invalid_seller",
            SellerError::InvalidVatNumber => "invalid_vat_number",
        }
    }

    fn kind(&self) -> RejectionKind {
        RejectionKind::Invalid
    }

    fn field(&self) -> Option<&'static str> {
        Some(match self.detail() {
            SellerField::NameAr => "name",
            SellerField::NameEn => "name_en",
            SellerField::VatNumber => "vat_number",
            SellerField::Address => "address",
        })
    }
}

/// A seller's details, each checked: one line each, the names and the VAT number short enough
/// for the QR code, the VAT number 15 digits that start and end with 3.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seller {
    /// The Arabic legal name: the one in the QR code.
    pub name: String,
    pub name_en: String,
    pub vat_number: String,
    pub address: String,
}

impl Seller {
    pub fn new(name: &str, name_en: &str, vat_number: &str, address: &str) -> Result<Seller, SellerError> {
        let line = |value: &str, field: SellerField, fits: fn(&str) -> bool| {
            let value = value.trim();
            if value.is_empty() || value.chars().any(char::is_control) {
                return Err(SellerError::Blank(field));
            }
            if !fits(value) {
                return Err(SellerError::TooLong(field));
            }
            Ok(value.to_owned())
        };
        let in_qr: fn(&str) -> bool = |value| value.len() <= FIELD_BYTES_MAX;
        let vat_number = vat_number.trim();
        let is_vat_number =
            vat_number.len() == 15 && vat_number.bytes().all(|b| b.is_ascii_digit()) && vat_number.starts_with('3') && vat_number.ends_with('3');
        if !is_vat_number {
            return Err(SellerError::InvalidVatNumber);
        }
        Ok(Seller {
            name: line(name, SellerField::NameAr, in_qr)?,
            name_en: line(name_en, SellerField::NameEn, in_qr)?,
            vat_number: vat_number.to_owned(),
            address: line(address, SellerField::Address, |value| value.chars().count() <= ADDRESS_LEN_MAX)?,
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SellerCommand {
    /// Records the details, unless they are the ones recorded last.
    Record(Seller),
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SellerEvent {
    SellerRecorded {
        #[serde(flatten)]
        seller: Seller,
    },
}

pub const SELLER_RECORDED: EventType = EventType::new("SellerRecorded", 1);

impl DomainEvent for SellerEvent {
    const TYPES: &'static [EventType] = &[SELLER_RECORDED];
}

/// The details recorded last.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SellerRecord {
    current: Option<Seller>,
}

impl SellerRecord {
    pub fn current(&self) -> Option<&Seller> {
        self.current.as_ref()
    }
}

impl Aggregate for SellerRecord {
    type Command = SellerCommand;
    type Event = SellerEvent;
    type Rejection = SellerError;

    fn handle(&self, command: SellerCommand) -> Result<Vec<SellerEvent>, SellerError> {
        let SellerCommand::Record(seller) = command;
        if self.current.as_ref() == Some(&seller) {
            return Ok(vec![]);
        }
        Ok(vec![SellerEvent::SellerRecorded { seller }])
    }

    fn apply(&mut self, event: &SellerEvent) {
        let SellerEvent::SellerRecorded { seller } = event;
        self.current = Some(seller.clone());
    }
}
