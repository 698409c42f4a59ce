//! Events: what the controllers and the kubelet said about an object
//! (`FailedScheduling`, `BackOff`, `FailedMount`, `ProgressDeadlineExceeded`,
//! `ExternalExpanding`, …), oldest first, the way `kubectl describe` lists them.

use k8s_openapi::api::core::v1::Event;
use kube::api::{Api, ListParams};
use serde_json::{json, Value as Json};

use crate::error::Failure;
use crate::kube::errors::{api_failure, Object};
use crate::kube::Cluster;

/// When the event last happened, as RFC 3339 (series, lastTimestamp, eventTime, creation).
fn last_seen(e: &Event) -> String {
    e.series
        .as_ref()
        .and_then(|s| s.last_observed_time.as_ref())
        .map(|t| t.0.to_string())
        .or_else(|| e.last_timestamp.as_ref().map(|t| t.0.to_string()))
        .or_else(|| e.event_time.as_ref().map(|t| t.0.to_string()))
        .or_else(|| {
            e.metadata
                .creation_timestamp
                .as_ref()
                .map(|t| t.0.to_string())
        })
        .unwrap_or_default()
}

fn summary(e: &Event) -> Json {
    let source = e
        .reporting_component
        .clone()
        .filter(|c| !c.is_empty())
        .or_else(|| e.source.as_ref().and_then(|s| s.component.clone()))
        .unwrap_or_default();
    json!({
        "type": e.type_.clone().unwrap_or_default(),
        "reason": e.reason.clone().unwrap_or_default(),
        "message": e.message.clone().unwrap_or_default(),
        "count": e.series.as_ref().and_then(|s| s.count).or(e.count).unwrap_or(1),
        "first_seen": e.first_timestamp.as_ref().map(|t| t.0.to_string()).unwrap_or_else(|| last_seen(e)),
        "last_seen": last_seen(e),
        "object": format!("{}/{}",
            e.involved_object.kind.clone().unwrap_or_default(),
            e.involved_object.name.clone().unwrap_or_default()),
        "source": source,
    })
}

/// Events in `namespace`, optionally only those about `kind`/`name` ("" for any).
pub async fn list(
    cluster: &Cluster,
    namespace: &str,
    kind: &str,
    name: &str,
) -> Result<Vec<Json>, Failure> {
    let mut fields = Vec::new();
    if !kind.is_empty() {
        fields.push(format!("involvedObject.kind={kind}"));
    }
    if !name.is_empty() {
        fields.push(format!("involvedObject.name={name}"));
    }
    let mut params = ListParams::default();
    if !fields.is_empty() {
        params = params.fields(&fields.join(","));
    }
    let api: Api<Event> = Api::namespaced(cluster.client.clone(), namespace);
    let about = if name.is_empty() {
        Object::new("Event", namespace, "")
    } else {
        Object::new(kind, namespace, name)
    };
    let verb = if name.is_empty() {
        "list"
    } else {
        "list events of"
    };
    let mut events = api
        .list(&params)
        .await
        .map_err(|e| api_failure(e, verb, &about, &cluster.server))?
        .items;
    events.sort_by_key(last_seen);
    Ok(events.iter().map(summary).collect())
}
