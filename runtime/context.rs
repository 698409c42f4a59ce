//! The run context: everything a primitive may need to know about the run it is in.
//!
//! One `RunContext` exists per run (or REPL session). Primitives capture an
//! `Arc<RunContext>` when they are registered and use it to reach the config, the
//! reporter, the async runtime, the cancellation token and the plan/journal
//! mechanism (`plan.rs`).

use std::cell::RefCell;
use std::future::Future;
use std::io::{BufRead, IsTerminal, Write};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::environment::{Environment, LazyEnvironment};
use crate::error::{ErrorKind, Failure};
use crate::journal::Journal;
use crate::plan::PlannedChange;
use crate::report::{Event, Reporter};

/// How this run was asked to behave (command-line flags, resolved).
#[derive(Debug, Clone)]
pub struct Settings {
    /// `--dry-run`: mutating primitives plan instead of acting.
    pub dry_run: bool,
    /// `--yes`: destructive actions proceed without asking.
    pub yes: bool,
    /// Whether we may ask questions (stdin is a terminal).
    pub interactive: bool,
    /// `sim` or `azure`.
    pub target: String,
    /// `--create-missing`: Azure primitives may create what is missing.
    pub create_missing: bool,
    pub verbosity: u8,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            dry_run: false,
            yes: false,
            interactive: std::io::stdin().is_terminal(),
            target: "sim".into(),
            create_missing: false,
            verbosity: 0,
        }
    }
}

/// Counts shown per step and in the final summary.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    pub changed: usize,
    pub kept: usize,
    pub planned: usize,
    pub failed: usize,
    pub checks_failed: usize,
}

#[derive(Default)]
pub(crate) struct RunState {
    pub(crate) steps_started: usize,
    /// Name of the innermost running step ("" outside any step).
    pub(crate) step_stack: Vec<(usize, String)>,
    pub(crate) plan: Vec<PlannedChange>,
    pub(crate) total: Counters,
}

pub struct RunContext {
    pub settings: Settings,
    pub config: Config,
    pub reporter: Reporter,
    pub journal: Option<Journal>,
    pub runtime: tokio::runtime::Handle,
    /// How to reach the target; started on first use.
    pub environment: LazyEnvironment,
    /// Cancelled on Ctrl-C.
    pub cancel: CancellationToken,
    pub run_id: String,
    pub started: Instant,
    pub(crate) state: Mutex<RunState>,
}

thread_local! {
    /// The cancellation token of the `parallel` branch running on this thread, if any.
    static BRANCH_CANCEL: RefCell<Option<CancellationToken>> = const { RefCell::new(None) };
}

impl RunContext {
    pub fn new(
        settings: Settings,
        config: Config,
        reporter: Reporter,
        journal: Option<Journal>,
        runtime: tokio::runtime::Handle,
        environment: LazyEnvironment,
        run_id: String,
    ) -> Arc<RunContext> {
        Arc::new(RunContext {
            settings,
            config,
            reporter,
            journal,
            runtime,
            environment,
            cancel: CancellationToken::new(),
            run_id,
            started: Instant::now(),
            state: Mutex::new(RunState::default()),
        })
    }

    /// How to reach the target (starts it on first call).
    pub fn env(&self) -> Result<Arc<Environment>, Failure> {
        self.environment.get()
    }

    pub(crate) fn state(&self) -> std::sync::MutexGuard<'_, RunState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The token that stops the code running on this thread: the `parallel` branch's
    /// own token inside a branch, the run's token elsewhere.
    pub fn current_cancel(&self) -> CancellationToken {
        BRANCH_CANCEL
            .with(|c| c.borrow().clone())
            .unwrap_or_else(|| self.cancel.clone())
    }

    /// Runs `f` with `token` as this thread's cancellation token.
    pub fn with_branch_cancel<T>(token: CancellationToken, f: impl FnOnce() -> T) -> T {
        let previous = BRANCH_CANCEL.with(|c| c.replace(Some(token)));
        let out = f();
        BRANCH_CANCEL.with(|c| *c.borrow_mut() = previous);
        out
    }

    pub fn is_cancelled(&self) -> bool {
        self.current_cancel().is_cancelled()
    }

    /// Waits for an async primitive from the engine's (blocking) thread. Ctrl-C, or
    /// the failure of a sibling `parallel` branch, ends the wait with `cancelled`;
    /// dropping the future kills any child process it started.
    pub fn block_on<T>(&self, fut: impl Future<Output = Result<T, Failure>>) -> Result<T, Failure> {
        let token = self.current_cancel();
        if token.is_cancelled() {
            return Err(Failure::cancelled());
        }
        self.runtime.block_on(async {
            tokio::select! {
                r = fut => r,
                _ = token.cancelled() => Err(Failure::cancelled()),
            }
        })
    }

    /// Like [`block_on`](Self::block_on), with a spinner showing `label` while it waits.
    pub fn wait<T>(
        &self,
        label: &str,
        fut: impl Future<Output = Result<T, Failure>>,
    ) -> Result<T, Failure> {
        let _spinner = self.reporter.spinner(label);
        self.block_on(fut)
    }

    /// Name of the step currently running ("" outside steps).
    pub fn current_step(&self) -> String {
        self.state()
            .step_stack
            .last()
            .map(|(_, n)| n.clone())
            .unwrap_or_default()
    }

    /// Records that something was already as wanted.
    pub fn kept(&self, what: &str, note: &str) {
        self.state().total.kept += 1;
        self.reporter.emit(Event::Kept {
            what: what.into(),
            note: note.into(),
        });
    }

    /// Reports a check (validate, doctor, prerequisites) with its evidence.
    pub fn check(&self, name: &str, pass: bool, evidence: &str) {
        if !pass {
            self.state().total.checks_failed += 1;
        }
        self.reporter.emit(Event::Check {
            name: name.into(),
            pass,
            evidence: evidence.into(),
        });
    }

    pub fn counters(&self) -> Counters {
        self.state().total
    }

    /// Asks before a destructive action. `--yes` answers yes; without a terminal and
    /// without `--yes` the action is refused.
    pub fn confirm(&self, what: &str) -> Result<(), Failure> {
        if self.settings.yes {
            return Ok(());
        }
        if !self.settings.interactive {
            return Err(Failure::new(
                ErrorKind::Refused,
                format!("refusing to {what} without confirmation (no terminal to ask on)"),
            )
            .with_hint("re-run with --yes to confirm destructive actions"));
        }
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "  ? {} — proceed? [y/N] ", crate::secret::redact(what));
        let _ = err.flush();
        drop(err);
        let mut answer = String::new();
        let _ = std::io::stdin().lock().read_line(&mut answer);
        if matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes") {
            Ok(())
        } else {
            Err(
                Failure::new(ErrorKind::Refused, format!("not confirmed: {what}"))
                    .with_hint("answer y to proceed, or pass --yes"),
            )
        }
    }
}

/// A run id: UTC time plus random suffix, e.g. `20261203T163000-a1b2c3`.
pub fn new_run_id() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let stamp = crate::journal::rfc3339(now.as_secs())
        .replace([':', '-'], "")
        .trim_end_matches('Z')
        .to_string();
    let suffix =
        crate::secret::random_hex(3).unwrap_or_else(|_| format!("{:06x}", now.subsec_micros()));
    format!("{stamp}-{suffix}")
}
