//! The verdict of a run: the causes that fail it, from what its report
//! holds.

use super::{RunReport, ServerCheck};
use crate::checks::Check;
use crate::verdict::Cause;

impl RunReport {
    /// The verdict's causes, in the order they are judged: from the run's
    /// facts, its judged thresholds and `hlog_error` (the interval log that
    /// could not be written). `run` judges a finished run with it, and
    /// `mcload report` a saved one read back.
    pub fn judge(&self, hlog_error: Option<String>) -> Vec<Cause> {
        let mut causes = Vec::new();
        if let Some(e) = hlog_error {
            causes.push(Cause::HlogFailed(e));
        }
        if self.interrupted {
            causes.push(Cause::Interrupted);
        }
        if !self.accounted() {
            causes.push(Cause::NotAccounted);
        }
        if let Some(failure) = &self.generator.failure {
            causes.push(Cause::EngineFailed(failure.clone()));
        }
        let local = self.local_errors();
        if local > 0 {
            causes.push(Cause::LocalErrors { count: local });
        }
        if self.server_check() == Some(ServerCheck::Different) {
            causes.push(Cause::ServerCountsDiffer);
        }
        // Every check but `unexpected_status`, which the thresholds judge
        // (through `unexpected`), fails the run when it is not zero.
        for check in Check::ALL {
            let count = self.checks.count(check);
            if check != Check::UnexpectedStatus && count > 0 {
                causes.push(Cause::CheckFailed { check, count });
            }
        }
        // A threshold that stopped the run is its cause, said once.
        if let Some(aborted) = &self.aborted {
            causes.push(Cause::aborted(aborted));
        }
        let stopper = self.aborted.as_ref().map(|a| &a.threshold);
        causes.extend(
            self.thresholds
                .iter()
                .filter(|e| !e.pass && Some(&e.threshold) != stopper)
                .map(Cause::threshold),
        );
        causes
    }
}
