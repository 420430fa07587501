//! The scenario: what to run, from a TOML file and the command line.
//!
//! One pipeline turns both into a [`Scenario`] that cannot be invalid:
//!
//! 1. the **file layer** (module `file`) reads the TOML, one module per table,
//!    into [`RawSettings`]: every field optional, every value with the
//!    file, line and column where it stands. The reader reports wrong types,
//!    values a key cannot hold and unknown keys (with the nearest known one);
//! 2. the **flag layer** ([`FlagSettings::raw`]) turns `run`'s and `sample`'s
//!    flags, which clap parsed for syntax only, into the same raw struct,
//!    every value located at its `--flag`;
//! 3. [`merge`] lays the flags over the file (a stop rule is replaced as a
//!    whole, a model flag replaces the file's model, ...);
//! 4. one **validation step** ([`validate`]) holds every limit and every rule
//!    between settings, and returns all problems at once, each located at
//!    `file:line:col` or `--flag`, worded the same either way.
//!
//! [`Scenario::resolve`] runs the pipeline; `run`, `sample` and `validate`
//! all go through it. A new setting (thresholds, shards, outputs, ...) is
//! added here and nowhere else: a field in [`RawSettings`] (and the
//! [`Scenario`] type it ends in), its key in the file reader, its flag in
//! [`FlagSettings`], its rule in [`merge`] if it is more than a replacement,
//! and its checks in [`validate`]. `cli.rs` only declares the flag's syntax.
//!
//! This module knows nothing of HTTP or of how a run is carried out.

mod ca_file;
mod error;
mod file;
mod fingerprint;
mod flags;
pub mod headers;
pub mod merge;
mod pattern;
pub mod raw;
mod schema;
#[cfg(test)]
mod shard_tests;
mod target;
pub mod validate;

use std::path::{Path, PathBuf};
use std::time::Duration;

pub use crate::spec::MAX_HEADERS;
pub use error::{LoadError, Place, Position, ScenarioError};
pub use file::reader::{MAX_DURATION, parse_duration};
pub use flags::{
    FlagSettings, Ramp, SHARD_INDEX_VAR, ShardFlag, parse_header, parse_number, parse_shard,
    parse_stages,
};
pub use pattern::{MAX_PLACEHOLDER_LEN, Part as PatternPart, Pattern};
pub use raw::RawSettings;
pub use schema::scenario_schema;
pub use target::{Scheme, TargetUrl, UrlError, check_endpoint_path};
pub use validate::{
    DEFAULT_GENERATED_METADATA, MAX_CONCURRENCY, MAX_GENERATED_METADATA, MAX_IN_FLIGHT, MAX_RATE,
    MAX_THREADS, check_rate,
};

use crate::engine::Pacing;
use crate::spec;
use crate::spec::Mutation;

/// The endpoint path of the API.
pub const DEFAULT_PATH: &str = spec::ENDPOINT_PATH;
/// Workers in the closed model when the file does not say.
pub const DEFAULT_CONCURRENCY: u32 = 8;
/// Connections of the open model when the file does not say.
pub const DEFAULT_CONNECTIONS: u32 = 64;
/// Requests waiting or on the wire in the open model when the file does not say.
pub const DEFAULT_MAX_IN_FLIGHT: u64 = 10_000;
/// How long a run lasts when neither a duration nor a request count is given.
pub const DEFAULT_DURATION: Duration = Duration::from_secs(10);
/// How long one request may take before it counts as a timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// After the first Ctrl-C, how long requests on the wire may still take
/// before they are cancelled.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(5);
/// Share of bodies that carry `qoeData` when the file does not say.
pub const DEFAULT_QOE_PRESENT: f64 = 0.5;

/// A complete, validated description of a run.
#[derive(Clone, Debug, PartialEq)]
pub struct Scenario {
    /// Shown in reports; the file name without extension when not given.
    pub name: String,
    pub description: Option<String>,
    /// Where the scenario came from, as the user named it.
    pub origin: String,
    pub target: TargetSettings,
    pub load: LoadSettings,
    pub http: HttpSettings,
    pub body: BodySettings,
    /// What the run is judged by: the file's thresholds, then those given
    /// by flag, then the default `unexpected <= 1%` unless one of them is
    /// on `unexpected` or `[thresholds] defaults = false`.
    pub thresholds: Vec<crate::threshold::Threshold>,
}

/// Where requests go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TargetSettings {
    /// `None`: start the embedded reference server and run against it.
    pub url: Option<TargetUrl>,
    /// The endpoint path, appended to the URL's own path.
    pub path: String,
    /// A PEM file of extra CA certificates to trust for https targets.
    pub ca_cert: Option<PathBuf>,
    /// Skip certificate verification on purpose (`--insecure`,
    /// `target.insecure = true`).
    pub insecure: bool,
    /// The rules the target applies, which decide what its answers to
    /// invalid bodies should be (and which the embedded server enforces).
    pub rules: spec::RuleSet,
}

/// The load model and when the run stops.
#[derive(Clone, Debug, PartialEq)]
pub struct LoadSettings {
    pub model: Model,
    /// For the closed model and a constant rate; stages set their own length.
    pub duration: Option<Duration>,
    pub requests: Option<u64>,
    /// Sent and accounted for before the measured part, kept out of its figures.
    pub warmup: Option<Duration>,
    /// Generator threads; `None` means one per core.
    pub threads: Option<usize>,
    /// After the first Ctrl-C, how long requests on the wire may still
    /// take before they are counted as cancelled (see
    /// [`Scenario::grace`] for the bound by the timeout).
    pub grace: Duration,
    /// This process's part of a plan sent by several (`--shard K/N`).
    pub shard: Option<Shard>,
}

/// Shard `index` of `count`: it sends the plan's requests `i` with
/// `i % count == index`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
}

/// How requests are started.
#[derive(Clone, Debug, PartialEq)]
pub enum Model {
    /// `concurrency` workers, each sending its next request when the
    /// previous one has ended.
    Closed { concurrency: u32 },
    /// Requests start at scheduled instants, whatever the target does.
    Open(OpenModel),
}

/// The open model's arrival rate and its bounds.
#[derive(Clone, Debug, PartialEq)]
pub struct OpenModel {
    pub rate: Rate,
    /// Connections on the wire at most; a request that finds none free waits.
    pub connections: u32,
    /// Requests waiting or on the wire at most; beyond it a request is dropped.
    pub max_in_flight: u64,
    /// How the scheduler wakes for its starts (`--pacing`): always set by
    /// a scenario; `None` only in a report read back from before pacing
    /// was a choice, where it is unknown.
    pub pacing: Option<Pacing>,
}

/// Requests per second over time.
#[derive(Clone, Debug, PartialEq)]
pub enum Rate {
    Constant(f64),
    /// Start at `start`, then ramp linearly to each stage's rate over its duration.
    Stages {
        start: f64,
        stages: Vec<Stage>,
    },
}

/// One stage of a ramp.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Stage {
    pub duration: Duration,
    pub rate: f64,
}

impl Model {
    /// An open model whose rate starts at zero (a ramp from 0).
    pub fn starts_at_zero(&self) -> bool {
        matches!(self, Model::Open(OpenModel { rate: Rate::Stages { start, .. }, .. }) if *start == 0.0)
    }
}

impl Rate {
    /// The length of the stages, for a ramp.
    pub fn stages_duration(&self) -> Option<Duration> {
        match self {
            Rate::Constant(_) => None,
            Rate::Stages { stages, .. } => Some(stages.iter().map(|s| s.duration).sum()),
        }
    }
}

/// When a run stops.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StopRule {
    pub duration: Option<Duration>,
    pub requests: Option<u64>,
}

impl LoadSettings {
    /// The stop rule of the measured part: the duration (for stages, their
    /// length), the request count, or both (whichever comes first);
    /// [`DEFAULT_DURATION`] when nothing bounds the run.
    pub fn stop_rule(&self) -> StopRule {
        let duration = match &self.model {
            Model::Open(open) => open.rate.stages_duration().or(self.duration),
            Model::Closed { .. } => self.duration,
        };
        match (duration, self.requests) {
            (None, None) => StopRule {
                duration: Some(DEFAULT_DURATION),
                requests: None,
            },
            (duration, requests) => StopRule { duration, requests },
        }
    }
}

/// HTTP settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpSettings {
    pub timeout: Duration,
    /// Extra request headers, in file order.
    pub headers: Vec<(String, String)>,
}

/// What the bodies look like.
#[derive(Clone, Debug, PartialEq)]
pub struct BodySettings {
    /// `None`: the run picks a random seed and reports it.
    pub seed: Option<u64>,
    /// Per-param settings; params not listed keep the generator's defaults.
    pub params: Vec<ParamSetting>,
    pub custom_metadata: MetadataSettings,
    pub qoe: QoeSettings,
    /// Share of bodies made invalid on purpose, each by a named mutation.
    pub invalid_share: f64,
    /// Relative weights of the mutations used; empty means every mutation,
    /// equally.
    pub mutations: Vec<(Mutation, f64)>,
}

/// The settings of one param.
#[derive(Clone, Debug, PartialEq)]
pub struct ParamSetting {
    pub param: &'static spec::Param,
    /// Share of bodies that carry the key (optional params only).
    pub present: Option<f64>,
    /// How the value is chosen; `None` keeps the generator's realistic default.
    pub value: Option<ValueSetting>,
}

/// How a value is chosen.
#[derive(Clone, Debug, PartialEq)]
pub enum ValueSetting {
    Fixed(Literal),
    OneOf {
        choices: Vec<Literal>,
        /// Relative weights, one per choice; `None` means equal weights.
        weights: Option<Vec<f64>>,
    },
    UniformInt(i64, i64),
    UniformFloat(f64, f64),
    Pattern(Pattern),
}

/// A literal value from the file.
#[derive(Clone, Debug, PartialEq)]
pub enum Literal {
    String(String),
    Integer(i64),
    Float(f64),
    Bool(bool),
}

/// `customMetadata` settings.
#[derive(Clone, Debug, PartialEq)]
pub struct MetadataSettings {
    /// How many keys from the built-in realistic pool each body carries,
    /// drawn uniformly from this inclusive range.
    pub generated: (u32, u32),
    /// Keys the scenario defines itself.
    pub fields: Vec<MetadataField>,
}

/// A custom-metadata key defined by the scenario.
#[derive(Clone, Debug, PartialEq)]
pub struct MetadataField {
    pub key: String,
    pub present: Option<f64>,
    pub value: ValueSetting,
}

/// `qoeData` settings.
#[derive(Clone, Debug, PartialEq)]
pub struct QoeSettings {
    /// Share of bodies that carry `qoeData`; `None` keeps the default.
    pub present: Option<f64>,
    pub fields: Vec<QoeField>,
}

/// Settings of one `qoeData` key.
#[derive(Clone, Debug, PartialEq)]
pub struct QoeField {
    pub key: &'static spec::QoeKey,
    pub present: Option<f64>,
    pub value: Option<ValueSetting>,
}

impl Scenario {
    /// Reads a scenario file, lays the flags over it and validates the
    /// result: the one way a scenario is made.
    pub fn resolve(path: &Path, flags: &FlagSettings) -> Result<Scenario, LoadError> {
        let file = path.display().to_string();
        let bytes = read_capped(path).map_err(|e| match e {
            Capped::TooLarge => LoadError::TooLarge {
                file: file.clone(),
                limit: MAX_SCENARIO_BYTES,
            },
            Capped::Io(source) => LoadError::Read {
                file: file.clone(),
                source,
            },
        })?;
        Scenario::resolve_bytes(&bytes, &file, path.parent(), flags)
    }

    /// [`Scenario::resolve`] for the bytes of a scenario file: text that is
    /// not UTF-8 is an error at the place of the first byte that is not.
    pub fn resolve_bytes(
        bytes: &[u8],
        file: &str,
        base_dir: Option<&Path>,
        flags: &FlagSettings,
    ) -> Result<Scenario, LoadError> {
        match std::str::from_utf8(bytes) {
            Ok(source) => Scenario::resolve_text(source, file, base_dir, flags),
            Err(e) => Err(LoadError::Invalid {
                file: file.to_string(),
                problems: vec![error::not_utf8(bytes, e.valid_up_to(), file)],
            }),
        }
    }

    /// Reads and validates a scenario file, without flags.
    pub fn load(path: &Path) -> Result<Scenario, LoadError> {
        Scenario::resolve(path, &FlagSettings::default())
    }

    /// The grace after the first Ctrl-C as it applies: never longer than
    /// the timeout, by which every request on the wire has ended anyway.
    pub fn grace(&self) -> Duration {
        self.load.grace.min(self.http.timeout)
    }

    /// Validates scenario text, without flags. `file` names it in errors;
    /// relative paths in the file are taken from `base_dir`.
    pub fn parse(source: &str, file: &str, base_dir: Option<&Path>) -> Result<Scenario, LoadError> {
        Scenario::resolve_text(source, file, base_dir, &FlagSettings::default())
    }

    /// [`Scenario::resolve`] for scenario text.
    pub fn resolve_text(
        source: &str,
        file: &str,
        base_dir: Option<&Path>,
        flags: &FlagSettings,
    ) -> Result<Scenario, LoadError> {
        let (raw, mut problems) = file::read(source, file, base_dir);
        let flag_layer = flags.raw();
        if flag_layer != RawSettings::default() {
            // A file must hold on its own (what `mcload validate` says of it),
            // even where a flag replaces the value that breaks it.
            if let Err(own) = validate::validate(&raw, file) {
                problems.extend(own);
            }
        }
        let merged = merge::merge(raw, flag_layer);
        match validate::validate(&merged, file) {
            Ok(scenario) if problems.is_empty() => return Ok(scenario),
            Ok(_) => {}
            Err(more) => {
                for problem in more {
                    if !problems.contains(&problem) {
                        problems.push(problem);
                    }
                }
            }
        }
        // File order, then the flags in the order they were checked.
        problems.sort_by_key(|p| match &p.place {
            Place::File(pos) => (0, pos.line, pos.column),
            Place::Flag(_) => (1, 0, 0),
        });
        Err(LoadError::Invalid {
            file: file.to_string(),
            problems,
        })
    }
}

/// The largest scenario file mcload reads. Real ones are a few KB; the
/// cap keeps `mcload validate /dev/zero` (or a log named by mistake) from
/// reading until memory runs out.
pub const MAX_SCENARIO_BYTES: u64 = 1024 * 1024;

enum Capped {
    TooLarge,
    Io(std::io::Error),
}

/// The file's bytes, reading at most one byte past the cap.
fn read_capped(path: &Path) -> Result<Vec<u8>, Capped> {
    use std::io::Read as _;
    let file = std::fs::File::open(path).map_err(Capped::Io)?;
    let mut bytes = Vec::new();
    file.take(MAX_SCENARIO_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(Capped::Io)?;
    if bytes.len() as u64 > MAX_SCENARIO_BYTES {
        return Err(Capped::TooLarge);
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod grace_tests {
    use super::*;

    fn grace(text: &str, flag: Option<Duration>) -> Duration {
        let flags = FlagSettings {
            grace: flag,
            ..FlagSettings::default()
        };
        Scenario::resolve_text(text, "test.toml", None, &flags)
            .unwrap_or_else(|e| panic!("{e}"))
            .grace()
    }

    #[test]
    fn the_grace_after_ctrl_c_is_5s_by_default_set_by_file_or_flag_and_at_most_the_timeout() {
        let s = Duration::from_secs;
        assert_eq!(grace("", None), DEFAULT_GRACE);
        assert_eq!(grace("[load]\ngrace = \"2s\"\n", None), s(2));
        assert_eq!(grace("[load]\ngrace = \"2s\"\n", Some(s(3))), s(3));
        assert_eq!(grace("[http]\ntimeout = \"1s\"\n", None), s(1));
        for bad in ["\"soon\"", "\"0s\""] {
            let text = format!("[load]\ngrace = {bad}\n");
            let err = Scenario::parse(&text, "test.toml", None).unwrap_err();
            assert!(err.to_string().contains("`load.grace`"), "{err}");
        }
    }
}

#[cfg(test)]
mod pacing_tests {
    use super::*;

    fn pacing(text: &str, flag: Option<Pacing>) -> Result<Pacing, String> {
        let flags = FlagSettings {
            pacing: flag,
            ..FlagSettings::default()
        };
        Scenario::resolve_text(text, "test.toml", None, &flags)
            .map(|s| match s.load.model {
                Model::Open(open) => open.pacing.expect("a scenario sets the pacing"),
                Model::Closed { .. } => panic!("an open-model scenario"),
            })
            .map_err(|e| e.to_string())
    }

    #[test]
    fn pacing_is_the_default_unless_the_file_or_the_flag_sets_it() {
        let open = "[load]\nrate = 1000\n";
        let step = |us| Pacing::Batched(Duration::from_micros(us));
        assert_eq!(pacing(open, None), Ok(Pacing::DEFAULT));
        let exact = format!("{open}pacing = \"exact\"\n");
        assert_eq!(pacing(&exact, None), Ok(Pacing::Exact));
        assert_eq!(pacing(&exact, Some(step(50))), Ok(step(50)));
    }

    #[test]
    fn a_bad_pacing_or_one_for_the_closed_model_is_refused_with_its_place() {
        let err = pacing("[load]\nrate = 1000\npacing = \"soon\"\n", None).unwrap_err();
        assert!(
            err.contains("test.toml:3:10") && err.contains("`load.pacing`"),
            "{err}"
        );
        assert!(err.contains("batched:D"), "{err}");
        let err = pacing("[load]\nconcurrency = 4\npacing = \"exact\"\n", None).unwrap_err();
        assert!(err.contains("applies to the open model"), "{err}");
        let err = pacing("", Some(Pacing::Exact)).unwrap_err();
        assert!(err.contains("--pacing"), "{err}");
    }
}
