//! The verdict: thresholds (their grammar, [`threshold`]; the metrics they
//! name, [`metric`]; their evaluation over the whole run or every window,
//! [`evaluate`](mod@evaluate); their early stop of a run, [`abort`]) and
//! the [`Cause`]s that fail a run ([`cause`]). It judges and prints
//! nothing; `report` shows what it decided.
//!
//! The grammar depends only on the names of the checks and outcome
//! buckets, so the scenario reads thresholds with it; judging reads the
//! metrics and checks of a finished run.

pub mod abort;
pub mod cause;
pub mod evaluate;
pub mod metric;
pub mod threshold;

pub use abort::{AbortWatch, Aborted};
pub use cause::{Cause, measured_text};
pub use evaluate::{Evaluated, Measured, evaluate, with_default};
pub use metric::Metric;
pub use threshold::{Limit, Op, Source, Threshold, ThresholdError};
