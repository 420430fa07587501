//! Reading back the keys of a sharded plan (`shard`, `plan_fingerprint`,
//! `start`, `session_ids`). A report written before they existed reads as
//! an unsharded run with fingerprint 0.

use std::time::Duration;

use super::json::At;
use super::{ReadError, bad};
use crate::report::SharedStart;
use crate::report::json::decode_fingerprints;
use crate::scenario::Shard;

pub(super) struct PlanKeys {
    pub shard: Option<Shard>,
    pub plan_fingerprint: u64,
    pub start: Option<SharedStart>,
    pub session_ids: Option<Vec<u64>>,
}

pub(super) fn plan_keys(root: &At<'_>) -> Result<PlanKeys, ReadError> {
    let shard = match root.at_opt("shard") {
        Some(s) => {
            let (index, count) = (s.u64("index")?, s.u64("count")?);
            if index >= count {
                return Err(bad(
                    root,
                    "shard",
                    format!("shard {index}/{count} does not exist"),
                ));
            }
            Some(Shard { index, count })
        }
        None => None,
    };
    let plan_fingerprint = match root.opt("plan_fingerprint") {
        Some(_) => {
            let text = root.str("plan_fingerprint")?;
            u64::from_str_radix(text, 16)
                .ok()
                .filter(|_| text.len() == 16)
                .ok_or_else(|| bad(root, "plan_fingerprint", "not 16 hex digits"))?
        }
        None => 0,
    };
    let start = match root.at_opt("start") {
        Some(s) => Some(SharedStart {
            at: humantime::parse_rfc3339(s.str("at")?).map_err(|e| bad(&s, "at", e.to_string()))?,
            lateness: Duration::try_from_secs_f64(s.f64("lateness_ms")? / 1e3)
                .map_err(|e| bad(&s, "lateness_ms", e.to_string()))?,
        }),
        None => None,
    };
    let session_ids = match root.at_opt("session_ids") {
        Some(s) => {
            let fps = decode_fingerprints(s.str("fingerprints")?)
                .ok_or_else(|| bad(&s, "fingerprints", "not base64 of 8-byte fingerprints"))?;
            if fps.len() as u64 != s.u64("count")? {
                return Err(bad(&s, "count", "does not match the fingerprints"));
            }
            Some(fps)
        }
        None => None,
    };
    Ok(PlanKeys {
        shard,
        plan_fingerprint,
        start,
        session_ids,
    })
}
