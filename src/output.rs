//! Printing to stdout and stderr that never panics. `println!` and
//! `eprintln!` panic when the stream is a closed pipe (`mcload run … 2>&1 |
//! head -3`); mcload keeps going instead, so the run ends and its report
//! files are still written. Resetting SIGPIPE to its default would be
//! simpler, but it kills the process before those files are written.

use std::fmt;
use std::io::{self, Write};

/// Writes a line to stderr; a write that fails (a closed pipe, a full
/// disk) is let go: there is nowhere left to say so.
pub fn eprintln(args: fmt::Arguments<'_>) {
    let mut err = io::stderr().lock();
    let _ = err.write_fmt(args).and_then(|()| err.write_all(b"\n"));
}

/// Writes a line to stdout, letting a failed write go as
/// [`eprintln`](fn@eprintln) does.
pub fn println(args: fmt::Arguments<'_>) {
    let mut out = io::stdout().lock();
    let _ = out
        .write_fmt(args)
        .and_then(|()| out.write_all(b"\n"))
        .and_then(|()| out.flush());
}

/// `result` with a broken pipe counted as done: the reader went away
/// (`| head`), which is no failure of the command.
pub fn ignore_broken_pipe(result: io::Result<()>) -> io::Result<()> {
    match result {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_broken_pipe_is_let_go() {
        let broken = io::Error::from(io::ErrorKind::BrokenPipe);
        assert!(ignore_broken_pipe(Err(broken)).is_ok());
        let full = io::Error::from(io::ErrorKind::StorageFull);
        assert!(ignore_broken_pipe(Err(full)).is_err());
        assert!(ignore_broken_pipe(Ok(())).is_ok());
    }
}
