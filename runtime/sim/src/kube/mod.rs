//! The Kubernetes API server of the rehearsal cluster.
//!
//! Real clients (kubectl, Helm 3 and 4, kube-rs) talk to it unmodified, so it follows
//! kube-apiserver's behaviour where clients can tell: URL layout, discovery and OpenAPI,
//! list/watch semantics with resourceVersions, the four patch types, server-side apply
//! with managed fields, defaulting and validation with the real error wording, `Status`
//! error bodies, Table output for `kubectl get`.

pub mod apply;
pub mod defaults;
pub mod discovery;
pub mod events_view;
pub mod handlers;
pub mod list_semantics;
pub mod managed_fields;
pub mod merge_patch;
pub mod openapi;
pub mod pod_logs_api;
pub mod protobuf;
pub mod resources;
pub mod selector;
pub mod server;
pub mod status;
pub mod strategic_merge;
pub mod table;
pub mod validation;
pub mod watch;
