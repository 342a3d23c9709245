//! The HTTP surface, under `/api/v1`.

mod health;

use actix_web::web;

pub fn configure(config: &mut web::ServiceConfig) {
    config.service(web::scope("/api/v1").route("/health", web::get().to(health::health)));
}
