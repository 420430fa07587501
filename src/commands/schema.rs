//! `mcload schema report|scenario`: prints the JSON Schema of the report
//! or of scenario files.

use std::io::Write;

use super::CommandResult;
#[cfg(test)]
use super::Exit;

/// The documents `mcload schema` prints the schema of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Document {
    /// The JSON report of `mcload run --json` (`mcload.report/v1`).
    Report,
    /// Scenario files (TOML, checked as the JSON they read as).
    Scenario,
}

/// Prints `document`'s JSON Schema to `out`, pretty, ending in a newline.
/// A reader that stops early (`| head`) is no failure.
pub fn schema(document: Document, out: &mut impl Write) -> CommandResult {
    let schema = match document {
        Document::Report => crate::report::report_schema(),
        Document::Scenario => crate::scenario::scenario_schema(),
    };
    let mut text = serde_json::to_string_pretty(&schema).expect("a JSON value always serializes");
    text.push('\n');
    super::print_document(text.as_bytes(), out, "the schema")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::FailingWriter as Failing;
    use std::io;

    #[test]
    fn prints_the_report_schema_as_one_pretty_document() {
        let mut out = Vec::new();
        assert_eq!(schema(Document::Report, &mut out).unwrap(), Exit::Ok);
        let text = String::from_utf8(out).unwrap();
        assert!(text.ends_with("}\n") && text.contains("\n  \"properties\""));
        let printed: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(printed, crate::report::report_schema());
    }

    #[test]
    fn a_closed_pipe_is_no_failure_and_other_write_errors_exit_2() {
        let ok = schema(Document::Report, &mut Failing(io::ErrorKind::BrokenPipe));
        assert_eq!(ok.unwrap(), Exit::Ok);
        let failed =
            schema(Document::Report, &mut Failing(io::ErrorKind::StorageFull)).unwrap_err();
        assert_eq!(failed.exit, Exit::BadInput);
        assert!(format!("{:#}", failed.error).contains("writing the schema"));
    }
}
