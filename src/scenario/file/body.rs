//! `[body]`: the seed, the invalid share and its mutations, and the
//! settings of params, custom metadata and QoE data, each checked against
//! the API's catalogue in `spec`.

use super::reader::{Reader, Table, Value};
use super::values::{Kind, read_value_setting};
use super::{int_pair, section};
use crate::scenario::error::nearest;
use crate::scenario::raw::RawBody;
use crate::scenario::{MetadataField, ParamSetting, QoeField};
use crate::spec::{self, Constraint, MUTATIONS, Mutation, ValueType};

pub(super) fn read(r: &mut Reader<'_>, t: &mut Table<'_, '_>, raw: &mut RawBody) {
    if let Some(v) = t.get("seed") {
        raw.seed = r.field(v, &t.key_path("seed"), |r, v, key| {
            let n = r.integer(v, key)?;
            u64::try_from(n)
                .map_err(|_| {
                    r.error(
                        v.span(),
                        key,
                        format!("{n} is not a seed: use an integer from 0"),
                        None,
                    )
                })
                .ok()
        });
    }
    if let Some(v) = t.get("invalid_share") {
        raw.invalid_share = r.field(v, &t.key_path("invalid_share"), Reader::number);
    }
    if let Some(v) = t.get("mutations") {
        let path = t.key_path("mutations");
        if let Some(table) = r.table(v, &path) {
            raw.mutations = read_mutations(r, &table, v);
        }
    }
    if let Some(v) = t.get("params") {
        let path = t.key_path("params");
        if let Some(params) = r.table(v, &path) {
            raw.params = read_params(r, &params);
        }
    }
    section(r, t, "custom_metadata", |r, t| {
        read_custom_metadata(r, t, raw)
    });
    section(r, t, "qoe_data", |r, t| read_qoe(r, t, raw));
}

/// `[body.mutations]`: `"name" = weight` for the mutations to use.
fn read_mutations(
    r: &mut Reader<'_>,
    table: &Table<'_, '_>,
    whole: &Value<'_>,
) -> Vec<(Mutation, f64)> {
    let mut out = Vec::new();
    for (name, value) in table.entries() {
        let key = format!("{}.\"{}\"", table.path, name.get_ref());
        let Some(mutation) = Mutation::by_name(name.get_ref()) else {
            let hint = match nearest(name.get_ref(), MUTATIONS.iter().map(|m| m.name)) {
                Some(k) => format!("did you mean \"{k}\"?"),
                None => "the README lists every mutation".to_string(),
            };
            r.error(name.span(), &key, "not a mutation mcload knows", Some(hint));
            continue;
        };
        if let Some(weight) = r.number(value, &key) {
            if weight < 0.0 {
                r.error(value.span(), &key, "a weight must be 0 or more", None);
            } else {
                out.push((mutation, weight));
            }
        }
    }
    if !out.is_empty() && out.iter().all(|(_, w)| *w == 0.0) {
        r.error(
            whole.span(),
            &table.path,
            "every weight is 0: no mutation could be chosen",
            None,
        );
    }
    out
}

fn read_params(r: &mut Reader<'_>, params: &Table<'_, '_>) -> Vec<ParamSetting> {
    let mut out = Vec::new();
    for (name, value) in params.entries() {
        let key = format!("{}.\"{}\"", params.path, name.get_ref());
        let Some(param) = spec::param(name.get_ref()) else {
            let hint = match nearest(name.get_ref(), spec::PARAMS.iter().map(|p| p.key)) {
                Some(k) => format!("did you mean \"{k}\"?"),
                None => "see scenarios/reference.toml for the list of params".to_string(),
            };
            r.error(name.span(), &key, "not a sessionStart param", Some(hint));
            continue;
        };
        let kind = Kind {
            ty: param.ty,
            constraint: param.constraint,
            required: param.required,
            what: "param",
        };
        if let Some((present, value)) = read_value_setting(r, value, &key, &kind) {
            out.push(ParamSetting {
                param,
                present,
                value,
            });
        }
    }
    out
}

fn read_custom_metadata(r: &mut Reader<'_>, t: &mut Table<'_, '_>, raw: &mut RawBody) {
    if let Some(v) = t.get("generated") {
        raw.generated_metadata = r.field(v, &t.key_path("generated"), int_pair);
    }
    if let Some(v) = t.get("fields") {
        let path = t.key_path("fields");
        if let Some(fields) = r.table(v, &path) {
            for (name, value) in fields.entries() {
                let key = format!("{path}.\"{}\"", name.get_ref());
                if let Err(problem) = spec::check_metadata_key(name.get_ref()) {
                    r.error(
                        name.span(),
                        &key,
                        format!("not a valid custom-metadata key: {problem}"),
                        None,
                    );
                    continue;
                }
                let kind = Kind {
                    ty: ValueType::String,
                    constraint: Constraint::None,
                    required: false,
                    what: "custom-metadata key",
                };
                if let Some((present, spec_value)) = read_value_setting(r, value, &key, &kind) {
                    match spec_value {
                        Some(value) => raw.metadata_fields.push(MetadataField {
                            key: name.get_ref().to_string(),
                            present,
                            value,
                        }),
                        None => r.error(
                            value.span(),
                            &key,
                            "a custom-metadata key needs its value",
                            Some(
                                "give a string, { one_of = [...] } or { pattern = \"...\" }".into(),
                            ),
                        ),
                    }
                }
            }
        }
    }
}

fn read_qoe(r: &mut Reader<'_>, t: &mut Table<'_, '_>, raw: &mut RawBody) {
    if let Some(v) = t.get("present") {
        raw.qoe_present = r.field(v, &t.key_path("present"), Reader::number);
    }
    if let Some(v) = t.get("fields") {
        let path = t.key_path("fields");
        if let Some(fields) = r.table(v, &path) {
            for (name, value) in fields.entries() {
                let key = format!("{path}.\"{}\"", name.get_ref());
                let Some(qoe_key) = spec::qoe_key(name.get_ref()) else {
                    let hint = nearest(name.get_ref(), spec::QOE_KEYS.iter().map(|q| q.key))
                        .map(|k| format!("did you mean \"{k}\"?"));
                    r.error(name.span(), &key, "not a QoE key", hint);
                    continue;
                };
                let kind = Kind {
                    ty: qoe_key.ty,
                    constraint: Constraint::None,
                    required: false,
                    what: "QoE key",
                };
                if let Some((present, value)) = read_value_setting(r, value, &key, &kind) {
                    raw.qoe_fields.push(QoeField {
                        key: qoe_key,
                        present,
                        value,
                    });
                }
            }
        }
    }
}
