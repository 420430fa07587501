//! The live progress line on a terminal: a thread that has `report` redraw
//! it on stderr four times a second while the load runs, and erase it when
//! the load ends.

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::report::{self, LastSecond};
use crate::run::{LiveView, Watch};

/// A [`Watch`] that draws the progress line on stderr.
#[derive(Default)]
pub struct Progress {
    running: Option<(Arc<AtomicBool>, std::thread::JoinHandle<()>)>,
}

impl Progress {
    const TICK: Duration = Duration::from_millis(250);
}

impl Watch for Progress {
    fn start(&mut self, view: LiveView) {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("mcload-progress".into())
            .spawn(move || {
                let started = Instant::now();
                while !flag.load(Ordering::Relaxed) {
                    std::thread::sleep(Self::TICK);
                    let last = view.last_second().map(|(rate, p99_us)| LastSecond {
                        rate,
                        p99_ms: p99_us as f64 / 1000.0,
                    });
                    let line = report::progress_line(
                        started.elapsed(),
                        view.planned,
                        &view.counts(),
                        last,
                    );
                    let _ = report::redraw_progress(&mut io::stderr().lock(), &line);
                }
                let _ = report::clear_progress(&mut io::stderr().lock());
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
