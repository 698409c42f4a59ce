//! Strategic merge patch: `application/strategic-merge-patch+json`, what `kubectl patch`
//! sends by default and what Helm 3 and client-side `kubectl apply` compute.
//!
//! Like a JSON merge patch, except that associative lists (see `list_semantics.rs`) merge
//! item by item on their merge key instead of being replaced, and the patch may carry
//! directives: `$patch: replace|delete|merge` (on a map or a list item),
//! `$retainKeys`, `$deleteFromPrimitiveList/<field>` and `$setElementOrder/<field>`.

use crate::kube::list_semantics::{find_keyed, list_kind, ListKind};
use serde_json::{Map, Value};

const SET_ORDER: &str = "$setElementOrder/";
const DELETE_PRIMITIVE: &str = "$deleteFromPrimitiveList/";

/// Applies `patch` to `original` for an object of `type_key`.
pub fn strategic_merge(type_key: &str, original: &Value, patch: &Value) -> Result<Value, String> {
    let Value::Object(patch_map) = patch else {
        return Err("strategic merge patch must be a JSON object".into());
    };
    let mut result = original.clone();
    if !result.is_object() {
        result = Value::Object(Map::new());
    }
    let mut path = Vec::new();
    match merge_map(
        type_key,
        result.as_object_mut().expect("object"),
        patch_map,
        &mut path,
    )? {
        MapOutcome::Keep => Ok(result),
        MapOutcome::Replace(v) => Ok(Value::Object(v)),
        MapOutcome::Delete => Ok(Value::Object(Map::new())),
    }
}

enum MapOutcome {
    Keep,
    Replace(Map<String, Value>),
    Delete,
}

fn strip_directives(map: &Map<String, Value>) -> Map<String, Value> {
    map.iter()
        .filter(|(k, _)| !k.starts_with('$'))
        .map(|(k, v)| (k.clone(), strip_value(v)))
        .collect()
}

fn strip_value(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(strip_directives(m)),
        Value::Array(items) => Value::Array(
            items
                .iter()
                .filter(|i| !(i.is_object() && i.get("$patch").is_some()))
                .map(strip_value)
                .collect(),
        ),
        other => other.clone(),
    }
}

fn merge_map(
    type_key: &str,
    original: &mut Map<String, Value>,
    patch: &Map<String, Value>,
    path: &mut Vec<String>,
) -> Result<MapOutcome, String> {
    match patch.get("$patch").and_then(Value::as_str) {
        Some("replace") => return Ok(MapOutcome::Replace(strip_directives(patch))),
        Some("delete") => return Ok(MapOutcome::Delete),
        Some("merge") | None => {}
        Some(other) => {
            return Err(format!(
                "unknown patch type: {other} in map: {}",
                Value::Object(patch.clone())
            ))
        }
    }
    for (key, value) in patch {
        if key.starts_with('$') {
            continue;
        }
        if value.is_null() {
            original.remove(key);
            continue;
        }
        match value {
            Value::Object(pm) => {
                let slot = original
                    .entry(key.clone())
                    .or_insert_with(|| Value::Object(Map::new()));
                if !slot.is_object() {
                    *slot = Value::Object(Map::new());
                }
                path.push(key.clone());
                let outcome = merge_map(type_key, slot.as_object_mut().expect("object"), pm, path)?;
                path.pop();
                match outcome {
                    MapOutcome::Keep => {}
                    MapOutcome::Replace(m) => {
                        original.insert(key.clone(), Value::Object(m));
                    }
                    MapOutcome::Delete => {
                        original.remove(key);
                    }
                }
            }
            Value::Array(items) => {
                let kind = list_kind(type_key, path, key);
                let current = original
                    .get(key)
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                let merged = merge_list(type_key, kind, current, items, path, key)?;
                original.insert(key.clone(), Value::Array(merged));
            }
            scalar => {
                original.insert(key.clone(), scalar.clone());
            }
        }
    }
    // $deleteFromPrimitiveList/<field>: values to remove from a scalar list
    for (key, value) in patch {
        if let Some(field) = key.strip_prefix(DELETE_PRIMITIVE) {
            if let (Some(Value::Array(list)), Some(remove)) =
                (original.get_mut(field), value.as_array())
            {
                list.retain(|v| !remove.contains(v));
            }
        }
    }
    // $setElementOrder/<field>: the order the client wants the list in
    for (key, value) in patch {
        if let Some(field) = key.strip_prefix(SET_ORDER) {
            if let (Some(Value::Array(list)), Some(order)) =
                (original.get_mut(field), value.as_array())
            {
                let kind = list_kind(type_key, path, field);
                reorder(list, order, kind);
            }
        }
    }
    // $retainKeys: keys not listed are cleared (used by union fields like strategy)
    if let Some(retain) = patch.get("$retainKeys").and_then(Value::as_array) {
        let keep: Vec<&str> = retain.iter().filter_map(Value::as_str).collect();
        original.retain(|k, _| keep.contains(&k.as_str()));
    }
    Ok(MapOutcome::Keep)
}

fn merge_list(
    type_key: &str,
    kind: ListKind,
    mut current: Vec<Value>,
    patch_items: &[Value],
    path: &mut Vec<String>,
    field: &str,
) -> Result<Vec<Value>, String> {
    // `{"$patch": "replace"}` as an item: the rest of the patch list replaces the list
    if patch_items
        .iter()
        .any(|i| i.get("$patch").and_then(Value::as_str) == Some("replace"))
    {
        return Ok(patch_items
            .iter()
            .filter(|i| i.get("$patch").is_none())
            .map(strip_value)
            .collect());
    }
    match kind {
        ListKind::Atomic => Ok(patch_items.iter().map(strip_value).collect()),
        ListKind::Set => {
            for item in patch_items {
                if !current.contains(item) {
                    current.push(item.clone());
                }
            }
            Ok(current)
        }
        ListKind::Map { merge_key, .. } => {
            let keys = [merge_key];
            path.push(field.to_string());
            for item in patch_items {
                let Some(item_map) = item.as_object() else {
                    path.pop();
                    return Err(format!(
                        "list {field} expects objects with merge key \"{merge_key}\", got {item}"
                    ));
                };
                if item_map.get(merge_key).is_none() {
                    path.pop();
                    return Err(format!(
                        "map: {item} does not contain declared merge key: {merge_key}"
                    ));
                }
                let position = find_keyed(&current, item, &keys);
                match item_map.get("$patch").and_then(Value::as_str) {
                    Some("delete") => {
                        if let Some(i) = position {
                            current.remove(i);
                        }
                    }
                    _ => match position {
                        Some(i) => {
                            let slot = &mut current[i];
                            if !slot.is_object() {
                                *slot = Value::Object(Map::new());
                            }
                            match merge_map(
                                type_key,
                                slot.as_object_mut().expect("object"),
                                item_map,
                                path,
                            )? {
                                MapOutcome::Keep => {}
                                MapOutcome::Replace(m) => current[i] = Value::Object(m),
                                MapOutcome::Delete => {
                                    current.remove(i);
                                }
                            }
                        }
                        None => current.push(strip_value(item)),
                    },
                }
            }
            path.pop();
            Ok(current)
        }
    }
}

/// Puts the items named in `order` in that order, keeping the others after them.
fn reorder(list: &mut Vec<Value>, order: &[Value], kind: ListKind) {
    let matches = |item: &Value, wanted: &Value| match kind {
        ListKind::Map { merge_key, .. } => item.get(merge_key) == wanted.get(merge_key),
        _ => item == wanted,
    };
    let mut ordered = Vec::with_capacity(list.len());
    let mut rest: Vec<Value> = std::mem::take(list);
    for wanted in order {
        if let Some(i) = rest.iter().position(|item| matches(item, wanted)) {
            ordered.push(rest.remove(i));
        }
    }
    ordered.extend(rest);
    *list = ordered;
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn deployment(containers: Value) -> Value {
        json!({"spec": {"template": {"spec": {"containers": containers}}}})
    }

    #[test]
    fn containers_merge_by_name() {
        let original =
            deployment(json!([{"name": "a", "image": "x:1"}, {"name": "b", "image": "y:1"}]));
        let patch = deployment(json!([{"name": "b", "image": "y:2"}]));
        let out = strategic_merge("apps/v1/Deployment", &original, &patch).unwrap();
        assert_eq!(
            out,
            deployment(json!([{"name": "a", "image": "x:1"}, {"name": "b", "image": "y:2"}]))
        );
    }

    #[test]
    fn delete_directive_and_atomic_lists() {
        let original = deployment(json!([{"name": "a", "args": ["1", "2"]}, {"name": "b"}]));
        let patch =
            deployment(json!([{"name": "b", "$patch": "delete"}, {"name": "a", "args": ["3"]}]));
        let out = strategic_merge("apps/v1/Deployment", &original, &patch).unwrap();
        assert_eq!(out, deployment(json!([{"name": "a", "args": ["3"]}])));
    }

    #[test]
    fn set_element_order_and_retain_keys() {
        let original = json!({"spec": {"strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}}}});
        let patch = json!({"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate", "rollingUpdate": null}}});
        let out = strategic_merge("apps/v1/Deployment", &original, &patch).unwrap();
        assert_eq!(out, json!({"spec": {"strategy": {"type": "Recreate"}}}));
        let original = deployment(json!([{"name": "a"}, {"name": "b"}]));
        let patch = json!({"spec": {"template": {"spec": {"$setElementOrder/containers": [{"name": "b"}, {"name": "a"}]}}}});
        let out = strategic_merge("apps/v1/Deployment", &original, &patch).unwrap();
        assert_eq!(out, deployment(json!([{"name": "b"}, {"name": "a"}])));
    }
}
