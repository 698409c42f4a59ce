//! The StatefulSet controller: pods `<name>-<ordinal>` with stable identity, their
//! PersistentVolumeClaims from `volumeClaimTemplates` (`<template>-<name>-<ordinal>`,
//! e.g. `data-langfuse-clickhouse-shard0-0`), ordered start-up for `OrderedReady`,
//! rolling updates from the highest ordinal down, ControllerRevisions and the
//! current/update revisions `kubectl rollout status` compares.

use super::events::{record, Source};
use super::objects::{
    controlled_by, create_internal, is_active_pod, is_pod_ready, is_terminating, owner_ref,
    set_status,
};
use super::replicaset::pod_from_template;
use super::Pass;
use crate::ids::hash_json;
use crate::store::{name_of, namespace_of};
use crate::world::World;
use serde_json::{json, Value};

const STS: &str = "apps/v1/StatefulSet";
const REVISION_LABEL: &str = "controller-revision-hash";

fn ordinal(pod: &Value, sts_name: &str) -> Option<i64> {
    name_of(pod)
        .strip_prefix(sts_name)?
        .strip_prefix('-')?
        .parse()
        .ok()
}

pub fn run(world: &mut World, _pass: &mut Pass<'_>) {
    for sts in world.kube.list_owned(STS, None) {
        if is_terminating(&sts) {
            continue;
        }
        reconcile(world, &sts);
    }
}

fn ensure_revision(world: &mut World, sts: &Value) -> String {
    let ns = namespace_of(sts).to_string();
    let hash = hash_json(&sts["spec"]["template"]);
    let name = format!("{}-{hash}", name_of(sts));
    if world
        .kube
        .get("apps/v1/ControllerRevision", &ns, &name)
        .is_none()
    {
        let revisions = controlled_by(world, "apps/v1/ControllerRevision", sts);
        let next = revisions
            .iter()
            .filter_map(|r| r["revision"].as_i64())
            .max()
            .unwrap_or(0)
            + 1;
        let mut labels = sts["spec"]["selector"]["matchLabels"].clone();
        labels[REVISION_LABEL] = json!(hash);
        let revision = json!({
            "apiVersion": "apps/v1",
            "kind": "ControllerRevision",
            "metadata": {"name": name, "namespace": ns, "labels": labels, "ownerReferences": [owner_ref(sts, true)]},
            "data": {"spec": {"template": sts["spec"]["template"].clone()}},
            "revision": next,
        });
        create_internal(world, "apps/v1/ControllerRevision", revision);
    }
    name
}

fn reconcile(world: &mut World, sts: &Value) {
    let ns = namespace_of(sts).to_string();
    let sts_name = name_of(sts).to_string();
    let spec = &sts["spec"];
    let desired = spec["replicas"].as_i64().unwrap_or(1).max(0);
    let update_revision = ensure_revision(world, sts);
    let revision_hash = update_revision.rsplit('-').next().unwrap_or("").to_string();
    let ordered = spec["podManagementPolicy"].as_str() != Some("Parallel");
    let pods: Vec<Value> = controlled_by(world, "v1/Pod", sts);

    // claims and pods for ordinals below `desired`
    for i in 0..desired {
        let pod_name = format!("{sts_name}-{i}");
        for template in spec["volumeClaimTemplates"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let tname = template["metadata"]["name"].as_str().unwrap_or("data");
            let claim = format!("{tname}-{pod_name}");
            if world
                .kube
                .get("v1/PersistentVolumeClaim", &ns, &claim)
                .is_none()
            {
                let mut labels = template["metadata"]["labels"].clone();
                if !labels.is_object() {
                    labels = json!({});
                }
                for (k, v) in spec["selector"]["matchLabels"]
                    .as_object()
                    .into_iter()
                    .flatten()
                {
                    labels[k] = v.clone();
                }
                let mut metadata = json!({"name": claim, "namespace": ns, "labels": labels});
                if let Some(a) = template["metadata"]["annotations"].as_object() {
                    metadata["annotations"] = json!(a);
                }
                if spec["persistentVolumeClaimRetentionPolicy"]["whenDeleted"] == "Delete" {
                    metadata["ownerReferences"] = json!([owner_ref(sts, false)]);
                }
                let pvc = json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": metadata, "spec": template["spec"].clone(), "status": {"phase": "Pending"}});
                create_internal(world, "v1/PersistentVolumeClaim", pvc);
                record(
                    world,
                    sts,
                    Source::Controller("statefulset-controller"),
                    false,
                    "SuccessfulCreate",
                    &format!(
                        "create Claim {claim} Pod {pod_name} in StatefulSet {sts_name} success"
                    ),
                );
            }
        }
        let existing = pods.iter().find(|p| name_of(p) == pod_name);
        if existing.is_some() {
            continue;
        }
        if world.kube.get("v1/Pod", &ns, &pod_name).is_some() {
            // an old pod of that name is still terminating
            if ordered {
                break;
            }
            continue;
        }
        if ordered {
            let predecessors_ready = (0..i).all(|j| {
                pods.iter().any(|p| {
                    name_of(p) == format!("{sts_name}-{j}") && is_pod_ready(p) && is_active_pod(p)
                })
            });
            if !predecessors_ready {
                break;
            }
        }
        let mut pod = pod_from_template(sts, &spec["template"], &pod_name);
        let labels = &mut pod["metadata"]["labels"];
        labels[REVISION_LABEL] = json!(update_revision);
        labels["statefulset.kubernetes.io/pod-name"] = json!(pod_name);
        labels["apps.kubernetes.io/pod-index"] = json!(i.to_string());
        pod["spec"]["hostname"] = json!(pod_name);
        if let Some(service) = spec["serviceName"].as_str() {
            pod["spec"]["subdomain"] = json!(service);
        }
        // claim templates become volumes (replacing same-named template volumes)
        let mut volumes: Vec<Value> = pod["spec"]["volumes"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        for template in spec["volumeClaimTemplates"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let tname = template["metadata"]["name"]
                .as_str()
                .unwrap_or("data")
                .to_string();
            volumes.retain(|v| v["name"] != tname.as_str());
            volumes.push(json!({"name": tname, "persistentVolumeClaim": {"claimName": format!("{tname}-{pod_name}")}}));
        }
        if !volumes.is_empty() {
            pod["spec"]["volumes"] = json!(volumes);
        }
        create_internal(world, "v1/Pod", pod);
        record(
            world,
            sts,
            Source::Controller("statefulset-controller"),
            false,
            "SuccessfulCreate",
            &format!("create Pod {pod_name} in StatefulSet {sts_name} successful"),
        );
        if ordered {
            break;
        }
    }

    let pods: Vec<Value> = controlled_by(world, "v1/Pod", sts);
    // scale down: highest ordinal first
    let mut extra: Vec<&Value> = pods
        .iter()
        .filter(|p| ordinal(p, &sts_name).is_some_and(|o| o >= desired) && is_active_pod(p))
        .collect();
    extra.sort_by_key(|p| std::cmp::Reverse(ordinal(p, &sts_name)));
    let all_ready = pods.iter().filter(|p| is_active_pod(p)).all(is_pod_ready);
    for pod in extra.iter().take(if ordered { 1 } else { usize::MAX }) {
        if ordered && !all_ready {
            break;
        }
        super::kubelet::delete_pod(world, pod);
        record(
            world,
            sts,
            Source::Controller("statefulset-controller"),
            false,
            "SuccessfulDelete",
            &format!(
                "delete Pod {} in StatefulSet {sts_name} successful",
                name_of(pod)
            ),
        );
    }

    // rolling update: replace the highest-ordinal outdated pod once everything is ready
    let rolling = spec["updateStrategy"]["type"].as_str() != Some("OnDelete");
    let partition = spec["updateStrategy"]["rollingUpdate"]["partition"]
        .as_i64()
        .unwrap_or(0);
    let active: Vec<&Value> = pods.iter().filter(|p| is_active_pod(p)).collect();
    let anything_terminating = pods.iter().any(is_terminating);
    if rolling && all_ready && !anything_terminating && active.len() as i64 >= desired {
        let mut outdated: Vec<&&Value> = active
            .iter()
            .filter(|p| p["metadata"]["labels"][REVISION_LABEL] != update_revision.as_str())
            .filter(|p| ordinal(p, &sts_name).is_some_and(|o| o >= partition && o < desired))
            .collect();
        outdated.sort_by_key(|p| std::cmp::Reverse(ordinal(p, &sts_name)));
        if let Some(pod) = outdated.first() {
            super::kubelet::delete_pod(world, pod);
            record(
                world,
                sts,
                Source::Controller("statefulset-controller"),
                false,
                "SuccessfulDelete",
                &format!(
                    "delete Pod {} in StatefulSet {sts_name} successful",
                    name_of(pod)
                ),
            );
        }
    }

    // status
    let pods: Vec<Value> = controlled_by(world, "v1/Pod", sts)
        .into_iter()
        .filter(is_active_pod)
        .collect();
    let ready = pods.iter().filter(|p| is_pod_ready(p)).count() as i64;
    let updated = pods
        .iter()
        .filter(|p| p["metadata"]["labels"][REVISION_LABEL] == update_revision.as_str())
        .count() as i64;
    let previous_current = sts["status"]["currentRevision"]
        .as_str()
        .unwrap_or("")
        .to_string();
    let current_revision =
        if previous_current.is_empty() || (updated == desired && ready == desired) {
            update_revision.clone()
        } else {
            previous_current
        };
    let current = pods
        .iter()
        .filter(|p| p["metadata"]["labels"][REVISION_LABEL] == current_revision.as_str())
        .count() as i64;
    let mut status = json!({
        "observedGeneration": sts["metadata"]["generation"],
        "replicas": pods.len(),
        "readyReplicas": ready,
        "currentReplicas": current,
        "updatedReplicas": updated,
        "availableReplicas": ready,
        "currentRevision": current_revision,
        "updateRevision": update_revision,
        "collisionCount": 0,
    });
    if let Some(m) = status.as_object_mut() {
        for k in ["readyReplicas", "currentReplicas", "updatedReplicas"] {
            if m.get(k).and_then(Value::as_i64) == Some(0) {
                m.remove(k);
            }
        }
    }
    let _ = revision_hash;
    set_status(world, STS, sts, status);
}
