//! What the API and the replay CLI read from the invoicing read models: documents with their
//! lines and seller, lists of them, and the VAT report of a period.

use chrono::{DateTime, NaiveDateTime, Utc};
use domain::invoicing::number::{DocumentKind, DocumentNumber};
use domain::invoicing::seller::Seller;
use rust_decimal::Decimal;
use sqlx::mysql::MySqlRow;
use sqlx::{MySqlPool, Row};
use uuid::Uuid;

#[derive(Clone, Debug, PartialEq)]
pub struct DocumentLine {
    pub description: String,
    pub quantity: u32,
    pub unit_price: Decimal,
    pub net: Decimal,
    pub vat: Decimal,
    pub total: Decimal,
}

/// An invoice or credit note as issued.
#[derive(Clone, Debug, PartialEq)]
pub struct Document {
    pub id: Uuid,
    pub kind: DocumentKind,
    pub number: DocumentNumber,
    pub issued_at: DateTime<Utc>,
    pub buyer_id: Uuid,
    pub buyer_name: String,
    /// None only before any seller was recorded, which start-up makes impossible.
    pub seller: Option<Seller>,
    pub source_type: String,
    pub source_id: Uuid,
    pub subtotal: Decimal,
    pub vat_amount: Decimal,
    pub total: Decimal,
    pub original_invoice_id: Option<Uuid>,
    pub original_number: Option<DocumentNumber>,
    pub reason: Option<String>,
    pub lines: Vec<DocumentLine>,
}

/// One period's sums, credit notes as positive figures.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct VatTotals {
    pub sales_net: Decimal,
    pub vat_collected: Decimal,
    pub credit_notes_net: Decimal,
    pub credit_notes_vat: Decimal,
    pub invoice_count: u64,
    pub credit_note_count: u64,
}

impl VatTotals {
    pub fn net_vat_due(&self) -> Decimal {
        self.vat_collected - self.credit_notes_vat
    }
}

/// One row of the VAT report's CSV.
#[derive(Clone, Debug, PartialEq)]
pub struct VatRow {
    pub number: DocumentNumber,
    pub issued_at: DateTime<Utc>,
    pub buyer_name: String,
    pub net: Decimal,
    pub vat: Decimal,
    pub total: Decimal,
    pub original_number: Option<DocumentNumber>,
}

#[derive(Clone)]
pub struct InvoiceQueries {
    pool: MySqlPool,
}

/// A document's columns, with its buyer's name, its seller (the one recorded before it, else the
/// first one recorded) and the number of the invoice a credit note credits.
const DOCUMENT_SELECT: &str = "SELECT i.id, i.kind, i.year, i.sequence, i.issued_at, i.buyer_id, COALESCE(u.name, '') AS buyer_name, \
     i.source_type, i.source_id, i.subtotal, i.vat_amount, i.total, i.original_invoice_id, o.kind AS original_kind, o.year AS original_year, \
     o.sequence AS original_sequence, i.reason, s.name AS seller_name, s.name_en AS seller_name_en, s.vat_number AS seller_vat_number, \
     s.address AS seller_address \
     FROM invoices i LEFT JOIN users u ON u.id = i.buyer_id LEFT JOIN invoices o ON o.id = i.original_invoice_id \
     LEFT JOIN invoice_sellers s ON s.position = COALESCE(i.seller_position, (SELECT MIN(position) FROM invoice_sellers)) ";

impl InvoiceQueries {
    pub fn new(pool: MySqlPool) -> Self {
        Self { pool }
    }

    pub async fn document(&self, id: Uuid) -> Result<Option<Document>, sqlx::Error> {
        let Some(row) = sqlx::query(select_where(DOCUMENT_SELECT, "WHERE i.id = ?")).bind(id).fetch_optional(&self.pool).await? else {
            return Ok(None);
        };
        let mut document = document(&row)?;
        document.lines = sqlx::query("SELECT description, quantity, unit_price, net, vat, total FROM invoice_lines WHERE invoice_id = ? ORDER BY line")
            .bind(id)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|line| {
                Ok(DocumentLine {
                    description: line.try_get(0)?,
                    quantity: line.try_get(1)?,
                    unit_price: line.try_get(2)?,
                    net: line.try_get(3)?,
                    vat: line.try_get(4)?,
                    total: line.try_get(5)?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()?;
        Ok(Some(document))
    }

    /// A page of documents of both kinds, newest first: the buyer's, or everyone's (`None`).
    pub async fn documents(&self, buyer_id: Option<Uuid>, page: u64, per_page: u64) -> Result<(u64, Vec<Document>), sqlx::Error> {
        let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM invoices WHERE ? IS NULL OR buyer_id = ?")
            .bind(buyer_id)
            .bind(buyer_id)
            .fetch_one(&self.pool)
            .await?;
        let ids: Vec<Uuid> = sqlx::query_scalar("SELECT id FROM invoices WHERE ? IS NULL OR buyer_id = ? ORDER BY position DESC, kind LIMIT ? OFFSET ?")
            .bind(buyer_id)
            .bind(buyer_id)
            .bind(per_page)
            .bind(page.saturating_sub(1).saturating_mul(per_page))
            .fetch_all(&self.pool)
            .await?;
        let mut documents = Vec::with_capacity(ids.len());
        for id in ids {
            documents.extend(self.document(id).await?);
        }
        Ok((u64::try_from(total).unwrap_or(0), documents))
    }

    /// The sums of the documents issued in `[from, to)`.
    pub async fn vat_totals(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<VatTotals, sqlx::Error> {
        let row = sqlx::query(
            "SELECT COALESCE(SUM(IF(kind = 'invoice', subtotal, 0)), 0), COALESCE(SUM(IF(kind = 'invoice', vat_amount, 0)), 0), \
             COALESCE(SUM(IF(kind = 'credit_note', subtotal, 0)), 0), COALESCE(SUM(IF(kind = 'credit_note', vat_amount, 0)), 0), \
             COALESCE(SUM(kind = 'invoice'), 0), COALESCE(SUM(kind = 'credit_note'), 0) \
             FROM invoices WHERE issued_at >= ? AND issued_at < ?",
        )
        .bind(from.naive_utc())
        .bind(to.naive_utc())
        .fetch_one(&self.pool)
        .await?;
        let count = |index: usize| -> Result<u64, sqlx::Error> { Ok(u64::try_from(row.try_get::<Decimal, _>(index)?).unwrap_or(0)) };
        Ok(VatTotals {
            sales_net: row.try_get(0)?,
            vat_collected: row.try_get(1)?,
            credit_notes_net: row.try_get(2)?,
            credit_notes_vat: row.try_get(3)?,
            invoice_count: count(4)?,
            credit_note_count: count(5)?,
        })
    }

    /// One row per document issued in `[from, to)`, in the order they were issued.
    pub async fn vat_rows(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<VatRow>, sqlx::Error> {
        let rows = sqlx::query(select_where(DOCUMENT_SELECT, "WHERE i.issued_at >= ? AND i.issued_at < ? ORDER BY i.position, i.kind"))
            .bind(from.naive_utc())
            .bind(to.naive_utc())
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                let document = document(row)?;
                Ok(VatRow {
                    number: document.number,
                    issued_at: document.issued_at,
                    buyer_name: document.buyer_name,
                    net: document.subtotal,
                    vat: document.vat_amount,
                    total: document.total,
                    original_number: document.original_number,
                })
            })
            .collect()
    }
}

/// The VAT report's rows as CSV (RFC 4180), a header first.
pub fn vat_csv(rows: &[VatRow]) -> String {
    let mut out = String::from("number,kind,issued_at,buyer,net,vat,total,original_number\r\n");
    for row in rows {
        let fields = [
            row.number.to_string(),
            row.number.kind.as_str().to_owned(),
            row.issued_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            row.buyer_name.clone(),
            format!("{:.2}", row.net),
            format!("{:.2}", row.vat),
            format!("{:.2}", row.total),
            row.original_number.map(|number| number.to_string()).unwrap_or_default(),
        ];
        out.push_str(&fields.iter().map(|field| csv_field(field)).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    }
    out
}

/// A field quoted when it must be; a text a spreadsheet would run as a formula (`=`, `+`, `-`,
/// `@` first) is prefixed with `'` — a buyer's name is user input.
fn csv_field(field: &str) -> String {
    let is_amount = field.parse::<Decimal>().is_ok();
    let field = if !is_amount && field.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{field}") } else { field.to_owned() };
    if field.contains([',', '"', '\n', '\r']) { format!("\"{}\"", field.replace('"', "\"\"")) } else { field }
}

/// The select with its condition: both are constants, so the SQL never holds input.
fn select_where(select: &'static str, condition: &'static str) -> sqlx::AssertSqlSafe<String> {
    sqlx::AssertSqlSafe(format!("{select}{condition}"))
}

fn number_of(row: &MySqlRow, kind: &str, year: &str, sequence: &str) -> Result<Option<DocumentNumber>, sqlx::Error> {
    let Some(kind_text) = row.try_get::<Option<String>, _>(kind)? else { return Ok(None) };
    let kind = DocumentKind::parse(&kind_text).ok_or_else(|| sqlx::Error::Decode(format!("unknown document kind {kind_text:?}").into()))?;
    let year: u16 = row.try_get(year)?;
    Ok(Some(DocumentNumber { kind, year: i32::from(year), sequence: row.try_get(sequence)? }))
}

fn document(row: &MySqlRow) -> Result<Document, sqlx::Error> {
    let number = number_of(row, "kind", "year", "sequence")?.ok_or_else(|| sqlx::Error::Decode("a document without a kind".into()))?;
    let issued_at: NaiveDateTime = row.try_get("issued_at")?;
    let seller = match row.try_get::<Option<String>, _>("seller_name")? {
        Some(name) => Some(Seller {
            name,
            name_en: row.try_get("seller_name_en")?,
            vat_number: row.try_get("seller_vat_number")?,
            address: row.try_get("seller_address")?,
        }),
        None => None,
    };
    Ok(Document {
        id: row.try_get("id")?,
        kind: number.kind,
        number,
        issued_at: issued_at.and_utc(),
        buyer_id: row.try_get("buyer_id")?,
        buyer_name: row.try_get("buyer_name")?,
        seller,
        source_type: row.try_get("source_type")?,
        source_id: row.try_get("source_id")?,
        subtotal: row.try_get("subtotal")?,
        vat_amount: row.try_get("vat_amount")?,
        total: row.try_get("total")?,
        original_invoice_id: row.try_get("original_invoice_id")?,
        original_number: number_of(row, "original_kind", "original_year", "original_sequence")?,
        reason: row.try_get("reason")?,
        lines: Vec::new(),
    })
}
