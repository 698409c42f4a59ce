//! How lists inside Kubernetes objects merge.
//!
//! Strategic merge patch and server-side apply both need to know, for each list field,
//! whether it is *associative* (items identified by key fields, e.g. containers by
//! `name`), a *set* of scalars (finalizers), or *atomic* (replaced as a whole, e.g.
//! `args`). On a real server this comes from the Go struct tags (`patchMergeKey`,
//! `listType`, `listMapKeys`); k8s-openapi's schemas do not carry it, so the lists that
//! matter for workloads are listed here. Anything not listed is atomic, which is also the
//! real default for lists without tags.

/// The merge behaviour of one list field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListKind {
    /// Items are maps identified by `keys` (server-side apply) / `merge_key` (strategic merge).
    Map {
        keys: &'static [&'static str],
        merge_key: &'static str,
    },
    /// Items are scalars, merged as a set.
    Set,
    /// Replaced as a whole.
    Atomic,
}

fn within_container(path: &[String]) -> bool {
    path.iter()
        .any(|p| p == "containers" || p == "initContainers" || p == "ephemeralContainers")
}

/// The kind of the list at `path` + `field` in an object of `type_key`.
/// `path` holds the field names from the root to the list's parent (no indices).
pub fn list_kind(type_key: &str, path: &[String], field: &str) -> ListKind {
    const NAME: &[&str] = &["name"];
    match field {
        "containers"
        | "initContainers"
        | "ephemeralContainers"
        | "env"
        | "volumes"
        | "imagePullSecrets"
        | "resourceClaims"
        | "schedulingGates"
        | "secrets" => {
            // Role/ClusterRole "rules" etc. are atomic; these names are all pod-spec-ish
            // except "secrets" on ServiceAccount.
            if field == "secrets" && type_key != "v1/ServiceAccount" {
                return ListKind::Atomic;
            }
            ListKind::Map {
                keys: NAME,
                merge_key: "name",
            }
        }
        "volumeMounts" => ListKind::Map {
            keys: &["mountPath"],
            merge_key: "mountPath",
        },
        "volumeDevices" => ListKind::Map {
            keys: &["devicePath"],
            merge_key: "devicePath",
        },
        "hostAliases" => ListKind::Map {
            keys: &["ip"],
            merge_key: "ip",
        },
        "topologySpreadConstraints" => ListKind::Map {
            keys: &["topologyKey", "whenUnsatisfiable"],
            merge_key: "topologyKey",
        },
        "ports" if within_container(path) => ListKind::Map {
            keys: &["containerPort", "protocol"],
            merge_key: "containerPort",
        },
        "ports" if type_key == "v1/Service" && path.len() == 1 && path[0] == "spec" => {
            ListKind::Map {
                keys: &["port", "protocol"],
                merge_key: "port",
            }
        }
        "conditions" => ListKind::Map {
            keys: &["type"],
            merge_key: "type",
        },
        "ownerReferences" if path.len() == 1 && path[0] == "metadata" => ListKind::Map {
            keys: &["uid"],
            merge_key: "uid",
        },
        "finalizers" if path.len() == 1 && path[0] == "metadata" => ListKind::Set,
        _ => ListKind::Atomic,
    }
}

/// Maps that are replaced as a whole rather than merged key by key (label selectors).
pub fn is_atomic_map(path: &[String], field: &str) -> bool {
    field == "selector" && !path.is_empty() && path.last().is_some_and(|p| p == "spec")
        || field == "nodeSelector"
}

/// Maps whose keys are data (labels, annotations, …) rather than struct fields; managed
/// field sets mark such maps themselves as owned (`.`).
pub fn is_data_map(field: &str) -> bool {
    matches!(
        field,
        "labels"
            | "annotations"
            | "data"
            | "stringData"
            | "binaryData"
            | "matchLabels"
            | "limits"
            | "requests"
            | "capacity"
            | "allocatable"
            | "parameters"
            | "nodeSelector"
    )
}

/// Finds the index of the item in `items` whose key fields equal those of `wanted`.
pub fn find_keyed(
    items: &[serde_json::Value],
    wanted: &serde_json::Value,
    keys: &[&str],
) -> Option<usize> {
    items.iter().position(|item| {
        keys.iter()
            .all(|k| key_value(item, k, keys) == key_value(wanted, k, keys))
    })
}

/// A key field's value, with the defaults the server would fill (protocol TCP).
pub fn key_value(item: &serde_json::Value, key: &str, keys: &[&str]) -> serde_json::Value {
    match item.get(key) {
        Some(v) if !v.is_null() => v.clone(),
        _ if key == "protocol" && keys.len() > 1 => serde_json::Value::String("TCP".into()),
        _ => serde_json::Value::Null,
    }
}
