//! The rule sets a sessions endpoint may apply. `docs/contract.md` lists
//! every rule with the sets that enforce it.

/// Which rules an endpoint enforces: what the reference server checks, and
/// what mcload expects of a target when it judges the answers to invalid
/// bodies.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum RuleSet {
    /// Every rule: what Adobe's documentation states, the 2018 JSON
    /// schema's closed key sets and types, and mcload's own value rules
    /// (the reference server's default).
    #[default]
    Strict,
    /// Only what Adobe's documentation states as a requirement: the
    /// "Sessions request" page's body shape (JSON, the mandatory members,
    /// `eventType`, a playhead that is a number not below 0, a timestamp
    /// in milliseconds) and the documented required params, their types
    /// and the `media.downloaded` rule. Keys the documents do not list are
    /// let through, so the page's own sample body is accepted.
    Documented,
}

impl RuleSet {
    pub const ALL: [RuleSet; 2] = [RuleSet::Strict, RuleSet::Documented];

    /// The name used in flags, scenario files and reports.
    pub fn name(self) -> &'static str {
        match self {
            RuleSet::Strict => "strict",
            RuleSet::Documented => "documented",
        }
    }

    pub fn from_name(name: &str) -> Option<RuleSet> {
        RuleSet::ALL.into_iter().find(|r| r.name() == name)
    }

    /// One line on what the rule set enforces, for banners and help.
    pub fn summary(self) -> &'static str {
        match self {
            RuleSet::Strict => {
                "every rule: the documented ones, the 2018 schema's closed key sets \
                 and types, and mcload's value rules"
            }
            RuleSet::Documented => {
                "only what Adobe's documentation states; unknown keys and the \
                 schema-only rules pass"
            }
        }
    }
}

/// A rule-set name that is neither `strict` nor `documented`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a rule set; use strict or documented")]
pub struct UnknownRuleSet(pub String);

impl std::str::FromStr for RuleSet {
    type Err = UnknownRuleSet;

    fn from_str(name: &str) -> Result<RuleSet, UnknownRuleSet> {
        RuleSet::from_name(name).ok_or_else(|| UnknownRuleSet(name.to_string()))
    }
}

impl std::fmt::Display for RuleSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_strict_is_the_default() {
        for rules in RuleSet::ALL {
            assert_eq!(RuleSet::from_name(rules.name()), Some(rules));
            assert_eq!(rules.to_string(), rules.name());
        }
        assert_eq!(RuleSet::from_name("lenient"), None);
        assert_eq!("documented".parse(), Ok(RuleSet::Documented));
        let err = "Strict".parse::<RuleSet>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "\"Strict\" is not a rule set; use strict or documented"
        );
        assert_eq!(RuleSet::default(), RuleSet::Strict);
    }
}
