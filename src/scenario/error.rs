//! Errors in a scenario file, each naming the file, line, column and key.

use std::fmt;

/// One problem in a scenario file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioError {
    /// The file as the user named it.
    pub file: String,
    /// 1-based line of the offending key or value.
    pub line: usize,
    /// 1-based column (in characters).
    pub column: usize,
    /// The dotted key the problem concerns, e.g. `load.concurrency`.
    pub key: String,
    /// What is wrong.
    pub message: String,
    /// How to fix it, when there is an obvious fix.
    pub hint: Option<String>,
    /// The source line, shown under the message.
    pub source_line: String,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: ", self.file, self.line, self.column)?;
        if !self.key.is_empty() {
            write!(f, "`{}`: ", self.key)?;
        }
        write!(f, "{}", self.message)?;
        if !self.source_line.is_empty() {
            let gutter = self.line.to_string().len();
            write!(
                f,
                "\n {:gutter$} |\n {} | {}\n {:gutter$} | {:>col$}",
                "",
                self.line,
                self.source_line,
                "",
                "^",
                col = self.column
            )?;
        }
        if let Some(hint) = &self.hint {
            write!(f, "\n  = hint: {hint}")?;
        }
        Ok(())
    }
}

/// Everything wrong with one scenario file (never empty), or a file that
/// could not be read at all.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read scenario file {file}: {source}")]
    Read {
        file: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{}", display_all(.0))]
    Invalid(Vec<ScenarioError>),
}

impl LoadError {
    /// The individual problems, for callers that want to count or test them.
    pub fn problems(&self) -> &[ScenarioError] {
        match self {
            LoadError::Read { .. } => &[],
            LoadError::Invalid(errors) => errors,
        }
    }
}

fn display_all(errors: &[ScenarioError]) -> String {
    let mut out = String::new();
    for (i, e) in errors.iter().enumerate() {
        if i > 0 {
            out.push_str("\n\n");
        }
        out.push_str(&e.to_string());
    }
    if errors.len() > 1 {
        out.push_str(&format!(
            "\n\n{} problems in {}",
            errors.len(),
            errors[0].file
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
            file: "s.toml".into(),
            line: 3,
            column: 1,
            key: "load.concurency".into(),
            message: "unknown key".into(),
            hint: Some("did you mean `concurrency`?".into()),
            source_line: "concurency = 8".into(),
        };
        let text = e.to_string();
        assert!(text.starts_with("s.toml:3:1: `load.concurency`: unknown key"));
        assert!(text.contains(" 3 | concurency = 8\n   | ^"));
        assert!(text.ends_with("= hint: did you mean `concurrency`?"));
    }
}
