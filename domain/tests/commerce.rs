//! Commerce rules: carts, libraries, orders and the split of a checkout's prices.

use chrono::{DateTime, TimeZone, Utc};
use domain::catalogue::Title;
use domain::commerce::cart::{Cart, CartCommand, CartEvent};
use domain::commerce::library::{Library, LibraryCommand, LibraryEvent};
use domain::commerce::order::{Order, OrderCommand, OrderEvent, OrderStatus, RefundReason, Sale};
use domain::commerce::pricing::{CommissionRate, split};
use domain::commerce::{CommerceError, ItemRef, ItemType};
use domain::kernel::testing::given;
use domain::money::Money;
use proptest::prelude::*;
use uuid::Uuid;

fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

fn at(day: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, day, 9, 0, 0).unwrap()
}

fn sar(text: &str) -> Money {
    Money::parse(text).unwrap()
}

fn course(n: u128) -> ItemRef {
    ItemRef { item_type: ItemType::Course, item_id: id(n) }
}

const BUYER: u128 = 100;

#[test]
fn the_same_item_goes_into_a_cart_once_and_a_checkout_empties_it() {
    let added = CartEvent::CartItemAdded { user_id: id(BUYER), cart_item_id: id(1), item: course(7), added_at: at(1) };
    given::<Cart>([added.clone()])
        .when(CartCommand::Add { user_id: id(BUYER), cart_item_id: id(2), item: course(7), added_at: at(1) })
        .then_rejected(CommerceError::AlreadyInCart);
    let cart = given::<Cart>([added])
        .when(CartCommand::CheckOut { order_id: id(50), cart_item_ids: None })
        .then(vec![CartEvent::CartCheckedOut { user_id: id(BUYER), order_id: id(50), cart_item_ids: vec![id(1)] }]);
    assert!(cart.items().is_empty());
    given::<Cart>([]).when(CartCommand::CheckOut { order_id: id(51), cart_item_ids: None }).then_rejected(CommerceError::CartEmpty);
    given::<Cart>([]).when(CartCommand::Remove { cart_item_id: id(1) }).then_rejected(CommerceError::UnknownCartItem);
}

#[test]
fn a_checkout_of_some_cart_items_leaves_the_others_and_refuses_items_not_in_the_cart() {
    let history = [
        CartEvent::CartItemAdded { user_id: id(BUYER), cart_item_id: id(1), item: course(7), added_at: at(1) },
        CartEvent::CartItemAdded { user_id: id(BUYER), cart_item_id: id(2), item: course(8), added_at: at(1) },
    ];
    let cart = given::<Cart>(history.clone())
        .when(CartCommand::CheckOut { order_id: id(50), cart_item_ids: Some(vec![id(2)]) })
        .then(vec![CartEvent::CartCheckedOut { user_id: id(BUYER), order_id: id(50), cart_item_ids: vec![id(2)] }]);
    assert_eq!(cart.items().iter().map(|added| added.cart_item_id).collect::<Vec<_>>(), vec![id(1)]);
    given::<Cart>(history.clone())
        .when(CartCommand::CheckOut { order_id: id(50), cart_item_ids: Some(vec![id(2), id(3)]) })
        .then_rejected(CommerceError::UnknownCartItem);
    given::<Cart>(history).when(CartCommand::CheckOut { order_id: id(50), cart_item_ids: Some(vec![]) }).then_rejected(CommerceError::CartEmpty);
}

#[test]
fn an_item_is_owned_once_until_its_line_is_refunded() {
    let acquired = LibraryEvent::ItemAcquired { user_id: id(BUYER), item: course(7), order_id: id(50), order_item_id: id(60), acquired_at: at(1) };
    given::<Library>([acquired.clone()])
        .when(LibraryCommand::Acquire { user_id: id(BUYER), item: course(7), order_id: id(51), order_item_id: id(61), acquired_at: at(2) })
        .then_rejected(CommerceError::AlreadyOwned);
    // Only the line that gave it takes it back.
    given::<Library>([acquired.clone()])
        .when(LibraryCommand::Revoke { item: course(7), order_item_id: id(99), revoked_at: at(3) })
        .then_rejected(CommerceError::NotOwned);
    let library = given::<Library>([acquired])
        .when(LibraryCommand::Revoke { item: course(7), order_item_id: id(60), revoked_at: at(3) })
        .then(vec![LibraryEvent::ItemRevoked { user_id: id(BUYER), item: course(7), order_item_id: id(60), revoked_at: at(3) }]);
    assert!(!library.owns(&course(7)));
}

#[test]
fn one_line_of_115_splits_into_100_net_15_vat_20_commission_and_80_earned() {
    let (lines, totals) = split(&[sar("115")], CommissionRate::DEFAULT).unwrap();
    assert_eq!((totals.total, totals.vat_amount, totals.subtotal), (sar("115"), sar("15"), sar("100")));
    assert_eq!((lines[0].net, lines[0].vat, lines[0].commission, lines[0].earning), (sar("100"), sar("15"), sar("20"), sar("80")));
}

#[test]
fn line_vats_are_allocated_to_add_up_to_the_document_vat() {
    // Three lines of 10.00: the document's VAT is 30 − round(30 / 1.15) = 3.91, not 3 × 1.30.
    let (lines, totals) = split(&[sar("10"), sar("10"), sar("10")], CommissionRate::DEFAULT).unwrap();
    assert_eq!(totals.vat_amount, sar("3.91"));
    assert_eq!(lines.iter().map(|line| line.vat).collect::<Vec<_>>(), vec![sar("1.31"), sar("1.30"), sar("1.30")]);
    // A free line takes no VAT.
    let (lines, totals) = split(&[sar("0"), sar("57.50")], CommissionRate::DEFAULT).unwrap();
    assert_eq!((lines[0].vat, lines[1].vat, totals.vat_amount), (Money::ZERO, sar("7.50"), sar("7.50")));
}

proptest! {
    #[test]
    fn a_split_always_adds_up(prices in prop::collection::vec(0i64..=10_000_000, 1..12), rate_bp in 0u32..10_000) {
        let prices: Vec<Money> = prices.into_iter().map(|h| Money::from_halalas(h).unwrap()).collect();
        let rate = CommissionRate::new(rust_decimal::Decimal::new(i64::from(rate_bp), 4)).unwrap();
        let (lines, totals) = split(&prices, rate).unwrap();
        let sum = |part: fn(&domain::commerce::pricing::LineSplit) -> Money| lines.iter().map(|line| part(line).amount()).sum::<rust_decimal::Decimal>();
        prop_assert_eq!(sum(|line| line.vat), totals.vat_amount.amount());
        prop_assert_eq!(sum(|line| line.net), totals.subtotal.amount());
        prop_assert_eq!(totals.subtotal.amount() + totals.vat_amount.amount(), totals.total.amount());
        for line in &lines {
            prop_assert_eq!(line.net.amount() + line.vat.amount(), line.unit_price.amount());
            prop_assert_eq!(line.commission.amount() + line.earning.amount(), line.net.amount());
        }
    }
}

fn sale(n: u128, price: &str) -> Sale {
    Sale::one(id(60 + n), course(n), Title::parse("Course").unwrap(), id(300), sar(price))
}

fn placed(sales: Vec<Sale>) -> (Vec<OrderEvent>, Order) {
    given::<Order>([])
        .when(OrderCommand::Place { order_id: id(50), buyer_id: id(BUYER), sales, commission_rate: CommissionRate::DEFAULT, invoice_id: id(70), placed_at: at(1) })
        .then_ok()
}

fn refund(lines: Option<Vec<u128>>) -> OrderCommand {
    OrderCommand::Refund {
        order_item_ids: lines.map(|lines| lines.into_iter().map(|n| id(60 + n)).collect()),
        reason: RefundReason::parse("Course cancelled").unwrap(),
        credit_note_id: id(80),
        refunded_at: at(2),
    }
}

#[test]
fn a_free_order_has_no_invoice_and_a_paid_one_names_it() {
    let (events, _) = placed(vec![sale(1, "0")]);
    assert!(matches!(&events[0], OrderEvent::OrderPlaced { invoice_id: None, .. }));
    let (events, _) = placed(vec![sale(1, "115")]);
    assert!(matches!(&events[0], OrderEvent::OrderPlaced { invoice_id: Some(invoice), .. } if *invoice == id(70)));
}

#[test]
fn refunds_take_listed_lines_once_and_the_rest_after_a_partial_one() {
    let (placed_events, _) = placed(vec![sale(1, "115"), sale(2, "57.50")]);
    let (partial, order) = given::<Order>(placed_events.clone()).when(refund(Some(vec![2]))).then_ok();
    assert_eq!(order.status(), OrderStatus::PartiallyRefunded);
    let OrderEvent::OrderRefunded { amount, vat, order_item_ids, .. } = &partial[0] else { panic!("{partial:?}") };
    assert_eq!((*amount, *vat, order_item_ids.clone()), (sar("57.50"), sar("7.50"), vec![id(62)]));
    let history: Vec<OrderEvent> = placed_events.into_iter().chain(partial).collect();
    given::<Order>(history.clone()).when(refund(Some(vec![2]))).then_rejected(CommerceError::AlreadyRefunded);
    given::<Order>(history.clone()).when(refund(Some(vec![9]))).then_rejected(CommerceError::UnknownOrderItem);
    let (rest, order) = given::<Order>(history.clone()).when(refund(None)).then_ok();
    assert!(matches!(&rest[0], OrderEvent::OrderRefunded { order_item_ids, .. } if *order_item_ids == vec![id(61)]));
    assert_eq!(order.status(), OrderStatus::Refunded);
    given::<Order>(history.into_iter().chain(rest)).when(refund(None)).then_rejected(CommerceError::AlreadyRefunded);
}
