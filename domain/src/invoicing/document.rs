//! What a tax document says, line by line. A sale's lines arrive already priced (the commerce
//! context allocates the document's VAT to its lines, so they add up exactly); a credit note takes
//! exactly the refunded lines of the original invoice, never more than it.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::commerce::order::OrderLine;
use crate::money::Money;

/// Every price includes VAT at 15%.
pub const VAT_RATE: Decimal = Decimal::from_parts(15, 0, 0, false, 2);

/// One line of an invoice or credit note: `net + vat = total = unit_price × quantity`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentLine {
    /// The sale line it documents (an order item, a registration, …).
    pub source_line_id: Uuid,
    pub description: String,
    pub quantity: u32,
    pub unit_price: Money,
    pub net: Money,
    pub vat: Money,
    pub total: Money,
}

impl DocumentLine {
    /// An order line as sold: its quantity at its VAT-inclusive unit price.
    pub fn of_order_line(line: &OrderLine) -> DocumentLine {
        DocumentLine {
            source_line_id: line.order_item_id,
            description: line.title.as_str().to_owned(),
            quantity: line.quantity,
            unit_price: line.split.unit_price,
            net: line.split.net,
            vat: line.split.vat,
            total: line.total(),
        }
    }

    /// True when the line's parts add up.
    pub fn is_consistent(&self) -> bool {
        self.net.checked_add(self.vat) == Some(self.total)
            && i64::from(self.quantity).checked_mul(self.unit_price.halalas()) == Some(self.total.halalas())
    }
}

/// A document's totals: the sums of its lines.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentTotals {
    pub subtotal: Money,
    pub vat_amount: Money,
    pub total: Money,
}

impl DocumentTotals {
    /// `None` only past `Money::MAX`.
    pub fn of(lines: &[DocumentLine]) -> Option<DocumentTotals> {
        let sum = |part: fn(&DocumentLine) -> Money| lines.iter().try_fold(Money::ZERO, |sum, line| sum.checked_add(part(line)));
        Some(DocumentTotals { subtotal: sum(|line| line.net)?, vat_amount: sum(|line| line.vat)?, total: sum(|line| line.total)? })
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CreditError {
    #[error("line {0} is not on the invoice")]
    UnknownLine(Uuid),
    #[error("line {0} is credited already")]
    AlreadyCredited(Uuid),
    #[error("the credit would pass the invoice's total")]
    BeyondTotal,
}

/// The lines a credit note takes: the refunded ones, each of the invoice's lines at most once,
/// and never more than the invoice's total in all (`credited` is what earlier notes took).
pub fn credit_lines(
    invoice: &[DocumentLine],
    credited_lines: &[Uuid],
    credited: Money,
    refunded: &[Uuid],
) -> Result<Vec<DocumentLine>, CreditError> {
    let mut lines = Vec::with_capacity(refunded.len());
    for id in refunded {
        let line = invoice.iter().find(|line| line.source_line_id == *id).ok_or(CreditError::UnknownLine(*id))?;
        if credited_lines.contains(id) || lines.iter().any(|taken: &DocumentLine| taken.source_line_id == *id) {
            return Err(CreditError::AlreadyCredited(*id));
        }
        lines.push(line.clone());
    }
    let invoice_total = DocumentTotals::of(invoice).ok_or(CreditError::BeyondTotal)?.total;
    let credit = DocumentTotals::of(&lines).ok_or(CreditError::BeyondTotal)?.total;
    if credited.checked_add(credit).is_none_or(|after| after > invoice_total) {
        return Err(CreditError::BeyondTotal);
    }
    Ok(lines)
}
