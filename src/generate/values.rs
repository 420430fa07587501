//! Value generators: each writes one JSON value straight into the body
//! buffer. Everything that can be encoded ahead of time is (fixed values,
//! one_of choices, pattern literals), so a body is mostly memcpy and a few
//! random draws.

use rand::{Rng, RngCore};

use super::Rng64;
use super::data;
use crate::scenario::{Literal, PatternPart, ValueSetting};

/// A probability, kept as a threshold on a 64-bit draw.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Chance {
    Never,
    Always,
    /// Present when a uniform u32 draw is below this (a resolution of
    /// 2^-32, and half a 64-bit draw per roll).
    Below(u32),
}

impl Chance {
    pub fn new(p: f64) -> Chance {
        if p <= 0.0 {
            Chance::Never
        } else if p >= 1.0 {
            Chance::Always
        } else {
            // A share too small for the resolution keeps the smallest
            // chance rather than becoming never.
            let threshold = (p * 4_294_967_296.0).round();
            Chance::Below(threshold.clamp(1.0, u32::MAX as f64) as u32)
        }
    }

    /// Draws only when the answer is not certain, so fixed settings cost no
    /// randomness.
    #[inline]
    pub fn roll(self, rng: &mut Rng64) -> bool {
        match self {
            Chance::Never => false,
            Chance::Always => true,
            Chance::Below(t) => rng.next_u32() < t,
        }
    }
}

/// Picks an index by relative weights.
#[derive(Clone, Debug)]
pub struct Weighted {
    /// Running totals of the weights; the last one is the sum.
    cumulative: Vec<f64>,
}

impl Weighted {
    pub fn new(weights: impl IntoIterator<Item = f64>) -> Weighted {
        Weighted {
            cumulative: cumulative(weights),
        }
    }

    pub fn equal(n: usize) -> Weighted {
        Weighted::new(std::iter::repeat_n(1.0, n))
    }

    #[inline]
    pub fn pick(&self, rng: &mut Rng64) -> usize {
        let n = self.cumulative.len();
        if n == 1 {
            return 0;
        }
        let x = rng.random::<f64>() * self.cumulative[n - 1];
        // Weights are few (a dozen at most in practice): a scan beats a search.
        self.cumulative.iter().position(|&c| x < c).unwrap_or(n - 1)
    }
}

/// Running totals of `weights`, scaled so the last is 1: weights near
/// `f64::MAX` (which validation lets through, being finite) would
/// otherwise sum to infinity. Each is divided by the sum of the weights
/// each divided by the largest, which is finite (at most their count).
pub(crate) fn cumulative(weights: impl IntoIterator<Item = f64>) -> Vec<f64> {
    let weights: Vec<f64> = weights.into_iter().collect();
    let max = weights.iter().copied().fold(0.0, f64::max);
    if max <= 0.0 || !max.is_finite() {
        return weights;
    }
    let sum: f64 = weights.iter().map(|w| w / max).sum();
    let mut total = 0.0;
    weights
        .iter()
        .map(|w| {
            total += w / max / sum;
            total
        })
        .collect()
}

/// Pre-encoded bytes (a key, a string value) kept in a padded array when
/// short, so that writing them is one fixed-size copy, which the compiler
/// inlines, and a truncate, rather than a call to `memcpy` for a few bytes.
/// A body is mostly such pieces.
#[derive(Clone, Debug)]
pub enum Snippet {
    Short { bytes: [u8; SNIPPET], len: u8 },
    Long(Box<[u8]>),
}

const SNIPPET: usize = 48;

impl Snippet {
    pub fn new(bytes: &[u8]) -> Snippet {
        if bytes.len() <= SNIPPET {
            let mut padded = [0u8; SNIPPET];
            padded[..bytes.len()].copy_from_slice(bytes);
            Snippet::Short {
                bytes: padded,
                len: bytes.len() as u8,
            }
        } else {
            Snippet::Long(bytes.into())
        }
    }

    /// A string as a JSON string: quoted, for text that needs no escaping.
    pub fn quoted(text: &str) -> Snippet {
        let mut bytes = Vec::with_capacity(text.len() + 2);
        write_str(text, &mut bytes);
        Snippet::new(&bytes)
    }

    #[inline]
    pub fn write(&self, out: &mut Vec<u8>) {
        match self {
            Snippet::Short { bytes, len } => {
                let end = out.len() + *len as usize;
                out.extend_from_slice(bytes);
                out.truncate(end);
            }
            Snippet::Long(bytes) => out.extend_from_slice(bytes),
        }
    }
}

/// A number chosen before it is written, because other values depend on it
/// (the playhead stays below `media.length`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Number {
    Int(i64),
    Float(f64),
}

impl Number {
    pub fn as_f64(self) -> f64 {
        match self {
            Number::Int(n) => n as f64,
            Number::Float(x) => x,
        }
    }

    #[inline]
    pub fn write(self, out: &mut Vec<u8>) {
        match self {
            Number::Int(n) => write_int(n, out),
            Number::Float(x) => write_float(x, out),
        }
    }
}

#[inline]
pub fn write_int(n: i64, out: &mut Vec<u8>) {
    out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
}

/// Writes a finite float; whole numbers keep a ".0" so the type reads as a float.
#[inline]
pub fn write_float(x: f64, out: &mut Vec<u8>) {
    out.extend_from_slice(ryu::Buffer::new().format_finite(x).as_bytes());
}

/// A uniform whole number in `[lo, hi]`, from half a draw when the range
/// spans at most 2^32 values (every range the defaults use).
#[inline]
pub fn int_in(rng: &mut Rng64, lo: i64, hi: i64) -> i64 {
    match hi.checked_sub(lo) {
        Some(span) if (0..=u32::MAX as i64).contains(&span) => {
            lo + rng.random_range(0..=span as u32) as i64
        }
        _ => rng.random_range(lo..=hi),
    }
}

/// Rounds to milliseconds, as players report lengths and positions.
#[inline]
pub fn round_ms(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// JSON encoding of a literal from the scenario.
pub fn encode_literal(literal: &Literal) -> Vec<u8> {
    let value = match literal {
        Literal::String(s) => serde_json::Value::from(s.as_str()),
        Literal::Integer(n) => serde_json::Value::from(*n),
        Literal::Float(x) => serde_json::Value::from(*x),
        Literal::Bool(b) => serde_json::Value::from(*b),
    };
    serde_json::to_vec(&value).expect("a JSON value always serializes")
}

/// The inside of a JSON string for `text`: escaped, without the quotes.
pub fn escape_contents(text: &str) -> Vec<u8> {
    let quoted = serde_json::to_vec(text).expect("a string always serializes");
    quoted[1..quoted.len() - 1].to_vec()
}

/// A pattern ready to write: literal parts already escaped.
#[derive(Clone, Debug)]
pub struct CompiledPattern {
    parts: Vec<CompiledPart>,
}

#[derive(Clone, Debug)]
enum CompiledPart {
    Literal(Vec<u8>),
    Chars { alphabet: &'static [u8], len: usize },
    Uuid,
    Index,
}

const HEX_LOWER: &[u8] = b"0123456789abcdef";
const HEX_UPPER: &[u8] = b"0123456789ABCDEF";
const DIGITS: &[u8] = b"0123456789";
const ALPHA: &[u8] = b"abcdefghijklmnopqrstuvwxyz";
const ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";

impl CompiledPattern {
    pub fn new(parts: &[PatternPart]) -> CompiledPattern {
        let parts = parts
            .iter()
            .map(|p| match p {
                PatternPart::Literal(text) => CompiledPart::Literal(escape_contents(text)),
                PatternPart::Hex { len, upper } => CompiledPart::Chars {
                    alphabet: if *upper { HEX_UPPER } else { HEX_LOWER },
                    len: *len,
                },
                PatternPart::Digits(len) => CompiledPart::Chars {
                    alphabet: DIGITS,
                    len: *len,
                },
                PatternPart::Alpha(len) => CompiledPart::Chars {
                    alphabet: ALPHA,
                    len: *len,
                },
                PatternPart::Alnum(len) => CompiledPart::Chars {
                    alphabet: ALNUM,
                    len: *len,
                },
                PatternPart::Uuid => CompiledPart::Uuid,
                PatternPart::Index => CompiledPart::Index,
            })
            .collect();
        CompiledPattern { parts }
    }

    /// Writes the pattern's string, with quotes.
    pub fn write(&self, rng: &mut Rng64, index: u64, out: &mut Vec<u8>) {
        out.push(b'"');
        for part in &self.parts {
            match part {
                CompiledPart::Literal(bytes) => out.extend_from_slice(bytes),
                CompiledPart::Chars { alphabet, len } => write_chars(rng, alphabet, *len, out),
                CompiledPart::Uuid => write_uuid(rng, out),
                CompiledPart::Index => {
                    out.extend_from_slice(itoa::Buffer::new().format(index).as_bytes())
                }
            }
        }
        out.push(b'"');
    }
}

/// `len` random characters of `alphabet`; one 64-bit draw serves several
/// characters (16 for hex).
#[inline]
pub fn write_chars(rng: &mut Rng64, alphabet: &[u8], len: usize, out: &mut Vec<u8>) {
    let n = alphabet.len() as u64;
    // A power-of-two alphabet (hex) takes exactly its bits per character;
    // any other takes an 8-bit slice scaled onto it: each character gets
    // 256/n slices rounded up or down, a bias that is fine for ids.
    let (width, scale) = if n.is_power_of_two() {
        (n.trailing_zeros(), false)
    } else {
        (8, true)
    };
    let mask = (1u64 << width) - 1;
    let mut bits = 0u64;
    let mut left = 0u32;
    out.reserve(len);
    for _ in 0..len {
        if left < width {
            bits = rng.next_u64();
            left = 64;
        }
        let slice = bits & mask;
        bits >>= width;
        left -= width;
        let at = if scale { (slice * n) >> 8 } else { slice };
        out.push(alphabet[at as usize]);
    }
}

/// A random version-4 UUID in lowercase.
pub fn write_uuid(rng: &mut Rng64, out: &mut Vec<u8>) {
    let hi = rng.next_u64();
    let lo = rng.next_u64();
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&hi.to_le_bytes());
    bytes[8..].copy_from_slice(&lo.to_le_bytes());
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let mut text = [b'-'; 36];
    let mut at = 0;
    for (i, b) in bytes.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            at += 1;
        }
        text[at] = HEX_LOWER[(b >> 4) as usize];
        text[at + 1] = HEX_LOWER[(b & 0xf) as usize];
        at += 2;
    }
    out.extend_from_slice(&text);
}

#[inline]
pub fn write_str(s: &str, out: &mut Vec<u8>) {
    out.push(b'"');
    out.extend_from_slice(s.as_bytes());
    out.push(b'"');
}

#[inline]
pub fn pick<'a, T>(rng: &mut Rng64, items: &'a [T]) -> &'a T {
    // Lists are short: a 32-bit draw picks from them.
    &items[rng.random_range(0..items.len() as u32) as usize]
}

/// How one value is produced.
#[derive(Clone, Debug)]
pub enum ValueGen {
    /// A pre-encoded JSON value.
    Json(Snippet),
    /// Pre-encoded choices with weights.
    OneOf(Vec<Snippet>, Weighted),
    UniformInt(i64, i64),
    UniformFloat(f64, f64),
    Pattern(CompiledPattern),
    /// One of a list of plain strings, quoted ahead of time.
    Pick(Vec<Snippet>),
    /// One of a static list of integers.
    PickInt(&'static [i64]),
    /// A boolean, true with this chance.
    Bool(Chance),
    /// A whole number in a range, as a string ("season": "3").
    IntString(i64, i64),
    /// A title made of two words and a suffix.
    Title,
    /// A date `YYYY-MM-DD` between 1990 and 2026.
    Date,
    /// `visitor.customerIDs` with one or two entries.
    CustomerIds,
}

impl ValueGen {
    /// One of `items`, plain strings that need no escaping.
    pub fn pick_of(items: &[&str]) -> ValueGen {
        ValueGen::Pick(items.iter().map(|item| Snippet::quoted(item)).collect())
    }

    /// The generator a scenario's value setting asks for.
    pub fn from_setting(spec: &ValueSetting) -> ValueGen {
        match spec {
            ValueSetting::Fixed(literal) => ValueGen::Json(Snippet::new(&encode_literal(literal))),
            ValueSetting::OneOf { choices, weights } => ValueGen::OneOf(
                choices
                    .iter()
                    .map(|choice| Snippet::new(&encode_literal(choice)))
                    .collect(),
                match weights {
                    Some(w) => Weighted::new(w.iter().copied()),
                    None => Weighted::equal(choices.len()),
                },
            ),
            ValueSetting::UniformInt(lo, hi) => ValueGen::UniformInt(*lo, *hi),
            ValueSetting::UniformFloat(lo, hi) => ValueGen::UniformFloat(*lo, *hi),
            ValueSetting::Pattern(p) => ValueGen::Pattern(CompiledPattern::new(&p.parts)),
        }
    }

    pub fn write(&self, rng: &mut Rng64, index: u64, out: &mut Vec<u8>) {
        match self {
            ValueGen::Json(value) => value.write(out),
            ValueGen::OneOf(choices, weights) => choices[weights.pick(rng)].write(out),
            ValueGen::UniformInt(lo, hi) => write_int(int_in(rng, *lo, *hi), out),
            ValueGen::UniformFloat(lo, hi) => write_float(uniform_float(rng, *lo, *hi), out),
            ValueGen::Pattern(p) => p.write(rng, index, out),
            ValueGen::Pick(items) => pick(rng, items).write(out),
            ValueGen::PickInt(items) => write_int(*pick(rng, items), out),
            ValueGen::Bool(chance) => {
                out.extend_from_slice(if chance.roll(rng) { b"true" } else { b"false" })
            }
            ValueGen::IntString(lo, hi) => {
                out.push(b'"');
                write_int(int_in(rng, *lo, *hi), out);
                out.push(b'"');
            }
            ValueGen::Title => write_title(rng, out),
            ValueGen::Date => write_date(rng, out),
            ValueGen::CustomerIds => write_customer_ids(rng, out),
        }
    }
}

/// A uniform float in `[lo, hi]`, rounded to milliseconds and kept inside
/// the range (rounding must not leave it, e.g. below a positive minimum).
#[inline]
pub fn uniform_float(rng: &mut Rng64, lo: f64, hi: f64) -> f64 {
    if lo >= hi {
        return lo;
    }
    round_ms(rng.random_range(lo..=hi)).clamp(lo, hi)
}

fn write_title(rng: &mut Rng64, out: &mut Vec<u8>) {
    out.push(b'"');
    out.extend_from_slice(pick(rng, data::TITLE_WORDS_A).as_bytes());
    out.push(b' ');
    out.extend_from_slice(pick(rng, data::TITLE_WORDS_B).as_bytes());
    out.extend_from_slice(pick(rng, data::TITLE_SUFFIXES).as_bytes());
    out.push(b'"');
}

fn write_date(rng: &mut Rng64, out: &mut Vec<u8>) {
    let year = rng.random_range(1990..=2026u32);
    let month = rng.random_range(1..=12u32);
    let day = rng.random_range(1..=28u32);
    out.push(b'"');
    write_int(year as i64, out);
    for part in [month, day] {
        out.push(b'-');
        if part < 10 {
            out.push(b'0');
        }
        write_int(part as i64, out);
    }
    out.push(b'"');
}

fn write_customer_ids(rng: &mut Rng64, out: &mut Vec<u8>) {
    let count = rng.random_range(1..=2u32) as usize;
    let first = rng.random_range(0..data::CUSTOMER_ID_NAMES.len() as u32) as usize;
    out.push(b'{');
    for i in 0..count {
        if i > 0 {
            out.push(b',');
        }
        let name = data::CUSTOMER_ID_NAMES[(first + i) % data::CUSTOMER_ID_NAMES.len()];
        write_str(name, out);
        out.extend_from_slice(b":{\"id\":\"");
        write_chars(rng, DIGITS, 9, out);
        out.extend_from_slice(b"\",\"authState\":");
        write_int(rng.random_range(0..=2u32) as i64, out);
        out.push(b'}');
    }
    out.push(b'}');
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn rng() -> Rng64 {
        Rng64::seed_from_u64(1)
    }

    #[test]
    fn chance_extremes_never_draw() {
        let mut a = rng();
        let mut b = rng();
        assert!(Chance::new(1.0).roll(&mut a));
        assert!(!Chance::new(0.0).roll(&mut a));
        assert_eq!(a.next_u64(), b.next_u64());
    }

    #[test]
    fn chance_follows_its_probability() {
        let mut r = rng();
        let c = Chance::new(0.3);
        let hits = (0..100_000).filter(|_| c.roll(&mut r)).count();
        assert!((28_500..31_500).contains(&hits), "{hits}");
    }

    #[test]
    fn a_tiny_share_keeps_the_smallest_chance_instead_of_never() {
        assert_eq!(Chance::new(1e-12), Chance::Below(1));
        assert_eq!(Chance::new(0.5), Chance::Below(1 << 31));
        assert_eq!(Chance::new(1.0 - 1e-12), Chance::Below(u32::MAX));
    }

    #[test]
    fn snippets_write_their_bytes_whatever_their_length() {
        for len in [0, 1, SNIPPET - 1, SNIPPET, SNIPPET + 1, 300] {
            let text: Vec<u8> = (0..len).map(|i| b'a' + (i % 26) as u8).collect();
            let mut out = b"{".to_vec();
            Snippet::new(&text).write(&mut out);
            out.push(b'}');
            assert_eq!(out.len(), len + 2, "length {len}");
            assert_eq!(&out[1..=len], &text[..]);
            assert_eq!(out.last(), Some(&b'}'));
        }
    }

    /// Two weights of 1e308 sum to infinity; unscaled, every draw was
    /// infinite and picked the last choice.
    #[test]
    fn huge_weights_are_picked_in_proportion_not_overflowed() {
        let mut r = rng();
        let w = Weighted::new([1e308, 1e308]);
        let mut counts = [0; 2];
        for _ in 0..20_000 {
            counts[w.pick(&mut r)] += 1;
        }
        let share = counts[0] as f64 / 20_000.0;
        assert!((0.47..0.53).contains(&share), "{counts:?}");
        assert_eq!(cumulative([f64::MAX, f64::MAX, 0.0]), [0.5, 1.0, 1.0]);
        assert_eq!(cumulative([2.0, 6.0]), [0.25, 1.0]);
    }

    #[test]
    fn weighted_pick_follows_the_weights() {
        let mut r = rng();
        let w = Weighted::new([4.0, 1.0, 0.0]);
        let mut counts = [0; 3];
        for _ in 0..50_000 {
            counts[w.pick(&mut r)] += 1;
        }
        assert_eq!(counts[2], 0);
        let share = counts[0] as f64 / 50_000.0;
        assert!((0.78..0.82).contains(&share), "{counts:?}");
    }

    #[test]
    fn patterns_write_escaped_literals_and_random_parts() {
        let p = crate::scenario::Pattern::parse("a\"b-{hex:6}-{index}").unwrap();
        let mut out = Vec::new();
        CompiledPattern::new(&p.parts).write(&mut rng(), 42, &mut out);
        let text = String::from_utf8(out).unwrap();
        let value: String = serde_json::from_str(&text).unwrap();
        assert!(value.starts_with("a\"b-"), "{value}");
        assert!(value.ends_with("-42"));
        let hex = &value[4..10];
        assert!(hex.bytes().all(|b| HEX_LOWER.contains(&b)), "{hex}");
    }

    #[test]
    fn uuids_are_version_4() {
        let mut out = Vec::new();
        write_uuid(&mut rng(), &mut out);
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text.len(), 36);
        assert_eq!(&text[14..15], "4");
        assert!("89ab".contains(&text[19..20]), "{text}");
    }

    #[test]
    fn uniform_floats_stay_in_range_after_rounding() {
        let mut r = rng();
        for _ in 0..10_000 {
            let x = uniform_float(&mut r, 0.0001, 0.0004);
            assert!((0.0001..=0.0004).contains(&x), "{x}");
        }
    }

    #[test]
    fn floats_are_written_as_json_numbers() {
        for x in [60.0, 60.39333333333333, 1e-7, 1e21] {
            let mut out = Vec::new();
            write_float(x, &mut out);
            let back: f64 = serde_json::from_slice(&out).unwrap();
            assert_eq!(back, x);
        }
    }
}
