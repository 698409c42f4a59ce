//! Field ownership (`metadata.managedFields`), the bookkeeping behind server-side apply.
//!
//! A field set is the set of paths a manager owns. A path is a list of elements in the
//! `FieldsV1` vocabulary: `f:spec` (a field), `k:{"name":"web"}` (an item of an
//! associative list, by its keys), `v:"x"` (a member of a set list) and `.` (the map or
//! list item itself). Keeping sets as plain sets of paths makes the operations apply needs
//! (union, difference, "does anyone else own this?") one-liners; conversion to and from
//! the nested `FieldsV1` JSON happens only at the edges.

use crate::kube::list_semantics::{find_keyed, is_atomic_map, is_data_map, list_kind, ListKind};
use serde_json::{json, Map, Value};
use std::collections::BTreeSet;

pub type Path = Vec<String>;
pub type FieldSet = BTreeSet<Path>;

/// Metadata fields that are part of field sets; the rest is identity or server-owned.
const OWNED_METADATA: &[&str] = &["labels", "annotations", "finalizers", "ownerReferences"];

/// The field set of every field present in `object` (apiVersion, kind, identity metadata
/// and — unless `with_status` — status excluded).
pub fn field_set(type_key: &str, object: &Value, with_status: bool) -> FieldSet {
    let mut set = FieldSet::new();
    let Some(map) = object.as_object() else {
        return set;
    };
    for (key, value) in map {
        match key.as_str() {
            "apiVersion" | "kind" => continue,
            "status" if !with_status => continue,
            "metadata" => {
                if let Some(meta) = value.as_object() {
                    for field in OWNED_METADATA {
                        if let Some(v) = meta.get(*field) {
                            let mut path = vec!["f:metadata".to_string()];
                            let mut names = vec!["metadata".to_string()];
                            walk(type_key, field, v, &mut path, &mut names, &mut set);
                        }
                    }
                }
            }
            _ => {
                let mut path = Vec::new();
                let mut names = Vec::new();
                walk(type_key, key, value, &mut path, &mut names, &mut set);
            }
        }
    }
    set
}

/// The path element naming an associative-list item by its key fields.
pub fn item_key(item: &Value, keys: &[&str]) -> String {
    let mut m = Map::new();
    for k in keys {
        let v = crate::kube::list_semantics::key_value(item, k, keys);
        if !v.is_null() {
            m.insert((*k).to_string(), v);
        }
    }
    format!("k:{}", Value::Object(m))
}

fn walk(
    type_key: &str,
    field: &str,
    value: &Value,
    path: &mut Path,
    names: &mut Vec<String>,
    set: &mut FieldSet,
) {
    path.push(format!("f:{field}"));
    match value {
        Value::Object(m) if !m.is_empty() && !is_atomic_map(names, field) => {
            if is_data_map(field) {
                let mut own = path.clone();
                own.push(".".into());
                set.insert(own);
            }
            names.push(field.to_string());
            for (k, v) in m {
                walk(type_key, k, v, path, names, set);
            }
            names.pop();
        }
        Value::Array(items) if !items.is_empty() => match list_kind(type_key, names, field) {
            ListKind::Map { keys, .. } => {
                names.push(field.to_string());
                for item in items {
                    path.push(item_key(item, keys));
                    let mut own = path.clone();
                    own.push(".".into());
                    set.insert(own);
                    if let Some(m) = item.as_object() {
                        for (k, v) in m {
                            walk(type_key, k, v, path, names, set);
                        }
                    }
                    path.pop();
                }
                names.pop();
            }
            ListKind::Set => {
                for item in items {
                    let mut p = path.clone();
                    p.push(format!("v:{item}"));
                    set.insert(p);
                }
            }
            ListKind::Atomic => {
                set.insert(path.clone());
            }
        },
        _ => {
            set.insert(path.clone());
        }
    }
    path.pop();
}

/// Converts a field set to the nested `FieldsV1` JSON.
pub fn to_fields_v1(set: &FieldSet) -> Value {
    let mut root = Map::new();
    for path in set {
        let mut node = &mut root;
        for element in path {
            node = node
                .entry(element.clone())
                .or_insert_with(|| Value::Object(Map::new()))
                .as_object_mut()
                .expect("nodes are objects");
        }
    }
    // a node that is itself a member and has children carries ".", which the loop above
    // produced only when "." was in the path; members that are prefixes of others are
    // recorded by the explicit "." elements, so nothing more to do.
    Value::Object(root)
}

/// Converts `FieldsV1` JSON back to a set of paths.
pub fn from_fields_v1(value: &Value) -> FieldSet {
    let mut set = FieldSet::new();
    fn visit(v: &Value, path: &mut Path, set: &mut FieldSet) {
        match v.as_object() {
            Some(m) if !m.is_empty() => {
                for (k, child) in m {
                    path.push(k.clone());
                    visit(child, path, set);
                    path.pop();
                }
            }
            _ => {
                if !path.is_empty() {
                    set.insert(path.clone());
                }
            }
        }
    }
    visit(value, &mut Vec::new(), &mut set);
    set
}

/// Parses `k:{…}` / `v:…` / `f:…` elements.
enum Element<'a> {
    Field(&'a str),
    Key(Map<String, Value>),
    SetValue(Value),
    Itself,
}

fn parse_element(e: &str) -> Option<Element<'_>> {
    if e == "." {
        return Some(Element::Itself);
    }
    let (prefix, rest) = e.split_at_checked(2)?;
    match prefix {
        "f:" => Some(Element::Field(rest)),
        "k:" => serde_json::from_str::<Map<String, Value>>(rest)
            .ok()
            .map(Element::Key),
        "v:" => serde_json::from_str(rest).ok().map(Element::SetValue),
        _ => None,
    }
}

fn keyed_index(items: &[Value], key: &Map<String, Value>) -> Option<usize> {
    let keys: Vec<&str> = key.keys().map(String::as_str).collect();
    find_keyed(items, &Value::Object(key.clone()), &keys)
}

/// The value at a path (None when absent). `.` yields the enclosing value.
pub fn value_at<'a>(object: &'a Value, path: &[String]) -> Option<&'a Value> {
    let mut v = object;
    for element in path {
        v = match parse_element(element)? {
            Element::Field(f) => v.get(f)?,
            Element::Key(key) => {
                let items = v.as_array()?;
                &items[keyed_index(items, &key)?]
            }
            Element::SetValue(sv) => v.as_array()?.iter().find(|i| **i == sv)?,
            Element::Itself => v,
        };
    }
    Some(v)
}

/// Removes the field or item at `path` from `object` (no-op when absent).
pub fn remove_at(object: &mut Value, path: &[String]) {
    let path: Vec<&String> = path.iter().filter(|e| *e != ".").collect();
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut v = object;
    for element in parents {
        let next = match parse_element(element) {
            Some(Element::Field(f)) => v.get_mut(f),
            Some(Element::Key(key)) => match v.as_array_mut() {
                Some(items) => match keyed_index(items, &key) {
                    Some(i) => items.get_mut(i),
                    None => None,
                },
                None => None,
            },
            _ => None,
        };
        match next {
            Some(n) => v = n,
            None => return,
        }
    }
    match parse_element(last) {
        Some(Element::Field(f)) => {
            if let Some(m) = v.as_object_mut() {
                m.remove(f);
            }
        }
        Some(Element::Key(key)) => {
            if let Some(items) = v.as_array_mut() {
                if let Some(i) = keyed_index(items, &key) {
                    items.remove(i);
                }
            }
        }
        Some(Element::SetValue(sv)) => {
            if let Some(items) = v.as_array_mut() {
                items.retain(|i| *i != sv);
            }
        }
        _ => {}
    }
}

/// Paths of `new` whose value differs from `old` (what an update changed).
pub fn changed(type_key: &str, old: &Value, new: &Value, with_status: bool) -> FieldSet {
    field_set(type_key, new, with_status)
        .into_iter()
        .filter(|path| {
            if path.last().is_some_and(|e| e == ".") {
                value_at(old, &path[..path.len() - 1]).is_none()
            } else {
                value_at(old, path) != value_at(new, path)
            }
        })
        .collect()
}

/// Whether `path`, or anything beneath it, is in `set`.
pub fn owns_within(set: &FieldSet, path: &[String]) -> bool {
    let base: Vec<&String> = path.iter().filter(|e| *e != ".").collect();
    set.iter().any(|p| {
        let p: Vec<&String> = p.iter().filter(|e| *e != ".").collect();
        p.len() >= base.len() && p[..base.len()] == base[..]
    })
}

/// One `managedFields` entry.
#[derive(Debug, Clone, PartialEq)]
pub struct ManagedEntry {
    pub manager: String,
    /// `Apply` or `Update`.
    pub operation: String,
    pub api_version: String,
    pub subresource: String,
    pub time: String,
    pub fields: FieldSet,
}

impl ManagedEntry {
    pub fn to_json(&self) -> Value {
        let mut v = json!({
            "manager": self.manager,
            "operation": self.operation,
            "apiVersion": self.api_version,
            "time": self.time,
            "fieldsType": "FieldsV1",
            "fieldsV1": to_fields_v1(&self.fields),
        });
        if !self.subresource.is_empty() {
            v["subresource"] = json!(self.subresource);
        }
        v
    }

    pub fn from_json(v: &Value) -> Option<ManagedEntry> {
        Some(ManagedEntry {
            manager: v["manager"].as_str()?.to_string(),
            operation: v["operation"].as_str().unwrap_or("Update").to_string(),
            api_version: v["apiVersion"].as_str().unwrap_or("").to_string(),
            subresource: v["subresource"].as_str().unwrap_or("").to_string(),
            time: v["time"].as_str().unwrap_or("").to_string(),
            fields: from_fields_v1(&v["fieldsV1"]),
        })
    }

    pub fn same_owner(&self, manager: &str, operation: &str, subresource: &str) -> bool {
        self.manager == manager && self.operation == operation && self.subresource == subresource
    }
}

pub fn read_entries(object: &Value) -> Vec<ManagedEntry> {
    object["metadata"]["managedFields"]
        .as_array()
        .map(|a| a.iter().filter_map(ManagedEntry::from_json).collect())
        .unwrap_or_default()
}

pub fn write_entries(object: &mut Value, entries: &[ManagedEntry]) {
    let list: Vec<Value> = entries
        .iter()
        .filter(|e| !e.fields.is_empty())
        .map(ManagedEntry::to_json)
        .collect();
    let meta = crate::store::ensure_object(object, "metadata");
    if list.is_empty() {
        meta.remove("managedFields");
    } else {
        meta.insert("managedFields".into(), Value::Array(list));
    }
}

/// Records a non-apply write (create, update, patch) by `manager`: it now owns what it
/// changed, others lose those fields, and nobody owns fields that no longer exist.
pub fn record_update(
    type_key: &str,
    old: Option<&Value>,
    new: &mut Value,
    manager: &str,
    subresource: &str,
    api_version: &str,
) {
    let with_status = subresource == "status";
    let mut entries = old.map(read_entries).unwrap_or_default();
    let empty = json!({});
    let changed = changed(type_key, old.unwrap_or(&empty), new, with_status);
    let present = field_set(type_key, new, true);
    for entry in entries.iter_mut() {
        entry
            .fields
            .retain(|p| !changed.contains(p) && present.contains(p));
    }
    if !changed.is_empty() {
        match entries
            .iter_mut()
            .find(|e| e.same_owner(manager, "Update", subresource))
        {
            Some(entry) => {
                entry.fields.extend(changed);
                entry.time = crate::clock::wall_time();
            }
            None => entries.push(ManagedEntry {
                manager: manager.to_string(),
                operation: "Update".into(),
                api_version: api_version.to_string(),
                subresource: subresource.to_string(),
                time: crate::clock::wall_time(),
                fields: changed,
            }),
        }
    }
    write_entries(new, &entries);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_fields_v1() {
        let obj = json!({
            "metadata": {"labels": {"app": "web"}},
            "spec": {"template": {"spec": {"containers": [{"name": "web", "image": "x"}]}}}
        });
        let set = field_set("apps/v1/Deployment", &obj, false);
        let v1 = to_fields_v1(&set);
        assert_eq!(
            v1["f:spec"]["f:template"]["f:spec"]["f:containers"]["k:{\"name\":\"web\"}"]["f:image"],
            json!({})
        );
        assert_eq!(from_fields_v1(&v1), set);
        let path: Path = vec![
            "f:spec".into(),
            "f:template".into(),
            "f:spec".into(),
            "f:containers".into(),
            "k:{\"name\":\"web\"}".into(),
            "f:image".into(),
        ];
        assert_eq!(value_at(&obj, &path), Some(&json!("x")));
    }
}
