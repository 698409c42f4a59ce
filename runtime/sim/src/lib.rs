//! The rehearsal environment: a Kubernetes API server with simulated controllers (and,
//! from `azure/`, Azure and Langfuse endpoints) on loopback, so lfrun's playbooks — and
//! kubectl and helm — can run against an "AKS cluster" without one.
//!
//! The lfrun CLI uses a small API:
//!
//! ```no_run
//! # async fn demo() -> Result<(), lfrun_sim::SimError> {
//! use lfrun_sim::{Sim, SimOptions};
//! let mut opts = SimOptions::new(".lfrun/sim");
//! opts.scenario = Some("clickhouse-disk-full".into());
//! let sim = Sim::start(opts).await?;
//! println!("export KUBECONFIG={}", sim.kubeconfig_path().display());
//! if sim.deploy_pending().await? {
//!     // … run the install playbook against sim.kube_url() …
//!     sim.apply_faults().await?;
//! }
//! sim.shutdown().await?;
//! # Ok(()) }
//! ```
//!
//! See `ARCHITECTURE.md` for how the pieces fit and `scenario.rs` for the scenario format.

pub mod api_faults;
pub mod azure;
pub mod clock;
pub mod control;
pub mod controllers;
pub mod docker_standin;
pub mod error;
pub mod faults;
pub mod front;
pub mod helm_release;
mod ids;
pub mod kube;
pub mod langfuse;
pub mod logs;
pub mod quantity;
pub mod registry;
mod remote;
pub mod request_log;
pub mod scenario;
mod sim;
pub mod state_dir;
pub mod store;
pub mod tls;
pub mod world;

pub use error::SimError;
pub use registry::{ImageRef, PrivateRegistryAccess};
pub use request_log::{RequestLog, RequestRecord, Verb};
pub use scenario::{scenario_names, Scenario};
pub use sim::{reset, Sim, SimOptions};
pub use world::{SharedWorld, World};
