//! The Deployment controller: one ReplicaSet per pod template (named with the
//! `pod-template-hash`), rolling updates within maxSurge/maxUnavailable, revisions, and
//! the status and conditions `kubectl rollout status` reads — including
//! `ProgressDeadlineExceeded` when a rollout makes no progress for
//! `progressDeadlineSeconds` of virtual time.

use super::events::{record, Source};
use super::objects::{
    condition, controlled_by, create_internal, is_terminating, owner_ref, set_status,
};
use super::Pass;
use crate::ids::hash_json;
use crate::store::{name_of, namespace_of, uid_of};
use crate::world::World;
use serde_json::{json, Value};

const RS: &str = "apps/v1/ReplicaSet";
const DEPLOYMENT: &str = "apps/v1/Deployment";
const REVISION: &str = "deployment.kubernetes.io/revision";

/// Resolves an int-or-percent against `total` (percentages round up for surge, down for
/// unavailable, as the real controller does).
pub fn int_or_percent(v: &Value, total: i64, round_up: bool) -> i64 {
    match v {
        Value::Number(n) => n.as_i64().unwrap_or(0),
        Value::String(s) if s.ends_with('%') => {
            let p: f64 = s.trim_end_matches('%').parse().unwrap_or(0.0);
            let raw = p * total as f64 / 100.0;
            if round_up {
                raw.ceil() as i64
            } else {
                raw.floor() as i64
            }
        }
        Value::String(s) => s.parse().unwrap_or(0),
        _ => 0,
    }
}

fn revision(rs: &Value) -> i64 {
    rs["metadata"]["annotations"][REVISION]
        .as_str()
        .and_then(|r| r.parse().ok())
        .unwrap_or(0)
}

fn replicas(o: &Value) -> i64 {
    o["spec"]["replicas"].as_i64().unwrap_or(0)
}

fn scale(world: &mut World, deployment: &Value, rs: &Value, to: i64, max_replicas: i64) {
    let from = replicas(rs);
    let Some(mut current) = world.kube.get(RS, namespace_of(rs), name_of(rs)).cloned() else {
        return;
    };
    current["spec"]["replicas"] = json!(to);
    let ann = &mut current["metadata"]["annotations"];
    ann["deployment.kubernetes.io/desired-replicas"] = json!(replicas(deployment).to_string());
    ann["deployment.kubernetes.io/max-replicas"] = json!(max_replicas.to_string());
    world.kube.replace(RS, current);
    if from != to {
        let verb = if to > from { "up" } else { "down" };
        record(
            world,
            deployment,
            Source::Controller("deployment-controller"),
            false,
            "ScalingReplicaSet",
            &format!(
                "Scaled {verb} replica set {} from {from} to {to}",
                name_of(rs)
            ),
        );
    }
}

pub fn run(world: &mut World, pass: &mut Pass<'_>) {
    for deployment in world.kube.list_owned(DEPLOYMENT, None) {
        if is_terminating(&deployment) {
            continue;
        }
        reconcile(world, pass, &deployment);
    }
}

fn reconcile(world: &mut World, pass: &mut Pass<'_>, d: &Value) {
    let ns = namespace_of(d).to_string();
    let spec = &d["spec"];
    let desired = replicas(d);
    let template = &spec["template"];
    let hash = hash_json(template);
    let mut owned = controlled_by(world, RS, d);
    owned.sort_by_key(revision);
    let max_revision = owned.iter().map(revision).max().unwrap_or(0);
    let mut progressed = false;

    // the ReplicaSet for the current template
    let new_rs = match owned
        .iter()
        .find(|rs| rs["metadata"]["labels"]["pod-template-hash"] == hash.as_str())
    {
        Some(rs) => {
            if revision(rs) < max_revision {
                // a rollback to an old template: that ReplicaSet becomes the newest revision
                let mut rs = rs.clone();
                rs["metadata"]["annotations"][REVISION] = json!((max_revision + 1).to_string());
                world.kube.replace(RS, rs.clone());
                progressed = true;
                rs
            } else {
                rs.clone()
            }
        }
        None => {
            let mut labels = template["metadata"]["labels"].clone();
            labels["pod-template-hash"] = json!(hash);
            let mut selector = spec["selector"].clone();
            selector["matchLabels"]["pod-template-hash"] = json!(hash);
            let mut rs_template = template.clone();
            rs_template["metadata"]["labels"] = labels.clone();
            let mut annotations = d["metadata"]["annotations"]
                .as_object()
                .cloned()
                .unwrap_or_default();
            annotations.remove("kubectl.kubernetes.io/last-applied-configuration");
            annotations.remove(REVISION);
            annotations.insert(REVISION.into(), json!((max_revision + 1).to_string()));
            annotations.insert(
                "deployment.kubernetes.io/desired-replicas".into(),
                json!(desired.to_string()),
            );
            annotations.insert(
                "deployment.kubernetes.io/max-replicas".into(),
                json!(desired.to_string()),
            );
            let rs = json!({
                "apiVersion": "apps/v1",
                "kind": "ReplicaSet",
                "metadata": {
                    "name": format!("{}-{hash}", name_of(d)),
                    "namespace": ns,
                    "labels": labels,
                    "annotations": annotations,
                    "ownerReferences": [owner_ref(d, true)],
                },
                "spec": {
                    "replicas": 0,
                    "minReadySeconds": spec["minReadySeconds"].as_i64().unwrap_or(0),
                    "selector": selector,
                    "template": rs_template,
                },
            });
            progressed = true;
            if world
                .kube
                .get(RS, &ns, &format!("{}-{hash}", name_of(d)))
                .is_some()
            {
                return;
            }
            create_internal(world, RS, rs)
        }
    };
    let olds: Vec<Value> = owned
        .iter()
        .filter(|rs| uid_of(rs) != uid_of(&new_rs))
        .cloned()
        .collect();

    if spec["paused"].as_bool() != Some(true) {
        let strategy = spec["strategy"]["type"].as_str().unwrap_or("RollingUpdate");
        let new_replicas = replicas(&new_rs);
        let old_total: i64 = olds.iter().map(replicas).sum();
        if strategy == "Recreate" {
            for rs in olds.iter().filter(|rs| replicas(rs) > 0) {
                scale(world, d, rs, 0, desired);
                progressed = true;
            }
            let old_pods_left: i64 = olds
                .iter()
                .map(|rs| rs["status"]["replicas"].as_i64().unwrap_or(0))
                .sum();
            if old_pods_left == 0 && old_total == 0 && new_replicas != desired {
                scale(world, d, &new_rs, desired, desired);
                progressed = true;
            }
        } else {
            let surge = int_or_percent(
                &spec["strategy"]["rollingUpdate"]["maxSurge"],
                desired,
                true,
            );
            let mut unavailable = int_or_percent(
                &spec["strategy"]["rollingUpdate"]["maxUnavailable"],
                desired,
                false,
            );
            if surge == 0 && unavailable == 0 {
                unavailable = 1;
            }
            let max_total = desired + surge;
            if olds.iter().all(|rs| replicas(rs) == 0) {
                if new_replicas != desired {
                    scale(world, d, &new_rs, desired, max_total);
                    progressed = true;
                }
            } else {
                // scale up the new ReplicaSet within the surge
                let total = new_replicas + old_total;
                let mut new_size = new_replicas;
                if new_replicas < desired && total < max_total {
                    new_size = (new_replicas + (max_total - total)).min(desired);
                    scale(world, d, &new_rs, new_size, max_total);
                    progressed = true;
                } else if new_replicas > desired {
                    new_size = desired;
                    scale(world, d, &new_rs, desired, max_total);
                }
                // scale down old ReplicaSets as far as availability allows
                let new_available = new_rs["status"]["availableReplicas"].as_i64().unwrap_or(0);
                let min_available = desired - unavailable;
                let new_unavailable = (new_size - new_available).max(0);
                let all_pods = new_size + old_total;
                let mut budget = all_pods - min_available - new_unavailable;
                for rs in olds.iter().filter(|rs| replicas(rs) > 0) {
                    // unhealthy old replicas go first and do not count against the budget
                    let unhealthy =
                        replicas(rs) - rs["status"]["availableReplicas"].as_i64().unwrap_or(0);
                    let mut target = replicas(rs) - unhealthy.max(0);
                    if budget > 0 {
                        let take = budget.min(target);
                        target -= take;
                        budget -= take;
                    }
                    if target != replicas(rs) {
                        scale(world, d, rs, target.max(0), max_total);
                        progressed = true;
                    }
                }
            }
        }
    }

    // old ReplicaSets beyond the history limit
    let limit = spec["revisionHistoryLimit"].as_i64().unwrap_or(10).max(0) as usize;
    let mut idle: Vec<Value> = controlled_by(world, RS, d)
        .into_iter()
        .filter(|rs| {
            uid_of(rs) != uid_of(&new_rs)
                && replicas(rs) == 0
                && rs["status"]["replicas"].as_i64().unwrap_or(0) == 0
        })
        .collect();
    idle.sort_by_key(revision);
    while idle.len() > limit {
        let rs = idle.remove(0);
        world.kube.remove(RS, namespace_of(&rs), name_of(&rs));
    }

    update_status(world, pass, d, &hash, progressed);
}

fn update_status(world: &mut World, pass: &mut Pass<'_>, d: &Value, hash: &str, progressed: bool) {
    let Some(d) = world
        .kube
        .get(DEPLOYMENT, namespace_of(d), name_of(d))
        .cloned()
    else {
        return;
    };
    let rss = controlled_by(world, RS, &d);
    let desired = replicas(&d);
    let sum = |f: &str| -> i64 {
        rss.iter()
            .map(|rs| rs["status"][f].as_i64().unwrap_or(0))
            .sum()
    };
    let new_rs = rss
        .iter()
        .find(|rs| rs["metadata"]["labels"]["pod-template-hash"] == hash);
    let new_name = new_rs.map(|rs| name_of(rs).to_string()).unwrap_or_default();
    let total = sum("replicas");
    let updated = new_rs.map_or(0, |rs| rs["status"]["replicas"].as_i64().unwrap_or(0));
    let ready = sum("readyReplicas");
    let available = sum("availableReplicas");
    let unavailable = (desired - available).max(0);
    let surge_unavailable = int_or_percent(
        &d["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"],
        desired,
        false,
    );
    let min_available = if d["spec"]["strategy"]["type"] == "Recreate" {
        desired
    } else {
        desired - surge_unavailable
    };

    let old = &d["status"];
    let now_wall = crate::clock::wall_time();
    let make = |kind: &str, status: &str, reason: &str, message: &str| -> Value {
        let previous = condition(old, kind);
        let same_status = previous.is_some_and(|p| p["status"] == status);
        let same_reason =
            previous.is_some_and(|p| p["reason"] == reason && p["message"] == message);
        let transition = if same_status {
            previous
                .map(|p| p["lastTransitionTime"].clone())
                .unwrap_or(json!(now_wall))
        } else {
            json!(now_wall)
        };
        let update = if same_status && same_reason {
            previous
                .map(|p| p["lastUpdateTime"].clone())
                .unwrap_or(json!(now_wall))
        } else {
            json!(now_wall)
        };
        json!({"type": kind, "status": status, "reason": reason, "message": message, "lastUpdateTime": update, "lastTransitionTime": transition})
    };
    let available_condition = if available >= min_available {
        make(
            "Available",
            "True",
            "MinimumReplicasAvailable",
            "Deployment has minimum availability.",
        )
    } else {
        make(
            "Available",
            "False",
            "MinimumReplicasUnavailable",
            "Deployment does not have minimum availability.",
        )
    };

    // zero counts are omitted from the status, so absent means 0
    let counts_changed = old["replicas"].as_i64().unwrap_or(0) != total
        || old["updatedReplicas"].as_i64().unwrap_or(0) != updated
        || old["readyReplicas"].as_i64().unwrap_or(0) != ready
        || old["availableReplicas"].as_i64().unwrap_or(0) != available
        || old["observedGeneration"] != d["metadata"]["generation"];
    let uid = uid_of(&d).to_string();
    if progressed || counts_changed || !world.controllers.deployment_progress.contains_key(&uid) {
        world
            .controllers
            .deployment_progress
            .insert(uid.clone(), pass.now);
    }
    let complete = updated == desired && available == desired && total == desired;
    let deadline_ms = d["spec"]["progressDeadlineSeconds"]
        .as_i64()
        .unwrap_or(600)
        .max(0) as u64
        * 1000;
    let last_progress = world
        .controllers
        .deployment_progress
        .get(&uid)
        .copied()
        .unwrap_or(pass.now);
    let previously_timed_out =
        condition(old, "Progressing").is_some_and(|c| c["reason"] == "ProgressDeadlineExceeded");
    let progressing = if complete {
        make(
            "Progressing",
            "True",
            "NewReplicaSetAvailable",
            &format!("ReplicaSet \"{new_name}\" has successfully progressed."),
        )
    } else if (pass.now >= last_progress + deadline_ms && !progressed && !counts_changed)
        || (previously_timed_out && !progressed)
    {
        make(
            "Progressing",
            "False",
            "ProgressDeadlineExceeded",
            &format!("ReplicaSet \"{new_name}\" has timed out progressing."),
        )
    } else {
        pass.wake_at(last_progress + deadline_ms);
        let (reason, message) = if progressed && condition(old, "Progressing").is_none() {
            (
                "NewReplicaSetCreated",
                format!("Created new replica set \"{new_name}\""),
            )
        } else {
            (
                "ReplicaSetUpdated",
                format!("ReplicaSet \"{new_name}\" is progressing."),
            )
        };
        make("Progressing", "True", reason, &message)
    };
    let status = json!({
        "observedGeneration": d["metadata"]["generation"],
        "replicas": total,
        "updatedReplicas": updated,
        "readyReplicas": ready,
        "availableReplicas": available,
        "unavailableReplicas": unavailable,
        "conditions": [available_condition, progressing],
    });
    let mut status = status;
    if let Some(m) = status.as_object_mut() {
        // the real API omits zero counts
        for k in [
            "replicas",
            "updatedReplicas",
            "readyReplicas",
            "availableReplicas",
            "unavailableReplicas",
        ] {
            if m.get(k).and_then(Value::as_i64) == Some(0) {
                m.remove(k);
            }
        }
    }
    // the Deployment carries its newest revision number
    if let Some(rs) = new_rs {
        let rev = rs["metadata"]["annotations"][REVISION].clone();
        if d["metadata"]["annotations"][REVISION] != rev && !rev.is_null() {
            let mut updated_d = d.clone();
            updated_d["metadata"]["annotations"][REVISION] = rev;
            updated_d["status"] = status;
            world.kube.replace(DEPLOYMENT, updated_d);
            return;
        }
    }
    set_status(world, DEPLOYMENT, &d, status);
}
