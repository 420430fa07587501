//! The scenario file: what to run, described in TOML.
//!
//! A file is parsed with spans, read into a [`Scenario`] that cannot be
//! invalid, and every problem on the way becomes a [`ScenarioError`] naming
//! the file, line, column and key. This module knows nothing of HTTP or of
//! how a run is carried out.

mod error;
mod parse;
mod pattern;
mod reader;
mod target;

use std::path::{Path, PathBuf};
use std::time::Duration;

pub use crate::spec::MAX_HEADERS;
pub use error::{LoadError, ScenarioError};
pub use parse::{MAX_RATE, check_rate, parse_rate_text, parse_stages};
pub use pattern::{MAX_PLACEHOLDER_LEN, Part as PatternPart, Pattern};
pub use reader::parse_duration;
pub use target::{Scheme, TargetUrl, UrlError, check_endpoint_path};

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

/// Command-line values that replace the file's.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Overrides {
    pub target: Option<TargetUrl>,
    pub concurrency: Option<u32>,
    /// `--rate` or `--stages`: the open model with this rate.
    pub rate: Option<Rate>,
    pub connections: Option<u32>,
    pub max_in_flight: Option<u64>,
    pub warmup: Option<Duration>,
    pub duration: Option<Duration>,
    pub requests: Option<u64>,
    pub threads: Option<usize>,
    pub timeout: Option<Duration>,
    pub seed: Option<u64>,
    pub ca_cert: Option<PathBuf>,
    pub invalid_share: Option<f64>,
}

impl Scenario {
    /// Reads and validates a scenario file.
    pub fn load(path: &Path) -> Result<Scenario, LoadError> {
        let file = path.display().to_string();
        let source = std::fs::read_to_string(path).map_err(|source| LoadError::Read {
            file: file.clone(),
            source,
        })?;
        Scenario::parse(&source, &file, path.parent())
    }

    /// Validates scenario text. `file` names it in errors; relative paths in
    /// the file are taken from `base_dir`.
    pub fn parse(source: &str, file: &str, base_dir: Option<&Path>) -> Result<Scenario, LoadError> {
        parse::parse(source, file, base_dir)
    }

    /// Applies command-line overrides. A `--duration` or `--requests` flag
    /// replaces the file's stop rule as a whole, so `--requests 100` sends
    /// exactly 100 requests whatever duration the file sets. `--concurrency`
    /// chooses the closed model and `--rate` or `--stages` the open one,
    /// whatever the file says.
    pub fn apply(&mut self, o: &Overrides) -> Result<(), String> {
        if let Some(url) = &o.target {
            self.target.url = Some(url.clone());
        }
        if let Some(c) = o.concurrency {
            self.load.model = Model::Closed { concurrency: c };
        }
        if let Some(rate) = &o.rate {
            let (connections, max_in_flight) = match &self.load.model {
                Model::Open(open) => (open.connections, open.max_in_flight),
                Model::Closed { .. } => (DEFAULT_CONNECTIONS, DEFAULT_MAX_IN_FLIGHT),
            };
            if matches!(rate, Rate::Stages { .. }) {
                // Stages set the run's length.
                self.load.duration = None;
            }
            self.load.model = Model::Open(OpenModel {
                rate: rate.clone(),
                connections,
                max_in_flight,
            });
        }
        if o.connections.is_some() || o.max_in_flight.is_some() {
            let Model::Open(open) = &mut self.load.model else {
                return Err(
                    "--connections and --max-in-flight apply to the open model; add --rate or --stages (the closed model has one connection per --concurrency worker)".into(),
                );
            };
            if let Some(c) = o.connections {
                open.connections = c;
                // Room for every connection, unless the limit is set too.
                open.max_in_flight = open.max_in_flight.max(u64::from(c));
            }
            if let Some(m) = o.max_in_flight {
                open.max_in_flight = m;
            }
            if open.max_in_flight < u64::from(open.connections) {
                return Err(format!(
                    "--max-in-flight ({}) must be at least --connections ({}): it counts the requests on the wire too",
                    open.max_in_flight, open.connections
                ));
            }
        }
        if o.duration.is_some() || o.requests.is_some() {
            if o.duration.is_some()
                && let Model::Open(OpenModel {
                    rate: Rate::Stages { .. },
                    ..
                }) = self.load.model
            {
                return Err(
                    "--duration does not apply to stages, which set the run's length; use --requests to stop earlier".into(),
                );
            }
            self.load.duration = o.duration;
            self.load.requests = o.requests;
        }
        if let Some(w) = o.warmup {
            self.load.warmup = Some(w);
        }
        if self.load.warmup.is_some() && self.load.model.starts_at_zero() {
            return Err(
                "the warm-up runs at the stages' starting rate, which is 0: it would send nothing; start the stages above 0 (e.g. --stages 100,10s:1000)".into(),
            );
        }
        if let Some(t) = o.threads {
            self.load.threads = Some(t);
        }
        if let Some(t) = o.timeout {
            self.http.timeout = t;
        }
        if let Some(s) = o.seed {
            self.body.seed = Some(s);
        }
        if let Some(share) = o.invalid_share {
            self.body.invalid_share = share;
        }
        if let Some(ca) = &o.ca_cert {
            self.target.ca_cert = Some(ca.clone());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
