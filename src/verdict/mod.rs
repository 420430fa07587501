//! Judging runs: `compare`'s statistics over saved reports. It prints nothing.

pub mod compare;
pub mod stats;
