//! `[target]`: where requests go and the rules the target applies.

use std::path::Path;

use super::reader::{Reader, Table};
use crate::scenario::TargetUrl;
use crate::scenario::raw::RawTarget;
use crate::spec::RuleSet;

pub(super) fn read(
    r: &mut Reader<'_>,
    t: &mut Table<'_, '_>,
    base_dir: Option<&Path>,
    raw: &mut RawTarget,
) {
    if let Some(v) = t.get("url") {
        raw.url = r.field(v, &t.key_path("url"), |r, v, key| {
            let text = r.string(v, key)?;
            TargetUrl::parse(&text)
                .map_err(|e| {
                    r.error(
                        v.span(),
                        key,
                        e.reason,
                        Some("write e.g. \"http://127.0.0.1:8080\", or leave `url` out to use the embedded reference server".into()),
                    )
                })
                .ok()
        });
    }
    if let Some(v) = t.get("path") {
        raw.path = r.field(v, &t.key_path("path"), Reader::string);
    }
    if let Some(v) = t.get("ca_cert") {
        raw.ca_cert = r.field(v, &t.key_path("ca_cert"), |r, v, key| {
            let text = r.string(v, key)?;
            let path = Path::new(&text);
            Some(match base_dir {
                Some(dir) if path.is_relative() && !text.is_empty() => dir.join(path),
                _ => path.to_path_buf(),
            })
        });
    }
    if let Some(v) = t.get("insecure") {
        raw.insecure = r.field(v, &t.key_path("insecure"), Reader::boolean);
    }
    if let Some(v) = t.get("rules") {
        raw.rules = r.field(v, &t.key_path("rules"), |r, v, key| {
            let text = r.string(v, key)?;
            RuleSet::from_name(&text)
                .ok_or_else(|| {
                    let names: Vec<_> = RuleSet::ALL.iter().map(|s| format!("\"{}\"", s.name())).collect();
                    r.error(
                        v.span(),
                        key,
                        format!("{text:?} is not a rule set: use {}", names.join(" or ")),
                        Some("\"strict\" (the default) also applies the 2018 schema's closed key sets; \"documented\" only what the Sessions request page states".into()),
                    )
                })
                .ok()
        });
    }
}
