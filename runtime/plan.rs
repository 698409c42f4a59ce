//! Plan mode and the change mechanism.
//!
//! A primitive that mutates anything describes the change as a [`Change`] and runs
//! it through [`RunContext::change`]. That one call is what makes every primitive
//! behave the same way:
//!
//! - with `--dry-run` the change is recorded in the plan and *not* executed;
//! - destructive changes (deletes, rollbacks, PVC patches, restarts) are confirmed
//!   on a terminal, refused without one unless `--yes`;
//! - every change, planned or done or failed, is appended to the journal;
//! - the step and summary counters are kept.
//!
//! Read-only primitives do not go through here and run normally in a dry run, so a
//! plan reflects the real current state ("would create X" only when X is missing).

use std::future::Future;
use std::time::Instant;

use serde::Serialize;

use crate::context::RunContext;
use crate::error::Failure;
use crate::journal::Entry;
use crate::report::Event;

/// A change a primitive wants to make.
#[derive(Debug, Clone, Serialize)]
pub struct Change {
    /// A verb phrase: "create namespace", "helm upgrade", "patch pvc".
    pub action: String,
    /// What it acts on: "langfuse", "langfuse/data-langfuse-clickhouse-shard0-0".
    pub target: String,
    /// A short diff or summary; may span lines.
    pub detail: String,
    /// Deletes, rollbacks, PVC patches, pod restarts.
    pub destructive: bool,
}

impl Change {
    pub fn new(action: impl Into<String>, target: impl Into<String>) -> Change {
        Change {
            action: action.into(),
            target: target.into(),
            detail: String::new(),
            destructive: false,
        }
    }

    pub fn detail(mut self, detail: impl Into<String>) -> Change {
        self.detail = detail.into();
        self
    }

    pub fn destructive(mut self) -> Change {
        self.destructive = true;
        self
    }
}

/// A change as recorded in the plan.
#[derive(Debug, Clone, Serialize)]
pub struct PlannedChange {
    pub step: String,
    #[serde(flatten)]
    pub change: Change,
}

/// What happened to a change.
#[derive(Debug)]
pub enum Applied<T> {
    Done(T),
    /// `--dry-run`: recorded, not executed.
    Planned,
}

impl<T> Applied<T> {
    pub fn is_planned(&self) -> bool {
        matches!(self, Applied::Planned)
    }

    /// The word scripts see in `outcome`: the given verb when done, "planned" otherwise.
    pub fn outcome(&self, done: &str) -> String {
        match self {
            Applied::Done(_) => done.to_string(),
            Applied::Planned => "planned".to_string(),
        }
    }
}

impl RunContext {
    /// Makes (or, in a dry run, plans) one change. See the module docs.
    pub async fn change<T, F>(&self, change: Change, apply: F) -> Result<Applied<T>, Failure>
    where
        F: Future<Output = Result<T, Failure>>,
    {
        let step = self.current_step();
        if self.settings.dry_run {
            self.record(&step, &change, "planned", 0.0);
            let mut state = self.state();
            state.total.planned += 1;
            state.plan.push(PlannedChange { step, change });
            return Ok(Applied::Planned);
        }
        if change.destructive {
            self.confirm(&format!("{} {}", change.action, change.target))?;
        }
        let start = Instant::now();
        let result = apply.await;
        let seconds = start.elapsed().as_secs_f64();
        match result {
            Ok(value) => {
                self.record(&step, &change, "done", seconds);
                self.state().total.changed += 1;
                Ok(Applied::Done(value))
            }
            Err(failure) => {
                let detail = format!("{}: {}", change.detail, failure.message);
                self.record(&step, &Change { detail, ..change }, "failed", seconds);
                self.state().total.failed += 1;
                Err(failure)
            }
        }
    }

    /// Synchronous form of [`change`](Self::change) for primitives with no I/O to await.
    pub fn change_now<T>(
        &self,
        change: Change,
        apply: impl FnOnce() -> Result<T, Failure>,
    ) -> Result<Applied<T>, Failure> {
        self.block_on(self.change(change, async move { apply() }))
    }

    fn record(&self, step: &str, change: &Change, outcome: &str, seconds: f64) {
        self.reporter.emit(Event::Change {
            action: change.action.clone(),
            target: change.target.clone(),
            detail: change.detail.lines().next().unwrap_or("").to_string(),
            outcome: outcome.into(),
            seconds,
        });
        if let Some(journal) = &self.journal {
            let entry = Entry {
                step,
                action: &change.action,
                target: &change.target,
                detail: &change.detail,
                outcome,
                seconds,
            };
            if let Err(e) = journal.append(entry) {
                self.reporter.warn(e.to_string());
            }
        }
    }

    /// The plan so far (dry run), as JSON values with secrets redacted.
    pub fn plan(&self) -> Vec<serde_json::Value> {
        self.state()
            .plan
            .iter()
            .map(|p| {
                let mut v = serde_json::to_value(p).unwrap_or_default();
                crate::secret::redact_json(&mut v);
                v
            })
            .collect()
    }
}
