//! A span-keeping reader over a parsed TOML document. It turns wrong types,
//! values that are not what their key takes and unknown keys into
//! [`ScenarioError`]s that point at the exact place in the file, and collects
//! them all instead of stopping at the first.

use std::collections::BTreeSet;
use std::ops::Range;
use std::time::Duration;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::scenario::error::{Locator, Place, Position, ScenarioError, nearest};
use crate::scenario::raw::{Field, Located};

pub(crate) type Value<'i> = Spanned<DeValue<'i>>;

/// Collects errors against one source file.
pub(crate) struct Reader<'s> {
    file: &'s str,
    locator: Locator<'s>,
    pub errors: Vec<ScenarioError>,
    /// Keys given but not read, see [`crate::scenario::RawSettings::unreadable`].
    pub unreadable: BTreeSet<String>,
    /// Each table read and the keys asked of it, for the test that keeps
    /// the scenario schema equal to what the reader accepts.
    #[cfg(test)]
    pub asked: Vec<(String, Vec<&'static str>)>,
}

impl<'s> Reader<'s> {
    pub fn new(file: &'s str, source: &'s str) -> Self {
        Reader {
            file,
            locator: Locator::new(source),
            errors: Vec::new(),
            unreadable: BTreeSet::new(),
            #[cfg(test)]
            asked: Vec::new(),
        }
    }

    /// Reads `value` with `read` into a located field; a value that cannot
    /// be read (already reported) leaves its key marked unreadable.
    pub fn field<T>(
        &mut self,
        value: &Value<'_>,
        key: &str,
        read: impl FnOnce(&mut Self, &Value<'_>, &str) -> Option<T>,
    ) -> Field<T> {
        match read(self, value, key) {
            Some(v) => Some(Located::new(v, self.place(value.span()))),
            None => {
                self.unreadable.insert(key.to_string());
                None
            }
        }
    }

    /// The place in the file where `span` starts. A line that may hold a
    /// credential header's value is not kept, so no message shows it.
    pub fn place(&self, span: Range<usize>) -> Place {
        let (line, column, text) = self.locator.locate(span.start);
        let shown = if crate::scenario::headers::line_may_hold_credential(text) {
            ""
        } else {
            text
        };
        Place::File(Position {
            file: self.file.to_string(),
            line,
            column,
            source_line: shown.to_string(),
        })
    }

    pub fn error(
        &mut self,
        span: Range<usize>,
        key: &str,
        message: impl Into<String>,
        hint: Option<String>,
    ) {
        let place = self.place(span);
        self.errors.push(ScenarioError {
            place,
            key: key.to_string(),
            message: message.into(),
            hint,
        });
    }

    fn wrong_type(&mut self, value: &Value<'_>, key: &str, expected: &str) {
        let found = type_name(value.get_ref());
        self.error(
            value.span(),
            key,
            format!("expected {expected}, found {found}"),
            None,
        );
    }

    pub fn string(&mut self, value: &Value<'_>, key: &str) -> Option<String> {
        match value.get_ref() {
            DeValue::String(s) => Some(s.to_string()),
            _ => {
                self.wrong_type(value, key, "a string");
                None
            }
        }
    }

    pub fn boolean(&mut self, value: &Value<'_>, key: &str) -> Option<bool> {
        match value.get_ref() {
            DeValue::Boolean(b) => Some(*b),
            _ => {
                self.wrong_type(value, key, "true or false");
                None
            }
        }
    }

    pub fn integer(&mut self, value: &Value<'_>, key: &str) -> Option<i64> {
        match value.get_ref() {
            DeValue::Integer(i) => match i64::from_str_radix(i.as_str(), i.radix()) {
                Ok(n) => Some(n),
                Err(_) => {
                    self.error(value.span(), key, "integer out of range", None);
                    None
                }
            },
            _ => {
                self.wrong_type(value, key, "an integer");
                None
            }
        }
    }

    /// A number: TOML integers are accepted as floats.
    pub fn number(&mut self, value: &Value<'_>, key: &str) -> Option<f64> {
        match value.get_ref() {
            DeValue::Float(f) => match f.as_str().replace('_', "").parse::<f64>() {
                Ok(n) if n.is_finite() => Some(n),
                _ => {
                    self.error(value.span(), key, "the number must be finite", None);
                    None
                }
            },
            DeValue::Integer(_) => self.integer(value, key).map(|n| n as f64),
            _ => {
                self.wrong_type(value, key, "a number");
                None
            }
        }
    }

    /// A share between 0 and 1.
    pub fn share(&mut self, value: &Value<'_>, key: &str) -> Option<f64> {
        let n = self.number(value, key)?;
        if (0.0..=1.0).contains(&n) {
            Some(n)
        } else {
            self.error(
                value.span(),
                key,
                format!("{n} is not a share: use a number from 0 to 1 (0.3 means 30%)"),
                None,
            );
            None
        }
    }

    /// A human duration such as `"500ms"`, `"30s"` or `"2m"`, greater than zero.
    pub fn duration(&mut self, value: &Value<'_>, key: &str) -> Option<Duration> {
        let text = match value.get_ref() {
            DeValue::String(s) => s.to_string(),
            _ => {
                self.wrong_type(
                    value,
                    key,
                    "a duration such as \"500ms\", \"30s\" or \"2m\"",
                );
                return None;
            }
        };
        match parse_duration(&text) {
            Ok(d) => Some(d),
            Err(message) => {
                self.error(value.span(), key, message, None);
                None
            }
        }
    }

    pub fn array<'a, 'i>(&mut self, value: &'a Value<'i>, key: &str) -> Option<&'a [Value<'i>]> {
        match value.get_ref() {
            DeValue::Array(items) => Some(items),
            _ => {
                self.wrong_type(value, key, "an array");
                None
            }
        }
    }

    pub fn table<'a, 'i>(&mut self, value: &'a Value<'i>, key: &str) -> Option<Table<'a, 'i>> {
        match value.get_ref() {
            DeValue::Table(entries) => Some(Table::new(key, entries)),
            _ => {
                self.wrong_type(value, key, "a table");
                None
            }
        }
    }
}

/// The longest duration (of a run, a timeout, a delay) mcload takes.
pub const MAX_DURATION: Duration = Duration::from_secs(365 * 24 * 3600);

/// Parses a human duration, refusing zero and anything over a year.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let d = humantime::parse_duration(text.trim()).map_err(|e| {
        format!("{text:?} is not a duration ({e}); write e.g. \"500ms\", \"30s\" or \"2m\"")
    })?;
    if d.is_zero() {
        return Err(format!("{text:?}: the duration must be greater than zero"));
    }
    if d > MAX_DURATION {
        return Err(format!(
            "{text:?} is longer than the longest duration mcload takes, 365 days"
        ));
    }
    Ok(d)
}

pub(crate) fn type_name(value: &DeValue<'_>) -> &'static str {
    match value {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a date-time",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

/// A table being read. Every key the reader asks for becomes a known key;
/// [`Table::finish`] reports the rest as unknown, suggesting the nearest
/// known one. So the list of allowed keys is the code that reads them.
pub(crate) struct Table<'a, 'i> {
    pub path: String,
    entries: &'a DeTable<'i>,
    known: Vec<&'static str>,
}

impl<'a, 'i> Table<'a, 'i> {
    pub fn new(path: &str, entries: &'a DeTable<'i>) -> Self {
        Table {
            path: path.to_string(),
            entries,
            known: Vec::new(),
        }
    }

    /// The dotted path of a key in this table.
    pub fn key_path(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_string()
        } else {
            format!("{}.{}", self.path, key)
        }
    }

    /// The value of `key`, marking `key` as known.
    pub fn get(&mut self, key: &'static str) -> Option<&'a Value<'i>> {
        self.known.push(key);
        self.entries.get(key)
    }

    /// Every entry, for tables whose keys are free (headers, params).
    pub fn entries(
        &self,
    ) -> impl Iterator<Item = (&'a Spanned<toml::de::DeString<'i>>, &'a Value<'i>)> {
        self.entries.iter()
    }

    /// Reports keys that no `get` asked for.
    pub fn finish(self, reader: &mut Reader<'_>) {
        for (key, _) in self.entries.iter() {
            let name: &str = key.get_ref();
            if self.known.contains(&name) {
                continue;
            }
            let hint = match nearest(name, self.known.iter().copied()) {
                Some(k) => format!("did you mean `{k}`?"),
                None => format!("known keys here: {}", self.known.join(", ")),
            };
            let where_ = if self.path.is_empty() {
                "at the top level".to_string()
            } else {
                format!("in [{}]", self.path)
            };
            reader.error(
                key.span(),
                &self.key_path(name),
                format!("unknown key {where_}"),
                Some(hint),
            );
        }
        #[cfg(test)]
        reader.asked.push((self.path, self.known));
    }
}
