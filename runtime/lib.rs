//! lfrun: runs Rhai playbooks that install, upgrade, repair and roll back Langfuse
//! on Azure Kubernetes Service.
//!
//! A newcomer's walk through this crate:
//!
//! - `cli/` — the command line; `cli/run.rs` is what `lfrun install` does.
//! - `engine.rs` — builds the Rhai engine; `primitive_modules` lists every domain.
//! - `context.rs`, `plan.rs`, `journal.rs`, `report.rs` — the run: settings,
//!   plan mode and confirmations, the journal, what is printed.
//! - `error.rs`, `diagnostics.rs` — failures scripts can catch, and how uncaught
//!   ones are shown (`file:line:col`, code frame, step, hint).
//! - `secret.rs` — the `Secret` type and the redactor.
//! - `process.rs` — running helm, docker and git.
//! - one module per primitive domain: `fs`, `config`, `secret`, …
//!
//! The rehearsal environment is a separate crate (`runtime/sim/`); only
//! `cli/target.rs` knows about it.

pub mod az;
pub mod builtins;
pub mod cli;
pub mod config;
pub mod context;
pub mod diagnostics;
pub mod docker;
pub mod embedded;
pub mod engine;
pub mod environment;
pub mod error;
pub mod fs;
pub mod git;
pub mod helm;
pub mod http;
pub mod journal;
pub mod kube;
pub mod logging;
pub mod plan;
pub mod policy;
pub mod process;
pub mod register;
pub mod report;
pub mod resolver;
pub mod script;
pub mod secret;
pub mod value;
