//! What a shard's report says of its shard, beside the run it describes:
//! which shard of how many, the plan it ran and the session ids it saw.

use base64::Engine as _;
use serde_json::Value;

use super::MergeError;

/// The shard keys of one saved report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShardInfo {
    /// `schema`, as written.
    pub schema: String,
    /// `(index, count)`; `None` for a report of an unsharded run.
    pub shard: Option<(u32, u32)>,
    /// `plan_fingerprint`: 16 lowercase hex digits.
    pub plan_fingerprint: Option<String>,
    /// The session-id fingerprints the shard's checker still remembered at
    /// its end, sorted; `None` when the report has none.
    pub session_ids: Option<Vec<u64>>,
}

impl ShardInfo {
    /// Reads the shard keys of `text`, a report saved as `file`.
    pub fn read(file: &str, text: &str) -> Result<ShardInfo, MergeError> {
        let bad = |key: &str, why: String| MergeError::Bad {
            file: file.to_owned(),
            key: key.to_owned(),
            why,
        };
        let v: Value = serde_json::from_str(text).map_err(|e| bad("(the file)", e.to_string()))?;
        let schema = v
            .get("schema")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let shard = match v.get("shard") {
            None | Some(Value::Null) => None,
            Some(s) => {
                let index = s.get("index").and_then(Value::as_u64);
                let count = s.get("count").and_then(Value::as_u64);
                match (index, count) {
                    (Some(k), Some(n)) if k < n && n <= u64::from(u32::MAX) => {
                        Some((k as u32, n as u32))
                    }
                    _ => {
                        return Err(bad(
                            "shard",
                            format!("{s} is not {{\"index\": K, \"count\": N}} with 0 <= K < N"),
                        ));
                    }
                }
            }
        };
        let plan_fingerprint = match v.get("plan_fingerprint") {
            None | Some(Value::Null) => None,
            Some(Value::String(f))
                if f.len() == 16 && f.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) =>
            {
                Some(f.clone())
            }
            Some(other) => {
                return Err(bad(
                    "plan_fingerprint",
                    format!("{other} is not 16 lowercase hex digits"),
                ));
            }
        };
        let session_ids = match v.get("session_ids") {
            None | Some(Value::Null) => None,
            Some(ids) => Some(fingerprints(ids).map_err(|why| bad("session_ids", why))?),
        };
        Ok(ShardInfo {
            schema,
            shard,
            plan_fingerprint,
            session_ids,
        })
    }
}

/// `{"fingerprints": base64 of sorted little-endian u64s, "count": n}`.
fn fingerprints(ids: &Value) -> Result<Vec<u64>, String> {
    let text = ids
        .get("fingerprints")
        .and_then(Value::as_str)
        .ok_or("its fingerprints are not a base64 string")?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|e| format!("its fingerprints are not base64: {e}"))?;
    if bytes.len() % 8 != 0 {
        return Err(format!(
            "its fingerprints are {} bytes, not a whole number of 8-byte fingerprints",
            bytes.len()
        ));
    }
    let mut set: Vec<u64> = bytes
        .chunks_exact(8)
        .map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")))
        .collect();
    if let Some(count) = ids.get("count").and_then(Value::as_u64)
        && count != set.len() as u64
    {
        return Err(format!(
            "count says {count} but the fingerprints hold {}",
            set.len()
        ));
    }
    // Sorted by contract; sorting again costs little and guards the merge.
    set.sort_unstable();
    set.dedup();
    Ok(set)
}

/// Session ids seen by more than one shard: for each fingerprint, the
/// shards beyond the first that hold it. Each set is sorted, so a k-way
/// walk finds them without a set of all ids.
pub fn shared_ids(sets: &[&[u64]]) -> u64 {
    let mut at = vec![0usize; sets.len()];
    let mut repeats = 0;
    loop {
        let Some(least) = sets
            .iter()
            .zip(&at)
            .filter_map(|(s, &i)| s.get(i).copied())
            .min()
        else {
            return repeats;
        };
        let mut holders = 0;
        for (s, i) in sets.iter().zip(at.iter_mut()) {
            if s.get(*i) == Some(&least) {
                holders += 1;
                *i += 1;
            }
        }
        repeats += holders - 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoded(ids: &[u64]) -> String {
        let bytes: Vec<u8> = ids.iter().flat_map(|i| i.to_le_bytes()).collect();
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }

    #[test]
    fn the_shard_keys_are_read_and_bad_ones_named() {
        let text = format!(
            r#"{{"schema": "mcload.report/v1", "shard": {{"index": 1, "count": 3}},
               "plan_fingerprint": "00ff00ff00ff00ff",
               "session_ids": {{"fingerprints": "{}", "count": 2}}}}"#,
            encoded(&[9, 4])
        );
        let info = ShardInfo::read("a.json", &text).unwrap();
        assert_eq!(info.shard, Some((1, 3)));
        assert_eq!(info.plan_fingerprint.as_deref(), Some("00ff00ff00ff00ff"));
        assert_eq!(info.session_ids, Some(vec![4, 9]));
        let wrong = ShardInfo::read("b.json", r#"{"shard": {"index": 3, "count": 3}}"#)
            .unwrap_err()
            .to_string();
        assert!(
            wrong.contains("b.json") && wrong.contains("shard"),
            "{wrong}"
        );
        let upper = ShardInfo::read("c.json", r#"{"plan_fingerprint": "00FF00FF00FF00FF"}"#)
            .unwrap_err()
            .to_string();
        assert!(upper.contains("plan_fingerprint"), "{upper}");
    }

    #[test]
    fn ids_held_by_several_shards_count_once_per_extra_shard() {
        let a: &[u64] = &[1, 2, 3, 10];
        let b: &[u64] = &[3, 4, 10];
        let c: &[u64] = &[3, 5];
        // 3 in three shards (two repeats), 10 in two (one).
        assert_eq!(shared_ids(&[a, b, c]), 3);
        assert_eq!(shared_ids(&[a, &[]]), 0);
        assert_eq!(shared_ids(&[]), 0);
    }
}
