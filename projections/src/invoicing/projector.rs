//! Invoices from the sale events, in global order. Every paid sale gets a simplified tax invoice
//! and every paid refund a credit note for exactly the refunded lines. Numbers are given here, in
//! the order the events were recorded, from counters kept in the projection's own tables and
//! written in the same transaction as the documents: gap-free, and the same on every rebuild.
//! The issue time is the time the sale's events were recorded — the time of the ledger postings
//! of the same append, so the VAT report and the ledger cut a period at the same instant.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use domain::commerce::order::OrderEvent;
use domain::invoicing::document::{DocumentLine, DocumentTotals, credit_lines};
use domain::invoicing::number::{DocumentKind, numbering_year};
use domain::invoicing::seller::{Seller, SellerEvent};
use domain::kernel::{DomainEvent, EventType};
use domain::money::Money;
use event_store::RecordedEvent;
use rust_decimal::Decimal;
use sqlx::{MySqlConnection, Row};
use uuid::Uuid;

use crate::ProjectionError;
use crate::runtime::{BoxFuture, Prepared, Projector, Tables};
use crate::writes::{Value, Writes};

pub struct InvoicingProjector;

impl InvoicingProjector {
    pub const NAME: &'static str = "invoicing";
}

const TABLES: &[&str] = &["invoices", "invoice_lines", "invoice_series", "invoice_sellers"];

/// The kinds of sale that are invoiced; each later paid thing (registrations, bookings, gifts)
/// adds one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum SaleKind {
    Order,
}

impl SaleKind {
    const ALL: [SaleKind; 1] = [SaleKind::Order];

    fn as_str(self) -> &'static str {
        match self {
            SaleKind::Order => "order",
        }
    }
}

/// What a document documents: the sale's kind and id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct Source {
    kind: SaleKind,
    id: Uuid,
}

/// What one event asks of the projection.
enum Issue {
    Seller { position: u64, seller: Seller },
    Invoice { position: u64, id: Uuid, source: Source, buyer_id: Uuid, issued_at: DateTime<Utc>, lines: Vec<DocumentLine> },
    CreditNote { position: u64, id: Uuid, source: Source, buyer_id: Uuid, issued_at: DateTime<Utc>, refunded: Vec<Uuid>, reason: String },
}

impl Projector for InvoicingProjector {
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
        &[SellerEvent::TYPES, OrderEvent::TYPES]
    }

    fn prepare(&self, events: &[RecordedEvent]) -> Result<Box<dyn Prepared>, ProjectionError> {
        let mut issues = Vec::new();
        for event in events {
            let position = event.position;
            if let Some(SellerEvent::SellerRecorded { seller }) = crate::decode::<SellerEvent>(event)? {
                issues.push(Issue::Seller { position, seller });
            } else if let Some(order) = crate::decode::<OrderEvent>(event)? {
                match order {
                    OrderEvent::OrderPlaced { order_id, buyer_id, lines, invoice_id: Some(id), .. } => issues.push(Issue::Invoice {
                        position,
                        id,
                        source: Source { kind: SaleKind::Order, id: order_id },
                        buyer_id,
                        issued_at: event.recorded_at,
                        lines: lines.iter().map(DocumentLine::of_order_line).collect(),
                    }),
                    OrderEvent::OrderRefunded { order_id, buyer_id, order_item_ids, reason, credit_note_id: Some(id), .. } => {
                        issues.push(Issue::CreditNote {
                            position,
                            id,
                            source: Source { kind: SaleKind::Order, id: order_id },
                            buyer_id,
                            issued_at: event.recorded_at,
                            refunded: order_item_ids,
                            reason: reason.as_str().to_owned(),
                        })
                    }
                    // Nothing paid, nothing to document.
                    OrderEvent::OrderPlaced { invoice_id: None, .. } | OrderEvent::OrderRefunded { credit_note_id: None, .. } => {}
                }
            }
        }
        Ok(Box::new(Batch { issues }))
    }
}

/// A batch's documents, numbered when written: the counters are read in the batch's transaction.
struct Batch {
    issues: Vec<Issue>,
}

/// An invoice as a credit note needs it: its lines, and what was credited already.
struct Invoiced {
    id: Uuid,
    lines: Vec<DocumentLine>,
    credited_lines: Vec<Uuid>,
    credited: Money,
}

impl Prepared for Batch {
    fn write<'a>(self: Box<Self>, connection: &'a mut MySqlConnection, tables: Tables) -> BoxFuture<'a, Result<(), ProjectionError>> {
        Box::pin(async move {
            if self.issues.is_empty() {
                return Ok(());
            }
            let mut series = read_series(connection, tables).await?;
            let mut seller_position = read_seller_position(connection, tables).await?;
            let credited_sources: Vec<Source> = self
                .issues
                .iter()
                .filter_map(|issue| if let Issue::CreditNote { source, .. } = issue { Some(*source) } else { None })
                .collect();
            let mut invoiced = read_invoiced(connection, tables, &credited_sources).await?;

            let (mut documents, mut lines, mut sellers, mut updates) = (Vec::new(), Vec::new(), Vec::new(), Writes::new(TABLES));
            for issue in self.issues {
                match issue {
                    Issue::Seller { position, seller } => {
                        seller_position = Some(position);
                        sellers.push(vec![position.into(), seller.name.into(), seller.name_en.into(), seller.vat_number.into(), seller.address.into()]);
                    }
                    Issue::Invoice { position, id, source, buyer_id, issued_at, lines: invoice_lines } => {
                        let totals = totals(position, &invoice_lines)?;
                        let sequence = next(&mut series, DocumentKind::Invoice, issued_at);
                        documents.push(document_row(DocumentKind::Invoice, id, sequence, issued_at, buyer_id, source, totals, None, None, seller_position, position));
                        lines.extend(line_rows(id, &invoice_lines));
                        invoiced.insert(source, Invoiced { id, lines: invoice_lines, credited_lines: Vec::new(), credited: Money::ZERO });
                    }
                    Issue::CreditNote { position, id, source, buyer_id, issued_at, refunded, reason } => {
                        let refused = |reason: String| ProjectionError::Decode { position, reason };
                        let invoice = invoiced.get_mut(&source).ok_or_else(|| refused(format!("a refund of {} {} that has no invoice", source.kind.as_str(), source.id)))?;
                        let credit = credit_lines(&invoice.lines, &invoice.credited_lines, invoice.credited, &refunded).map_err(|error| refused(error.to_string()))?;
                        let totals = totals(position, &credit)?;
                        invoice.credited = invoice.credited.checked_add(totals.total).ok_or_else(|| refused("the credits pass the largest amount".into()))?;
                        invoice.credited_lines.extend(refunded.iter().copied());
                        let sequence = next(&mut series, DocumentKind::CreditNote, issued_at);
                        documents.push(document_row(
                            DocumentKind::CreditNote,
                            id,
                            sequence,
                            issued_at,
                            buyer_id,
                            source,
                            totals,
                            Some(invoice.id),
                            Some(reason),
                            seller_position,
                            position,
                        ));
                        lines.extend(line_rows(id, &credit));
                        updates.execute("UPDATE {invoices} SET credited_total = ? WHERE id = ?", vec![invoice.credited.into(), invoice.id.into()]);
                        let marks = vec!["?"; refunded.len()].join(", ");
                        let values = [id.into(), invoice.id.into()].into_iter().chain(refunded.into_iter().map(Value::from)).collect();
                        updates.execute(format!("UPDATE {{invoice_lines}} SET credited_by = ? WHERE invoice_id = ? AND source_line_id IN ({marks})"), values);
                    }
                }
            }

            let mut writes = Writes::new(TABLES);
            for row in sellers {
                writes.insert("invoice_sellers", &["position", "name", "name_en", "vat_number", "address"], row);
            }
            for row in documents {
                writes.insert("invoices", DOCUMENT_COLUMNS, row);
            }
            for row in lines {
                writes.insert("invoice_lines", &["invoice_id", "line", "source_line_id", "description", "quantity", "unit_price", "net", "vat", "total"], row);
            }
            for ((kind, year), last) in series {
                writes.execute(
                    "INSERT INTO {invoice_series} (kind, year, last_sequence) VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE last_sequence = VALUES(last_sequence)",
                    vec![kind.as_str().into(), i64::from(year).into(), last.into()],
                );
            }
            Box::new(writes).write(&mut *connection, tables).await?;
            Box::new(updates).write(connection, tables).await
        })
    }
}

const DOCUMENT_COLUMNS: &[&str] = &[
    "id", "kind", "year", "sequence", "issued_at", "buyer_id", "source_type", "source_id", "subtotal", "vat_amount", "total",
    "original_invoice_id", "reason", "seller_position", "position",
];

#[allow(clippy::too_many_arguments)]
fn document_row(
    kind: DocumentKind,
    id: Uuid,
    (year, sequence): (i32, u64),
    issued_at: DateTime<Utc>,
    buyer_id: Uuid,
    source: Source,
    totals: DocumentTotals,
    original_invoice_id: Option<Uuid>,
    reason: Option<String>,
    seller_position: Option<u64>,
    position: u64,
) -> Vec<Value> {
    vec![
        id.into(),
        kind.as_str().into(),
        i64::from(year).into(),
        sequence.into(),
        issued_at.into(),
        buyer_id.into(),
        source.kind.as_str().into(),
        source.id.into(),
        totals.subtotal.into(),
        totals.vat_amount.into(),
        totals.total.into(),
        original_invoice_id.into(),
        reason.into(),
        seller_position.into(),
        position.into(),
    ]
}

fn line_rows(invoice_id: Uuid, lines: &[DocumentLine]) -> impl Iterator<Item = Vec<Value>> + '_ {
    lines.iter().enumerate().map(move |(index, line)| {
        vec![
            invoice_id.into(),
            (index as u64).into(),
            line.source_line_id.into(),
            line.description.clone().into(),
            line.quantity.into(),
            line.unit_price.into(),
            line.net.into(),
            line.vat.into(),
            line.total.into(),
        ]
    })
}

/// The document's totals, its lines checked: a line that does not add up is never written.
fn totals(position: u64, lines: &[DocumentLine]) -> Result<DocumentTotals, ProjectionError> {
    let refused = |reason: &str| ProjectionError::Decode { position, reason: reason.to_owned() };
    if lines.is_empty() {
        return Err(refused("a document without lines"));
    }
    if !lines.iter().all(DocumentLine::is_consistent) {
        return Err(refused("a line whose net and VAT do not add up to its total"));
    }
    DocumentTotals::of(lines).ok_or_else(|| refused("the totals pass the largest amount"))
}

type Series = HashMap<(DocumentKind, i32), u64>;

/// The next number of the kind's series in the Riyadh year of `issued_at`.
fn next(series: &mut Series, kind: DocumentKind, issued_at: DateTime<Utc>) -> (i32, u64) {
    let year = numbering_year(issued_at);
    let last = series.entry((kind, year)).or_insert(0);
    *last += 1;
    (year, *last)
}

async fn read_series(connection: &mut MySqlConnection, tables: Tables) -> Result<Series, ProjectionError> {
    let sql = format!("SELECT kind, year, last_sequence FROM {} FOR UPDATE", tables.name("invoice_series"));
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&mut *connection).await?;
    let mut series = Series::new();
    for row in rows {
        let kind: String = row.try_get("kind")?;
        let kind = DocumentKind::parse(&kind).ok_or_else(|| sqlx::Error::Decode(format!("unknown document kind {kind:?}").into()))?;
        let year: u16 = row.try_get("year")?;
        series.insert((kind, i32::from(year)), row.try_get("last_sequence")?);
    }
    Ok(series)
}

async fn read_seller_position(connection: &mut MySqlConnection, tables: Tables) -> Result<Option<u64>, ProjectionError> {
    let sql = format!("SELECT MAX(position) FROM {}", tables.name("invoice_sellers"));
    Ok(sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_one(&mut *connection).await?)
}

/// The invoices of these sales as stored, with their lines, for the credit notes of a batch.
async fn read_invoiced(connection: &mut MySqlConnection, tables: Tables, sources: &[Source]) -> Result<HashMap<Source, Invoiced>, ProjectionError> {
    let mut invoiced = HashMap::new();
    if sources.is_empty() {
        return Ok(invoiced);
    }
    let sql = format!(
        "SELECT i.id, i.source_type, i.source_id, i.credited_total, l.source_line_id, l.description, l.quantity, l.unit_price, l.net, l.vat, \
         l.total, l.credited_by FROM {invoices} i JOIN {lines} l ON l.invoice_id = i.id \
         WHERE i.kind = 'invoice' AND (i.source_type, i.source_id) IN ({marks}) ORDER BY i.id, l.line",
        invoices = tables.name("invoices"),
        lines = tables.name("invoice_lines"),
        marks = vec!["(?, ?)"; sources.len()].join(", "),
    );
    let query = sources.iter().fold(sqlx::query(sqlx::AssertSqlSafe(sql)), |query, source| query.bind(source.kind.as_str()).bind(source.id));
    for row in query.fetch_all(&mut *connection).await? {
        let source_type: String = row.try_get("source_type")?;
        let kind = SaleKind::ALL.into_iter().find(|kind| kind.as_str() == source_type).ok_or_else(|| sqlx::Error::Decode(format!("unknown sale kind {source_type:?}").into()))?;
        let source = Source { kind, id: row.try_get("source_id")? };
        let money = |column: &str| -> Result<Money, sqlx::Error> {
            Money::from_decimal(row.try_get::<Decimal, _>(column)?).map_err(|error| sqlx::Error::Decode(error.to_string().into()))
        };
        let entry = invoiced.entry(source).or_insert(Invoiced { id: row.try_get("id")?, lines: Vec::new(), credited_lines: Vec::new(), credited: money("credited_total")? });
        let line = DocumentLine {
            source_line_id: row.try_get("source_line_id")?,
            description: row.try_get("description")?,
            quantity: row.try_get("quantity")?,
            unit_price: money("unit_price")?,
            net: money("net")?,
            vat: money("vat")?,
            total: money("total")?,
        };
        if row.try_get::<Option<Uuid>, _>("credited_by")?.is_some() {
            entry.credited_lines.push(line.source_line_id);
        }
        entry.lines.push(line);
    }
    Ok(invoiced)
}
