//! What each command does, by wiring the modules together. The CLI parses
//! flags into these functions' arguments and maps their results to exit
//! codes; nothing here parses flags or exits.

pub mod compare;
pub mod completions;
pub mod merge;
pub mod report;
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
    /// The run finished, but an output file could not be written (the text
    /// summary still printed).
    OutputFailed = 4,
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

/// Writes a whole document (a schema, a completion script, the man page)
/// to `out`; a reader that stops early (`| head`) is no failure.
fn print_document(text: &[u8], out: &mut impl std::io::Write, what: &str) -> CommandResult {
    crate::output::ignore_broken_pipe(out.write_all(text).and_then(|()| out.flush())).map_err(
        |e| Failure::bad_input(anyhow::Error::new(e).context(format!("writing {what} to stdout"))),
    )?;
    Ok(Exit::Ok)
}

/// A writer whose every write fails with its error kind.
#[cfg(test)]
struct FailingWriter(std::io::ErrorKind);

#[cfg(test)]
impl std::io::Write for FailingWriter {
    fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
        Err(self.0.into())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Whether mcload runs under GitHub Actions (`GITHUB_ACTIONS=true`).
fn under_github_actions() -> bool {
    std::env::var_os("GITHUB_ACTIONS").is_some_and(|v| v == "true")
}

/// Appends `markdown` to the file `GITHUB_STEP_SUMMARY` names, when it
/// names one. A summary that cannot be written is said on stderr and
/// leaves the exit code be.
fn append_step_summary(markdown: &[u8]) {
    let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty()) else {
        return;
    };
    let path = std::path::PathBuf::from(path);
    let appended = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .and_then(|mut f| std::io::Write::write_all(&mut f, markdown));
    if let Err(e) = appended {
        crate::output::eprintln(format_args!(
            "mcload: cannot append to GITHUB_STEP_SUMMARY ({}): {e}",
            path.display()
        ));
    }
}
