//! Server-side printing: `meta.k8s.io/v1 Table` responses, which `kubectl get` asks for
//! (`Accept: application/json;as=Table;v=v1;g=meta.k8s.io`) and prints as columns.
//!
//! The columns and cell formats follow kube-apiserver's printers for the kinds people
//! look at while operating Langfuse; other kinds get NAME and AGE, as custom resources
//! without printer columns do.

use crate::clock::{age_seconds, human_duration};
use crate::kube::resources::ResourceType;
use serde_json::{json, Value};

struct Column {
    name: &'static str,
    kind: &'static str,
    format: &'static str,
    priority: u8,
}

const fn col(name: &'static str, kind: &'static str, format: &'static str, priority: u8) -> Column {
    Column {
        name,
        kind,
        format,
        priority,
    }
}

fn columns(type_key: &str) -> Vec<Column> {
    let name = col("Name", "string", "name", 0);
    let age = col("Age", "string", "", 0);
    match type_key {
        "v1/Pod" => vec![
            name,
            col("Ready", "string", "", 0),
            col("Status", "string", "", 0),
            col("Restarts", "string", "", 0),
            age,
            col("IP", "string", "", 1),
            col("Node", "string", "", 1),
            col("Nominated Node", "string", "", 1),
            col("Readiness Gates", "string", "", 1),
        ],
        "apps/v1/Deployment" => vec![
            name,
            col("Ready", "string", "", 0),
            col("Up-to-date", "integer", "", 0),
            col("Available", "integer", "", 0),
            age,
            col("Containers", "string", "", 1),
            col("Images", "string", "", 1),
            col("Selector", "string", "", 1),
        ],
        "apps/v1/StatefulSet" => vec![
            name,
            col("Ready", "string", "", 0),
            age,
            col("Containers", "string", "", 1),
            col("Images", "string", "", 1),
        ],
        "apps/v1/ReplicaSet" => vec![
            name,
            col("Desired", "integer", "", 0),
            col("Current", "integer", "", 0),
            col("Ready", "integer", "", 0),
            age,
            col("Containers", "string", "", 1),
            col("Images", "string", "", 1),
            col("Selector", "string", "", 1),
        ],
        "v1/PersistentVolumeClaim" => vec![
            name,
            col("Status", "string", "", 0),
            col("Volume", "string", "", 0),
            col("Capacity", "string", "", 0),
            col("Access Modes", "string", "", 0),
            col("StorageClass", "string", "", 0),
            col("VolumeAttributesClass", "string", "", 0),
            age,
            col("VolumeMode", "string", "", 1),
        ],
        "v1/PersistentVolume" => vec![
            name,
            col("Capacity", "string", "", 0),
            col("Access Modes", "string", "", 0),
            col("Reclaim Policy", "string", "", 0),
            col("Status", "string", "", 0),
            col("Claim", "string", "", 0),
            col("StorageClass", "string", "", 0),
            col("VolumeAttributesClass", "string", "", 0),
            col("Reason", "string", "", 0),
            age,
        ],
        "v1/Secret" => vec![
            name,
            col("Type", "string", "", 0),
            col("Data", "string", "", 0),
            age,
        ],
        "v1/ConfigMap" => vec![name, col("Data", "string", "", 0), age],
        "v1/Service" => vec![
            name,
            col("Type", "string", "", 0),
            col("Cluster-IP", "string", "", 0),
            col("External-IP", "string", "", 0),
            col("Port(s)", "string", "", 0),
            age,
            col("Selector", "string", "", 1),
        ],
        "v1/Event" => vec![
            col("Last Seen", "string", "", 0),
            col("Type", "string", "", 0),
            col("Reason", "string", "", 0),
            col("Object", "string", "", 0),
            col("Message", "string", "", 0),
            col("Name", "string", "name", 1),
        ],
        "v1/Node" => vec![
            name,
            col("Status", "string", "", 0),
            col("Roles", "string", "", 0),
            age,
            col("Version", "string", "", 0),
        ],
        "v1/Namespace" => vec![name, col("Status", "string", "", 0), age],
        "storage.k8s.io/v1/StorageClass" => vec![
            name,
            col("Provisioner", "string", "", 0),
            col("ReclaimPolicy", "string", "", 0),
            col("VolumeBindingMode", "string", "", 0),
            col("AllowVolumeExpansion", "string", "", 0),
            age,
        ],
        "v1/Endpoints" => vec![name, col("Endpoints", "string", "", 0), age],
        "v1/ServiceAccount" => vec![name, col("Secrets", "string", "", 0), age],
        "policy/v1/PodDisruptionBudget" => vec![
            name,
            col("Min Available", "string", "", 0),
            col("Max Unavailable", "string", "", 0),
            col("Allowed Disruptions", "integer", "", 0),
            age,
        ],
        _ => vec![name, age],
    }
}

fn s(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn age(object: &Value) -> String {
    object["metadata"]["creationTimestamp"]
        .as_str()
        .and_then(age_seconds)
        .map(human_duration)
        .unwrap_or_else(|| "<unknown>".into())
}

fn or_none(text: String) -> String {
    if text.is_empty() {
        "<none>".into()
    } else {
        text
    }
}

fn containers_and_images(template_spec: &Value) -> (String, String) {
    let cs = template_spec["containers"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let names: Vec<String> = cs.iter().map(|c| s(&c["name"])).collect();
    let images: Vec<String> = cs.iter().map(|c| s(&c["image"])).collect();
    (names.join(","), images.join(","))
}

/// The STATUS column of `kubectl get pods`, computed as kubectl's printer does.
pub fn pod_status(pod: &Value) -> String {
    let status = &pod["status"];
    let mut reason = status["reason"]
        .as_str()
        .or(status["phase"].as_str())
        .unwrap_or("Unknown")
        .to_string();
    let init_total = pod["spec"]["initContainers"]
        .as_array()
        .map_or(0, |a| a.len());
    let mut initializing = false;
    for (i, c) in status["initContainerStatuses"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
    {
        if c["state"]["terminated"]["exitCode"].as_i64() == Some(0) {
            continue;
        }
        initializing = true;
        reason = if let Some(r) = c["state"]["terminated"]["reason"].as_str() {
            format!("Init:{r}")
        } else if let Some(r) = c["state"]["waiting"]["reason"]
            .as_str()
            .filter(|r| *r != "PodInitializing")
        {
            format!("Init:{r}")
        } else {
            format!("Init:{i}/{init_total}")
        };
        break;
    }
    if !initializing {
        let mut has_running = false;
        for c in status["containerStatuses"]
            .as_array()
            .into_iter()
            .flatten()
            .rev()
        {
            if let Some(r) = c["state"]["waiting"]["reason"].as_str() {
                reason = r.to_string();
            } else if let Some(r) = c["state"]["terminated"]["reason"].as_str() {
                reason = r.to_string();
            } else if c["state"]["running"].is_object() && c["ready"].as_bool() == Some(true) {
                has_running = true;
            }
        }
        if reason == "Completed" && has_running {
            reason = "Running".into();
        }
    }
    if pod["metadata"]["deletionTimestamp"].is_string() {
        reason = "Terminating".into();
    }
    reason
}

fn cells(type_key: &str, o: &Value) -> Vec<Value> {
    let name = json!(s(&o["metadata"]["name"]));
    let spec = &o["spec"];
    let status = &o["status"];
    match type_key {
        "v1/Pod" => {
            let statuses = status["containerStatuses"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let total = spec["containers"].as_array().map_or(0, |a| a.len());
            let ready = statuses
                .iter()
                .filter(|c| c["ready"].as_bool() == Some(true))
                .count();
            let restarts: i64 = statuses
                .iter()
                .map(|c| c["restartCount"].as_i64().unwrap_or(0))
                .sum();
            let last_restart = statuses
                .iter()
                .filter_map(|c| c["lastState"]["terminated"]["finishedAt"].as_str())
                .filter_map(age_seconds)
                .min();
            let restarts_cell = match last_restart {
                Some(a) if restarts > 0 => format!("{restarts} ({} ago)", human_duration(a)),
                _ => restarts.to_string(),
            };
            vec![
                name,
                json!(format!("{ready}/{total}")),
                json!(pod_status(o)),
                json!(restarts_cell),
                json!(age(o)),
                json!(or_none(s(&status["podIP"]))),
                json!(or_none(s(&spec["nodeName"]))),
                json!("<none>"),
                json!("<none>"),
            ]
        }
        "apps/v1/Deployment" => {
            let (c, i) = containers_and_images(&spec["template"]["spec"]);
            vec![
                name,
                json!(format!(
                    "{}/{}",
                    status["readyReplicas"].as_i64().unwrap_or(0),
                    spec["replicas"].as_i64().unwrap_or(0)
                )),
                json!(status["updatedReplicas"].as_i64().unwrap_or(0)),
                json!(status["availableReplicas"].as_i64().unwrap_or(0)),
                json!(age(o)),
                json!(c),
                json!(i),
                json!(crate::kube::selector::selector_object_to_string(
                    &spec["selector"]
                )),
            ]
        }
        "apps/v1/StatefulSet" => {
            let (c, i) = containers_and_images(&spec["template"]["spec"]);
            vec![
                name,
                json!(format!(
                    "{}/{}",
                    status["readyReplicas"].as_i64().unwrap_or(0),
                    spec["replicas"].as_i64().unwrap_or(0)
                )),
                json!(age(o)),
                json!(c),
                json!(i),
            ]
        }
        "apps/v1/ReplicaSet" => {
            let (c, i) = containers_and_images(&spec["template"]["spec"]);
            vec![
                name,
                json!(spec["replicas"].as_i64().unwrap_or(0)),
                json!(status["replicas"].as_i64().unwrap_or(0)),
                json!(status["readyReplicas"].as_i64().unwrap_or(0)),
                json!(age(o)),
                json!(c),
                json!(i),
                json!(crate::kube::selector::selector_object_to_string(
                    &spec["selector"]
                )),
            ]
        }
        "v1/PersistentVolumeClaim" => {
            let modes: Vec<String> = status["accessModes"]
                .as_array()
                .or(spec["accessModes"].as_array())
                .into_iter()
                .flatten()
                .map(|m| access_mode(&s(m)))
                .collect();
            vec![
                name,
                json!(s(&status["phase"])),
                json!(s(&spec["volumeName"])),
                json!(s(&status["capacity"]["storage"])),
                json!(modes.join(",")),
                json!(or_unset(s(&spec["storageClassName"]))),
                json!(or_unset(s(&spec["volumeAttributesClassName"]))),
                json!(age(o)),
                json!(s(&spec["volumeMode"])),
            ]
        }
        "v1/PersistentVolume" => {
            let modes: Vec<String> = spec["accessModes"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|m| access_mode(&s(m)))
                .collect();
            let claim = if spec["claimRef"].is_object() {
                format!(
                    "{}/{}",
                    s(&spec["claimRef"]["namespace"]),
                    s(&spec["claimRef"]["name"])
                )
            } else {
                String::new()
            };
            vec![
                name,
                json!(s(&spec["capacity"]["storage"])),
                json!(modes.join(",")),
                json!(s(&spec["persistentVolumeReclaimPolicy"])),
                json!(s(&status["phase"])),
                json!(claim),
                json!(s(&spec["storageClassName"])),
                json!(or_unset(s(&spec["volumeAttributesClassName"]))),
                json!(s(&status["reason"])),
                json!(age(o)),
            ]
        }
        "v1/Secret" => vec![
            name,
            json!(s(&o["type"])),
            json!(o["data"].as_object().map_or(0, |d| d.len()).to_string()),
            json!(age(o)),
        ],
        "v1/ConfigMap" => vec![
            name,
            json!(
                o["data"].as_object().map_or(0, |d| d.len())
                    + o["binaryData"].as_object().map_or(0, |d| d.len())
            ),
            json!(age(o)),
        ],
        "v1/Service" => {
            let ports: Vec<String> = spec["ports"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|p| match p["nodePort"].as_i64() {
                    Some(np) => format!("{}:{np}/{}", p["port"], s(&p["protocol"])),
                    None => format!("{}/{}", p["port"], s(&p["protocol"])),
                })
                .collect();
            let external = status["loadBalancer"]["ingress"]
                .as_array()
                .map(|a| a.iter().map(|i| s(&i["ip"])).collect::<Vec<_>>().join(","))
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| {
                    if spec["type"] == "LoadBalancer" {
                        "<pending>".into()
                    } else {
                        "<none>".into()
                    }
                });
            vec![
                name,
                json!(s(&spec["type"])),
                json!(s(&spec["clusterIP"])),
                json!(external),
                json!(or_none(ports.join(","))),
                json!(age(o)),
                json!(or_none(
                    spec["selector"]
                        .as_object()
                        .map(|m| m
                            .iter()
                            .map(|(k, v)| format!("{k}={}", s(v)))
                            .collect::<Vec<_>>()
                            .join(","))
                        .unwrap_or_default()
                )),
            ]
        }
        "v1/Event" => {
            let last = o["lastTimestamp"]
                .as_str()
                .or(o["eventTime"].as_str())
                .and_then(age_seconds)
                .map(human_duration)
                .unwrap_or_else(|| "<unknown>".into());
            let involved = &o["involvedObject"];
            vec![
                json!(last),
                json!(s(&o["type"])),
                json!(s(&o["reason"])),
                json!(format!(
                    "{}/{}",
                    s(&involved["kind"]).to_lowercase(),
                    s(&involved["name"])
                )),
                json!(s(&o["message"])),
                name,
            ]
        }
        "v1/Node" => {
            let ready = status["conditions"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|c| c["type"] == "Ready");
            let state = if ready.is_some_and(|c| c["status"] == "True") {
                "Ready"
            } else {
                "NotReady"
            };
            vec![
                name,
                json!(state),
                json!("<none>"),
                json!(age(o)),
                json!(s(&status["nodeInfo"]["kubeletVersion"])),
            ]
        }
        "v1/Namespace" => vec![name, json!(s(&status["phase"])), json!(age(o))],
        "storage.k8s.io/v1/StorageClass" => {
            let mut n = s(&o["metadata"]["name"]);
            if o["metadata"]["annotations"]["storageclass.kubernetes.io/is-default-class"] == "true"
            {
                n.push_str(" (default)");
            }
            vec![
                json!(n),
                json!(s(&o["provisioner"])),
                json!(s(&o["reclaimPolicy"])),
                json!(s(&o["volumeBindingMode"])),
                json!(o["allowVolumeExpansion"]
                    .as_bool()
                    .unwrap_or(false)
                    .to_string()),
                json!(age(o)),
            ]
        }
        "v1/Endpoints" => {
            let mut eps = Vec::new();
            for subset in o["subsets"].as_array().into_iter().flatten() {
                for a in subset["addresses"].as_array().into_iter().flatten() {
                    for p in subset["ports"].as_array().into_iter().flatten() {
                        eps.push(format!("{}:{}", s(&a["ip"]), p["port"]));
                    }
                }
            }
            vec![name, json!(or_none(eps.join(","))), json!(age(o))]
        }
        "v1/ServiceAccount" => vec![
            name,
            json!(o["secrets"].as_array().map_or(0, |a| a.len())),
            json!(age(o)),
        ],
        "policy/v1/PodDisruptionBudget" => vec![
            name,
            json!(if spec["minAvailable"].is_null() {
                "N/A".into()
            } else {
                s(&spec["minAvailable"])
            }),
            json!(if spec["maxUnavailable"].is_null() {
                "N/A".into()
            } else {
                s(&spec["maxUnavailable"])
            }),
            json!(status["disruptionsAllowed"].as_i64().unwrap_or(0)),
            json!(age(o)),
        ],
        _ => vec![name, json!(age(o))],
    }
}

fn or_unset(v: String) -> String {
    if v.is_empty() {
        "<unset>".into()
    } else {
        v
    }
}

fn access_mode(mode: &str) -> String {
    match mode {
        "ReadWriteOnce" => "RWO",
        "ReadOnlyMany" => "ROX",
        "ReadWriteMany" => "RWX",
        "ReadWriteOncePod" => "RWOP",
        other => other,
    }
    .to_string()
}

/// Whether the Accept header asks for a Table.
pub fn wants_table(accept: &str) -> bool {
    accept
        .split(',')
        .next()
        .is_some_and(|first| first.contains("as=Table"))
}

/// A Table of `objects`. `include_object` is the `includeObject` parameter
/// (`None`, `Metadata` (default) or `Object`).
pub fn table(
    rt: &ResourceType,
    objects: &[Value],
    include_object: &str,
    resource_version: &str,
) -> Value {
    let type_key = rt.type_key();
    let cols = columns(&type_key);
    let definitions: Vec<Value> = cols
        .iter()
        .map(|c| json!({"name": c.name, "type": c.kind, "format": c.format, "description": "", "priority": c.priority}))
        .collect();
    let rows: Vec<Value> = objects
        .iter()
        .map(|o| {
            let mut row = json!({"cells": cells(&type_key, o)});
            match include_object {
                "None" => {}
                "Object" => row["object"] = o.clone(),
                _ => {
                    row["object"] = json!({
                        "kind": "PartialObjectMetadata",
                        "apiVersion": "meta.k8s.io/v1",
                        "metadata": o["metadata"],
                    })
                }
            }
            row
        })
        .collect();
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": resource_version},
        "columnDefinitions": definitions,
        "rows": rows,
    })
}
