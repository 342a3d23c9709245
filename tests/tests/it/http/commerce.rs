//! Buying over HTTP: the cart, one-append checkouts and what they post, every refusal changing
//! nothing, concurrency, refunds, releases of earnings, the sales dashboard, and rebuilds.

use std::collections::BTreeMap;

use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use super::catalogue::{book, category, course, id, patch};
use super::{admin_token, assert_error, cli, count_events, dump, head, key, read, spawn_with_admin};
use crate::api::{NO_RATE_LIMITS, Response, Session, TestApp};

pub(crate) async fn add(app: &TestApp, buyer: &Session, item_type: &str, item_id: Uuid) -> Response {
    app.post_json("/cart/items", Some(&buyer.token), &[], &json!({ "item_type": item_type, "item_id": item_id })).await
}

pub(crate) async fn checkout(app: &TestApp, buyer: &Session, key: &str, body: &Value) -> Response {
    app.post_json("/cart/checkout", Some(&buyer.token), &[("Idempotency-Key", key)], body).await
}

pub(crate) fn wallet_pay() -> Value {
    json!({ "payment_method": "wallet" })
}

async fn buy(app: &TestApp, buyer: &Session, item_type: &str, item_id: Uuid) -> Value {
    let added = add(app, buyer, item_type, item_id).await;
    assert_eq!(added.status, 201, "{}", added.text);
    let bought = checkout(app, buyer, &key(), &wallet_pay()).await;
    assert_eq!(bought.status, 201, "{}", bought.text);
    bought.body["data"].clone()
}

pub(crate) async fn wallet_of(app: &TestApp, session: &Session) -> Value {
    read(app, "/wallet", Some(&session.token)).await.body["data"].clone()
}

pub(crate) async fn transactions(app: &TestApp, session: &Session) -> Vec<Value> {
    let response = read(app, "/wallet/transactions?per_page=100", Some(&session.token)).await;
    assert_eq!(response.status, 200, "{}", response.text);
    response.body["data"].as_array().unwrap().clone()
}

/// A running app with an admin, a category, a speaker and a student whose wallet holds `funds`.
pub(crate) struct Shop {
    pub(crate) app: TestApp,
    pub(crate) admin: String,
    pub(crate) category_id: Uuid,
    pub(crate) speaker: Session,
    pub(crate) student: Session,
}

pub(crate) async fn shop(funds: &str) -> Shop {
    shop_on(spawn_with_admin().await, funds).await
}

pub(crate) async fn shop_on(app: TestApp, funds: &str) -> Shop {
    let admin = admin_token(&app).await;
    let category_id = category(&app, &admin).await;
    let (speaker, student) = (app.register("speaker").await, app.register("student").await);
    app.fund(&student.token, funds).await;
    Shop { app, admin, category_id, speaker, student }
}

/// Nothing but reads happened: no event since `position`.
async fn assert_unchanged_since(app: &TestApp, position: u64, what: &str) {
    assert_eq!(head(app).await, position, "{what} appended events");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_checkout_pays_each_item_earns_each_speaker_and_gives_access_in_one_append() {
    let Shop { app, admin, category_id, speaker: ahmad, student } = shop("500.00").await;
    let sara = app.register("speaker").await;
    let quran = course(&app, &ahmad, category_id, "تعلم القرآن", "115.00").await;
    let grammar = course(&app, &sara, category_id, "English Grammar", "80.00").await;
    let discounted = patch(&app, &format!("/courses/{grammar}"), &sara.token, &json!({ "discount_price": "57.50" })).await;
    assert_eq!(discounted.status, 200, "{}", discounted.text);
    let prayer = book(&app, &sara, category_id, "كتاب الصلاة", "10.01").await;

    for (item_type, item_id) in [("course", quran), ("course", grammar), ("book", prayer)] {
        let added = add(&app, &student, item_type, item_id).await;
        assert_eq!(added.status, 201, "{}", added.text);
    }
    assert_error(&add(&app, &student, "course", quran).await, 409, "already_in_cart");
    let cart = read(&app, "/cart", Some(&student.token)).await;
    assert_eq!(cart.body["data"]["items"].as_array().unwrap().len(), 3, "{}", cart.text);
    assert_eq!(cart.body["data"]["items"][1]["price"], "57.50", "the cart shows the effective price");
    // total 182.51; net = round_half_up(182.51 / 1.15) = 158.70; VAT 23.81.
    assert_eq!((cart.body["data"]["total"].as_str(), cart.body["data"]["vat_amount"].as_str(), cart.body["data"]["subtotal"].as_str()),
               (Some("182.51"), Some("23.81"), Some("158.70")));

    let idempotency_key = key();
    let events_before = count_events(&app, "WalletDebited").await;
    let bought = checkout(&app, &student, &idempotency_key, &wallet_pay()).await;
    assert_eq!(bought.status, 201, "{}", bought.text);
    let order = &bought.body["data"];
    assert_eq!((order["total"].as_str(), order["vat_amount"].as_str(), order["subtotal"].as_str()), (Some("182.51"), Some("23.81"), Some("158.70")));
    assert!(order["invoice_id"].is_string());
    let items = order["items"].as_array().unwrap();
    let vat_sum: f64 = items.iter().map(|item| item["vat"].as_str().unwrap().parse::<f64>().unwrap()).sum();
    assert!((vat_sum - 23.81).abs() < 0.001, "line VATs add up to the document's: {order}");
    assert_eq!(count_events(&app, "WalletDebited").await - events_before, 3, "one debit per item");
    let replayed = checkout(&app, &student, &idempotency_key, &wallet_pay()).await;
    assert_eq!(replayed.status, 201, "{}", replayed.text);
    assert_eq!(replayed.header("Idempotent-Replayed"), Some("true"));
    assert_eq!(replayed.body["data"], bought.body["data"]);
    assert_error(&checkout(&app, &student, &idempotency_key, &json!({ "payment_method": "wallet", "cart_item_ids": [] })).await, 422, "idempotency_key_reused");

    assert_eq!(wallet_of(&app, &student).await["balance"], "317.49");
    let history = transactions(&app, &student).await;
    let debits: Vec<(&str, &str, &str)> = history
        .iter()
        .filter(|t| t["type"] == "debit")
        .map(|t| (t["category"].as_str().unwrap(), t["amount"].as_str().unwrap(), t["balance_after"].as_str().unwrap()))
        .collect();
    assert_eq!(debits.len(), 3, "{history:?}");
    let mut categories: Vec<&str> = debits.iter().map(|d| d.0).collect();
    categories.sort();
    assert_eq!(categories, ["book", "course", "course"]);
    assert_eq!(debits[0].2, "317.49", "newest first, ending at the balance");

    // Each speaker's earning: net less 20% commission, pending, with the available balance unchanged.
    let ahmad_wallet = wallet_of(&app, &ahmad).await;
    // 115.00 carries 15.00 of VAT: net 100.00, commission 20.00, earning 80.00.
    assert_eq!((ahmad_wallet["balance"].as_str(), ahmad_wallet["pending_balance"].as_str(), ahmad_wallet["total_earned"].as_str()),
               (Some("0.00"), Some("80.00"), Some("80.00")));
    let earning = &transactions(&app, &ahmad).await[0];
    assert_eq!((earning["category"].as_str(), earning["status"].as_str(), earning["balance_after"].as_str()), (Some("earning"), Some("pending"), Some("0.00")));

    assert!(read(&app, "/cart", Some(&student.token)).await.body["data"]["items"].as_array().unwrap().is_empty());
    let enrolled = read(&app, "/me/enrollments", Some(&student.token)).await;
    assert_eq!(enrolled.body["meta"]["pagination"]["total"], 2, "{}", enrolled.text);
    let books = read(&app, "/me/books", Some(&student.token)).await;
    assert_eq!(books.body["data"][0]["item_id"], prayer.to_string());
    assert_eq!(books.body["data"][0]["title"], "كتاب الصلاة");
    let detail = read(&app, &format!("/courses/{quran}"), Some(&student.token)).await;
    assert_eq!(detail.body["data"]["is_enrolled"], true);
    assert_eq!(detail.body["data"]["students_count"], 1);
    assert!(detail.body["data"]["sections"][0]["lessons"][1]["content_url"].is_string(), "an enrolled student opens every lesson");
    let pdf = read(&app, &format!("/books/{prayer}"), Some(&student.token)).await;
    assert_eq!(pdf.body["data"]["pdf_url"], "https://media.example.com/book.pdf");
    assert_eq!(pdf.body["data"]["is_owned"], true);

    let order_id = id(&order["order_id"]);
    let orders = read(&app, "/orders", Some(&student.token)).await;
    assert_eq!(orders.body["data"][0]["id"], order_id.to_string(), "{}", orders.text);
    assert_eq!(orders.body["data"][0]["status"], "paid");
    assert_eq!(orders.body["data"][0]["total"], "182.51");
    assert_error(&read(&app, &format!("/orders/{order_id}"), Some(&ahmad.token)).await, 404, "not_found");
    assert_eq!(read(&app, &format!("/orders/{order_id}"), Some(&admin)).await.status, 200);

    let sales = read(&app, "/me/sales", Some(&ahmad.token)).await;
    assert_eq!(sales.body["data"]["orders_count"], 1, "{}", sales.text);
    for (field, value) in [("gross", "115.00"), ("vat", "15.00"), ("commission", "20.00"), ("net_earnings", "80.00"), ("pending", "80.00"), ("available", "0.00")] {
        assert_eq!(sales.body["data"][field], value, "{field}: {}", sales.text);
    }
    assert_eq!(sales.body["data"]["by_item"][0]["sales_count"], 1);
    let none = read(&app, "/me/sales?from=2020-01-01&to=2020-02-01", Some(&ahmad.token)).await;
    assert_eq!(none.body["data"]["orders_count"], 0, "{}", none.text);
    assert_error(&read(&app, "/me/sales?from=yesterday", Some(&ahmad.token)).await, 422, "validation_failed");

    let (status, report) = cli(&app, &["audit", "wallet", "--all"]).await;
    assert_eq!(status, replay_tools::ExitStatus::Success, "{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_refusal_answers_its_code_and_changes_nothing() {
    let Shop { app, category_id, speaker, student, .. } = shop("100.00").await;
    let cheap = course(&app, &speaker, category_id, "Cheap", "50.00").await;
    let dear = course(&app, &speaker, category_id, "Dear", "150.00").await;
    let free = course(&app, &speaker, category_id, "Free", "0.00").await;
    let draft = super::catalogue::draft_course(&app, &speaker, category_id, "Draft", "10.00").await;

    assert_error(&checkout(&app, &student, &key(), &wallet_pay()).await, 422, "cart_empty");
    assert_error(&add(&app, &speaker, "course", cheap).await, 409, "own_item");
    assert_error(&add(&app, &student, "course", draft).await, 404, "not_found");
    assert_error(&add(&app, &student, "course", Uuid::now_v7()).await, 404, "not_found");
    assert_error(&add(&app, &student, "live_room", Uuid::now_v7()).await, 404, "not_found");
    assert_error(&add(&app, &student, "gadget", cheap).await, 422, "validation_failed");
    assert_error(&checkout(&app, &student, &key(), &json!({ "payment_method": "card" })).await, 422, "validation_failed");

    // Insufficient funds: the whole checkout is refused.
    assert_eq!(add(&app, &student, "course", cheap).await.status, 201);
    assert_eq!(add(&app, &student, "course", dear).await.status, 201);
    let before = head(&app).await;
    assert_error(&checkout(&app, &student, &key(), &wallet_pay()).await, 409, "insufficient_funds");
    assert_unchanged_since(&app, before, "a checkout the wallet cannot pay").await;

    // An item archived after it was added.
    let cart = read(&app, "/cart", Some(&student.token)).await;
    let dear_line = cart.body["data"]["items"].as_array().unwrap().iter().find(|line| line["item_id"] == dear.to_string()).unwrap()["id"].clone();
    let removed = app.send(Method::DELETE, &format!("/cart/items/{}", dear_line.as_str().unwrap()), Some(&student.token), &[], None).await;
    assert_eq!(removed.status, 200, "{}", removed.text);
    assert_eq!(removed.body["data"], Value::Null);
    let archived = app.post_json(&format!("/courses/{cheap}/archive"), Some(&speaker.token), &[], &json!({})).await;
    assert_eq!(archived.status, 200);
    let before = head(&app).await;
    assert_error(&checkout(&app, &student, &key(), &wallet_pay()).await, 409, "not_available");
    assert_unchanged_since(&app, before, "a checkout of an archived item").await;
    let cart = read(&app, "/cart", Some(&student.token)).await;
    let cheap_line = cart.body["data"]["items"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(app.send(Method::DELETE, &format!("/cart/items/{cheap_line}"), Some(&student.token), &[], None).await.status, 200);

    // A free course enrolls without moving money or issuing an invoice.
    let debits = count_events(&app, "WalletDebited").await;
    let order = buy(&app, &student, "course", free).await;
    assert_eq!((order["total"].as_str(), order["invoice_id"].clone()), (Some("0.00"), Value::Null));
    assert_eq!(count_events(&app, "WalletDebited").await, debits);
    assert_eq!(super::balance(&app, &student.token).await, "100.00");
    assert_error(&add(&app, &student, "course", free).await, 409, "already_owned");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_checkouts_from_a_wallet_that_covers_ten_make_exactly_ten_orders() {
    let Shop { app, category_id, speaker, student, .. } = shop("1150.00").await;
    let mut lines = Vec::new();
    for n in 0..50 {
        let course_id = course(&app, &speaker, category_id, &format!("Course {n}"), "115.00").await;
        let added = add(&app, &student, "course", course_id).await;
        assert_eq!(added.status, 201, "{}", added.text);
        lines.push(added.body["data"]["id"].as_str().unwrap().to_owned());
    }
    let answers = futures::future::join_all(lines.iter().map(|line| {
        let (app, student) = (&app, &student);
        async move { checkout(app, student, &key(), &json!({ "payment_method": "wallet", "cart_item_ids": [line] })).await }
    }))
    .await;
    let mut statuses = BTreeMap::new();
    for answer in &answers {
        *statuses.entry((answer.status, answer.body["error"]["code"].as_str().unwrap_or("").to_owned())).or_insert(0) += 1;
    }
    assert_eq!(statuses, BTreeMap::from([((201, String::new()), 10), ((409, "insufficient_funds".to_owned()), 40)]));
    assert_eq!(count_events(&app, "OrderPlaced").await, 10);
    assert_eq!(super::balance(&app, &student.token).await, "0.00");
    // balance_after chains: each debit leaves exactly 115.00 less than the one before.
    let history = transactions(&app, &student).await;
    let mut after: Vec<f64> = history.iter().filter(|t| t["type"] == "debit").map(|t| t["balance_after"].as_str().unwrap().parse().unwrap()).collect();
    after.reverse();
    assert_eq!(after.len(), 10);
    for (n, balance) in after.iter().enumerate() {
        assert!((balance - (1150.0 - 115.0 * (n as f64 + 1.0))).abs() < 0.001, "{after:?}");
    }
    let orders = read(&app, "/orders", Some(&student.token)).await;
    assert_eq!(orders.body["meta"]["pagination"]["total"], 10);
    assert_eq!(read(&app, "/cart", Some(&student.token)).await.body["data"]["items"].as_array().unwrap().len(), 40);
    let (status, report) = cli(&app, &["audit", "wallet", "--all"]).await;
    assert_eq!(status, replay_tools::ExitStatus::Success, "{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_course_bought_twice_at_once_gives_one_enrollment() {
    let Shop { app, category_id, speaker, student, .. } = shop("500.00").await;
    let course_id = course(&app, &speaker, category_id, "Once", "115.00").await;
    assert_eq!(add(&app, &student, "course", course_id).await.status, 201);
    let (keys, pay) = ([key(), key()], wallet_pay());
    let (first, second) = tokio::join!(checkout(&app, &student, &keys[0], &pay), checkout(&app, &student, &keys[1], &pay));
    let mut statuses = [first.status, second.status];
    statuses.sort();
    assert_eq!(statuses, [201, 422], "{} / {}", first.text, second.text);
    let refused = if first.status == 201 { &second } else { &first };
    assert_eq!(refused.body["error"]["code"], "cart_empty");
    assert_eq!(count_events(&app, "ItemAcquired").await, 1);
    assert_eq!(super::balance(&app, &student.token).await, "385.00");
    assert_error(&add(&app, &student, "course", course_id).await, 409, "already_owned");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refund_reverses_exactly_its_postings_and_access_and_the_item_can_be_bought_again() {
    let Shop { app, admin, category_id, speaker, student } = shop("300.00").await;
    let first = course(&app, &speaker, category_id, "First", "115.00").await;
    let second = course(&app, &speaker, category_id, "Second", "57.50").await;
    assert_eq!(add(&app, &student, "course", first).await.status, 201);
    let order = buy(&app, &student, "course", second).await;
    let order_id = order["order_id"].as_str().unwrap().to_owned();
    let first_line = order["items"].as_array().unwrap().iter().find(|item| item["item_id"] == first.to_string()).unwrap()["id"].clone();
    assert_eq!(wallet_of(&app, &speaker).await["pending_balance"], "120.00", "80.00 + 40.00");

    let refund = |body: Value, token: String| {
        let (app, order_id) = (&app, order_id.clone());
        async move { app.post_json(&format!("/orders/{order_id}/refund"), Some(&token), &[("Idempotency-Key", &key())], &body).await }
    };
    assert_error(&refund(json!({ "reason": "asked" }), student.token.clone()).await, 403, "forbidden");
    assert_error(&refund(json!({ "reason": "", "item_ids": [Uuid::now_v7()] }), admin.clone()).await, 422, "validation_failed");
    let refunded = refund(json!({ "item_ids": [first_line], "reason": "Not as described" }), admin.clone()).await;
    assert_eq!(refunded.status, 200, "{}", refunded.text);
    assert_eq!(refunded.body["data"]["status"], "partially_refunded");
    assert_eq!(refunded.body["data"]["refunded_amount"], "115.00");
    assert!(refunded.body["data"]["credit_note_id"].is_string());
    assert_error(&refund(json!({ "item_ids": [first_line], "reason": "again" }), admin.clone()).await, 409, "already_refunded");

    assert_eq!(super::balance(&app, &student.token).await, "242.50", "300 − 172.50 + 115");
    let refund_credit = &transactions(&app, &student).await[0];
    assert_eq!((refund_credit["type"].as_str(), refund_credit["category"].as_str()), (Some("credit"), Some("refund")));
    let speaker_wallet = wallet_of(&app, &speaker).await;
    assert_eq!((speaker_wallet["pending_balance"].as_str(), speaker_wallet["total_earned"].as_str()), (Some("40.00"), Some("40.00")));
    let enrolled = read(&app, "/me/enrollments", Some(&student.token)).await;
    assert_eq!(enrolled.body["meta"]["pagination"]["total"], 1, "the refunded course left the list: {}", enrolled.text);
    let detail = read(&app, &format!("/courses/{first}"), Some(&student.token)).await;
    assert_eq!(detail.body["data"]["is_enrolled"], false);
    assert!(detail.body["data"]["sections"][0]["lessons"][1].get("content_url").is_none());
    let sales = read(&app, "/me/sales", Some(&speaker.token)).await;
    assert_eq!(sales.body["data"]["net_earnings"], "40.00", "refunded items leave the dashboard: {}", sales.text);

    // The rest of the order, then the course bought again.
    let rest = refund(json!({ "reason": "Goodwill" }), admin.clone()).await;
    assert_eq!(rest.status, 200, "{}", rest.text);
    assert_eq!((rest.body["data"]["status"].as_str(), rest.body["data"]["refunded_amount"].as_str()), (Some("refunded"), Some("57.50")));
    let shown = read(&app, &format!("/orders/{order_id}"), Some(&student.token)).await;
    assert_eq!((shown.body["data"]["status"].as_str(), shown.body["data"]["refunded_amount"].as_str()), (Some("refunded"), Some("172.50")));
    buy(&app, &student, "course", first).await;
    assert_eq!(super::balance(&app, &student.token).await, "185.00");
    let (status, report) = cli(&app, &["audit", "wallet", "--all"]).await;
    assert_eq!(status, replay_tools::ExitStatus::Success, "{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scheduler_releases_due_earnings_once_and_a_refund_after_release_takes_from_the_available_balance() {
    let [limit, auth_limit] = NO_RATE_LIMITS;
    let app = TestApp::spawn(&[limit, auth_limit, ("BOOTSTRAP_ADMIN_EMAIL", super::ADMIN_EMAIL), ("BOOTSTRAP_ADMIN_PASSWORD", super::ADMIN_PASSWORD),
                               ("EARNINGS_RELEASE_DAYS", "0"), ("SCHEDULER_INTERVAL_SECONDS", "1")]).await;
    let Shop { app, admin, category_id, speaker, student } = shop_on(app, "200.00").await;
    let course_id = course(&app, &speaker, category_id, "Released", "115.00").await;
    let order = buy(&app, &student, "course", course_id).await;

    let mut released = Value::Null;
    for _ in 0..100 {
        released = wallet_of(&app, &speaker).await;
        if released["balance"] == "80.00" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!((released["balance"].as_str(), released["pending_balance"].as_str()), (Some("80.00"), Some("0.00")), "{released}");
    let history = transactions(&app, &speaker).await;
    assert_eq!((history[0]["category"].as_str(), history[0]["status"].as_str(), history[0]["balance_after"].as_str()),
               (Some("settlement"), Some("completed"), Some("80.00")));
    assert_eq!(history[1]["status"], "completed", "the earning is no longer pending: {history:?}");
    let (status, report) = cli(&app, &["settle"]).await;
    assert_eq!(status, replay_tools::ExitStatus::Success);
    assert!(report.starts_with("released 0 earnings"), "{report}");
    assert_eq!(count_events(&app, "EarningReleased").await, 1);

    let refunded = app.post_json(&format!("/orders/{}/refund", order["order_id"].as_str().unwrap()), Some(&admin), &[("Idempotency-Key", &key())],
                                 &json!({ "reason": "Refund after release" })).await;
    assert_eq!(refunded.status, 200, "{}", refunded.text);
    let after = wallet_of(&app, &speaker).await;
    assert_eq!((after["balance"].as_str(), after["total_earned"].as_str()), (Some("0.00"), Some("0.00")), "{after}");
    assert_eq!(transactions(&app, &speaker).await[0]["category"], "refund");
    let (status, report) = cli(&app, &["audit", "wallet", "--all"]).await;
    assert_eq!(status, replay_tools::ExitStatus::Success, "{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rebuilding_the_catalogue_commerce_and_wallet_projections_gives_identical_rows() {
    let Shop { app, admin, category_id, speaker, student } = shop("500.00").await;
    let first = course(&app, &speaker, category_id, "مدرسة القرآن", "115.00").await;
    let second = course(&app, &speaker, category_id, "Second", "50.00").await;
    let book_id = book(&app, &speaker, category_id, "Book", "20.00").await;
    assert_eq!(add(&app, &student, "book", book_id).await.status, 201);
    let order = buy(&app, &student, "course", first).await;
    assert_eq!(add(&app, &student, "course", second).await.status, 201);
    let refunded = app.post_json(&format!("/orders/{}/refund", order["order_id"].as_str().unwrap()), Some(&admin), &[("Idempotency-Key", &key())],
                                 &json!({ "item_ids": [order["items"][0]["id"]], "reason": "test" })).await;
    assert_eq!(refunded.status, 200, "{}", refunded.text);
    read(&app, "/cart", Some(&student.token)).await;
    const TABLES: [&str; 12] = ["categories", "courses", "course_sections", "course_lessons", "books", "cart_items", "library_items", "orders",
                                "order_items", "wallet_transactions", "wallet_balances", "pending_earnings"];
    let mut before = Vec::new();
    for table in TABLES {
        before.push(dump(&app, table).await);
    }
    assert!(before.iter().all(|rows| !rows.is_empty()), "every table has rows to compare");
    for projection in ["catalogue", "commerce", "wallets"] {
        let (status, report) = cli(&app, &["rebuild", projection]).await;
        assert_eq!(status, replay_tools::ExitStatus::Success, "{report}");
    }
    for (table, rows) in TABLES.iter().zip(before) {
        assert_eq!(dump(&app, table).await, rows, "{table} after rebuild");
    }
}
