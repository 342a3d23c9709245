//! The ZATCA phase-1 QR code of a simplified tax invoice: five TLV fields — 1 seller name,
//! 2 VAT number, 3 issue time (`2022-04-25T15:30:00Z`), 4 total with VAT, 5 VAT total — each
//! `[tag byte][length byte][UTF-8 bytes]` with the length in bytes, concatenated in tag order and
//! base64-encoded. A field longer than 255 bytes cannot be written; it is refused, never cut.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};

use crate::money::Money;

/// The longest value a TLV field can carry: its length is one byte.
pub const FIELD_BYTES_MAX: usize = 255;

/// What the QR code of one document says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QrFields<'a> {
    pub seller_name: &'a str,
    pub vat_number: &'a str,
    pub issued_at: DateTime<Utc>,
    pub total: Money,
    pub vat: Money,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum QrError {
    #[error("field {tag} is {bytes} bytes long; a TLV field holds at most 255")]
    TooLong { tag: u8, bytes: usize },
    #[error("the TLV data is cut short at byte {0}")]
    Truncated(usize),
    #[error("field {0} is not UTF-8")]
    NotUtf8(u8),
    #[error("the QR payload is not base64")]
    NotBase64,
}

/// The issue time as the QR code writes it: UTC to the second.
pub fn timestamp(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// The TLV bytes of the five fields.
pub fn tlv(fields: &QrFields<'_>) -> Result<Vec<u8>, QrError> {
    let values = [
        fields.seller_name.to_owned(),
        fields.vat_number.to_owned(),
        timestamp(fields.issued_at),
        fields.total.to_string(),
        fields.vat.to_string(),
    ];
    let mut bytes = Vec::with_capacity(values.iter().map(|value| value.len() + 2).sum());
    for (tag, value) in (1u8..).zip(&values) {
        let length = u8::try_from(value.len()).map_err(|_| QrError::TooLong { tag, bytes: value.len() })?;
        bytes.push(tag);
        bytes.push(length);
        bytes.extend_from_slice(value.as_bytes());
    }
    Ok(bytes)
}

/// The QR code's text: the TLV bytes in base64.
pub fn payload(fields: &QrFields<'_>) -> Result<String, QrError> {
    tlv(fields).map(|bytes| STANDARD.encode(bytes))
}

/// The fields of a base64 payload, as `(tag, value)` in the order written: what a scanner reads.
pub fn decode(payload: &str) -> Result<Vec<(u8, String)>, QrError> {
    let bytes = STANDARD.decode(payload).map_err(|_| QrError::NotBase64)?;
    let mut fields = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let (Some(&tag), Some(&length)) = (bytes.get(at), bytes.get(at + 1)) else { return Err(QrError::Truncated(at)) };
        let start = at + 2;
        let value = bytes.get(start..start + usize::from(length)).ok_or(QrError::Truncated(start))?;
        fields.push((tag, String::from_utf8(value.to_vec()).map_err(|_| QrError::NotUtf8(tag))?));
        at = start + usize::from(length);
    }
    Ok(fields)
}
