//! Reading a JSON report's values with errors that name the key: a key a
//! report must have, and one added by a later version, which an older
//! report lacks and which then takes its default.

use serde_json::Value;

use super::ReadError;
use crate::metrics::Latency;

/// The largest count a report may hold, 2^40 (a million requests a second
/// for twelve days): far beyond a real run, and small enough that the sums
/// of a report's counts fit.
pub(super) const LARGEST: u64 = 1 << 40;

/// A place in the report: its value and its JSON pointer, for messages.
#[derive(Clone)]
pub(super) struct At<'a> {
    pub value: &'a Value,
    pointer: String,
}

impl<'a> At<'a> {
    pub fn root(value: &'a Value) -> At<'a> {
        At {
            value,
            pointer: String::new(),
        }
    }

    fn missing(&self, key: &str, what: &'static str) -> ReadError {
        ReadError::Missing {
            key: format!("{}/{key}", self.pointer),
            what,
        }
    }

    /// The pointer of `key` under this place.
    pub fn name(&self, key: &str) -> String {
        format!("{}/{key}", self.pointer)
    }

    /// `key`'s value when present and not null.
    pub fn opt(&self, key: &str) -> Option<&'a Value> {
        self.value.get(key).filter(|v| !v.is_null())
    }

    /// The value under `key`, which must be there.
    pub fn at(&self, key: &str) -> Result<At<'a>, ReadError> {
        self.at_opt(key).ok_or_else(|| self.missing(key, "missing"))
    }

    /// The value under `key` when present and not null.
    pub fn at_opt(&self, key: &str) -> Option<At<'a>> {
        self.opt(key).map(|value| At {
            value,
            pointer: self.name(key),
        })
    }

    /// The items of this array; none when it is not one.
    pub fn items(&self) -> Vec<At<'a>> {
        let Some(items) = self.value.as_array() else {
            return Vec::new();
        };
        items
            .iter()
            .enumerate()
            .map(|(i, value)| At {
                value,
                pointer: format!("{}/{i}", self.pointer),
            })
            .collect()
    }

    /// The array under `key`; empty when an older report lacks it.
    pub fn array(&self, key: &str) -> Result<Vec<At<'a>>, ReadError> {
        match self.at_opt(key) {
            None => Ok(Vec::new()),
            Some(a) if a.value.is_array() => Ok(a.items()),
            Some(_) => Err(self.missing(key, "not an array")),
        }
    }

    /// A count (or a number of seconds, threads, workers).
    pub fn u64(&self, key: &str) -> Result<u64, ReadError> {
        let v = self.opt(key).ok_or_else(|| self.missing(key, "missing"))?;
        self.count(key, v)
    }

    /// A count a later version added: 0 when an older report lacks it.
    pub fn u64_or_zero(&self, key: &str) -> Result<u64, ReadError> {
        match self.opt(key) {
            None => Ok(0),
            Some(v) => self.count(key, v),
        }
    }

    /// A whole number up to [`LARGEST`], so that sums of counts cannot
    /// overflow.
    fn count(&self, key: &str, v: &Value) -> Result<u64, ReadError> {
        match v.as_u64() {
            Some(n) if n <= LARGEST => Ok(n),
            Some(_) => Err(self.missing(key, "a count a run can make")),
            None => Err(self.missing(key, "not a count")),
        }
    }

    pub fn f64(&self, key: &str) -> Result<f64, ReadError> {
        self.f64_opt(key)?
            .ok_or_else(|| self.missing(key, "missing"))
    }

    /// A number, or `None` when absent or null.
    pub fn f64_opt(&self, key: &str) -> Result<Option<f64>, ReadError> {
        self.opt(key)
            .map(|v| v.as_f64().ok_or_else(|| self.missing(key, "not a number")))
            .transpose()
    }

    pub fn str(&self, key: &str) -> Result<&'a str, ReadError> {
        self.opt(key)
            .ok_or_else(|| self.missing(key, "missing"))?
            .as_str()
            .ok_or_else(|| self.missing(key, "not a string"))
    }

    /// A flag a later version added: `false` when an older report lacks it.
    pub fn bool_or_false(&self, key: &str) -> Result<bool, ReadError> {
        match self.opt(key) {
            None => Ok(false),
            Some(v) => v
                .as_bool()
                .ok_or_else(|| self.missing(key, "not true or false")),
        }
    }

    pub fn bool(&self, key: &str) -> Result<bool, ReadError> {
        self.opt(key)
            .ok_or_else(|| self.missing(key, "missing"))?
            .as_bool()
            .ok_or_else(|| self.missing(key, "not true or false"))
    }

    /// An object of counts (`{"404": 3}`); empty when absent.
    pub fn counts(&self, key: &str) -> Result<Vec<(&'a str, u64)>, ReadError> {
        let Some(v) = self.opt(key) else {
            return Ok(Vec::new());
        };
        let map = v
            .as_object()
            .ok_or_else(|| self.missing(key, "not an object of counts"))?;
        map.iter()
            .map(|(k, n)| Ok((k.as_str(), self.count(key, n)?)))
            .collect()
    }

    /// A serialized histogram (base64 of HdrHistogram's V2 encoding).
    pub fn histogram(&self, key: &str) -> Result<Option<Latency>, ReadError> {
        let Some(v) = self.opt(key) else {
            return Ok(None);
        };
        let text = v
            .as_str()
            .ok_or_else(|| self.missing(key, "not a string"))?;
        let bad = |reason: String| ReadError::Bad {
            key: self.name(key),
            reason,
        };
        let decoded = crate::verdict::compare::decode_histogram(text)
            .map_err(|reason| bad(format!("its histogram cannot be decoded ({reason})")))?;
        // Into this mcload's own bounds, whatever the file's header says, so
        // that adding it to another (merging shards) cannot fail later.
        let mut latency = crate::metrics::new_latency();
        latency.add(&decoded).map_err(|e| {
            bad(format!(
                "its histogram holds values beyond this mcload's bounds ({e:?})"
            ))
        })?;
        Ok(Some(latency))
    }
}
