//! `mcload schema report`: prints the JSON Schema of the report.

use std::io::Write;

use anyhow::Context as _;

use super::{CommandResult, Exit, Failure};

/// The documents `mcload schema` prints the schema of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Document {
    /// The JSON report of `mcload run --json` (`mcload.report/v1`).
    Report,
}

/// Prints `document`'s JSON Schema to `out`, pretty, ending in a newline.
pub fn schema(document: Document, out: &mut impl Write) -> CommandResult {
    let schema = match document {
        Document::Report => crate::report::report_schema(),
    };
    let mut text = serde_json::to_string_pretty(&schema).expect("a JSON value always serializes");
    text.push('\n');
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .context("writing the schema to stdout")
        .map_err(|error| Failure {
            exit: Exit::BadInput,
            error,
        })?;
    Ok(Exit::Ok)
}
