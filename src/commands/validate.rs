//! `mcload validate`: check scenario files without running them.

use std::io::Write;
use std::path::PathBuf;

use super::{CommandResult, Exit};
use crate::scenario::Scenario;

/// Checks each file; prints `ok` lines to `out` and every problem to `err`.
/// Exit 2 when any file has a problem.
pub fn validate(files: &[PathBuf], out: &mut dyn Write, err: &mut dyn Write) -> CommandResult {
    let mut failed = 0;
    for file in files {
        match Scenario::load(file) {
            Ok(scenario) => {
                let stop = scenario.load.stop_rule();
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
                let _ = writeln!(
                    out,
                    "ok    {}: \"{}\", closed model, {} workers, {stop}, target {target}",
                    file.display(),
                    scenario.name,
                    scenario.load.concurrency,
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
