//! The realistic material default bodies are made of: content profiles,
//! tenants, word lists and the custom-metadata pool. Every string here is
//! plain ASCII without quotes or backslashes, so it is written to JSON as is.

use crate::spec::Audience;

/// What a content type implies for the rest of the body.
#[derive(Debug, PartialEq)]
pub struct Profile {
    /// The `media.contentType` value the documentation recommends.
    pub content_type: &'static str,
    pub audience: Audience,
    /// Live content has `media.length` 86400 and a playhead that is the
    /// second of the day.
    pub live: bool,
    /// Range of `media.length` in seconds for recorded content.
    pub length: (f64, f64),
    /// Prefix of default `media.id` values.
    pub id_prefix: &'static str,
    /// Weight in the default content-type mix.
    pub weight: f64,
}

impl Profile {
    pub fn stream_type(&self) -> &'static str {
        match self.audience {
            Audience::Audio => "audio",
            _ => "video",
        }
    }
}

/// `media.length` of live content: the documentation asks for 86400 when
/// the length is unknown.
pub const LIVE_LENGTH: f64 = 86_400.0;

const fn profile(
    content_type: &'static str,
    audience: Audience,
    live: bool,
    length: (f64, f64),
    id_prefix: &'static str,
    weight: f64,
) -> Profile {
    Profile {
        content_type,
        audience,
        live,
        length,
        id_prefix,
        weight,
    }
}

/// The recommended content types, video then audio, with a mix that looks
/// like an evening on a streaming service.
pub const PROFILES: &[Profile] = &[
    profile(
        "vod",
        Audience::Video,
        false,
        (120.0, 10_800.0),
        "vod-",
        40.0,
    ),
    profile(
        "live",
        Audience::Video,
        true,
        (LIVE_LENGTH, LIVE_LENGTH),
        "live-",
        12.0,
    ),
    profile(
        "linear",
        Audience::Video,
        true,
        (LIVE_LENGTH, LIVE_LENGTH),
        "ch-",
        6.0,
    ),
    profile("ugc", Audience::Video, false, (10.0, 1_200.0), "ugc-", 8.0),
    profile(
        "dvod",
        Audience::Video,
        false,
        (600.0, 7_200.0),
        "dvod-",
        6.0,
    ),
    profile("song", Audience::Audio, false, (90.0, 480.0), "trk-", 12.0),
    profile(
        "podcast",
        Audience::Audio,
        false,
        (600.0, 7_200.0),
        "pod-",
        8.0,
    ),
    profile(
        "audiobook",
        Audience::Audio,
        false,
        (3_600.0, 72_000.0),
        "abk-",
        3.0,
    ),
    profile(
        "radio",
        Audience::Audio,
        true,
        (LIVE_LENGTH, LIVE_LENGTH),
        "stn-",
        5.0,
    ),
];

/// The profile of a content type a scenario names; unknown types ("clip",
/// "VOD2") are treated as recorded video.
pub fn profile_for(content_type: &str) -> &'static Profile {
    PROFILES
        .iter()
        .find(|p| p.content_type.eq_ignore_ascii_case(content_type))
        .unwrap_or(&PROFILES[0])
}

/// An Analytics customer: tracking server, report suite and org id belong together.
pub struct Tenant {
    pub tracking_server: &'static str,
    pub report_suite: &'static str,
    pub org_id: &'static str,
    pub weight: f64,
}

pub const TENANTS: &[Tenant] = &[
    Tenant {
        tracking_server: "acme.sc.omtrdc.net",
        report_suite: "acme-prod",
        org_id: "1A2B3C4D5E6F7A8B9C0D1E2F@AdobeOrg",
        weight: 6.0,
    },
    Tenant {
        tracking_server: "globex.data.adobedc.net",
        report_suite: "globex-web",
        org_id: "0F1E2D3C4B5A69788796A5B4@AdobeOrg",
        weight: 3.0,
    },
    Tenant {
        tracking_server: "initech.sc.omtrdc.net",
        report_suite: "initech-ott",
        org_id: "ABCDEF0123456789ABCDEF01@AdobeOrg",
        weight: 1.0,
    },
];

pub const PLAYER_NAMES: &[&str] = &[
    "html5-player",
    "ios-avplayer",
    "android-exoplayer",
    "roku-scenegraph",
    "tvos-player",
    "chromecast-receiver",
    "smarttv-tizen",
    "webos-player",
];

pub const CHANNELS: &[&str] = &[
    "main",
    "kids",
    "sports",
    "news",
    "movies",
    "music",
    "documentary",
    "comedy",
];

pub const TITLE_WORDS_A: &[&str] = &[
    "Silent", "Midnight", "Golden", "Broken", "Hidden", "Crimson", "Distant", "Frozen", "Wild",
    "Electric", "Lost", "Northern", "Quiet", "Burning", "Hollow", "Bright", "Savage", "Velvet",
    "Iron", "Paper", "Neon", "Ancient", "Restless", "Secret", "Endless", "Fallen", "Lucky",
    "Marble", "Painted", "Rising", "Salt", "Winter",
];

pub const TITLE_WORDS_B: &[&str] = &[
    "Harbor", "River", "Kingdom", "Signal", "Garden", "Empire", "Frontier", "Lantern", "Orchard",
    "Highway", "Island", "Machine", "Station", "Summit", "Valley", "Witness", "Circuit", "Compass",
    "Engine", "Horizon", "Journey", "Meadow", "Mirror", "Ocean", "Promise", "Rebel", "Shadow",
    "Thunder", "Tide", "Voyage", "Whisper", "Canyon",
];

pub const TITLE_SUFFIXES: &[&str] = &[
    "",
    "",
    "",
    " Live",
    " Part 2",
    " (Extended)",
    ": The Return",
    " Chronicles",
];

pub const SDK_VERSIONS: &[&str] = &[
    "3.2.1",
    "3.2.0",
    "3.1.4",
    "2.9.0",
    "4.0.0-beta.2",
    "va-api-0.0.0",
];
pub const LIBRARY_VERSIONS: &[&str] = &[
    "js-3.2.1",
    "ios-3.1.0",
    "android-3.1.2",
    "roku-2.2.4",
    "tvos-3.0.7",
];
pub const PUBLISHERS: &[&str] = &[
    "Blue Note Media",
    "Parcel Audio",
    "Northwind Podcasts",
    "Open Shelf Books",
    "Harbor Records",
];
pub const STREAM_FORMATS: &[&str] = &["HD", "SD", "UHD", "HDR"];
pub const GENRES: &[&str] = &[
    "Drama",
    "Comedy",
    "Action",
    "Drama,Action",
    "Documentary",
    "Kids",
    "Sports",
    "News",
    "Sci-Fi",
    "Thriller,Crime",
];
pub const RATINGS: &[&str] = &["TVY", "TVG", "TVPG", "TV14", "TVMA", "PG-13", "FSK12"];
pub const ORIGINATORS: &[&str] = &[
    "Northwind Studios",
    "Blue Harbor Films",
    "Lantern Pictures",
    "Summit Entertainment Group",
];
pub const NETWORKS: &[&str] = &["ACN", "Channel Nine", "Sportsline", "KidsZone", "NewsOne"];
pub const AD_LOADS: &[&str] = &["1", "2", "light", "standard", "heavy"];
pub const MVPDS: &[&str] = &["Comcast", "Charter", "DirecTV", "Dish", "Cox", "Verizon"];
pub const DAY_PARTS: &[&str] = &["morning", "daytime", "primetime", "latenight", "overnight"];
pub const FEEDS: &[&str] = &["East-HD", "West-HD", "Central-SD", "Intl-HD"];
pub const ARTISTS: &[&str] = &[
    "The Lanterns",
    "Mara Quinn",
    "Northbound",
    "Velvet Static",
    "Jun Park Trio",
    "Orchid Machine",
];
pub const LABELS: &[&str] = &[
    "Harbor Records",
    "Static Sound",
    "Open Field Music",
    "Indie Co",
];
pub const AUTHORS: &[&str] = &[
    "R. Calder",
    "Ines Moreau",
    "T. Okafor",
    "L. Brennan",
    "Sato Aki",
];
pub const STATIONS: &[&str] = &[
    "WKRP 88.5",
    "Radio Nord",
    "Jazz 101",
    "Metro FM",
    "Talk 660",
];
pub const STATE_OF_AUTH: &[&str] = &["TRUE"];
pub const AAM_LOCATION_HINTS: &[i64] = &[3, 6, 7, 9, 11];
pub const CUSTOMER_ID_NAMES: &[&str] = &["userId", "crmId", "loyaltyId"];

/// The custom-metadata keys a default body draws from, each with its
/// values. It holds at least `scenario`'s maximum of generated keys.
pub const METADATA_POOL: &[(&str, &[&str])] = &[
    (
        "cms.category",
        &["news", "sports", "drama", "kids", "music", "docs"],
    ),
    (
        "device.class",
        &["mobile", "desktop", "tv", "tablet", "console"],
    ),
    ("ab.bucket", &["control", "variant_a", "variant_b"]),
    ("cdn.name", &["akamai", "fastly", "cloudfront", "edgio"]),
    ("drm.system", &["widevine", "fairplay", "playready", "none"]),
    ("player.skin", &["default", "dark", "minimal"]),
    ("user.tier", &["free", "basic", "premium", "family"]),
    ("geo.region", &["us_east", "us_west", "eu_central", "apac"]),
    ("app.release", &["2026.11.1", "2026.10.3", "2026.9.0"]),
    (
        "page.section",
        &["home", "browse", "search", "detail", "continue"],
    ),
    ("autoplay", &["true", "false"]),
    ("casting", &["none", "airplay", "chromecast"]),
    (
        "network.type",
        &["wifi", "ethernet", "cellular_5g", "cellular_4g"],
    ),
    ("subtitle.lang", &["off", "en", "de", "it", "es"]),
    ("audio.lang", &["en", "de", "it", "es", "fr"]),
    ("experiment.id", &["exp_101", "exp_207", "exp_311"]),
];
