//! Volumes: PVCs, storage classes, resizing, and how full the disks are.
//!
//! Guide §10's commonest failure is ClickHouse's 8Gi volume filling up. The fix
//! is a resize of the existing PVC — Helm cannot change a StatefulSet's
//! volumeClaimTemplates — which only works when the storage class allows
//! expansion, can never shrink, and completes only after the pod restarts
//! (`FileSystemResizePending`). So [`resize`] checks both refusals *before* it
//! patches, and [`wait_capacity`] waits for the new size to show, saying what it
//! is waiting for. Usage comes from the kubelet's stats summary through the API
//! server's node proxy, per PVC.

use std::time::{Duration, Instant};

use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Pod};
use k8s_openapi::api::storage::v1::StorageClass;
use kube::api::{Api, Patch, PatchParams};
use serde_json::{json, Value as Json};

use crate::context::RunContext;
use crate::error::{ErrorKind, Failure};
use crate::kube::errors::{api_failure, Object};
use crate::kube::objects::Selector;
use crate::kube::quantity::{bytes, human_bytes};
use crate::kube::watch::{ended_object, ended_progress, watch_until, Progress};
use crate::kube::Cluster;
use crate::plan::{Applied, Change};

const DEFAULT_CLASS_ANNOTATION: &str = "storageclass.kubernetes.io/is-default-class";

fn pvc_api(cluster: &Cluster, namespace: &str) -> Api<PersistentVolumeClaim> {
    Api::namespaced(cluster.client.clone(), namespace)
}

fn requested(pvc: &PersistentVolumeClaim) -> String {
    pvc.spec
        .as_ref()
        .and_then(|s| s.resources.as_ref())
        .and_then(|r| r.requests.as_ref())
        .and_then(|r| r.get("storage"))
        .map(|q| q.0.clone())
        .unwrap_or_default()
}

fn capacity(pvc: &PersistentVolumeClaim) -> String {
    pvc.status
        .as_ref()
        .and_then(|s| s.capacity.as_ref())
        .and_then(|c| c.get("storage"))
        .map(|q| q.0.clone())
        .unwrap_or_default()
}

/// `#{name, namespace, phase, storage_class, volume, access_modes, requested,
/// capacity, requested_bytes, capacity_bytes, resizing, resize_status, conditions}`.
pub fn pvc_summary(pvc: &PersistentVolumeClaim) -> Json {
    let status = pvc.status.clone().unwrap_or_default();
    let spec = pvc.spec.clone().unwrap_or_default();
    let (requested, capacity) = (requested(pvc), capacity(pvc));
    let (requested_bytes, capacity_bytes) = (
        bytes(&requested).unwrap_or(0),
        bytes(&capacity).unwrap_or(0),
    );
    let conditions: Vec<Json> = status
        .conditions
        .iter()
        .flatten()
        .map(|c| {
            json!({
                "type": c.type_,
                "status": c.status,
                "reason": c.reason.clone().unwrap_or_default(),
                "message": c.message.clone().unwrap_or_default(),
            })
        })
        .collect();
    // What the resize is waiting for: a condition (FileSystemResizePending, Resizing)
    // or the newer allocatedResourceStatuses (ControllerResizeInProgress, NodeResizePending …).
    let resize_status = status
        .conditions
        .iter()
        .flatten()
        .find(|c| {
            c.status == "True" && (c.type_ == "FileSystemResizePending" || c.type_ == "Resizing")
        })
        .map(|c| c.type_.clone())
        .or_else(|| {
            status
                .allocated_resource_statuses
                .as_ref()
                .and_then(|s| s.get("storage").cloned())
        })
        .unwrap_or_default();
    json!({
        "name": pvc.metadata.name,
        "namespace": pvc.metadata.namespace,
        "phase": status.phase.clone().unwrap_or_else(|| "Pending".into()),
        "storage_class": spec.storage_class_name.clone().unwrap_or_default(),
        "volume": spec.volume_name.clone().unwrap_or_default(),
        "access_modes": spec.access_modes.clone().unwrap_or_default(),
        "requested": requested,
        "capacity": capacity,
        "requested_bytes": requested_bytes,
        "capacity_bytes": capacity_bytes,
        "resizing": capacity_bytes > 0 && requested_bytes > capacity_bytes,
        "resize_status": resize_status,
        "conditions": conditions,
        "labels": pvc.metadata.labels.clone().unwrap_or_default(),
    })
}

pub async fn pvcs(
    cluster: &Cluster,
    namespace: &str,
    selector: &Selector,
) -> Result<Vec<Json>, Failure> {
    let list = pvc_api(cluster, namespace)
        .list(&selector.list_params())
        .await
        .map_err(|e| {
            api_failure(
                e,
                "list",
                &Object::new("PersistentVolumeClaim", namespace, ""),
                &cluster.server,
            )
        })?;
    Ok(list.items.iter().map(pvc_summary).collect())
}

async fn get_pvc(
    cluster: &Cluster,
    namespace: &str,
    name: &str,
) -> Result<PersistentVolumeClaim, Failure> {
    let object = Object::new("PersistentVolumeClaim", namespace, name);
    pvc_api(cluster, namespace)
        .get_opt(name)
        .await
        .map_err(|e| api_failure(e, "get", &object, &cluster.server))?
        .ok_or_else(|| {
            Failure::not_found(format!("{object} not found"))
                .with_hint(format!("list the claims with kube::pvcs(\"{namespace}\")"))
        })
}

pub async fn pvc(cluster: &Cluster, namespace: &str, name: &str) -> Result<Json, Failure> {
    Ok(pvc_summary(&get_pvc(cluster, namespace, name).await?))
}

fn is_default(sc: &StorageClass) -> bool {
    sc.metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(DEFAULT_CLASS_ANNOTATION))
        .is_some_and(|v| v == "true")
}

/// `#{name, provisioner, allow_volume_expansion, is_default, reclaim_policy, volume_binding_mode}`.
pub fn class_summary(sc: &StorageClass) -> Json {
    json!({
        "name": sc.metadata.name,
        "provisioner": sc.provisioner,
        "allow_volume_expansion": sc.allow_volume_expansion.unwrap_or(false),
        "is_default": is_default(sc),
        "reclaim_policy": sc.reclaim_policy.clone().unwrap_or_else(|| "Delete".into()),
        "volume_binding_mode": sc.volume_binding_mode.clone().unwrap_or_else(|| "Immediate".into()),
        "parameters": sc.parameters.clone().unwrap_or_default(),
    })
}

async fn list_classes(cluster: &Cluster) -> Result<Vec<StorageClass>, Failure> {
    Api::<StorageClass>::all(cluster.client.clone())
        .list(&Default::default())
        .await
        .map(|l| l.items)
        .map_err(|e| {
            api_failure(
                e,
                "list",
                &Object::new("StorageClass", "", ""),
                &cluster.server,
            )
        })
}

pub async fn storage_classes(cluster: &Cluster) -> Result<Vec<Json>, Failure> {
    Ok(list_classes(cluster)
        .await?
        .iter()
        .map(class_summary)
        .collect())
}

/// A storage class by name; `""` means the cluster's default class.
async fn get_class(cluster: &Cluster, name: &str) -> Result<StorageClass, Failure> {
    if name.is_empty() {
        return list_classes(cluster)
            .await?
            .into_iter()
            .find(is_default)
            .ok_or_else(|| {
                Failure::not_found("the cluster has no default StorageClass")
                    .with_hint("name the class explicitly, or mark one default (storageclass.kubernetes.io/is-default-class)")
            });
    }
    let object = Object::new("StorageClass", "", name);
    Api::<StorageClass>::all(cluster.client.clone())
        .get_opt(name)
        .await
        .map_err(|e| api_failure(e, "get", &object, &cluster.server))?
        .ok_or_else(|| {
            Failure::not_found(format!("{object} not found"))
                .with_hint("kube::storage_classes() lists them")
        })
}

pub async fn storage_class(cluster: &Cluster, name: &str) -> Result<Json, Failure> {
    Ok(class_summary(&get_class(cluster, name).await?))
}

fn parse_size(size: &str) -> Result<i64, Failure> {
    bytes(size).filter(|b| *b > 0).ok_or_else(|| {
        Failure::invalid(format!("`{size}` is not a storage size"))
            .with_hint("write sizes like 50Gi or 100G")
    })
}

/// Grows a PVC to `size`. Refuses, before changing anything, a shrink (as the API
/// server would: 422 → `invalid`) and a class without expansion (403 →
/// `forbidden`). Destructive: confirmed, planned in a dry run.
pub async fn resize(
    run: &RunContext,
    cluster: &Cluster,
    namespace: &str,
    name: &str,
    size: &str,
) -> Result<Json, Failure> {
    let wanted = parse_size(size)?;
    let pvc = get_pvc(cluster, namespace, name).await?;
    let object = Object::new("PersistentVolumeClaim", namespace, name);
    let current = requested(&pvc);
    let current_bytes = bytes(&current).unwrap_or(0);
    if wanted < current_bytes {
        return Err(Failure::invalid(format!(
            "refusing to shrink {object} from {current} to {size}: volumes can only grow"
        ))
        .with_hint(format!(
            "choose a size of at least {current}; a smaller disk means backup, reinstall with the new size, restore"
        ))
        .with_detail("reason", "shrink")
        .with_detail("current", current.clone()));
    }
    let class_name = pvc.spec.as_ref().and_then(|s| s.storage_class_name.clone());
    if class_name.as_deref() == Some("") {
        return Err(Failure::new(
            ErrorKind::Forbidden,
            format!(
                "{object} has no storage class (statically provisioned), so it cannot be expanded"
            ),
        )
        .with_hint("back up the data, recreate the volume with the new size, restore (guide §10)")
        .with_detail("reason", "no_expansion"));
    }
    let class = get_class(cluster, class_name.as_deref().unwrap_or("")).await?;
    let class_label = class.metadata.name.clone().unwrap_or_default();
    if class.allow_volume_expansion != Some(true) {
        return Err(Failure::new(
            ErrorKind::Forbidden,
            format!(
                "StorageClass {class_label} does not allow volume expansion, so {object} cannot grow from {current} to {size}"
            ),
        )
        .with_hint(
            "nothing was changed. Either use a class with allowVolumeExpansion: true, or back up the data, \
             delete the StatefulSet and its PVCs, set the new size in the values, reinstall and restore (guide §10)",
        )
        .with_detail("reason", "no_expansion")
        .with_detail("storage_class", class_label));
    }
    if wanted == current_bytes {
        run.kept(
            &format!("pvc {namespace}/{name}"),
            &format!("already requests {current}"),
        );
        return Ok(json!({
            "namespace": namespace, "name": name, "outcome": "kept",
            "from": current, "to": size, "storage_class": class_label,
        }));
    }
    let change = Change::new("resize pvc", format!("{namespace}/{name}"))
        .detail(format!(
            "{current} → {size} (StorageClass {class_label} allows expansion)"
        ))
        .destructive();
    let body = json!({"spec": {"resources": {"requests": {"storage": size}}}});
    let applied = run
        .change(change, async {
            pvc_api(cluster, namespace)
                .patch(name, &PatchParams::default(), &Patch::Merge(&body))
                .await
                .map_err(|e| api_failure(e, "resize", &object, &cluster.server))
        })
        .await?;
    Ok(json!({
        "namespace": namespace,
        "name": name,
        "outcome": match applied { Applied::Planned => "planned", Applied::Done(_) => "resized" },
        "from": current,
        "to": size,
        "storage_class": class_label,
    }))
}

fn capacity_progress(pvc: &PersistentVolumeClaim, wanted: i64) -> Progress {
    let have = bytes(&capacity(pvc)).unwrap_or(0);
    if have >= wanted {
        return Progress::Done(format!("capacity is {}", capacity(pvc)));
    }
    let summary = pvc_summary(pvc);
    let pending = summary["resize_status"].as_str().unwrap_or("");
    Progress::Waiting(match pending {
        "FileSystemResizePending" => format!(
            "capacity is still {}: the volume has grown, the file system waits for the pod using it to restart",
            capacity(pvc)
        ),
        "" => format!("capacity is still {} (requested {})", capacity(pvc), requested(pvc)),
        other => format!("capacity is still {}: {other}", capacity(pvc)),
    })
}

/// Waits until the PVC's capacity is at least `size`. In a dry run, reports where
/// it stands without waiting (the resize was only planned).
pub async fn wait_capacity(
    run: &RunContext,
    cluster: &Cluster,
    namespace: &str,
    name: &str,
    size: &str,
    timeout_secs: i64,
) -> Result<Json, Failure> {
    let wanted = parse_size(size)?;
    let started = Instant::now();
    let object = Object::new("PersistentVolumeClaim", namespace, name);
    let deadline = (!run.settings.dry_run && timeout_secs > 0)
        .then(|| started + Duration::from_secs(timeout_secs as u64));
    let api = pvc_api(cluster, namespace);
    let ended = watch_until(cluster, &api, &object, deadline, |p| {
        capacity_progress(p, wanted)
    })
    .await?;
    let mut result = pvc_summary(ended_object(&ended));
    let (progress, _timed_out) = ended_progress(&ended);
    let ready = matches!(progress, Progress::Done(_));
    result["ready"] = json!(ready);
    result["seconds"] = json!(started.elapsed().as_secs_f64());
    if ready || deadline.is_none() {
        return Ok(result);
    }
    let message = match progress {
        Progress::Waiting(m) | Progress::Done(m) | Progress::Failed(_, m) => m,
    };
    let hint = if result["resize_status"] == "FileSystemResizePending" {
        "restart the pod that mounts it (kube::restart_pods) so the file system is expanded (guide §10)"
    } else {
        "read the claim's events (kube::events) for the storage driver's progress"
    };
    Err(Failure::timeout(format!(
        "{object} did not reach {size} within {timeout_secs} s: {message}"
    ))
    .with_hint(hint)
    .with_detail("status", crate::value::from_json(&result)))
}

/// A StatefulSet's volumeClaimTemplates, with the claim names its pods get.
pub async fn claim_templates(
    cluster: &Cluster,
    namespace: &str,
    name: &str,
) -> Result<Vec<Json>, Failure> {
    let object = Object::new("StatefulSet", namespace, name);
    let sts = Api::<StatefulSet>::namespaced(cluster.client.clone(), namespace)
        .get_opt(name)
        .await
        .map_err(|e| api_failure(e, "get", &object, &cluster.server))?
        .ok_or_else(|| {
            Failure::not_found(format!("{object} not found"))
                .with_hint("check the name and the namespace")
        })?;
    let spec = sts.spec.unwrap_or_default();
    let replicas = spec.replicas.unwrap_or(1).max(0);
    Ok(spec
        .volume_claim_templates
        .unwrap_or_default()
        .iter()
        .map(|t| {
            let template = t.metadata.name.clone().unwrap_or_default();
            let tspec = t.spec.clone().unwrap_or_default();
            let size = tspec
                .resources
                .as_ref()
                .and_then(|r| r.requests.as_ref())
                .and_then(|r| r.get("storage"))
                .map(|q| q.0.clone())
                .unwrap_or_default();
            let claims: Vec<String> = (0..replicas)
                .map(|i| format!("{template}-{name}-{i}"))
                .collect();
            json!({
                "name": template,
                "storage_class": tspec.storage_class_name.unwrap_or_default(),
                "size": size,
                "access_modes": tspec.access_modes.unwrap_or_default(),
                "claims": claims,
            })
        })
        .collect())
}

/// How full each PVC in `namespace` is, from the kubelet stats summary of every
/// node running a pod that mounts one: `#{pvc, namespace, pod, node, used_bytes,
/// capacity_bytes, available_bytes, used_percent, used, capacity}`.
pub async fn volume_usage(cluster: &Cluster, namespace: &str) -> Result<Vec<Json>, Failure> {
    let pods: Vec<Pod> = Api::<Pod>::namespaced(cluster.client.clone(), namespace)
        .list(&Default::default())
        .await
        .map_err(|e| {
            api_failure(
                e,
                "list",
                &Object::new("Pod", namespace, ""),
                &cluster.server,
            )
        })?
        .items;
    let mut nodes: Vec<String> = pods
        .iter()
        .filter(|p| {
            p.spec
                .as_ref()
                .and_then(|s| s.volumes.as_ref())
                .is_some_and(|vs| vs.iter().any(|v| v.persistent_volume_claim.is_some()))
        })
        .filter_map(|p| p.spec.as_ref().and_then(|s| s.node_name.clone()))
        .collect();
    nodes.sort();
    nodes.dedup();
    let mut usage = Vec::new();
    for node in nodes {
        let path = format!("/api/v1/nodes/{node}/proxy/stats/summary");
        let request = http::Request::get(&path)
            .body(Vec::new())
            .map_err(|e| Failure::invalid(e.to_string()))?;
        let summary: Json = cluster.client.request(request).await.map_err(|e| {
            api_failure(
                e,
                "read the stats summary of",
                &Object::new("Node", "", &node),
                &cluster.server,
            )
        })?;
        for pod in summary["pods"].as_array().into_iter().flatten() {
            if pod["podRef"]["namespace"] != namespace {
                continue;
            }
            for volume in pod["volume"].as_array().into_iter().flatten() {
                let Some(claim) = volume["pvcRef"]["name"].as_str() else {
                    continue;
                };
                let used = volume["usedBytes"].as_i64().unwrap_or(0);
                let capacity = volume["capacityBytes"].as_i64().unwrap_or(0);
                let available = volume["availableBytes"].as_i64().unwrap_or(capacity - used);
                let percent = if capacity > 0 {
                    (used as f64 * 1000.0 / capacity as f64).round() / 10.0
                } else {
                    0.0
                };
                usage.push(json!({
                    "pvc": claim,
                    "namespace": namespace,
                    "pod": pod["podRef"]["name"],
                    "node": node,
                    "used_bytes": used,
                    "capacity_bytes": capacity,
                    "available_bytes": available,
                    "used_percent": percent,
                    "used": human_bytes(used),
                    "capacity": human_bytes(capacity),
                }));
            }
        }
    }
    usage.sort_by(|a, b| a["pvc"].as_str().cmp(&b["pvc"].as_str()));
    Ok(usage)
}
