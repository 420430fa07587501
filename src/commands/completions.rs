//! `mcload completions SHELL` and `mcload man`: the shell completion
//! scripts and the man page, both generated from the command-line
//! definition the CLI parses with, so they list every subcommand and flag.

use std::io::{self, Write};

use clap_complete::Shell;
use clap_mangen::Man;

use super::CommandResult;
#[cfg(test)]
use super::Exit;

/// Prints the completion script of `shell` for `cmd` to `out`.
pub fn completions(shell: Shell, mut cmd: clap::Command, out: &mut impl Write) -> CommandResult {
    // clap_complete panics on a failed write, so it writes to memory and
    // the write to `out` below is the one that can fail.
    let mut script = Vec::new();
    let name = cmd.get_name().to_string();
    clap_complete::generate(shell, &mut cmd, name, &mut script);
    super::print_document(&script, out, "the completion script")
}

/// Prints the man page (roff) of `cmd` to `out`: the command's own page,
/// then one section per subcommand with its synopsis, options and
/// examples, so that one page holds everything `--help` says.
pub fn man(cmd: clap::Command, out: &mut impl Write) -> CommandResult {
    let mut cmd = cmd.disable_help_subcommand(true);
    // Building gives each subcommand its full name (`mcload run`) for its synopsis.
    cmd.build();
    let mut page = Vec::new();
    render_man(&cmd, &mut page).expect("writing to memory cannot fail");
    super::print_document(&page, out, "the man page")
}

fn render_man(cmd: &clap::Command, page: &mut Vec<u8>) -> io::Result<()> {
    let mut top = Vec::new();
    Man::new(cmd.clone()).render(&mut top)?;
    // clap_mangen lists subcommands as pages of their own (`mcload-run(1)`);
    // here they are sections of this page, named as they are typed.
    let refs: Vec<(String, String)> = cmd
        .get_subcommands()
        .map(|s| {
            let page = format!("{}-{}(1)", cmd.get_name(), s.get_name()).replace('-', "\\-");
            (page, format!("\\fB{} {}\\fR", cmd.get_name(), s.get_name()))
        })
        .collect();
    for line in String::from_utf8_lossy(&top).lines() {
        match refs.iter().find(|(page, _)| page == line) {
            Some((_, name)) => writeln!(page, "{name}")?,
            None if line == ".SH EXTRA" => writeln!(page, ".SH \"EXAMPLES AND EXIT CODES\"")?,
            None => writeln!(page, "{line}")?,
        }
    }
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        let title = sub
            .get_bin_name()
            .unwrap_or_else(|| sub.get_name())
            .to_uppercase();
        writeln!(page, ".SH \"{title}\"")?;
        let man = Man::new(sub.clone());
        let mut parts = Vec::new();
        man.render_description_section(&mut parts)?;
        man.render_synopsis_section(&mut parts)?;
        man.render_options_section(&mut parts)?;
        if sub.get_after_help().is_some() {
            man.render_extra_section(&mut parts)?;
        }
        // The subcommand's sections become subsections of its own section.
        let parts = String::from_utf8_lossy(&parts);
        for line in parts.lines() {
            match line.strip_prefix(".SH ") {
                Some("EXTRA") => writeln!(page, ".SS EXAMPLES AND NOTES")?,
                Some(heading) => writeln!(page, ".SS {heading}")?,
                None => writeln!(page, "{line}")?,
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmd() -> clap::Command {
        clap::Command::new("demo")
            .about("A demo")
            .subcommand(
                clap::Command::new("go")
                    .about("Goes")
                    .arg(clap::Arg::new("fast").long("fast").help("Go fast"))
                    .after_help("Examples:\n  demo go --fast 1"),
            )
            .subcommand(clap::Command::new("stop").about("Stops"))
    }

    use crate::commands::FailingWriter as Failing;

    #[test]
    fn the_man_page_gives_each_subcommand_a_section_with_its_options_and_examples() {
        let mut out = Vec::new();
        assert_eq!(man(cmd(), &mut out).unwrap(), Exit::Ok);
        let page = String::from_utf8(out).unwrap();
        assert!(page.contains("\n.TH demo 1"), "{page}");
        assert!(!page.contains("demo\\-go(1)"), "no page of its own: {page}");
        for expected in [
            "\\fBdemo go\\fR\nGoes",
            ".SH \"DEMO GO\"",
            ".SH \"DEMO STOP\"",
            ".SS OPTIONS",
            "fast",
            ".SS EXAMPLES AND NOTES",
        ] {
            assert!(page.contains(expected), "{expected}: {page}");
        }
        // Only the page's own sections are top-level.
        let top: Vec<&str> = page.lines().filter(|l| l.starts_with(".SH ")).collect();
        assert_eq!(
            top,
            [
                ".SH NAME",
                ".SH SYNOPSIS",
                ".SH DESCRIPTION",
                ".SH OPTIONS",
                ".SH SUBCOMMANDS",
                ".SH \"DEMO GO\"",
                ".SH \"DEMO STOP\""
            ]
        );
    }

    #[test]
    fn a_closed_pipe_is_no_failure_and_other_write_errors_exit_2() {
        let ok = completions(Shell::Bash, cmd(), &mut Failing(io::ErrorKind::BrokenPipe));
        assert_eq!(ok.unwrap(), Exit::Ok);
        let failed = man(cmd(), &mut Failing(io::ErrorKind::StorageFull)).unwrap_err();
        assert_eq!(failed.exit, Exit::BadInput);
        assert!(format!("{:#}", failed.error).contains("writing the man page"));
    }
}
