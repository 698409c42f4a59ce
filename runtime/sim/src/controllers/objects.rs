//! Small helpers the controllers share: owner references, internal creates and
//! status writes that skip the API's request path, pod readiness.

use crate::kube::defaults::apply_defaults;
use crate::store::{name_of, namespace_of, uid_of};
use crate::world::World;
use serde_json::{json, Value};

/// An ownerReference pointing at `owner`.
pub fn owner_ref(owner: &Value, controller: bool) -> Value {
    json!({
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"],
        "controller": controller,
        "blockOwnerDeletion": true,
    })
}

/// The uid of the object's controlling owner.
pub fn controller_uid(object: &Value) -> Option<&str> {
    object["metadata"]["ownerReferences"]
        .as_array()?
        .iter()
        .find(|r| r["controller"].as_bool() == Some(true))
        .and_then(|r| r["uid"].as_str())
}

/// Objects of `type_key` in the owner's namespace controlled by `owner`.
pub fn controlled_by(world: &World, type_key: &str, owner: &Value) -> Vec<Value> {
    let uid = uid_of(owner).to_string();
    let ns = namespace_of(owner).to_string();
    world
        .kube
        .list(type_key, Some(ns.as_str()))
        .filter(|o| controller_uid(o) == Some(uid.as_str()))
        .cloned()
        .collect()
}

/// Creates an object the way a controller's API call would: defaults and create-time
/// admission, without validation or field tracking.
pub fn create_internal(world: &mut World, type_key: &str, mut object: Value) -> Value {
    apply_defaults(type_key, &mut object);
    if let Some(rt) = crate::kube::resources::builtin_by_type_key(type_key) {
        crate::kube::handlers::admit_create(world, rt, &mut object);
    }
    world.kube.insert_new(type_key, object)
}

/// Stores `new` if it differs from what is stored; returns whether it wrote.
pub fn write_if_changed(world: &mut World, type_key: &str, new: Value) -> bool {
    let current = world.kube.get(type_key, namespace_of(&new), name_of(&new));
    if current == Some(&new) {
        return false;
    }
    if current.is_none() {
        return false;
    }
    world.kube.replace(type_key, new);
    true
}

/// Replaces the object's status if it changed.
pub fn set_status(world: &mut World, type_key: &str, object: &Value, status: Value) -> bool {
    if object["status"] == status {
        return false;
    }
    let Some(mut current) = world
        .kube
        .get(type_key, namespace_of(object), name_of(object))
        .cloned()
    else {
        return false;
    };
    if current["status"] == status {
        return false;
    }
    current["status"] = status;
    world.kube.replace(type_key, current);
    true
}

pub fn is_terminating(object: &Value) -> bool {
    object["metadata"]["deletionTimestamp"].is_string()
}

/// A pod that counts towards a controller's replicas (not terminating, not finished).
pub fn is_active_pod(pod: &Value) -> bool {
    !is_terminating(pod)
        && !matches!(
            pod["status"]["phase"].as_str(),
            Some("Succeeded") | Some("Failed")
        )
}

pub fn is_pod_ready(pod: &Value) -> bool {
    pod["status"]["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|c| c["type"] == "Ready" && c["status"] == "True")
}

/// Labels as a map (empty when absent).
pub fn labels(object: &Value) -> serde_json::Map<String, Value> {
    object["metadata"]["labels"]
        .as_object()
        .cloned()
        .unwrap_or_default()
}

/// A condition of the given type from a status' conditions list.
pub fn condition<'a>(status: &'a Value, kind: &str) -> Option<&'a Value> {
    status["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == kind)
}
