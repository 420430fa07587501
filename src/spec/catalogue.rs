//! The sessionStart parameter catalogue: every key `params` may hold, its JSON
//! type, whether it is required, and the values it allows
//! (`docs/contract.md`, "params").

/// The JSON type a value must have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueType {
    String,
    /// Any JSON number, integer or not.
    Number,
    /// A JSON number without fraction or exponent.
    Integer,
    Boolean,
    /// `visitor.customerIDs`: `{ "<name>": { "id": "<string>", "authState": 0|1|2 } }`.
    CustomerIds,
}

impl ValueType {
    /// The name used in error messages ("must be a string").
    pub fn noun(self) -> &'static str {
        match self {
            ValueType::String => "a string",
            ValueType::Number => "a number",
            ValueType::Integer => "an integer",
            ValueType::Boolean => "a boolean",
            ValueType::CustomerIds => "an object of customer ids",
        }
    }
}

/// A rule on the value beyond its type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Constraint {
    None,
    /// Required strings must not be empty (mcload's choice; strict only).
    NonEmpty,
    /// `media.length`: a number greater than zero (mcload's choice; strict only).
    Positive,
    /// One of a closed set of strings (`media.streamType`, `media.showType`;
    /// the documented values, enforced as mcload's choice, strict only).
    OneOf(&'static [&'static str]),
    /// `media.downloaded` must not be `true` on `/api/v1/sessions`: Adobe's
    /// documentation of downloaded content says a live session with it gets 400.
    NotTrue,
}

/// Which kind of content a parameter belongs to; the generator uses it to
/// decide which optional keys a realistic body carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Audience {
    Any,
    Video,
    Audio,
}

/// One entry of the catalogue.
#[derive(Debug, PartialEq, Eq)]
pub struct Param {
    pub key: &'static str,
    pub ty: ValueType,
    pub required: bool,
    pub constraint: Constraint,
    pub audience: Audience,
}

const fn required(key: &'static str, ty: ValueType, constraint: Constraint) -> Param {
    Param {
        key,
        ty,
        required: true,
        constraint,
        audience: Audience::Any,
    }
}

const fn optional(key: &'static str, ty: ValueType, audience: Audience) -> Param {
    Param {
        key,
        ty,
        required: false,
        constraint: Constraint::None,
        audience,
    }
}

const fn constrained(key: &'static str, ty: ValueType, constraint: Constraint) -> Param {
    Param {
        key,
        ty,
        required: false,
        constraint,
        audience: Audience::Any,
    }
}

use Audience::{Any, Audio, Video};
use ValueType::{Boolean, CustomerIds, Integer, Number, String};

/// The values `media.streamType` accepts.
pub const STREAM_TYPES: &[&str] = &["video", "audio"];
/// The values `media.showType` accepts: full episode, preview, clip, other.
pub const SHOW_TYPES: &[&str] = &["0", "1", "2", "3"];

/// Every key of `params` on a sessionStart, required ones first, in the
/// order the documentation lists them.
pub const PARAMS: &[Param] = &[
    required("analytics.trackingServer", String, Constraint::NonEmpty),
    required("analytics.reportSuite", String, Constraint::NonEmpty),
    required("visitor.marketingCloudOrgId", String, Constraint::NonEmpty),
    required("media.id", String, Constraint::NonEmpty),
    required("media.length", Number, Constraint::Positive),
    required("media.contentType", String, Constraint::NonEmpty),
    required("media.playerName", String, Constraint::NonEmpty),
    required("media.channel", String, Constraint::NonEmpty),
    optional("analytics.enableSSL", Boolean, Any),
    optional("analytics.visitorId", String, Any),
    optional("analytics.aid", String, Any),
    optional("analytics.optOutServerSideForwarding", Boolean, Any),
    optional("analytics.optOutShare", Boolean, Any),
    optional("visitor.marketingCloudUserId", String, Any),
    optional("visitor.aamLocationHint", Integer, Any),
    optional("visitor.customerIDs", CustomerIds, Any),
    optional("appInstallationId", String, Any),
    optional("media.name", String, Any),
    constrained("media.streamType", String, Constraint::OneOf(STREAM_TYPES)),
    optional("media.resume", Boolean, Any),
    constrained("media.downloaded", Boolean, Constraint::NotTrue),
    optional("media.sdkVersion", String, Any),
    optional("media.libraryVersion", String, Any),
    optional("media.publisher", String, Audio),
    optional("media.streamFormat", String, Video),
    optional("media.show", String, Video),
    optional("media.season", String, Video),
    optional("media.episode", String, Video),
    optional("media.assetId", String, Video),
    optional("media.genre", String, Any),
    optional("media.firstAirDate", String, Video),
    optional("media.firstDigitalDate", String, Video),
    optional("media.rating", String, Video),
    optional("media.originator", String, Video),
    optional("media.network", String, Video),
    Param {
        key: "media.showType",
        ty: String,
        required: false,
        constraint: Constraint::OneOf(SHOW_TYPES),
        audience: Video,
    },
    optional("media.adLoad", String, Video),
    optional("media.pass.mvpd", String, Video),
    optional("media.pass.auth", String, Video),
    optional("media.dayPart", String, Any),
    optional("media.feed", String, Video),
    optional("media.artist", String, Audio),
    optional("media.album", String, Audio),
    optional("media.label", String, Audio),
    optional("media.author", String, Audio),
    optional("media.station", String, Audio),
];

/// The number of required params: the eight that Adobe's parameter
/// documentation marks as required for sessionStart.
pub const REQUIRED_COUNT: usize = 8;

/// Looks a key up in the catalogue.
pub fn param(key: &str) -> Option<&'static Param> {
    PARAMS.iter().find(|p| p.key == key)
}

/// The position of a key in [`PARAMS`], used as a compact id.
pub fn param_index(key: &str) -> Option<usize> {
    PARAMS.iter().position(|p| p.key == key)
}

/// One key of `qoeData`.
#[derive(Debug, PartialEq, Eq)]
pub struct QoeKey {
    pub key: &'static str,
    pub ty: ValueType,
}

/// The keys `qoeData` may hold under the strict rules: the 2018 schema's four
/// integers plus the error details of the newer documentation, which are
/// strings.
pub const QOE_KEYS: &[QoeKey] = &[
    QoeKey {
        key: "media.qoe.bitrate",
        ty: Integer,
    },
    QoeKey {
        key: "media.qoe.droppedFrames",
        ty: Integer,
    },
    QoeKey {
        key: "media.qoe.framesPerSecond",
        ty: Integer,
    },
    QoeKey {
        key: "media.qoe.timeToStart",
        ty: Integer,
    },
    QoeKey {
        key: "media.qoe.errorID",
        ty: String,
    },
    QoeKey {
        key: "media.qoe.errorSource",
        ty: String,
    },
];

/// Looks a `qoeData` key up.
pub fn qoe_key(key: &str) -> Option<&'static QoeKey> {
    QOE_KEYS.iter().find(|q| q.key == key)
}

/// The only `eventType` the sessions endpoint accepts.
pub const EVENT_TYPE: &str = "sessionStart";

/// The top-level members of a sessionStart body.
pub const TOP_LEVEL_MEMBERS: &[&str] = &[
    "playerTime",
    "eventType",
    "params",
    "customMetadata",
    "qoeData",
];

/// The members of `playerTime`.
pub const PLAYER_TIME_MEMBERS: &[&str] = &["playhead", "ts"];

/// Why a custom-metadata key is not allowed, if it is not.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetadataKeyProblem {
    Empty,
    /// A character outside `[a-zA-Z0-9_.]`.
    BadCharacter(char),
    /// The `a.` and `media.` prefixes are reserved.
    ReservedPrefix(&'static str),
}

impl std::fmt::Display for MetadataKeyProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MetadataKeyProblem::Empty => f.write_str("the key is empty"),
            MetadataKeyProblem::BadCharacter(c) => write!(
                f,
                "the key holds {c:?}; only letters, digits, '_' and '.' are allowed"
            ),
            MetadataKeyProblem::ReservedPrefix(p) => {
                write!(f, "the prefix {p:?} is reserved")
            }
        }
    }
}

/// Checks a `customMetadata` key: `^[a-zA-Z0-9_.]+$` (the 2018 schema's
/// pattern), not starting with the `a.` or `media.` prefixes that the
/// documentation reserves (strict only).
pub fn check_metadata_key(key: &str) -> Result<(), MetadataKeyProblem> {
    if key.is_empty() {
        return Err(MetadataKeyProblem::Empty);
    }
    if let Some(c) = key
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '_' || *c == '.'))
    {
        return Err(MetadataKeyProblem::BadCharacter(c));
    }
    for prefix in ["a.", "media."] {
        if key.starts_with(prefix) {
            return Err(MetadataKeyProblem::ReservedPrefix(prefix));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalogue_has_exactly_the_eight_required_params_first() {
        let required: Vec<_> = PARAMS.iter().filter(|p| p.required).collect();
        assert_eq!(required.len(), REQUIRED_COUNT);
        assert!(PARAMS[..REQUIRED_COUNT].iter().all(|p| p.required));
    }

    #[test]
    fn keys_are_unique() {
        for (i, p) in PARAMS.iter().enumerate() {
            assert_eq!(param_index(p.key), Some(i), "duplicate key {}", p.key);
        }
    }

    #[test]
    fn metadata_keys_follow_the_schema_pattern_and_prefix_rules() {
        assert_eq!(check_metadata_key("cms.show_id"), Ok(()));
        assert_eq!(check_metadata_key(""), Err(MetadataKeyProblem::Empty));
        assert_eq!(
            check_metadata_key("ab-test"),
            Err(MetadataKeyProblem::BadCharacter('-'))
        );
        assert_eq!(
            check_metadata_key("my key"),
            Err(MetadataKeyProblem::BadCharacter(' '))
        );
        assert_eq!(
            check_metadata_key("a.custom"),
            Err(MetadataKeyProblem::ReservedPrefix("a."))
        );
        assert_eq!(
            check_metadata_key("media.custom"),
            Err(MetadataKeyProblem::ReservedPrefix("media."))
        );
        // Only the exact prefixes are reserved.
        assert_eq!(check_metadata_key("analytics_tier"), Ok(()));
        assert_eq!(check_metadata_key("mediaType"), Ok(()));
    }
}
