pub mod engine;
pub mod generate;
pub mod metrics;
pub mod scenario;
pub mod schedule;
pub mod spec;
pub mod target;
