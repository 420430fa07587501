//! `mcload validate`: check scenario files without running them, through
//! the same pipeline as `run` (with no flags).

use std::io::Write;
use std::path::PathBuf;

use super::{CommandResult, Exit};
use crate::report::rate_text;
use crate::scenario::{Model, Rate, Scenario};

/// Checks each file; prints `ok` lines to `out` and every problem to `err`.
/// Exit 2 when any file has a problem.
pub fn validate(files: &[PathBuf], out: &mut dyn Write, err: &mut dyn Write) -> CommandResult {
    let mut failed = 0;
    for file in files {
        match Scenario::load(file) {
            Ok(scenario) => {
                let stop = scenario.load.stop_rule();
                let model = match &scenario.load.model {
                    Model::Closed { concurrency } => {
                        format!("closed model, {concurrency} workers")
                    }
                    Model::Open(open) => match &open.rate {
                        Rate::Constant(r) => format!(
                            "open model, {}, {} connections",
                            rate_text(*r),
                            open.connections
                        ),
                        Rate::Stages { start, stages } => format!(
                            "open model, {} then {} stage{}, {} connections",
                            rate_text(*start),
                            stages.len(),
                            if stages.len() == 1 { "" } else { "s" },
                            open.connections
                        ),
                    },
                };
                let warmup = scenario.load.warmup.map_or(String::new(), |w| {
                    format!(" after {} warm-up", humantime::format_duration(w))
                });
                let stop = match (stop.duration, stop.requests) {
                    (Some(d), Some(n)) => {
                        format!("{n} requests or {}", humantime::format_duration(d))
                    }
                    (Some(d), None) => humantime::format_duration(d).to_string(),
                    (None, Some(n)) => format!("{n} requests"),
                    (None, None) => String::new(),
                };
                let target = scenario.target.url.map_or_else(
                    || "embedded reference server".to_string(),
                    |u| u.to_string(),
                );
                let rules = scenario.target.rules.name();
                let _ = writeln!(
                    out,
                    "ok    {}: \"{}\", {model}, {stop}{warmup}, target {target} ({rules} rules)",
                    file.display(),
                    scenario.name,
                );
            }
            Err(e) => {
                failed += 1;
                let _ = writeln!(err, "{e}\n");
            }
        }
    }
    if failed > 0 {
        let _ = writeln!(err, "{failed} of {} files have problems", files.len());
        Ok(Exit::BadInput)
    } else {
        Ok(Exit::Ok)
    }
}
