//! Invoices over HTTP: one per paid checkout with the seller, the lines and a QR code that scans
//! back to the ZATCA fields; credit notes for exactly what was refunded; numbering without gaps
//! under concurrency and across a rebuild; the VAT report reconciled with the ledger after many
//! random sales and refunds; the chain digest auditors publish, and what tampering does to it.

use std::str::FromStr;

use base64::Engine;
use chrono::Utc;
use domain::invoicing::number::numbering_year;
use domain::invoicing::zatca;
use replay_tools::ExitStatus;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use uuid::Uuid;

use super::catalogue::{category, course};
use super::commerce::{add, checkout, wallet_pay};
use super::{admin_token, assert_error, cli, dump, head, key, read, spawn_with_admin};
use crate::api::{NO_RATE_LIMITS, Session, TestApp};

fn sar(value: &Value) -> Decimal {
    Decimal::from_str(value.as_str().unwrap_or_else(|| panic!("not an amount: {value}"))).unwrap()
}

fn year() -> i32 {
    numbering_year(Utc::now())
}

async fn invoice(app: &TestApp, token: &str, id: &Value) -> Value {
    let response = read(app, &format!("/invoices/{}", id.as_str().unwrap()), Some(token)).await;
    assert_eq!(response.status, 200, "{}", response.text);
    response.body["data"].clone()
}

/// Every line adds up (net + VAT = total = unit price × quantity), and so do the document's totals.
#[track_caller]
fn assert_adds_up(document: &Value) {
    let lines = document["lines"].as_array().unwrap();
    assert!(!lines.is_empty(), "{document}");
    let mut sums = [Decimal::ZERO; 3];
    for line in lines {
        assert_eq!(sar(&line["net"]) + sar(&line["vat"]), sar(&line["total"]), "{line}");
        assert_eq!(sar(&line["unit_price"]) * Decimal::from(line["quantity"].as_u64().unwrap()), sar(&line["total"]), "{line}");
        assert_eq!(line["vat_rate"], "0.15");
        sums[0] += sar(&line["net"]);
        sums[1] += sar(&line["vat"]);
        sums[2] += sar(&line["total"]);
    }
    assert_eq!(sums, [sar(&document["subtotal"]), sar(&document["vat_amount"]), sar(&document["total"])], "{document}");
}

/// The text of the QR code in a document page, read back from its PNG with a QR decoder.
fn scan_document_qr(html: &str) -> String {
    let start = html.find("data:image/png;base64,").expect("the page has an inline PNG") + "data:image/png;base64,".len();
    let encoded = &html[start..start + html[start..].find('"').unwrap()];
    let png = base64::engine::general_purpose::STANDARD.decode(encoded).unwrap();
    let mut reader = png::Decoder::new(std::io::Cursor::new(png)).read_info().unwrap();
    let mut pixels = vec![0; reader.output_buffer_size()];
    let frame = reader.next_frame(&mut pixels).unwrap();
    assert_eq!(frame.color_type, png::ColorType::Grayscale);
    let (width, height) = (frame.width as usize, frame.height as usize);
    let mut image = rqrr::PreparedImage::prepare_from_greyscale(width, height, |x, y| pixels[y * width + x]);
    let grids = image.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code in the image");
    grids[0].decode().expect("the QR code decodes").1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paid_checkout_gets_an_invoice_whose_qr_scans_back_to_the_zatca_fields_seen_by_its_buyer_and_admins_only() {
    let app = spawn_with_admin().await;
    let admin = admin_token(&app).await;
    let category_id = category(&app, &admin).await;
    let (speaker, student, stranger) = (app.register("speaker").await, app.register("student").await, app.register("student").await);
    app.fund(&student.token, "100.00").await;
    // Each line alone would round its VAT to 0.01; the document's VAT, on 0.30, is 0.04.
    let mut courses = Vec::new();
    for title in ["النحو", "الصرف", "البلاغة"] {
        courses.push(course(&app, &speaker, category_id, title, "0.10").await);
    }
    for course_id in &courses {
        assert_eq!(add(&app, &student, "course", *course_id).await.status, 201);
    }
    let bought = checkout(&app, &student, &key(), &wallet_pay()).await;
    assert_eq!(bought.status, 201, "{}", bought.text);
    let order = &bought.body["data"];

    let document = invoice(&app, &student.token, &order["invoice_id"]).await;
    assert_eq!(document["id"], order["invoice_id"]);
    assert_eq!(document["number"], format!("INV-{}-000001", year()));
    assert_eq!(document["kind"], "invoice");
    assert_eq!(document["seller"], json!({ "name": "شركة آي سبيكر لايف", "name_en": "iSpeaker Live Co.", "vat_number": "310122393500003",
                                           "address": "King Fahd Road, Riyadh 12271, Saudi Arabia" }));
    assert_eq!(document["buyer"]["id"], student.user_id.to_string());
    assert_eq!((document["total"].as_str(), document["vat_amount"].as_str(), document["subtotal"].as_str()), (Some("0.30"), Some("0.04"), Some("0.26")));
    assert_eq!(document["lines"].as_array().unwrap().iter().map(|line| line["vat"].as_str().unwrap()).collect::<Vec<_>>(), ["0.02", "0.01", "0.01"]);
    assert_eq!(document["lines"][0]["description"], "النحو");
    assert_eq!((&document["total"], &document["vat_amount"]), (&order["total"], &order["vat_amount"]), "the invoice says what the order says");
    assert_adds_up(&document);
    assert!(document.get("original_invoice_id").is_none(), "{document}");

    // The QR payload: the Arabic seller name counted in bytes, the issue time to the second.
    let fields = zatca::decode(document["zatca_qr"].as_str().unwrap()).unwrap();
    let issued_at = chrono::DateTime::parse_from_rfc3339(document["issued_at"].as_str().unwrap()).unwrap().with_timezone(&Utc);
    assert_eq!(fields, vec![
        (1, "شركة آي سبيكر لايف".to_owned()),
        (2, "310122393500003".to_owned()),
        (3, zatca::timestamp(issued_at)),
        (4, "0.30".to_owned()),
        (5, "0.04".to_owned()),
    ]);

    // The printable page: bilingual, right to left, its QR image scanning to the same bytes.
    let page = app.get_with(&format!("/invoices/{}/document", order["invoice_id"].as_str().unwrap()), Some(&student.token), &[]).await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(page.header("content-type").unwrap().starts_with("text/html"));
    assert!(page.text.contains(r#"<html lang="ar" dir="rtl">"#) && page.text.contains("فاتورة ضريبية مبسطة") && page.text.contains("Simplified Tax Invoice"));
    assert!(page.text.contains(&format!("INV-{}-000001", year())));
    assert!(!page.text.contains("http://") && !page.text.contains("https://"), "the page loads nothing from anywhere");
    let scanned = scan_document_qr(&page.text);
    assert_eq!(scanned, document["zatca_qr"].as_str().unwrap());
    let bytes = base64::engine::general_purpose::STANDARD.decode(&scanned).unwrap();
    assert_eq!(bytes[..2], [1, 33], "tag 1, and the Arabic name's length in bytes");
    assert_eq!(&bytes[2..35], "شركة آي سبيكر لايف".as_bytes());

    // Its buyer and admins see it; anyone else is told nothing, as if it did not exist.
    assert_eq!(invoice(&app, &admin, &order["invoice_id"]).await["number"], document["number"]);
    let invoice_id = order["invoice_id"].as_str().unwrap();
    for path in [format!("/invoices/{invoice_id}"), format!("/invoices/{invoice_id}/document"), format!("/invoices/{}", Uuid::new_v4())] {
        assert_error(&app.get_with(&path, Some(&stranger.token), &[]).await, 404, "not_found");
    }
    assert_eq!(app.get_with(&format!("/invoices/{invoice_id}"), None, &[]).await.status, 401);
    let mine = read(&app, "/invoices", Some(&student.token)).await;
    assert_eq!(mine.body["data"].as_array().unwrap().len(), 1, "{}", mine.text);
    assert_eq!(read(&app, "/invoices", Some(&stranger.token)).await.body["data"], json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refunds_get_credit_notes_for_exactly_what_was_refunded_and_never_more_than_the_invoice() {
    let app = spawn_with_admin().await;
    let admin = admin_token(&app).await;
    let category_id = category(&app, &admin).await;
    let (speaker, student) = (app.register("speaker").await, app.register("student").await);
    app.fund(&student.token, "500.00").await;
    let mut courses = Vec::new();
    for (title, price) in [("أ", "99.99"), ("ب", "1.15"), ("ج", "0.99")] {
        courses.push(course(&app, &speaker, category_id, title, price).await);
    }
    for course_id in &courses {
        assert_eq!(add(&app, &student, "course", *course_id).await.status, 201);
    }
    let order = checkout(&app, &student, &key(), &wallet_pay()).await.body["data"].clone();
    let order_id = order["order_id"].as_str().unwrap();
    let first_item = order["items"][0]["id"].clone();

    let partial = app.post_json(&format!("/orders/{order_id}/refund"), Some(&admin), &[("Idempotency-Key", &key())],
                                &json!({ "item_ids": [first_item], "reason": "الدورة لم تكن كما وصفت" })).await;
    assert_eq!(partial.status, 200, "{}", partial.text);
    let note = invoice(&app, &student.token, &partial.body["data"]["credit_note_id"]).await;
    assert_eq!(note["kind"], "credit_note");
    assert_eq!(note["number"], format!("CN-{}-000001", year()));
    assert_eq!(note["original_invoice_id"], order["invoice_id"]);
    assert_eq!(note["original_number"], format!("INV-{}-000001", year()));
    assert_eq!(note["reason"], "الدورة لم تكن كما وصفت");
    assert_eq!(note["lines"].as_array().unwrap().len(), 1);
    assert_eq!((&note["lines"][0]["net"], &note["lines"][0]["vat"], &note["lines"][0]["total"]),
               (&order["items"][0]["net"], &order["items"][0]["vat"], &order["items"][0]["total"]), "it credits the line as invoiced");
    assert_eq!(note["total"], partial.body["data"]["refunded_amount"]);
    assert_adds_up(&note);
    let qr = zatca::decode(note["zatca_qr"].as_str().unwrap()).unwrap();
    assert_eq!((qr[3].1.as_str(), qr[4].1.as_str()), (note["total"].as_str().unwrap(), note["vat_amount"].as_str().unwrap()), "its own QR");

    let rest = app.post_json(&format!("/orders/{order_id}/refund"), Some(&admin), &[("Idempotency-Key", &key())], &json!({ "reason": "the rest" })).await;
    assert_eq!(rest.status, 200, "{}", rest.text);
    let second = invoice(&app, &admin, &rest.body["data"]["credit_note_id"]).await;
    assert_eq!(second["number"], format!("CN-{}-000002", year()));
    assert_eq!(second["lines"].as_array().unwrap().len(), 2);
    assert_eq!(sar(&note["total"]) + sar(&second["total"]), sar(&order["total"]), "the credit notes take back the invoice exactly");
    assert_eq!(sar(&note["vat_amount"]) + sar(&second["vat_amount"]), sar(&order["vat_amount"]));
    let again = app.post_json(&format!("/orders/{order_id}/refund"), Some(&admin), &[("Idempotency-Key", &key())], &json!({ "reason": "once more" })).await;
    assert_error(&again, 409, "already_refunded");

    let listed = read(&app, "/invoices", Some(&student.token)).await;
    let kinds: Vec<&str> = listed.body["data"].as_array().unwrap().iter().map(|document| document["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["credit_note", "credit_note", "invoice"], "newest first, both kinds");
    let page = app.get_with(&format!("/invoices/{}/document", second["id"].as_str().unwrap()), Some(&student.token), &[]).await;
    assert!(page.text.contains("إشعار دائن") && page.text.contains(&format!("INV-{}-000001", year())) && page.text.contains("the rest"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_checkouts_are_numbered_without_gaps_in_log_order_and_a_rebuild_gives_the_same_rows() {
    let app = TestApp::spawn(&[("BOOTSTRAP_ADMIN_EMAIL", super::ADMIN_EMAIL), ("BOOTSTRAP_ADMIN_PASSWORD", super::ADMIN_PASSWORD), NO_RATE_LIMITS[0], NO_RATE_LIMITS[1]]).await;
    let admin = admin_token(&app).await;
    let category_id = category(&app, &admin).await;
    let speaker = app.register("speaker").await;
    let course_id = course(&app, &speaker, category_id, "Tajweed", "57.50").await;
    let mut students: Vec<Session> = Vec::new();
    for _ in 0..50 {
        let student = app.register("student").await;
        app.fund(&student.token, "57.50").await;
        assert_eq!(add(&app, &student, "course", course_id).await.status, 201);
        students.push(student);
    }
    let checkouts = students.iter().map(|student| {
        let app = &app;
        async move { checkout(app, student, &key(), &wallet_pay()).await }
    });
    let bought = futures::future::join_all(checkouts).await;
    assert!(bought.iter().all(|response| response.status == 201), "every checkout succeeds");

    let listed = read(&app, "/invoices?per_page=100", Some(&admin)).await;
    let documents = listed.body["data"].as_array().unwrap();
    assert_eq!(documents.len(), 50);
    let mut numbers: Vec<String> = documents.iter().map(|document| document["number"].as_str().unwrap().to_owned()).collect();
    numbers.reverse(); // oldest first
    let expected: Vec<String> = (1..=50).map(|n| format!("INV-{}-{n:06}", year())).collect();
    assert_eq!(numbers, expected, "1 to 50, no gap, no repeat, in the order the log recorded the sales");

    let before: Vec<Vec<String>> = futures::future::join_all(["invoices", "invoice_lines", "invoice_series", "invoice_sellers"].map(|table| dump(&app, table))).await;
    let (status, report) = cli(&app, &["rebuild", "invoicing"]).await;
    assert_eq!(status, ExitStatus::Success, "{report}");
    let after: Vec<Vec<String>> = futures::future::join_all(["invoices", "invoice_lines", "invoice_series", "invoice_sellers"].map(|table| dump(&app, table))).await;
    assert_eq!(before, after, "the rebuild gives exactly the rows, numbers included");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_vat_report_reconciles_with_the_ledger_after_hundreds_of_random_sales_and_refunds() {
    let app = TestApp::spawn(&[("BOOTSTRAP_ADMIN_EMAIL", super::ADMIN_EMAIL), ("BOOTSTRAP_ADMIN_PASSWORD", super::ADMIN_PASSWORD), NO_RATE_LIMITS[0], NO_RATE_LIMITS[1]]).await;
    let admin = admin_token(&app).await;
    let category_id = category(&app, &admin).await;
    let speaker = app.register("speaker").await;
    let mut rng = crate::fuzz::Rng(0x5EED_0000_0000_1A7A);
    let mut courses = Vec::new();
    for n in 0..40 {
        let price = format!("{}.{:02}", rng.below(300), rng.below(100));
        courses.push(course(&app, &speaker, category_id, &format!("Course {n}"), &price).await);
    }
    let mut students = Vec::new();
    for _ in 0..8 {
        let student = app.register("student").await;
        app.fund(&student.token, "100000.00").await;
        students.push((student, Vec::<usize>::new()));
    }
    let started = Utc::now();
    let (mut orders, mut midpoint) = (Vec::new(), None);
    for step in 0..240 {
        if step == 120 {
            midpoint = Some(Utc::now());
        }
        let (student, owned) = &mut students[rng.below(8)];
        let refund = !orders.is_empty() && rng.chance(25);
        if refund {
            let (order_id, items): &(String, Vec<Value>) = &orders[rng.below(orders.len())];
            let body = if rng.chance(50) { json!({ "reason": "random" }) } else { json!({ "item_ids": [items[rng.below(items.len())]], "reason": "random" }) };
            let refunded = app.post_json(&format!("/orders/{order_id}/refund"), Some(&admin), &[("Idempotency-Key", &key())], &body).await;
            assert!(refunded.status == 200 || refunded.status == 409, "{}", refunded.text);
            continue;
        }
        let picks: Vec<usize> = (0..1 + rng.below(3)).map(|_| rng.below(courses.len())).filter(|pick| !owned.contains(pick)).collect();
        let mut added = Vec::new();
        for pick in picks {
            if !added.contains(&pick) && add(&app, student, "course", courses[pick]).await.status == 201 {
                added.push(pick);
            }
        }
        if added.is_empty() {
            continue;
        }
        let bought = checkout(&app, student, &key(), &wallet_pay()).await;
        assert_eq!(bought.status, 201, "{}", bought.text);
        owned.extend(added);
        let data = &bought.body["data"];
        orders.push((data["order_id"].as_str().unwrap().to_owned(), data["items"].as_array().unwrap().iter().map(|item| item["id"].clone()).collect()));
    }
    let ended = Utc::now() + chrono::TimeDelta::seconds(1);
    assert!(orders.len() > 100, "{} orders", orders.len());

    for (from, to) in [(started, ended), (started, midpoint.unwrap()), (midpoint.unwrap(), ended)] {
        let (from, to) = (from.to_rfc3339(), to.to_rfc3339());
        let query = format!("/admin/reports/vat?from={}&to={}", urlencode(&from), urlencode(&to));
        let report = read(&app, &query, Some(&admin)).await;
        assert_eq!(report.status, 200, "{}", report.text);
        let data = &report.body["data"];
        assert_eq!(sar(&data["net_vat_due"]), sar(&data["vat_collected"]) - sar(&data["credit_notes_vat"]));

        // The CLI sums the ledger's own postings over the same period: they must agree exactly.
        let (status, text) = cli(&app, &["vat-report", "--from", &from, "--to", &to]).await;
        assert_eq!(status, ExitStatus::Success, "{text}");
        assert!(text.contains(&format!("ledger VAT payable: {} moved in the period: reconciled", data["net_vat_due"].as_str().unwrap())), "{text}\n{data}");
        let net = sar(&data["sales_net"]) - sar(&data["credit_notes_net"]);
        assert!(text.contains(&format!("ledger net sales: {net:.2} moved in the period: reconciled")), "{text}\n{data}");

        // The CSV has a row per document, and its rows add up to the report.
        let csv = app.get_with(&query, Some(&admin), &[("Accept", "text/csv")]).await;
        assert_eq!(csv.status, 200);
        assert!(csv.header("content-type").unwrap().starts_with("text/csv"));
        let mut lines = csv.text.lines();
        assert_eq!(lines.next(), Some("number,kind,issued_at,buyer,net,vat,total,original_number"));
        let rows: Vec<Vec<&str>> = lines.map(|line| line.split(',').collect()).collect();
        let count = |kind: &str| rows.iter().filter(|row| row[1] == kind).count() as u64;
        assert_eq!((count("invoice"), count("credit_note")), (data["invoice_count"].as_u64().unwrap(), data["credit_note_count"].as_u64().unwrap()));
        let vat = |kind: &str| rows.iter().filter(|row| row[1] == kind).map(|row| Decimal::from_str(row[5]).unwrap()).sum::<Decimal>();
        assert_eq!((vat("invoice"), vat("credit_note")), (sar(&data["vat_collected"]), sar(&data["credit_notes_vat"])));
        assert!(rows.iter().all(|row| (row[1] == "credit_note") == !row[7].is_empty()), "credit notes name their invoice");
    }
    let whole = read(&app, &format!("/admin/reports/vat?from={}&to={}", urlencode(&started.to_rfc3339()), urlencode(&ended.to_rfc3339())), Some(&admin)).await;
    assert!(whole.body["data"]["credit_note_count"].as_u64().unwrap() > 10, "{}", whole.text);

    let bad = app.get_with("/admin/reports/vat?from=2026-02-01&to=2026-01-01", Some(&admin), &[]).await;
    assert_error(&bad, 422, "validation_failed");
    assert_error(&app.get_with("/admin/reports/vat?to=2026-01-01", Some(&admin), &[]).await, 422, "validation_failed");
    assert_error(&app.get_with("/admin/reports/vat?from=2026-01-01&to=2026-02-01", Some(&students[0].0.token), &[]).await, 403, "forbidden");
}

fn urlencode(text: &str) -> String {
    text.replace('+', "%2B").replace(':', "%3A")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_published_digest_still_verifies_and_fails_naming_its_position_once_the_log_is_rewritten() {
    let app = spawn_with_admin().await;
    let admin = admin_token(&app).await;
    let student = app.register("student").await;
    app.fund(&student.token, "20.00").await;
    assert_error(&app.get_with("/admin/ledger/digest", Some(&student.token), &[]).await, 403, "forbidden");
    let digest = app.get_with("/admin/ledger/digest", Some(&admin), &[]).await;
    assert_eq!(digest.status, 200, "{}", digest.text);
    let (position, hash) = (digest.body["data"]["position"].as_u64().unwrap(), digest.body["data"]["hash"].as_str().unwrap().to_owned());
    assert_eq!(position, head(&app).await);
    assert_eq!(hash.len(), 64);
    let published = format!("{position}:{hash}");
    app.fund(&student.token, "30.00").await; // the log grows past the digest

    let (status, report) = cli(&app, &["verify-chain", "--digest", &published]).await;
    assert_eq!(status, ExitStatus::Success, "{report}");
    assert!(report.contains(&format!("digest ok: position {position} still has hash {hash}")), "{report}");
    let (status, report) = cli(&app, &["verify-chain", "--digest", &format!("{position}:{}", "0".repeat(64))]).await;
    assert_eq!(status, ExitStatus::Mismatch, "{report}");

    // An attacker rewrites an early event and recomputes every later hash and the head: the chain
    // is consistent again, but it no longer passes through the published digest.
    let pool = &app.db.pool;
    sqlx::query("DROP TRIGGER events_forbid_update").execute(pool).await.unwrap();
    let rewritten = sqlx::query("UPDATE events SET payload = REPLACE(payload, '\"20.00\"', '\"90.00\"') WHERE position <= ? AND payload LIKE '%\"20.00\"%'")
        .bind(position)
        .execute(pool)
        .await
        .unwrap();
    assert!(rewritten.rows_affected() > 0);
    let store = crate::support::open_store(pool).await;
    let mut previous = event_store::GENESIS_HASH;
    let mut after = 0;
    loop {
        let batch = store.read_all_stored(after, 1000).await.unwrap();
        let Some(last) = batch.last() else { break };
        after = last.position;
        for event in &batch {
            let hash = event_store::chain_hash(&previous, event);
            sqlx::query("UPDATE events SET hash = ? WHERE position = ?").bind(&hash[..]).bind(event.position).execute(pool).await.unwrap();
            previous = hash;
        }
    }
    sqlx::query("UPDATE event_store_head SET last_hash = ?").bind(&previous[..]).execute(pool).await.unwrap();
    let (status, report) = cli(&app, &["verify-chain"]).await;
    assert_eq!(status, ExitStatus::Success, "rewritten consistently, the chain alone cannot tell: {report}");
    let (status, report) = cli(&app, &["verify-chain", "--digest", &published]).await;
    assert_eq!(status, ExitStatus::Mismatch, "{report}");
    assert!(report.starts_with(&format!("digest mismatch at position {position}: published {hash}")), "{report}");
}
