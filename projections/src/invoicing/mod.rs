//! The invoicing context's read models: tax invoices and credit notes with their lines, numbered
//! per series in the order the sales were recorded; `queries` reads them and sums them into the
//! VAT report.

mod projector;
pub mod queries;

pub use projector::InvoicingProjector;

use std::sync::Arc;

use crate::Projector;

pub(crate) fn projectors() -> Vec<Arc<dyn Projector>> {
    vec![Arc::new(InvoicingProjector)]
}
