//! The Kubernetes object store: what etcd is to a real API server.
//!
//! Objects are JSON values kept by *type key* (`apiVersion/kind`, e.g. `apps/v1/Deployment`,
//! `v1/Pod`) and *object key* (`namespace/name`, or `name` for cluster-scoped kinds). Keys
//! sort the way etcd keys do, so lists come back in the same order as on a real cluster.
//!
//! The store owns the global `resourceVersion` counter. Every write stamps the object with
//! a new resourceVersion and queues a [`Change`]; the shared world broadcasts queued
//! changes to watchers after the write completes and keeps a bounded history so a watch
//! can resume from an older resourceVersion, as etcd's watch cache allows.

use crate::clock::wall_time;
use crate::ids;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

/// What happened to an object, in watch-event vocabulary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChangeKind {
    #[serde(rename = "ADDED")]
    Added,
    #[serde(rename = "MODIFIED")]
    Modified,
    #[serde(rename = "DELETED")]
    Deleted,
}

impl ChangeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Added => "ADDED",
            ChangeKind::Modified => "MODIFIED",
            ChangeKind::Deleted => "DELETED",
        }
    }
}

/// One write to the store, as watchers see it.
#[derive(Debug, Clone)]
pub struct Change {
    pub resource_version: u64,
    pub type_key: String,
    pub kind: ChangeKind,
    pub object: Arc<Value>,
    /// The object before this change (None for ADDED), so watchers with selectors can tell
    /// an object that stopped matching from one that never matched.
    pub previous: Option<Arc<Value>>,
}

/// How many past changes are kept for watches that resume from an older resourceVersion.
const HISTORY_LIMIT: usize = 4_000;

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct ObjectStore {
    /// The last resourceVersion handed out.
    pub resource_version: u64,
    /// Counter behind generated UIDs and name suffixes.
    pub id_counter: u64,
    /// type key → object key → object.
    pub objects: BTreeMap<String, BTreeMap<String, Value>>,
    /// Changes not yet broadcast (drained by the shared world after each write).
    #[serde(skip)]
    pub(crate) pending: Vec<Change>,
    /// Recent changes, oldest first.
    #[serde(skip)]
    pub(crate) history: VecDeque<Change>,
    /// resourceVersion of the oldest change still in `history` (watches from before it get 410).
    #[serde(skip)]
    pub(crate) history_floor: u64,
}

/// `namespace/name` for namespaced objects, `name` for cluster-scoped ones.
pub fn object_key(namespace: &str, name: &str) -> String {
    if namespace.is_empty() {
        name.to_string()
    } else {
        format!("{namespace}/{name}")
    }
}

/// `apps/v1/Deployment` from apiVersion and kind.
pub fn type_key(api_version: &str, kind: &str) -> String {
    format!("{api_version}/{kind}")
}

pub fn meta_str<'a>(object: &'a Value, field: &str) -> &'a str {
    object
        .get("metadata")
        .and_then(|m| m.get(field))
        .and_then(Value::as_str)
        .unwrap_or("")
}

pub fn name_of(object: &Value) -> &str {
    meta_str(object, "name")
}

pub fn namespace_of(object: &Value) -> &str {
    meta_str(object, "namespace")
}

pub fn uid_of(object: &Value) -> &str {
    meta_str(object, "uid")
}

/// Kinds whose objects carry `metadata.generation` (those with a spec a controller acts on).
fn has_generation(type_key: &str) -> bool {
    !matches!(
        type_key,
        "v1/Pod"
            | "v1/Service"
            | "v1/PersistentVolumeClaim"
            | "v1/PersistentVolume"
            | "v1/Namespace"
            | "v1/Node"
            | "v1/Secret"
            | "v1/ConfigMap"
            | "v1/ServiceAccount"
            | "v1/Endpoints"
            | "v1/Event"
            | "events.k8s.io/v1/Event"
            | "discovery.k8s.io/v1/EndpointSlice"
            | "storage.k8s.io/v1/StorageClass"
            | "coordination.k8s.io/v1/Lease"
            | "apps/v1/ControllerRevision"
    ) && !type_key.starts_with("rbac.authorization.k8s.io/")
}

/// Whether two versions of an object differ outside metadata and status.
fn spec_changed(old: &Value, new: &Value) -> bool {
    let strip = |v: &Value| {
        let mut v = v.clone();
        if let Some(map) = v.as_object_mut() {
            map.remove("metadata");
            map.remove("status");
        }
        v
    };
    strip(old) != strip(new)
}

impl ObjectStore {
    pub fn get(&self, type_key: &str, namespace: &str, name: &str) -> Option<&Value> {
        self.objects
            .get(type_key)?
            .get(&object_key(namespace, name))
    }

    /// Objects of one type, in key order; `namespace: None` means all namespaces.
    pub fn list<'a>(
        &'a self,
        type_key: &str,
        namespace: Option<&'a str>,
    ) -> impl Iterator<Item = &'a Value> + 'a {
        self.objects
            .get(type_key)
            .into_iter()
            .flat_map(|m| m.values())
            .filter(move |o| namespace.is_none_or(|ns| namespace_of(o) == ns))
    }

    /// Clones of the objects of one type (for controllers that write while iterating).
    pub fn list_owned(&self, type_key: &str, namespace: Option<&str>) -> Vec<Value> {
        self.list(type_key, namespace).cloned().collect()
    }

    pub fn next_id(&mut self) -> u64 {
        self.id_counter += 1;
        self.id_counter
    }

    pub fn new_uid(&mut self) -> String {
        let n = self.next_id();
        ids::uid(n)
    }

    /// A random-looking suffix for generated names (`generateName`, pod names).
    pub fn new_suffix(&mut self, len: usize) -> String {
        let n = self.next_id();
        ids::name_suffix(n, len)
    }

    fn bump(&mut self) -> u64 {
        self.resource_version += 1;
        self.resource_version
    }

    /// Stamps a new object (uid, creationTimestamp, resourceVersion, generation) and
    /// stores it. The caller has checked it does not exist yet.
    pub fn insert_new(&mut self, type_key: &str, mut object: Value) -> Value {
        let uid = self.new_uid();
        let rv = self.bump();
        {
            let meta = ensure_object(&mut object, "metadata");
            meta.insert("uid".into(), json!(uid));
            meta.insert("resourceVersion".into(), json!(rv.to_string()));
            meta.insert("creationTimestamp".into(), json!(wall_time()));
            if has_generation(type_key) {
                meta.insert("generation".into(), json!(1));
            } else {
                meta.remove("generation");
            }
        }
        self.put(type_key, object, rv, ChangeKind::Added)
    }

    /// Stores a new version of an existing object, keeping its identity fields and bumping
    /// `generation` when anything outside metadata and status changed.
    pub fn replace(&mut self, type_key: &str, mut object: Value) -> Value {
        let key = object_key(namespace_of(&object), name_of(&object));
        let old = self
            .objects
            .get(type_key)
            .and_then(|m| m.get(&key))
            .cloned();
        let rv = self.bump();
        {
            let meta = ensure_object(&mut object, "metadata");
            meta.insert("resourceVersion".into(), json!(rv.to_string()));
            if let Some(old) = &old {
                let old_meta = &old["metadata"];
                for field in ["uid", "creationTimestamp"] {
                    if let Some(v) = old_meta.get(field) {
                        meta.insert(field.into(), v.clone());
                    }
                }
            }
        }
        if has_generation(type_key) {
            let old_generation = old
                .as_ref()
                .and_then(|o| o["metadata"]["generation"].as_i64())
                .unwrap_or(0);
            let generation = match &old {
                Some(old) if spec_changed(old, &object) => old_generation + 1,
                Some(_) => old_generation.max(1),
                None => 1,
            };
            ensure_object(&mut object, "metadata").insert("generation".into(), json!(generation));
        }
        self.put(type_key, object, rv, ChangeKind::Modified)
    }

    fn put(&mut self, type_key: &str, object: Value, rv: u64, kind: ChangeKind) -> Value {
        let key = object_key(namespace_of(&object), name_of(&object));
        let previous = self
            .objects
            .entry(type_key.to_string())
            .or_default()
            .insert(key, object.clone());
        self.pending.push(Change {
            resource_version: rv,
            type_key: type_key.to_string(),
            kind: if previous.is_some() {
                ChangeKind::Modified
            } else {
                kind
            },
            object: Arc::new(object.clone()),
            previous: previous.map(Arc::new),
        });
        object
    }

    /// Removes an object for good; watchers see DELETED with a fresh resourceVersion.
    pub fn remove(&mut self, type_key: &str, namespace: &str, name: &str) -> Option<Value> {
        let key = object_key(namespace, name);
        let mut object = self.objects.get_mut(type_key)?.remove(&key)?;
        let previous = Arc::new(object.clone());
        let rv = self.bump();
        ensure_object(&mut object, "metadata")
            .insert("resourceVersion".into(), json!(rv.to_string()));
        self.pending.push(Change {
            resource_version: rv,
            type_key: type_key.to_string(),
            kind: ChangeKind::Deleted,
            object: Arc::new(object.clone()),
            previous: Some(previous),
        });
        Some(object)
    }

    /// Moves queued changes into the history and returns them for broadcasting.
    pub(crate) fn take_pending(&mut self) -> Vec<Change> {
        let pending = std::mem::take(&mut self.pending);
        for change in &pending {
            self.history.push_back(change.clone());
        }
        while self.history.len() > HISTORY_LIMIT {
            if let Some(old) = self.history.pop_front() {
                self.history_floor = old.resource_version;
            }
        }
        pending
    }

    /// Changes after `resource_version`, or None when they are no longer in the history.
    pub(crate) fn changes_since(&self, resource_version: u64) -> Option<Vec<Change>> {
        if resource_version < self.history_floor {
            return None;
        }
        Some(
            self.history
                .iter()
                .filter(|c| c.resource_version > resource_version)
                .cloned()
                .collect(),
        )
    }

    /// After loading from disk: history starts now, older resourceVersions are gone.
    pub(crate) fn reset_history(&mut self) {
        self.history.clear();
        self.history_floor = self.resource_version;
    }
}

/// `object[field]` as a map, created when missing or not a map.
pub fn ensure_object<'a>(
    object: &'a mut Value,
    field: &str,
) -> &'a mut serde_json::Map<String, Value> {
    if !object.is_object() {
        *object = json!({});
    }
    let map = object.as_object_mut().expect("just made an object");
    let entry = map.entry(field.to_string()).or_insert_with(|| json!({}));
    if !entry.is_object() {
        *entry = json!({});
    }
    entry.as_object_mut().expect("just made an object")
}
