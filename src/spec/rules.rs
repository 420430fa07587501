//! The rule sets a sessions endpoint may apply.

/// Which rules an endpoint enforces: what the reference server checks, and
/// what mcload expects of a target when it judges the answers to invalid
/// bodies.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum RuleSet {
    /// Everything the "Sessions request" page states, plus the 2018 schema's
    /// closed key sets and types (mcload's reference server by default).
    #[default]
    Strict,
    /// Only what the "Sessions request" page states.
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
}
