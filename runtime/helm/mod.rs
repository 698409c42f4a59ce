//! `helm::` — the official Langfuse chart, installed and upgraded with the helm CLI.
//!
//! The guide drives helm by hand (§7 install, §11 upgrade, §12 rollback). These
//! primitives run the same helm binary, but:
//!
//! - the binary and its major version are detected once (`binary.rs`), and flags
//!   that differ between Helm 3 and 4 are chosen in one place (`args.rs`);
//! - the chart is always the pinned `chart.version` from the config, from the
//!   chart mirror when it has it (`chart.rs`);
//! - values go to helm as a 0600 temporary file that is always removed, never as
//!   `--set` on the command line (`values_file.rs`);
//! - results are read from helm's JSON output (`output.rs`);
//! - install/upgrade pass the policy gate first, keep an identical release as it
//!   is, and plan/confirm/journal through `RunContext::change` (`deploy.rs`);
//! - a release stuck in `pending-*` fails with kind `release_pending` and the
//!   revision to roll back to.
//!
//! `module.rs` is what scripts see.

pub mod archive;
pub mod args;
pub mod binary;
pub mod chart;
pub mod client;
pub mod deploy;
pub mod diff;
pub mod output;
pub mod values_file;

mod module;

pub use client::Helm;
pub use module::module;
