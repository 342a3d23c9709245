//! One integration-test binary (one link step) with a module per boundary.

mod api;
mod fuzz;
mod http;
mod replay;
mod store;
mod support;
mod users;
mod wallet;
