//! Garbage collection and namespace termination.
//!
//! Objects whose owners (by ownerReference uid) are all gone are deleted, as the garbage
//! collector does with background propagation: deleting a Deployment takes its
//! ReplicaSets and their pods with it. A namespace being deleted has its contents removed,
//! then disappears itself. Endpoints of deleted Services go too.

use super::objects::is_terminating;
use super::Pass;
use crate::store::{name_of, namespace_of, uid_of};
use crate::world::World;
use serde_json::{json, Value};
use std::collections::BTreeSet;

/// Removes the ownerReferences pointing at `owner_uid` (propagationPolicy=Orphan).
pub fn orphan_dependents(world: &mut World, owner_uid: &str) {
    let mut changed = Vec::new();
    for (type_key, objects) in &world.kube.objects {
        for object in objects.values() {
            let refs = object["metadata"]["ownerReferences"].as_array();
            if refs.is_some_and(|r| r.iter().any(|o| o["uid"] == owner_uid)) {
                let mut o = object.clone();
                if let Some(r) = o["metadata"]["ownerReferences"].as_array_mut() {
                    r.retain(|x| x["uid"] != owner_uid);
                }
                changed.push((type_key.clone(), o));
            }
        }
    }
    for (type_key, o) in changed {
        world.kube.replace(&type_key, o);
    }
}

fn delete_object(world: &mut World, type_key: &str, object: &Value) {
    if is_terminating(object) {
        return;
    }
    if type_key == "v1/Pod" {
        super::kubelet::delete_pod(world, object);
        return;
    }
    if object["metadata"]["finalizers"]
        .as_array()
        .is_some_and(|f| !f.is_empty())
    {
        let mut o = object.clone();
        o["metadata"]["deletionTimestamp"] = json!(crate::clock::wall_time());
        o["metadata"]["deletionGracePeriodSeconds"] = json!(0);
        world.kube.replace(type_key, o);
        return;
    }
    world
        .kube
        .remove(type_key, namespace_of(object), name_of(object));
}

pub fn run(world: &mut World, _pass: &mut Pass<'_>) {
    let uids: BTreeSet<String> = world
        .kube
        .objects
        .values()
        .flat_map(|m| m.values())
        .map(|o| uid_of(o).to_string())
        .collect();
    let mut doomed = Vec::new();
    for (type_key, objects) in &world.kube.objects {
        for object in objects.values() {
            if let Some(refs) = object["metadata"]["ownerReferences"].as_array() {
                if !refs.is_empty()
                    && refs
                        .iter()
                        .all(|r| !uids.contains(r["uid"].as_str().unwrap_or("")))
                {
                    doomed.push((type_key.clone(), object.clone()));
                }
            }
        }
    }
    // endpoints without their service
    for ep in world.kube.list("v1/Endpoints", None) {
        if world
            .kube
            .get("v1/Service", namespace_of(ep), name_of(ep))
            .is_none()
        {
            doomed.push(("v1/Endpoints".into(), ep.clone()));
        }
    }
    for (type_key, object) in doomed {
        delete_object(world, &type_key, &object);
    }

    // namespaces being deleted
    for ns in world.kube.list_owned("v1/Namespace", None) {
        if ns["status"]["phase"] != "Terminating" {
            continue;
        }
        let name = name_of(&ns).to_string();
        let mut remaining = 0;
        let mut contents = Vec::new();
        for (type_key, objects) in &world.kube.objects {
            for object in objects.values() {
                if namespace_of(object) == name && type_key != "v1/Event" {
                    remaining += 1;
                    contents.push((type_key.clone(), object.clone()));
                }
            }
        }
        for (type_key, object) in contents {
            if type_key == "v1/Pod" {
                super::kubelet::forget_pod(world, &object);
                world.kube.remove(&type_key, &name, name_of(&object));
            } else if type_key == "v1/PersistentVolumeClaim" {
                let mut o = object.clone();
                if let Some(m) = o["metadata"].as_object_mut() {
                    m.remove("finalizers");
                }
                world.kube.remove(&type_key, &name, name_of(&object));
                world.disk_usage.remove(&format!("{name}/{}", name_of(&o)));
                if let Some(pv) = o["spec"]["volumeName"].as_str() {
                    if world
                        .kube
                        .get("v1/PersistentVolume", "", pv)
                        .is_some_and(|p| p["spec"]["persistentVolumeReclaimPolicy"] == "Delete")
                    {
                        world.kube.remove("v1/PersistentVolume", "", pv);
                    }
                }
            } else {
                world.kube.remove(&type_key, &name, name_of(&object));
            }
        }
        if remaining == 0
            || world
                .kube
                .objects
                .iter()
                .all(|(tk, m)| tk == "v1/Event" || !m.values().any(|o| namespace_of(o) == name))
        {
            let events: Vec<String> = world
                .kube
                .list("v1/Event", Some(name.as_str()))
                .map(|e| name_of(e).to_string())
                .collect();
            for e in events {
                world.kube.remove("v1/Event", &name, &e);
            }
            world.kube.remove("v1/Namespace", "", &name);
        }
    }
}
