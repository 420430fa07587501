//! Compiles a scenario's body settings, merged with realistic defaults, into
//! a recipe of pre-encoded keys and value generators.

use super::Rng64;
use super::data::{self, Profile};
use super::values::{
    Chance, CompiledPattern, Number, Snippet, ValueGen, Weighted, encode_literal, escape_contents,
    int_in, uniform_float,
};
use crate::scenario::{BodySettings, DEFAULT_QOE_PRESENT, Literal, ValueSetting};
use crate::spec::{self, Audience};

/// Everything a body needs, compiled once per run; workers hold it behind an `Arc`.
#[derive(Debug)]
pub struct Recipe {
    pub content: ContentGen,
    /// `media.length`; `None` draws it from the content profile.
    pub length: Option<NumberGen>,
    pub tenants: Weighted,
    /// Every param in catalogue order, with how often and how it is written.
    pub params: Vec<ParamGen>,
    pub metadata: MetadataRecipe,
    pub qoe: QoeRecipe,
}

/// How `media.contentType` is chosen; the choice decides the profile.
#[derive(Debug)]
pub enum ContentGen {
    Choices {
        encoded: Vec<Vec<u8>>,
        profiles: Vec<&'static Profile>,
        weights: Weighted,
    },
    /// A pattern: the content type is free text, treated as recorded video.
    Pattern(CompiledPattern),
}

/// The content type chosen for one body.
pub enum ContentPick<'p> {
    Encoded(&'p [u8], &'static Profile),
    Pattern(&'p CompiledPattern),
}

impl ContentPick<'_> {
    pub fn profile(&self) -> &'static Profile {
        match self {
            ContentPick::Encoded(_, profile) => profile,
            ContentPick::Pattern(_) => &data::PROFILES[0],
        }
    }
}

impl ContentGen {
    pub fn pick(&self, rng: &mut Rng64) -> ContentPick<'_> {
        match self {
            ContentGen::Choices {
                encoded,
                profiles,
                weights,
            } => {
                let i = weights.pick(rng);
                ContentPick::Encoded(&encoded[i], profiles[i])
            }
            ContentGen::Pattern(p) => ContentPick::Pattern(p),
        }
    }
}

/// How `media.length` is chosen when the scenario sets it.
#[derive(Debug)]
pub enum NumberGen {
    Fixed(Number),
    OneOf(Vec<Number>, Weighted),
    UniformInt(i64, i64),
    UniformFloat(f64, f64),
}

impl NumberGen {
    pub fn pick(&self, rng: &mut Rng64) -> Number {
        match self {
            NumberGen::Fixed(n) => *n,
            NumberGen::OneOf(choices, weights) => choices[weights.pick(rng)],
            NumberGen::UniformInt(lo, hi) => Number::Int(int_in(rng, *lo, *hi)),
            NumberGen::UniformFloat(lo, hi) => Number::Float(uniform_float(rng, *lo, *hi)),
        }
    }
}

fn literal_number(literal: &Literal) -> Number {
    match literal {
        Literal::Integer(n) => Number::Int(*n),
        Literal::Float(x) => Number::Float(*x),
        // The scenario only lets numbers through for a Number param.
        Literal::String(_) | Literal::Bool(_) => unreachable!("media.length is a number"),
    }
}

/// One param: its encoded key, how often it appears, how it is written.
#[derive(Debug)]
pub struct ParamGen {
    /// `"key":`
    pub key: Snippet,
    pub video: Chance,
    pub audio: Chance,
    pub value: ParamValue,
}

impl ParamGen {
    #[inline]
    pub fn chance(&self, audience: Audience) -> Chance {
        match audience {
            Audience::Audio => self.audio,
            _ => self.video,
        }
    }
}

/// Where a param's value comes from.
#[derive(Debug)]
pub enum ParamValue {
    Gen(ValueGen),
    /// The content type chosen up front.
    ContentType,
    /// The length chosen up front.
    Length,
    /// `video` or `audio`, from the content profile.
    StreamType,
    TrackingServer,
    ReportSuite,
    OrgId,
    /// The profile's id prefix and eight digits.
    MediaId,
}

/// `customMetadata`.
#[derive(Debug)]
pub struct MetadataRecipe {
    pub generated: (u32, u32),
    /// Built-in keys (`"key":`) and their values; never one the scenario defines.
    pub pool: Vec<(Snippet, ValueGen)>,
    pub fields: Vec<(Snippet, Chance, ValueGen)>,
}

/// `qoeData`.
#[derive(Debug)]
pub struct QoeRecipe {
    pub present: Chance,
    pub fields: Vec<(Snippet, Chance, ValueGen)>,
}

/// `"key":` with the key escaped.
pub fn encode_key(key: &str) -> Snippet {
    let mut out = Vec::with_capacity(key.len() + 3);
    out.push(b'"');
    out.extend_from_slice(&escape_contents(key));
    out.extend_from_slice(b"\":");
    Snippet::new(&out)
}

/// Default share of bodies carrying each optional param, and its value.
/// Params of one audience (video or audio) appear only in bodies of it.
fn default_param(key: &str) -> (f64, ParamValue) {
    use ParamValue::Gen;
    use ValueGen::*;
    match key {
        "analytics.trackingServer" => (1.0, ParamValue::TrackingServer),
        "analytics.reportSuite" => (1.0, ParamValue::ReportSuite),
        "visitor.marketingCloudOrgId" => (1.0, ParamValue::OrgId),
        "media.id" => (1.0, ParamValue::MediaId),
        "media.length" => (1.0, ParamValue::Length),
        "media.contentType" => (1.0, ParamValue::ContentType),
        "media.playerName" => (1.0, Gen(ValueGen::pick_of(data::PLAYER_NAMES))),
        "media.channel" => (1.0, Gen(ValueGen::pick_of(data::CHANNELS))),
        "analytics.enableSSL" => (0.9, Gen(Bool(Chance::new(0.95)))),
        "analytics.visitorId" => (0.5, Gen(pattern("{HEX:16}-{HEX:16}"))),
        "analytics.aid" => (0.1, Gen(pattern("{HEX:16}-{HEX:16}"))),
        "analytics.optOutServerSideForwarding" => (0.05, Gen(Bool(Chance::new(0.2)))),
        "analytics.optOutShare" => (0.05, Gen(Bool(Chance::new(0.2)))),
        "visitor.marketingCloudUserId" => (0.85, Gen(pattern("{digits:38}"))),
        "visitor.aamLocationHint" => (0.6, Gen(PickInt(data::AAM_LOCATION_HINTS))),
        "visitor.customerIDs" => (0.3, Gen(CustomerIds)),
        "appInstallationId" => (0.4, Gen(pattern("{uuid}"))),
        "media.name" => (0.9, Gen(Title)),
        "media.streamType" => (1.0, ParamValue::StreamType),
        "media.resume" => (0.2, Gen(Bool(Chance::new(0.3)))),
        "media.downloaded" => (0.1, Gen(Bool(Chance::Never))),
        "media.sdkVersion" => (0.8, Gen(ValueGen::pick_of(data::SDK_VERSIONS))),
        "media.libraryVersion" => (0.6, Gen(ValueGen::pick_of(data::LIBRARY_VERSIONS))),
        "media.publisher" => (0.6, Gen(ValueGen::pick_of(data::PUBLISHERS))),
        "media.streamFormat" => (0.5, Gen(ValueGen::pick_of(data::STREAM_FORMATS))),
        "media.show" => (0.4, Gen(Title)),
        "media.season" => (0.35, Gen(IntString(1, 12))),
        "media.episode" => (0.35, Gen(IntString(1, 24))),
        "media.assetId" => (0.3, Gen(pattern("{hex:12}"))),
        "media.genre" => (0.5, Gen(ValueGen::pick_of(data::GENRES))),
        "media.firstAirDate" => (0.2, Gen(Date)),
        "media.firstDigitalDate" => (0.15, Gen(Date)),
        "media.rating" => (0.4, Gen(ValueGen::pick_of(data::RATINGS))),
        "media.originator" => (0.2, Gen(ValueGen::pick_of(data::ORIGINATORS))),
        "media.network" => (0.3, Gen(ValueGen::pick_of(data::NETWORKS))),
        "media.showType" => (0.3, Gen(ValueGen::pick_of(spec::SHOW_TYPES))),
        "media.adLoad" => (0.1, Gen(ValueGen::pick_of(data::AD_LOADS))),
        "media.pass.mvpd" => (0.15, Gen(ValueGen::pick_of(data::MVPDS))),
        "media.pass.auth" => (0.1, Gen(ValueGen::pick_of(data::STATE_OF_AUTH))),
        "media.dayPart" => (0.2, Gen(ValueGen::pick_of(data::DAY_PARTS))),
        "media.feed" => (0.15, Gen(ValueGen::pick_of(data::FEEDS))),
        "media.artist" => (0.7, Gen(ValueGen::pick_of(data::ARTISTS))),
        "media.album" => (0.5, Gen(Title)),
        "media.label" => (0.3, Gen(ValueGen::pick_of(data::LABELS))),
        "media.author" => (0.2, Gen(ValueGen::pick_of(data::AUTHORS))),
        "media.station" => (0.2, Gen(ValueGen::pick_of(data::STATIONS))),
        other => unreachable!("the catalogue key {other} has no default"),
    }
}

fn pattern(source: &str) -> ValueGen {
    let parsed = crate::scenario::Pattern::parse(source).expect("built-in patterns are valid");
    ValueGen::Pattern(CompiledPattern::new(&parsed.parts))
}

/// Default `qoeData` keys: share of bodies with `qoeData` carrying each, and its value.
fn default_qoe(key: &str) -> (f64, ValueGen) {
    match key {
        "media.qoe.bitrate" => (0.9, ValueGen::UniformInt(250_000, 12_000_000)),
        "media.qoe.droppedFrames" => (0.6, ValueGen::UniformInt(0, 30)),
        "media.qoe.framesPerSecond" => (0.7, ValueGen::PickInt(&[24, 25, 30, 50, 60])),
        "media.qoe.timeToStart" => (0.8, ValueGen::UniformInt(150, 6_000)),
        "media.qoe.errorID" => (
            0.0,
            ValueGen::pick_of(&["E1001", "E2004", "NETWORK_TIMEOUT"]),
        ),
        "media.qoe.errorSource" => (0.0, ValueGen::pick_of(&["player", "external"])),
        other => unreachable!("the QoE key {other} has no default"),
    }
}

impl Recipe {
    pub fn compile(body: &BodySettings) -> Recipe {
        let setting = |key: &str| body.params.iter().find(|p| p.param.key == key);

        let content = match setting("media.contentType").and_then(|s| s.value.as_ref()) {
            None => ContentGen::Choices {
                encoded: data::PROFILES
                    .iter()
                    .map(|p| encode_literal(&Literal::String(p.content_type.into())))
                    .collect(),
                profiles: data::PROFILES.iter().collect(),
                weights: Weighted::new(data::PROFILES.iter().map(|p| p.weight)),
            },
            Some(ValueSetting::Pattern(p)) => ContentGen::Pattern(CompiledPattern::new(&p.parts)),
            Some(spec) => {
                let (choices, weights) = match spec {
                    ValueSetting::Fixed(l) => (vec![l.clone()], Weighted::equal(1)),
                    ValueSetting::OneOf { choices, weights } => (
                        choices.clone(),
                        match weights {
                            Some(w) => Weighted::new(w.iter().copied()),
                            None => Weighted::equal(choices.len()),
                        },
                    ),
                    _ => unreachable!("media.contentType is a string"),
                };
                let profiles = choices
                    .iter()
                    .map(|l| match l {
                        Literal::String(s) => data::profile_for(s),
                        _ => &data::PROFILES[0],
                    })
                    .collect();
                ContentGen::Choices {
                    encoded: choices.iter().map(encode_literal).collect(),
                    profiles,
                    weights,
                }
            }
        };

        let length =
            setting("media.length")
                .and_then(|s| s.value.as_ref())
                .map(|spec| match spec {
                    ValueSetting::Fixed(l) => NumberGen::Fixed(literal_number(l)),
                    ValueSetting::OneOf { choices, weights } => NumberGen::OneOf(
                        choices.iter().map(literal_number).collect(),
                        match weights {
                            Some(w) => Weighted::new(w.iter().copied()),
                            None => Weighted::equal(choices.len()),
                        },
                    ),
                    ValueSetting::UniformInt(lo, hi) => NumberGen::UniformInt(*lo, *hi),
                    ValueSetting::UniformFloat(lo, hi) => NumberGen::UniformFloat(*lo, *hi),
                    ValueSetting::Pattern(_) => unreachable!("media.length is a number"),
                });

        let params = spec::PARAMS
            .iter()
            .map(|param| {
                let (default_share, default_value) = default_param(param.key);
                let user = setting(param.key);
                let value = match user.and_then(|s| s.value.as_ref()) {
                    // Content type and length were chosen up front from the
                    // same settings; the body writes those choices.
                    Some(_) if param.key == "media.contentType" => ParamValue::ContentType,
                    Some(_) if param.key == "media.length" => ParamValue::Length,
                    Some(spec) => ParamValue::Gen(ValueGen::from_setting(spec)),
                    None => default_value,
                };
                // A share the scenario gives applies to every body; a value it
                // gives without a share means "always"; otherwise the default
                // share applies to bodies of the param's audience.
                let (video, audio) = match user {
                    Some(s) if s.present.is_some() || s.value.is_some() => {
                        let c = Chance::new(s.present.unwrap_or(1.0));
                        (c, c)
                    }
                    _ => {
                        let c = Chance::new(default_share);
                        match param.audience {
                            Audience::Any => (c, c),
                            Audience::Video => (c, Chance::Never),
                            Audience::Audio => (Chance::Never, c),
                        }
                    }
                };
                ParamGen {
                    key: encode_key(param.key),
                    video,
                    audio,
                    value,
                }
            })
            .collect();

        let user_metadata = &body.custom_metadata;
        let pool: Vec<_> = data::METADATA_POOL
            .iter()
            .filter(|(key, _)| !user_metadata.fields.iter().any(|f| f.key == *key))
            .map(|(key, values)| (encode_key(key), ValueGen::pick_of(values)))
            .collect();
        let (lo, hi) = user_metadata.generated;
        let cap = pool.len() as u32;
        let metadata = MetadataRecipe {
            generated: (lo.min(cap), hi.min(cap)),
            pool,
            fields: user_metadata
                .fields
                .iter()
                .map(|f| {
                    (
                        encode_key(&f.key),
                        Chance::new(f.present.unwrap_or(1.0)),
                        ValueGen::from_setting(&f.value),
                    )
                })
                .collect(),
        };

        let qoe = QoeRecipe {
            present: Chance::new(body.qoe.present.unwrap_or(DEFAULT_QOE_PRESENT)),
            fields: spec::QOE_KEYS
                .iter()
                .map(|q| {
                    let (share, default_value) = default_qoe(q.key);
                    let user = body.qoe.fields.iter().find(|f| f.key.key == q.key);
                    let (share, value) = match user {
                        Some(f) => (
                            f.present.unwrap_or(1.0),
                            f.value
                                .as_ref()
                                .map_or(default_value, ValueGen::from_setting),
                        ),
                        None => (share, default_value),
                    };
                    (encode_key(q.key), Chance::new(share), value)
                })
                .filter(|(_, chance, _)| *chance != Chance::Never)
                .collect(),
        };

        Recipe {
            content,
            length,
            tenants: Weighted::new(data::TENANTS.iter().map(|t| t.weight)),
            params,
            metadata,
            qoe,
        }
    }
}
