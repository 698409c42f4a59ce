//! What a run shows: human text by default, one JSON object per event with
//! `--output json`.
//!
//! Everything a run prints goes through [`Reporter::emit`], which redacts secrets
//! before a byte reaches the terminal. Text goes to stdout, warnings and errors to
//! stderr; in JSON mode every event is a line on stdout so a CI system can parse
//! the whole stream.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::secret::{redact, redact_json};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum OutputMode {
    #[default]
    Text,
    Json,
}

/// One thing that happened during a run.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    RunStarted {
        script: String,
        target: String,
        dry_run: bool,
        config: String,
    },
    StepStarted {
        number: usize,
        name: String,
    },
    StepFinished {
        number: usize,
        name: String,
        ok: bool,
        seconds: f64,
        changed: usize,
        kept: usize,
        planned: usize,
    },
    /// A mutating action: done, planned (dry run) or failed.
    Change {
        action: String,
        target: String,
        detail: String,
        outcome: String,
        seconds: f64,
    },
    /// Something that already was as wanted and was left alone.
    Kept {
        what: String,
        note: String,
    },
    /// A check with its evidence (validate, doctor, prerequisites).
    Check {
        name: String,
        pass: bool,
        evidence: String,
    },
    /// `print`, `info`, `debug` from a script.
    Message {
        level: String,
        text: String,
    },
    Warning {
        text: String,
    },
    Plan {
        changes: Vec<serde_json::Value>,
    },
    Summary {
        changed: usize,
        kept: usize,
        planned: usize,
        failed: usize,
        checks_failed: usize,
        seconds: f64,
        dry_run: bool,
    },
    Error {
        kind: String,
        message: String,
        hint: String,
        location: String,
        step: String,
    },
}

/// Prints events. Cheap to clone (shared).
#[derive(Clone)]
pub struct Reporter {
    inner: Arc<Inner>,
}

struct Inner {
    mode: OutputMode,
    /// Shows nothing but warnings (a rehearsal preparing its scenario).
    quiet: bool,
    color: bool,
    stderr_tty: bool,
    verbosity: u8,
    lock: Mutex<()>,
    spinner_active: AtomicBool,
}

impl Reporter {
    pub fn new(mode: OutputMode, verbosity: u8) -> Reporter {
        let stdout_tty = std::io::stdout().is_terminal();
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Reporter {
            inner: Arc::new(Inner {
                mode,
                quiet: false,
                color: stdout_tty && !no_color && mode == OutputMode::Text,
                stderr_tty: std::io::stderr().is_terminal(),
                verbosity,
                lock: Mutex::new(()),
                spinner_active: AtomicBool::new(false),
            }),
        }
    }

    /// A reporter that shows only warnings.
    pub fn quiet() -> Reporter {
        let r = Reporter::new(OutputMode::Text, 0);
        Reporter {
            inner: Arc::new(Inner {
                quiet: true,
                mode: r.inner.mode,
                color: false,
                stderr_tty: false,
                verbosity: 0,
                lock: Mutex::new(()),
                spinner_active: AtomicBool::new(false),
            }),
        }
    }

    pub fn mode(&self) -> OutputMode {
        self.inner.mode
    }

    pub fn verbosity(&self) -> u8 {
        self.inner.verbosity
    }

    pub fn emit(&self, event: Event) {
        if self.inner.quiet && !matches!(event, Event::Warning { .. }) {
            return;
        }
        let _guard = self.inner.lock.lock().unwrap_or_else(|e| e.into_inner());
        self.clear_spinner_line();
        match self.inner.mode {
            OutputMode::Json => {
                let mut value = serde_json::to_value(&event).unwrap_or_default();
                redact_json(&mut value);
                let mut out = std::io::stdout().lock();
                let _ = writeln!(out, "{value}");
                let _ = out.flush();
            }
            OutputMode::Text => self.emit_text(&event),
        }
    }

    pub fn info(&self, text: impl Into<String>) {
        self.emit(Event::Message {
            level: "info".into(),
            text: text.into(),
        });
    }

    pub fn warn(&self, text: impl Into<String>) {
        self.emit(Event::Warning { text: text.into() });
    }

    fn paint(&self, code: &str, text: &str) -> String {
        if self.inner.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    fn emit_text(&self, event: &Event) {
        let line = match event {
            Event::RunStarted {
                script,
                target,
                dry_run,
                config,
            } => {
                let mode = if *dry_run {
                    " (dry run: nothing will be changed)"
                } else {
                    ""
                };
                format!(
                    "{} {script} on {target} with {config}{mode}",
                    self.paint("1", "lfrun")
                )
            }
            Event::StepStarted { number, name } => {
                format!(
                    "\n{} {}",
                    self.paint("1;36", &format!("[{number}]")),
                    self.paint("1", name)
                )
            }
            Event::StepFinished {
                number,
                ok,
                seconds,
                changed,
                kept,
                planned,
                ..
            } => {
                let counts = counts_text(*changed, *kept, *planned);
                if *ok {
                    format!(
                        "    {} step {number} done in {seconds:.1}s{counts}",
                        self.paint("32", "✓")
                    )
                } else {
                    format!(
                        "    {} step {number} failed after {seconds:.1}s{counts}",
                        self.paint("31", "✗")
                    )
                }
            }
            Event::Change {
                action,
                target,
                detail,
                outcome,
                seconds,
            } => {
                let mark = match outcome.as_str() {
                    "done" => self.paint("33", "~ changed"),
                    "planned" => self.paint("35", "+ would"),
                    _ => self.paint("31", "✗ failed"),
                };
                let detail = if detail.is_empty() {
                    String::new()
                } else {
                    format!(" ({detail})")
                };
                let time = if *seconds >= 0.05 {
                    format!(" in {seconds:.1}s")
                } else {
                    String::new()
                };
                format!("    {mark} {action} {target}{detail}{time}")
            }
            Event::Kept { what, note } => {
                let note = if note.is_empty() {
                    String::new()
                } else {
                    format!(" ({note})")
                };
                format!("    {} {what}{note}", self.paint("2", "= kept"))
            }
            Event::Check {
                name,
                pass,
                evidence,
            } => {
                let mark = if *pass {
                    self.paint("32", "PASS")
                } else {
                    self.paint("31", "FAIL")
                };
                let evidence = if evidence.is_empty() {
                    String::new()
                } else {
                    format!(" — {evidence}")
                };
                format!("    {mark} {name}{evidence}")
            }
            Event::Message { level, text } => {
                if level == "debug" && self.inner.verbosity == 0 {
                    return;
                }
                text.clone()
            }
            Event::Warning { text } => {
                eprintln!("{} {}", self.paint("33", "warning:"), redact(text));
                return;
            }
            Event::Plan { changes } => {
                let mut s = format!("\n{}", self.paint("1", "Plan (nothing was changed):"));
                if changes.is_empty() {
                    s.push_str("\n    nothing to change");
                }
                for (i, c) in changes.iter().enumerate() {
                    let get = |k: &str| c.get(k).and_then(|v| v.as_str()).unwrap_or("").to_string();
                    let destructive = if c
                        .get("destructive")
                        .and_then(|v| v.as_bool())
                        .unwrap_or(false)
                    {
                        " [destructive]"
                    } else {
                        ""
                    };
                    s.push_str(&format!(
                        "\n  {:>2}. {} {}{destructive}",
                        i + 1,
                        get("action"),
                        get("target")
                    ));
                    let detail = get("detail");
                    for l in detail.lines().filter(|l| !l.is_empty()) {
                        s.push_str(&format!("\n        {l}"));
                    }
                }
                s
            }
            Event::Summary {
                changed,
                kept,
                planned,
                failed,
                checks_failed,
                seconds,
                dry_run,
            } => {
                let what = if *dry_run {
                    format!("{planned} planned, {kept} kept")
                } else if *changed == 0 && *failed == 0 {
                    format!("nothing changed, {kept} kept")
                } else {
                    format!("{changed} changed, {kept} kept")
                };
                let failures = if *failed > 0 || *checks_failed > 0 {
                    format!(", {failed} failed, {checks_failed} checks failed")
                } else {
                    String::new()
                };
                format!(
                    "\n{} {what}{failures} in {seconds:.1}s",
                    self.paint("1", "Summary:")
                )
            }
            Event::Error { .. } => return, // rendered by diagnostics on stderr
        };
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{}", redact(&line));
        let _ = out.flush();
    }

    /// Shows a spinner with elapsed time on stderr while the returned guard lives,
    /// once the wait has lasted longer than a second (text mode on a terminal only).
    pub fn spinner(&self, label: impl Into<String>) -> Spinner {
        let done = Arc::new(AtomicBool::new(false));
        if self.inner.mode == OutputMode::Text && self.inner.stderr_tty {
            let label = redact(&label.into());
            let done2 = done.clone();
            let me = self.clone();
            std::thread::spawn(move || {
                let start = Instant::now();
                let frames = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
                let mut i = 0;
                while !done2.load(Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(100));
                    if start.elapsed() < Duration::from_secs(1) || done2.load(Ordering::Relaxed) {
                        continue;
                    }
                    let _guard = me.inner.lock.lock().unwrap_or_else(|e| e.into_inner());
                    if done2.load(Ordering::Relaxed) {
                        break;
                    }
                    me.inner.spinner_active.store(true, Ordering::Relaxed);
                    eprint!(
                        "\r\x1b[2K    {} {label} ({}s)",
                        frames[i % frames.len()],
                        start.elapsed().as_secs()
                    );
                    i += 1;
                }
            });
        }
        Spinner {
            done,
            reporter: self.clone(),
        }
    }

    fn clear_spinner_line(&self) {
        if self.inner.spinner_active.swap(false, Ordering::Relaxed) {
            eprint!("\r\x1b[2K");
        }
    }
}

fn counts_text(changed: usize, kept: usize, planned: usize) -> String {
    let mut parts = vec![];
    if changed > 0 {
        parts.push(format!("{changed} changed"));
    }
    if planned > 0 {
        parts.push(format!("{planned} planned"));
    }
    if kept > 0 {
        parts.push(format!("{kept} kept"));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!(" ({})", parts.join(", "))
    }
}

/// Stops its spinner when dropped.
pub struct Spinner {
    done: Arc<AtomicBool>,
    reporter: Reporter,
}

impl Drop for Spinner {
    fn drop(&mut self) {
        self.done.store(true, Ordering::Relaxed);
        let _guard = self
            .reporter
            .inner
            .lock
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        self.reporter.clear_spinner_line();
    }
}
