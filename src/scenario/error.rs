//! Errors in a scenario's settings, each located at the file, line, column
//! and key where the value was written, or at the flag that gave it.

use std::fmt;

/// Where a setting was written: a place in a scenario file, or a flag.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Place {
    File(Position),
    /// The command-line flag, e.g. `--connections`.
    Flag(&'static str),
}

/// A place in a scenario file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Position {
    /// The file as the user named it.
    pub file: String,
    /// 1-based line of the offending key or value.
    pub line: usize,
    /// 1-based column (in characters).
    pub column: usize,
    /// The source line, shown under the message.
    pub source_line: String,
}

/// One problem in a scenario's settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioError {
    /// Where the offending value was given.
    pub place: Place,
    /// The dotted key the problem concerns, e.g. `load.concurrency`; the
    /// same whether the value came from the file or from a flag.
    pub key: String,
    /// What is wrong.
    pub message: String,
    /// How to fix it, when there is an obvious fix.
    pub hint: Option<String>,
}

impl ScenarioError {
    /// The file position, for a problem found in a file.
    pub fn position(&self) -> Option<&Position> {
        match &self.place {
            Place::File(p) => Some(p),
            Place::Flag(_) => None,
        }
    }

    /// The flag, for a problem given on the command line.
    pub fn flag(&self) -> Option<&'static str> {
        match self.place {
            Place::Flag(f) => Some(f),
            Place::File(_) => None,
        }
    }
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.place {
            Place::File(p) => {
                write!(f, "{}:{}:{}: ", p.file, p.line, p.column)?;
                if !self.key.is_empty() {
                    write!(f, "`{}`: ", self.key)?;
                }
                write!(f, "{}", self.message)?;
                if !p.source_line.is_empty() {
                    let gutter = p.line.to_string().len();
                    write!(
                        f,
                        "\n {:gutter$} |\n {} | {}\n {:gutter$} | {:>col$}",
                        "",
                        p.line,
                        p.source_line,
                        "",
                        "^",
                        col = p.column
                    )?;
                }
            }
            Place::Flag(flag) => write!(f, "{flag}: {}", self.message)?,
        }
        if let Some(hint) = &self.hint {
            write!(f, "\n  = hint: {hint}")?;
        }
        Ok(())
    }
}

/// Everything wrong with one scenario and its flags (never empty), or a
/// file that could not be read at all.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read scenario file {file}")]
    Read {
        file: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{}", display_all(.file, .problems))]
    Invalid {
        /// The scenario file as the user named it.
        file: String,
        problems: Vec<ScenarioError>,
    },
}

impl LoadError {
    /// The individual problems, for callers that want to count or test them.
    pub fn problems(&self) -> &[ScenarioError] {
        match self {
            LoadError::Read { .. } => &[],
            LoadError::Invalid { problems, .. } => problems,
        }
    }
}

fn display_all(file: &str, errors: &[ScenarioError]) -> String {
    let mut out = String::new();
    for (i, e) in errors.iter().enumerate() {
        if i > 0 {
            out.push_str("\n\n");
        }
        out.push_str(&e.to_string());
    }
    if errors.len() > 1 {
        let flags = errors.iter().any(|e| e.flag().is_some());
        out.push_str(&format!(
            "\n\n{} problems in {file}{}",
            errors.len(),
            if flags { " and its flags" } else { "" }
        ));
    }
    out
}

/// Maps byte offsets to 1-based lines and columns.
pub(crate) struct Locator<'s> {
    source: &'s str,
    line_starts: Vec<usize>,
}

impl<'s> Locator<'s> {
    pub fn new(source: &'s str) -> Self {
        let line_starts = std::iter::once(0)
            .chain(source.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Locator {
            source,
            line_starts,
        }
    }

    /// (line, column, text of the line) for a byte offset.
    pub fn locate(&self, offset: usize) -> (usize, usize, &'s str) {
        let offset = offset.min(self.source.len());
        let line = self.line_starts.partition_point(|&s| s <= offset);
        let start = self.line_starts[line - 1];
        let end = self.source[start..]
            .find('\n')
            .map_or(self.source.len(), |i| start + i);
        let text = self.source[start..end].trim_end_matches('\r');
        let column = self.source[start..offset].chars().count() + 1;
        (line, column, text)
    }
}

/// The known name closest to `unknown`, if one is close enough to be a typo.
pub(crate) fn nearest<'k>(
    unknown: &str,
    known: impl IntoIterator<Item = &'k str>,
) -> Option<&'k str> {
    let unknown_lower = unknown.to_ascii_lowercase();
    known
        .into_iter()
        .map(|k| {
            (
                strsim::damerau_levenshtein(&unknown_lower, &k.to_ascii_lowercase()),
                k,
            )
        })
        .filter(|(distance, k)| *distance <= (k.len().max(unknown.len()) / 3).max(2))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, k)| k)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locator_gives_one_based_lines_and_character_columns() {
        let src = "a = 1\nbé = 2\r\nc = 3";
        let loc = Locator::new(src);
        assert_eq!(loc.locate(0), (1, 1, "a = 1"));
        let offset = src.find("= 2").unwrap();
        assert_eq!(loc.locate(offset), (2, 4, "bé = 2"));
        assert_eq!(loc.locate(src.find('c').unwrap()), (3, 1, "c = 3"));
    }

    #[test]
    fn nearest_suggests_typos_but_not_unrelated_words() {
        let known = ["concurrency", "duration", "requests", "threads"];
        assert_eq!(nearest("concurency", known), Some("concurrency"));
        assert_eq!(nearest("Duration", known), Some("duration"));
        assert_eq!(nearest("request", known), Some("requests"));
        assert_eq!(nearest("banana", known), None);
    }

    #[test]
    fn display_points_at_the_column_and_gives_the_hint() {
        let e = ScenarioError {
            place: Place::File(Position {
                file: "s.toml".into(),
                line: 3,
                column: 1,
                source_line: "concurency = 8".into(),
            }),
            key: "load.concurency".into(),
            message: "unknown key".into(),
            hint: Some("did you mean `concurrency`?".into()),
        };
        let text = e.to_string();
        assert!(text.starts_with("s.toml:3:1: `load.concurency`: unknown key"));
        assert!(text.contains(" 3 | concurency = 8\n   | ^"));
        assert!(text.ends_with("= hint: did you mean `concurrency`?"));
    }
}

#[cfg(test)]
mod flag_tests {
    use super::*;

    #[test]
    fn a_flag_problem_names_the_flag_and_gives_the_hint() {
        let e = ScenarioError {
            place: Place::Flag("--connections"),
            key: "load.connections".into(),
            message: "applies to the open model only".into(),
            hint: Some("add a rate".into()),
        };
        assert_eq!(
            e.to_string(),
            "--connections: applies to the open model only\n  = hint: add a rate"
        );
    }
}
