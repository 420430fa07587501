//! Ctrl-C and SIGTERM during a run: the first one interrupts it (no new
//! request starts; those on the wire get the grace period to finish, then
//! are counted as cancelled), a second one cancels what is on the wire at
//! once; the watch remembers that it did.

use std::sync::Arc;

use anyhow::Context as _;

use crate::run::Interrupt;

/// A thread that turns Ctrl-C and SIGTERM into an [`Interrupt`].
pub struct SignalWatch {
    done: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl SignalWatch {
    /// Watches for signals until [`SignalWatch::finish`]; handlers are in
    /// place when this returns, so an early signal is not lost.
    pub fn start(interrupt: Arc<Interrupt>) -> anyhow::Result<SignalWatch> {
        let (done, mut done_rx) = tokio::sync::oneshot::channel::<()>();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("cannot start the signal handler")?;
        let mut terminate = runtime
            .block_on(async {
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            })
            .context("cannot watch SIGTERM")?;
        let thread = std::thread::Builder::new()
            .name("mcload-signals".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let ctrl_c = tokio::signal::ctrl_c();
                    tokio::pin!(ctrl_c);
                    loop {
                        tokio::select! {
                            _ = &mut done_rx => return,
                            _ = &mut ctrl_c => {}
                            _ = terminate.recv() => {}
                        }
                        // A closed stderr must not panic the thread that
                        // stops the run.
                        if interrupt.request() {
                            crate::output::eprintln(format_args!(
                                "\nmcload: stopping: no new request starts; those on the wire get up to {} to finish, then count as cancelled (Ctrl-C again to stop at once)",
                                humantime::format_duration(interrupt.grace())
                            ));
                        } else {
                            crate::output::eprintln(format_args!(
                                "\nmcload: stopping now: requests on the wire count as cancelled"
                            ));
                        }
                        ctrl_c.set(tokio::signal::ctrl_c());
                    }
                });
            })
            .context("cannot start the signal handler")?;
        Ok(SignalWatch {
            done: Some(done),
            thread: Some(thread),
        })
    }

    /// Ends the watch (as dropping it does).
    pub fn finish(self) {}
}

impl Drop for SignalWatch {
    fn drop(&mut self) {
        if let Some(done) = self.done.take() {
            let _ = done.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
