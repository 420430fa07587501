//! `mcload report`: read a saved JSON report, judge it again when
//! thresholds are given, print its text summary and write it in other
//! formats; the verdict becomes the exit code, as for `run`.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use anyhow::Context as _;

use super::{CommandResult, Exit, Failure};
use crate::report::{self, OutputFile, RunReport};
use crate::threshold::{self, Source, Threshold};

/// The arguments of `mcload report`.
#[derive(Clone, Debug, Default)]
pub struct ReportArgs {
    /// The saved JSON report (`mcload run --json`).
    pub file: PathBuf,
    /// Print the text summary also when files are asked for.
    pub text: bool,
    /// Thresholds to judge the run by instead of the saved ones.
    pub thresholds: Vec<String>,
    pub csv: Option<PathBuf>,
    pub json: Option<PathBuf>,
    pub junit: Option<PathBuf>,
    pub html: Option<PathBuf>,
}

/// Reads the report `args` names and judges it again when thresholds are
/// given: what every output of `mcload report` is written from.
pub fn load(args: &ReportArgs) -> Result<RunReport, Failure> {
    let given = thresholds(&args.thresholds)?;
    let path = args.file.display();
    let text = std::fs::read_to_string(&args.file)
        .with_context(|| format!("cannot read the report {path}"))
        .map_err(Failure::bad_input)?;
    let mut run = report::read(&text)
        .with_context(|| format!("{path} cannot be read as a report"))
        .map_err(Failure::bad_input)?;
    if !given.is_empty() {
        report::rejudge(&mut run, given)
            .with_context(|| format!("cannot judge {path} again"))
            .map_err(Failure::bad_input)?;
    }
    Ok(run)
}

pub fn report(args: &ReportArgs, out: &mut dyn Write, err: &mut dyn Write) -> CommandResult {
    let run = load(args)?;
    let files = Files {
        json: args.json.as_deref(),
        junit: args.junit.as_deref(),
        csv: args.csv.as_deref(),
        html: args.html.as_deref(),
    };
    Ok(show(&run, args.text, &files, out, err))
}

/// The files a saved (or merged) report is written to.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Files<'a> {
    pub json: Option<&'a Path>,
    pub junit: Option<&'a Path>,
    pub csv: Option<&'a Path>,
    pub html: Option<&'a Path>,
}

/// Prints `run`'s text summary (with no file, or with `text`), writes it
/// to `files`, says the verdict and gives the exit code.
pub(super) fn show(
    run: &RunReport,
    text: bool,
    files: &Files<'_>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Exit {
    let mut failed = Vec::new();
    let outputs: [(Option<&Path>, &str, Writer); 4] = [
        (files.json, "JSON report", |run, w| {
            serde_json::to_writer_pretty(&mut *w, &report::to_json(run))?;
            writeln!(w)
        }),
        (files.junit, "JUnit report", report::write_junit),
        (files.csv, "CSV series", report::write_csv),
        (files.html, "HTML report", report::write_html),
    ];
    if text || outputs.iter().all(|(path, _, _)| path.is_none()) {
        let printed = report::write_text(run, out);
        if let Err(e) = crate::output::ignore_broken_pipe(printed) {
            failed.push(anyhow::Error::new(e).context("cannot print the summary"));
        }
    }
    for (path, what, write) in outputs {
        if let Some(path) = path
            && let Err(e) = place(path, what, |w| write(run, w))
        {
            failed.push(e);
        }
    }
    verdict(run, &failed, err)
}

/// Says the outputs that failed and the verdict's causes on `err`, and
/// gives the exit code, as `run` does: 4 when an output failed, else 1
/// when the verdict fails, else 0.
fn verdict(run: &RunReport, failed: &[anyhow::Error], err: &mut dyn Write) -> Exit {
    for e in failed {
        let _ = writeln!(err, "mcload: {e:#}");
    }
    let mut exit = Exit::Ok;
    for cause in &run.causes {
        let _ = writeln!(err, "mcload: {}", cause.message());
        exit = Exit::CheckFailed;
    }
    if failed.is_empty() {
        exit
    } else {
        Exit::OutputFailed
    }
}

type Writer = fn(&RunReport, &mut dyn Write) -> io::Result<()>;

/// The given thresholds; one that cannot be read is bad input, named.
pub(super) fn thresholds(given: &[String]) -> Result<Vec<Threshold>, Failure> {
    given
        .iter()
        .map(|text| {
            let (metric, check) = threshold::split(text);
            threshold::parse(metric, check, Source::Flag).map_err(|e| {
                let hint = e.hint.as_ref().map_or(String::new(), |h| format!("; {h}"));
                Failure::bad_input(anyhow::anyhow!("--threshold {text:?}: {e}{hint}"))
            })
        })
        .collect()
}

/// Writes `write`'s output to a temporary file beside `path`, then puts it
/// in place: a failure leaves what was at `path` as it was.
fn place(
    path: &Path,
    what: &str,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> anyhow::Result<()> {
    let context = || format!("cannot write the {what} to {}", path.display());
    OutputFile::create(path)
        .and_then(|out| out.write_whole(write))
        .with_context(context)
}
