//! What the caller of a run (the Python package) asks of the engine's lowest
//! layers, which have no `Progress` in reach: where the
//! lines they would print on standard error go (the index lock's "waiting"
//! line, told in the run's messages rather than on a notebook's stderr), and
//! whether a wait that only the caller can end (a FIFO with no writer) should
//! stop. Set on the thread that starts a run ([`Scope`]) and taken by the
//! threads of its pool (`targets::joining_this_run`); a run of the
//! binary has none, and prints and waits as before.

use std::cell::RefCell;
use std::sync::Arc;

/// A run's hooks.
pub struct Hooks {
    /// Takes a line meant for standard error (without its line break).
    pub say: Box<dyn Fn(&str) + Send + Sync>,
    /// Whether the run is to stop (Ctrl-C in its caller): asked between
    /// slices of a wait.
    pub stop: Box<dyn Fn() -> bool + Send + Sync>,
}

thread_local! {
    static CURRENT: RefCell<Option<Arc<Hooks>>> = const { RefCell::new(None) };
}

/// The hooks of the run this thread works for, if any.
#[must_use]
pub fn current() -> Option<Arc<Hooks>> {
    CURRENT.with(|c| c.borrow().clone())
}

/// Makes `hooks` this thread's (a pool thread joining its run).
pub fn set(hooks: Option<Arc<Hooks>>) {
    CURRENT.with(|c| *c.borrow_mut() = hooks);
}

/// Hooks for the thread that makes it, until dropped (the thread's earlier
/// ones come back then).
pub struct Scope {
    outer: Option<Arc<Hooks>>,
}

impl Scope {
    /// Runs on this thread take `hooks` until the scope is dropped.
    #[must_use]
    pub fn enter(hooks: Hooks) -> Scope {
        let outer = current();
        set(Some(Arc::new(hooks)));
        Scope { outer }
    }
}

impl Drop for Scope {
    fn drop(&mut self) {
        set(self.outer.take());
    }
}

/// Hands `line` to the run's hooks: `false` when there are none (it is
/// printed then).
pub(crate) fn say(line: std::fmt::Arguments<'_>) -> bool {
    match current() {
        Some(hooks) => {
            (hooks.say)(&line.to_string());
            true
        }
        None => false,
    }
}

/// Whether the run's caller asked it to stop.
#[must_use]
pub fn stopped() -> bool {
    current().is_some_and(|hooks| (hooks.stop)())
}

/// Waits until `ready` says so, asking it again and again (each asking
/// waits a slice of about 100 ms itself: a `poll` with a timeout, or a
/// sleep after a failed try), and gives up between two askings when the
/// run's caller asked it to stop: [`std::io::ErrorKind::Interrupted`],
/// "stopped while waiting for `what`". A blocking wait kept Ctrl-C from
/// Python until the wait ended (a FIFO's writer, another run's lock).
///
/// # Errors
/// What `ready` says, or the stop.
pub(crate) fn wait_in_slices(
    what: &str,
    mut ready: impl FnMut() -> std::io::Result<bool>,
) -> std::io::Result<()> {
    loop {
        if stopped() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::Interrupted,
                format!("stopped while waiting for {what}"),
            ));
        }
        if ready()? {
            return Ok(());
        }
    }
}
