//! The report keys of a sharded plan: `shard`, `plan_fingerprint`, `start`
//! and `session_ids`, written here and read back by `report::read`.

use base64::Engine as _;
use schemars::JsonSchema;
use serde::Serialize;

use crate::report::{RunReport, SharedStart};
use crate::scenario::Shard;

/// Which shard of the plan the run sent.
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "Shard")]
pub(in crate::report) struct ShardJson {
    /// K, from 0.
    index: u64,
    /// N, the number of shards.
    count: u64,
}

/// The agreed start (`--start-at`).
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "Start")]
pub(in crate::report) struct StartJson {
    /// The agreed instant (RFC 3339, UTC, milliseconds).
    #[schemars(extend("format" = "date-time"))]
    at: String,
    /// How late this run began sending against `at`, in ms.
    lateness_ms: f64,
}

/// The session-id fingerprints the checker remembered at the end.
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "SessionIds")]
pub(in crate::report) struct SessionIdsJson {
    /// Base64 of the sorted 64-bit fingerprints, 8 bytes each, little-endian.
    fingerprints: String,
    /// How many fingerprints.
    count: u64,
}

pub(super) fn shard(shard: Option<Shard>) -> Option<ShardJson> {
    shard.map(|s| ShardJson {
        index: s.index,
        count: s.count,
    })
}

/// 16 lowercase hex digits.
pub fn fingerprint_hex(fp: u64) -> String {
    format!("{fp:016x}")
}

pub(super) fn start(start: Option<SharedStart>) -> Option<StartJson> {
    start.map(|s| StartJson {
        at: humantime::format_rfc3339_millis(s.at).to_string(),
        lateness_ms: (s.lateness.as_secs_f64() * 1e6).round() / 1e3,
    })
}

pub(super) fn session_ids(run: &RunReport) -> Option<SessionIdsJson> {
    run.session_ids.as_ref().map(|fps| SessionIdsJson {
        fingerprints: encode_fingerprints(fps),
        count: fps.len() as u64,
    })
}

pub fn encode_fingerprints(fps: &[u64]) -> String {
    let bytes: Vec<u8> = fps.iter().flat_map(|fp| fp.to_le_bytes()).collect();
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The fingerprints of `session_ids.fingerprints`; `None` when the text is
/// not base64 of whole 8-byte values.
pub fn decode_fingerprints(text: &str) -> Option<Vec<u64>> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text)
        .ok()?;
    (bytes.len() % 8 == 0).then(|| {
        bytes
            .chunks_exact(8)
            .map(|c| u64::from_le_bytes(c.try_into().expect("8 bytes")))
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_round_trip_through_base64() {
        let fps = vec![1, 0xdead_beef, u64::MAX - 1];
        assert_eq!(decode_fingerprints(&encode_fingerprints(&fps)), Some(fps));
        assert_eq!(decode_fingerprints("AAAA"), None);
        assert_eq!(fingerprint_hex(0x1f2e), "0000000000001f2e");
    }
}
