//! Invoices and finance over HTTP: the buyer's (or, for admins, everyone's) invoices and credit
//! notes, each as JSON with its ZATCA QR code or as a printable bilingual document; the VAT report
//! of a period as JSON or CSV; and the digest of the event chain that auditors publish.

mod page;

use actix_web::http::Method;
use actix_web::http::header::{ACCEPT, CONTENT_DISPOSITION, CONTENT_SECURITY_POLICY};
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use domain::invoicing::document::VAT_RATE;
use domain::invoicing::zatca::{self, QrFields};
use domain::money::Money;
use domain::users::Role;
use projections::invoicing::InvoicingProjector;
use projections::invoicing::queries::{Document, VatTotals, vat_csv};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::catalogue::parse_id;
use crate::commerce::BuyerView;
use crate::envelope::{Pagination, Reply};
use crate::error::ApiError;
use crate::extract::{Fields, Invalid, PageQuery, REQUIRED, parse_instant};
use crate::i18n::Text;
use crate::openapi::{Op, Routes};
use crate::startup::AppState;
use crate::wallet::sar;

const INVOICES: &[&str] = &[InvoicingProjector::NAME];

pub fn routes(routes: &mut Routes) {
    use Method as M;
    routes.add(M::GET, "/invoices", invoices,
        Op::new("invoices", "Invoices and credit notes, newest first").auth().reads(INVOICES).query::<PageQuery>()
            .data::<Vec<InvoiceView>>().errors(&[422])
            .description("The caller's; an admin sees everyone's. Both kinds, told apart by `kind`."));
    routes.add(M::GET, "/invoices/{id}", invoice,
        Op::new("invoices", "An invoice or credit note").auth().reads(INVOICES).path_params(&["id"]).data::<InvoiceView>().errors(&[404])
            .description("The buyer's own, or any for an admin; 404 otherwise. `zatca_qr` is the ZATCA phase-1 QR payload (TLV, base64)."));
    routes.add(M::GET, "/invoices/{id}/document", document,
        Op::new("invoices", "The printable invoice or credit note").auth().reads(INVOICES).path_params(&["id"]).content("text/html")
            .errors(&[404])
            .description("A self-contained HTML page in Arabic (right to left) and English, with print styles and the QR code as an \
                          inline image: it needs no network to show or print."));
    routes.add(M::GET, "/admin/reports/vat", vat_report,
        Op::new("admin", "The VAT report of a period").auth().reads(INVOICES).query::<PeriodQuery>().data::<VatReportView>().or_content("text/csv")
            .errors(&[403, 422])
            .description("Documents issued in [`from`, `to`) (RFC 3339, or a date meaning 00:00 Asia/Riyadh). With \
                          `Accept: text/csv`, one row per invoice and credit note: `number, kind, issued_at, buyer, net, vat, total, \
                          original_number`. The figures reconcile with the ledger's VAT-payable account over the same period."));
    routes.add(M::GET, "/admin/ledger/digest", digest,
        Op::new("admin", "The digest of the event chain").auth().data::<DigestView>().errors(&[403])
            .description("The position and SHA-256 hash of the chain's head. Published, it lets an auditor prove later, with \
                          `ispeaker-replay verify-chain --digest POSITION:HASH`, that the log up to it was not changed."));
}

pub const INVALID_PERIOD: Text = Text::new("invalid_period", "must come after from", "يجب أن يكون بعد تاريخ البداية");

/// Reasons of invoicing's invalid fields.
pub const REASONS: &[Text] = &[
    INVALID_PERIOD,
    Text::new("invalid_seller", "must be one line of text, short enough for the QR code", "يجب أن يكون سطراً واحداً بطول يتسع له رمز QR"),
    Text::new("invalid_vat_number", "must be 15 digits, starting and ending with 3", "يجب أن يتكون من 15 رقماً تبدأ وتنتهي بالرقم 3"),
];

#[derive(Debug, Serialize, JsonSchema)]
pub struct SellerView {
    /// The Arabic legal name: the one in the QR code.
    pub name: String,
    pub name_en: String,
    pub vat_number: String,
    pub address: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct InvoiceLineView {
    pub description: String,
    pub quantity: u32,
    /// VAT included.
    pub unit_price: String,
    pub net: String,
    #[schemars(example = &"0.15")]
    pub vat_rate: String,
    pub vat: String,
    pub total: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct InvoiceView {
    pub id: Uuid,
    #[schemars(example = &"INV-2026-000001")]
    pub number: String,
    #[schemars(extend("enum" = ["invoice", "credit_note"]))]
    pub kind: String,
    pub issued_at: DateTime<Utc>,
    pub seller: SellerView,
    pub buyer: BuyerView,
    pub lines: Vec<InvoiceLineView>,
    pub subtotal: String,
    pub vat_amount: String,
    pub total: String,
    /// Credit notes only: the invoice credited, and why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub original_invoice_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub original_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// What the sale was: `order` and the order's id.
    pub source: SourceView,
    /// The ZATCA phase-1 QR payload: TLV fields in base64.
    pub zatca_qr: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct SourceView {
    #[schemars(extend("enum" = ["order"]))]
    #[serde(rename = "type")]
    pub kind: String,
    pub id: Uuid,
}

impl InvoiceView {
    fn of(document: Document) -> Result<InvoiceView, ApiError> {
        let seller = document.seller.ok_or_else(|| ApiError::internal("no seller recorded before the document"))?;
        let money = |amount| Money::from_decimal(amount).map_err(|_| ApiError::internal("a stored document amount is not money"));
        let zatca_qr = zatca::payload(&QrFields {
            seller_name: &seller.name,
            vat_number: &seller.vat_number,
            issued_at: document.issued_at,
            total: money(document.total)?,
            vat: money(document.vat_amount)?,
        })
        .map_err(|error| ApiError::internal(error.to_string()))?;
        Ok(InvoiceView {
            id: document.id,
            number: document.number.to_string(),
            kind: document.kind.as_str().to_owned(),
            issued_at: document.issued_at,
            seller: SellerView { name: seller.name, name_en: seller.name_en, vat_number: seller.vat_number, address: seller.address },
            buyer: BuyerView { id: document.buyer_id, name: document.buyer_name },
            lines: document
                .lines
                .into_iter()
                .map(|line| InvoiceLineView {
                    description: line.description,
                    quantity: line.quantity,
                    unit_price: sar(line.unit_price),
                    net: sar(line.net),
                    vat_rate: VAT_RATE.to_string(),
                    vat: sar(line.vat),
                    total: sar(line.total),
                })
                .collect(),
            subtotal: sar(document.subtotal),
            vat_amount: sar(document.vat_amount),
            total: sar(document.total),
            original_invoice_id: document.original_invoice_id,
            original_number: document.original_number.map(|number| number.to_string()),
            reason: document.reason,
            source: SourceView { kind: document.source_type, id: document.source_id },
            zatca_qr,
        })
    }
}

pub async fn invoices(state: web::Data<AppState>, user: AuthUser, query: web::Query<PageQuery>) -> Result<Reply, ApiError> {
    let (page, per_page) = query.resolve()?;
    let buyer = (!user.has(Role::Admin)).then_some(user.user_id);
    let (total, documents) = state.queries.invoicing.documents(buyer, page, per_page).await?;
    let views = documents.into_iter().map(InvoiceView::of).collect::<Result<Vec<_>, _>>()?;
    Ok(Reply::ok(views).pagination(Pagination::new(page, per_page, total)))
}

/// The document, if the caller may see it: its buyer or an admin (anyone else is told nothing).
async fn visible(state: &AppState, user: &AuthUser, id: &str) -> Result<InvoiceView, ApiError> {
    let document = state.queries.invoicing.document(parse_id(id)?).await?.ok_or(ApiError::NotFound)?;
    if document.buyer_id != user.user_id && !user.has(Role::Admin) {
        return Err(ApiError::NotFound);
    }
    InvoiceView::of(document)
}

pub async fn invoice(state: web::Data<AppState>, user: AuthUser, id: web::Path<String>) -> Result<Reply, ApiError> {
    Ok(Reply::ok(visible(&state, &user, &id).await?))
}

pub async fn document(state: web::Data<AppState>, user: AuthUser, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let view = visible(&state, &user, &id).await?;
    let html = page::render(&view)?;
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        // Everything is inline: the page may fetch nothing, and runs no script.
        .insert_header((CONTENT_SECURITY_POLICY, "default-src 'none'; img-src data:; style-src 'unsafe-inline'"))
        .insert_header((CONTENT_DISPOSITION, format!("inline; filename=\"{}.html\"", view.number)))
        .body(html))
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct PeriodQuery {
    /// From this instant on (RFC 3339, or a date meaning 00:00 Asia/Riyadh).
    pub from: Option<String>,
    /// Up to, not including, this instant.
    pub to: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct VatReportView {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// Invoices' net amounts.
    pub sales_net: String,
    pub vat_collected: String,
    /// Credit notes' net amounts and VAT, as positive figures.
    pub credit_notes_net: String,
    pub credit_notes_vat: String,
    /// `vat_collected − credit_notes_vat`.
    pub net_vat_due: String,
    pub invoice_count: u64,
    pub credit_note_count: u64,
}

impl VatReportView {
    pub fn of(from: DateTime<Utc>, to: DateTime<Utc>, totals: &VatTotals) -> VatReportView {
        VatReportView {
            from,
            to,
            sales_net: sar(totals.sales_net),
            vat_collected: sar(totals.vat_collected),
            credit_notes_net: sar(totals.credit_notes_net),
            credit_notes_vat: sar(totals.credit_notes_vat),
            net_vat_due: sar(totals.net_vat_due()),
            invoice_count: totals.invoice_count,
            credit_note_count: totals.credit_note_count,
        }
    }
}

pub async fn vat_report(request: HttpRequest, state: web::Data<AppState>, user: AuthUser, query: web::Query<PeriodQuery>) -> Result<HttpResponse, ApiError> {
    user.require(Role::Admin)?;
    let mut fields = Fields::default();
    let mut instant = |name: &str, text: &Option<String>| {
        fields.check_as(name, text.as_deref().ok_or(Invalid(&REQUIRED)).and_then(parse_instant))
    };
    let (from, to) = (instant("from", &query.from), instant("to", &query.to));
    if let (Some(from), Some(to)) = (from, to) {
        fields.check_as("to", if to > from { Ok(()) } else { Err(Invalid(&INVALID_PERIOD)) });
    }
    fields.done()?;
    let (Some(from), Some(to)) = (from, to) else { return Err(ApiError::internal("checked fields missing")) };
    let wants_csv = request.headers().get(ACCEPT).and_then(|accept| accept.to_str().ok()).is_some_and(|accept| accept.contains("text/csv"));
    if wants_csv {
        let rows = state.queries.invoicing.vat_rows(from, to).await?;
        return Ok(HttpResponse::Ok()
            .content_type("text/csv; charset=utf-8")
            .insert_header((CONTENT_DISPOSITION, format!("attachment; filename=\"vat-{}-{}.csv\"", from.format("%Y%m%dT%H%M%SZ"), to.format("%Y%m%dT%H%M%SZ"))))
            .body(vat_csv(&rows)));
    }
    let totals = state.queries.invoicing.vat_totals(from, to).await?;
    Ok(Reply::ok(VatReportView::of(from, to, &totals)).into_response())
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct DigestView {
    /// The head's global position.
    pub position: u64,
    /// The head's SHA-256 chain hash, in lowercase hex.
    #[schemars(example = &"9f2c…")]
    pub hash: String,
}

pub async fn digest(state: web::Data<AppState>, user: AuthUser) -> Result<Reply, ApiError> {
    user.require(Role::Admin)?;
    let head = state.commands.kernel.head().await?;
    Ok(Reply::ok(DigestView { position: head.position, hash: hex::encode(head.hash) }))
}
