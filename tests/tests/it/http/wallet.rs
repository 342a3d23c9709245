//! The wallet context over HTTP: balances, transactions, top-ups and the payments webhook,
//! withdrawals and their admin decisions, idempotency, and the races that must not move money twice.

use serde_json::json;
use uuid::Uuid;

use super::*;
use crate::api::{NO_RATE_LIMITS, Response, TestApp};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_captured_top_up_credits_the_wallet_and_lists_as_transactions() {
    let app = spawn().await;
    let user = app.register("student").await;
    let empty = app.get_with("/wallet", Some(&user.token), &[]).await;
    assert_eq!(empty.status, 200, "{}", empty.text);
    assert_eq!(
        empty.body["data"],
        json!({ "balance": "0.00", "pending_balance": "0.00", "total_earned": "0.00", "total_withdrawn": "0.00", "currency": "SAR" })
    );

    let created = app
        .post_json("/wallet/top-ups", Some(&user.token), &[("Idempotency-Key", &key())], &json!({ "amount": "100", "provider": "sandbox" }))
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    assert_eq!(created.body["data"]["status"], "pending");
    assert_eq!(created.body["data"]["amount"], "100.00");
    assert!(created.body["data"]["checkout_url"].as_str().is_some_and(|u| !u.is_empty()));
    created.position();
    let top_up_id: Uuid = created.body["data"]["top_up_id"].as_str().unwrap().parse().unwrap();
    // Pending is not money yet.
    assert_eq!(app.wallet(&user.token, created.position()).await["balance"], "0.00");

    let delivered = app.webhook(&captured(top_up_id, "100.00")).await;
    assert_eq!(delivered.status, 200, "{}", delivered.text);
    assert_eq!(delivered.body["data"], json!({ "top_up_id": top_up_id, "status": "captured" }));
    assert_eq!(app.wallet(&user.token, delivered.position()).await["balance"], "100.00");

    let second = app.fund(&user.token, "50.25").await;
    assert_eq!(app.wallet(&user.token, second).await["balance"], "150.25");

    let page = |query: &'static str| {
        let app = &app;
        let token = user.token.clone();
        async move { app.get_with(&format!("/wallet/transactions{query}"), Some(&token), &[("X-Min-Position", &second.to_string())]).await }
    };
    let first = page("?per_page=1").await;
    assert_eq!(first.status, 200, "{}", first.text);
    assert_eq!(first.body["meta"]["pagination"], json!({ "current_page": 1, "total_pages": 2, "per_page": 1, "total": 2 }));
    let newest = &first.body["data"][0];
    assert_eq!(newest["type"], "credit");
    assert_eq!(newest["category"], "top_up");
    assert_eq!(newest["amount"], "50.25");
    assert_eq!(newest["balance_after"], "150.25");
    assert!(chrono::DateTime::parse_from_rfc3339(newest["created_at"].as_str().unwrap()).is_ok());
    let older = page("?page=2&per_page=1").await;
    assert_eq!(older.body["data"][0]["amount"], "100.00");
    assert_eq!(older.body["data"][0]["related"]["id"], top_up_id.to_string());
    assert_eq!(older.body["meta"]["pagination"]["current_page"], 2);

    let top_ups = page("?category=top_up").await;
    assert_eq!(top_ups.body["meta"]["pagination"]["total"], 2);
    assert_eq!(top_ups.body["meta"]["pagination"]["per_page"], 20);
    let withdrawals = page("?category=withdrawal").await;
    assert_eq!(withdrawals.status, 200);
    assert_eq!(withdrawals.body["data"], json!([]));
    assert_eq!(withdrawals.body["meta"]["pagination"]["total"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_approves_or_rejects_a_speakers_withdrawal() {
    let app = spawn_with_admin().await;
    let speaker = app.register("speaker").await;
    app.fund(&speaker.token, "100.00").await;

    let requested = withdraw(&app, &speaker.token, "30", &key()).await;
    assert_eq!(requested.status, 201, "{}", requested.text);
    assert_eq!(requested.body["data"]["status"], "pending");
    assert_eq!(requested.body["data"]["amount"], "30.00");
    let first_id = requested.body["data"]["withdrawal_id"].as_str().unwrap().to_owned();
    assert_eq!(app.wallet(&speaker.token, requested.position()).await["balance"], "70.00");

    let admin = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let me = app.get_with("/auth/me", Some(&admin), &[]).await;
    assert_eq!(me.body["data"]["roles"], json!(["admin"]));
    assert!(!app.login("admin", ADMIN_PASSWORD).await.is_empty());

    let approved = app.post_raw(&format!("/admin/withdrawals/{first_id}/approve"), Some(&admin), &[("Idempotency-Key", &key())], b"").await;
    assert_eq!(approved.status, 200, "{}", approved.text);
    assert_eq!(approved.body["data"], json!({ "withdrawal_id": first_id, "status": "completed" }));
    let wallet = app.wallet(&speaker.token, approved.position()).await;
    assert_eq!(wallet["balance"], "70.00");
    assert_eq!(wallet["total_withdrawn"], "30.00");
    // Decided once.
    let again = app.post_raw(&format!("/admin/withdrawals/{first_id}/approve"), Some(&admin), &[("Idempotency-Key", &key())], b"").await;
    assert_error(&again, 409, "withdrawal_not_pending");

    let second = withdraw(&app, &speaker.token, "20.00", &key()).await;
    assert_eq!(second.status, 201, "{}", second.text);
    let second_id = second.body["data"]["withdrawal_id"].as_str().unwrap().to_owned();
    assert_eq!(app.wallet(&speaker.token, second.position()).await["balance"], "50.00");
    let rejected =
        app.post_json(&format!("/admin/withdrawals/{second_id}/reject"), Some(&admin), &[("Idempotency-Key", &key())], &json!({ "reason": "IBAN does not match" })).await;
    assert_eq!(rejected.status, 200, "{}", rejected.text);
    assert_eq!(rejected.body["data"], json!({ "withdrawal_id": second_id, "status": "rejected" }));
    let wallet = app.wallet(&speaker.token, rejected.position()).await;
    assert_eq!(wallet["balance"], "70.00");
    assert_eq!(wallet["total_withdrawn"], "30.00");
    let approve_rejected = app.post_raw(&format!("/admin/withdrawals/{second_id}/approve"), Some(&admin), &[("Idempotency-Key", &key())], b"").await;
    assert_error(&approve_rejected, 409, "withdrawal_not_pending");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forbidden_actions_are_403() {
    let app = spawn_with_admin().await;
    let student = app.register("student").await;
    let speaker = app.register("speaker").await;
    app.fund(&student.token, "50.00").await;
    let refused = withdraw(&app, &student.token, "10.00", &key()).await;
    assert_error(&refused, 403, "forbidden");
    assert_eq!(count_events(&app, "WithdrawalRequested").await, 0);

    app.fund(&speaker.token, "5.00").await;
    let requested = withdraw(&app, &speaker.token, "1.00", &key()).await;
    assert_eq!(requested.status, 201, "{}", requested.text);
    let id = requested.body["data"]["withdrawal_id"].as_str().unwrap().to_owned();
    for token in [&student.token, &speaker.token] {
        assert_error(&app.post_raw(&format!("/admin/withdrawals/{id}/approve"), Some(token), &[], b"").await, 403, "forbidden");
        assert_error(&app.post_json(&format!("/admin/withdrawals/{id}/reject"), Some(token), &[], &json!({})).await, 403, "forbidden");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_things_are_404() {
    let app = spawn_with_admin().await;
    let user = app.register("student").await;
    let admin = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_error(&app.get_with("/no-such-route", None, &[]).await, 404, "not_found");
    assert_error(&app.get_with("/wallet/nothing", Some(&user.token), &[]).await, 404, "not_found");
    let outside = app.client.get(app.address.replace("/api/v1", "/elsewhere")).send().await.unwrap();
    assert_eq!(outside.status(), 404);

    let unknown = Uuid::now_v7();
    assert_error(&app.post_raw(&format!("/admin/withdrawals/{unknown}/approve"), Some(&admin), &[("Idempotency-Key", &key())], b"").await, 404, "not_found");
    assert_error(&app.post_json(&format!("/admin/withdrawals/{unknown}/reject"), Some(&admin), &[("Idempotency-Key", &key())], &json!({})).await, 404, "not_found");
    assert_error(&app.post_raw("/admin/withdrawals/not-a-uuid/approve", Some(&admin), &[("Idempotency-Key", &key())], b"").await, 404, "not_found");

    assert_error(&app.webhook(&captured(Uuid::now_v7(), "10.00")).await, 404, "not_found");
    let top_up_id = app.top_up(&user.token, "10.00").await;
    let body = captured(top_up_id, "10.00").to_string();
    let signature = api::wallet::payments::sign(crate::api::SANDBOX_SECRET, body.as_bytes());
    let other_provider = app.post_raw("/payments/webhooks/stripe", None, &[("Signature", &signature)], body.as_bytes()).await;
    assert_error(&other_provider, 404, "not_found");
    assert_eq!(count_events(&app, "TopUpCaptured").await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_overdraft_is_409() {
    let app = spawn().await;
    let speaker = app.register("speaker").await;
    let position = app.fund(&speaker.token, "40.00").await;
    let overdraft = withdraw(&app, &speaker.token, "40.01", &key()).await;
    assert_error(&overdraft, 409, "insufficient_funds");
    assert_eq!(app.wallet(&speaker.token, position).await["balance"], "40.00");
    assert_eq!(count_events(&app, "WithdrawalRequested").await, 0);
    assert_eq!(withdraw(&app, &speaker.token, "40.00", &key()).await.status, 201);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_wallet_fields_are_422_with_their_reasons() {
    let app = spawn().await;
    let user = app.register("student").await;
    for query in ["?per_page=500", "?per_page=0", "?per_page=ten", "?page=0", "?page=-1", "?category=cars"] {
        let refused = app.get_with(&format!("/wallet/transactions{query}"), Some(&user.token), &[]).await;
        assert_error(&refused, 422, "validation_failed");
        let field = query[1..].split('=').next().unwrap();
        assert!(!field_reasons(&refused, field).is_empty(), "{query}");
    }

    for amount in ["0", "-5.00", "abc", "1.234", ""] {
        let body = json!({ "amount": amount, "provider": "sandbox" });
        let refused = app.post_json("/wallet/top-ups", Some(&user.token), &[("Idempotency-Key", &key())], &body).await;
        assert_error(&refused, 422, "validation_failed");
        assert!(!field_reasons(&refused, "amount").is_empty(), "{amount}");
    }
    let body = json!({ "amount": "10.00", "provider": "paypal" });
    let refused = app.post_json("/wallet/top-ups", Some(&user.token), &[("Idempotency-Key", &key())], &body).await;
    assert!(!field_reasons(&refused, "provider").is_empty());

    let speaker = app.register("speaker").await;
    let refused = withdraw(&app, &speaker.token, "-1", &key()).await;
    assert_error(&refused, 422, "validation_failed");

    let reused = key();
    let first = app.post_json("/wallet/top-ups", Some(&user.token), &[("Idempotency-Key", &reused)], &json!({ "amount": "10.00", "provider": "sandbox" })).await;
    assert_eq!(first.status, 201);
    let other = app.post_json("/wallet/top-ups", Some(&user.token), &[("Idempotency-Key", &reused)], &json!({ "amount": "11.00", "provider": "sandbox" })).await;
    assert_error(&other, 422, "idempotency_key_reused");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_sees_only_their_own_wallet() {
    let app = spawn().await;
    let alice = app.register("student").await;
    let bob = app.register("speaker").await;
    app.fund(&alice.token, "100.00").await;
    app.fund(&bob.token, "25.00").await;
    let withdrawal = withdraw(&app, &bob.token, "5.00", &key()).await;
    assert_eq!(withdrawal.status, 201);
    let position = withdrawal.position();
    assert_eq!(app.wallet(&alice.token, position).await["balance"], "100.00");
    assert_eq!(app.wallet(&bob.token, position).await["balance"], "20.00");

    let min = position.to_string();
    let alices = app.get_with("/wallet/transactions", Some(&alice.token), &[("X-Min-Position", &min)]).await;
    let bobs = app.get_with("/wallet/transactions", Some(&bob.token), &[("X-Min-Position", &min)]).await;
    let amounts = |response: &Response| response.body["data"].as_array().unwrap().iter().map(|t| t["amount"].as_str().unwrap().to_owned()).collect::<Vec<_>>();
    assert_eq!(amounts(&alices), ["100.00"]);
    assert_eq!(amounts(&bobs), ["5.00", "25.00"]);
    assert_eq!(alices.body["meta"]["pagination"]["total"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repeated_key_replays_the_first_answer_per_user() {
    let app = spawn().await;
    let alice = app.register("student").await;
    let bob = app.register("student").await;
    let shared = key();
    let body = json!({ "amount": "75.00", "provider": "sandbox" });
    let first = app.post_json("/wallet/top-ups", Some(&alice.token), &[("Idempotency-Key", &shared)], &body).await;
    assert_eq!(first.status, 201, "{}", first.text);
    assert!(first.header("idempotent-replayed").is_none());
    let again = app.post_json("/wallet/top-ups", Some(&alice.token), &[("Idempotency-Key", &shared)], &body).await;
    assert_eq!(again.status, 201, "{}", again.text);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.body, first.body);
    assert_request_id(&again);
    assert_eq!(count_events(&app, "TopUpRequested").await, 1);

    let changed = app.post_json("/wallet/top-ups", Some(&alice.token), &[("Idempotency-Key", &shared)], &json!({ "amount": "76.00", "provider": "sandbox" })).await;
    assert_error(&changed, 422, "idempotency_key_reused");
    let speaker = app.register("speaker").await;
    let top_up = app.post_json("/wallet/top-ups", Some(&speaker.token), &[("Idempotency-Key", &shared)], &body).await;
    assert_eq!(top_up.status, 201);

    // Keys are the user's own: Bob's use of the same key is a new top-up.
    let bobs = app.post_json("/wallet/top-ups", Some(&bob.token), &[("Idempotency-Key", &shared)], &body).await;
    assert_eq!(bobs.status, 201, "{}", bobs.text);
    assert!(bobs.header("idempotent-replayed").is_none());
    assert_ne!(bobs.body["data"]["top_up_id"], first.body["data"]["top_up_id"]);
    assert_eq!(count_events(&app, "TopUpRequested").await, 3);

    // A replayed withdrawal moves the money once, and answers as the first time even though
    // deciding it again would now be refused for want of funds.
    app.fund(&speaker.token, "50.00").await;
    let withdrawal_key = key();
    let first = withdraw(&app, &speaker.token, "40.00", &withdrawal_key).await;
    assert_eq!(first.status, 201, "{}", first.text);
    let again = withdraw(&app, &speaker.token, "40.00", &withdrawal_key).await;
    assert_eq!(again.status, 201, "{}", again.text);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.body, first.body);
    // Another amount under the used key is another request, refused or not.
    assert_error(&withdraw(&app, &speaker.token, "41.00", &withdrawal_key).await, 422, "idempotency_key_reused");
    assert_error(&withdraw(&app, &speaker.token, "5.00", &withdrawal_key).await, 422, "idempotency_key_reused");
    // The same key on another route is another request.
    let elsewhere = app.post_json("/wallet/top-ups", Some(&speaker.token), &[("Idempotency-Key", &withdrawal_key)], &json!({ "amount": "20.00" })).await;
    assert_error(&elsewhere, 422, "idempotency_key_reused");
    assert_eq!(balance(&app, &speaker.token).await, "10.00");
    assert_eq!(count_events(&app, "WithdrawalRequested").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_requests_with_one_key_create_one_top_up() {
    let app = spawn().await;
    let user = app.register("student").await;
    let shared = key();
    let body = json!({ "amount": "10.00", "provider": "sandbox" });
    let headers = [("Idempotency-Key", shared.as_str())];
    let responses = futures::future::join_all((0..10).map(|_| app.post_json("/wallet/top-ups", Some(&user.token), &headers, &body))).await;
    // Every one gets the first answer; exactly one of them is that first answer.
    for response in &responses {
        assert_eq!(response.status, 201, "{}", response.text);
        assert_eq!(response.body["data"], responses[0].body["data"]);
        assert_eq!(response.body["meta"], responses[0].body["meta"]);
    }
    let fresh = responses.iter().filter(|r| r.header("idempotent-replayed").is_none()).count();
    assert_eq!(fresh, 1);
    assert_eq!(count_events(&app, "TopUpRequested").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_or_unsigned_notification_changes_nothing() {
    let app = spawn().await;
    let user = app.register("student").await;
    let top_up_id = app.top_up(&user.token, "100.00").await;
    let notification = captured(top_up_id, "100.00");
    let body = notification.to_string();

    assert_error(&app.webhook_signed_with("not-the-sandbox-secret-but-long-enough", &notification).await, 401, "invalid_signature");
    assert_error(&app.post_raw("/payments/webhooks/sandbox", None, &[], body.as_bytes()).await, 401, "invalid_signature");
    assert_error(&app.post_raw("/payments/webhooks/sandbox", None, &[("Signature", "zz-not-hex")], body.as_bytes()).await, 401, "invalid_signature");
    assert_error(&app.post_raw("/payments/webhooks/sandbox", None, &[("Signature", "")], body.as_bytes()).await, 401, "invalid_signature");
    // A genuine signature of another body.
    let signature = api::wallet::payments::sign(crate::api::SANDBOX_SECRET, captured(top_up_id, "1000.00").to_string().as_bytes());
    assert_error(&app.post_raw("/payments/webhooks/sandbox", None, &[("Signature", &signature)], body.as_bytes()).await, 401, "invalid_signature");
    assert_eq!(count_events(&app, "TopUpCaptured").await, 0);
    assert_eq!(count_events(&app, "TopUpPaymentCaptured").await, 0);
    assert_eq!(balance(&app, &user.token).await, "0.00");

    // The top-up is still open to the real capture.
    assert_eq!(app.webhook(&notification).await.status, 200);
    assert_eq!(balance(&app, &user.token).await, "100.00");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repeated_capture_credits_once_and_a_failed_payment_credits_nothing() {
    let app = spawn().await;
    let user = app.register("student").await;
    let top_up_id = app.top_up(&user.token, "100.00").await;
    let notification = captured(top_up_id, "100.00");
    let first = app.webhook(&notification).await;
    assert_eq!(first.status, 200, "{}", first.text);
    let again = app.webhook(&notification).await;
    assert_eq!(again.status, 200, "{}", again.text);
    assert_eq!(again.body["data"]["status"], "captured");
    assert_eq!(again.position(), first.position(), "a redelivery answers the first position");
    // Another event for a settled top-up is refused.
    assert_error(&app.webhook(&captured(top_up_id, "100.00")).await, 409, "top_up_already_settled");
    assert_eq!(balance(&app, &user.token).await, "100.00");
    assert_eq!(count_events(&app, "TopUpCaptured").await, 1);

    let failing = app.top_up(&user.token, "40.00").await;
    let failed = json!({ "event_id": key(), "type": "payment.failed", "top_up_id": failing });
    let response = app.webhook(&failed).await;
    assert_eq!(response.status, 200, "{}", response.text);
    assert_eq!(response.body["data"]["status"], "failed");
    assert_eq!(app.webhook(&failed).await.status, 200);
    assert_error(&app.webhook(&captured(failing, "40.00")).await, 409, "top_up_already_settled");
    assert_eq!(balance(&app, &user.token).await, "100.00");
    assert_eq!(count_events(&app, "TopUpCaptured").await, 1);

    let mismatched = app.top_up(&user.token, "60.00").await;
    assert_error(&app.webhook(&captured(mismatched, "600.00")).await, 409, "amount_mismatch");
    assert_error(&app.webhook(&captured(mismatched, "59.99")).await, 409, "amount_mismatch");
    let no_amount = json!({ "event_id": key(), "type": "payment.captured", "top_up_id": mismatched });
    assert_error(&app.webhook(&no_amount).await, 422, "validation_failed");
    let unknown_type = json!({ "event_id": key(), "type": "payment.refunded", "top_up_id": mismatched, "amount": "60.00" });
    assert_error(&app.webhook(&unknown_type).await, 422, "validation_failed");
    assert_eq!(balance(&app, &user.token).await, "100.00");
    assert_eq!(count_events(&app, "TopUpCaptured").await, 1);
    // Still pending: the right amount goes through.
    assert_eq!(app.webhook(&captured(mismatched, "60.00")).await.status, 200);
    assert_eq!(balance(&app, &user.token).await, "160.00");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_concurrent_deliveries_of_one_capture_credit_once() {
    let app = spawn().await;
    let user = app.register("student").await;
    let top_up_id = app.top_up(&user.token, "100.00").await;
    let notification = captured(top_up_id, "100.00");
    let responses = futures::future::join_all((0..20).map(|_| app.webhook(&notification))).await;
    for response in &responses {
        assert_eq!(response.status, 200, "{}", response.text);
    }
    assert_eq!(balance(&app, &user.token).await, "100.00");
    assert_eq!(count_events(&app, "TopUpCaptured").await, 1);
    assert_eq!(count_events(&app, "TopUpPaymentCaptured").await, 1);
    let transactions = app.get_with("/wallet/transactions", Some(&user.token), &[]).await;
    assert_eq!(transactions.body["meta"]["pagination"]["total"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_captures_and_failures_of_one_top_up_agree() {
    let app = spawn().await;
    let user = app.register("student").await;
    let mut top_ups = Vec::new();
    for _ in 0..10 {
        let top_up_id = app.top_up(&user.token, "10.00").await;
        let failed = json!({ "event_id": key(), "type": "payment.failed", "top_up_id": top_up_id });
        let deliveries = (0..6).map(|i| if i % 2 == 0 { captured(top_up_id, "10.00") } else { failed.clone() }).collect::<Vec<_>>();
        let responses = futures::future::join_all(deliveries.iter().map(|n| app.webhook(n))).await;
        for response in &responses {
            assert!(response.status == 200 || response.status == 409, "{}", response.text);
        }
        top_ups.push(top_up_id);
    }
    // The wallet holds exactly the top-ups whose stream says captured.
    let captured_top_ups: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM events WHERE event_type = 'TopUpPaymentCaptured'")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(count_events(&app, "TopUpCaptured").await, captured_top_ups);
    assert_eq!(balance(&app, &user.token).await, format!("{}.00", captured_top_ups * 10));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_withdrawals_never_overdraw() {
    let app = spawn().await;
    let speaker = app.register("speaker").await;
    app.fund(&speaker.token, "100.00").await;
    let keys: Vec<String> = (0..10).map(|_| key()).collect();
    let responses = futures::future::join_all(keys.iter().map(|k| withdraw(&app, &speaker.token, "30.00", k))).await;
    let accepted = responses.iter().filter(|r| r.status == 201).count();
    assert_eq!(accepted, 3, "{:?}", responses.iter().map(|r| &r.text).collect::<Vec<_>>());
    for response in responses.iter().filter(|r| r.status != 201) {
        assert_error(response, 409, "insufficient_funds");
    }
    let wallet = app.wallet(&speaker.token, head(&app).await).await;
    assert_eq!(wallet["balance"], "10.00");
    assert_eq!(count_events(&app, "WithdrawalRequested").await, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sandbox_checkout_pays_a_top_up_once_and_is_off_unless_enabled() {
    let mut settings = NO_RATE_LIMITS.to_vec();
    settings.push(("SANDBOX_CHECKOUT", "1"));
    let app = TestApp::spawn(&settings).await;
    let student = app.register("student").await;
    let top_up = app.top_up(&student.token, "25.00").await;

    let page = app.get_with(&format!("/payments/sandbox/checkout/{top_up}"), None, &[]).await;
    assert_eq!(page.status, 200);
    assert!(page.text.contains("25.00 SAR") && page.text.contains("pending"), "{}", page.text);
    let paid = app.post_raw(&format!("/payments/sandbox/checkout/{top_up}/pay"), None, &[], b"").await;
    assert_eq!(paid.status, 200, "{}", paid.text);
    let again = app.post_raw(&format!("/payments/sandbox/checkout/{top_up}/pay"), None, &[], b"").await;
    assert_eq!(again.status, 200, "{}", again.text);
    assert_eq!(app.wallet(&student.token, paid.position()).await["balance"], "25.00");
    let failed_after = app.post_raw(&format!("/payments/sandbox/checkout/{top_up}/fail"), None, &[], b"").await;
    assert_eq!(failed_after.status, 409, "{}", failed_after.text);

    let plain = TestApp::spawn(&NO_RATE_LIMITS).await;
    let other = plain.register("student").await;
    let hidden = plain.top_up(&other.token, "5.00").await;
    assert_eq!(plain.get_with(&format!("/payments/sandbox/checkout/{hidden}"), None, &[]).await.status, 404);
    assert_eq!(plain.post_raw(&format!("/payments/sandbox/checkout/{hidden}/pay"), None, &[], b"").await.status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_decision_moves_money_once_under_its_idempotency_key() {
    let app = spawn_with_admin().await;
    let speaker = app.register("speaker").await;
    app.fund(&speaker.token, "50.00").await;
    let requested = withdraw(&app, &speaker.token, "20.00", &key()).await;
    let id = requested.body["data"]["withdrawal_id"].as_str().unwrap().to_owned();
    let admin = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let path = format!("/admin/withdrawals/{id}/reject");

    let unkeyed = app.post_json(&path, Some(&admin), &[], &json!({ "reason": "no IBAN" })).await;
    assert_error(&unkeyed, 400, "missing_idempotency_key");
    assert_eq!(count_events(&app, "WithdrawalRejected").await, 0);

    let decision = key();
    let first = app.post_json(&path, Some(&admin), &[("Idempotency-Key", &decision)], &json!({ "reason": "no IBAN" })).await;
    assert_eq!(first.status, 200, "{}", first.text);
    let again = app.post_json(&path, Some(&admin), &[("Idempotency-Key", &decision)], &json!({ "reason": "no IBAN" })).await;
    assert_eq!(again.status, 200, "{}", again.text);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!((&again.body["data"], &again.body["meta"]), (&first.body["data"], &first.body["meta"]));
    let elsewhere = app.post_raw(&format!("/admin/withdrawals/{id}/approve"), Some(&admin), &[("Idempotency-Key", &decision)], b"").await;
    assert_error(&elsewhere, 422, "idempotency_key_reused");
    assert_eq!(count_events(&app, "WithdrawalRejected").await, 1);
    assert_eq!(app.wallet(&speaker.token, first.position()).await["balance"], "50.00");
}

/// An admin decides on a withdrawal the moment it is requested, whatever the withdrawals read
/// model has seen: its owner comes from the store.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_decides_a_withdrawal_the_read_model_has_not_seen_yet() {
    let app = spawn_with_admin().await;
    let speaker = app.register("speaker").await;
    app.fund(&speaker.token, "30.00").await;
    let store = crate::support::open_store(&app.db.pool).await;
    let lock = projections::lock_name(&store, &projections::wallet::WithdrawalsProjector);
    let mut blocker = app.db.pool.acquire().await.unwrap().detach();
    let held: i64 = sqlx::query_scalar("SELECT GET_LOCK(?, 0)").bind(&lock).fetch_one(&mut blocker).await.unwrap();
    assert_eq!(held, 1);

    let requested = withdraw(&app, &speaker.token, "10.00", &key()).await;
    assert_eq!(requested.status, 201, "{}", requested.text);
    let id = requested.body["data"]["withdrawal_id"].as_str().unwrap().to_owned();
    let seen: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM withdrawals").fetch_one(&app.db.pool).await.unwrap();
    assert_eq!(seen, 0, "the read model has not seen it");
    let admin = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let approved = app.post_raw(&format!("/admin/withdrawals/{id}/approve"), Some(&admin), &[("Idempotency-Key", &key())], b"").await;
    assert_eq!(approved.status, 200, "{}", approved.text);
    assert_eq!(app.wallet(&speaker.token, approved.position()).await["total_withdrawn"], "10.00");
    drop(blocker);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sandbox_checkout_links_absolutely_says_what_happened_and_offers_nothing_once_settled() {
    let mut settings = NO_RATE_LIMITS.to_vec();
    settings.push(("SANDBOX_CHECKOUT", "1"));
    let app = TestApp::spawn(&settings).await;
    let student = app.register("student").await;
    let created = app.post_json("/wallet/top-ups", Some(&student.token), &[("Idempotency-Key", &key())], &json!({ "amount": "25.00", "provider": "sandbox" })).await;
    let checkout_url = created.body["data"]["checkout_url"].as_str().unwrap().to_owned();
    let top_up = created.body["data"]["top_up_id"].as_str().unwrap().to_owned();
    assert_eq!(checkout_url, format!("{}/payments/sandbox/checkout/{top_up}", app.address));

    let page = app.client.get(&checkout_url).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("<button>Pay 25.00 SAR</button>"), "{page}");
    // A browser pressing Pay gets a page, not JSON.
    let paid = app.client.post(format!("{checkout_url}/pay")).header("Accept", "text/html,application/xhtml+xml").send().await.unwrap();
    assert!(paid.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let paid = paid.text().await.unwrap();
    assert!(paid.contains("25.00 SAR</strong>: paid, and credited to the wallet"), "{paid}");
    let settled = app.client.get(&checkout_url).send().await.unwrap().text().await.unwrap();
    assert!(!settled.contains("<button"), "no buttons once settled: {settled}");
    assert!(settled.contains("Nothing more to do here"), "{settled}");
    let again = app.client.post(format!("{checkout_url}/fail")).header("Accept", "text/html").send().await.unwrap().text().await.unwrap();
    assert!(again.contains("refused") && again.contains("paid, and credited"), "{again}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transactions_are_described_in_the_readers_language() {
    let app = spawn().await;
    let speaker = app.register("speaker").await;
    app.fund(&speaker.token, "20.00").await;
    let position = withdraw(&app, &speaker.token, "5.00", &key()).await.position().to_string();
    let read = |language: &'static str| {
        let (app, token, position) = (&app, speaker.token.clone(), position.clone());
        async move { app.get_with("/wallet/transactions", Some(&token), &[("X-Min-Position", &position), ("Accept-Language", language)]).await }
    };
    let arabic = read("ar").await;
    assert_eq!(arabic.header("content-language"), Some("ar"));
    let descriptions: Vec<&str> = arabic.body["data"].as_array().unwrap().iter().map(|t| t["description"].as_str().unwrap()).collect();
    assert_eq!(descriptions, ["طلب سحب", "شحن المحفظة عبر sandbox"]);
    let english = read("en").await;
    assert_eq!(english.header("content-language"), Some("en"));
    let descriptions: Vec<&str> = english.body["data"].as_array().unwrap().iter().map(|t| t["description"].as_str().unwrap()).collect();
    assert_eq!(descriptions, ["Withdrawal requested", "Wallet top-up via sandbox"]);
}
