//! `events.k8s.io/v1` Events as a view of the core `v1` Events, as the real API server
//! serves both groups from one storage. Field names differ: `regarding`/`note`/`series`
//! versus `involvedObject`/`message`/`count`.

use serde_json::{json, Value};

/// A core/v1 Event shown as events.k8s.io/v1.
pub fn core_to_events_v1(core: &Value) -> Value {
    let mut e = json!({
        "apiVersion": "events.k8s.io/v1",
        "kind": "Event",
        "metadata": core["metadata"].clone(),
        "regarding": core["involvedObject"].clone(),
        "reason": core["reason"].clone(),
        "note": core["message"].clone(),
        "type": core["type"].clone(),
        "reportingController": core["reportingComponent"].as_str().filter(|s| !s.is_empty()).or(core["source"]["component"].as_str()).unwrap_or(""),
        "reportingInstance": core["reportingInstance"].as_str().filter(|s| !s.is_empty()).or(core["source"]["host"].as_str()).unwrap_or(""),
        "action": core["action"].as_str().unwrap_or(core["reason"].as_str().unwrap_or("")),
        "eventTime": core["eventTime"].clone(),
        "deprecatedFirstTimestamp": core["firstTimestamp"].clone(),
        "deprecatedLastTimestamp": core["lastTimestamp"].clone(),
        "deprecatedCount": core["count"].clone(),
        "deprecatedSource": core["source"].clone(),
    });
    if let Some(m) = e.as_object_mut() {
        m.retain(|_, v| !v.is_null());
    }
    e
}

/// An events.k8s.io/v1 Event stored as core/v1.
pub fn events_v1_to_core(v1: &Value) -> Value {
    let mut e = json!({
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": v1["metadata"].clone(),
        "involvedObject": v1["regarding"].clone(),
        "reason": v1["reason"].clone(),
        "message": v1["note"].clone(),
        "type": v1["type"].clone(),
        "reportingComponent": v1["reportingController"].clone(),
        "reportingInstance": v1["reportingInstance"].clone(),
        "action": v1["action"].clone(),
        "eventTime": v1["eventTime"].clone(),
        "firstTimestamp": v1["deprecatedFirstTimestamp"].clone(),
        "lastTimestamp": v1["deprecatedLastTimestamp"].clone(),
        "count": v1["deprecatedCount"].clone(),
        "source": v1["deprecatedSource"].clone(),
    });
    if let Some(m) = e.as_object_mut() {
        m.retain(|_, v| !v.is_null());
    }
    e
}
