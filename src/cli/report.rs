//! The flags of `mcload report`.

use std::path::PathBuf;

use clap::Args;

use crate::commands::report::ReportArgs;

pub(super) const AFTER_HELP: &str = "Examples:
  mcload report run.json                                    print the run's text summary
  mcload report run.json --csv series.csv                   the per-second series, for a spreadsheet
  mcload report run.json --threshold \"latency.p99 < 50ms\"  judge the run by other thresholds
  mcload report run.json --junit junit.xml --text           a JUnit report, and the summary too
  mcload report run.json --html run.html                    the HTML report with its charts

With no output file, the text summary prints; --text prints it as well.
Given thresholds replace those the run was judged by (\"unexpected <= 1%\"
applies unless one is on `unexpected`, as for `run`); the rest of the
verdict (checks, interruption, server counts) stays as it was. A
threshold `over` a window needs the per-second series, which keeps each
second's p50, p99 and max latency and its errors as one count: windows of
1s on those, and counts other than single error classes, can be judged.

Exit codes: 0 the verdict passes · 1 it fails · 2 the file cannot be read as an
mcload report, or a threshold is wrong or cannot be judged from it · 4 an output
file could not be written (the summary still printed)";

#[derive(Debug, Args)]
pub(super) struct ReportFlags {
    /// The saved JSON report (`mcload run --json`).
    file: PathBuf,
    /// Print the text summary also when output files are asked for.
    #[arg(long)]
    text: bool,
    /// A threshold to judge the run by (repeatable), replacing the saved
    /// ones: METRIC [over D] OP VALUE, as for `run`.
    #[arg(long = "threshold", value_name = "EXPR")]
    thresholds: Vec<String>,
    /// Write the per-second series as CSV to PATH.
    #[arg(long, value_name = "PATH")]
    csv: Option<PathBuf>,
    /// Write the JSON report (judged again) to PATH.
    #[arg(long, value_name = "PATH")]
    json: Option<PathBuf>,
    /// Write a JUnit XML report to PATH: one test case per threshold and per check.
    #[arg(long, value_name = "PATH")]
    junit: Option<PathBuf>,
    /// Write the HTML report with its charts to PATH (one file, no network).
    #[arg(long, value_name = "PATH")]
    html: Option<PathBuf>,
}

impl ReportFlags {
    pub(super) fn args(self) -> ReportArgs {
        ReportArgs {
            file: self.file,
            text: self.text,
            thresholds: self.thresholds,
            csv: self.csv,
            json: self.json,
            junit: self.junit,
            html: self.html,
        }
    }
}
