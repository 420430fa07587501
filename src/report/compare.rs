//! `mcload compare`'s outputs: the text table, the JSON document
//! (`--json`) and the Markdown table (`--markdown`).

use std::io::{self, Write};

use serde_json::{Value, json};

use crate::verdict::compare::{Comparison, MIN_RUNS, Row, Unit, Verdict};

/// The schema of `mcload compare --json`.
pub const COMPARE_SCHEMA: &str = "mcload.compare/v1";

/// A comparison with the files it read and how it is to be judged.
#[derive(Clone, Copy, Debug)]
pub struct CompareView<'a> {
    pub comparison: &'a Comparison,
    pub base_files: &'a [String],
    pub cand_files: &'a [String],
    /// Inconclusive rows fail the comparison too.
    pub fail_on_inconclusive: bool,
}

fn value(unit: Unit, x: f64) -> String {
    if !x.is_finite() {
        return "-".into();
    }
    match unit {
        Unit::Ms if x >= 100.0 => format!("{x:.1} ms"),
        Unit::Ms if x >= 10.0 => format!("{x:.2} ms"),
        Unit::Ms => format!("{x:.3} ms"),
        Unit::PerSecond => format!("{x:.1}/s"),
        Unit::Share => format!("{:.3}%", x * 100.0),
    }
}

fn ratio(r: f64) -> String {
    if r >= 100.0 {
        format!("{r:.0}")
    } else if r >= 10.0 {
        format!("{r:.1}")
    } else {
        format!("{r:.3}")
    }
}

fn p_value(p: f64) -> String {
    if p < 0.001 {
        "<0.001".into()
    } else {
        format!("{p:.3}")
    }
}

/// The verdict, with what it rests on when that is not the statistics.
fn verdict(row: &Row) -> String {
    match row.verdict {
        Verdict::Regressed if row.appeared => "regressed (0 in every base run)".into(),
        Verdict::TooFewAnswers { need, least } => {
            format!("too few answers (needs {need} per run, the fewest {least})")
        }
        Verdict::Missing => "missing (not in every report)".into(),
        v => v.name().into(),
    }
}

fn verdict_key(v: Verdict) -> &'static str {
    match v {
        Verdict::Regressed => "regressed",
        Verdict::Improved => "improved",
        Verdict::Same => "same",
        Verdict::Inconclusive => "inconclusive",
        Verdict::TooFewAnswers { .. } => "too_few_answers",
        Verdict::Missing => "missing",
    }
}

fn unit_key(u: Unit) -> &'static str {
    match u {
        Unit::Ms => "ms",
        Unit::PerSecond => "per_second",
        Unit::Share => "share",
    }
}

fn percent(x: f64) -> String {
    let s = format!("{:.2}", x * 100.0);
    let s = s.trim_end_matches('0').trim_end_matches('.');
    format!("{s}%")
}

/// The cells of one row: metric, base, candidate, ratio, interval, p, verdict.
pub(crate) fn cells(row: &Row) -> [String; 7] {
    let unit = row.metric.unit();
    let judged = row.ratio.is_some();
    [
        row.metric.name(),
        value(unit, row.base_center),
        value(unit, row.cand_center),
        row.ratio.filter(|_| judged).map_or("-".into(), ratio),
        row.ci.map_or("-".into(), |(lo, hi)| {
            format!("[{}, {}]", ratio(lo), ratio(hi))
        }),
        row.p_adjusted.map_or("-".into(), p_value),
        verdict(row),
    ]
}

pub(crate) fn ci_header(c: &Comparison) -> String {
    format!("{} CI", percent(1.0 - c.settings.alpha))
}

pub(crate) fn headline(view: &CompareView) -> String {
    let c = view.comparison;
    let tested = c.rows.iter().filter(|r| r.p.is_some()).count();
    let how = if c.statistical {
        format!(
            "alpha {} over {tested} rows (Holm-Bonferroni)",
            c.settings.alpha
        )
    } else {
        "tolerance alone".into()
    };
    format!(
        "{} base run{} against {} candidate run{} · tolerance {} · {how}",
        c.base_runs,
        if c.base_runs == 1 { "" } else { "s" },
        c.cand_runs,
        if c.cand_runs == 1 { "" } else { "s" },
        percent(c.settings.tolerance),
    )
}

/// The warnings a comparison calls for: noise not accounted for, and the
/// sides having run different things.
pub fn compare_warnings(c: &Comparison) -> Vec<String> {
    let mut w = Vec::new();
    if !c.statistical {
        w.push(format!(
            "fewer than {MIN_RUNS} reports on a side: rows are judged by the tolerance alone, \
             and run-to-run noise is not accounted for"
        ));
    }
    w.extend(c.mismatches.iter().map(ToString::to_string));
    w
}

pub(crate) fn summary(view: &CompareView) -> String {
    let c = view.comparison;
    let names = |v: Verdict| -> Vec<String> {
        c.rows
            .iter()
            .filter(|r| r.verdict == v)
            .map(|r| r.metric.name())
            .collect()
    };
    let regressed = names(Verdict::Regressed);
    let inconclusive = names(Verdict::Inconclusive);
    let mut parts = Vec::new();
    if !regressed.is_empty() {
        parts.push(format!("regressed: {}", regressed.join(", ")));
    }
    if !inconclusive.is_empty() {
        parts.push(format!("inconclusive: {}", inconclusive.join(", ")));
    }
    let fails = c.fails(view.fail_on_inconclusive);
    let head = if fails { "FAIL" } else { "PASS" };
    if parts.is_empty() {
        format!("{head}: no regression")
    } else {
        format!("{head}: {}", parts.join("; "))
    }
}

/// The text table, for people.
pub fn write_compare_text(view: &CompareView, out: &mut impl Write) -> io::Result<()> {
    let c = view.comparison;
    let header = [
        "metric".to_string(),
        "base".into(),
        "candidate".into(),
        "ratio".into(),
        ci_header(c),
        "p".into(),
        "verdict".into(),
    ];
    let rows: Vec<[String; 7]> = c.rows.iter().map(cells).collect();
    let mut widths = [0; 7];
    for r in std::iter::once(&header).chain(&rows) {
        for (w, cell) in widths.iter_mut().zip(r) {
            *w = (*w).max(cell.chars().count());
        }
    }
    writeln!(out, "mcload compare: {}", headline(view))?;
    writeln!(out)?;
    for r in std::iter::once(&header).chain(&rows) {
        let mut line = String::new();
        for (i, (cell, w)) in r.iter().zip(widths).enumerate() {
            let pad = w - cell.chars().count();
            // Numbers right-aligned, words left-aligned.
            if (1..=3).contains(&i) || i == 5 {
                line.push_str(&" ".repeat(pad));
                line.push_str(cell);
            } else {
                line.push_str(cell);
                if i < 6 {
                    line.push_str(&" ".repeat(pad));
                }
            }
            if i < 6 {
                line.push_str("  ");
            }
        }
        writeln!(out, "{}", line.trim_end())?;
    }
    writeln!(out)?;
    writeln!(
        out,
        "ratio: candidate / base (of geometric means; shares as share + 0.1%); p: corrected for {} rows",
        c.rows.iter().filter(|r| r.p.is_some()).count()
    )?;
    writeln!(out, "{}", summary(view))
}

/// The Markdown table (`--markdown`), for pull requests and CI summaries.
pub fn write_compare_markdown(view: &CompareView, out: &mut impl Write) -> io::Result<()> {
    let c = view.comparison;
    writeln!(out, "### mcload compare")?;
    writeln!(out)?;
    writeln!(out, "{}", headline(view))?;
    writeln!(out)?;
    writeln!(
        out,
        "| metric | base | candidate | ratio | {} | p | verdict |",
        ci_header(c)
    )?;
    writeln!(out, "|---|---:|---:|---:|---|---:|---|")?;
    for row in &c.rows {
        let mut cells = cells(row);
        if matches!(row.verdict, Verdict::Regressed | Verdict::Inconclusive) {
            cells[6] = format!("**{}**", cells[6]);
        }
        cells[0] = format!("`{}`", cells[0]);
        // `~` is Markdown's strikethrough marker.
        cells[6] = cells[6].replace('~', "\\~");
        writeln!(out, "| {} |", cells.join(" | "))?;
    }
    writeln!(out)?;
    for w in compare_warnings(c) {
        writeln!(out, "> warning: {w}")?;
    }
    writeln!(out, "**{}**", summary(view))
}

fn finite(x: f64) -> Value {
    if x.is_finite() { json!(x) } else { Value::Null }
}

/// The JSON document (`--json`).
pub fn compare_to_json(view: &CompareView) -> Value {
    let c = view.comparison;
    let rows: Vec<Value> = c
        .rows
        .iter()
        .map(|r| {
            let mut row = json!({
                "metric": r.metric.name(),
                "unit": unit_key(r.metric.unit()),
                "higher_is_better": r.metric.higher_is_better(),
                "base": { "center": finite(r.base_center), "runs": r.base },
                "candidate": { "center": finite(r.cand_center), "runs": r.cand },
                "ratio": r.ratio.map(finite),
                "ci": r.ci.map(|(lo, hi)| json!([finite(lo), finite(hi)])),
                "p": r.p.map(finite),
                "p_adjusted": r.p_adjusted.map(finite),
                "verdict": verdict_key(r.verdict),
            });
            if r.appeared {
                row["appeared"] = json!(true);
            }
            if let Verdict::TooFewAnswers { need, least } = r.verdict {
                row["answers_needed"] = json!(need);
                row["answers_least"] = json!(least);
            }
            row
        })
        .collect();
    json!({
        "schema": COMPARE_SCHEMA,
        "base": view.base_files,
        "candidate": view.cand_files,
        "tolerance": c.settings.tolerance,
        "alpha": c.settings.alpha,
        "statistical": c.statistical,
        "correction": "holm-bonferroni",
        "rows": rows,
        "warnings": compare_warnings(c),
        "regressed": c.regressed(),
        "inconclusive": c.inconclusive(),
        "pass": !c.fails(view.fail_on_inconclusive),
    })
}

/// The limit a row's ratio is held to, in words.
fn limit(row: &Row, tolerance: f64) -> String {
    if row.metric.higher_is_better() {
        format!("ratio at least {}", ratio((1.0 - tolerance).max(0.0)))
    } else {
        format!("ratio at most {}", ratio(1.0 + tolerance))
    }
}

/// What a row measured and what it was held to, in one sentence.
fn measured(row: &Row, c: &Comparison) -> String {
    let unit = row.metric.unit();
    let mut s = format!(
        "{}: candidate {} against base {}",
        verdict(row),
        value(unit, row.cand_center),
        value(unit, row.base_center)
    );
    if row.appeared {
        return s;
    }
    if let Some(r) = row.ratio {
        s.push_str(&format!(", ratio {}", ratio(r)));
    }
    if let Some((lo, hi)) = row.ci {
        s.push_str(&format!(
            " ({} [{}, {}])",
            ci_header(c),
            ratio(lo),
            ratio(hi)
        ));
    }
    s.push_str(&format!(
        "; limit: {} (tolerance {})",
        limit(row, c.settings.tolerance),
        percent(c.settings.tolerance)
    ));
    if let Some(p) = row.p_adjusted {
        s.push_str(&format!(
            ", p {} (Holm-Bonferroni, alpha {})",
            p_value(p),
            c.settings.alpha
        ));
    }
    s
}

/// The comparison as a JUnit report (`--junit`): one test case per metric.
/// A regression fails its case (an inconclusive row too, with
/// `fail_on_inconclusive`); a row that could not be judged is skipped.
pub fn compare_junit(view: &CompareView) -> quick_junit::Report {
    use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
    let c = view.comparison;
    let mut suite = TestSuite::new("mcload compare");
    for row in &c.rows {
        let message = measured(row, c);
        let fails = row.verdict == Verdict::Regressed
            || (view.fail_on_inconclusive && row.verdict == Verdict::Inconclusive);
        let status = if fails {
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
            s.set_message(message.clone())
                .set_type(verdict_key(row.verdict));
            s
        } else if matches!(
            row.verdict,
            Verdict::TooFewAnswers { .. } | Verdict::Missing
        ) {
            let mut s = TestCaseStatus::skipped();
            s.set_message(message.clone());
            s
        } else {
            TestCaseStatus::success()
        };
        let mut case = TestCase::new(row.metric.name(), status);
        case.set_classname("mcload.compare");
        case.set_system_out(message);
        suite.add_test_case(case);
    }
    suite.set_system_out(headline(view));
    let mut report = Report::new("mcload");
    report.add_test_suite(suite);
    report
}

/// Writes [`compare_junit`]'s XML.
pub fn write_compare_junit(view: &CompareView, out: &mut impl Write) -> io::Result<()> {
    compare_junit(view)
        .serialize(out)
        .map_err(|e| io::Error::other(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verdict::compare::{Metric, Observation, RowInput, Settings, Stat, judge};

    fn comparison() -> Comparison {
        let obs = |v: &[f64]| v.iter().map(|&x| Observation::of(x)).collect::<Vec<_>>();
        let mut c = judge(
            vec![
                RowInput {
                    metric: Metric::Latency(Stat::P50),
                    base: obs(&[10.0, 10.1, 9.9]),
                    cand: obs(&[20.0, 20.2, 19.8]),
                },
                RowInput {
                    metric: Metric::Rate,
                    base: obs(&[100.0, 101.0, 99.0]),
                    cand: obs(&[100.0, 101.0, 99.0]),
                },
            ],
            3,
            3,
            &Settings::default(),
        )
        .unwrap();
        let mut missing = c.rows[1].clone();
        missing.metric = Metric::Check("new_check".into());
        missing.verdict = Verdict::Missing;
        missing.ratio = None;
        missing.base_center = f64::NAN;
        c.rows.push(missing);
        c
    }

    fn view(c: &Comparison) -> CompareView<'_> {
        CompareView {
            comparison: c,
            base_files: &[],
            cand_files: &[],
            fail_on_inconclusive: false,
        }
    }

    #[test]
    fn the_json_names_each_rows_verdict_and_has_no_nan() {
        let c = comparison();
        let json = compare_to_json(&view(&c));
        let rows = json["rows"].as_array().unwrap();
        assert_eq!(rows[0]["verdict"], "regressed");
        assert!((rows[0]["ratio"].as_f64().unwrap() - 2.0).abs() < 1e-9);
        assert_eq!(rows[1]["verdict"], "same");
        assert_eq!(rows[1]["higher_is_better"], true);
        assert_eq!(rows[2]["verdict"], "missing");
        assert!(rows[2]["base"]["center"].is_null() && rows[2]["ratio"].is_null());
        assert_eq!(json["pass"], false);
        assert!(
            serde_json::to_string(&json)
                .unwrap()
                .parse::<serde_json::Value>()
                .is_ok()
        );
    }

    #[test]
    fn the_text_table_aligns_its_columns_and_markdown_escapes_the_tilde() {
        let c = comparison();
        let mut text = Vec::new();
        write_compare_text(&view(&c), &mut text).unwrap();
        let text = String::from_utf8(text).unwrap();
        let lines: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with("latency.p50") || l.starts_with("rate"))
            .collect();
        assert_eq!(lines.len(), 2, "{text}");
        // Right-aligned numbers end in the same column.
        let end = |l: &str, cell: &str| l.find(cell).unwrap() + cell.len();
        assert_eq!(end(lines[0], "2.000"), end(lines[1], "1.000"), "{text}");
        assert!(text.contains("FAIL: regressed: latency.p50"), "{text}");
        let mut md = Vec::new();
        write_compare_markdown(&view(&c), &mut md).unwrap();
        let md = String::from_utf8(md).unwrap();
        assert!(md.contains("| \\~ |") && !md.contains("| ~ |"), "{md}");
    }
}
