//! Value settings of params, custom-metadata and QoE keys: a literal, or a
//! table of `present` with one of `value`, `one_of`, `uniform`, `pattern`,
//! each checked against the key's type and constraint in the catalogue.

use toml::de::DeValue;

use super::int_pair;
use super::reader::{Reader, Table, Value, type_name};
use crate::scenario::{Literal, Pattern, ValueSetting};
use crate::spec::{Constraint, ValueType};

/// What kind of value a key takes.
pub(super) struct Kind {
    pub ty: ValueType,
    pub constraint: Constraint,
    pub required: bool,
    pub what: &'static str,
}

/// Reads a value setting: a bare literal (fixed value), or a table with
/// `present` and at most one of `value`, `one_of` (+ `weights`), `uniform`,
/// `pattern`. Returns `(present, value)`.
pub(super) fn read_value_setting(
    r: &mut Reader<'_>,
    v: &Value<'_>,
    key: &str,
    kind: &Kind,
) -> Option<(Option<f64>, Option<ValueSetting>)> {
    let DeValue::Table(entries) = v.get_ref() else {
        let literal = literal(r, v, key, kind)?;
        return Some((None, Some(ValueSetting::Fixed(literal))));
    };
    let mut t = Table::new(key, entries);
    let mut ok = true;
    let present = match t.get("present") {
        Some(pv) => {
            let share = r.share(pv, &t.key_path("present"));
            ok &= share.is_some();
            if kind.required && share.is_some_and(|s| s < 1.0) {
                r.error(
                    pv.span(),
                    &t.key_path("present"),
                    "this param is required in every sessionStart, so it is always present",
                    Some("remove `present`; to send invalid bodies on purpose, use the invalid share".into()),
                );
                ok = false;
            }
            share
        }
        None => None,
    };
    let mut kinds: Vec<(&str, ValueSetting)> = Vec::new();
    if let Some(fixed) = t.get("value") {
        match literal(r, fixed, &t.key_path("value"), kind) {
            Some(l) => kinds.push(("value", ValueSetting::Fixed(l))),
            None => ok = false,
        }
    }
    let weights_value = t.get("weights");
    if let Some(choices_value) = t.get("one_of") {
        match one_of(r, choices_value, weights_value, &t, kind) {
            Some(spec) => kinds.push(("one_of", spec)),
            None => ok = false,
        }
    } else if let Some(w) = weights_value {
        r.error(
            w.span(),
            &t.key_path("weights"),
            "`weights` only goes with `one_of`",
            None,
        );
        ok = false;
    }
    if let Some(u) = t.get("uniform") {
        match uniform(r, u, &t.key_path("uniform"), kind) {
            Some(spec) => kinds.push(("uniform", spec)),
            None => ok = false,
        }
    }
    if let Some(p) = t.get("pattern") {
        match pattern(r, p, &t.key_path("pattern"), kind) {
            Some(spec) => kinds.push(("pattern", spec)),
            None => ok = false,
        }
    }
    t.finish(r);
    if kinds.len() > 1 {
        let names: Vec<_> = kinds.iter().map(|(n, _)| *n).collect();
        r.error(
            v.span(),
            key,
            format!(
                "give one way to choose the value, not {}",
                names.join(" and ")
            ),
            None,
        );
        return None;
    }
    if kind.ty == ValueType::CustomerIds && !kinds.is_empty() {
        r.error(
            v.span(),
            key,
            "visitor.customerIDs is generated; only `present` can be set",
            None,
        );
        return None;
    }
    ok.then(|| (present, kinds.pop().map(|(_, spec)| spec)))
}

/// A literal of the key's type that obeys the key's constraint.
fn literal(r: &mut Reader<'_>, v: &Value<'_>, key: &str, kind: &Kind) -> Option<Literal> {
    let lit = match (kind.ty, v.get_ref()) {
        (ValueType::String, DeValue::String(s)) => Literal::String(s.to_string()),
        (ValueType::Number, DeValue::Integer(_)) => Literal::Integer(r.integer(v, key)?),
        (ValueType::Number, DeValue::Float(_)) => Literal::Float(r.number(v, key)?),
        (ValueType::Integer, DeValue::Integer(_)) => Literal::Integer(r.integer(v, key)?),
        (ValueType::Boolean, DeValue::Boolean(b)) => Literal::Bool(*b),
        (ValueType::CustomerIds, _) => {
            r.error(
                v.span(),
                key,
                "visitor.customerIDs is generated; only `present` can be set",
                Some("write { present = 0.5 }".into()),
            );
            return None;
        }
        (ty, found) => {
            r.error(
                v.span(),
                key,
                format!(
                    "this {} takes {}, found {}",
                    kind.what,
                    ty.noun(),
                    type_name(found)
                ),
                None,
            );
            return None;
        }
    };
    let problem = match (&lit, kind.constraint) {
        (Literal::String(s), Constraint::NonEmpty) if s.is_empty() => {
            Some("must not be empty".to_string())
        }
        (Literal::String(s), Constraint::OneOf(allowed)) if !allowed.contains(&s.as_str()) => {
            Some(format!("must be one of {allowed:?}"))
        }
        (Literal::Integer(n), Constraint::Positive) if *n <= 0 => {
            Some("must be greater than 0".to_string())
        }
        (Literal::Float(n), Constraint::Positive) if *n <= 0.0 => {
            Some("must be greater than 0".to_string())
        }
        (Literal::Bool(true), Constraint::NotTrue) => Some(
            "media.downloaded: true makes /api/v1/sessions answer 400; only false is valid"
                .to_string(),
        ),
        _ => None,
    };
    match problem {
        Some(message) => {
            r.error(v.span(), key, message, None);
            None
        }
        None => Some(lit),
    }
}

fn one_of(
    r: &mut Reader<'_>,
    choices_value: &Value<'_>,
    weights_value: Option<&Value<'_>>,
    t: &Table<'_, '_>,
    kind: &Kind,
) -> Option<ValueSetting> {
    let key = t.key_path("one_of");
    let items = r.array(choices_value, &key)?;
    if items.is_empty() {
        r.error(
            choices_value.span(),
            &key,
            "one_of needs at least one choice",
            None,
        );
        return None;
    }
    let choice_count = items.len();
    let choices: Option<Vec<_>> = items
        .iter()
        .enumerate()
        .map(|(i, item)| literal(r, item, &format!("{key}[{i}]"), kind))
        .collect::<Vec<_>>()
        .into_iter()
        .collect();
    let weights = match weights_value {
        None => None,
        Some(w) => {
            let wkey = t.key_path("weights");
            let items = r.array(w, &wkey)?;
            if items.len() != choice_count {
                r.error(
                    w.span(),
                    &wkey,
                    format!(
                        "{} weights for {choice_count} choices: give one weight per choice",
                        items.len()
                    ),
                    None,
                );
                return None;
            }
            let weights: Option<Vec<f64>> = items
                .iter()
                .enumerate()
                .map(|(i, item)| r.number(item, &format!("{wkey}[{i}]")))
                .collect();
            let weights = weights?;
            if weights.iter().any(|&x| x < 0.0) || weights.iter().sum::<f64>() <= 0.0 {
                r.error(w.span(), &wkey, "weights must be >= 0 and not all 0", None);
                return None;
            }
            Some(weights)
        }
    };
    Some(ValueSetting::OneOf {
        choices: choices?,
        weights,
    })
}

fn uniform(r: &mut Reader<'_>, v: &Value<'_>, key: &str, kind: &Kind) -> Option<ValueSetting> {
    let spec = match kind.ty {
        ValueType::Integer => {
            let (lo, hi) = int_pair(r, v, key)?;
            if lo > hi {
                r.error(v.span(), key, format!("min {lo} is above max {hi}"), None);
                return None;
            }
            ValueSetting::UniformInt(lo, hi)
        }
        ValueType::Number => {
            let items = r.array(v, key)?;
            if items.len() != 2 {
                r.error(v.span(), key, "write a pair [min, max]", None);
                return None;
            }
            let (lo, hi) = (r.number(&items[0], key)?, r.number(&items[1], key)?);
            if lo > hi {
                r.error(v.span(), key, format!("min {lo} is above max {hi}"), None);
                return None;
            }
            if kind.constraint == Constraint::Positive && lo <= 0.0 {
                r.error(v.span(), key, "the range must stay above 0", None);
                return None;
            }
            ValueSetting::UniformFloat(lo, hi)
        }
        ty => {
            r.error(
                v.span(),
                key,
                format!(
                    "uniform needs a numeric {}, and this one takes {}",
                    kind.what,
                    ty.noun()
                ),
                Some("use one_of or pattern instead".into()),
            );
            return None;
        }
    };
    Some(spec)
}

fn pattern(r: &mut Reader<'_>, v: &Value<'_>, key: &str, kind: &Kind) -> Option<ValueSetting> {
    if kind.ty != ValueType::String {
        r.error(
            v.span(),
            key,
            format!(
                "pattern makes strings, and this {} takes {}",
                kind.what,
                kind.ty.noun()
            ),
            None,
        );
        return None;
    }
    if let Constraint::OneOf(allowed) = kind.constraint {
        r.error(
            v.span(),
            key,
            format!("this key accepts only {allowed:?}; use a fixed value or one_of"),
            None,
        );
        return None;
    }
    let text = r.string(v, key)?;
    match Pattern::parse(&text) {
        Ok(p) => Some(ValueSetting::Pattern(p)),
        Err(message) => {
            r.error(v.span(), key, message, None);
            None
        }
    }
}
