//! What each command does, by wiring the modules together. The CLI parses
//! flags into these functions' arguments and maps their results to exit
//! codes; nothing here parses flags or exits.

pub mod compare;
pub mod run;
pub mod sample;
pub mod schema;
pub mod serve;
pub mod validate;

/// How a command ended, as its exit code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// Ran, and every check held.
    Ok = 0,
    /// Ran, and a threshold or a check failed.
    CheckFailed = 1,
    /// Bad usage, bad scenario or bad input; nothing was sent.
    BadInput = 2,
    /// The run could not proceed (target unreachable at start).
    Unreachable = 3,
    /// Stopped by Ctrl-C or SIGTERM; the report was still written.
    Interrupted = 130,
}

/// A command that failed, with the exit code the failure calls for.
#[derive(Debug)]
pub struct Failure {
    pub exit: Exit,
    pub error: anyhow::Error,
}

impl Failure {
    pub fn bad_input(error: impl Into<anyhow::Error>) -> Failure {
        Failure {
            exit: Exit::BadInput,
            error: error.into(),
        }
    }

    pub fn unreachable(error: impl Into<anyhow::Error>) -> Failure {
        Failure {
            exit: Exit::Unreachable,
            error: error.into(),
        }
    }
}

pub type CommandResult = Result<Exit, Failure>;
