//! The verdict: thresholds (their grammar and the metrics they name live in
//! [`crate::threshold`], below the scenario that reads them; their
//! evaluation over the whole run or every window,
//! [`evaluate`](mod@evaluate); their early stop of a run, [`abort`]) and
//! the [`Cause`]s that fail a run ([`cause`]); and [`compare`], which judges
//! two sets of saved reports with the statistics of [`stats`]. It judges
//! and prints nothing; `report` shows what it decided.

pub mod abort;
pub mod cause;
pub mod compare;
pub mod evaluate;
pub mod stats;

pub use crate::threshold::{Limit, Metric, Op, Source, Threshold, ThresholdError, metric};
pub use abort::{AbortWatch, Aborted};
pub use cause::{Cause, measured_text};
pub use evaluate::{Evaluated, Measured, evaluate};
