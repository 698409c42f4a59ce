//! The ReplicaSet controller: keeps `spec.replicas` pods from the template alive (a
//! deleted pod comes back), removes extra ones, and reports replica counts.

use super::events::{record, Source};
use super::objects::{
    controlled_by, create_internal, is_active_pod, is_pod_ready, is_terminating, owner_ref,
    set_status,
};
use super::Pass;
use crate::store::{name_of, namespace_of};
use crate::world::World;
use serde_json::{json, Value};

const RS: &str = "apps/v1/ReplicaSet";

/// A pod from a workload's template, owned by `owner`.
pub fn pod_from_template(owner: &Value, template: &Value, name: &str) -> Value {
    let mut metadata = template["metadata"].clone();
    if !metadata.is_object() {
        metadata = json!({});
    }
    metadata["name"] = json!(name);
    metadata["namespace"] = owner["metadata"]["namespace"].clone();
    metadata["ownerReferences"] = json!([owner_ref(owner, true)]);
    if let Some(m) = metadata.as_object_mut() {
        m.remove("creationTimestamp");
    }
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": metadata,
        "spec": template["spec"].clone(),
        "status": {"phase": "Pending", "qosClass": "BestEffort"},
    })
}

pub fn run(world: &mut World, _pass: &mut Pass<'_>) {
    for rs in world.kube.list_owned(RS, None) {
        if is_terminating(&rs) {
            continue;
        }
        let desired = rs["spec"]["replicas"].as_i64().unwrap_or(1).max(0) as usize;
        let mut pods: Vec<Value> = controlled_by(world, "v1/Pod", &rs)
            .into_iter()
            .filter(is_active_pod)
            .collect();
        if pods.len() < desired {
            for _ in pods.len()..desired {
                let name = format!("{}-{}", name_of(&rs), world.kube.new_suffix(5));
                let pod = pod_from_template(&rs, &rs["spec"]["template"], &name);
                let created = create_internal(world, "v1/Pod", pod);
                record(
                    world,
                    &rs,
                    Source::Controller("replicaset-controller"),
                    false,
                    "SuccessfulCreate",
                    &format!("Created pod: {name}"),
                );
                pods.push(created);
            }
        } else if pods.len() > desired {
            // delete the least useful first: unscheduled, not ready, newest
            pods.sort_by_key(|p| {
                (
                    p["spec"]["nodeName"].is_string(),
                    is_pod_ready(p),
                    std::cmp::Reverse(
                        p["metadata"]["creationTimestamp"]
                            .as_str()
                            .unwrap_or("")
                            .to_string(),
                    ),
                )
            });
            let excess = pods.len() - desired;
            for pod in pods.drain(..excess) {
                super::kubelet::delete_pod(world, &pod);
                record(
                    world,
                    &rs,
                    Source::Controller("replicaset-controller"),
                    false,
                    "SuccessfulDelete",
                    &format!("Deleted pod: {}", name_of(&pod)),
                );
            }
        }
        let pods: Vec<Value> = controlled_by(world, "v1/Pod", &rs)
            .into_iter()
            .filter(is_active_pod)
            .collect();
        let ready = pods.iter().filter(|p| is_pod_ready(p)).count();
        let mut status = json!({
            "replicas": pods.len(),
            "fullyLabeledReplicas": pods.len(),
            "readyReplicas": ready,
            "availableReplicas": ready,
            "observedGeneration": rs["metadata"]["generation"],
        });
        if let Some(m) = status.as_object_mut() {
            for k in ["fullyLabeledReplicas", "readyReplicas", "availableReplicas"] {
                if m.get(k).and_then(Value::as_i64) == Some(0) {
                    m.remove(k);
                }
            }
        }
        let _ = namespace_of(&rs);
        set_status(world, RS, &rs, status);
    }
}
