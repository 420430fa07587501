//! `mcload merge`: the saved reports of every shard of one plan merged
//! into the report of the whole, judged, and written like `run`'s; the
//! verdict becomes the exit code.

use std::io::{self, Write};
use std::path::PathBuf;

use anyhow::Context as _;

use super::report::{place, thresholds, verdict};
use super::{CommandResult, Failure};
use crate::report::{self, RunReport};

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
    let run = &merged.report;
    let mut failed = Vec::new();
    let files = [&args.json, &args.junit, &args.html]
        .iter()
        .any(|f| f.is_some());
    if args.text || !files {
        let printed = report::write_text(run, out);
        if let Err(e) = crate::output::ignore_broken_pipe(printed) {
            failed.push(anyhow::Error::new(e).context("cannot print the summary"));
        }
    }
    if let Some(path) = &args.json {
        let written = place(path, "JSON report", |w| {
            serde_json::to_writer_pretty(&mut *w, &merged.to_json())?;
            writeln!(w)
        });
        failed.extend(written.err());
    }
    let outputs: [(&Option<PathBuf>, &str, Writer); 2] = [
        (&args.junit, "JUnit report", report::write_junit),
        (&args.html, "HTML report", report::write_html),
    ];
    for (path, what, write) in outputs {
        if let Some(path) = path
            && let Err(e) = place(path, what, |w| write(run, w))
        {
            failed.push(e);
        }
    }
    Ok(verdict(run, &failed, err))
}

type Writer = fn(&RunReport, &mut dyn Write) -> io::Result<()>;
