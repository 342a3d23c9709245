//! One integration-test binary (one link step) with a module per boundary.

mod replay;
mod store;
mod wallet;
