//! Restarting pods: delete them and wait until their replacements are Ready.
//!
//! This is guide §10's "restart ClickHouse so it sees the resized volume"
//! (`kubectl delete pod -l …`), plus the part kubectl leaves to the operator:
//! knowing when it is over. Replacements are recognised by UID, not name — a
//! StatefulSet's new pod has the old one's name — and the wait ends when as many
//! new pods as were deleted are Ready and none of the old ones remain.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{DeleteParams, WatchEvent, WatchParams};
use kube::ResourceExt;
use serde_json::{json, Value as Json};

use crate::context::RunContext;
use crate::error::Failure;
use crate::kube::errors::{api_failure, Object};
use crate::kube::objects::Selector;
use crate::kube::{pods, Cluster};
use crate::plan::{Applied, Change};

/// Whether the pods now seen replace all of `old`: as many new pods Ready as were
/// deleted, and no old pod left.
fn replaced(seen: &BTreeMap<String, Pod>, old: &BTreeSet<String>) -> bool {
    let old_left = seen.keys().any(|uid| old.contains(uid));
    let new_ready = seen
        .iter()
        .filter(|(uid, pod)| {
            !old.contains(*uid) && pods::is_ready(pod) && !pods::is_terminating(pod)
        })
        .count();
    !old_left && new_ready >= old.len()
}

fn new_pods(seen: &BTreeMap<String, Pod>, old: &BTreeSet<String>) -> Vec<Pod> {
    seen.iter()
        .filter(|(uid, _)| !old.contains(*uid))
        .map(|(_, p)| p.clone())
        .collect()
}

/// Deletes the pods matching `selector` and waits up to `timeout_secs` for Ready
/// replacements: `#{outcome, deleted, replacements, seconds}`.
pub async fn restart_pods(
    run: &RunContext,
    cluster: &Cluster,
    namespace: &str,
    selector: &str,
    timeout_secs: i64,
) -> Result<Json, Failure> {
    if selector.trim().is_empty() {
        return Err(Failure::invalid(
            "restart_pods needs a label selector (e.g. app.kubernetes.io/name=clickhouse)",
        )
        .with_hint("an empty selector would restart every pod in the namespace"));
    }
    let started = Instant::now();
    let selection = Selector::labels(selector);
    let old: Vec<Pod> = pods::list(cluster, namespace, &selection)
        .await?
        .into_iter()
        .filter(|p| !pods::is_terminating(p))
        .collect();
    let names: Vec<String> = old.iter().map(|p| p.name_any()).collect();
    if old.is_empty() {
        return Ok(json!({"outcome": "none", "deleted": [], "replacements": [], "seconds": 0.0}));
    }
    let old_uids: BTreeSet<String> = old.iter().filter_map(|p| p.metadata.uid.clone()).collect();
    let api = pods::api(cluster, namespace);
    let change = Change::new("restart pods", format!("{namespace} ({selector})"))
        .detail(names.join(", "))
        .destructive();
    let applied = run
        .change(change, async {
            for name in &names {
                match api.delete(name, &DeleteParams::default()).await {
                    Ok(_) => {}
                    Err(kube::Error::Api(s)) if s.code == 404 => {}
                    Err(e) => {
                        return Err(api_failure(
                            e,
                            "delete",
                            &Object::new("Pod", namespace, name),
                            &cluster.server,
                        ))
                    }
                }
            }
            Ok(())
        })
        .await?;
    if let Applied::Planned = applied {
        return Ok(
            json!({"outcome": "planned", "deleted": names, "replacements": [], "seconds": 0.0}),
        );
    }

    let deadline = started + Duration::from_secs(timeout_secs.max(1) as u64);
    let mut seen: BTreeMap<String, Pod>;
    loop {
        let list = api.list(&selection.list_params()).await.map_err(|e| {
            api_failure(
                e,
                "list",
                &Object::new("Pod", namespace, ""),
                &cluster.server,
            )
        })?;
        seen = list
            .items
            .into_iter()
            .filter_map(|p| p.metadata.uid.clone().map(|uid| (uid, p)))
            .collect();
        if replaced(&seen, &old_uids) {
            break;
        }
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return Err(timed_out(
                namespace,
                selector,
                timeout_secs,
                &seen,
                &old_uids,
            ));
        }
        let version = list.metadata.resource_version.unwrap_or_default();
        let params = WatchParams::default()
            .labels(selector)
            .timeout(remaining.as_secs().clamp(1, 290) as u32);
        let mut stream = api
            .watch(&params, &version)
            .await
            .map_err(|e| {
                api_failure(
                    e,
                    "watch",
                    &Object::new("Pod", namespace, ""),
                    &cluster.server,
                )
            })?
            .boxed();
        let done = loop {
            match tokio::time::timeout_at(deadline.into(), stream.try_next()).await {
                Err(_) => {
                    return Err(timed_out(
                        namespace,
                        selector,
                        timeout_secs,
                        &seen,
                        &old_uids,
                    ))
                }
                Ok(Ok(Some(WatchEvent::Added(p) | WatchEvent::Modified(p)))) => {
                    if let Some(uid) = p.metadata.uid.clone() {
                        seen.insert(uid, p);
                    }
                }
                Ok(Ok(Some(WatchEvent::Deleted(p)))) => {
                    if let Some(uid) = &p.metadata.uid {
                        seen.remove(uid);
                    }
                }
                Ok(Ok(Some(WatchEvent::Bookmark(_)))) => continue,
                Ok(Ok(Some(WatchEvent::Error(_)))) | Ok(Ok(None)) | Ok(Err(_)) => break false,
            }
            if replaced(&seen, &old_uids) {
                break true;
            }
        };
        if done {
            break;
        }
    }
    let replacements: Vec<String> = new_pods(&seen, &old_uids)
        .iter()
        .map(|p| p.name_any())
        .collect();
    Ok(json!({
        "outcome": "restarted",
        "deleted": names,
        "replacements": replacements,
        "seconds": started.elapsed().as_secs_f64(),
    }))
}

fn timed_out(
    namespace: &str,
    selector: &str,
    timeout_secs: i64,
    seen: &BTreeMap<String, Pod>,
    old: &BTreeSet<String>,
) -> Failure {
    let fresh = new_pods(seen, old);
    let ready = fresh.iter().filter(|p| pods::is_ready(p)).count();
    let problems = pods::problems(&fresh);
    let why = if problems.is_empty() {
        String::new()
    } else {
        format!(": {}", problems.join("; "))
    };
    Failure::timeout(format!(
        "pods {selector} in {namespace} were deleted but only {ready} of {} replacements were Ready after {timeout_secs} s{why}",
        old.len()
    ))
    .with_hint(pods::advice(&problems, &format!("kube::pods(\"{namespace}\", \"{selector}\")")))
    .with_detail("problems", problems.into_iter().map(rhai::Dynamic::from).collect::<rhai::Array>())
}
