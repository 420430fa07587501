//! `[load]`: the load model and when the run stops.

use super::reader::{Reader, Table, Value};
use crate::engine::Pacing;
use crate::scenario::raw::{Located, RawLoad, RawStage};

pub(super) fn read(r: &mut Reader<'_>, t: &mut Table<'_, '_>, raw: &mut RawLoad) {
    if let Some(v) = t.get("concurrency") {
        raw.concurrency = r.field(v, &t.key_path("concurrency"), Reader::integer);
    }
    if let Some(v) = t.get("rate") {
        raw.rate = r.field(v, &t.key_path("rate"), Reader::number);
    }
    if let Some(v) = t.get("start_rate") {
        raw.start_rate = r.field(v, &t.key_path("start_rate"), Reader::number);
    }
    if let Some(v) = t.get("stages") {
        raw.stages = r.field(v, &t.key_path("stages"), read_stages);
    }
    if let Some(v) = t.get("connections") {
        raw.connections = r.field(v, &t.key_path("connections"), Reader::integer);
    }
    if let Some(v) = t.get("max_in_flight") {
        raw.max_in_flight = r.field(v, &t.key_path("max_in_flight"), Reader::integer);
    }
    if let Some(v) = t.get("duration") {
        raw.duration = r.field(v, &t.key_path("duration"), Reader::duration);
    }
    if let Some(v) = t.get("requests") {
        raw.requests = r.field(v, &t.key_path("requests"), Reader::integer);
    }
    if let Some(v) = t.get("warmup") {
        raw.warmup = r.field(v, &t.key_path("warmup"), Reader::duration);
    }
    if let Some(v) = t.get("threads") {
        raw.threads = r.field(v, &t.key_path("threads"), Reader::integer);
    }
    if let Some(v) = t.get("grace") {
        raw.grace = r.field(v, &t.key_path("grace"), Reader::duration);
    }
    if let Some(v) = t.get("pacing") {
        raw.pacing = r.field(v, &t.key_path("pacing"), read_pacing);
    }
}

/// `pacing = "exact"` or `"batched:200us"`.
fn read_pacing(r: &mut Reader<'_>, v: &Value<'_>, key: &str) -> Option<Pacing> {
    let text = r.string(v, key)?;
    match text.parse() {
        Ok(pacing) => Some(pacing),
        Err(message) => {
            r.error(v.span(), key, message, None);
            None
        }
    }
}

/// `stages = [{ duration = "5s", rate = 1000 }, ...]`.
fn read_stages(r: &mut Reader<'_>, v: &Value<'_>, key: &str) -> Option<Vec<RawStage>> {
    let items = r.array(v, key)?;
    let mut stages = Vec::with_capacity(items.len());
    let mut ok = true;
    for (i, item) in items.iter().enumerate() {
        let item_key = format!("{key}[{i}]");
        let Some(mut table) = r.table(item, &item_key) else {
            ok = false;
            continue;
        };
        let duration = match table.get("duration") {
            Some(d) => {
                let place = r.place(d.span());
                r.duration(d, &table.key_path("duration"))
                    .map(|x| Located::new(x, place))
            }
            None => {
                r.error(item.span(), &item_key, "a stage needs `duration`", None);
                None
            }
        };
        let rate = match table.get("rate") {
            Some(x) => {
                let place = r.place(x.span());
                r.number(x, &table.key_path("rate"))
                    .map(|n| Located::new(n, place))
            }
            None => {
                r.error(
                    item.span(),
                    &item_key,
                    "a stage needs `rate` (requests per second at its end)",
                    None,
                );
                None
            }
        };
        table.finish(r);
        match (duration, rate) {
            (Some(duration), Some(rate)) => stages.push(RawStage { duration, rate }),
            _ => ok = false,
        }
    }
    ok.then_some(stages)
}
