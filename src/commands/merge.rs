//! `mcload merge`: the saved reports of every shard of one plan merged
//! into the report of the whole, judged, and shown like `mcload report`
//! shows a saved run; the verdict becomes the exit code.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context as _;

use super::report::{Files, show, thresholds};
use super::{CommandResult, Failure};
use crate::report;

/// The arguments of `mcload merge`.
#[derive(Clone, Debug, Default)]
pub struct MergeArgs {
    /// The shards' JSON reports (`mcload run --shard K/N --json`).
    pub files: Vec<PathBuf>,
    /// Print the text summary also when files are asked for.
    pub text: bool,
    /// Thresholds to judge the whole by instead of the saved ones.
    pub thresholds: Vec<String>,
    pub json: Option<PathBuf>,
    pub junit: Option<PathBuf>,
    pub csv: Option<PathBuf>,
    pub html: Option<PathBuf>,
}

pub fn merge(args: &MergeArgs, out: &mut dyn Write, err: &mut dyn Write) -> CommandResult {
    let given = thresholds(&args.thresholds)?;
    let mut files = Vec::with_capacity(args.files.len());
    for path in &args.files {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the report {}", path.display()))
            .map_err(Failure::bad_input)?;
        files.push((path.display().to_string(), text));
    }
    let merged = report::merge::merge(&files, given).map_err(Failure::bad_input)?;
    let outputs = Files {
        json: args.json.as_deref(),
        junit: args.junit.as_deref(),
        csv: args.csv.as_deref(),
        html: args.html.as_deref(),
    };
    Ok(show(&merged.report, args.text, &outputs, out, err))
}
