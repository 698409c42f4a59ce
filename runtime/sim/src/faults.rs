//! Faults a scenario injects into a deployed world, and the ones that keep acting.
//!
//! Faults are applied after Langfuse is deployed (the lfrun CLI installs it with its own
//! playbook, then calls `Sim::apply_faults`), so they act on the objects a real install
//! creates: the ClickHouse claim, the web and worker Deployments, Helm's release Secrets.
//! Each fault changes *state*, and symptoms follow from the simulation: a full ClickHouse
//! volume makes the worker log dropped traces until the claim is resized; a removed image
//! tag makes the next pod start fail to pull.

use crate::helm_release;
use crate::kube::selector::LabelSelector;
use crate::quantity::value_bytes;
use crate::store::{name_of, namespace_of};
use crate::world::World;
use serde::{Deserialize, Serialize};
use serde_json::json;

/// One fault in a scenario's `faults:` list (`fault:` names the kind).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "fault", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Fault {
    /// Fill a claim's volume: `percent` of its capacity (or `bytes`).
    DiskUsage {
        namespace: String,
        claim: String,
        #[serde(default)]
        percent: Option<f64>,
        #[serde(default)]
        bytes: Option<u64>,
    },
    /// Pods matching `selector` never pass their readiness probe.
    PodsNotReady {
        namespace: String,
        selector: String,
        #[serde(default)]
        message: Option<String>,
    },
    /// Remove tags from the rehearsal registry: listed `images`, and the images the
    /// containers of the listed Deployments run.
    RemoveImages {
        #[serde(default)]
        namespace: String,
        #[serde(default)]
        images: Vec<String>,
        #[serde(default)]
        deployments: Vec<String>,
    },
    /// Add tags to the rehearsal registry.
    PushImages { images: Vec<String> },
    /// Delete the pods matching `selector` (their controllers recreate them).
    RestartPods { namespace: String, selector: String },
    /// Record a new revision of a Helm release with the given status, as an interrupted
    /// `helm upgrade` leaves it (`pending-upgrade`, `pending-install`, `pending-rollback`,
    /// `failed`).
    HelmReleaseStatus {
        namespace: String,
        release: String,
        status: String,
        #[serde(default)]
        description: Option<String>,
    },
    /// Change a StorageClass (e.g. turn off `allowVolumeExpansion`).
    StorageClass {
        name: String,
        #[serde(default)]
        allow_volume_expansion: Option<bool>,
    },
    /// Append lines to a container's log.
    LogLines {
        namespace: String,
        selector: String,
        #[serde(default)]
        container: Option<String>,
        lines: Vec<String>,
    },
}

/// A readiness failure that stays in force.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NotReadyRule {
    pub namespace: String,
    pub selector: String,
    pub message: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ActiveFaults {
    pub not_ready: Vec<NotReadyRule>,
    /// Faults of the scenario not yet applied (waiting for the deploy).
    pub pending: Vec<Fault>,
    /// `api_faults` of the scenario, switched on with the other faults.
    pub pending_api_faults: Option<crate::api_faults::ApiFaultConfig>,
    /// The scenario's `azure:` differences, applied after the deploy like the other
    /// faults (a deployed Langfuse *carrying* the fault: the install saw a healthy Azure).
    #[serde(default)]
    pub pending_azure: Option<serde_yaml::Value>,
}

/// Why a pod's readiness probe fails, if a fault says it does.
pub fn readiness_blocked(world: &World, pod: &serde_json::Value) -> Option<String> {
    world.faults.not_ready.iter().find_map(|rule| {
        let selector = LabelSelector::parse(&rule.selector).ok()?;
        (namespace_of(pod) == rule.namespace && selector.matches_object(pod))
            .then(|| rule.message.clone())
    })
}

fn matching_pods(
    world: &World,
    namespace: &str,
    selector: &str,
) -> Result<Vec<serde_json::Value>, String> {
    let s = LabelSelector::parse(selector).map_err(|e| format!("selector '{selector}': {e}"))?;
    Ok(world
        .kube
        .list("v1/Pod", Some(namespace))
        .filter(|p| s.matches_object(p))
        .cloned()
        .collect())
}

/// Applies one fault; Ok says what it did.
pub fn apply(world: &mut World, fault: &Fault) -> Result<String, String> {
    match fault {
        Fault::DiskUsage {
            namespace,
            claim,
            percent,
            bytes,
        } => {
            let pvc = world
                .kube
                .get("v1/PersistentVolumeClaim", namespace, claim)
                .ok_or_else(|| format!("disk-usage: claim {namespace}/{claim} does not exist"))?;
            let capacity = value_bytes(&pvc["status"]["capacity"]["storage"])
                .or_else(|| value_bytes(&pvc["spec"]["resources"]["requests"]["storage"]))
                .ok_or_else(|| format!("disk-usage: claim {namespace}/{claim} has no size"))?;
            let used = match (bytes, percent) {
                (Some(b), _) => *b,
                (None, Some(p)) => (capacity as f64 * p / 100.0) as u64,
                (None, None) => capacity,
            };
            world
                .disk_usage
                .insert(format!("{namespace}/{claim}"), used);
            Ok(format!(
                "{namespace}/{claim}: {used} of {capacity} bytes used"
            ))
        }
        Fault::PodsNotReady {
            namespace,
            selector,
            message,
        } => {
            LabelSelector::parse(selector)
                .map_err(|e| format!("pods-not-ready: selector '{selector}': {e}"))?;
            let message = message
                .clone()
                .unwrap_or_else(|| "dial tcp: connect: connection refused".into());
            world.faults.not_ready.push(NotReadyRule {
                namespace: namespace.clone(),
                selector: selector.clone(),
                message,
            });
            Ok(format!(
                "pods in {namespace} matching {selector} fail readiness"
            ))
        }
        Fault::RemoveImages {
            namespace,
            images,
            deployments,
        } => {
            let mut targets = images.clone();
            for d in deployments {
                let dep = world
                    .kube
                    .get("apps/v1/Deployment", namespace, d)
                    .ok_or_else(|| {
                        format!("remove-images: deployment {namespace}/{d} does not exist")
                    })?;
                for c in dep["spec"]["template"]["spec"]["containers"]
                    .as_array()
                    .into_iter()
                    .flatten()
                {
                    if let Some(i) = c["image"].as_str() {
                        targets.push(i.to_string());
                    }
                }
            }
            for image in &targets {
                world.registry.remove(image);
            }
            Ok(format!("removed from the registry: {}", targets.join(", ")))
        }
        Fault::PushImages { images } => {
            for image in images {
                world.registry.push(image);
            }
            Ok(format!("pushed: {}", images.join(", ")))
        }
        Fault::RestartPods {
            namespace,
            selector,
        } => {
            let pods = matching_pods(world, namespace, selector)?;
            for pod in &pods {
                crate::controllers::kubelet::delete_pod(world, pod);
            }
            Ok(format!(
                "restarted {} pod(s) in {namespace} matching {selector}",
                pods.len()
            ))
        }
        Fault::HelmReleaseStatus {
            namespace,
            release,
            status,
            description,
        } => {
            let latest = helm_release::release_secrets(world, namespace, release)
                .last()
                .map(|s| (*s).clone())
                .ok_or_else(|| {
                    format!("helm-release-status: no release {release} in {namespace}")
                })?;
            let data = latest["data"]["release"]
                .as_str()
                .ok_or("helm-release-status: release secret has no data.release")?;
            let mut body = helm_release::decode(data)?;
            let version = body["version"].as_u64().unwrap_or(1) + 1;
            body["version"] = json!(version);
            body["info"]["status"] = json!(status);
            let now = jiff::Timestamp::now()
                .strftime("%Y-%m-%dT%H:%M:%S%.9f+00:00")
                .to_string();
            body["info"]["last_deployed"] = json!(now);
            body["info"]["description"] =
                json!(description
                    .clone()
                    .unwrap_or_else(|| match status.as_str() {
                        "pending-upgrade" => "Preparing upgrade".into(),
                        "pending-install" => "Initial install underway".into(),
                        "pending-rollback" => "Preparing rollback".into(),
                        other => format!("Release is {other}"),
                    }));
            let name = format!("sh.helm.release.v1.{release}.v{version}");
            let secret = json!({
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": name, "namespace": namespace, "labels": {"name": release, "owner": "helm", "status": status, "version": version.to_string()}},
                "type": "helm.sh/release.v1",
                "data": {"release": helm_release::encode(&body)},
            });
            crate::controllers::objects::create_internal(world, "v1/Secret", secret);
            Ok(format!(
                "release {namespace}/{release} revision {version} is {status}"
            ))
        }
        Fault::StorageClass {
            name,
            allow_volume_expansion,
        } => {
            let mut sc = world
                .kube
                .get("storage.k8s.io/v1/StorageClass", "", name)
                .cloned()
                .ok_or_else(|| format!("storage-class: {name} does not exist"))?;
            if let Some(a) = allow_volume_expansion {
                sc["allowVolumeExpansion"] = json!(a);
            }
            world.kube.replace("storage.k8s.io/v1/StorageClass", sc);
            Ok(format!("storage class {name} changed"))
        }
        Fault::LogLines {
            namespace,
            selector,
            container,
            lines,
        } => {
            let pods = matching_pods(world, namespace, selector)?;
            for pod in &pods {
                let c = container
                    .clone()
                    .or_else(|| {
                        pod["spec"]["containers"][0]["name"]
                            .as_str()
                            .map(String::from)
                    })
                    .unwrap_or_default();
                for line in lines {
                    world.logs.append(namespace, name_of(pod), &c, line.clone());
                }
            }
            Ok(format!(
                "{} line(s) added to {} pod(s)",
                lines.len(),
                pods.len()
            ))
        }
    }
}

/// Applies the scenario's pending faults (and switches on its API faults).
pub fn apply_pending(world: &mut World) -> Result<Vec<String>, String> {
    let pending = std::mem::take(&mut world.faults.pending);
    let mut done = Vec::new();
    for fault in &pending {
        done.push(apply(world, fault)?);
    }
    if let Some(section) = world.faults.pending_azure.take() {
        let names = world.azure.names.clone();
        let scenario = crate::azure::AzureScenario::from_yaml(Some(&section))?;
        // applied to the running state: keys, tokens and IDs issued so far stay valid
        world.azure.apply(&names, &scenario)?;
        world.azure.scenario = scenario;
        // names only: a section may carry values that must not be shown (client secrets)
        let keys: Vec<String> = section
            .as_mapping()
            .map(|m| {
                m.keys()
                    .filter_map(|k| k.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default();
        done.push(format!("Azure differences applied: {}", keys.join(", ")));
    }
    if let Some(api) = world.faults.pending_api_faults.take() {
        world.api_faults = Some(api);
        done.push("API fault injection on".into());
    }
    world.deploy_pending = false;
    Ok(done)
}
