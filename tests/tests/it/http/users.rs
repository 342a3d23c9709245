//! The users context over HTTP: registration, login, logout, tokens.

use chrono::Utc;
use jsonwebtoken::Algorithm;
use serde_json::json;
use uuid::Uuid;

use super::*;
use crate::api::{JWT_SECRET, PASSWORD, Response};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_login_me_and_logout() {
    let app = spawn().await;
    let body = json!({ "name": "Sara", "username": "Sara_1", "email": "Sara@Example.com", "password": PASSWORD, "role": "speaker", "language": "ar" });
    let registered = app.post_json("/auth/register", None, &[], &body).await;
    assert_eq!(registered.status, 201, "{}", registered.text);
    assert_eq!(registered.body["success"], true);
    let user = &registered.body["data"]["user"];
    assert_eq!(user["roles"], json!(["student", "speaker"]));
    assert_eq!(user["username"], "sara_1");
    assert_eq!(user["email"], "sara@example.com");
    assert_eq!(user["language"], "ar");
    assert!(registered.body["data"]["token"].as_str().is_some_and(|t| t.split('.').count() == 3));
    registered.position();

    let student = app.register("student").await;
    let me = app.get_with("/auth/me", Some(&student.token), &[]).await;
    assert_eq!(me.status, 200, "{}", me.text);
    assert_eq!(me.body["data"]["id"], student.user_id.to_string());
    assert_eq!(me.body["data"]["roles"], json!(["student"]));
    assert!(!app.login(&student.username, PASSWORD).await.is_empty());

    // By email and by username, whatever their case.
    let by_email = app.login("SARA@example.COM", PASSWORD).await;
    let by_username = app.login("SARA_1", PASSWORD).await;
    for token in [&by_email, &by_username] {
        let me = app.get_with("/auth/me", Some(token), &[]).await;
        assert_eq!(me.status, 200, "{}", me.text);
        assert_eq!(me.body["data"]["id"], user["id"]);
        assert_eq!(me.body["data"]["roles"], json!(["student", "speaker"]));
    }

    let logout = app.post_raw("/auth/logout", Some(&by_email), &[], b"").await;
    assert_eq!(logout.status, 200, "{}", logout.text);
    assert_eq!(logout.body["success"], true);
    logout.position();
    assert_error(&app.get_with("/auth/me", Some(&by_email), &[]).await, 401, "invalid_token");
    assert_error(&app.get_with("/wallet", Some(&by_email), &[]).await, 401, "invalid_token");
    // Only that token: the other session goes on.
    assert_eq!(app.get_with("/auth/me", Some(&by_username), &[]).await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_or_wrong_credentials_are_401() {
    let app = spawn().await;
    let user = app.register("student").await;
    assert_error(&app.get_with("/wallet", None, &[]).await, 401, "unauthorized");
    assert_error(&app.get_with("/auth/me", None, &[]).await, 401, "unauthorized");
    assert_error(&app.post_raw("/auth/logout", None, &[], b"").await, 401, "unauthorized");
    assert_error(&app.post_json("/wallet/top-ups", None, &[("Idempotency-Key", "k")], &json!({})).await, 401, "unauthorized");

    let wrong_password = app.post_json("/auth/login", None, &[], &json!({ "login": user.email, "password": "Wrong#Pass1" })).await;
    assert_error(&wrong_password, 401, "invalid_credentials");
    let nobody = app.post_json("/auth/login", None, &[], &json!({ "login": "nobody@example.com", "password": PASSWORD })).await;
    assert_error(&nobody, 401, "invalid_credentials");
    // The same answer whether the user exists or not.
    assert_eq!(wrong_password.body, nobody.body);
    let nonsense = app.post_json("/auth/login", None, &[], &json!({ "login": "@@", "password": "" })).await;
    assert_error(&nonsense, 401, "invalid_credentials");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_expired_and_revoked_tokens_are_401() {
    let app = spawn().await;
    let user = app.register("student").await;
    let wallet = |authorization: String| {
        let app = &app;
        async move { app.get_with("/wallet", None, &[("Authorization", &authorization)]).await }
    };
    let refused = |response: &Response| {
        assert_eq!(response.status, 401, "{}", response.text);
        let code = response.body["error"]["code"].as_str().unwrap_or_default();
        assert!(code == "invalid_token" || code == "unauthorized", "{}", response.text);
        assert_eq!(response.body["success"], false);
    };

    // The forging itself is right: a token signed with the server's secret is accepted.
    let genuine = forge(Algorithm::HS256, JWT_SECRET, &claims(user.user_id, &["student"], 600));
    assert_eq!(wallet(format!("Bearer {genuine}")).await.status, 200);
    assert_eq!(wallet(format!("bearer {}", user.token)).await.status, 200);

    for authorization in ["Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Token abc", "garbage", user.token.as_str()] {
        refused(&wallet(authorization.to_owned()).await);
    }
    refused(&wallet("Bearer not.a.jwt".to_owned()).await);
    refused(&wallet("Bearer aGVsbG8".to_owned()).await);
    let expired = forge(Algorithm::HS256, JWT_SECRET, &claims(user.user_id, &["student"], -3600));
    refused(&wallet(format!("Bearer {expired}")).await);
    let other_secret = forge(Algorithm::HS256, "another-secret-that-is-also-long-enough-42", &claims(user.user_id, &["student", "admin"], 600));
    refused(&wallet(format!("Bearer {other_secret}")).await);
    // The right secret but another algorithm: only HS256 is accepted.
    let hs512 = forge(Algorithm::HS512, JWT_SECRET, &claims(user.user_id, &["student"], 600));
    refused(&wallet(format!("Bearer {hs512}")).await);
    let header = base64url(br#"{"alg":"none","typ":"JWT"}"#);
    let payload = base64url(claims(user.user_id, &["student", "admin"], 600).to_string().as_bytes());
    refused(&wallet(format!("Bearer {header}.{payload}.")).await);
    let none_upper = base64url(br#"{"alg":"None","typ":"JWT"}"#);
    refused(&wallet(format!("Bearer {none_upper}.{payload}.")).await);
    // A genuine token with its payload swapped for more roles.
    let parts: Vec<&str> = user.token.split('.').collect();
    refused(&wallet(format!("Bearer {}.{payload}.{}", parts[0], parts[2])).await);
    // Missing claims.
    let no_exp = json!({ "sub": user.user_id, "roles": ["student"], "iat": Utc::now().timestamp(), "jti": Uuid::now_v7() });
    refused(&wallet(format!("Bearer {}", forge(Algorithm::HS256, JWT_SECRET, &no_exp))).await);

    let logout = app.post_raw("/auth/logout", Some(&user.token), &[], b"").await;
    assert_eq!(logout.status, 200);
    refused(&wallet(format!("Bearer {}", user.token)).await);
    // Logging out twice with a revoked token is refused too.
    refused(&app.post_raw("/auth/logout", Some(&user.token), &[], b"").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn taken_emails_and_usernames_are_409() {
    let app = spawn().await;
    let first = json!({ "name": "Omar", "username": "Omar.K", "email": "omar@example.com", "password": PASSWORD, "role": "student" });
    assert_eq!(app.post_json("/auth/register", None, &[], &first).await.status, 201);
    let same_email = json!({ "name": "Omar", "username": "omar2", "email": "OMAR@example.com", "password": PASSWORD, "role": "student" });
    assert_error(&app.post_json("/auth/register", None, &[], &same_email).await, 409, "email_taken");
    let same_username = json!({ "name": "Omar", "username": "OMAR.k", "email": "omar2@example.com", "password": PASSWORD, "role": "speaker" });
    assert_error(&app.post_json("/auth/register", None, &[], &same_username).await, 409, "username_taken");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_registrations_are_422_with_their_reasons() {
    let app = spawn().await;
    let bad = json!({ "name": "", "username": "9lives", "email": "not-an-email", "password": "password", "role": "admin", "language": "fr" });
    let refused = app.post_json("/auth/register", None, &[], &bad).await;
    assert_error(&refused, 422, "validation_failed");
    for field in ["name", "username", "email", "password", "role", "language"] {
        assert!(!field_reasons(&refused, field).is_empty(), "{field}");
    }
    // A strong-enough password alone is not enough: each rule counts.
    for weak in ["Short#1", "nouppercase#1", "NoDigits#here", "NoSymbol123"] {
        let body = json!({ "name": "A", "username": "abc", "email": "a@example.com", "password": weak, "role": "student" });
        let refused = app.post_json("/auth/register", None, &[], &body).await;
        assert_error(&refused, 422, "validation_failed");
        assert_eq!(field_reasons(&refused, "password").len(), 1, "{weak}: {}", refused.text);
        assert!(refused.body["error"]["details"]["fields"].get("email").is_none());
    }
    let missing = app.post_json("/auth/register", None, &[], &json!({ "name": "A" })).await;
    assert_error(&missing, 422, "validation_failed");
    let wrong_type = app.post_json("/auth/login", None, &[], &json!({ "login": 5, "password": true })).await;
    assert_error(&wrong_type, 422, "validation_failed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_genuine_token_for_a_user_this_deployment_does_not_know_is_401() {
    let app = spawn().await;
    let stranger = forge(Algorithm::HS256, JWT_SECRET, &claims(Uuid::now_v7(), &["student", "speaker"], 600));
    for path in ["/wallet", "/wallet/transactions", "/auth/me"] {
        let response = app.get_with(path, Some(&stranger), &[]).await;
        assert_error(&response, 401, "invalid_token");
    }
    let top_up = app.post_json("/wallet/top-ups", Some(&stranger), &[("Idempotency-Key", "k")], &json!({ "amount": "1.00", "provider": "sandbox" })).await;
    assert_error(&top_up, 401, "invalid_token");
}
