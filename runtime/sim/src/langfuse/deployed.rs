//! The deployed Langfuse, read from the Kubernetes objects in the world.
//!
//! A request to the public host is answered by one `langfuse-web` pod. What that pod
//! does depends on nothing but its spec and the cluster around it, so that is all the
//! rehearsal reads:
//!
//! - which web pods are Running and Ready (the Service only sends traffic to those);
//! - the web container's environment, exactly as the chart rendered it: literal
//!   `value`s, `valueFrom.secretKeyRef` resolved through the Secret in the namespace
//!   (base64 `data`), `valueFrom.fieldRef` from the pod itself;
//! - the pod's service account and labels (workload identity, see `blob_access.rs`);
//! - the application version, from the Deployment's `app.kubernetes.io/version` label
//!   (the chart's appVersion), else the image tag.
//!
//! A Secret key that does not resolve is left out of the environment: on a real
//! cluster the container would not have started (`CreateContainerConfigError`).
//! Values are resolved when asked, not when the container started, so a Secret changed
//! since then is seen at once (on a cluster the pod needs a restart).

use std::collections::BTreeMap;

use base64::Engine as _;
use serde_json::Value;

use crate::controllers::objects::{is_active_pod, is_pod_ready};
use crate::controllers::workload_logs::{classify, Workload};
use crate::registry::ImageRef;
use crate::store::name_of;
use crate::world::World;

/// The namespace Langfuse is deployed in (the client's `langfuse.namespace`).
pub fn namespace(world: &World) -> String {
    let ns = &world.azure.names.namespace;
    if ns.is_empty() {
        "langfuse".to_string()
    } else {
        ns.clone()
    }
}

/// The web pod answering a request, and what it knows.
#[derive(Debug, Clone)]
pub struct WebPod {
    pub namespace: String,
    pub name: String,
    /// The Langfuse container (its logs get the pod's error lines).
    pub container: String,
    pub service_account: String,
    pub labels: serde_json::Map<String, Value>,
    /// The container's environment, resolved.
    pub env: BTreeMap<String, String>,
    pub version: String,
}

impl WebPod {
    pub fn env(&self, name: &str) -> Option<&str> {
        self.env
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// `NEXTAUTH_URL` without a trailing slash.
    pub fn nextauth_url(&self) -> String {
        self.env("NEXTAUTH_URL")
            .unwrap_or_default()
            .trim_end_matches('/')
            .to_string()
    }
}

fn is_running_and_ready(pod: &Value) -> bool {
    is_active_pod(pod) && pod["status"]["phase"] == "Running" && is_pod_ready(pod)
}

fn component(pod: &Value) -> &str {
    pod["metadata"]["labels"]["app.kubernetes.io/component"]
        .as_str()
        .unwrap_or_default()
}

/// The first container of `pod` that runs `kind`.
fn container_of(pod: &Value, kind: Workload) -> Option<&Value> {
    pod["spec"]["containers"]
        .as_array()?
        .iter()
        .find(|c| classify(c) == kind)
}

/// The web pod the Service would send a request to: the first (by name) Running and
/// Ready `langfuse-web` pod, or None when there is none (no healthy upstream).
pub fn serving_web_pod(world: &World) -> Option<WebPod> {
    let ns = namespace(world);
    let pod = world
        .kube
        .list("v1/Pod", Some(&ns))
        .filter(|p| component(p) == "web" && container_of(p, Workload::LangfuseWeb).is_some())
        .find(|p| is_running_and_ready(p))?;
    let container = container_of(pod, Workload::LangfuseWeb)?;
    Some(WebPod {
        namespace: ns.clone(),
        name: name_of(pod).to_string(),
        container: container["name"].as_str().unwrap_or_default().to_string(),
        service_account: pod["spec"]["serviceAccountName"]
            .as_str()
            .unwrap_or("default")
            .to_string(),
        labels: pod["metadata"]["labels"]
            .as_object()
            .cloned()
            .unwrap_or_default(),
        env: resolve_env(world, pod, container),
        version: version(world, &ns, container),
    })
}

/// A Running and Ready worker pod and its Langfuse container, if any.
pub fn ready_worker(world: &World, namespace: &str) -> Option<(String, String)> {
    world
        .kube
        .list("v1/Pod", Some(namespace))
        .filter(|p| component(p) == "worker" && is_running_and_ready(p))
        .find_map(|p| {
            let c = container_of(p, Workload::LangfuseWorker)?;
            Some((
                name_of(p).to_string(),
                c["name"].as_str().unwrap_or_default().to_string(),
            ))
        })
}

/// The container's environment: literal values, Secret keys and pod fields.
pub fn resolve_env(world: &World, pod: &Value, container: &Value) -> BTreeMap<String, String> {
    let ns = pod["metadata"]["namespace"].as_str().unwrap_or_default();
    let mut env = BTreeMap::new();
    for entry in container["env"].as_array().into_iter().flatten() {
        let Some(name) = entry["name"].as_str() else {
            continue;
        };
        let value = if let Some(v) = entry.get("value") {
            Some(v.as_str().unwrap_or_default().to_string())
        } else if let Some(r) = entry.pointer("/valueFrom/secretKeyRef") {
            secret_value(
                world,
                ns,
                r["name"].as_str().unwrap_or_default(),
                r["key"].as_str().unwrap_or_default(),
            )
        } else if let Some(path) = entry
            .pointer("/valueFrom/fieldRef/fieldPath")
            .and_then(Value::as_str)
        {
            field_value(pod, path)
        } else {
            // an entry with neither (`name: X`) is the empty string
            entry.get("valueFrom").is_none().then(String::new)
        };
        if let Some(v) = value {
            env.insert(name.to_string(), v);
        }
    }
    env
}

/// A key of a Secret in `namespace`, decoded.
pub fn secret_value(world: &World, namespace: &str, secret: &str, key: &str) -> Option<String> {
    let s = world.kube.get("v1/Secret", namespace, secret)?;
    if let Some(v) = s["stringData"][key].as_str() {
        return Some(v.to_string());
    }
    let encoded = s["data"][key].as_str()?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()?;
    Some(String::from_utf8_lossy(&bytes).to_string())
}

/// `metadata.name`, `status.podIP`, `metadata.labels['x']`, … of the pod.
fn field_value(pod: &Value, path: &str) -> Option<String> {
    if let Some(rest) = path.strip_prefix("metadata.labels['") {
        let key = rest.trim_end_matches("']");
        return pod["metadata"]["labels"][key].as_str().map(String::from);
    }
    let mut node = pod;
    for part in path.split('.') {
        node = node.get(part)?;
    }
    node.as_str().map(String::from)
}

/// The chart's appVersion on the web Deployment, else the image tag.
fn version(world: &World, namespace: &str, container: &Value) -> String {
    let label = world
        .kube
        .list("apps/v1/Deployment", Some(namespace))
        .find(|d| d["metadata"]["labels"]["app.kubernetes.io/component"] == "web")
        .and_then(|d| d["metadata"]["labels"]["app.kubernetes.io/version"].as_str())
        .map(String::from);
    label.unwrap_or_else(|| ImageRef::parse(container["image"].as_str().unwrap_or_default()).tag)
}
