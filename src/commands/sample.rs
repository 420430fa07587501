//! `mcload sample`: print the bodies `mcload run` would send.

use std::io::{self, Write};
use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use super::{CommandResult, Exit, Failure};
use crate::generate::BodyGenerator;
use crate::scenario::{FlagSettings, Scenario};

/// The arguments of `mcload sample`.
#[derive(Clone, Debug)]
pub struct SampleArgs {
    pub scenario: PathBuf,
    pub count: u64,
    /// `--seed` and `--invalid-share`, which override the scenario's.
    pub flags: FlagSettings,
    /// Prints `KIND<TAB>BODY`: `valid` or the mutation's name, then the body.
    pub label: bool,
}

/// Prints bodies `0..count`, one per line: the same bodies a run with this
/// seed sends first. Invalid ones are what their mutation made of them (an
/// empty line for `empty_body`), so `--label` names each.
pub fn sample(args: &SampleArgs, out: &mut dyn Write) -> CommandResult {
    let scenario = Scenario::resolve(&args.scenario, &args.flags).map_err(Failure::bad_input)?;
    let seed = match scenario.body.seed {
        Some(seed) => seed,
        None => {
            let seed = rand::random();
            crate::output::eprintln(format_args!(
                "mcload: no seed given; using seed {seed} (pass --seed {seed} to repeat)"
            ));
            seed
        }
    };
    let generator = BodyGenerator::new(&scenario.body, seed);
    let ts = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis() as u64;
    let mut line = Vec::with_capacity(4096);
    for index in 0..args.count {
        line.clear();
        if args.label {
            line.extend_from_slice(generator.kind(index).name().as_bytes());
            line.push(b'\t');
        }
        generator.write(index, ts, &mut line);
        line.push(b'\n');
        match out.write_all(&line) {
            Ok(()) => {}
            // `mcload sample ... | head` closes the pipe early: not an error.
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => return Ok(Exit::Ok),
            Err(e) => return Err(Failure::bad_input(e)),
        }
    }
    match out.flush() {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => Err(Failure::bad_input(e)),
        _ => Ok(Exit::Ok),
    }
}
