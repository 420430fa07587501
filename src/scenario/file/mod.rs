//! The file layer: a scenario file read into [`RawSettings`], one module per
//! table. The reader reports what a key cannot hold (a wrong type, a value
//! that is not a duration, a param value that does not fit the API's
//! catalogue) and keys that do not exist, with the nearest known key; every
//! rule that weighs one setting against another, and every limit, belongs to
//! the validation step, which sees the file and the flags together.
//! `scenarios/reference.toml` shows every key.

mod body;
mod http;
mod load;
pub(crate) mod reader;
mod target;
mod thresholds;
mod values;

use std::path::Path;

use toml::de::DeTable;

use super::error::ScenarioError;
use super::raw::RawSettings;
use reader::{Reader, Table, Value};

/// Reads scenario text into its raw settings and the problems found on the
/// way. `base_dir` is where relative paths in the file start.
pub(crate) fn read(
    source: &str,
    file: &str,
    base_dir: Option<&Path>,
) -> (RawSettings, Vec<ScenarioError>) {
    let mut r = Reader::new(file, source);
    let raw = read_with(&mut r, source, base_dir);
    (raw, r.errors)
}

/// Every table `source` holds, by its dotted path, with the keys the
/// reader asked of it (which are the keys it accepts there), and the
/// problems found.
#[cfg(test)]
pub(crate) fn keys_asked(source: &str) -> (Vec<(String, Vec<&'static str>)>, Vec<ScenarioError>) {
    let mut r = Reader::new("keys.toml", source);
    read_with(&mut r, source, None);
    (r.asked, r.errors)
}

fn read_with(r: &mut Reader<'_>, source: &str, base_dir: Option<&Path>) -> RawSettings {
    let doc = match DeTable::parse(source) {
        Ok(doc) => doc,
        Err(e) => {
            r.error(
                e.span().unwrap_or(0..0),
                "",
                format!("not valid TOML: {}", e.message().trim_end()),
                None,
            );
            return RawSettings::default();
        }
    };
    let mut top = Table::new("", doc.get_ref());
    let mut raw = RawSettings::default();
    if let Some(v) = top.get("name") {
        raw.name = r.field(v, "name", Reader::string);
    }
    if let Some(v) = top.get("description") {
        raw.description = r.field(v, "description", Reader::string);
    }
    section(r, &mut top, "target", |r, t| {
        target::read(r, t, base_dir, &mut raw.target)
    });
    section(r, &mut top, "load", |r, t| load::read(r, t, &mut raw.load));
    section(r, &mut top, "http", |r, t| http::read(r, t, &mut raw.http));
    section(r, &mut top, "body", |r, t| body::read(r, t, &mut raw.body));
    if let Some(v) = top.get("thresholds") {
        thresholds::read(r, v, &mut raw.thresholds);
    }
    top.finish(r);
    raw.unreadable = std::mem::take(&mut r.unreadable);
    raw
}

/// Reads an optional sub-table, calls `read` on it and reports its unknown keys.
fn section<T>(
    r: &mut Reader<'_>,
    parent: &mut Table<'_, '_>,
    key: &'static str,
    read: impl FnOnce(&mut Reader<'_>, &mut Table<'_, '_>) -> T,
) -> Option<T> {
    let value = parent.get(key)?;
    let path = parent.key_path(key);
    let mut table = r.table(value, &path)?;
    let out = read(r, &mut table);
    table.finish(r);
    Some(out)
}

/// A pair `[a, b]` of integers.
fn int_pair(r: &mut Reader<'_>, v: &Value<'_>, key: &str) -> Option<(i64, i64)> {
    let items = r.array(v, key)?;
    if items.len() != 2 {
        r.error(v.span(), key, "write a pair [min, max]", None);
        return None;
    }
    Some((r.integer(&items[0], key)?, r.integer(&items[1], key)?))
}
