//! The event recorder: `v1/Event` objects as kubelet, scheduler and controllers write
//! them, including the aggregation of repeats into one event with a rising `count`.

use crate::clock::{wall_time, wall_time_micros};
use crate::store::{name_of, namespace_of, uid_of};
use crate::world::World;
use serde_json::{json, Value};

/// Events kept in total; older ones are dropped, as the real one-hour TTL would.
const EVENT_LIMIT: usize = 3000;

/// Who reports an event (`source.component`, and the node for the kubelet).
#[derive(Clone, Copy)]
pub enum Source<'a> {
    Kubelet(&'a str),
    Scheduler,
    Controller(&'static str),
}

impl Source<'_> {
    fn component(&self) -> &str {
        match self {
            Source::Kubelet(_) => "kubelet",
            Source::Scheduler => "default-scheduler",
            Source::Controller(c) => c,
        }
    }
    fn host(&self) -> Option<&str> {
        match self {
            Source::Kubelet(node) => Some(node),
            _ => None,
        }
    }
}

/// Records (or counts again) an event about `object`.
pub fn record(
    world: &mut World,
    object: &Value,
    source: Source<'_>,
    warning: bool,
    reason: &str,
    message: &str,
) {
    record_at(world, object, None, source, warning, reason, message)
}

/// Records an event only if the same one was never recorded for the object (for
/// conditions a controller notices on every pass, like a claim waiting for its consumer).
pub fn record_once(
    world: &mut World,
    object: &Value,
    source: Source<'_>,
    warning: bool,
    reason: &str,
    message: &str,
) {
    let uid = uid_of(object);
    let seen = world.kube.list("v1/Event", None).any(|e| {
        e["involvedObject"]["uid"] == uid && e["reason"] == reason && e["message"] == message
    });
    if !seen {
        record(world, object, source, warning, reason, message);
    }
}

/// Like `record`, with a `fieldPath` (`spec.containers{web}`) naming the container.
pub fn record_at(
    world: &mut World,
    object: &Value,
    field_path: Option<&str>,
    source: Source<'_>,
    warning: bool,
    reason: &str,
    message: &str,
) {
    let namespace = match namespace_of(object) {
        "" => "default",
        ns => ns,
    }
    .to_string();
    let uid = uid_of(object).to_string();
    let event_type = if warning { "Warning" } else { "Normal" };
    let now = wall_time();
    let existing = world
        .kube
        .list("v1/Event", Some(namespace.as_str()))
        .find(|e| {
            e["involvedObject"]["uid"] == uid.as_str()
                && e["reason"] == reason
                && e["message"] == message
                && e["type"] == event_type
                && e["source"]["component"] == source.component()
                && e["involvedObject"]["fieldPath"].as_str() == field_path
        })
        .cloned();
    if let Some(mut event) = existing {
        // repeats within the same second are one occurrence (the recorder rate-limits too)
        if event["lastTimestamp"] == now.as_str() {
            return;
        }
        event["count"] = json!(event["count"].as_i64().unwrap_or(1) + 1);
        event["lastTimestamp"] = json!(now);
        world.kube.replace("v1/Event", event);
        return;
    }
    let nanos = jiff::Timestamp::now().as_nanosecond() as u128 + world.kube.id_counter as u128;
    world.kube.id_counter += 1;
    let mut involved = json!({
        "kind": object["kind"],
        "namespace": object["metadata"]["namespace"],
        "name": name_of(object),
        "uid": uid,
        "apiVersion": object["apiVersion"],
        "resourceVersion": object["metadata"]["resourceVersion"],
    });
    if let Some(fp) = field_path {
        involved["fieldPath"] = json!(fp);
    }
    if involved["namespace"].is_null() {
        involved.as_object_mut().map(|m| m.remove("namespace"));
    }
    let mut source_json = json!({"component": source.component()});
    if let Some(host) = source.host() {
        source_json["host"] = json!(host);
    }
    let event = json!({
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": format!("{}.{:x}", name_of(object), nanos), "namespace": namespace},
        "involvedObject": involved,
        "reason": reason,
        "message": message,
        "source": source_json,
        "firstTimestamp": now,
        "lastTimestamp": now,
        "count": 1,
        "type": event_type,
        "eventTime": null,
        "reportingComponent": source.component(),
        "reportingInstance": source.host().unwrap_or(""),
    });
    let _ = wall_time_micros;
    world.kube.insert_new("v1/Event", event);
    prune(world);
}

fn prune(world: &mut World) {
    let count = world.kube.objects.get("v1/Event").map_or(0, |m| m.len());
    if count <= EVENT_LIMIT {
        return;
    }
    let mut events: Vec<(u64, String, String)> = world
        .kube
        .list("v1/Event", None)
        .map(|e| {
            let rv = e["metadata"]["resourceVersion"]
                .as_str()
                .and_then(|r| r.parse().ok())
                .unwrap_or(0);
            (rv, namespace_of(e).to_string(), name_of(e).to_string())
        })
        .collect();
    events.sort();
    for (_, ns, name) in events.into_iter().take(count - EVENT_LIMIT + 100) {
        world.kube.remove("v1/Event", &ns, &name);
    }
}
