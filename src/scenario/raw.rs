//! The raw settings: what one layer (the file, or the flags) says, every
//! field optional and each value carrying the place it was given. Nothing
//! here is checked against any other field or against a limit; that is the
//! validation step's job ([`super::validate`]).

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Duration;

use super::error::Place;
use super::{MetadataField, ParamSetting, QoeField, TargetUrl};
use crate::engine::Pacing;
use crate::spec::{self, Mutation};

/// A value and the place it was given.
#[derive(Clone, Debug, PartialEq)]
pub struct Located<T> {
    pub value: T,
    pub place: Place,
}

impl<T> Located<T> {
    pub fn new(value: T, place: Place) -> Self {
        Located { value, place }
    }

    pub fn flag(value: T, flag: &'static str) -> Self {
        Located {
            value,
            place: Place::Flag(flag),
        }
    }
}

/// An optional, located setting.
pub type Field<T> = Option<Located<T>>;

/// One layer of settings.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RawSettings {
    pub name: Field<String>,
    pub description: Field<String>,
    pub target: RawTarget,
    pub load: RawLoad,
    pub http: RawHttp,
    pub body: RawBody,
    pub thresholds: RawThresholds,
    /// Dotted keys that were given but could not be read (a wrong type, a
    /// bad duration): the reader has reported them already, and the
    /// validation step counts them as present without judging them again,
    /// so a broken `rate` still chooses the open model.
    pub unreadable: BTreeSet<String>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct RawTarget {
    pub url: Field<TargetUrl>,
    pub path: Field<String>,
    /// Already joined to the scenario file's folder when relative.
    pub ca_cert: Field<PathBuf>,
    pub insecure: Field<bool>,
    pub rules: Field<spec::RuleSet>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct RawLoad {
    pub concurrency: Field<i64>,
    pub rate: Field<f64>,
    pub start_rate: Field<f64>,
    pub stages: Field<Vec<RawStage>>,
    pub connections: Field<i64>,
    pub max_in_flight: Field<i64>,
    pub duration: Field<Duration>,
    pub requests: Field<i64>,
    pub warmup: Field<Duration>,
    pub threads: Field<i64>,
    pub grace: Field<Duration>,
    pub pacing: Field<Pacing>,
    /// `--shard K/N` or `--shard auto` (the index read from the environment).
    pub shard: Field<RawShard>,
    /// `--shards N`, the count for `--shard auto`.
    pub shards: Field<i64>,
}

/// The `--shard` flag as given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RawShard {
    Fixed {
        index: u64,
        count: u64,
    },
    /// `auto`: the index is `JOB_COMPLETION_INDEX`'s value, `None` when unset.
    Auto {
        index: Option<String>,
    },
}

/// One stage of a ramp, each value located on its own.
#[derive(Clone, Debug, PartialEq)]
pub struct RawStage {
    pub duration: Located<Duration>,
    pub rate: Located<f64>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct RawHttp {
    pub timeout: Field<Duration>,
    /// In the order given.
    pub headers: Vec<RawHeader>,
    /// Where the header table was written, for the limit on their number.
    pub headers_table: Option<Place>,
}

/// An extra request header, its name and value each located.
#[derive(Clone, Debug, PartialEq)]
pub struct RawHeader {
    pub name: Located<String>,
    pub value: Located<String>,
}

/// The body settings. Params, custom metadata, QoE data and mutations are
/// read against the API's catalogue (`spec`) by the file reader, which
/// reports a value that does not fit its key where it stands; they have no
/// flags and no rule that involves another setting.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RawBody {
    pub seed: Field<u64>,
    pub invalid_share: Field<f64>,
    pub mutations: Vec<(Mutation, f64)>,
    pub params: Vec<ParamSetting>,
    /// `[min, max]` keys of the built-in custom-metadata pool.
    pub generated_metadata: Field<(i64, i64)>,
    pub metadata_fields: Vec<MetadataField>,
    pub qoe_present: Field<f64>,
    pub qoe_fields: Vec<QoeField>,
}

/// `[thresholds]` and `--threshold`: each threshold's two parts, the
/// metric (`latency.p99 over 10s`, the key in the file) and the check
/// (`< 250ms`, the value), each located; read with the one grammar of
/// [`crate::threshold`] by the validation step.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RawThresholds {
    /// In the order given: the file's, then the flags'.
    pub entries: Vec<RawThreshold>,
    /// `defaults = false` turns the default verdict off.
    pub defaults: Field<bool>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct RawThreshold {
    pub metric: Located<String>,
    pub check: Located<String>,
    /// The whole expression as given on the command line, to name it in
    /// a message (a flag has no line to point at).
    pub expression: Option<String>,
    /// The table form's `abort = true` and its grace `after`.
    pub abort: Field<bool>,
    pub after: Field<Duration>,
}
