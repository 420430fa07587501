//! Seeded, randomized, valid sessionStart bodies.
//!
//! Body number `i` of a run depends only on the scenario, the seed and `i`
//! (plus `playerTime.ts`, which is the send time), so `mcload sample`
//! prints exactly what `mcload run` sends, whichever worker sends it. Bodies
//! are written straight into a caller's reused buffer: no allocation and no
//! JSON tree per body.

mod data;
mod recipe;
mod rng;
mod values;

use std::sync::Arc;

use rand::{Rng, RngCore, SeedableRng};

use crate::scenario::BodySettings;
use crate::spec::{BodyKind, Mutation};
use recipe::{ContentPick, ParamValue, Recipe};
use values::{Number, write_int, write_str};

pub use rng::Rng64;

/// Writes bodies for one run. Cheap to clone: workers share the compiled recipe.
#[derive(Clone, Debug)]
pub struct BodyGenerator {
    recipe: Arc<Recipe>,
    seed: u64,
    invalid: Arc<InvalidMix>,
}

/// Which bodies are made invalid, and how.
#[derive(Debug)]
struct InvalidMix {
    share: f64,
    /// Mutations with their cumulative weights, for a weighted pick.
    cumulative: Vec<(Mutation, f64)>,
}

impl InvalidMix {
    fn new(share: f64, weights: &[(Mutation, f64)]) -> InvalidMix {
        let weights: Vec<(Mutation, f64)> = if weights.is_empty() {
            Mutation::all().map(|m| (m, 1.0)).collect()
        } else {
            weights.iter().copied().filter(|(_, w)| *w > 0.0).collect()
        };
        let totals = values::cumulative(weights.iter().map(|&(_, w)| w));
        let cumulative = weights
            .iter()
            .zip(totals)
            .map(|(&(m, _), total)| (m, total))
            .collect();
        InvalidMix { share, cumulative }
    }
}

/// Mixed into the seed for the valid-or-invalid draw, so that it is a
/// stream of its own and a valid body stays the same at any invalid share.
const KIND_STREAM: u64 = 0x6D75_7461_7469_6F6E;

/// The random stream of body `index` under `seed`.
fn body_rng(seed: u64, index: u64) -> Rng64 {
    // SplitMix64's finalizer spreads neighbouring indices over the whole
    // seed space before the generator's own seeding mixes them again.
    let mut z = seed ^ index.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    Rng64::seed_from_u64(z ^ (z >> 31))
}

impl BodyGenerator {
    pub fn new(body: &BodySettings, seed: u64) -> BodyGenerator {
        BodyGenerator {
            recipe: Arc::new(Recipe::compile(body)),
            seed,
            invalid: Arc::new(InvalidMix::new(body.invalid_share, &body.mutations)),
        }
    }

    /// Whether body `index` is valid or which mutation breaks it.
    pub fn kind(&self, index: u64) -> BodyKind {
        let invalid = &*self.invalid;
        if invalid.share <= 0.0 || invalid.cumulative.is_empty() {
            return BodyKind::Valid;
        }
        let mut rng = body_rng(self.seed ^ KIND_STREAM, index);
        if invalid.share < 1.0 && !rng.random_bool(invalid.share) {
            return BodyKind::Valid;
        }
        let total = invalid.cumulative.last().map_or(0.0, |&(_, c)| c);
        let x = rng.random::<f64>() * total;
        let at = invalid.cumulative.partition_point(|&(_, c)| c <= x);
        let (mutation, _) = invalid.cumulative[at.min(invalid.cumulative.len() - 1)];
        BodyKind::Invalid(mutation)
    }

    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Appends body number `index` to `out`, with `ts_ms` as
    /// `playerTime.ts`, and says whether it is valid or which mutation
    /// broke it.
    pub fn write(&self, index: u64, ts_ms: u64, out: &mut Vec<u8>) -> BodyKind {
        let kind = self.kind(index);
        match kind {
            BodyKind::Valid => self.write_valid(index, ts_ms, out),
            BodyKind::Invalid(mutation) => {
                // Off the common path: the valid body, then broken.
                let mut body = Vec::with_capacity(1024);
                self.write_valid(index, ts_ms, &mut body);
                mutation.apply(&mut body);
                out.extend_from_slice(&body);
            }
        }
        kind
    }

    /// Appends the valid form of body `index` to `out`.
    pub fn write_valid(&self, index: u64, ts_ms: u64, out: &mut Vec<u8>) {
        let recipe = &*self.recipe;
        let mut rng = body_rng(self.seed, index);
        let rng = &mut rng;

        // Chosen first because other values follow from them: the stream
        // type and optional keys from the content type, the playhead from
        // the length.
        let content = recipe.content.pick(rng);
        let profile = content.profile();
        let length = match &recipe.length {
            Some(length_gen) => length_gen.pick(rng),
            None if profile.live => Number::Int(data::LIVE_LENGTH as i64),
            None => Number::Float(values::uniform_float(
                rng,
                profile.length.0,
                profile.length.1,
            )),
        };
        let tenant = &data::TENANTS[recipe.tenants.pick(rng)];

        out.extend_from_slice(b"{\"playerTime\":{\"playhead\":");
        Playhead::draw(rng, profile.live, length.as_f64()).write(out);
        out.extend_from_slice(b",\"ts\":");
        out.extend_from_slice(itoa::Buffer::new().format(ts_ms).as_bytes());
        out.extend_from_slice(b"},\"eventType\":\"sessionStart\",\"params\":{");

        let mut first = true;
        for param in &recipe.params {
            if !param.chance(profile.audience).roll(rng) {
                continue;
            }
            if !first {
                out.push(b',');
            }
            first = false;
            param.key.write(out);
            match &param.value {
                ParamValue::Gen(value) => value.write(rng, index, out),
                ParamValue::ContentType => match &content {
                    ContentPick::Encoded(bytes, _) => out.extend_from_slice(bytes),
                    ContentPick::Pattern(p) => p.write(rng, index, out),
                },
                ParamValue::Length => length.write(out),
                ParamValue::StreamType => write_str(profile.stream_type(), out),
                ParamValue::TrackingServer => write_str(tenant.tracking_server, out),
                ParamValue::ReportSuite => write_str(tenant.report_suite, out),
                ParamValue::OrgId => write_str(tenant.org_id, out),
                ParamValue::MediaId => {
                    out.push(b'"');
                    out.extend_from_slice(profile.id_prefix.as_bytes());
                    values::write_chars(rng, b"0123456789", 8, out);
                    out.push(b'"');
                }
            }
        }
        out.push(b'}');

        self.write_metadata(rng, index, out);
        self.write_qoe(rng, index, out);
        out.push(b'}');
    }

    fn write_metadata(&self, rng: &mut Rng64, index: u64, out: &mut Vec<u8>) {
        let metadata = &self.recipe.metadata;
        let mark = out.len();
        out.extend_from_slice(b",\"customMetadata\":{");
        let opened = out.len();

        let (lo, hi) = metadata.generated;
        let count = if lo == hi {
            lo as usize
        } else {
            rng.random_range(lo..=hi) as usize
        };
        if count > 0 {
            // A partial Fisher-Yates shuffle picks `count` distinct pool keys.
            let mut order = [0u8; 16];
            let n = metadata.pool.len().min(order.len());
            for (i, slot) in order.iter_mut().enumerate().take(n) {
                *slot = i as u8;
            }
            for i in 0..count.min(n) {
                let j = rng.random_range(i as u32..n as u32) as usize;
                order.swap(i, j);
                let (key, value) = &metadata.pool[order[i] as usize];
                if out.len() > opened {
                    out.push(b',');
                }
                key.write(out);
                value.write(rng, index, out);
            }
        }
        for (key, chance, value) in &metadata.fields {
            if chance.roll(rng) {
                if out.len() > opened {
                    out.push(b',');
                }
                key.write(out);
                value.write(rng, index, out);
            }
        }
        if out.len() == opened {
            out.truncate(mark);
        } else {
            out.push(b'}');
        }
    }

    fn write_qoe(&self, rng: &mut Rng64, index: u64, out: &mut Vec<u8>) {
        let qoe = &self.recipe.qoe;
        if !qoe.present.roll(rng) {
            return;
        }
        let mark = out.len();
        out.extend_from_slice(b",\"qoeData\":{");
        let opened = out.len();
        for (key, chance, value) in &qoe.fields {
            if chance.roll(rng) {
                if out.len() > opened {
                    out.push(b',');
                }
                key.write(out);
                value.write(rng, index, out);
            }
        }
        if out.len() == opened {
            out.truncate(mark);
        } else {
            out.push(b'}');
        }
    }
}

/// Share of playheads away from the start that a player reports with
/// their fraction of a second (an HTML5 player's `currentTime`, say), as
/// the API allows; the others are whole seconds.
const FRACTIONAL_PLAYHEAD_SHARE: u32 = u32::MAX / 2;

/// The playhead of a new session, always at or above 0 and below the
/// content's length: live content reports the time of day; recorded content
/// mostly starts at 0 and sometimes resumes part-way.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Playhead {
    Seconds(i64),
    /// Milliseconds, written as seconds with their fraction (`1234.5`).
    Millis(i64),
}

impl Playhead {
    fn draw(rng: &mut Rng64, live: bool, length: f64) -> Playhead {
        if live {
            // The second of the day, or the moment within it.
            return if rng.next_u32() < FRACTIONAL_PLAYHEAD_SHARE {
                Playhead::Millis(rng.random_range(0..86_400_000u32) as i64)
            } else {
                Playhead::Seconds(rng.random_range(0..86_400u32) as i64)
            };
        }
        let last_second = (length.ceil() as i64 - 1).max(0);
        if last_second == 0 || rng.random_ratio(4, 5) {
            return Playhead::Seconds(0);
        }
        if rng.next_u32() < FRACTIONAL_PLAYHEAD_SHARE {
            // The last whole millisecond below the length.
            let last_milli = ((length * 1000.0).ceil() as i64 - 1).max(0);
            Playhead::Millis(values::int_in(rng, 0, last_milli))
        } else {
            Playhead::Seconds(values::int_in(rng, 0, last_second))
        }
    }

    /// Writes the playhead as a JSON number, with no trailing zeros in the
    /// fraction (`12.5`, `12.05`, `12`), from integers so no float
    /// rounding can push it to the length.
    #[inline]
    fn write(self, out: &mut Vec<u8>) {
        match self {
            Playhead::Seconds(s) => write_int(s, out),
            Playhead::Millis(ms) => {
                write_int(ms / 1000, out);
                let f = (ms % 1000) as u16;
                if f != 0 {
                    let text = [
                        b'.',
                        b'0' + (f / 100) as u8,
                        b'0' + (f / 10 % 10) as u8,
                        b'0' + (f % 10) as u8,
                    ];
                    let len = if f.is_multiple_of(100) {
                        2
                    } else if f.is_multiple_of(10) {
                        3
                    } else {
                        4
                    };
                    out.extend_from_slice(&text[..len]);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
