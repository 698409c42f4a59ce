//! Pods as an operator reads them, and their logs.
//!
//! `kubectl get pods` shows a STATUS column that mixes phase and container
//! reasons; the failure modes of guide §10 live in those reasons
//! (`ImagePullBackOff` → ACR not attached, `CrashLoopBackOff` → database not
//! ready, `OOMKilled` → limits). So each pod comes back with its phase, readiness,
//! restarts, and every container's waiting and terminated reason, and
//! [`problems`] turns them into the sentences a failed wait reports.

use k8s_openapi::api::core::v1::{ContainerStatus, Pod};
use kube::api::{Api, LogParams};
use serde_json::{json, Value as Json};

use crate::error::Failure;
use crate::kube::errors::{api_failure, Object};
use crate::kube::objects::Selector;
use crate::kube::Cluster;

pub fn api(cluster: &Cluster, namespace: &str) -> Api<Pod> {
    Api::namespaced(cluster.client.clone(), namespace)
}

pub async fn list(
    cluster: &Cluster,
    namespace: &str,
    selector: &Selector,
) -> Result<Vec<Pod>, Failure> {
    api(cluster, namespace)
        .list(&selector.list_params())
        .await
        .map(|l| l.items)
        .map_err(|e| {
            api_failure(
                e,
                "list",
                &Object::new("Pod", namespace, ""),
                &cluster.server,
            )
        })
}

/// Whether the pod's Ready condition is True.
pub fn is_ready(pod: &Pod) -> bool {
    pod.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

pub fn is_terminating(pod: &Pod) -> bool {
    pod.metadata.deletion_timestamp.is_some()
}

fn container(status: &ContainerStatus) -> Json {
    let state = status.state.as_ref();
    let waiting = state.and_then(|s| s.waiting.as_ref());
    let terminated = state.and_then(|s| s.terminated.as_ref());
    let last_terminated = status
        .last_state
        .as_ref()
        .and_then(|s| s.terminated.as_ref());
    let state_name = match state {
        Some(s) if s.running.is_some() => "running",
        Some(s) if s.waiting.is_some() => "waiting",
        Some(s) if s.terminated.is_some() => "terminated",
        _ => "unknown",
    };
    json!({
        "name": status.name,
        "image": status.image,
        "ready": status.ready,
        "started": status.started.unwrap_or(false),
        "restarts": status.restart_count,
        "state": state_name,
        "waiting_reason": waiting.and_then(|w| w.reason.clone()).unwrap_or_default(),
        "waiting_message": waiting.and_then(|w| w.message.clone()).unwrap_or_default(),
        "terminated_reason": terminated.and_then(|t| t.reason.clone()).unwrap_or_default(),
        "exit_code": terminated.map(|t| t.exit_code).unwrap_or(0),
        "last_terminated_reason": last_terminated.and_then(|t| t.reason.clone()).unwrap_or_default(),
        "last_exit_code": last_terminated.map(|t| t.exit_code).unwrap_or(0),
    })
}

/// `#{name, namespace, phase, ready, restarts, node, reason, created, containers, init_containers}`.
pub fn summary(pod: &Pod) -> Json {
    let status = pod.status.as_ref();
    let containers: Vec<Json> = status
        .and_then(|s| s.container_statuses.as_ref())
        .map(|cs| cs.iter().map(container).collect())
        .unwrap_or_default();
    let init_containers: Vec<Json> = status
        .and_then(|s| s.init_container_statuses.as_ref())
        .map(|cs| cs.iter().map(container).collect())
        .unwrap_or_default();
    let restarts: i64 = containers
        .iter()
        .map(|c| c["restarts"].as_i64().unwrap_or(0))
        .sum();
    let phase = if is_terminating(pod) {
        "Terminating".to_string()
    } else {
        status
            .and_then(|s| s.phase.clone())
            .unwrap_or_else(|| "Pending".into())
    };
    json!({
        "name": pod.metadata.name,
        "namespace": pod.metadata.namespace,
        "uid": pod.metadata.uid,
        "phase": phase,
        "ready": is_ready(pod),
        "restarts": restarts,
        "node": pod.spec.as_ref().and_then(|s| s.node_name.clone()).unwrap_or_default(),
        "reason": status.and_then(|s| s.reason.clone()).unwrap_or_default(),
        "message": status.and_then(|s| s.message.clone()).unwrap_or_default(),
        "created": pod.metadata.creation_timestamp.as_ref().map(|t| t.0.to_string()).unwrap_or_default(),
        "labels": pod.metadata.labels.clone().unwrap_or_default(),
        "containers": containers,
        "init_containers": init_containers,
    })
}

/// Why these pods are not Ready, one sentence each:
/// `pod web-7d9 container web: ImagePullBackOff (Back-off pulling image "…")`.
pub fn problems(pods: &[Pod]) -> Vec<String> {
    let mut out = Vec::new();
    for pod in pods.iter().filter(|p| !is_ready(p) && !is_terminating(p)) {
        let name = pod.metadata.name.as_deref().unwrap_or("?");
        let status = pod.status.as_ref();
        let mut statuses: Vec<&ContainerStatus> = Vec::new();
        if let Some(s) = status {
            statuses.extend(s.init_container_statuses.iter().flatten());
            statuses.extend(s.container_statuses.iter().flatten());
        }
        let mut said = false;
        for c in statuses {
            let state = c.state.as_ref();
            let detail = if let Some(w) = state.and_then(|s| s.waiting.as_ref()) {
                w.reason
                    .as_ref()
                    .filter(|r| *r != "ContainerCreating" && *r != "PodInitializing")
                    .map(|r| {
                        let last = c
                            .last_state
                            .as_ref()
                            .and_then(|s| s.terminated.as_ref())
                            .and_then(|t| t.reason.clone())
                            .map(|r| format!(", last exit: {r}"))
                            .unwrap_or_default();
                        match &w.message {
                            Some(m) if !m.is_empty() => format!("{r} ({m}){last}"),
                            _ => format!("{r}{last}"),
                        }
                    })
            } else if let Some(t) = state.and_then(|s| s.terminated.as_ref()) {
                Some(format!(
                    "terminated: {} (exit code {})",
                    t.reason.clone().unwrap_or_else(|| "Error".into()),
                    t.exit_code
                ))
            } else if state.is_some_and(|s| s.running.is_some()) && !c.ready {
                Some(format!(
                    "running but not ready ({} restarts)",
                    c.restart_count
                ))
            } else {
                None
            };
            if let Some(detail) = detail {
                out.push(format!("pod {name} container {}: {detail}", c.name));
                said = true;
            }
        }
        if !said {
            let phase = status
                .and_then(|s| s.phase.clone())
                .unwrap_or_else(|| "Pending".into());
            let why = status
                .and_then(|s| s.conditions.as_ref())
                .and_then(|cs| {
                    cs.iter()
                        .find(|c| c.type_ == "PodScheduled" && c.status == "False")
                })
                .and_then(|c| c.message.clone().or(c.reason.clone()))
                .map(|m| format!(": {m}"))
                .unwrap_or_default();
            out.push(format!("pod {name}: {phase}, not ready{why}"));
        }
    }
    out
}

/// Options for [`logs`].
#[derive(Debug, Clone, Default)]
pub struct LogOptions {
    pub container: Option<String>,
    pub tail_lines: Option<i64>,
    pub previous: bool,
    pub since_seconds: Option<i64>,
}

/// A container's log (the last `tail_lines` lines).
pub async fn logs(
    cluster: &Cluster,
    namespace: &str,
    pod: &str,
    options: &LogOptions,
) -> Result<String, Failure> {
    let params = LogParams {
        container: options.container.clone(),
        tail_lines: options.tail_lines,
        previous: options.previous,
        since_seconds: options.since_seconds,
        ..LogParams::default()
    };
    let what = match &options.container {
        Some(c) => format!("{pod} (container {c})"),
        None => pod.to_string(),
    };
    api(cluster, namespace)
        .logs(pod, &params)
        .await
        .map_err(|e| {
            api_failure(
                e,
                "read logs of",
                &Object::new("Pod", namespace, &what),
                &cluster.server,
            )
        })
}

/// What to do about `problems` (from [`problems`]); `look` names where to read more.
pub fn advice(problems: &[String], look: &str) -> String {
    let any = |word: &str| problems.iter().any(|p| p.contains(word));
    if any("ImagePullBackOff") || any("ErrImagePull") || any("InvalidImageName") {
        "an image cannot be pulled: check that the tag exists in the registry and that the cluster \
         may pull from it (ACR attached to AKS, AcrPull for the kubelet identity)"
            .into()
    } else if any("OOMKilled") {
        "a container was killed for using too much memory: raise its memory limit".into()
    } else if any("CrashLoopBackOff") {
        "containers keep crashing: read their logs (kube::logs with #{previous: true}) and check \
         that PostgreSQL, ClickHouse and Redis are ready"
            .into()
    } else if any("CreateContainerConfigError") {
        "a container's configuration is broken, often a missing Secret or key: read the pod's events".into()
    } else if any("Unschedulable") || any("Insufficient") {
        "pods cannot be scheduled: the cluster lacks capacity or a volume cannot be attached".into()
    } else {
        format!("see {look} and kube::pods for more")
    }
}
