//! Invoicing rules: the ZATCA QR code, the seller's details, document numbers, documents built
//! from a checkout's lines, and credit notes.

use chrono::{TimeZone, Utc};
use domain::catalogue::Title;
use domain::commerce::order::{Order, OrderCommand, OrderEvent, Sale};
use domain::commerce::pricing::CommissionRate;
use domain::commerce::{ItemRef, ItemType};
use domain::invoicing::document::{CreditError, DocumentLine, DocumentTotals, credit_lines};
use domain::invoicing::number::{DocumentKind, DocumentNumber, numbering_year};
use domain::invoicing::seller::{Seller, SellerCommand, SellerError, SellerEvent, SellerField, SellerRecord};
use domain::invoicing::zatca::{self, QrError, QrFields};
use domain::kernel::testing::given;
use domain::money::Money;
use uuid::Uuid;

fn sar(text: &str) -> Money {
    Money::parse(text).unwrap()
}

#[test]
fn zatcas_own_example_comes_out_exactly() {
    let fields = QrFields {
        seller_name: "Bobs Records",
        vat_number: "310122393500003",
        issued_at: Utc.with_ymd_and_hms(2022, 4, 25, 15, 30, 0).unwrap(),
        total: sar("1000.00"),
        vat: sar("150.00"),
    };
    assert_eq!(
        zatca::payload(&fields).unwrap(),
        "AQxCb2JzIFJlY29yZHMCDzMxMDEyMjM5MzUwMDAwMwMUMjAyMi0wNC0yNVQxNTozMDowMFoEBzEwMDAuMDAFBjE1MC4wMA=="
    );
}

#[test]
fn an_arabic_seller_name_is_counted_in_bytes_and_reads_back_the_same() {
    let name = "شركة آي سبيكر لايف";
    let fields = QrFields {
        seller_name: name,
        vat_number: "300000000000003",
        // Sub-second parts are not written: the QR time is to the second.
        issued_at: Utc.with_ymd_and_hms(2026, 11, 22, 9, 5, 7).unwrap() + chrono::TimeDelta::microseconds(123_456),
        total: sar("115.00"),
        vat: sar("15.00"),
    };
    let tlv = zatca::tlv(&fields).unwrap();
    assert_eq!(tlv[0], 1);
    assert_eq!(usize::from(tlv[1]), name.len());
    assert_eq!(name.len(), 33, "15 Arabic letters of two bytes each and three spaces");
    assert_eq!(&tlv[2..2 + name.len()], name.as_bytes());
    let decoded = zatca::decode(&zatca::payload(&fields).unwrap()).unwrap();
    assert_eq!(
        decoded,
        vec![
            (1, name.to_owned()),
            (2, "300000000000003".to_owned()),
            (3, "2026-11-22T09:05:07Z".to_owned()),
            (4, "115.00".to_owned()),
            (5, "15.00".to_owned()),
        ]
    );
}

#[test]
fn a_field_over_255_bytes_is_refused_never_cut() {
    let long = "ب".repeat(128); // 256 bytes
    let fields = QrFields { seller_name: &long, vat_number: "300000000000003", issued_at: Utc::now(), total: sar("1.00"), vat: sar("0.13") };
    assert_eq!(zatca::tlv(&fields), Err(QrError::TooLong { tag: 1, bytes: 256 }));
    assert_eq!(Seller::new(&long, "iSpeaker", "300000000000003", "Riyadh").unwrap_err(), SellerError::TooLong(SellerField::NameAr));
    let fits = "ب".repeat(127);
    assert!(Seller::new(&fits, "iSpeaker", "300000000000003", "Riyadh").is_ok());
}

#[test]
fn the_sellers_details_are_checked() {
    let seller = |vat: &str| Seller::new("آي سبيكر", "iSpeaker", vat, "Riyadh");
    assert!(seller("310122393500003").is_ok());
    for bad in ["31012239350000", "3101223935000033", "210122393500003", "310122393500002", "31012239350000a", ""] {
        assert_eq!(seller(bad).unwrap_err(), SellerError::InvalidVatNumber, "{bad:?}");
    }
    assert_eq!(Seller::new(" ", "iSpeaker", "310122393500003", "Riyadh").unwrap_err(), SellerError::Blank(SellerField::NameAr));
    assert_eq!(Seller::new("آي", "iSpeaker", "310122393500003", "Riyadh\nKSA").unwrap_err(), SellerError::Blank(SellerField::Address));
    let trimmed = Seller::new("  آي سبيكر ", "iSpeaker", " 310122393500003 ", "Riyadh").unwrap();
    assert_eq!((trimmed.name.as_str(), trimmed.vat_number.as_str()), ("آي سبيكر", "310122393500003"));
}

#[test]
fn the_seller_is_recorded_when_it_changes_only() {
    let seller = Seller::new("آي سبيكر", "iSpeaker", "310122393500003", "Riyadh").unwrap();
    let recorded = SellerEvent::SellerRecorded { seller: seller.clone() };
    given::<SellerRecord>([]).when(SellerCommand::Record(seller.clone())).then(vec![recorded.clone()]);
    given::<SellerRecord>([recorded.clone()]).when(SellerCommand::Record(seller.clone())).then(vec![]);
    let moved = Seller { address: "Jeddah".into(), ..seller };
    given::<SellerRecord>([recorded]).when(SellerCommand::Record(moved.clone())).then(vec![SellerEvent::SellerRecorded { seller: moved }]);
}

#[test]
fn numbers_have_a_series_per_kind_and_riyadh_year_and_six_digits_at_least() {
    let number = |kind, year, sequence| DocumentNumber { kind, year, sequence }.to_string();
    assert_eq!(number(DocumentKind::Invoice, 2026, 1), "INV-2026-000001");
    assert_eq!(number(DocumentKind::CreditNote, 2026, 42), "CN-2026-000042");
    assert_eq!(number(DocumentKind::Invoice, 2027, 1_234_567), "INV-2027-1234567");
    // 21:00 UTC on 31 December is already midnight in Riyadh.
    assert_eq!(numbering_year(Utc.with_ymd_and_hms(2026, 12, 31, 20, 59, 59).unwrap()), 2026);
    assert_eq!(numbering_year(Utc.with_ymd_and_hms(2026, 12, 31, 21, 0, 0).unwrap()), 2027);
}

/// The document lines of a checkout of these prices.
fn invoice_of(prices: &[&str]) -> Vec<DocumentLine> {
    let sales = prices
        .iter()
        .enumerate()
        .map(|(n, price)| {
            Sale::one(
                Uuid::from_u128(n as u128 + 1),
                ItemRef { item_type: ItemType::Course, item_id: Uuid::from_u128(1000 + n as u128) },
                Title::parse(&format!("Course {n}")).unwrap(),
                Uuid::from_u128(77),
                sar(price),
            )
        })
        .collect();
    let place = OrderCommand::Place {
        order_id: Uuid::from_u128(500),
        buyer_id: Uuid::from_u128(9),
        sales,
        commission_rate: CommissionRate::DEFAULT,
        invoice_id: Uuid::from_u128(600),
        placed_at: Utc::now(),
    };
    use domain::kernel::Aggregate;
    match Order::default().handle(place).unwrap().remove(0) {
        OrderEvent::OrderPlaced { lines, .. } => lines.iter().map(DocumentLine::of_order_line).collect(),
        other => panic!("{other:?}"),
    }
}

#[test]
fn every_line_and_the_document_add_up_whatever_the_prices() {
    let carts: [&[&str]; 7] = [
        &["0.01"],
        &["0.99"],
        &["1.15"],
        &["99.99"],
        &["1000000.00"],
        // Each line alone would round its VAT to 0.01 (0.03 in all); the document's is 0.04.
        &["0.10", "0.10", "0.10"],
        &["0.99", "99.99", "1.15"],
    ];
    for prices in carts {
        let lines = invoice_of(prices);
        for line in &lines {
            assert!(line.is_consistent(), "{prices:?}: {line:?}");
        }
        let totals = DocumentTotals::of(&lines).unwrap();
        let total: i64 = prices.iter().map(|price| sar(price).halalas()).sum();
        assert_eq!(totals.total.halalas(), total, "{prices:?}");
        // The document's VAT is computed on its total, rounded half up.
        let (net, vat) = domain::money::vat_split(totals.total);
        assert_eq!((totals.subtotal, totals.vat_amount), (net, vat), "{prices:?}");
    }
    let three = invoice_of(&["0.10", "0.10", "0.10"]);
    assert_eq!(DocumentTotals::of(&three).unwrap().vat_amount, sar("0.04"));
    assert_eq!(three.iter().map(|line| line.vat.to_string()).collect::<Vec<_>>(), ["0.02", "0.01", "0.01"]);
    assert_eq!(invoice_of(&["1.15"])[0].vat, sar("0.15"));
    assert_eq!(invoice_of(&["0.01"])[0].vat, sar("0.00"));
    assert_eq!(invoice_of(&["1000000.00"])[0].vat, sar("130434.78"));
}

#[test]
fn a_credit_note_takes_the_refunded_lines_once_and_never_passes_the_invoice() {
    let invoice = invoice_of(&["10.00", "20.00", "30.00"]);
    let [a, b, c] = [invoice[0].source_line_id, invoice[1].source_line_id, invoice[2].source_line_id];
    let first = credit_lines(&invoice, &[], Money::ZERO, &[b]).unwrap();
    assert_eq!(first, vec![invoice[1].clone()]);
    let credited = DocumentTotals::of(&first).unwrap().total;
    assert_eq!(credit_lines(&invoice, &[b], credited, &[b]), Err(CreditError::AlreadyCredited(b)));
    assert_eq!(credit_lines(&invoice, &[], Money::ZERO, &[a, a]), Err(CreditError::AlreadyCredited(a)));
    assert_eq!(credit_lines(&invoice, &[], Money::ZERO, &[Uuid::from_u128(999)]), Err(CreditError::UnknownLine(Uuid::from_u128(999))));
    // Whatever the lines, the credits never pass the invoice's total.
    assert_eq!(credit_lines(&invoice, &[], sar("45.00"), &[c]), Err(CreditError::BeyondTotal));
    let rest = credit_lines(&invoice, &[b], credited, &[a, c]).unwrap();
    let all = DocumentTotals::of(&[first, rest].concat()).unwrap();
    assert_eq!(all, DocumentTotals::of(&invoice).unwrap());
}
