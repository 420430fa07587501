//! Extra request headers: `${VAR}` in their values, read from the
//! environment when the scenario loads, and which of them carry
//! credentials, so that a scenario line that may hold one is never shown
//! under an error message (mcload prints no header value anywhere else).

/// Whether a header carries a credential: `Authorization`, `Cookie`,
/// `Proxy-Authorization`, or a name holding `token`, `key` or `secret`
/// (case-insensitive).
pub fn is_credential(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    matches!(
        name.as_str(),
        "authorization" | "cookie" | "proxy-authorization"
    ) || ["token", "key", "secret"].iter().any(|w| name.contains(w))
}

/// Whether a line of a scenario file may hold a credential header's value:
/// one of its `KEY =` pairs (a line, or an inline table's entries) names a
/// credential. Such a line is never shown under an error message; a line
/// hidden without need costs only the snippet, the position stays.
pub fn line_may_hold_credential(line: &str) -> bool {
    line.split([',', '{']).any(|pair| {
        pair.split_once('=').is_some_and(|(key, _)| {
            let key = key.trim().trim_matches(['"', '\'']);
            !key.is_empty() && is_credential(key)
        })
    })
}

/// Why a header value could not be expanded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExpandError {
    /// `${NAME}` names a variable that is not set (or not valid Unicode).
    Unset(String),
    /// `${` without its closing `}`, or a name that is not
    /// `[A-Za-z_][A-Za-z0-9_]*`.
    Malformed(String),
}

impl ExpandError {
    pub fn message(&self) -> String {
        match self {
            ExpandError::Unset(var) => {
                format!("the environment variable `{var}` is not set")
            }
            ExpandError::Malformed(why) => why.clone(),
        }
    }
}

/// Expands `${NAME}` in `value` with `lookup(NAME)`; `$${` writes a
/// literal `${`, and a `$` not followed by `{` stays as it is.
pub fn expand(value: &str, lookup: impl Fn(&str) -> Option<String>) -> Result<String, ExpandError> {
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(escaped) = after.strip_prefix("${") {
            out.push_str("${");
            rest = escaped;
        } else if let Some(inner) = after.strip_prefix('{') {
            let Some(end) = inner.find('}') else {
                return Err(ExpandError::Malformed(
                    "`${` has no closing `}`; write `$${` for a literal `${`".into(),
                ));
            };
            let var = &inner[..end];
            let valid = var
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && var.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !valid {
                return Err(ExpandError::Malformed(format!(
                    "`${{{var}}}` is not a variable name: use letters, digits and `_`, e.g. `${{API_TOKEN}}`"
                )));
            }
            out.push_str(&lookup(var).ok_or_else(|| ExpandError::Unset(var.to_string()))?);
            rest = &inner[end + 1..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// [`expand`] from the process's environment.
pub fn expand_env(value: &str) -> Result<String, ExpandError> {
    expand(value, |var| std::env::var(var).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(var: &str) -> Option<String> {
        match var {
            "TOKEN" => Some("s3cr3t".into()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    #[test]
    fn variables_are_expanded_and_the_escape_writes_a_literal() {
        assert_eq!(expand("Bearer ${TOKEN}", env).unwrap(), "Bearer s3cr3t");
        assert_eq!(expand("${TOKEN}${TOKEN}", env).unwrap(), "s3cr3ts3cr3t");
        assert_eq!(expand("a${EMPTY}b", env).unwrap(), "ab");
        assert_eq!(expand("$${TOKEN}", env).unwrap(), "${TOKEN}");
        assert_eq!(expand("cost $5 $ {x}", env).unwrap(), "cost $5 $ {x}");
        assert_eq!(expand("plain", env).unwrap(), "plain");
    }

    #[test]
    fn an_unset_or_malformed_variable_is_an_error_naming_it() {
        assert_eq!(
            expand("Bearer ${NOPE}", env),
            Err(ExpandError::Unset("NOPE".into()))
        );
        assert!(
            expand("${NOPE}", env)
                .unwrap_err()
                .message()
                .contains("`NOPE` is not set")
        );
        assert!(matches!(
            expand("x ${TOKEN", env),
            Err(ExpandError::Malformed(_))
        ));
        assert!(matches!(expand("${}", env), Err(ExpandError::Malformed(_))));
        assert!(matches!(
            expand("${1A}", env),
            Err(ExpandError::Malformed(_))
        ));
    }

    #[test]
    fn credential_headers_are_recognised_by_name() {
        for name in [
            "Authorization",
            "cookie",
            "Proxy-Authorization",
            "X-Api-Key",
            "X-Auth-Token",
            "Client-SECRET",
        ] {
            assert!(is_credential(name), "{name}");
        }
        for line in [
            "Authorization = \"Bearer x\"",
            "headers = { \"X-Run\" = \"ci\", Cookie = \"a=b\" }",
            "  'X-Api-Key'=\"unterminated",
        ] {
            assert!(line_may_hold_credential(line), "{line}");
        }
        for line in [
            "concurrency = 8",
            "headers = { \"X-Run\" = \"ci\" }",
            "[http.headers]",
        ] {
            assert!(!line_may_hold_credential(line), "{line}");
        }
        for name in ["X-Run", "Accept", "User-Agent"] {
            assert!(!is_credential(name), "{name}");
        }
    }
}
