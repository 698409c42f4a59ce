//! Validation and admission: what the real API server refuses, with its wording.
//!
//! Three layers, in the order a write goes through them:
//! - *type*: an object of a kind k8s-openapi knows must deserialise into that type
//!   (wrong types name the field: `spec.replicas`);
//! - *validation*: required fields, selectors matching templates, names, immutable fields
//!   on update (a StatefulSet's volumeClaimTemplates, a PVC shrinking);
//! - *admission*: checks needing the rest of the cluster (resizing a PVC whose class does
//!   not allow expansion).

use crate::kube::resources::ResourceType;
use crate::kube::selector::selector_object_matches;
use crate::kube::status::{ApiError, Cause};
use crate::quantity::value_bytes;
use crate::store::name_of;
use crate::world::World;
use serde_json::Value;

fn is_dns_subdomain(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

fn is_dns_label(name: &str) -> bool {
    !name.is_empty() && name.len() <= 63 && !name.contains('.') && is_dns_subdomain(name)
}

fn value_at_path<'a>(object: &'a Value, path: &str) -> &'a Value {
    let mut v = object;
    for part in path.split('.') {
        if let Some((field, rest)) = part.split_once('[') {
            v = &v[field];
            if let Ok(i) = rest.trim_end_matches(']').parse::<usize>() {
                v = &v[i];
            }
        } else {
            v = &v[part];
        }
    }
    v
}

/// Checks a new or updated object. `old` is the stored version on update.
pub fn validate(rt: &ResourceType, object: &Value, old: Option<&Value>) -> Result<(), ApiError> {
    let name = name_of(object);
    let invalid = |causes: Vec<Cause>| ApiError::invalid(&rt.group, &rt.kind, name, causes);
    let mut causes = Vec::new();

    let name_ok = match rt.kind.as_str() {
        "Namespace" | "Service" => is_dns_label(name),
        _ if rt.typed.is_some() => {
            is_dns_subdomain(name) || rt.kind.ends_with("Role") || rt.kind.ends_with("RoleBinding")
        }
        _ => !name.is_empty() && !name.contains('/'),
    };
    if name.is_empty() {
        causes.push(Cause::required(
            "metadata.name",
            "name or generateName is required",
        ));
    } else if !name_ok {
        let rule = if matches!(rt.kind.as_str(), "Namespace" | "Service") {
            "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
        } else {
            "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
        };
        causes.push(Cause::invalid(
            "metadata.name",
            &Value::String(name.into()),
            rule,
        ));
    }
    if !causes.is_empty() {
        return Err(invalid(causes));
    }

    if let Some(typed) = rt.typed {
        if let Err((path, problem)) = (typed.validate)(object) {
            let shown = value_at_path(object, &path);
            let message = if shown.is_null() {
                problem
            } else {
                format!("{shown}: {problem}")
            };
            return Err(invalid(vec![Cause::type_invalid(path, &message)]));
        }
    }

    match rt.type_key().as_str() {
        "apps/v1/Deployment"
        | "apps/v1/ReplicaSet"
        | "apps/v1/StatefulSet"
        | "apps/v1/DaemonSet" => workload(object, &mut causes),
        "v1/Pod" => pod_spec(&object["spec"], "spec", &mut causes),
        _ => {}
    }
    if !causes.is_empty() {
        return Err(invalid(causes));
    }
    if let Some(old) = old {
        immutable(rt, old, object, &mut causes);
        if !causes.is_empty() {
            return Err(invalid(causes));
        }
    }
    Ok(())
}

fn workload(object: &Value, causes: &mut Vec<Cause>) {
    let spec = &object["spec"];
    if let Some(r) = spec["replicas"].as_i64() {
        if r < 0 {
            causes.push(Cause::invalid(
                "spec.replicas",
                &spec["replicas"],
                "must be greater than or equal to 0",
            ));
        }
    }
    let selector = &spec["selector"];
    if selector.is_null() {
        causes.push(Cause::required("spec.selector", ""));
    } else {
        let empty = selector["matchLabels"]
            .as_object()
            .is_none_or(|m| m.is_empty())
            && selector["matchExpressions"]
                .as_array()
                .is_none_or(|a| a.is_empty());
        let labels = spec["template"]["metadata"]["labels"].as_object();
        if empty {
            causes.push(Cause::invalid(
                "spec.selector",
                selector,
                "empty selector is invalid for deployment",
            ));
        } else if !selector_object_matches(selector, labels) {
            causes.push(Cause::invalid(
                "spec.template.metadata.labels",
                &spec["template"]["metadata"]["labels"],
                "`selector` does not match template `labels`",
            ));
        }
    }
    pod_spec(&spec["template"]["spec"], "spec.template.spec", causes);
}

fn pod_spec(spec: &Value, at: &str, causes: &mut Vec<Cause>) {
    let containers = spec["containers"].as_array();
    if containers.is_none_or(|c| c.is_empty()) {
        causes.push(Cause::required(format!("{at}.containers"), ""));
        return;
    }
    let mut names = std::collections::BTreeSet::new();
    for (list, items) in [
        ("containers", containers),
        ("initContainers", spec["initContainers"].as_array()),
    ] {
        for (i, c) in items.into_iter().flatten().enumerate() {
            let name = c["name"].as_str().unwrap_or("");
            if name.is_empty() {
                causes.push(Cause::required(format!("{at}.{list}[{i}].name"), ""));
            } else if !names.insert(name.to_string()) {
                causes.push(Cause::duplicate(
                    format!("{at}.{list}[{i}].name"),
                    &c["name"],
                ));
            }
            if c["image"].as_str().is_none_or(str::is_empty) {
                causes.push(Cause::required(format!("{at}.{list}[{i}].image"), ""));
            }
        }
    }
}

fn immutable(rt: &ResourceType, old: &Value, new: &Value, causes: &mut Vec<Cause>) {
    match rt.type_key().as_str() {
        "apps/v1/Deployment" | "apps/v1/ReplicaSet" | "apps/v1/DaemonSet"
            if old["spec"]["selector"] != new["spec"]["selector"] =>
        {
            causes.push(Cause::invalid(
                "spec.selector",
                &new["spec"]["selector"],
                "field is immutable",
            ));
        }
        "apps/v1/StatefulSet" => {
            let strip = |v: &Value| {
                let mut spec = v["spec"].clone();
                if let Some(m) = spec.as_object_mut() {
                    for allowed in [
                        "replicas",
                        "ordinals",
                        "template",
                        "updateStrategy",
                        "persistentVolumeClaimRetentionPolicy",
                        "minReadySeconds",
                        "revisionHistoryLimit",
                    ] {
                        m.remove(allowed);
                    }
                    // status of the claim templates is not part of the comparison
                    if let Some(ts) = m
                        .get_mut("volumeClaimTemplates")
                        .and_then(Value::as_array_mut)
                    {
                        for t in ts.iter_mut().filter_map(Value::as_object_mut) {
                            t.remove("status");
                        }
                    }
                }
                spec
            };
            if strip(old) != strip(new) {
                causes.push(Cause::forbidden(
                    "spec",
                    "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
                ));
            }
        }
        "v1/PersistentVolumeClaim" => {
            let strip = |v: &Value| {
                let mut spec = v["spec"].clone();
                if let Some(m) = spec.as_object_mut() {
                    m.remove("resources");
                    m.remove("volumeAttributesClassName");
                    // binding fills volumeName; an update that keeps it is not a change
                    if new["spec"]["volumeName"].is_null() {
                        m.remove("volumeName");
                    }
                }
                spec
            };
            if strip(old) != strip(new) {
                causes.push(Cause::forbidden(
                    "spec",
                    "spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims",
                ));
            }
            let old_size = value_bytes(&old["spec"]["resources"]["requests"]["storage"]);
            let new_size = value_bytes(&new["spec"]["resources"]["requests"]["storage"]);
            if let (Some(o), Some(n)) = (old_size, new_size) {
                if n < o {
                    causes.push(Cause::forbidden(
                        "spec.resources.requests.storage",
                        "field can not be less than previous value",
                    ));
                }
            }
        }
        "v1/Secret" | "v1/ConfigMap" if old["immutable"].as_bool() == Some(true) => {
            for field in ["data", "stringData", "binaryData"] {
                if old[field] != new[field] {
                    causes.push(Cause::forbidden(
                        field,
                        "field is immutable when `immutable` is set",
                    ));
                }
            }
        }
        "v1/Service" => {
            let old_ip = &old["spec"]["clusterIP"];
            let new_ip = &new["spec"]["clusterIP"];
            if !old_ip.is_null() && !new_ip.is_null() && old_ip != new_ip && old_ip != "None" {
                causes.push(Cause::invalid(
                    "spec.clusterIPs[0]",
                    new_ip,
                    "may not change once set",
                ));
            }
        }
        _ => {}
    }
}

/// Admission for updates that depend on other objects: growing a PVC needs a storage
/// class with `allowVolumeExpansion: true` (the PersistentVolumeClaimResize plugin).
pub fn admit_update(
    world: &World,
    rt: &ResourceType,
    old: &Value,
    new: &Value,
) -> Result<(), ApiError> {
    if rt.type_key() == "v1/PersistentVolumeClaim" {
        let old_size = value_bytes(&old["spec"]["resources"]["requests"]["storage"]);
        let new_size = value_bytes(&new["spec"]["resources"]["requests"]["storage"]);
        if let (Some(o), Some(n)) = (old_size, new_size) {
            if n > o {
                let class_name = old["spec"]["storageClassName"].as_str().unwrap_or("");
                let class = world
                    .kube
                    .get("storage.k8s.io/v1/StorageClass", "", class_name);
                let expandable = class
                    .and_then(|c| c["allowVolumeExpansion"].as_bool())
                    .unwrap_or(false);
                if !expandable {
                    return Err(ApiError::forbidden(
                        "",
                        "persistentvolumeclaims",
                        name_of(new),
                        "only dynamically provisioned pvc can be resized and the storageclass that provisions the pvc must support resize",
                    ));
                }
            }
        }
    }
    Ok(())
}
