//! The HTTP surface, under `/api/v1`. Each route is registered together with its documentation.

pub mod admin;
pub mod auth;
pub mod docs;
pub mod health;
pub mod payments;
pub mod wallet;

use actix_web::http::Method;
use actix_web::web;

use crate::openapi::{Op, Routes};

pub fn table(routes: &mut Routes) {
    use Method as M;
    routes.add(M::GET, "/health", health::health, Op::new("health", "Database, NATS and projector lag").data::<health::HealthView>().errors(&[503]));
    routes.add(M::GET, "/openapi.json", docs::openapi, Op::new("health", "This OpenAPI document"));
    routes.add(M::GET, "/docs", docs::docs, Op::new("health", "A page that renders this document"));

    routes.add(M::POST, "/auth/register", auth::register,
        Op::new("auth", "Register as a student or speaker").body::<auth::RegisterRequest>().data::<auth::SessionView>().created().errors(&[400, 409, 422]));
    routes.add(M::POST, "/auth/login", auth::login,
        Op::new("auth", "Log in with email or username").body::<auth::LoginRequest>().data::<auth::SessionView>().errors(&[400, 401, 422]));
    routes.add(M::POST, "/auth/logout", auth::logout, Op::new("auth", "Revoke the current token").auth().errors(&[401]));
    routes.add(M::GET, "/auth/me", auth::me, Op::new("auth", "The current user with roles").auth().data::<auth::UserView>().errors(&[401]));

    routes.add(M::GET, "/wallet", wallet::balance, Op::new("wallet", "Wallet balances").auth().data::<wallet::WalletView>().errors(&[400, 401, 503]));
    routes.add(M::GET, "/wallet/transactions", wallet::transactions,
        Op::new("wallet", "Wallet transactions, newest first").auth().query::<wallet::TransactionsQuery>()
            .data::<Vec<wallet::TransactionView>>().errors(&[400, 401, 422, 503]));
    routes.add(M::POST, "/wallet/top-ups", wallet::create_top_up,
        Op::new("wallet", "Start a top-up; the wallet is credited when the provider confirms").auth().idempotent()
            .body::<wallet::TopUpRequest>().data::<wallet::TopUpView>().created().errors(&[400, 401, 409, 422]));
    routes.add(M::POST, "/wallet/withdrawals", wallet::request_withdrawal,
        Op::new("wallet", "Request a withdrawal (speakers)").auth().idempotent()
            .body::<wallet::WithdrawalRequest>().data::<wallet::WithdrawalView>().created().errors(&[400, 401, 403, 409, 422]));
    routes.add(M::POST, "/admin/withdrawals/{id}/approve", admin::approve,
        Op::new("admin", "Approve a pending withdrawal").auth().path_params(&["id"]).data::<admin::WithdrawalDecision>().errors(&[401, 403, 404, 409]));
    routes.add(M::POST, "/admin/withdrawals/{id}/reject", admin::reject,
        Op::new("admin", "Reject a pending withdrawal; the amount returns to the wallet").auth().path_params(&["id"])
            .body::<admin::RejectRequest>().data::<admin::WithdrawalDecision>().errors(&[400, 401, 403, 404, 409, 422]));
    routes.add(M::POST, "/payments/webhooks/{provider}", payments::webhook,
        Op::new("payments", "A payment provider's signed notification (header Signature: hex HMAC-SHA256 of the body)")
            .path_params(&["provider"]).body::<payments::SandboxNotification>().data::<payments::NotificationReceipt>()
            .errors(&[400, 401, 404, 409, 422]));
    routes.add(M::GET, "/payments/sandbox/checkout/{top_up_id}", payments::checkout_page,
        Op::new("payments", "The sandbox provider's checkout page (when SANDBOX_CHECKOUT=1)").path_params(&["top_up_id"]).errors(&[404]));
    routes.add(M::POST, "/payments/sandbox/checkout/{top_up_id}/{outcome}", payments::checkout_outcome,
        Op::new("payments", "Pay or fail a top-up as the sandbox provider (outcome: pay or fail; when SANDBOX_CHECKOUT=1)")
            .path_params(&["top_up_id", "outcome"]).data::<payments::NotificationReceipt>().errors(&[404, 409]));
}

pub fn configure(config: &mut web::ServiceConfig) {
    let mut routes = Routes::for_scope(web::scope("/api/v1"));
    table(&mut routes);
    config.service(routes.into_scope());
}
