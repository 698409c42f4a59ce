//! The kubelet's Summary API (`/api/v1/nodes/{node}/proxy/stats/summary`), which is how
//! disk usage of persistent volumes is read on a real cluster (`kubectl get --raw`,
//! metrics agents). Volume usage comes from the world's per-claim disk usage, so a full
//! ClickHouse volume shows `usedBytes == capacityBytes` here.

use crate::clock::wall_time;
use crate::quantity::value_bytes;
use crate::store::{name_of, namespace_of, uid_of};
use crate::world::World;
use serde_json::{json, Value};

const GI: u64 = 1024 * 1024 * 1024;

fn fs(capacity: u64, used: u64, time: &str) -> Value {
    let used = used.min(capacity);
    json!({
        "time": time,
        "availableBytes": capacity - used,
        "capacityBytes": capacity,
        "usedBytes": used,
        "inodesFree": 3_000_000u64.saturating_sub(used / 65536),
        "inodes": 3_276_800u64,
        "inodesUsed": (used / 65536).min(3_276_800),
    })
}

/// The summary for one node, or None when the node does not exist.
pub fn summary(world: &World, node: &str) -> Option<Value> {
    let node_object = world.kube.get("v1/Node", "", node)?;
    let time = wall_time();
    let start = node_object["metadata"]["creationTimestamp"].clone();
    let mut pods = Vec::new();
    for pod in world
        .kube
        .list("v1/Pod", None)
        .filter(|p| p["spec"]["nodeName"] == node)
    {
        let ns = namespace_of(pod);
        let containers: Vec<Value> = pod["status"]["containerStatuses"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|c| c["state"]["running"].is_object())
            .map(|c| {
                json!({
                    "name": c["name"],
                    "startTime": c["state"]["running"]["startedAt"],
                    "cpu": {"time": time, "usageNanoCores": 12_000_000u64, "usageCoreNanoSeconds": 4_500_000_000u64},
                    "memory": {"time": time, "usageBytes": 180 * 1024 * 1024u64, "workingSetBytes": 150 * 1024 * 1024u64, "rssBytes": 120 * 1024 * 1024u64, "pageFaults": 1200, "majorPageFaults": 3},
                    "rootfs": fs(30 * GI, 40 * 1024 * 1024, &time),
                    "logs": fs(30 * GI, 64 * 1024, &time),
                })
            })
            .collect();
        let mut volumes = Vec::new();
        for volume in pod["spec"]["volumes"].as_array().into_iter().flatten() {
            let Some(claim) = volume["persistentVolumeClaim"]["claimName"].as_str() else {
                continue;
            };
            let Some(pvc) = world.kube.get("v1/PersistentVolumeClaim", ns, claim) else {
                continue;
            };
            let Some(capacity) = value_bytes(&pvc["status"]["capacity"]["storage"]) else {
                continue;
            };
            let used = world
                .disk_usage
                .get(&format!("{ns}/{claim}"))
                .copied()
                .unwrap_or(0);
            let mut v = fs(capacity, used, &time);
            v["name"] = volume["name"].clone();
            v["pvcRef"] = json!({"name": claim, "namespace": ns});
            volumes.push(v);
        }
        pods.push(json!({
            "podRef": {"name": name_of(pod), "namespace": ns, "uid": uid_of(pod)},
            "startTime": pod["status"]["startTime"],
            "containers": containers,
            "cpu": {"time": time, "usageNanoCores": 12_000_000u64, "usageCoreNanoSeconds": 4_500_000_000u64},
            "memory": {"time": time, "usageBytes": 200 * 1024 * 1024u64, "workingSetBytes": 160 * 1024 * 1024u64, "rssBytes": 130 * 1024 * 1024u64, "pageFaults": 0, "majorPageFaults": 0},
            "network": {"time": time, "name": "eth0", "rxBytes": 1_000_000u64, "rxErrors": 0, "txBytes": 800_000u64, "txErrors": 0},
            "volume": volumes,
            "ephemeral-storage": fs(30 * GI, 50 * 1024 * 1024, &time),
            "process_stats": {"process_count": 4},
        }));
    }
    Some(json!({
        "node": {
            "nodeName": node,
            "systemContainers": [
                {"name": "kubelet", "startTime": start, "cpu": {"time": time, "usageNanoCores": 40_000_000u64, "usageCoreNanoSeconds": 90_000_000_000u64}, "memory": {"time": time, "usageBytes": 90 * 1024 * 1024u64, "workingSetBytes": 70 * 1024 * 1024u64, "rssBytes": 60 * 1024 * 1024u64, "pageFaults": 0, "majorPageFaults": 0}},
                {"name": "runtime", "startTime": start, "cpu": {"time": time, "usageNanoCores": 20_000_000u64, "usageCoreNanoSeconds": 50_000_000_000u64}, "memory": {"time": time, "usageBytes": 120 * 1024 * 1024u64, "workingSetBytes": 80 * 1024 * 1024u64, "rssBytes": 70 * 1024 * 1024u64, "pageFaults": 0, "majorPageFaults": 0}}
            ],
            "startTime": start,
            "cpu": {"time": time, "usageNanoCores": 350_000_000u64, "usageCoreNanoSeconds": 900_000_000_000u64},
            "memory": {"time": time, "availableBytes": 10 * GI, "usageBytes": 6 * GI, "workingSetBytes": 5 * GI, "rssBytes": 4 * GI, "pageFaults": 0, "majorPageFaults": 0},
            "network": {"time": time, "name": "eth0", "rxBytes": 500_000_000u64, "rxErrors": 0, "txBytes": 300_000_000u64, "txErrors": 0},
            "fs": fs(124 * GI, 22 * GI, &time),
            "runtime": {"imageFs": fs(124 * GI, 9 * GI, &time), "containerFs": fs(124 * GI, 9 * GI, &time)},
            "rlimit": {"time": time, "maxpid": 4_194_304, "curproc": 480},
        },
        "pods": pods,
    }))
}
