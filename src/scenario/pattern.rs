//! String patterns such as `"vod-{digits:8}"` or `"{uuid}"`: literal text
//! with placeholders the generator fills with random characters.

/// One piece of a pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Part {
    Literal(String),
    /// `{hex:N}` (lowercase) or `{HEX:N}` (uppercase).
    Hex {
        len: usize,
        upper: bool,
    },
    /// `{digits:N}`.
    Digits(usize),
    /// `{alpha:N}`: lowercase letters.
    Alpha(usize),
    /// `{alnum:N}`: lowercase letters and digits.
    Alnum(usize),
    /// `{uuid}`: a random version-4 UUID.
    Uuid,
    /// `{index}`: the body's index in the run, starting at 0.
    Index,
}

/// A parsed pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pattern {
    pub source: String,
    pub parts: Vec<Part>,
}

/// The most characters one placeholder may produce.
pub const MAX_PLACEHOLDER_LEN: usize = 256;

const PLACEHOLDERS: &str = "{hex:N}, {HEX:N}, {digits:N}, {alpha:N}, {alnum:N}, {uuid}, {index}";

impl Pattern {
    /// Parses a pattern; `{{` and `}}` stand for literal braces.
    pub fn parse(source: &str) -> Result<Self, String> {
        if source.is_empty() {
            return Err("the pattern is empty".into());
        }
        let mut parts = Vec::new();
        let mut literal = String::new();
        let mut chars = source.char_indices().peekable();
        while let Some((at, c)) = chars.next() {
            match c {
                '{' if chars.peek().map(|&(_, n)| n) == Some('{') => {
                    chars.next();
                    literal.push('{');
                }
                '}' if chars.peek().map(|&(_, n)| n) == Some('}') => {
                    chars.next();
                    literal.push('}');
                }
                '}' => {
                    return Err(format!(
                        "unmatched '}}' at character {}; write '}}}}' for a literal brace",
                        at + 1
                    ));
                }
                '{' => {
                    let end = source[at..]
                        .find('}')
                        .map(|i| at + i)
                        .ok_or_else(|| format!("'{{' at character {} is never closed", at + 1))?;
                    let inner = &source[at + 1..end];
                    while chars.peek().is_some_and(|&(i, _)| i <= end) {
                        chars.next();
                    }
                    if !literal.is_empty() {
                        parts.push(Part::Literal(std::mem::take(&mut literal)));
                    }
                    parts.push(placeholder(inner)?);
                }
                c => literal.push(c),
            }
        }
        if !literal.is_empty() {
            parts.push(Part::Literal(literal));
        }
        Ok(Pattern {
            source: source.to_string(),
            parts,
        })
    }
}

fn placeholder(inner: &str) -> Result<Part, String> {
    let (name, len) = match inner.split_once(':') {
        Some((name, len)) => {
            let len: usize = len
                .trim()
                .parse()
                .map_err(|_| format!("{{{inner}}}: the length {len:?} is not a number"))?;
            if len == 0 || len > MAX_PLACEHOLDER_LEN {
                return Err(format!(
                    "{{{inner}}}: the length must be 1 to {MAX_PLACEHOLDER_LEN}"
                ));
            }
            (name.trim(), Some(len))
        }
        None => (inner.trim(), None),
    };
    let part = match (name, len) {
        ("hex", Some(len)) => Part::Hex { len, upper: false },
        ("HEX", Some(len)) => Part::Hex { len, upper: true },
        ("digits", Some(len)) => Part::Digits(len),
        ("alpha", Some(len)) => Part::Alpha(len),
        ("alnum", Some(len)) => Part::Alnum(len),
        ("uuid", None) => Part::Uuid,
        ("index", None) => Part::Index,
        ("hex" | "HEX" | "digits" | "alpha" | "alnum", None) => {
            return Err(format!("{{{name}}} needs a length, e.g. {{{name}:8}}"));
        }
        ("uuid" | "index", Some(_)) => {
            return Err(format!("{{{name}}} takes no length"));
        }
        _ => {
            return Err(format!(
                "unknown placeholder {{{inner}}}; known: {PLACEHOLDERS}"
            ));
        }
    };
    Ok(part)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_literals_and_placeholders() {
        let p = Pattern::parse("vod-{digits:8}/{HEX:4}{uuid}-{index}").unwrap();
        assert_eq!(
            p.parts,
            vec![
                Part::Literal("vod-".into()),
                Part::Digits(8),
                Part::Literal("/".into()),
                Part::Hex {
                    len: 4,
                    upper: true
                },
                Part::Uuid,
                Part::Literal("-".into()),
                Part::Index,
            ]
        );
    }

    #[test]
    fn doubled_braces_are_literal() {
        let p = Pattern::parse("{{x}}-{alpha:2}").unwrap();
        assert_eq!(p.parts, vec![Part::Literal("{x}-".into()), Part::Alpha(2)]);
    }

    #[test]
    fn rejects_bad_patterns_with_a_reason() {
        for (pattern, reason) in [
            ("", "empty"),
            ("a{digits:8", "never closed"),
            ("a}b", "unmatched"),
            ("{digits}", "needs a length"),
            ("{uuid:4}", "takes no length"),
            ("{digits:0}", "1 to 256"),
            ("{digits:x}", "not a number"),
            ("{word:3}", "unknown placeholder"),
        ] {
            let err = Pattern::parse(pattern).expect_err(pattern);
            assert!(err.contains(reason), "{pattern}: {err}");
        }
    }
}
