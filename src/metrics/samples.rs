//! The first reason seen for each kind of failure: what a summary shows
//! beside a count of errors, so `errors.tls 12` comes with "the
//! certificate is self-signed" rather than alone.

use std::fmt;

use super::counts::{KINDS, Kind};
use crate::engine::Class;

/// At most one reason per kind of outcome: the first one recorded.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ErrorSamples([Option<String>; KINDS]);

impl ErrorSamples {
    /// Keeps `reason` when it is the first for `class`'s kind; the text is
    /// made only then, so a failing target costs one formatting per kind.
    #[inline]
    pub fn add(&mut self, class: Class, reason: &dyn fmt::Display) {
        let slot = &mut self.0[Kind::of(class) as usize];
        if slot.is_none() {
            *slot = Some(reason.to_string());
        }
    }

    /// The first reason recorded for `kind`.
    pub fn get(&self, kind: Kind) -> Option<&str> {
        self.0[kind as usize].as_deref()
    }

    /// Every kind with a reason, in [`Kind::ALL`] order.
    pub fn iter(&self) -> impl Iterator<Item = (Kind, &str)> {
        Kind::ALL
            .into_iter()
            .filter_map(|kind| self.get(kind).map(|reason| (kind, reason)))
    }

    /// Fills the kinds that have no reason yet from `other` (the threads'
    /// samples merged in thread order).
    pub fn merge(&mut self, other: ErrorSamples) {
        for (mine, theirs) in self.0.iter_mut().zip(other.0) {
            if mine.is_none() {
                *mine = theirs;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_reason_of_each_kind_is_kept_and_merged_in_order() {
        let mut first = ErrorSamples::default();
        first.add(Class::Connect, &"refused");
        first.add(Class::Connect, &"unreachable");
        first.add(Class::TimeoutNeverSent, &"no connection was free");
        let mut second = ErrorSamples::default();
        second.add(Class::Connect, &"reset");
        second.add(Class::Tls, &"the certificate is self-signed");
        first.merge(second);
        assert_eq!(first.get(Kind::Connect), Some("refused"));
        assert_eq!(first.get(Kind::Tls), Some("the certificate is self-signed"));
        assert_eq!(first.get(Kind::Io), None);
        let kinds: Vec<Kind> = first.iter().map(|(k, _)| k).collect();
        assert_eq!(kinds, [Kind::Connect, Kind::TimeoutNeverSent, Kind::Tls]);
    }
}
