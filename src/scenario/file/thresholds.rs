//! `[thresholds]`: `"METRIC [over D]" = "OP VALUE"`, or the table form
//! `"METRIC" = { check = "OP VALUE", abort = true, after = "10s" }`, and `defaults = false` to turn the
//! default verdict off. The expressions are read by the validation step
//! with the grammar `--threshold` uses too.

use super::reader::{Reader, Value};
use crate::scenario::raw::{Located, RawThreshold, RawThresholds};
use toml::de::DeValue;

pub(super) fn read(r: &mut Reader<'_>, v: &Value<'_>, raw: &mut RawThresholds) {
    let Some(table) = r.table(v, "thresholds") else {
        return;
    };
    for (key, value) in table.entries() {
        let name: &str = key.get_ref();
        let path = format!("thresholds.{name}");
        if name == "defaults" {
            raw.defaults = r.field(value, &path, Reader::boolean);
            continue;
        }
        let (mut abort, mut after) = (None, None);
        let check = match value.get_ref() {
            DeValue::Table(_) => {
                let Some(mut entry) = r.table(value, &path) else {
                    continue;
                };
                if let Some(v) = entry.get("abort") {
                    abort = r.field(v, &entry.key_path("abort"), Reader::boolean);
                }
                if let Some(v) = entry.get("after") {
                    after = r.field(v, &entry.key_path("after"), Reader::duration);
                }
                let check = match entry.get("check") {
                    Some(c) => r
                        .string(c, &entry.key_path("check"))
                        .map(|text| (text, c.span())),
                    None => {
                        r.error(
                            value.span(),
                            &path,
                            "a threshold table needs `check`, e.g. { check = \"< 5%\" }",
                            None,
                        );
                        None
                    }
                };
                entry.finish(r);
                check
            }
            _ => r.string(value, &path).map(|text| (text, value.span())),
        };
        if let Some((text, span)) = check {
            raw.entries.push(RawThreshold {
                metric: Located::new(name.to_string(), r.place(key.span())),
                check: Located::new(text, r.place(span)),
                expression: None,
                abort,
                after,
            });
        }
    }
}
