//! A view of rendered manifests for the rules: workloads, their pods, containers
//! and environment, and the Services and ServiceAccounts the chart renders.

use serde_json::Value as Json;

/// A workload with a pod template (Deployment, StatefulSet, DaemonSet, Job, CronJob, Pod).
pub struct Workload<'a> {
    pub kind: &'a str,
    pub name: &'a str,
    /// The pod template: `{metadata, spec}` (for a bare Pod, the Pod itself).
    pub pod: &'a Json,
}

impl Workload<'_> {
    /// `Deployment/langfuse-web`.
    pub fn id(&self) -> String {
        format!("{}/{}", self.kind, self.name)
    }

    /// Containers and init containers.
    pub fn containers(&self) -> Vec<&Json> {
        ["containers", "initContainers"]
            .iter()
            .filter_map(|k| self.pod["spec"][*k].as_array())
            .flatten()
            .collect()
    }

    /// Every env entry of every container, with the container's name.
    pub fn env(&self) -> Vec<(&str, &Json)> {
        self.containers()
            .into_iter()
            .flat_map(|c| {
                let name = c["name"].as_str().unwrap_or("");
                c["env"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(move |e| (name, e))
            })
            .collect()
    }

    /// The env entry NAME of the first container that has it.
    pub fn env_named(&self, name: &str) -> Option<&Json> {
        self.env()
            .into_iter()
            .map(|(_, e)| e)
            .find(|e| e["name"].as_str() == Some(name))
    }

    pub fn pod_label(&self, key: &str) -> Option<&str> {
        self.pod["metadata"]["labels"][key].as_str()
    }

    pub fn service_account(&self) -> Option<&str> {
        self.pod["spec"]["serviceAccountName"].as_str()
    }
}

/// All workloads in the manifests.
pub fn workloads(manifests: &[Json]) -> Vec<Workload<'_>> {
    manifests
        .iter()
        .filter_map(|m| {
            let kind = m["kind"].as_str()?;
            let name = m["metadata"]["name"].as_str().unwrap_or("");
            let pod = match kind {
                "Pod" => m,
                "CronJob" => &m["spec"]["jobTemplate"]["spec"]["template"],
                "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "Job" => {
                    &m["spec"]["template"]
                }
                _ => return None,
            };
            pod.is_object().then_some(Workload { kind, name, pod })
        })
        .collect()
}

/// The Langfuse `web` or `worker` Deployment (by its container name `langfuse-web`/`langfuse-worker`).
pub fn langfuse<'a>(manifests: &'a [Json], component: &str) -> Option<Workload<'a>> {
    let container = format!("langfuse-{component}");
    workloads(manifests).into_iter().find(|w| {
        w.kind == "Deployment"
            && w.containers()
                .iter()
                .any(|c| c["name"].as_str() == Some(&container))
    })
}

/// A manifest of `kind` named `name`.
pub fn find<'a>(manifests: &'a [Json], kind: &str, name: &str) -> Option<&'a Json> {
    manifests
        .iter()
        .find(|m| m["kind"].as_str() == Some(kind) && m["metadata"]["name"].as_str() == Some(name))
}

/// Names of the rendered Services.
pub fn service_names(manifests: &[Json]) -> Vec<&str> {
    manifests
        .iter()
        .filter(|m| m["kind"].as_str() == Some("Service"))
        .filter_map(|m| m["metadata"]["name"].as_str())
        .collect()
}
