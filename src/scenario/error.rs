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
                    let gutter = " ".repeat(p.line.to_string().len());
                    let (shown, caret) = snippet(&p.source_line, p.column);
                    write!(
                        f,
                        "\n {gutter} |\n {} | {shown}\n {gutter} | {}^",
                        p.line,
                        " ".repeat(caret)
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

/// The widest stretch of a source line shown under a message, in terminal
/// columns: a long line (a minified value, a 64 KB string) is cut around
/// the error rather than flooding the terminal.
const SNIPPET_WIDTH: usize = 100;
/// Columns kept before the error when a line is cut.
const SNIPPET_BEFORE: usize = 30;
/// A tab is shown as this many spaces, so the caret lines up whatever the
/// terminal's tab stops.
const TAB_WIDTH: usize = 4;

/// How `c` is shown under a message: tabs as spaces and control characters
/// as `�` (a file's escape sequences must not reach the terminal), with
/// the columns it takes.
fn shown_char(c: char) -> (char, usize) {
    match c {
        '\t' => (' ', TAB_WIDTH),
        c if c.is_control() => ('\u{fffd}', 1),
        c => (c, char_width(c)),
    }
}

/// Terminal columns of a printable character: 0 for combining marks, 2 for
/// East Asian wide and emoji characters, 1 otherwise. An approximation of
/// Unicode's East Asian Width over the common ranges, good enough to put a
/// caret under the right character.
fn char_width(c: char) -> usize {
    match u32::from(c) {
        0x0300..=0x036F | 0x200B..=0x200F | 0xFE00..=0xFE0F | 0x20D0..=0x20FF => 0,
        0x1100..=0x115F
        | 0x2E80..=0x303E
        | 0x3041..=0x33FF
        | 0x3400..=0x4DBF
        | 0x4E00..=0x9FFF
        | 0xA000..=0xA4CF
        | 0xAC00..=0xD7A3
        | 0xF900..=0xFAFF
        | 0xFE30..=0xFE4F
        | 0xFF00..=0xFF60
        | 0xFFE0..=0xFFE6
        | 0x1F300..=0x1F64F
        | 0x1F900..=0x1F9FF
        | 0x20000..=0x3FFFD => 2,
        _ => 1,
    }
}

/// The part of `line` to show and the caret's indent (in columns) to point
/// at the 1-based character `column`: the whole line when it fits in
/// [`SNIPPET_WIDTH`], else a window around the column with `…` where it was
/// cut. Works on characters, so a cut never splits one.
fn snippet(line: &str, column: usize) -> (String, usize) {
    let chars: Vec<(char, usize)> = line.chars().map(shown_char).collect();
    // A column past the end (an error at the end of the line) points just
    // after the last character.
    let at = column.saturating_sub(1).min(chars.len());
    let total: usize = chars.iter().map(|&(_, w)| w).sum();
    let (start, end) = if total <= SNIPPET_WIDTH {
        (0, chars.len())
    } else {
        let mut start = at;
        let mut before = 0;
        while start > 0 && before + chars[start - 1].1 <= SNIPPET_BEFORE {
            start -= 1;
            before += chars[start].1;
        }
        let mut end = at;
        let mut width = before;
        while end < chars.len() && width + chars[end].1 <= SNIPPET_WIDTH {
            width += chars[end].1;
            end += 1;
        }
        // Near the end of the line, use the room left to show more before.
        while start > 0 && width + chars[start - 1].1 <= SNIPPET_WIDTH {
            start -= 1;
            width += chars[start].1;
        }
        (start, end)
    };
    let mut shown = String::new();
    let mut caret = 0;
    if start > 0 {
        shown.push('…');
        caret += 1;
    }
    for (i, &(c, w)) in chars[start..end].iter().enumerate() {
        if start + i < at {
            caret += w;
        }
        if c == ' ' && w > 1 {
            shown.extend(std::iter::repeat_n(' ', w));
        } else {
            shown.push(c);
        }
    }
    if end < chars.len() {
        shown.push('…');
    }
    (shown, caret)
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
    #[error(
        "scenario file {file} is larger than {} MiB, the limit for a scenario file; \
         is it the file you meant?",
        .limit / (1024 * 1024)
    )]
    TooLarge {
        file: String,
        /// The limit in bytes.
        limit: u64,
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
            LoadError::Read { .. } | LoadError::TooLarge { .. } => &[],
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

/// The problem of a file that is not UTF-8 text, placed at the first byte
/// that is not (`valid_up_to` bytes are).
pub(crate) fn not_utf8(bytes: &[u8], valid_up_to: usize, file: &str) -> ScenarioError {
    let valid = std::str::from_utf8(&bytes[..valid_up_to]).unwrap_or_default();
    let (line, column, text) = Locator::new(valid).locate(valid_up_to);
    ScenarioError {
        place: Place::File(Position {
            file: file.to_string(),
            line,
            column,
            source_line: text.to_string(),
        }),
        key: String::new(),
        message: format!(
            "not UTF-8 text: byte 0x{:02x} cannot be part of a character here",
            bytes[valid_up_to]
        ),
        hint: Some("a scenario file is TOML, which is UTF-8; save it as UTF-8".into()),
    }
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
mod snippet_tests {
    use super::*;

    fn shown(line: &str, column: usize) -> (String, String) {
        let e = ScenarioError {
            place: Place::File(Position {
                file: "c.toml".into(),
                line: 1,
                column,
                source_line: line.into(),
            }),
            key: "description".into(),
            message: "bad".into(),
            hint: None,
        };
        let text = e.to_string();
        let mut lines = text.lines().skip(2);
        let source = lines
            .next()
            .unwrap()
            .strip_prefix(" 1 | ")
            .unwrap()
            .to_string();
        let caret = lines
            .next()
            .unwrap()
            .strip_prefix("   | ")
            .unwrap()
            .to_string();
        (source, caret)
    }

    /// The character the caret points at in the shown line.
    fn under_caret(source: &str, caret: &str) -> char {
        let indent = caret.len() - 1;
        let mut col = 0;
        for c in source.chars() {
            // A combining mark belongs to the character before it.
            if col == indent && char_width(c) > 0 {
                return c;
            }
            col += char_width(c);
        }
        panic!("the caret is past the line: {source:?} {caret:?}")
    }

    #[test]
    fn an_error_past_column_65535_is_shown_without_panicking_and_clipped() {
        let line = format!("description = \"{}\"", "a".repeat(70_000));
        let (source, caret) = shown(&line, 65_600);
        assert!(source.starts_with('…') && source.ends_with('…'), "{source}");
        assert!(source.chars().count() <= SNIPPET_WIDTH + 2, "{source}");
        assert!(caret.len() <= SNIPPET_WIDTH + 2 && caret.ends_with('^'));
        assert_eq!(under_caret(&source, &caret), 'a');
    }

    #[test]
    fn a_long_line_is_cut_around_the_column_with_the_caret_on_the_character() {
        let line: String = (0..500)
            .map(|i| char::from(b'a' + (i % 26) as u8))
            .collect();
        for column in [1, 2, 30, 31, 32, 250, 470, 499, 500, 501] {
            let (source, caret) = shown(&line, column);
            assert!(
                source.chars().count() <= SNIPPET_WIDTH + 2,
                "{column}: {source}"
            );
            let expected = line.chars().nth(column - 1);
            match expected {
                Some(c) => assert_eq!(under_caret(&source, &caret), c, "{column}"),
                // Just past the end: the caret follows the last character.
                None => assert_eq!(caret.len() - 1, source.chars().count(), "{column}"),
            }
            assert_eq!(source.starts_with('…'), column > 31, "{column}: {source}");
            assert_eq!(source.ends_with('…'), column < 430, "{column}: {source}");
        }
    }

    #[test]
    fn a_short_line_is_shown_whole_with_tabs_as_spaces() {
        let (source, caret) = shown("\tkey =\t\"x\"", 8);
        assert_eq!(source, "    key =    \"x\"");
        assert_eq!(caret, format!("{}^", " ".repeat(13)));
    }

    #[test]
    fn wide_characters_and_multibyte_cuts_keep_the_caret_on_the_character() {
        let line = format!("name = \"{}X{}\"", "日本".repeat(100), "é".repeat(300));
        let column = 8 + 200 + 1;
        let (source, caret) = shown(&line, column);
        assert_eq!(under_caret(&source, &caret), 'X');
        let width: usize = source.chars().map(char_width).sum();
        assert!(width <= SNIPPET_WIDTH + 2, "{source}");
    }

    proptest::proptest! {
        /// Any line, any column: at most the window (and two `…`) is
        /// shown, and the caret sits under the column's character.
        #[test]
        fn any_line_is_clipped_with_the_caret_on_its_character(
            line in "[a-z\t\u{1b}é日🙂\u{301} ]{1,400}",
            column in 1usize..420,
        ) {
            let (source, caret) = shown(&line, column);
            let width: usize = source.chars().map(char_width).sum();
            proptest::prop_assert!(width <= SNIPPET_WIDTH + 2, "{source:?}");
            proptest::prop_assert!(caret.ends_with('^'));
            let expected = line.chars().nth(column - 1).map(|c| shown_char(c).0);
            if let Some(c) = expected.filter(|_| char_width(line.chars().nth(column - 1).unwrap()) > 0) {
                proptest::prop_assert_eq!(under_caret(&source, &caret), c, "{:?}", source);
            }
        }
    }

    #[test]
    fn control_characters_are_not_sent_to_the_terminal() {
        let (source, caret) = shown("name = \"\u{1b}[31mred\"", 9);
        assert!(!source.contains('\u{1b}'), "{source:?}");
        assert_eq!(under_caret(&source, &caret), '\u{fffd}');
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
