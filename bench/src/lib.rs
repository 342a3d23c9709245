//! Benchmarks: programs that drive the real command layer, event store and projections on
//! MariaDB and print their figures as one JSON line. They assert nothing about speed.

pub mod social_graph;
pub mod users;
