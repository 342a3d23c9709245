//! One integration-test binary (one link step) with a module per boundary.

mod api;
mod fanout;
mod faults;
mod fuzz;
mod http;
mod kernel;
mod personal;
mod replay;
mod store;
mod support;
mod users;
mod wallet;
