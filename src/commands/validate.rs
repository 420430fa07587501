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
        let _ = writeln!(err, "{}", problems_line(failed, files.len()));
        Ok(Exit::BadInput)
    } else {
        Ok(Exit::Ok)
    }
}

/// The closing line, in proper number: "the file has problems", "1 of 3
/// files has problems", "2 of 3 files have problems".
fn problems_line(failed: usize, files: usize) -> String {
    match (failed, files) {
        (_, 1) => "the file has problems".to_string(),
        (1, n) => format!("1 of {n} files has problems"),
        (f, n) => format!("{f} of {n} files have problems"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_closing_line_agrees_in_number() {
        assert_eq!(problems_line(1, 1), "the file has problems");
        assert_eq!(problems_line(1, 2), "1 of 2 files has problems");
        assert_eq!(problems_line(2, 3), "2 of 3 files have problems");
    }
}
