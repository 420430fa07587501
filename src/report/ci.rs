//! Output for CI services: GitHub Actions' `::error` workflow commands
//! (annotations on the run's page) and the Markdown appended to its step
//! summary (`$GITHUB_STEP_SUMMARY`).

use std::io::{self, Write};

use super::RunReport;
use crate::verdict::Cause;

/// The `::error` workflow command for `message`, titled `mcload`. The
/// message is escaped by GitHub's rules for command data: `%`, `\r` and
/// `\n` as `%25`, `%0D` and `%0A`, so a message stays one command.
pub fn annotation(message: &str) -> String {
    let data = message
        .replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A");
    format!("::error title=mcload::{data}")
}

/// One `::error` line per cause that fails the run's verdict (each failed
/// threshold among them); none when it passes or was only interrupted.
pub fn write_annotations(run: &RunReport, out: &mut dyn Write) -> io::Result<()> {
    for cause in run.causes.iter().filter(|c| **c != Cause::Interrupted) {
        writeln!(out, "{}", annotation(&cause.message()))?;
    }
    out.flush()
}

/// A table cell: `|` and line breaks would end it.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace(['\r', '\n'], " ")
}

/// The run's thresholds (metric, measured, limit, PASS/FAIL, where each
/// was given) and its verdict as Markdown, for the step summary.
pub fn step_summary(run: &RunReport) -> String {
    let mut md = format!(
        "### mcload · {} → {}{}\n\n",
        cell(&run.scenario),
        cell(&run.target),
        cell(&run.path)
    );
    if !run.thresholds.is_empty() {
        md.push_str("| metric | measured | limit | result | source |\n");
        md.push_str("|---|---:|---|---|---|\n");
        for e in &run.thresholds {
            let t = &e.threshold;
            let metric = match t.window {
                Some(w) => format!("{} over {w}s", t.metric),
                None => t.metric.to_string(),
            };
            let measured = super::text::measured_in_worst_window(e);
            md.push_str(&format!(
                "| `{}` | {} | {} {} | {} | {} |\n",
                cell(&metric),
                cell(&measured),
                t.op.symbol(),
                cell(&t.limit_text),
                if e.pass { "PASS" } else { "**FAIL**" },
                cell(&t.source.to_string())
            ));
        }
        md.push('\n');
    }
    if run.passed() {
        md.push_str("**verdict: passed** ✓\n");
    } else {
        md.push_str("**verdict: FAILED**\n\n");
        for cause in &run.causes {
            md.push_str(&format!("- {}\n", cell(&cause.message())));
        }
    }
    md.push('\n');
    md
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn annotations_escape_percent_and_line_breaks() {
        assert_eq!(
            annotation("threshold failed: status.201 >= 99.5% (measured 12.00%)"),
            "::error title=mcload::threshold failed: status.201 >= 99.5%25 (measured 12.00%25)"
        );
        assert_eq!(
            annotation("a\r\nb\nc"),
            "::error title=mcload::a%0D%0Ab%0Ac"
        );
    }

    #[test]
    fn table_cells_cannot_break_the_table() {
        assert_eq!(cell("a|b\nc"), "a\\|b c");
    }
}
