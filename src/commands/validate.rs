//! `mcload validate`: check scenario files without running them, through
//! the same pipeline as `run` (with no flags).

use std::io::Write;
use std::path::PathBuf;

use super::{CommandResult, Exit};
use crate::report::describe_load;
use crate::scenario::Scenario;

/// Checks each file; prints `ok` lines to `out` and every problem to `err`.
/// Exit 2 when any file has a problem.
pub fn validate(files: &[PathBuf], out: &mut dyn Write, err: &mut dyn Write) -> CommandResult {
    let mut failed = 0;
    for file in files {
        match Scenario::load(file) {
            Ok(scenario) => {
                let model = describe_load(
                    &scenario.load.model,
                    scenario.load.stop_rule(),
                    scenario.load.warmup,
                    scenario.load.threads,
                );
                let target = scenario.target.url.map_or_else(
                    || "embedded reference server".to_string(),
                    |u| u.to_string(),
                );
                let rules = scenario.target.rules.name();
                let _ = writeln!(
                    out,
                    "ok    {}: \"{}\", {model}, target {target} ({rules} rules)",
                    file.display(),
                    scenario.name,
                );
            }
            Err(e) => {
                failed += 1;
                // `{:#}` adds the cause of a file that cannot be read.
                let _ = writeln!(err, "{:#}\n", anyhow::Error::from(e));
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
