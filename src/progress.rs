//! What a run shows while it goes: the header (target, model, plan) when
//! the load starts, then a live line on stderr from a thread that has
//! `report` write it. On a terminal the line is redrawn in place four
//! times a second and erased when the load ends; in a log that is not a
//! terminal (CI), a plain line is printed every so often, with no
//! carriage return and no escape sequence.

use std::io::{self, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::report::{self, LastSecond};
use crate::run::{LiveView, Watch};

/// How the live line is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Live {
    /// Redrawn in place on a terminal.
    Terminal,
    /// A plain line this often (a zero period prints none).
    Every(Duration),
    /// No live line.
    Off,
}

/// Where the header goes when the load starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeaderTo {
    Stdout,
    /// With the JSON report on stdout, which must stay one document.
    Stderr,
}

/// A [`Watch`] that prints the header and the progress line.
pub struct Progress {
    live: Live,
    header: HeaderTo,
    running: Option<(Arc<AtomicBool>, std::thread::JoinHandle<()>)>,
}

impl Progress {
    const TICK: Duration = Duration::from_millis(250);
    /// How often the plain mode looks whether its period has passed or
    /// the load has ended.
    const POLL: Duration = Duration::from_millis(100);

    pub fn new(live: Live, header: HeaderTo) -> Self {
        Progress {
            live,
            header,
            running: None,
        }
    }
}

fn last_second(view: &LiveView) -> Option<LastSecond> {
    view.last_second().map(|(rate, p99_us)| LastSecond {
        rate,
        p99_ms: p99_us as f64 / 1000.0,
    })
}

fn terminal(view: &LiveView, stop: &AtomicBool) {
    let started = Instant::now();
    while !stop.load(Ordering::Relaxed) {
        std::thread::sleep(Progress::TICK);
        let line = report::progress_line(
            started.elapsed(),
            view.planned,
            &view.counts(),
            last_second(view),
        );
        let _ = report::redraw_progress(&mut io::stderr().lock(), &line);
    }
    let _ = report::clear_progress(&mut io::stderr().lock());
}

fn plain(view: &LiveView, stop: &AtomicBool, every: Duration) {
    let started = Instant::now();
    let mut next = every;
    while !stop.load(Ordering::Relaxed) {
        std::thread::sleep(Progress::POLL);
        let elapsed = started.elapsed();
        if elapsed >= next {
            let line = report::plain_progress_line(
                elapsed,
                view.planned,
                &view.counts(),
                last_second(view),
            );
            let mut err = io::stderr().lock();
            let _ = writeln!(err, "{line}").and_then(|()| err.flush());
            while next <= elapsed {
                next += every;
            }
        }
    }
}

impl Watch for Progress {
    fn start(&mut self, view: LiveView) {
        let _ = match self.header {
            HeaderTo::Stdout => report::write_header(&view.header, &mut io::stdout().lock()),
            HeaderTo::Stderr => report::write_header(&view.header, &mut io::stderr().lock()),
        };
        let live = match self.live {
            Live::Every(every) if every.is_zero() => Live::Off,
            live => live,
        };
        if live == Live::Off {
            return;
        }
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("mcload-progress".into())
            .spawn(move || match live {
                Live::Terminal => terminal(&view, &flag),
                Live::Every(every) => plain(&view, &flag, every),
                Live::Off => {}
            });
        // Without a thread there is no live line; the run goes on.
        if let Ok(thread) = thread {
            self.running = Some((stop, thread));
        }
    }

    fn stop(&mut self) {
        if let Some((stop, thread)) = self.running.take() {
            stop.store(true, Ordering::Relaxed);
            let _ = thread.join();
        }
    }
}
