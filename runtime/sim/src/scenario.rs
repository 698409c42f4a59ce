//! Scenarios: YAML files that describe a starting world and the faults injected into it.
//!
//! ```yaml
//! name: clickhouse-disk-full
//! description: ClickHouse's volume is full; the worker drops traces.
//! deployed: true            # start from a deployed Langfuse (default)
//! cluster:                  # the cluster before anything is installed
//!   kubernetes_version: v1.33.2
//!   nodes: 2
//!   storage_classes: [...]  # default: managed-csi (default, expandable), managed-csi-premium, azurefile-csi
//!   registry: [lfrunacr.azurecr.io/langfuse-web:abc1234]
//!   namespaces: [langfuse]
//!   objects: [...]          # any manifests to create up front
//! azure: {...}              # passed through to the Azure part of the rehearsal
//! faults:                   # applied after the deploy, in order
//!   - fault: disk-usage
//!     namespace: langfuse
//!     claim: data-langfuse-clickhouse-shard0-0
//!     percent: 100
//! api_faults: {...}         # request fault injection, switched on with the faults
//! ```
//!
//! Named scenarios are compiled in; a path to a file works too.

use crate::api_faults::ApiFaultConfig;
use crate::controllers::objects::create_internal;
use crate::error::SimError;
use crate::faults::Fault;
use crate::world::World;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::path::Path;

/// The scenarios shipped with lfrun, by name.
const SHIPPED: &[(&str, &str)] = &[
    ("healthy", include_str!("../scenarios/healthy.yaml")),
    (
        "clickhouse-disk-full",
        include_str!("../scenarios/clickhouse-disk-full.yaml"),
    ),
    (
        "no-volume-expansion",
        include_str!("../scenarios/no-volume-expansion.yaml"),
    ),
    (
        "image-missing",
        include_str!("../scenarios/image-missing.yaml"),
    ),
    (
        "db-not-ready",
        include_str!("../scenarios/db-not-ready.yaml"),
    ),
    (
        "helm-pending-upgrade",
        include_str!("../scenarios/helm-pending-upgrade.yaml"),
    ),
    ("api-flaky", include_str!("../scenarios/api-flaky.yaml")),
    (
        "missing-delegator-role",
        include_str!("../scenarios/missing-delegator-role.yaml"),
    ),
    (
        "acr-not-attached",
        include_str!("../scenarios/acr-not-attached.yaml"),
    ),
    (
        "oidc-disabled",
        include_str!("../scenarios/oidc-disabled.yaml"),
    ),
    (
        "federated-subject-mismatch",
        include_str!("../scenarios/federated-subject-mismatch.yaml"),
    ),
    (
        "sso-redirect-mismatch",
        include_str!("../scenarios/sso-redirect-mismatch.yaml"),
    ),
    ("empty", include_str!("../scenarios/empty.yaml")),
];

/// Names of the shipped scenarios.
pub fn scenario_names() -> Vec<&'static str> {
    SHIPPED.iter().map(|(n, _)| *n).collect()
}

/// The YAML text of a shipped scenario.
pub fn shipped_text(name: &str) -> Option<&'static str> {
    SHIPPED.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Whether the world starts with Langfuse deployed (the CLI installs it).
    #[serde(default = "yes")]
    pub deployed: bool,
    #[serde(default)]
    pub cluster: ClusterSpec,
    /// Opaque to this crate: the Azure part of the rehearsal reads it.
    #[serde(default)]
    pub azure: serde_yaml::Value,
    #[serde(default)]
    pub faults: Vec<Fault>,
    #[serde(default)]
    pub api_faults: Option<ApiFaultConfig>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClusterSpec {
    pub kubernetes_version: String,
    /// Number of nodes.
    pub nodes: u32,
    /// VM size label of the nodes.
    pub node_vm_size: String,
    /// Replaces the default storage classes when given.
    pub storage_classes: Option<Vec<StorageClassSpec>>,
    /// Images present in the rehearsal registry (`host/repo:tag`).
    pub registry: Vec<String>,
    /// Registry hosts besides `*.azurecr.io` that need the kubelet's credentials.
    pub private_registries: Vec<String>,
    /// Public images that do not exist.
    pub missing_public_images: Vec<String>,
    /// Namespaces to create besides the system ones.
    pub namespaces: Vec<String>,
    /// Manifests to create up front.
    pub objects: Vec<serde_yaml::Value>,
}

impl Default for ClusterSpec {
    fn default() -> Self {
        ClusterSpec {
            kubernetes_version: "v1.33.2".into(),
            nodes: 2,
            node_vm_size: "Standard_D4s_v5".into(),
            storage_classes: None,
            registry: Vec::new(),
            private_registries: Vec::new(),
            missing_public_images: Vec::new(),
            namespaces: Vec::new(),
            objects: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorageClassSpec {
    pub name: String,
    #[serde(default = "disk_csi")]
    pub provisioner: String,
    #[serde(default)]
    pub default: bool,
    #[serde(default = "yes")]
    pub allow_volume_expansion: bool,
    #[serde(default = "wait_for_consumer")]
    pub volume_binding_mode: String,
    #[serde(default = "delete")]
    pub reclaim_policy: String,
    #[serde(default)]
    pub parameters: std::collections::BTreeMap<String, String>,
}

fn disk_csi() -> String {
    "disk.csi.azure.com".into()
}
fn wait_for_consumer() -> String {
    "WaitForFirstConsumer".into()
}
fn delete() -> String {
    "Delete".into()
}

/// AKS's built-in classes (the default one expandable, as on AKS).
fn default_storage_classes() -> Vec<StorageClassSpec> {
    let class = |name: &str, provisioner: &str, default: bool, sku: &str| StorageClassSpec {
        name: name.into(),
        provisioner: provisioner.into(),
        default,
        allow_volume_expansion: true,
        volume_binding_mode: if provisioner == "disk.csi.azure.com" {
            "WaitForFirstConsumer".into()
        } else {
            "Immediate".into()
        },
        reclaim_policy: "Delete".into(),
        parameters: [("skuname".to_string(), sku.to_string())]
            .into_iter()
            .collect(),
    };
    vec![
        class("managed-csi", "disk.csi.azure.com", true, "StandardSSD_LRS"),
        class(
            "managed-csi-premium",
            "disk.csi.azure.com",
            false,
            "Premium_LRS",
        ),
        class("azurefile-csi", "file.csi.azure.com", false, "Standard_LRS"),
    ]
}

/// Loads a scenario by shipped name or by path to a YAML file.
pub fn load(name_or_path: &str) -> Result<Scenario, SimError> {
    let (text, origin) = match shipped_text(name_or_path) {
        Some(t) => (t.to_string(), name_or_path.to_string()),
        None => {
            let path = Path::new(name_or_path);
            if !path.exists() {
                return Err(SimError::Scenario {
                    name: name_or_path.into(),
                    message: format!(
                        "no such scenario (shipped: {}) and no such file",
                        scenario_names().join(", ")
                    ),
                });
            }
            let text = std::fs::read_to_string(path).map_err(|e| SimError::io(path, e))?;
            (text, path.display().to_string())
        }
    };
    // a file that is not a YAML mapping is not a scenario; say so without echoing it
    let document: serde_yaml::Value =
        serde_yaml::from_str(&text).map_err(|e| SimError::Scenario {
            name: origin.clone(),
            message: format!(
                "not valid YAML ({})",
                e.location()
                    .map(|l| format!("line {}", l.line()))
                    .unwrap_or_default()
            ),
        })?;
    if !document.is_mapping() {
        return Err(SimError::Scenario {
            name: origin,
            message: "not a scenario file: expected a YAML mapping with name:, cluster:, faults: …"
                .into(),
        });
    }
    serde_yaml::from_value(document).map_err(|e| SimError::Scenario {
        name: origin,
        message: e.to_string(),
    })
}

fn node(name: &str, index: u32, vm_size: &str, version: &str) -> serde_json::Value {
    json!({
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "labels": {
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "agentpool": "nodepool1",
                "kubernetes.azure.com/agentpool": "nodepool1",
                "kubernetes.azure.com/mode": "system",
                "node.kubernetes.io/instance-type": vm_size,
                "topology.kubernetes.io/region": "westeurope",
                "topology.kubernetes.io/zone": format!("westeurope-{}", index % 3 + 1),
            },
        },
        "spec": {"providerID": format!("azure:///subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/mc_rehearsal/providers/Microsoft.Compute/virtualMachineScaleSets/aks-nodepool1-vmss/virtualMachines/{index}"), "podCIDR": format!("10.244.{index}.0/24")},
        "status": {
            "addresses": [{"type": "InternalIP", "address": format!("10.224.0.{}", index + 4)}, {"type": "Hostname", "address": name}],
            "capacity": {"cpu": "4", "memory": "16374584Ki", "pods": "110", "ephemeral-storage": "129886128Ki"},
            "allocatable": {"cpu": "3860m", "memory": "12880696Ki", "pods": "110", "ephemeral-storage": "119703055367"},
            "conditions": [
                {"type": "MemoryPressure", "status": "False", "reason": "KubeletHasSufficientMemory", "message": "kubelet has sufficient memory available"},
                {"type": "DiskPressure", "status": "False", "reason": "KubeletHasNoDiskPressure", "message": "kubelet has no disk pressure"},
                {"type": "PIDPressure", "status": "False", "reason": "KubeletHasSufficientPID", "message": "kubelet has sufficient PID available"},
                {"type": "Ready", "status": "True", "reason": "KubeletReady", "message": "kubelet is posting ready status"}
            ],
            "nodeInfo": {
                "kubeletVersion": version, "kubeProxyVersion": version, "containerRuntimeVersion": "containerd://1.7.27-1",
                "osImage": "Ubuntu 22.04.5 LTS", "kernelVersion": "5.15.0-1089-azure", "operatingSystem": "linux", "architecture": "amd64",
                "machineID": format!("{:032x}", crate::ids::mix(index as u64)), "systemUUID": crate::ids::uid(index as u64 + 1000), "bootID": crate::ids::uid(index as u64 + 2000)
            },
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
        },
    })
}

/// The world a scenario starts from (before any deploy).
pub fn build_world(scenario: &Scenario) -> Result<World, SimError> {
    let bad = |message: String| SimError::Scenario {
        name: scenario.name.clone(),
        message,
    };
    let mut world = World::empty(&scenario.name);
    let c = &scenario.cluster;
    world.cluster.kubernetes_version = c.kubernetes_version.clone();
    world.cluster.private_registries = c.private_registries.iter().cloned().collect();
    world.cluster.missing_public_images = c.missing_public_images.iter().cloned().collect();
    for image in &c.registry {
        world.registry.push(image);
    }
    let mut namespaces = vec![
        "default".to_string(),
        "kube-system".into(),
        "kube-public".into(),
        "kube-node-lease".into(),
    ];
    namespaces.extend(c.namespaces.iter().cloned());
    for ns in namespaces {
        if world.kube.get("v1/Namespace", "", &ns).is_none() {
            create_internal(
                &mut world,
                "v1/Namespace",
                json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}),
            );
        }
    }
    for i in 0..c.nodes {
        let name = format!("aks-nodepool1-{}-vmss{:06}", 12345678, i);
        create_internal(
            &mut world,
            "v1/Node",
            node(&name, i, &c.node_vm_size, &c.kubernetes_version),
        );
    }
    for sc in c
        .storage_classes
        .clone()
        .unwrap_or_else(default_storage_classes)
    {
        let mut object = json!({
            "apiVersion": "storage.k8s.io/v1",
            "kind": "StorageClass",
            "metadata": {"name": sc.name, "labels": {"addonmanager.kubernetes.io/mode": "EnsureExists", "kubernetes.io/cluster-service": "true"}},
            "provisioner": sc.provisioner,
            "parameters": sc.parameters,
            "reclaimPolicy": sc.reclaim_policy,
            "volumeBindingMode": sc.volume_binding_mode,
            "allowVolumeExpansion": sc.allow_volume_expansion,
        });
        if sc.default {
            object["metadata"]["annotations"] =
                json!({"storageclass.kubernetes.io/is-default-class": "true"});
        }
        create_internal(&mut world, "storage.k8s.io/v1/StorageClass", object);
    }
    for manifest in &c.objects {
        let object: serde_json::Value =
            serde_json::to_value(manifest).map_err(|e| bad(format!("cluster.objects: {e}")))?;
        let api_version = object["apiVersion"].as_str().unwrap_or("");
        let kind = object["kind"].as_str().unwrap_or("");
        let rt =
            crate::kube::resources::find_by_kind(&world, api_version, kind).ok_or_else(|| {
                bad(format!(
                    "cluster.objects: unknown kind {api_version}/{kind}"
                ))
            })?;
        let mut object = object;
        if rt.namespaced && object["metadata"]["namespace"].is_null() {
            object["metadata"]["namespace"] = json!("default");
        }
        create_internal(&mut world, &rt.type_key(), object);
    }
    if scenario.deployed {
        // the install that deploys Langfuse sees a healthy Azure; the differences come after
        world.azure = crate::azure::seed_scenario(&serde_yaml::Value::Null).map_err(bad)?;
        world.faults.pending_azure = Some(scenario.azure.clone()).filter(|a| !a.is_null());
    } else {
        world.azure = crate::azure::seed_scenario(&scenario.azure).map_err(bad)?;
    }
    world.faults.pending = scenario.faults.clone();
    world.faults.pending_api_faults = scenario.api_faults.clone();
    world.deploy_pending = scenario.deployed;
    if !scenario.deployed {
        crate::faults::apply_pending(&mut world).map_err(bad)?;
    }
    world.kube.take_pending();
    Ok(world)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shipped_scenario_parses() {
        for name in scenario_names() {
            let s = load(name).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(s.name, name);
            build_world(&s).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }
}
