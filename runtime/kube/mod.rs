//! `kube::` — the Kubernetes primitives, on kube-rs.
//!
//! Playbooks talk to the cluster only through these functions, never by running
//! kubectl: one HTTP client for the whole run, typed objects from k8s-openapi for
//! the built-in kinds, errors that name the object and say what to do, and every
//! change routed through plan mode (`RunContext::change`).
//!
//! One file per concern:
//!
//! | file | what |
//! | --- | --- |
//! | `connection.rs` | which cluster: kubeconfig, context, in-cluster, or text handed over by `az::` |
//! | `retry.rs` | retrying what is safe to retry (429 with Retry-After, 5xx, timeouts) |
//! | `errors.rs` | API errors as the runtime's failure kinds, naming the object |
//! | `kinds.rs` | kind names → API resources: built-ins without discovery, others with one |
//! | `objects.rs` | generic get / list / server-side apply / patch / delete |
//! | `namespaces.rs` | ensure, get, exists |
//! | `secrets.rs` | ensure a secret without ever overwriting a key; key names; values as `Secret` |
//! | `watch.rs` | waiting on one object through a watch, until a status is reached |
//! | `rollout.rs` | `kubectl rollout status` rules, on a watch |
//! | `pods.rs` | pods with readiness and container reasons; container logs |
//! | `events.rs` | events about one object or a namespace |
//! | `quantity.rs` | `8Gi`, `500M` … as bytes |
//! | `storage.rs` | PVCs, storage classes, resize, claim templates, volume usage |
//! | `restart.rs` | delete pods and wait for Ready replacements |
//! | `helm_releases.rs` | helm's release secrets decoded, for history without helm |
//! | `functions.rs` | the Rhai module: every function with its parameters and doc |
//!
//! The domain files are plain async Rust returning JSON-shaped values;
//! `functions.rs` turns them into what scripts see.

mod connection;
mod errors;
mod events;
mod functions;
mod helm_releases;
mod kinds;
mod namespaces;
mod objects;
mod pods;
mod quantity;
mod restart;
mod retry;
mod rollout;
mod secrets;
mod storage;
mod watch;

pub use connection::{Cluster, Connector, KubeconfigSource};
pub use functions::module;
pub use quantity::parse_quantity;
