//! `mcload completions SHELL` and `mcload man`: scripts a shell loads, and a
//! man page that `man` renders, each naming every subcommand.

use std::process::{Command, Stdio};

use crate::util::{mcload, temp_dir};

/// Every subcommand a user can type.
const SUBCOMMANDS: [&str; 9] = [
    "run",
    "sample",
    "validate",
    "serve",
    "compare",
    "report",
    "schema",
    "completions",
    "man",
];

/// What `mcload ARGS` printed on stdout, after checking it exited 0.
fn printed(args: &[&str]) -> String {
    let out = mcload().args(args).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "mcload {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Whether `program` can be run here.
fn have(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

/// The bash script parses (`bash -n`), sourcing it registers a completion
/// for `mcload` (`complete -p mcload` prints it), and the function it
/// registers completes `mcload com` to the two subcommands.
#[test]
fn the_bash_completion_parses_and_registers_mcload() {
    let script = printed(&["completions", "bash"]);
    if !have("bash") {
        eprintln!("skipped: bash is not installed");
        return;
    }
    let path = temp_dir("completions").join("mcload.bash");
    std::fs::write(&path, &script).unwrap();
    let check = Command::new("bash").arg("-n").arg(&path).output().unwrap();
    assert!(
        check.status.success(),
        "bash -n: {}",
        String::from_utf8_lossy(&check.stderr)
    );
    let loaded = Command::new("bash")
        .arg("-c")
        .arg(r#"source "$1" && complete -p mcload"#)
        .arg("bash")
        .arg(&path)
        .output()
        .unwrap();
    let line = String::from_utf8_lossy(&loaded.stdout);
    assert!(
        loaded.status.success()
            && line.starts_with("complete ")
            && line.trim_end().ends_with(" mcload"),
        "complete -p mcload: {line:?} {}",
        String::from_utf8_lossy(&loaded.stderr)
    );
    let function = line
        .split_whitespace()
        .skip_while(|w| *w != "-F")
        .nth(1)
        .expect("complete -F FUNCTION");
    let completed = Command::new("bash")
        .arg("-c")
        .arg(format!(
            r#"source "$1" && COMP_WORDS=(mcload com) COMP_CWORD=1 && {function} mcload com mcload && echo "${{COMPREPLY[@]}}""#
        ))
        .arg("bash")
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&completed.stdout).trim(),
        "compare completions",
        "{}",
        String::from_utf8_lossy(&completed.stderr)
    );
}

/// Each shell's script names every subcommand; zsh and fish check its
/// syntax when they are installed.
#[test]
fn every_shells_script_names_every_subcommand() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let script = printed(&["completions", shell]);
        for sub in SUBCOMMANDS {
            assert!(script.contains(sub), "{shell}: no {sub}");
        }
        assert!(script.contains("concurrency"), "{shell}: no run flags");
    }
    for (shell, file) in [("zsh", "_mcload"), ("fish", "mcload.fish")] {
        if !have(shell) {
            eprintln!("skipped: {shell} is not installed, its script's syntax is not checked");
            continue;
        }
        let path = temp_dir("completions").join(file);
        std::fs::write(&path, printed(&["completions", shell])).unwrap();
        let check = Command::new(shell).arg("-n").arg(&path).output().unwrap();
        assert!(
            check.status.success(),
            "{shell} -n: {}",
            String::from_utf8_lossy(&check.stderr)
        );
    }
}

/// An unknown shell is refused with the list of shells, exit 2.
#[test]
fn an_unknown_shell_is_refused_naming_the_shells() {
    let out = mcload().args(["completions", "tcsh"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("tcsh") && stderr.contains("bash") && stderr.contains("zsh"),
        "{stderr}"
    );
}

/// The man page is roff with a section per subcommand, and `man` renders
/// it (when `man` is installed) with every subcommand and its flags.
#[test]
fn the_man_page_renders_with_every_subcommand() {
    let page = printed(&["man"]);
    assert!(page.contains("\n.TH mcload 1"), "{page}");
    for sub in SUBCOMMANDS {
        let heading = format!(".SH \"MCLOAD {}\"", sub.to_uppercase());
        assert!(page.contains(&heading), "no {heading}");
    }
    if !have("man") {
        eprintln!("skipped: man is not installed, the page is not rendered");
        return;
    }
    let path = temp_dir("man").join("mcload.1");
    std::fs::write(&path, &page).unwrap();
    let rendered = Command::new("man")
        .args(["-P", "cat", "-l"])
        .arg(&path)
        .env("MANWIDTH", "100")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&rendered.stdout);
    assert!(
        rendered.status.success(),
        "{}",
        String::from_utf8_lossy(&rendered.stderr)
    );
    for expected in [
        "SYNOPSIS",
        "MCLOAD RUN",
        "--max-in-flight",
        "MCLOAD MAN",
        "EXAMPLES AND EXIT CODES",
    ] {
        assert!(text.contains(expected), "{expected}: {text}");
    }
}
