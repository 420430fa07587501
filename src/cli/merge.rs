//! The flags of `mcload merge`.

use std::path::PathBuf;

use clap::Args;

use crate::commands::merge::MergeArgs;

pub(super) const AFTER_HELP: &str = "Examples:
  mcload merge shard-0.json shard-1.json shard-2.json          the whole run's summary
  mcload merge shards/*.json --json whole.json --html whole.html
  mcload merge shards/*.json --threshold \"latency.p99 < 50ms\"   judge the whole by other thresholds
  mcload merge shards/*.json --junit junit.xml --csv series.csv --text

Give the report (`run --shard K/N --json`) of every shard of one run, each
once. Counts, bodies, checks and every histogram are added losslessly; the
per-second series is aligned by absolute time (`started_at`). Session ids
that several shards got are counted in checks.duplicate_session_ids. The
whole is judged by the thresholds the shards were judged by, or by those
given with --threshold (\"unexpected <= 1%\" applies unless one is on
`unexpected`). With no output file, the text summary prints; --text prints
it as well.

Exit codes: 0 the merged verdict passes · 1 it fails · 2 a file cannot be
read as a shard's report, the reports are of different plans, schema
versions or shard counts, a shard is missing or repeated, or a threshold is
wrong · 4 an output file could not be written (the summary still printed)";

#[derive(Debug, Args)]
pub(super) struct MergeFlags {
    /// The JSON report of every shard (`mcload run --shard K/N --json`).
    #[arg(required = true, value_name = "SHARD.json")]
    files: Vec<PathBuf>,
    /// Print the text summary also when output files are asked for.
    #[arg(long)]
    text: bool,
    /// A threshold to judge the whole by (repeatable), replacing the saved
    /// ones: METRIC [over D] OP VALUE, as for `run`.
    #[arg(long = "threshold", value_name = "EXPR")]
    thresholds: Vec<String>,
    /// Write the merged JSON report to PATH.
    #[arg(long, value_name = "PATH")]
    json: Option<PathBuf>,
    /// Write a JUnit XML report of the whole to PATH.
    #[arg(long, value_name = "PATH")]
    junit: Option<PathBuf>,
    /// Write the whole's per-second series as CSV to PATH.
    #[arg(long, value_name = "PATH")]
    csv: Option<PathBuf>,
    /// Write the HTML report of the whole, with its charts, to PATH.
    #[arg(long, value_name = "PATH")]
    html: Option<PathBuf>,
}

impl MergeFlags {
    pub(super) fn args(self) -> MergeArgs {
        MergeArgs {
            files: self.files,
            text: self.text,
            thresholds: self.thresholds,
            json: self.json,
            junit: self.junit,
            csv: self.csv,
            html: self.html,
        }
    }
}
