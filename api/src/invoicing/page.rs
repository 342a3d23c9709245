//! The printable document: one self-contained HTML page, Arabic first and right to left with the
//! English beside it, print styles for A4, and the QR code as an inline PNG. It loads nothing from
//! anywhere, so it shows and prints offline; the fonts are the reader's own Arabic-capable ones.

use std::fmt::Write;

use qrcode::{Color, EcLevel, QrCode};

use domain::invoicing::document::VAT_RATE;

use super::InvoiceView;
use crate::error::ApiError;

/// Pixels per QR module, and the quiet zone around the code in modules (the standard's four).
const QR_MODULE_PIXELS: usize = 6;
const QR_QUIET_MODULES: usize = 4;

/// The page of a document.
pub fn render(view: &InvoiceView) -> Result<String, ApiError> {
    let qr = qr_png(&view.zatca_qr)?;
    let is_credit = view.kind == "credit_note";
    let (title_ar, title_en) = if is_credit { ("إشعار دائن", "Credit Note") } else { ("فاتورة ضريبية مبسطة", "Simplified Tax Invoice") };
    let issued_riyadh = (view.issued_at + chrono::TimeDelta::hours(3)).format("%Y-%m-%d %H:%M");
    // Every line carries the one VAT rate.
    let vat_percent = (VAT_RATE * rust_decimal::Decimal::ONE_HUNDRED).normalize();
    let mut lines = String::new();
    for (index, line) in view.lines.iter().enumerate() {
        let _ = write!(
            lines,
            "<tr><td class=n>{}</td><td>{}</td><td class=n>{}</td><td class=n>{}</td><td class=n>{}</td><td class=n>{}%</td><td class=n>{}</td><td class=n>{}</td></tr>",
            index + 1,
            escape(&line.description),
            line.quantity,
            line.unit_price,
            line.net,
            vat_percent,
            line.vat,
            line.total,
        );
    }
    let credited = match (&view.original_number, &view.reason) {
        (Some(number), reason) => format!(
            "<p class=credit><span>الفاتورة الأصلية · Original invoice: <b dir=ltr>{}</b></span>{}</p>",
            escape(number),
            reason.as_deref().map(|reason| format!("<span>السبب · Reason: {}</span>", escape(reason))).unwrap_or_default()
        ),
        (None, _) => String::new(),
    };
    Ok(format!(
        r#"<!doctype html>
<html lang="ar" dir="rtl">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{number} — {title_en}</title>
<style>
  @page {{ size: A4; margin: 14mm; }}
  :root {{ --ink: #1d2330; --muted: #5b6475; --line: #d9dde5; --accent: #0f5e9c; }}
  * {{ box-sizing: border-box; }}
  body {{ margin: 0; padding: 24px; color: var(--ink); background: #fff;
         font: 14px/1.5 "Noto Naskh Arabic", "Noto Sans Arabic", "Amiri", "KacstOne", "Geeza Pro", "Segoe UI", Tahoma, Arial, sans-serif; }}
  .sheet {{ max-width: 860px; margin: 0 auto; }}
  header {{ display: flex; justify-content: space-between; gap: 24px; border-bottom: 3px solid var(--accent); padding-bottom: 12px; }}
  h1 {{ margin: 0; font-size: 22px; color: var(--accent); }}
  h1 small, .en {{ display: block; font-size: 14px; color: var(--muted); direction: ltr; text-align: right; }}
  .qr {{ width: 150px; height: 150px; image-rendering: pixelated; }}
  .parties {{ display: grid; grid-template-columns: 1fr 1fr; gap: 16px; margin: 16px 0; }}
  .box {{ border: 1px solid var(--line); border-radius: 6px; padding: 10px 12px; }}
  .box h2 {{ margin: 0 0 6px; font-size: 13px; color: var(--muted); font-weight: normal; }}
  .box p {{ margin: 2px 0; }}
  .meta {{ display: grid; grid-template-columns: repeat(3, 1fr); gap: 8px; margin: 12px 0; }}
  .meta div {{ border: 1px solid var(--line); border-radius: 6px; padding: 6px 10px; }}
  .meta span {{ display: block; font-size: 12px; color: var(--muted); }}
  .meta b {{ direction: ltr; unicode-bidi: isolate; }}
  table {{ width: 100%; border-collapse: collapse; margin-top: 8px; }}
  th, td {{ border-bottom: 1px solid var(--line); padding: 6px 8px; text-align: start; vertical-align: top; }}
  th {{ background: #f3f5f8; font-size: 12px; font-weight: 600; }}
  th .en {{ text-align: inherit; font-weight: normal; font-size: 11px; }}
  .n {{ text-align: left; direction: ltr; font-variant-numeric: tabular-nums; white-space: nowrap; }}
  .totals {{ margin: 12px 0 0 auto; width: 460px; }}
  .totals td {{ border: 0; padding: 4px 8px; }}
  .totals tr.grand td {{ border-top: 2px solid var(--ink); font-weight: 700; font-size: 16px; }}
  .credit {{ display: flex; flex-wrap: wrap; gap: 24px; background: #fff6e5; border: 1px solid #f0d9a8; border-radius: 6px; padding: 8px 12px; }}
  footer {{ margin-top: 24px; color: var(--muted); font-size: 12px; }}
  @media print {{ body {{ padding: 0; }} .box, .meta div {{ break-inside: avoid; }} }}
</style>
</head>
<body>
<main class="sheet">
<header>
  <div>
    <h1>{title_ar}<small><bdi>{title_en}</bdi></small></h1>
    <p><b>{seller_ar}</b><bdi class=en>{seller_en}</bdi></p>
  </div>
  <img class=qr alt="ZATCA QR" src="data:image/png;base64,{qr}">
</header>
<section class=meta>
  <div><span>رقم المستند · Number</span><b>{number}</b></div>
  <div><span>تاريخ الإصدار · Issued (Riyadh)</span><b>{issued}</b></div>
  <div><span>الرقم الضريبي · VAT number</span><b>{vat_number}</b></div>
</section>
{credited}
<section class=parties>
  <div class=box><h2>البائع · Seller</h2><p>{seller_ar}</p><p class=en><bdi>{seller_en}</bdi></p><p><bdi>{address}</bdi></p></div>
  <div class=box><h2>المشتري · Buyer</h2><p>{buyer}</p></div>
</section>
<table>
  <thead><tr>
    <th class=n>#</th><th>الوصف<span class=en>Description</span></th><th class=n>الكمية<span class=en>Qty</span></th>
    <th class=n>سعر الوحدة<span class=en>Unit price</span></th><th class=n>الصافي<span class=en>Net</span></th>
    <th class=n>النسبة<span class=en>VAT rate</span></th><th class=n>الضريبة<span class=en>VAT</span></th>
    <th class=n>الإجمالي<span class=en>Total</span></th>
  </tr></thead>
  <tbody>{lines}</tbody>
</table>
<table class=totals>
  <tr><td>المجموع قبل الضريبة · <bdi>Subtotal (net)</bdi></td><td class=n>{subtotal} SAR</td></tr>
  <tr><td>ضريبة القيمة المضافة ١٥٪ · <bdi>VAT 15%</bdi></td><td class=n>{vat} SAR</td></tr>
  <tr class=grand><td>الإجمالي شامل الضريبة · <bdi>Total incl. VAT</bdi></td><td class=n>{total} SAR</td></tr>
</table>
<footer>الأسعار شاملة ضريبة القيمة المضافة · <bdi>Prices include VAT. {title_en} {number}.</bdi></footer>
</main>
</body>
</html>
"#,
        number = escape(&view.number),
        issued = issued_riyadh,
        seller_ar = escape(&view.seller.name),
        seller_en = escape(&view.seller.name_en),
        vat_number = escape(&view.seller.vat_number),
        address = escape(&view.seller.address),
        buyer = escape(&view.buyer.name),
        subtotal = view.subtotal,
        vat = view.vat_amount,
        total = view.total,
    ))
}

/// Text made safe to place in HTML.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The QR code of `payload` as a black-on-white PNG, base64-encoded.
pub fn qr_png(payload: &str) -> Result<String, ApiError> {
    let code = QrCode::with_error_correction_level(payload.as_bytes(), EcLevel::M).map_err(|error| ApiError::internal(format!("QR code: {error}")))?;
    let modules = code.width();
    let colors = code.to_colors();
    let side = (modules + 2 * QR_QUIET_MODULES) * QR_MODULE_PIXELS;
    let mut pixels = vec![255u8; side * side];
    for (index, color) in colors.iter().enumerate() {
        if *color != Color::Dark {
            continue;
        }
        let (x, y) = ((index % modules + QR_QUIET_MODULES) * QR_MODULE_PIXELS, (index / modules + QR_QUIET_MODULES) * QR_MODULE_PIXELS);
        for row in y..y + QR_MODULE_PIXELS {
            pixels[row * side + x..row * side + x + QR_MODULE_PIXELS].fill(0);
        }
    }
    let mut png = Vec::new();
    let side_u32 = u32::try_from(side).map_err(|_| ApiError::internal("QR code too large"))?;
    let mut encoder = png::Encoder::new(&mut png, side_u32, side_u32);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::Eight);
    let written = encoder.write_header().and_then(|mut writer| writer.write_image_data(&pixels));
    written.map_err(|error| ApiError::internal(format!("QR image: {error}")))?;
    use base64::Engine;
    Ok(base64::engine::general_purpose::STANDARD.encode(png))
}
