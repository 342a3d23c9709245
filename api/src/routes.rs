//! The HTTP surface, under `/api/v1`: the platform's own routes, then one line per context.
//! Each route is registered together with its documentation and the projections it reads.

use actix_web::http::Method;
use actix_web::web;

use crate::openapi::{Op, PREFIX, Routes};
use crate::{catalogue, chat, commerce, docs, gifts, health, invoicing, notifications, realtime, rooms, social, users, wallet};

pub fn table(routes: &mut Routes) {
    routes.add(Method::GET, "/health", health::health,
        Op::new("health", "Database, NATS and projector lag").data::<health::HealthView>().errors(&[503])
            .description("Needs no token and is never rate limited. 503 when the database cannot be reached."));
    routes.add(Method::GET, "/openapi.json", docs::openapi,
        Op::new("health", "This OpenAPI 3.1 document").content("application/json"));
    routes.add(Method::GET, "/docs", docs::docs,
        Op::new("health", "This API reference, as a web page").content("text/html"));
    routes.add(Method::GET, docs::REDOC_PATH, docs::redoc,
        Op::new("health", "The script that renders the API reference (Redoc, served from the binary)").content("text/javascript"));

    users::routes(routes);
    wallet::routes(routes);
    catalogue::routes(routes);
    commerce::routes(routes);
    invoicing::routes(routes);
    rooms::routes(routes);
    social::routes(routes);
    gifts::routes(routes);
    chat::routes(routes);
    realtime::routes(routes);
    notifications::routes(routes);
}

pub fn configure(config: &mut web::ServiceConfig) {
    let mut routes = Routes::new();
    table(&mut routes);
    config.service(routes.into_scope(web::scope(PREFIX)));
}
