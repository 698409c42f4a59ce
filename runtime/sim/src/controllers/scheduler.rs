//! The scheduler: assigns each new pod to the ready node running the fewest pods.
//! (No resource fitting or affinity: the rehearsal cluster always has room.)

use super::events::{record, Source};
use super::objects::is_terminating;
use super::Pass;
use crate::store::{name_of, namespace_of};
use crate::world::World;
use serde_json::json;

pub fn run(world: &mut World, _pass: &mut Pass<'_>) {
    let unscheduled: Vec<serde_json::Value> = world
        .kube
        .list("v1/Pod", None)
        .filter(|p| p["spec"]["nodeName"].as_str().is_none_or(str::is_empty) && !is_terminating(p))
        .cloned()
        .collect();
    if unscheduled.is_empty() {
        return;
    }
    let nodes: Vec<String> = world
        .kube
        .list("v1/Node", None)
        .filter(|n| {
            n["spec"]["unschedulable"].as_bool() != Some(true)
                && n["status"]["conditions"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|c| c["type"] == "Ready" && c["status"] == "True")
        })
        .map(|n| name_of(n).to_string())
        .collect();
    for pod in unscheduled {
        if nodes.is_empty() {
            let msg = "0/0 nodes are available: no nodes available to schedule pods.";
            let mut p = pod.clone();
            let status = json!({"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": msg, "lastProbeTime": null, "lastTransitionTime": crate::clock::wall_time()}]});
            if p["status"]["conditions"] != status["conditions"] {
                p["status"] = status;
                world.kube.replace("v1/Pod", p);
                record(
                    world,
                    &pod,
                    Source::Scheduler,
                    true,
                    "FailedScheduling",
                    msg,
                );
            }
            continue;
        }
        let load = |node: &str| {
            world
                .kube
                .list("v1/Pod", None)
                .filter(|p| p["spec"]["nodeName"] == node)
                .count()
        };
        let node = nodes
            .iter()
            .min_by_key(|n| load(n))
            .cloned()
            .unwrap_or_default();
        let Some(mut current) = world
            .kube
            .get("v1/Pod", namespace_of(&pod), name_of(&pod))
            .cloned()
        else {
            continue;
        };
        current["spec"]["nodeName"] = json!(node);
        current["status"]["conditions"] = json!([{"type": "PodScheduled", "status": "True", "lastProbeTime": null, "lastTransitionTime": crate::clock::wall_time()}]);
        let stored = world.kube.replace("v1/Pod", current);
        record(
            world,
            &stored,
            Source::Scheduler,
            false,
            "Scheduled",
            &format!(
                "Successfully assigned {}/{} to {node}",
                namespace_of(&pod),
                name_of(&pod)
            ),
        );
    }
}
