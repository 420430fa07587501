pub mod scenario;
pub mod spec;
