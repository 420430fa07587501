//! The validity rules of a sessionStart body, as one function that both the
//! generator's tests and the reference server call. Each rule belongs to a
//! rule set: `strict` applies all of them, `documented` only those the
//! API's documentation states (`docs/contract.md`, "Rules").

use serde_json::{Map, Value};

use super::RuleSet;
use super::catalogue::{
    self, Constraint, MetadataKeyProblem, PLAYER_TIME_MEMBERS, TOP_LEVEL_MEMBERS, ValueType,
};

/// The rule a body broke. Each has a stable snake_case [`code`](Rule::code),
/// which the reference server puts in its 400 answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rule {
    /// The body is not JSON (or not UTF-8).
    NotJson,
    /// The body, `playerTime`, `params`, `customMetadata` or `qoeData` is not an object.
    NotAnObject,
    /// A required top-level or `playerTime` member is missing.
    MissingMember,
    /// A top-level or `playerTime` member the schema does not know.
    UnknownMember,
    /// `eventType` is not `"sessionStart"`.
    WrongEventType,
    /// One of the eight required params is missing.
    MissingParam,
    /// A `params` key outside the catalogue.
    UnknownParam,
    /// A value of the wrong JSON type; holds the type that was expected.
    WrongType(ValueType),
    /// A required string param is empty.
    EmptyString,
    /// `media.length` is not greater than zero.
    NotPositive,
    /// `playerTime.playhead` or `playerTime.ts` is below zero.
    Negative,
    /// A value outside a closed set (`media.streamType`, `media.showType`).
    NotAllowed(&'static [&'static str]),
    /// `media.downloaded: true` on the live sessions endpoint.
    DownloadedTrue,
    /// A `customMetadata` key breaks the key pattern or uses a reserved prefix.
    BadMetadataKey(MetadataKeyProblem),
    /// A `customMetadata` value that is not a string.
    MetadataNotString,
    /// A `qoeData` key outside the `media.qoe.*` set.
    UnknownQoeKey,
    /// A `visitor.customerIDs` entry that is not `{id: string, authState: 0|1|2}`.
    BadCustomerId,
}

impl Rule {
    /// A stable name for the rule, for machine-readable answers and tests.
    pub fn code(&self) -> &'static str {
        match self {
            Rule::NotJson => "not_json",
            Rule::NotAnObject => "not_an_object",
            Rule::MissingMember => "missing_member",
            Rule::UnknownMember => "unknown_member",
            Rule::WrongEventType => "wrong_event_type",
            Rule::MissingParam => "missing_param",
            Rule::UnknownParam => "unknown_param",
            Rule::WrongType(_) => "wrong_type",
            Rule::EmptyString => "empty_string",
            Rule::NotPositive => "not_positive",
            Rule::Negative => "negative",
            Rule::NotAllowed(_) => "not_allowed",
            Rule::DownloadedTrue => "downloaded_true",
            Rule::BadMetadataKey(_) => "bad_custom_metadata_key",
            Rule::MetadataNotString => "custom_metadata_not_string",
            Rule::UnknownQoeKey => "unknown_qoe_key",
            Rule::BadCustomerId => "bad_customer_id",
        }
    }
}

/// Why a body is not a valid sessionStart: the rule and the field it concerns
/// (a dotted path such as `params.media.length`, or empty for the whole body).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    pub rule: Rule,
    pub field: String,
}

impl Violation {
    fn new(rule: Rule, field: impl Into<String>) -> Self {
        Violation {
            rule,
            field: field.into(),
        }
    }
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let field = if self.field.is_empty() {
            "body"
        } else {
            &self.field
        };
        match self.rule {
            Rule::NotJson => write!(f, "the body is not JSON"),
            Rule::NotAnObject => write!(f, "{field} must be a JSON object"),
            Rule::MissingMember => write!(f, "{field} is required"),
            Rule::UnknownMember => write!(f, "{field} is not a known member"),
            Rule::WrongEventType => write!(f, "{field} must be \"{}\"", catalogue::EVENT_TYPE),
            Rule::MissingParam => write!(f, "{field} is a required param"),
            Rule::UnknownParam => write!(f, "{field} is not a sessionStart param"),
            Rule::WrongType(ty) => write!(f, "{field} must be {}", ty.noun()),
            Rule::EmptyString => write!(f, "{field} must not be empty"),
            Rule::NotPositive => write!(f, "{field} must be greater than 0"),
            Rule::Negative => write!(f, "{field} must not be negative"),
            Rule::NotAllowed(allowed) => write!(f, "{field} must be one of {allowed:?}"),
            Rule::DownloadedTrue => write!(f, "{field} must not be true on /api/v1/sessions"),
            Rule::BadMetadataKey(problem) => write!(f, "{field}: {problem}"),
            Rule::MetadataNotString => write!(f, "{field} must be a string"),
            Rule::UnknownQoeKey => write!(f, "{field} is not a known QoE key"),
            Rule::BadCustomerId => {
                write!(
                    f,
                    "{field} must be {{\"id\": string, \"authState\": 0, 1 or 2}}"
                )
            }
        }
    }
}

impl std::error::Error for Violation {}

/// Parses and validates a request body under `rules`.
pub fn validate_bytes(body: &[u8], rules: RuleSet) -> Result<(), Violation> {
    let value: Value =
        serde_json::from_slice(body).map_err(|_| Violation::new(Rule::NotJson, ""))?;
    validate(&value, rules)
}

/// Validates a parsed body against the sessionStart rules of `rules`.
/// Reports the first rule broken, checking in a fixed order so the answer
/// is deterministic.
///
/// Under [`RuleSet::Documented`] only what the documentation states is
/// checked: the body shape and mandatory members, `eventType`, the type of
/// `playerTime.playhead` (a number, not negative) and `playerTime.ts` (a
/// number), the required params, the JSON type of every known param, and
/// `media.downloaded` not `true`. Unknown keys anywhere, the
/// `customMetadata` key and value rules, the `qoeData` keys and types, an
/// integer `ts` and mcload's value rules (non-empty strings, a positive
/// length, closed value sets, the `visitor.customerIDs` entries) are
/// [`RuleSet::Strict`] only.
pub fn validate(body: &Value, rules: RuleSet) -> Result<(), Violation> {
    let strict = rules == RuleSet::Strict;
    let top = body
        .as_object()
        .ok_or_else(|| Violation::new(Rule::NotAnObject, ""))?;
    for member in ["eventType", "playerTime", "params"] {
        if !top.contains_key(member) {
            return Err(Violation::new(Rule::MissingMember, member));
        }
    }
    if strict
        && let Some(unknown) = top
            .keys()
            .find(|k| !TOP_LEVEL_MEMBERS.contains(&k.as_str()))
    {
        return Err(Violation::new(Rule::UnknownMember, unknown.as_str()));
    }
    match &top["eventType"] {
        Value::String(s) if s == catalogue::EVENT_TYPE => {}
        Value::String(_) => return Err(Violation::new(Rule::WrongEventType, "eventType")),
        _ => {
            return Err(Violation::new(
                Rule::WrongType(ValueType::String),
                "eventType",
            ));
        }
    }
    validate_player_time(&top["playerTime"], strict)?;
    validate_params(&top["params"], strict)?;
    if let Some(metadata) = top.get("customMetadata") {
        let metadata = object(metadata, "customMetadata")?;
        if strict {
            validate_custom_metadata(metadata)?;
        }
    }
    if let Some(qoe) = top.get("qoeData") {
        let qoe = object(qoe, "qoeData")?;
        if strict {
            validate_qoe(qoe)?;
        }
    }
    Ok(())
}

fn object<'a>(value: &'a Value, field: &str) -> Result<&'a Map<String, Value>, Violation> {
    value
        .as_object()
        .ok_or_else(|| Violation::new(Rule::NotAnObject, field))
}

fn is_integer(value: &Value) -> bool {
    value.as_i64().is_some() || value.as_u64().is_some()
}

fn validate_player_time(value: &Value, strict: bool) -> Result<(), Violation> {
    let player_time = object(value, "playerTime")?;
    for member in PLAYER_TIME_MEMBERS {
        if !player_time.contains_key(*member) {
            return Err(Violation::new(
                Rule::MissingMember,
                format!("playerTime.{member}"),
            ));
        }
    }
    if strict
        && let Some(unknown) = player_time
            .keys()
            .find(|k| !PLAYER_TIME_MEMBERS.contains(&k.as_str()))
    {
        return Err(Violation::new(
            Rule::UnknownMember,
            format!("playerTime.{unknown}"),
        ));
    }
    let playhead = player_time["playhead"]
        .as_f64()
        .ok_or_else(|| Violation::new(Rule::WrongType(ValueType::Number), "playerTime.playhead"))?;
    if playhead < 0.0 {
        return Err(Violation::new(Rule::Negative, "playerTime.playhead"));
    }
    let ts = &player_time["ts"];
    if !strict {
        // The page asks for a timestamp in milliseconds: a number.
        if !ts.is_number() {
            return Err(Violation::new(
                Rule::WrongType(ValueType::Number),
                "playerTime.ts",
            ));
        }
        return Ok(());
    }
    if !is_integer(ts) {
        return Err(Violation::new(
            Rule::WrongType(ValueType::Integer),
            "playerTime.ts",
        ));
    }
    if ts.as_u64().is_none() {
        return Err(Violation::new(Rule::Negative, "playerTime.ts"));
    }
    Ok(())
}

fn validate_params(value: &Value, strict: bool) -> Result<(), Violation> {
    let params = object(value, "params")?;
    for param in catalogue::PARAMS.iter().filter(|p| p.required) {
        if !params.contains_key(param.key) {
            return Err(Violation::new(
                Rule::MissingParam,
                format!("params.{}", param.key),
            ));
        }
    }
    for (key, value) in params {
        let Some(param) = catalogue::param(key) else {
            if strict {
                return Err(Violation::new(Rule::UnknownParam, format!("params.{key}")));
            }
            continue;
        };
        let field = || format!("params.{key}");
        let type_ok = match param.ty {
            ValueType::String => value.is_string(),
            ValueType::Number => value.is_number(),
            ValueType::Integer => is_integer(value),
            ValueType::Boolean => value.is_boolean(),
            ValueType::CustomerIds if strict => {
                validate_customer_ids(value, &field())?;
                true
            }
            ValueType::CustomerIds => value.is_object(),
        };
        if !type_ok {
            return Err(Violation::new(Rule::WrongType(param.ty), field()));
        }
        match param.constraint {
            Constraint::None => {}
            // mcload's own value rules.
            Constraint::NonEmpty | Constraint::Positive | Constraint::OneOf(_) if !strict => {}
            Constraint::NonEmpty => {
                if value.as_str().is_some_and(str::is_empty) {
                    return Err(Violation::new(Rule::EmptyString, field()));
                }
            }
            Constraint::Positive => {
                if value.as_f64().is_none_or(|n| n <= 0.0) {
                    return Err(Violation::new(Rule::NotPositive, field()));
                }
            }
            Constraint::OneOf(allowed) => {
                if !value.as_str().is_some_and(|s| allowed.contains(&s)) {
                    return Err(Violation::new(Rule::NotAllowed(allowed), field()));
                }
            }
            Constraint::NotTrue => {
                if value.as_bool() == Some(true) {
                    return Err(Violation::new(Rule::DownloadedTrue, field()));
                }
            }
        }
    }
    Ok(())
}

fn validate_customer_ids(value: &Value, field: &str) -> Result<(), Violation> {
    let ids = value
        .as_object()
        .ok_or_else(|| Violation::new(Rule::WrongType(ValueType::CustomerIds), field))?;
    for (name, entry) in ids {
        let bad = || Violation::new(Rule::BadCustomerId, format!("{field}.{name}"));
        let entry = entry.as_object().ok_or_else(bad)?;
        let id_ok = entry.get("id").is_some_and(Value::is_string);
        let auth_ok = entry
            .get("authState")
            .and_then(Value::as_u64)
            .is_some_and(|a| a <= 2);
        if !id_ok || !auth_ok || entry.len() != 2 {
            return Err(bad());
        }
    }
    Ok(())
}

fn validate_custom_metadata(metadata: &Map<String, Value>) -> Result<(), Violation> {
    for (key, value) in metadata {
        catalogue::check_metadata_key(key).map_err(|problem| {
            Violation::new(
                Rule::BadMetadataKey(problem),
                format!("customMetadata.{key}"),
            )
        })?;
        if !value.is_string() {
            return Err(Violation::new(
                Rule::MetadataNotString,
                format!("customMetadata.{key}"),
            ));
        }
    }
    Ok(())
}

fn validate_qoe(qoe: &Map<String, Value>) -> Result<(), Violation> {
    for (key, value) in qoe {
        let spec = catalogue::qoe_key(key)
            .ok_or_else(|| Violation::new(Rule::UnknownQoeKey, format!("qoeData.{key}")))?;
        let ok = match spec.ty {
            ValueType::Integer => is_integer(value),
            _ => value.is_string(),
        };
        if !ok {
            return Err(Violation::new(
                Rule::WrongType(spec.ty),
                format!("qoeData.{key}"),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A body that follows every rule, with one of each kind of member.
    fn valid_body() -> Value {
        json!({
            "playerTime": {"playhead": 0, "ts": 1509045324153u64},
            "eventType": "sessionStart",
            "params": {
                "analytics.trackingServer": "example.sc.omtrdc.net",
                "analytics.reportSuite": "example-rsid",
                "visitor.marketingCloudOrgId": "0123456789ABCDEF0123456789@AdobeOrg",
                "media.id": "MA API Sample Player",
                "media.length": 60.39333333333333,
                "media.contentType": "VOD",
                "media.playerName": "sample-html5-api-player",
                "media.channel": "sample-channel",
                "media.name": "ClickMe",
                "media.sdkVersion": "va-api-0.0.0",
                "analytics.enableSSL": false,
                "visitor.aamLocationHint": 9,
                "visitor.customerIDs": {"userId": {"id": "u-1", "authState": 1}},
                "media.streamType": "video",
                "media.showType": "2",
                "media.downloaded": false
            },
            "customMetadata": {"myCustomData": "x", "cms.tier": "gold"},
            "qoeData": {"media.qoe.bitrate": 3000000, "media.qoe.errorID": "e1"}
        })
    }

    /// A change that should make the valid body invalid.
    type Mutation = Box<dyn Fn(&mut Value)>;

    /// The valid body changed by `mutate`, judged by the strict rules.
    fn with(mutate: impl FnOnce(&mut Value)) -> Result<(), Violation> {
        with_rules(RuleSet::Strict, mutate)
    }

    fn with_rules(rules: RuleSet, mutate: impl FnOnce(&mut Value)) -> Result<(), Violation> {
        let mut body = valid_body();
        mutate(&mut body);
        validate(&body, rules)
    }

    fn rule_of(result: Result<(), Violation>) -> (&'static str, String) {
        let v = result.expect_err("the body should have been rejected");
        (v.rule.code(), v.field)
    }

    #[test]
    fn a_body_with_one_of_each_member_is_valid_under_both_rule_sets() {
        for rules in RuleSet::ALL {
            assert_eq!(validate(&valid_body(), rules), Ok(()));
            assert_eq!(
                validate_bytes(serde_json::to_vec(&valid_body()).unwrap().as_slice(), rules),
                Ok(())
            );
        }
    }

    #[test]
    fn minimal_body_with_only_required_members_is_valid() {
        let mut body = valid_body();
        let top = body.as_object_mut().unwrap();
        top.remove("customMetadata");
        top.remove("qoeData");
        let params = top["params"].as_object_mut().unwrap();
        params.retain(|k, _| catalogue::param(k).unwrap().required);
        assert_eq!(params.len(), catalogue::REQUIRED_COUNT);
        assert_eq!(validate(&body, RuleSet::Strict), Ok(()));
        assert_eq!(validate(&body, RuleSet::Documented), Ok(()));
    }

    #[test]
    fn each_missing_top_level_member_is_rejected() {
        for member in ["eventType", "playerTime", "params"] {
            let result = with(|b| {
                b.as_object_mut().unwrap().remove(member);
            });
            assert_eq!(rule_of(result), ("missing_member", member.to_string()));
        }
        for member in ["playhead", "ts"] {
            let result = with(|b| {
                b["playerTime"].as_object_mut().unwrap().remove(member);
            });
            assert_eq!(
                rule_of(result),
                ("missing_member", format!("playerTime.{member}"))
            );
        }
    }

    #[test]
    fn each_missing_required_param_is_rejected() {
        for param in catalogue::PARAMS.iter().filter(|p| p.required) {
            let result = with(|b| {
                b["params"].as_object_mut().unwrap().remove(param.key);
            });
            assert_eq!(
                rule_of(result),
                ("missing_param", format!("params.{}", param.key)),
                "{}",
                param.key
            );
        }
    }

    /// A value of the wrong type for each JSON type in the catalogue.
    fn wrong_value_for(ty: ValueType) -> Value {
        match ty {
            ValueType::String => json!(42),
            ValueType::Number => json!("60"),
            ValueType::Integer => json!(1.5),
            ValueType::Boolean => json!("false"),
            ValueType::CustomerIds => json!(["u-1"]),
        }
    }

    #[test]
    fn each_param_with_a_wrong_type_is_rejected() {
        for param in catalogue::PARAMS {
            let result = with(|b| {
                b["params"][param.key] = wrong_value_for(param.ty);
            });
            assert_eq!(
                rule_of(result),
                ("wrong_type", format!("params.{}", param.key)),
                "{}",
                param.key
            );
        }
    }

    #[test]
    fn documented_type_errors_are_rejected() {
        // The documented type errors: Adobe's quick start names the string
        // `media.length` and `analytics.enableSSL` as examples.
        let cases: Vec<(&str, Mutation)> = vec![
            (
                "params.media.length",
                Box::new(|b| b["params"]["media.length"] = json!("60.3")),
            ),
            (
                "params.analytics.enableSSL",
                Box::new(|b| b["params"]["analytics.enableSSL"] = json!("true")),
            ),
            (
                "playerTime.ts",
                Box::new(|b| b["playerTime"]["ts"] = json!("1509045324153")),
            ),
            (
                "playerTime.ts",
                Box::new(|b| b["playerTime"]["ts"] = json!(1509045324153.5)),
            ),
            (
                "playerTime.playhead",
                Box::new(|b| b["playerTime"]["playhead"] = json!("0")),
            ),
            ("eventType", Box::new(|b| b["eventType"] = json!(1))),
        ];
        for (field, mutate) in cases {
            let result = with(|b| mutate(b));
            assert_eq!(rule_of(result), ("wrong_type", field.to_string()));
        }
    }

    #[test]
    fn documented_400_triggers_are_rejected() {
        let cases: Vec<(&str, &str, Mutation)> = vec![
            (
                "wrong_event_type",
                "eventType",
                Box::new(|b| b["eventType"] = json!("play")),
            ),
            (
                "wrong_event_type",
                "eventType",
                Box::new(|b| b["eventType"] = json!("SessionStart")),
            ),
            (
                "downloaded_true",
                "params.media.downloaded",
                Box::new(|b| b["params"]["media.downloaded"] = json!(true)),
            ),
            (
                "unknown_member",
                "extra",
                Box::new(|b| b["extra"] = json!(1)),
            ),
            (
                "unknown_member",
                "playerTime.speed",
                Box::new(|b| b["playerTime"]["speed"] = json!(1)),
            ),
            (
                "unknown_param",
                "params.media.uniqueTimePlayed",
                Box::new(|b| b["params"]["media.uniqueTimePlayed"] = json!(1)),
            ),
            (
                "unknown_qoe_key",
                "qoeData.param1",
                Box::new(|b| b["qoeData"]["param1"] = json!(1)),
            ),
            (
                "wrong_type",
                "qoeData.media.qoe.bitrate",
                Box::new(|b| b["qoeData"]["media.qoe.bitrate"] = json!(1.5)),
            ),
            (
                "wrong_type",
                "qoeData.media.qoe.errorID",
                Box::new(|b| b["qoeData"]["media.qoe.errorID"] = json!(7)),
            ),
            (
                "bad_custom_metadata_key",
                "customMetadata.bad-key",
                Box::new(|b| b["customMetadata"]["bad-key"] = json!("x")),
            ),
            (
                "bad_custom_metadata_key",
                "customMetadata.a.reserved",
                Box::new(|b| b["customMetadata"]["a.reserved"] = json!("x")),
            ),
            (
                "custom_metadata_not_string",
                "customMetadata.count",
                Box::new(|b| b["customMetadata"]["count"] = json!(3)),
            ),
        ];
        for (code, field, mutate) in cases {
            let result = with(|b| mutate(b));
            assert_eq!(rule_of(result), (code, field.to_string()));
        }
    }

    #[test]
    fn value_rules_of_mcload_choices_are_enforced() {
        let cases: Vec<(&str, &str, Mutation)> = vec![
            (
                "empty_string",
                "params.media.id",
                Box::new(|b| b["params"]["media.id"] = json!("")),
            ),
            (
                "not_positive",
                "params.media.length",
                Box::new(|b| b["params"]["media.length"] = json!(0)),
            ),
            (
                "not_positive",
                "params.media.length",
                Box::new(|b| b["params"]["media.length"] = json!(-5.5)),
            ),
            (
                "negative",
                "playerTime.playhead",
                Box::new(|b| b["playerTime"]["playhead"] = json!(-1)),
            ),
            (
                "negative",
                "playerTime.ts",
                Box::new(|b| b["playerTime"]["ts"] = json!(-1)),
            ),
            (
                "not_allowed",
                "params.media.streamType",
                Box::new(|b| b["params"]["media.streamType"] = json!("VIDEO")),
            ),
            (
                "not_allowed",
                "params.media.showType",
                Box::new(|b| b["params"]["media.showType"] = json!("4")),
            ),
            (
                "bad_customer_id",
                "params.visitor.customerIDs.userId",
                Box::new(|b| b["params"]["visitor.customerIDs"]["userId"]["authState"] = json!(3)),
            ),
            (
                "bad_customer_id",
                "params.visitor.customerIDs.crm",
                Box::new(|b| {
                    b["params"]["visitor.customerIDs"]["crm"] = json!({"id": 5, "authState": 0})
                }),
            ),
        ];
        for (code, field, mutate) in cases {
            let result = with(|b| mutate(b));
            assert_eq!(rule_of(result), (code, field.to_string()));
        }
    }

    #[test]
    fn members_that_must_be_objects_are_checked() {
        for member in ["playerTime", "params", "customMetadata", "qoeData"] {
            let result = with(|b| b[member] = json!([]));
            assert_eq!(rule_of(result), ("not_an_object", member.to_string()));
        }
        assert_eq!(
            rule_of(validate(&json!([1]), RuleSet::Strict)),
            ("not_an_object", "".into())
        );
    }

    #[test]
    fn bodies_that_are_not_json_are_rejected() {
        for body in [&b""[..], b"{", b"not json", b"\xff\xfe", b"{\"a\":1}}"] {
            for rules in RuleSet::ALL {
                assert_eq!(
                    validate_bytes(body, rules).map_err(|v| v.rule),
                    Err(Rule::NotJson),
                    "{body:?}"
                );
            }
        }
    }

    #[test]
    fn violations_read_as_sentences_naming_the_field() {
        let v = with(|b| b["params"]["media.length"] = json!("60")).unwrap_err();
        assert_eq!(v.to_string(), "params.media.length must be a number");
        let v = with(|b| {
            b["params"].as_object_mut().unwrap().remove("media.id");
        })
        .unwrap_err();
        assert_eq!(v.to_string(), "params.media.id is a required param");
    }

    /// The "Sessions request" page's sample body, with its `...`
    /// placeholder lines removed so that it is JSON.
    const PAGE_SAMPLE: &str = include_str!("../../tests/fixtures/sessions-page-sample.json");

    #[test]
    fn the_page_sample_is_accepted_as_documented_and_rejected_by_strict_at_qoe_data_param1() {
        assert_eq!(
            validate_bytes(PAGE_SAMPLE.as_bytes(), RuleSet::Documented),
            Ok(())
        );
        let violation = validate_bytes(PAGE_SAMPLE.as_bytes(), RuleSet::Strict).unwrap_err();
        assert_eq!(violation.rule, Rule::UnknownQoeKey);
        assert_eq!(violation.field, "qoeData.param1");
        assert_eq!(
            violation.to_string(),
            "qoeData.param1 is not a known QoE key"
        );
    }

    #[test]
    fn a_fractional_playhead_is_valid_under_both_rule_sets() {
        for playhead in [json!(0.0), json!(12.345), json!(86_399.999)] {
            for rules in RuleSet::ALL {
                assert_eq!(
                    with_rules(rules, |b| b["playerTime"]["playhead"] = playhead.clone()),
                    Ok(()),
                    "{playhead} under {rules}"
                );
            }
        }
    }

    #[test]
    fn documented_lets_through_what_only_the_schema_or_mcload_forbids() {
        let cases: Vec<(&str, &str, Mutation)> = vec![
            (
                "unknown_member",
                "extra",
                Box::new(|b| b["extra"] = json!(1)),
            ),
            (
                "unknown_member",
                "playerTime.speed",
                Box::new(|b| b["playerTime"]["speed"] = json!(1)),
            ),
            (
                "unknown_param",
                "params.media.colour",
                Box::new(|b| b["params"]["media.colour"] = json!("red")),
            ),
            (
                "unknown_qoe_key",
                "qoeData.param1",
                Box::new(|b| b["qoeData"]["param1"] = json!("x")),
            ),
            (
                "wrong_type",
                "qoeData.media.qoe.bitrate",
                Box::new(|b| b["qoeData"]["media.qoe.bitrate"] = json!(1.5)),
            ),
            (
                "bad_custom_metadata_key",
                "customMetadata.bad-key",
                Box::new(|b| b["customMetadata"]["bad-key"] = json!("x")),
            ),
            (
                "bad_custom_metadata_key",
                "customMetadata.media.x",
                Box::new(|b| b["customMetadata"]["media.x"] = json!("x")),
            ),
            (
                "custom_metadata_not_string",
                "customMetadata.count",
                Box::new(|b| b["customMetadata"]["count"] = json!(3)),
            ),
            (
                "wrong_type",
                "playerTime.ts",
                Box::new(|b| b["playerTime"]["ts"] = json!(1509045324153.5)),
            ),
            (
                "negative",
                "playerTime.ts",
                Box::new(|b| b["playerTime"]["ts"] = json!(-1)),
            ),
            (
                "empty_string",
                "params.media.id",
                Box::new(|b| b["params"]["media.id"] = json!("")),
            ),
            (
                "not_positive",
                "params.media.length",
                Box::new(|b| b["params"]["media.length"] = json!(0)),
            ),
            (
                "not_allowed",
                "params.media.streamType",
                Box::new(|b| b["params"]["media.streamType"] = json!("VIDEO")),
            ),
            (
                "not_allowed",
                "params.media.showType",
                Box::new(|b| b["params"]["media.showType"] = json!("4")),
            ),
            (
                "bad_customer_id",
                "params.visitor.customerIDs.userId",
                Box::new(|b| b["params"]["visitor.customerIDs"]["userId"]["authState"] = json!(3)),
            ),
        ];
        for (code, field, mutate) in cases {
            let mut body = valid_body();
            mutate(&mut body);
            assert_eq!(
                rule_of(validate(&body, RuleSet::Strict)),
                (code, field.to_string())
            );
            assert_eq!(
                validate(&body, RuleSet::Documented),
                Ok(()),
                "{code} at {field}"
            );
        }
    }

    #[test]
    fn documented_still_rejects_what_the_documents_state() {
        let cases: Vec<(&str, &str, Mutation)> = vec![
            (
                "missing_member",
                "playerTime",
                Box::new(|b| {
                    b.as_object_mut().unwrap().remove("playerTime");
                }),
            ),
            (
                "missing_member",
                "playerTime.ts",
                Box::new(|b| {
                    b["playerTime"].as_object_mut().unwrap().remove("ts");
                }),
            ),
            (
                "missing_param",
                "params.media.channel",
                Box::new(|b| {
                    b["params"].as_object_mut().unwrap().remove("media.channel");
                }),
            ),
            (
                "wrong_event_type",
                "eventType",
                Box::new(|b| b["eventType"] = json!("play")),
            ),
            (
                "wrong_type",
                "eventType",
                Box::new(|b| b["eventType"] = json!(1)),
            ),
            (
                "wrong_type",
                "playerTime.playhead",
                Box::new(|b| b["playerTime"]["playhead"] = json!("0")),
            ),
            (
                "negative",
                "playerTime.playhead",
                Box::new(|b| b["playerTime"]["playhead"] = json!(-0.5)),
            ),
            (
                "wrong_type",
                "playerTime.ts",
                Box::new(|b| b["playerTime"]["ts"] = json!("1509045324153")),
            ),
            (
                "wrong_type",
                "params.media.length",
                Box::new(|b| b["params"]["media.length"] = json!("60")),
            ),
            (
                "wrong_type",
                "params.analytics.enableSSL",
                Box::new(|b| b["params"]["analytics.enableSSL"] = json!("true")),
            ),
            (
                "wrong_type",
                "params.visitor.aamLocationHint",
                Box::new(|b| b["params"]["visitor.aamLocationHint"] = json!(1.5)),
            ),
            (
                "wrong_type",
                "params.visitor.customerIDs",
                Box::new(|b| b["params"]["visitor.customerIDs"] = json!(["u-1"])),
            ),
            (
                "downloaded_true",
                "params.media.downloaded",
                Box::new(|b| b["params"]["media.downloaded"] = json!(true)),
            ),
            (
                "not_an_object",
                "customMetadata",
                Box::new(|b| b["customMetadata"] = json!("x")),
            ),
            (
                "not_an_object",
                "qoeData",
                Box::new(|b| b["qoeData"] = json!([])),
            ),
        ];
        for (code, field, mutate) in cases {
            let mut body = valid_body();
            mutate(&mut body);
            for rules in RuleSet::ALL {
                assert_eq!(
                    rule_of(validate(&body, rules)),
                    (code, field.to_string()),
                    "under {rules}"
                );
            }
        }
        // The documented ts is a number; only strict asks for an integer.
        let v = with_rules(RuleSet::Documented, |b| b["playerTime"]["ts"] = json!(true));
        assert_eq!(v.unwrap_err().to_string(), "playerTime.ts must be a number");
    }
}
