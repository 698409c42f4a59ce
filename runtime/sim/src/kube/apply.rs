//! Server-side apply (`PATCH` with `application/apply-patch+yaml`).
//!
//! The applied configuration is the manager's *intent*: after the apply, the object holds
//! every field in it, the manager owns exactly those fields, and fields the same manager
//! applied before but left out this time are removed — unless another manager also owns
//! them. Changing a field another manager owns to a different value is a conflict (409)
//! unless `force=true`, which transfers ownership. This follows the model of the real
//! implementation (structured-merge-diff) closely enough for Helm 4 and
//! `kubectl apply --server-side`, without its schema-driven type system.

use crate::kube::list_semantics::{find_keyed, is_atomic_map, list_kind, ListKind};
use crate::kube::managed_fields::{
    field_set, item_key, owns_within, read_entries, remove_at, value_at, write_entries, FieldSet,
    ManagedEntry, Path,
};
use serde_json::{Map, Value};

/// Why an apply was refused.
#[derive(Debug)]
pub enum ApplyError {
    /// (manager, field path in `.spec.replicas` form) pairs.
    Conflicts(Vec<(String, String)>),
    /// The configuration cannot be turned into a field set (duplicate keys, …).
    Malformed(String),
}

/// A path in the `.spec.template.spec.containers[name="web"].image` notation the real
/// server uses in conflict messages.
pub fn display_path(path: &[String]) -> String {
    let mut out = String::new();
    for e in path {
        if let Some(f) = e.strip_prefix("f:") {
            out.push('.');
            out.push_str(f);
        } else if let Some(k) = e.strip_prefix("k:") {
            if let Ok(Value::Object(m)) = serde_json::from_str::<Value>(k) {
                let parts: Vec<String> = m.iter().map(|(k, v)| format!("{k}={v}")).collect();
                out.push_str(&format!("[{}]", parts.join(",")));
            }
        } else if let Some(v) = e.strip_prefix("v:") {
            out.push_str(&format!("[={v}]"));
        }
    }
    out
}

/// Finds duplicate keys in associative lists of the configuration.
fn check_duplicates(
    type_key: &str,
    value: &Value,
    names: &mut Vec<String>,
    shown: &str,
) -> Result<(), String> {
    if let Some(m) = value.as_object() {
        for (k, v) in m {
            if let Some(items) = v.as_array() {
                if let ListKind::Map { keys, .. } = list_kind(type_key, names, k) {
                    let mut seen = std::collections::BTreeSet::new();
                    for item in items {
                        let key = item_key(item, keys);
                        if !seen.insert(key.clone()) {
                            let k_shown = display_path(&[key]);
                            return Err(format!(
                                "{shown}.{k}: duplicate entries for key {}",
                                k_shown
                            ));
                        }
                    }
                    names.push(k.clone());
                    for item in items {
                        let sub = format!("{shown}.{k}{}", display_path(&[item_key(item, keys)]));
                        check_duplicates(type_key, item, names, &sub)?;
                    }
                    names.pop();
                }
            } else if v.is_object() {
                names.push(k.clone());
                check_duplicates(type_key, v, names, &format!("{shown}.{k}"))?;
                names.pop();
            }
        }
    }
    Ok(())
}

/// Merges an applied configuration into the live object: maps field by field,
/// associative lists item by item, sets by union, everything else replaced.
pub fn merge_config(type_key: &str, target: &mut Value, config: &Value, names: &mut Vec<String>) {
    let (Some(target_map), Some(config_map)) = (target.as_object_mut(), config.as_object()) else {
        *target = config.clone();
        return;
    };
    for (key, value) in config_map {
        if value.is_null() {
            target_map.remove(key);
            continue;
        }
        if names.len() == 1
            && names[0] == "metadata"
            && matches!(
                key.as_str(),
                "managedFields" | "resourceVersion" | "uid" | "creationTimestamp" | "generation"
            )
        {
            continue;
        }
        let slot = target_map.entry(key.clone()).or_insert(Value::Null);
        match (slot.is_object(), value) {
            (true, Value::Object(_)) if !is_atomic_map(names, key) => {
                names.push(key.clone());
                merge_config(type_key, slot, value, names);
                names.pop();
            }
            (_, Value::Array(items)) => {
                let current = slot.as_array().cloned().unwrap_or_default();
                let merged = match list_kind(type_key, names, key) {
                    ListKind::Atomic => items.clone(),
                    ListKind::Set => {
                        let mut out = items.clone();
                        out.extend(current.into_iter().filter(|v| !items.contains(v)));
                        out
                    }
                    ListKind::Map { keys, .. } => {
                        names.push(key.clone());
                        let mut out = Vec::with_capacity(items.len());
                        let mut rest = current;
                        for item in items {
                            match find_keyed(&rest, item, keys) {
                                Some(i) => {
                                    let mut existing = rest.remove(i);
                                    merge_config(type_key, &mut existing, item, names);
                                    out.push(existing);
                                }
                                None => out.push(item.clone()),
                            }
                        }
                        names.pop();
                        out.extend(rest);
                        out
                    }
                };
                *slot = Value::Array(merged);
            }
            _ => *slot = value.clone(),
        }
    }
}

/// Applies `config` as `manager`. `live` is None when the object does not exist yet.
pub fn server_side_apply(
    type_key: &str,
    live: Option<&Value>,
    config: &Value,
    manager: &str,
    force: bool,
    api_version: &str,
    subresource: &str,
) -> Result<Value, ApplyError> {
    check_duplicates(type_key, config, &mut Vec::new(), "").map_err(ApplyError::Malformed)?;
    let with_status = subresource == "status";
    let mut entries: Vec<ManagedEntry> = live.map(read_entries).unwrap_or_default();
    let new_set = field_set(type_key, config, with_status);
    let empty = Value::Object(Map::new());
    let live_value = live.unwrap_or(&empty);

    let is_self = |e: &ManagedEntry| e.same_owner(manager, "Apply", subresource);
    let mut conflicts = Vec::new();
    for entry in entries.iter_mut().filter(|e| !is_self(e)) {
        let taken: Vec<Path> = new_set
            .iter()
            .filter(|p| p.last().is_none_or(|e| e != "."))
            .filter(|p| entry.fields.contains(*p) && value_at(live_value, p) != value_at(config, p))
            .cloned()
            .collect();
        if taken.is_empty() {
            continue;
        }
        if force {
            entry.fields.retain(|p| !taken.contains(p));
        } else {
            for p in taken {
                conflicts.push((entry.manager.clone(), display_path(&p)));
            }
        }
    }
    if !conflicts.is_empty() {
        return Err(ApplyError::Conflicts(conflicts));
    }

    let previous: FieldSet = entries
        .iter()
        .find(|e| is_self(e))
        .map(|e| e.fields.clone())
        .unwrap_or_default();
    let others: FieldSet = entries
        .iter()
        .filter(|e| !is_self(e))
        .flat_map(|e| e.fields.iter().cloned())
        .collect();
    let mut result = live.cloned().unwrap_or_else(|| empty.clone());
    let mut removed: Vec<&Path> = previous.difference(&new_set).collect();
    removed.sort_by_key(|p| std::cmp::Reverse(p.len()));
    for path in removed {
        if !owns_within(&others, path) {
            remove_at(&mut result, path);
        }
    }
    merge_config(type_key, &mut result, config, &mut Vec::new());

    let now = crate::clock::wall_time();
    entries.retain(|e| !is_self(e));
    let present = field_set(type_key, &result, true);
    for entry in entries.iter_mut() {
        entry.fields.retain(|p| present.contains(p));
    }
    // the applier's entry goes first, as the real server lists it
    entries.insert(
        0,
        ManagedEntry {
            manager: manager.to_string(),
            operation: "Apply".into(),
            api_version: api_version.to_string(),
            subresource: subresource.to_string(),
            time: now,
            fields: new_set,
        },
    );
    write_entries(&mut result, &entries);
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn dep(env: Value) -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
               "spec": {"template": {"spec": {"containers": [{"name": "c", "image": "i", "env": env}]}}}})
    }

    #[test]
    fn removes_fields_the_manager_dropped() {
        let first = server_side_apply(
            "apps/v1/Deployment",
            None,
            &dep(json!([{"name": "A", "value": "1"}, {"name": "B", "value": "2"}])),
            "m",
            false,
            "apps/v1",
            "",
        )
        .unwrap();
        let second = server_side_apply(
            "apps/v1/Deployment",
            Some(&first),
            &dep(json!([{"name": "A", "value": "1"}])),
            "m",
            false,
            "apps/v1",
            "",
        )
        .unwrap();
        assert_eq!(
            second["spec"]["template"]["spec"]["containers"][0]["env"],
            json!([{"name": "A", "value": "1"}])
        );
    }

    #[test]
    fn conflicts_with_another_manager_unless_forced() {
        let first = server_side_apply(
            "apps/v1/Deployment",
            None,
            &dep(json!([{"name": "A", "value": "1"}])),
            "m1",
            false,
            "apps/v1",
            "",
        )
        .unwrap();
        let err = server_side_apply(
            "apps/v1/Deployment",
            Some(&first),
            &dep(json!([{"name": "A", "value": "2"}])),
            "m2",
            false,
            "apps/v1",
            "",
        );
        match err {
            Err(ApplyError::Conflicts(c)) => {
                assert!(c[0].1.contains("env[name=\"A\"].value"), "{c:?}")
            }
            other => panic!("expected conflict, got {other:?}"),
        }
        let forced = server_side_apply(
            "apps/v1/Deployment",
            Some(&first),
            &dep(json!([{"name": "A", "value": "2"}])),
            "m2",
            true,
            "apps/v1",
            "",
        )
        .unwrap();
        assert_eq!(
            forced["spec"]["template"]["spec"]["containers"][0]["env"][0]["value"],
            json!("2")
        );
    }

    #[test]
    fn duplicate_keys_are_refused() {
        let err = server_side_apply(
            "apps/v1/Deployment",
            None,
            &dep(json!([{"name": "A"}, {"name": "A"}])),
            "m",
            false,
            "apps/v1",
            "",
        );
        assert!(matches!(err, Err(ApplyError::Malformed(m)) if m.contains("duplicate entries")));
    }
}
