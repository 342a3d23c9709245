//! What every route shares: the envelope and statuses of malformed, limited and stale requests,
//! languages, request ids, hostile input, health and the docs.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::json;
use uuid::Uuid;

use super::*;
use api::Settings;

use crate::api::{NO_RATE_LIMITS, PASSWORD, TestApp};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_openapi_and_docs_answer_without_a_token() {
    let app = spawn().await;
    let health = app.get_with("/health", None, &[]).await;
    assert_eq!(health.status, 200, "{}", health.text);
    assert_eq!(health.body["success"], true);
    assert_eq!(health.body["data"]["database"], "up");

    let spec = app.get_with("/openapi.json", None, &[]).await;
    assert_eq!(spec.status, 200, "{}", spec.text);
    assert!(spec.body["openapi"].as_str().unwrap_or_default().starts_with("3."), "{}", spec.text);
    let mut routes = api::openapi::Routes::new();
    api::routes::table(&mut routes);
    for (method, path) in routes.list() {
        let operation = &spec.body["paths"][&path][method.to_lowercase()];
        assert!(operation.is_object(), "{method} {path} is not documented");
    }

    let docs = app.get_with("/docs", None, &[]).await;
    assert_eq!(docs.status, 200);
    assert!(docs.header("content-type").unwrap_or_default().starts_with("text/html"));
    assert!(docs.text.contains("openapi.json"), "the page does not load the spec");
    // Nothing loaded from another host: every src and href is relative.
    for attribute in ["src=", "href="] {
        for (index, _) in docs.text.match_indices(attribute) {
            let value = docs.text[index + attribute.len()..].trim_start_matches(['"', '\'']);
            assert!(!value.starts_with("http") && !value.starts_with("//"), "external {attribute}{}", &value[..value.len().min(60)]);
        }
    }
    assert_request_id(&docs);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_requests_and_missing_headers_are_400() {
    let app = spawn().await;
    let user = app.register("student").await;
    assert_error(&app.post_raw("/auth/register", None, &[], b"{\"name\": ").await, 400, "malformed_json");
    assert_error(&app.post_raw("/auth/login", None, &[], b"[1, 2]").await, 400, "malformed_json");
    assert_error(&app.post_raw("/auth/login", None, &[], b"").await, 400, "malformed_json");

    let top_up = json!({ "amount": "10.00", "provider": "sandbox" });
    assert_error(&app.post_json("/wallet/top-ups", Some(&user.token), &[], &top_up).await, 400, "missing_idempotency_key");
    let long = "k".repeat(256);
    assert_error(&app.post_json("/wallet/top-ups", Some(&user.token), &[("Idempotency-Key", &long)], &top_up).await, 400, "invalid_idempotency_key");
    assert_error(&app.post_json("/wallet/top-ups", Some(&user.token), &[("Idempotency-Key", "")], &top_up).await, 400, "invalid_idempotency_key");
    assert_eq!(app.post_json("/wallet/top-ups", Some(&user.token), &[("Idempotency-Key", &"k".repeat(255))], &top_up).await.status, 201);

    // A body over 64 KiB is refused before any handler runs, with the envelope like any error.
    let huge = format!(r#"{{"amount": "10.00", "provider": "sandbox", "note": "{}"}}"#, "x".repeat(70 * 1024));
    let refused = app.post_raw("/wallet/top-ups", Some(&user.token), &[("Idempotency-Key", &key())], huge.as_bytes()).await;
    assert_error(&refused, 413, "payload_too_large");
    let arabic = app.post_raw("/wallet/top-ups", Some(&user.token), &[("Idempotency-Key", &key()), ("Accept-Language", "ar")], huge.as_bytes()).await;
    assert_error(&arabic, 413, "payload_too_large");
    assert!(arabic.body["message"].as_str().unwrap().contains("كيلوبايت"), "{}", arabic.text);

    // A refused body leaves the key free for the corrected request.
    let retried = key();
    let broken = app.post_raw("/wallet/top-ups", Some(&user.token), &[("Idempotency-Key", &retried)], b"{amount: 10}").await;
    assert_error(&broken, 400, "malformed_json");
    let fixed = app.post_json("/wallet/top-ups", Some(&user.token), &[("Idempotency-Key", &retried)], &top_up).await;
    assert_eq!(fixed.status, 201, "{}", fixed.text);

    assert_error(&app.get_with("/wallet", Some(&user.token), &[("X-Min-Position", "soon")]).await, 400, "malformed_request");
    assert_error(&app.get_with("/wallet", Some(&user.token), &[("X-Min-Position", "-1")]).await, 400, "malformed_request");

    // A well-signed notification that is not JSON.
    let body = b"not json";
    let signature = api::wallet::payments::sign(crate::api::SANDBOX_SECRET, body);
    assert_error(&app.post_raw("/payments/webhooks/sandbox", None, &[("Signature", &signature)], body).await, 400, "malformed_json");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_many_requests_are_429_with_retry_after() {
    let app = TestApp::spawn(&[("RATE_LIMIT_PER_MINUTE", "5"), ("AUTH_RATE_LIMIT_PER_MINUTE", "3")]).await;
    let login = json!({ "login": "nobody@example.com", "password": PASSWORD });
    for _ in 0..3 {
        assert_eq!(app.post_json("/auth/login", None, &[], &login).await.status, 401);
    }
    let limited = app.post_json("/auth/login", None, &[("Accept-Language", "ar")], &login).await;
    assert_error(&limited, 429, "rate_limited");
    assert_eq!(limited.body["message"], "طلبات كثيرة جداً؛ حاول لاحقاً.");
    let retry_after: u64 = limited.header("retry-after").expect("Retry-After").parse().unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    let register = app.post_json("/auth/register", None, &[], &json!({})).await;
    assert_error(&register, 429, "rate_limited");

    // The general limit per address: three logins counted, two more requests pass, then 429.
    for _ in 0..2 {
        assert_eq!(app.get_with("/openapi.json", None, &[]).await.status, 200);
    }
    let limited = app.get_with("/openapi.json", None, &[]).await;
    assert_error(&limited, 429, "rate_limited");
    assert!(limited.header("retry-after").is_some());

    // Health probes and signed provider notifications are never turned away.
    for _ in 0..10 {
        assert_eq!(app.get_with("/health", None, &[]).await.status, 200);
        let unknown_top_up = json!({ "event_id": "e", "type": "payment.failed", "top_up_id": Uuid::now_v7() });
        assert_eq!(app.webhook(&unknown_top_up).await.status, 404);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_ahead_of_the_log_is_503_with_retry_after() {
    let app = spawn().await;
    let user = app.register("student").await;
    let started = Instant::now();
    let stale = app.get_with("/wallet", Some(&user.token), &[("X-Min-Position", "1000000000000")]).await;
    assert_error(&stale, 503, "stale_read");
    assert!(stale.header("retry-after").is_some_and(|v| v.parse::<u64>().is_ok()), "{:?}", stale.headers);
    assert!(started.elapsed() < Duration::from_secs(10), "waited {:?}", started.elapsed());
    let stale = app.get_with("/wallet/transactions", Some(&user.token), &[("X-Min-Position", "1000000000000")]).await;
    assert_error(&stale, 503, "stale_read");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accept_language_ar_answers_in_arabic_and_english_is_the_default() {
    let app = spawn().await;
    let body = |username: &str| json!({ "name": "Lina", "username": username, "email": format!("{username}@example.com"), "password": PASSWORD, "role": "student" });
    let arabic = app.post_json("/auth/register", None, &[("Accept-Language", "ar")], &body("lina")).await;
    assert_eq!(arabic.status, 201);
    assert_eq!(arabic.body["message"], "تم إنشاء حسابك.");
    let english = app.post_json("/auth/register", None, &[], &body("lina2")).await;
    assert_eq!(english.body["message"], "Your account was created.");
    let preferred = app.post_json("/auth/register", None, &[("Accept-Language", "fr-FR, ar-SA;q=0.8, en;q=0.5")], &body("lina3")).await;
    assert_eq!(preferred.body["message"], "تم إنشاء حسابك.");
    let unsupported = app.post_json("/auth/register", None, &[("Accept-Language", "de")], &body("lina4")).await;
    assert_eq!(unsupported.body["message"], "Your account was created.");

    let unauthenticated = app.get_with("/wallet", None, &[("Accept-Language", "ar")]).await;
    assert_error(&unauthenticated, 401, "unauthorized");
    assert_eq!(unauthenticated.body["message"], "يلزم تسجيل الدخول.");
    assert_eq!(app.get_with("/wallet", None, &[]).await.body["message"], "Authentication is required.");
    let not_found = app.get_with("/nowhere", None, &[("Accept-Language", "ar")]).await;
    assert_eq!(not_found.body["message"], "غير موجود.");

    let invalid = app.post_json("/auth/register", None, &[("Accept-Language", "ar")], &body("9")).await;
    assert_error(&invalid, 422, "validation_failed");
    assert_eq!(invalid.body["message"], "بعض الحقول غير صالحة.");
    assert_eq!(field_reasons(&invalid, "username"), ["يجب أن يكون من 3 إلى 30 حرفاً أو رقماً أو '_' أو '.' ويبدأ بحرف"]);
    let invalid = app.post_json("/auth/register", None, &[], &body("9")).await;
    assert_eq!(field_reasons(&invalid, "username"), ["must be 3 to 30 letters, digits, '_' or '.', starting with a letter"]);

    let token = arabic.body["data"]["token"].as_str().unwrap();
    let wallet = app.get_with("/wallet", Some(token), &[("Accept-Language", "ar")]).await;
    assert_eq!(wallet.body["message"], "تم بنجاح");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_response_carries_a_request_id() {
    let app = spawn().await;
    let user = app.register("student").await;
    let responses = vec![
        app.get_with("/health", None, &[]).await,
        app.get_with("/openapi.json", None, &[]).await,
        app.get_with("/docs", None, &[]).await,
        app.get_with("/wallet", Some(&user.token), &[]).await,
        app.get_with("/wallet", None, &[]).await,
        app.get_with("/nowhere", None, &[]).await,
        app.post_raw("/auth/login", None, &[], b"{").await,
        app.post_json("/wallet/top-ups", Some(&user.token), &[("Idempotency-Key", &key())], &json!({ "amount": "1.00", "provider": "sandbox" })).await,
        app.post_raw("/payments/webhooks/sandbox", None, &[], b"{}").await,
        app.send(Method::DELETE, "/wallet", Some(&user.token), &[], None).await,
    ];
    let mut ids = std::collections::HashSet::new();
    for response in &responses {
        assert_request_id(response);
        ids.insert(response.header("x-request-id").unwrap().to_owned());
    }
    assert_eq!(ids.len(), responses.len(), "request ids repeat");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn odd_input_is_refused_in_the_envelope_never_with_a_500() {
    let app = spawn_with_admin().await;
    let speaker = app.register("speaker").await;
    let admin = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let long = "a".repeat(10_000);
    let register = |overrides: Value| {
        let mut body = json!({ "name": "N", "username": "someone", "email": "someone@example.com", "password": PASSWORD, "role": "student" });
        for (field, value) in overrides.as_object().unwrap() {
            body[field] = value.clone();
        }
        body
    };
    let bodies = [
        register(json!({ "name": long })),
        register(json!({ "username": long })),
        register(json!({ "email": format!("{long}@example.com") })),
        register(json!({ "email": format!("a@{}.com", "b".repeat(70)) })),
        register(json!({ "password": format!("A#1{long}") })),
        register(json!({ "name": "\u{0000}" })),
        register(json!({ "username": "مستخدم" })),
        register(json!({ "email": "a b@example.com" })),
        register(json!({ "role": null })),
        register(json!({ "language": 7 })),
        register(json!({ "name": { "nested": [1, 2] } })),
    ];
    for body in &bodies {
        let response = app.post_json("/auth/register", None, &[], body).await;
        assert_error(&response, 422, "validation_failed");
    }
    for login in [long.clone(), format!("{long}@example.com"), "\u{202e}admin".to_owned(), "admin@".to_owned()] {
        let response = app.post_json("/auth/login", None, &[], &json!({ "login": login, "password": long })).await;
        assert_error(&response, 401, "invalid_credentials");
    }

    let money_moving = [("/wallet/top-ups", json!({ "provider": "sandbox" })), ("/wallet/withdrawals", json!({}))];
    for (path, base) in &money_moving {
        for amount in [json!("99999999999.00"), json!("1e3"), json!(" 10"), json!("10."), json!(".5"), json!(10), json!(null), json!("٣٠")] {
            let mut body = base.clone();
            body["amount"] = amount.clone();
            let response = app.post_json(path, Some(&speaker.token), &[("Idempotency-Key", &key())], &body).await;
            assert_error(&response, 422, "validation_failed");
        }
    }
    let max = app.top_up(&speaker.token, "1000000000.00").await;
    assert_eq!(app.webhook(&captured(max, "1000000000.00")).await.status, 200);
    // A capture the wallet cannot take is accepted (the provider must not think it failed) and
    // held in suspense for an operator.
    let over = app.top_up(&speaker.token, "1000000000.00").await;
    let response = app.webhook(&captured(over, "1000000000.00")).await;
    assert_eq!(response.status, 200, "{}", response.text);
    assert_eq!(response.body["data"]["status"], "held");
    assert!(response.body["message"].as_str().unwrap().contains("held"), "{}", response.text);
    assert_eq!(app.wallet(&speaker.token, response.position()).await["balance"], "1000000000.00");

    let id = Uuid::now_v7();
    let reason = json!({ "reason": "r".repeat(501) });
    assert_error(&app.post_json(&format!("/admin/withdrawals/{id}/reject"), Some(&admin), &[("Idempotency-Key", &key())], &reason).await, 422, "validation_failed");
    assert_error(&app.post_raw(&format!("/admin/withdrawals/{id}/reject"), Some(&admin), &[("Idempotency-Key", &key())], b"{").await, 400, "malformed_json");
    assert_error(&app.post_raw(&format!("/admin/withdrawals/{}/approve", "9".repeat(300)), Some(&admin), &[("Idempotency-Key", &key())], b"").await, 404, "not_found");

    let too_far = app.get_with("/wallet", Some(&speaker.token), &[("X-Min-Position", "99999999999999999999999")]).await;
    assert_error(&too_far, 400, "malformed_request");
    let far_page = app.get_with("/wallet/transactions?page=1000000&per_page=100", Some(&speaker.token), &[]).await;
    assert_eq!(far_page.status, 200, "{}", far_page.text);
    assert_eq!(far_page.body["data"], json!([]));
    let repeated = app.get_with("/wallet/transactions?page=1&page=2", Some(&speaker.token), &[]).await;
    assert!(repeated.status < 500, "{}", repeated.text);

    let webhook_bodies = [
        json!({ "event_id": "", "type": "payment.captured", "top_up_id": max, "amount": "1.00" }),
        json!({ "event_id": "e".repeat(201), "type": "payment.captured", "top_up_id": max, "amount": "1.00" }),
        json!({ "event_id": "e", "type": "payment.captured", "top_up_id": "not-a-uuid", "amount": "1.00" }),
        json!({ "event_id": "e", "type": "payment.captured", "top_up_id": max, "amount": "-1.00" }),
    ];
    for body in &webhook_bodies {
        assert_error(&app.webhook(body).await, 422, "validation_failed");
    }
    let huge = vec![b'x'; 100 * 1024];
    let response = app.post_raw("/auth/login", None, &[], &huge).await;
    assert!((400..500).contains(&response.status), "{} {}", response.status, response.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_reports_the_database_nats_and_each_projectors_lag() {
    let app = TestApp::spawn(&[("NATS_URL", &tests::nats_url())]).await;
    let (status, body) = app.get("/health").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["success"], true);
    assert_eq!(body["data"]["database"], "up");
    let projectors: Vec<&str> = body["data"]["projectors"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(projectors, ["wallets", "ledger", "withdrawals", "users", "catalogue", "commerce", "invoicing", "rooms", "consultations", "room_chat", "social", "gifts", "chat", "notifications"]);
}

/// Appends commit while health reads: the head and the projectors' positions are read at
/// different moments, and health must not take a projector that applied a newer append for one
/// ahead of the store, nor that append's row for one past the head.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_stays_up_while_events_are_appended() {
    let [limit, auth_limit] = NO_RATE_LIMITS;
    let app = TestApp::spawn(&[limit, auth_limit, ("NATS_URL", &tests::nats_url())]).await;
    let author = app.register("student").await;
    let writing = async {
        for n in 0..150 {
            let posted = app.post_json("/posts", Some(&author.token), &[], &json!({ "type": "text", "content": format!("post {n}") })).await;
            assert_eq!(posted.status, 201, "{}", posted.text);
        }
    };
    let reading = async {
        let mut answers = Vec::new();
        for _ in 0..150 {
            let (status, body) = app.get("/health").await;
            answers.push((status, body["error"]["code"].clone()));
        }
        answers
    };
    let ((), answers) = tokio::join!(writing, reading);
    let unhealthy: Vec<_> = answers.iter().filter(|(status, _)| *status != 200).collect();
    assert!(unhealthy.is_empty(), "health answered {unhealthy:?} while appends committed");
}

#[test]
fn a_missing_or_malformed_setting_is_named() {
    let base = [("DATABASE_URL", "mysql://x@localhost/db"), ("JWT_SECRET", "j".repeat(40).leak() as &str), ("PAYMENT_SANDBOX_SECRET", "p".repeat(40).leak() as &str), ("DATA_KEY_SECRET", "d".repeat(40).leak() as &str)];
    let lookup = |overrides: &[(&str, &str)]| {
        let values: Vec<(String, String)> =
            base.iter().chain(&tests::SELLER).chain(&tests::JITSI).chain(overrides).map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Settings::from_lookup(move |name| values.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
    };
    assert!(lookup(&[]).is_ok());
    let error = |overrides: &[(&str, &str)]| lookup(overrides).err().unwrap().to_string();
    assert_eq!(error(&[("DATABASE_URL", "")]), "setting DATABASE_URL is required");
    assert!(error(&[("DATABASE_URL", "postgres://x")]).contains("DATABASE_URL"));
    assert!(error(&[("JWT_SECRET", "short")]).contains("JWT_SECRET"));
    assert!(error(&[("DATA_KEY_SECRET", "short")]).contains("DATA_KEY_SECRET"));
    assert_eq!(error(&[("DATA_KEY_SECRET", "")]), "setting DATA_KEY_SECRET is required");
    assert!(error(&[("HTTP_ADDR", "nowhere")]).contains("HTTP_ADDR"));
    assert!(error(&[("RATE_LIMIT_PER_MINUTE", "-3")]).contains("RATE_LIMIT_PER_MINUTE"));
    assert!(error(&[("BOOTSTRAP_ADMIN_EMAIL", "a@b.c")]).contains("BOOTSTRAP_ADMIN_PASSWORD"));
    // The video service: every setting required, the secret long enough, the domain a host name.
    assert_eq!(error(&[("JITSI_APP_ID", "")]), "setting JITSI_APP_ID is required");
    assert!(error(&[("JITSI_APP_SECRET", "short")]).contains("JITSI_APP_SECRET"));
    assert!(error(&[("JITSI_DOMAIN", "https://meet.example.com/")]).contains("JITSI_DOMAIN"));
    // The seller of record: every detail required, the VAT number checked, QR fields never cut.
    for name in ["SELLER_NAME_AR", "SELLER_NAME_EN", "SELLER_VAT_NUMBER", "SELLER_ADDRESS"] {
        assert_eq!(error(&[(name, "")]), format!("setting {name} is required"));
    }
    assert!(error(&[("SELLER_VAT_NUMBER", "310122393500002")]).starts_with("setting SELLER_VAT_NUMBER is malformed: must be 15 digits"));
    assert!(error(&[("SELLER_VAT_NUMBER", "31012239350000")]).contains("SELLER_VAT_NUMBER"));
    let long_arabic = "ب".repeat(128);
    assert!(error(&[("SELLER_NAME_AR", &long_arabic)]).starts_with("setting SELLER_NAME_AR is malformed: must be at most 255 bytes"));
    assert!(lookup(&[("SELLER_NAME_AR", &long_arabic[2..])]).is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_is_503_with_retry_after_when_the_database_is_gone() {
    let app = TestApp::spawn(&NO_RATE_LIMITS).await;
    assert_eq!(app.get("/health").await.0, 200);
    sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE `{}`", app.db.name))).execute(&app.db.pool).await.unwrap();
    let response = app.get_with("/health", None, &[]).await;
    assert_eq!(response.status, 503, "{}", response.text);
    assert_eq!(response.body["error"]["code"], "database_unavailable");
    assert!(response.header("retry-after").is_some());
}

/// `X-Min-Position` waits for the projections the route reads, not for every projector: a stuck
/// users projector does not hold up a wallet read.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_waits_only_for_the_projections_its_route_reads() {
    let app = spawn().await;
    // Another connection holds the users projector's lock: it cannot apply anything.
    let store = crate::support::open_store(&app.db.pool).await;
    let lock = projections::lock_name(&store, &projections::users::UsersProjector);
    let mut blocker = app.db.pool.acquire().await.unwrap().detach();
    let held: i64 = sqlx::query_scalar("SELECT GET_LOCK(?, 0)").bind(&lock).fetch_one(&mut blocker).await.unwrap();
    assert_eq!(held, 1);
    let user = app.register("student").await;
    let position = head(&app).await;

    let started = Instant::now();
    let wallet = app.get_with("/wallet", Some(&user.token), &[("X-Min-Position", &position.to_string())]).await;
    assert_eq!(wallet.status, 200, "{}", wallet.text);
    assert!(started.elapsed() < Duration::from_secs(2), "waited {:?}", started.elapsed());
    let health = app.get_with("/health", None, &[]).await;
    let users = health.body["data"]["projectors"].as_array().unwrap().iter().find(|p| p["name"] == "users").unwrap().clone();
    assert!(users["lag"].as_u64().unwrap() > 0, "the users projector is really stuck: {users}");
    drop(blocker);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_missing_field_is_named_a_repeated_key_is_400_and_a_wrong_method_is_405() {
    let app = spawn().await;
    let missing = app.post_json("/auth/register", None, &[], &json!({ "name": "Bo" })).await;
    assert_error(&missing, 422, "validation_failed");
    for field in ["username", "email", "password", "role"] {
        assert_eq!(field_reasons(&missing, field), ["is required"], "{field}: {}", missing.text);
    }
    assert!(missing.body["error"]["details"]["fields"].get("language").is_none(), "language is optional");
    let wrong_types = app.post_json("/auth/login", None, &[], &json!({ "login": 5, "password": true })).await;
    assert_error(&wrong_types, 422, "validation_failed");
    assert_eq!((field_reasons(&wrong_types, "login"), field_reasons(&wrong_types, "password")), (vec!["is invalid".to_owned()], vec!["is invalid".to_owned()]));

    let repeated = br#"{"login": "a@example.com", "password": "Correct#Horse9", "login": "b@example.com"}"#;
    let response = app.post_raw("/auth/login", None, &[], repeated).await;
    assert_error(&response, 400, "malformed_json");

    let user = app.register("student").await;
    let wrong_method = app.send(Method::DELETE, "/wallet", Some(&user.token), &[], None).await;
    assert_error(&wrong_method, 405, "method_not_allowed");
    assert_eq!(wrong_method.header("allow"), Some("GET"));
    let put = app.send(Method::PUT, "/auth/login", None, &[], None).await;
    assert_error(&put, 405, "method_not_allowed");
    assert_eq!(put.header("allow"), Some("POST"));
    assert_error(&app.get_with("/no-such-route", None, &[]).await, 404, "not_found");
}

/// A client that sends headers and part of a body, then stalls, is answered 408 once the body
/// timeout passes: it does not hold its connection forever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_request_body_is_timed_out() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let [limit, auth_limit] = NO_RATE_LIMITS;
    let app = TestApp::spawn(&[limit, auth_limit, ("REQUEST_BODY_TIMEOUT_MS", "300")]).await;
    let port = app.address.trim_start_matches("http://127.0.0.1:").split('/').next().unwrap().to_owned();
    let mut stream = tokio::net::TcpStream::connect(format!("127.0.0.1:{port}")).await.unwrap();
    let started = Instant::now();
    stream
        .write_all(b"POST /api/v1/auth/login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"login\": ")
        .await
        .unwrap();
    let mut answer = vec![0u8; 4096];
    let read = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut answer)).await.expect("answered before 10 s").unwrap();
    let answer = String::from_utf8_lossy(&answer[..read]).to_string();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("request_timeout"), "{answer}");
    assert!(started.elapsed() < Duration::from_secs(3), "took {:?}", started.elapsed());
}
