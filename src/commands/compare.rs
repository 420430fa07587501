//! `mcload compare`: read two sets of saved reports, judge them with
//! [`crate::verdict::compare`], print the table and write its files, and
//! map the verdict to an exit code.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, anyhow};

use super::{CommandResult, Exit, Failure};
use crate::report::compare::{
    CompareView, compare_to_json, compare_warnings, write_compare_junit, write_compare_markdown,
    write_compare_text,
};
use crate::report::{self, OutputFile};
use crate::verdict::compare::{self, RunSample, Settings, Verdict};

/// The arguments of `mcload compare`.
#[derive(Clone, Debug, Default)]
pub struct CompareArgs {
    pub base: Vec<PathBuf>,
    pub cand: Vec<PathBuf>,
    pub settings: Settings,
    /// `--metric` names; empty for the default rows.
    pub metrics: Vec<String>,
    /// Sides that ran different things are an error, not a warning.
    pub strict: bool,
    pub fail_on_inconclusive: bool,
    pub json: Option<PathBuf>,
    pub markdown: Option<PathBuf>,
    /// Write a JUnit XML report here: one test case per metric.
    pub junit: Option<PathBuf>,
    /// Write the HTML page here: the rows and the spectra overlaid.
    pub html: Option<PathBuf>,
}

fn read(path: &Path) -> Result<RunSample, Failure> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read {}", path.display()))
        .map_err(Failure::bad_input)?;
    RunSample::parse(&text)
        .with_context(|| path.display().to_string())
        .map_err(Failure::bad_input)
}

fn read_side(paths: &[PathBuf], flag: &str) -> Result<Vec<RunSample>, Failure> {
    if paths.is_empty() {
        return Err(Failure::bad_input(anyhow!(
            "{flag} names no report: give at least one JSON report of `mcload run --json`"
        )));
    }
    paths.iter().map(|p| read(p)).collect()
}

/// Opens an output's temporary file beside its destination, before
/// anything is judged: a path that cannot be written is bad input.
fn create(path: &Option<PathBuf>, what: &'static str) -> Result<Option<Output>, Failure> {
    path.as_ref()
        .map(|p| {
            OutputFile::create(p)
                .map(|file| Output { file, what })
                .with_context(|| format!("cannot write the {what} to {}", p.display()))
                .map_err(Failure::bad_input)
        })
        .transpose()
}

/// An output file and what it holds, for messages.
struct Output {
    file: OutputFile,
    what: &'static str,
}

fn names(paths: &[PathBuf]) -> Vec<String> {
    paths.iter().map(|p| p.display().to_string()).collect()
}

/// Runs the comparison, the table on `out` and warnings on `err`.
pub fn compare(args: &CompareArgs, out: &mut impl Write, err: &mut impl Write) -> CommandResult {
    let base = read_side(&args.base, "--base")?;
    let cand = read_side(&args.cand, "--cand")?;
    for (path, run) in args
        .base
        .iter()
        .chain(&args.cand)
        .zip(base.iter().chain(&cand))
    {
        if run.interrupted {
            let _ = writeln!(
                err,
                "mcload: warning: {}: the run was interrupted; its values cover part of it",
                path.display()
            );
        }
    }
    let metrics = compare::metrics(&args.metrics, &base, &cand).map_err(Failure::bad_input)?;
    let comparison =
        compare::compare(&base, &cand, &metrics, &args.settings).map_err(Failure::bad_input)?;
    if args.strict && !comparison.mismatches.is_empty() {
        let list: Vec<String> = comparison
            .mismatches
            .iter()
            .map(ToString::to_string)
            .collect();
        return Err(Failure::bad_input(anyhow!(
            "--strict: the sides ran different things: {}",
            list.join("; ")
        )));
    }
    let json = create(&args.json, "comparison (JSON)")?;
    let markdown = create(&args.markdown, "comparison (Markdown)")?;
    let junit = create(&args.junit, "JUnit report")?;
    let html = create(&args.html, "comparison (HTML)")?;
    let (base_files, cand_files) = (names(&args.base), names(&args.cand));
    let view = CompareView {
        comparison: &comparison,
        base_files: &base_files,
        cand_files: &cand_files,
        fail_on_inconclusive: args.fail_on_inconclusive,
    };
    for w in compare_warnings(&comparison) {
        let _ = writeln!(err, "mcload: warning: {w}");
    }
    write_compare_text(&view, out)
        .context("cannot print the comparison")
        .map_err(Failure::bad_input)?;
    // Every file is attempted; a failure to write one after the comparison
    // is exit 4, the table having been printed.
    let mut failed = false;
    type Writer<'a> = &'a dyn Fn(&CompareView, &mut dyn Write) -> io::Result<()>;
    let outputs: [(Option<Output>, Writer); 4] = [
        (json, &|v, w| {
            serde_json::to_writer_pretty(&mut *w, &compare_to_json(v))?;
            writeln!(w)
        }),
        (markdown, &|v, mut w| write_compare_markdown(v, &mut w)),
        (junit, &|v, mut w| write_compare_junit(v, &mut w)),
        (html, &|v, w| report::write_compare_html(v, &base, &cand, w)),
    ];
    for (output, write) in outputs {
        let Some(Output { file, what }) = output else {
            continue;
        };
        let path = file.path().display().to_string();
        if let Err(e) = file.write_whole(|w| write(&view, w)) {
            let _ = writeln!(err, "mcload: cannot write the {what} to {path}: {e}");
            failed = true;
        }
    }
    github_actions(&view, out);
    Ok(if failed {
        Exit::OutputFailed
    } else if comparison.fails(args.fail_on_inconclusive) {
        Exit::CheckFailed
    } else {
        Exit::Ok
    })
}

/// Under GitHub Actions: an `::error` annotation per row that fails the
/// comparison, and the Markdown table appended to `GITHUB_STEP_SUMMARY`.
fn github_actions(view: &CompareView, out: &mut impl Write) {
    if !super::under_github_actions() {
        return;
    }
    for row in &view.comparison.rows {
        let fails = match row.verdict {
            Verdict::Regressed => true,
            Verdict::Inconclusive => view.fail_on_inconclusive,
            _ => false,
        };
        if fails {
            let message = format!(
                "{}: {} against the base",
                row.metric.name(),
                row.verdict.name()
            );
            let _ = writeln!(out, "{}", report::ci::annotation(&message));
        }
    }
    let mut markdown = Vec::new();
    if write_compare_markdown(view, &mut markdown).is_ok() {
        super::append_step_summary(&markdown);
    }
}
