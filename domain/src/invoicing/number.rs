//! Document numbers: one gap-free series per kind and calendar year of Asia/Riyadh
//! (`INV-2026-000001`, `CN-2026-000001`), counted in the order the sales were recorded.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};


/// The two kinds of tax document, each with its own series.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    Invoice,
    CreditNote,
}

impl DocumentKind {
    pub const ALL: [DocumentKind; 2] = [DocumentKind::Invoice, DocumentKind::CreditNote];

    pub fn as_str(self) -> &'static str {
        match self {
            DocumentKind::Invoice => "invoice",
            DocumentKind::CreditNote => "credit_note",
        }
    }

    pub fn parse(text: &str) -> Option<DocumentKind> {
        DocumentKind::ALL.into_iter().find(|kind| kind.as_str() == text)
    }

    /// The prefix of the kind's numbers.
    pub fn series(self) -> &'static str {
        match self {
            DocumentKind::Invoice => "INV",
            DocumentKind::CreditNote => "CN",
        }
    }
}

/// The calendar year a document issued at `at` is numbered in: Riyadh's.
pub fn numbering_year(at: DateTime<Utc>) -> i32 {
    crate::kernel::riyadh::year_of(at)
}

/// A document's number: its kind's series, the year, and its place in that year (from 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DocumentNumber {
    pub kind: DocumentKind,
    pub year: i32,
    pub sequence: u64,
}

impl fmt::Display for DocumentNumber {
    /// At least six digits; a year past 999,999 documents grows the number, never wraps it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}-{:06}", self.kind.series(), self.year, self.sequence)
    }
}
