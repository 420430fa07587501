//! The page around the charts and tables: the document head and its
//! stylesheet (light, dark and print), the run's header, the verdict, and
//! the frame of each chart.

use std::io::{self, Write};

use super::charts::{self, Legend};
use super::{esc, tables};
use crate::report::compare::CompareView;
use crate::report::text::{describe_load, threshold_rows};
use crate::report::{RunReport, grouped};

/// The stylesheet. Colours are variables, swapped as a whole for a dark
/// scheme; print keeps the light ones and lets charts and tables break
/// between pages, never inside.
const CSS: &str = r#":root{color-scheme:light dark;--fg:#1f2328;--muted:#59636e;--bg:#ffffff;--panel:#f6f8fa;--line:#d1d9e0;--pass:#1a7f37;--fail:#cf222e;--warn:#9a6700}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
main{max-width:1040px;margin:0 auto;padding:24px 20px 48px}
h1{font-size:1.7em;margin:.1em 0 .3em;overflow-wrap:anywhere}
h2{font-size:1.3em;margin:1.8em 0 .5em;padding-bottom:.2em;border-bottom:1px solid var(--line)}
h3{font-size:1.05em;margin:0 0 .2em}
.kicker{color:var(--muted);margin:0}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.15em 1em;margin:.5em 0}
dl.facts dt{color:var(--muted)}
dl.facts dd{margin:0;overflow-wrap:anywhere}
.banner{padding:.5em .8em;border-left:4px solid var(--warn);background:var(--panel);margin:.4em 0}
.verdict{padding:.6em 1em;border:1px solid var(--line);border-left:6px solid var(--pass);background:var(--panel);margin:1em 0}
.verdict.fail{border-left-color:var(--fail)}
.verdict h2{border:0;margin:.2em 0;padding:0}
.pass{color:var(--pass);font-weight:600}
.fail-text{color:var(--fail);font-weight:600}
table{border-collapse:collapse;margin:.6em 0;font-variant-numeric:tabular-nums}
th,td{padding:.25em .7em;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
th{color:var(--muted);font-weight:600}
td.n{text-align:right;white-space:nowrap}
td.detail,td.wrap{overflow-wrap:anywhere}
.note{color:var(--muted);font-size:.92em}
figure.chart{margin:1.2em 0 2em;break-inside:avoid;page-break-inside:avoid}
figure.chart svg{display:block;width:100%;height:auto}
figcaption p{margin:.1em 0 .4em;color:var(--muted)}
ul.legend{list-style:none;display:flex;flex-wrap:wrap;gap:.3em 1.2em;padding:0;margin:.2em 0 .3em}
.sw{display:inline-block;width:1.6em;height:.35em;border-radius:2px;vertical-align:middle;margin-right:.4em}
p.none{padding:2em;text-align:center;border:1px dashed var(--line);color:var(--muted)}
footer{margin-top:3em;color:var(--muted);font-size:.9em}
@media print{body{font-size:10.5pt}main{max-width:none;padding:0}h2{break-after:avoid}table{break-inside:avoid}}
"#;

/// The dark scheme's variables, for screens only: a printout stays light.
const DARK: &str = ":root{--fg:#e6edf3;--muted:#9198a1;--bg:#0d1117;--panel:#151b23;--line:#3d444d;--pass:#3fb950;--fail:#ff7b72;--warn:#d29922}\n";

/// The document's head, its stylesheet and the start of its body.
pub fn open(out: &mut dyn Write, title: &str) -> io::Result<()> {
    writeln!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<meta name=\"generator\" content=\"mcload {}\">\n<title>{}</title>\n<style>\n{CSS}{}@media screen and (prefers-color-scheme:dark){{\n{DARK}{}}}\n</style>\n</head>\n<body>\n<main>",
        env!("CARGO_PKG_VERSION"),
        esc(title),
        charts::light_css(),
        charts::dark_css(),
    )
}

pub fn close(out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "<footer>Written by mcload {}. This page is self-contained: it loads nothing from anywhere.</footer>\n</main>\n</body>\n</html>",
        env!("CARGO_PKG_VERSION")
    )
}

fn fact(out: &mut dyn Write, name: &str, value: &str) -> io::Result<()> {
    writeln!(out, "<dt>{name}</dt><dd>{}</dd>", esc(value))
}

/// What ran, where, how and when; then what makes the figures partial or
/// untrustworthy, each as a banner.
pub fn run_header(run: &RunReport, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "<header>\n<p class=\"kicker\">mcload load-test report</p>\n<h1>{}</h1>\n<dl class=\"facts\">",
        esc(&run.scenario)
    )?;
    let note = match (run.embedded, run.insecure) {
        (true, _) => " (the embedded reference server)",
        (false, true) => " (certificate NOT verified: --insecure)",
        (false, false) => "",
    };
    fact(
        out,
        "target",
        &format!("POST {}{}{note}", run.target, run.path),
    )?;
    let warmup = run.warmup.as_ref().map(|(w, _)| *w);
    fact(
        out,
        "model",
        &describe_load(&run.model, run.stop, warmup, Some(run.threads)),
    )?;
    fact(out, "seed", &run.seed.to_string())?;
    fact(
        out,
        "when",
        &format!(
            "{} (UTC) · ran {:.2} s",
            humantime::format_rfc3339_seconds(run.started_at),
            run.elapsed.as_secs_f64()
        ),
    )?;
    fact(out, "rules", run.rules.name())?;
    fact(out, "mcload", env!("CARGO_PKG_VERSION"))?;
    writeln!(out, "</dl>")?;
    let mut banners = Vec::new();
    if let Some(a) = &run.aborted {
        banners.push(format!(
            "STOPPED EARLY at {} s: {} failed (abort = true); the counts cover every request started until then.",
            a.second + 1,
            a.threshold.expression()
        ));
    }
    if run.interrupted {
        banners.push(format!(
            "INTERRUPTED after {:.2} s: the counts cover every request started until then.",
            run.elapsed.as_secs_f64()
        ));
    }
    if run.insecure {
        banners.push("INSECURE: the target's TLS certificate was not verified.".into());
    }
    if let Some(reason) = run.invalid_reason() {
        banners.push(format!(
            "INVALID RUN: {reason}; the figures say nothing reliable about the target."
        ));
    }
    for b in banners {
        writeln!(out, "<p class=\"banner\">{}</p>", esc(&b))?;
    }
    writeln!(out, "</header>")
}

/// The verdict, its causes, each threshold and each check.
pub fn verdict(run: &RunReport, out: &mut dyn Write) -> io::Result<()> {
    let (class, head) = if run.passed() {
        ("verdict ok", "Verdict: passed ✓")
    } else {
        ("verdict fail", "Verdict: FAILED ✗")
    };
    writeln!(
        out,
        "<section id=\"verdict\" class=\"{class}\">\n<h2>{head}</h2>"
    )?;
    if !run.causes.is_empty() {
        writeln!(out, "<ul class=\"causes\">")?;
        for c in &run.causes {
            writeln!(out, "<li>{}</li>", esc(&c.message()))?;
        }
        writeln!(out, "</ul>")?;
    }
    let rows = threshold_rows(run);
    if rows.is_empty() {
        writeln!(out, "<p class=\"note\">No thresholds.</p>")?;
    } else {
        writeln!(
            out,
            "<table class=\"thresholds\">\n<thead><tr><th>threshold</th><th>measured</th><th>result</th><th>given by</th></tr></thead>\n<tbody>"
        )?;
        for [expression, measured, result, source] in &rows {
            let class = if result == "PASS" {
                "pass"
            } else {
                "fail-text"
            };
            writeln!(
                out,
                "<tr><td class=\"wrap\"><code>{}</code></td><td class=\"n\">{}</td><td class=\"{class}\">{}</td><td class=\"wrap\">{}</td></tr>",
                esc(expression),
                esc(measured),
                esc(result),
                esc(source)
            )?;
        }
        writeln!(out, "</tbody>\n</table>")?;
    }
    tables::check_counts(run, out)?;
    writeln!(out, "</section>")
}

/// A chart with its title, how to read it, and its legend.
pub fn figure(
    out: &mut dyn Write,
    id: &str,
    title: &str,
    how: &str,
    legend: &[Legend],
    svg: &str,
) -> io::Result<()> {
    writeln!(
        out,
        "<figure class=\"chart\" id=\"{id}\">\n<figcaption><h3>{}</h3><p>{}</p>\n<ul class=\"legend\">",
        esc(title),
        esc(how)
    )?;
    for l in legend {
        writeln!(
            out,
            "<li><span class=\"sw {}\"></span>{}</li>",
            l.role.name,
            esc(&l.label)
        )?;
    }
    writeln!(out, "</ul></figcaption>\n{svg}</figure>")
}

/// A chart's place when there is nothing to draw: a sentence, not an
/// empty frame.
pub fn empty_figure(out: &mut dyn Write, id: &str, title: &str, why: &str) -> io::Result<()> {
    writeln!(
        out,
        "<figure class=\"chart empty\" id=\"{id}\">\n<figcaption><h3>{}</h3></figcaption>\n<p class=\"none\">{}</p>\n</figure>",
        esc(title),
        esc(why)
    )
}

/// The comparison's header: the files of each side and how it judged.
pub fn compare_header(view: &CompareView<'_>, out: &mut dyn Write) -> io::Result<()> {
    let c = view.comparison;
    writeln!(
        out,
        "<header>\n<p class=\"kicker\">mcload comparison</p>\n<h1>{} base run{} against {} candidate run{}</h1>\n<dl class=\"facts\">",
        grouped(c.base_runs as u64),
        if c.base_runs == 1 { "" } else { "s" },
        grouped(c.cand_runs as u64),
        if c.cand_runs == 1 { "" } else { "s" },
    )?;
    fact(out, "base", &view.base_files.join(" · "))?;
    fact(out, "candidate", &view.cand_files.join(" · "))?;
    fact(out, "judged by", &crate::report::compare::headline(view))?;
    fact(out, "mcload", env!("CARGO_PKG_VERSION"))?;
    writeln!(out, "</dl>")?;
    for w in crate::report::compare::compare_warnings(c) {
        writeln!(out, "<p class=\"banner\">Warning: {}</p>", esc(&w))?;
    }
    writeln!(out, "</header>")
}
