pub mod generate;
pub mod scenario;
pub mod spec;
