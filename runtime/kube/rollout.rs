//! `kubectl rollout status`, as a function: wait on a watch until a Deployment,
//! StatefulSet or DaemonSet has rolled out, by the same rules kubectl applies.
//!
//! The rules (kubectl's `polymorphichelpers/rollout_status.go`):
//!
//! - **Deployment** — once `observedGeneration ≥ generation`: fail if the
//!   Progressing condition says `ProgressDeadlineExceeded`; wait while
//!   `updatedReplicas < spec.replicas`, while old replicas remain
//!   (`replicas > updatedReplicas`), and while `availableReplicas < updatedReplicas`.
//! - **StatefulSet** (RollingUpdate only) — once observed: wait while
//!   `readyReplicas < spec.replicas`; with a partition, until the pods above it are
//!   updated; otherwise until `currentRevision == updateRevision`.
//! - **DaemonSet** (RollingUpdate only) — once observed: wait while
//!   `updatedNumberScheduled` or `numberAvailable` is below `desiredNumberScheduled`.
//!
//! A watch (not polling) means the wait returns as soon as the API server
//! reports the last pod Ready. When it fails or times out, the error carries the
//! pods' own reasons (ImagePullBackOff, CrashLoopBackOff, OOMKilled …) so the
//! operator — or `doctor` — sees why, not just that.

use std::time::{Duration, Instant};

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use kube::api::Api;
use serde_json::{json, Value as Json};

use crate::error::{ErrorKind, Failure};
use crate::kube::errors::Object;
use crate::kube::objects::Selector;
use crate::kube::watch::{ended_object, ended_progress, watch_until, Progress};
use crate::kube::{pods, Cluster};

/// The kinds that roll out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Workload {
    Deployment,
    StatefulSet,
    DaemonSet,
}

impl Workload {
    pub fn parse(kind: &str) -> Result<Workload, Failure> {
        match kind.to_ascii_lowercase().as_str() {
            "deployment" | "deployments" | "deploy" => Ok(Workload::Deployment),
            "statefulset" | "statefulsets" | "sts" => Ok(Workload::StatefulSet),
            "daemonset" | "daemonsets" | "ds" => Ok(Workload::DaemonSet),
            _ => Err(Failure::invalid(format!(
                "`{kind}` does not roll out: use Deployment, StatefulSet or DaemonSet"
            ))),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Workload::Deployment => "Deployment",
            Workload::StatefulSet => "StatefulSet",
            Workload::DaemonSet => "DaemonSet",
        }
    }
}

fn deployment_progress(d: &Deployment) -> Progress {
    let name = d.metadata.name.as_deref().unwrap_or("");
    let status = d.status.clone().unwrap_or_default();
    let generation = d.metadata.generation.unwrap_or(0);
    if generation > status.observed_generation.unwrap_or(0) {
        return Progress::Waiting("waiting for the deployment spec update to be observed".into());
    }
    let stuck = status.conditions.iter().flatten().find(|c| {
        c.type_ == "Progressing" && c.reason.as_deref() == Some("ProgressDeadlineExceeded")
    });
    if let Some(c) = stuck {
        return Progress::Failed(
            "ProgressDeadlineExceeded".into(),
            format!(
                "deployment \"{name}\" exceeded its progress deadline{}",
                c.message
                    .as_ref()
                    .map(|m| format!(" ({m})"))
                    .unwrap_or_default()
            ),
        );
    }
    let wanted = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
    let updated = status.updated_replicas.unwrap_or(0);
    let replicas = status.replicas.unwrap_or(0);
    let available = status.available_replicas.unwrap_or(0);
    if updated < wanted {
        return Progress::Waiting(format!(
            "waiting for deployment \"{name}\" rollout to finish: {updated} out of {wanted} new replicas have been updated"
        ));
    }
    if replicas > updated {
        return Progress::Waiting(format!(
            "waiting for deployment \"{name}\" rollout to finish: {} old replicas are pending termination",
            replicas - updated
        ));
    }
    if available < updated {
        return Progress::Waiting(format!(
            "waiting for deployment \"{name}\" rollout to finish: {available} of {updated} updated replicas are available"
        ));
    }
    Progress::Done(format!("deployment \"{name}\" successfully rolled out"))
}

fn statefulset_progress(s: &StatefulSet) -> Progress {
    let spec = s.spec.clone().unwrap_or_default();
    let status = s.status.clone().unwrap_or_default();
    let strategy = spec.update_strategy.clone().unwrap_or_default();
    let strategy_type = strategy
        .type_
        .clone()
        .unwrap_or_else(|| "RollingUpdate".into());
    if strategy_type != "RollingUpdate" {
        return Progress::Failed(
            "UnsupportedStrategy".into(),
            format!("rollout status is only available for the RollingUpdate strategy, not {strategy_type}"),
        );
    }
    let observed = status.observed_generation.unwrap_or(0);
    if observed == 0 || s.metadata.generation.unwrap_or(0) > observed {
        return Progress::Waiting("waiting for the statefulset spec update to be observed".into());
    }
    let wanted = spec.replicas.unwrap_or(1);
    let ready = status.ready_replicas.unwrap_or(0);
    if ready < wanted {
        return Progress::Waiting(format!("waiting for {} pods to be ready", wanted - ready));
    }
    let updated = status.updated_replicas.unwrap_or(0);
    if let Some(partition) = strategy.rolling_update.as_ref().and_then(|r| r.partition) {
        if updated < wanted - partition {
            return Progress::Waiting(format!(
                "waiting for partitioned roll out to finish: {updated} out of {} new pods have been updated",
                wanted - partition
            ));
        }
        return Progress::Done(format!(
            "partitioned roll out complete: {updated} new pods have been updated"
        ));
    }
    let update_revision = status.update_revision.clone().unwrap_or_default();
    if update_revision != status.current_revision.clone().unwrap_or_default() {
        return Progress::Waiting(format!(
            "waiting for statefulset rolling update to complete {updated} pods at revision {update_revision}"
        ));
    }
    Progress::Done(format!(
        "statefulset rolling update complete {} pods at revision {update_revision}",
        status.current_replicas.unwrap_or(0)
    ))
}

fn daemonset_progress(d: &DaemonSet) -> Progress {
    let name = d.metadata.name.as_deref().unwrap_or("");
    let strategy_type = d
        .spec
        .as_ref()
        .and_then(|s| s.update_strategy.as_ref())
        .and_then(|u| u.type_.clone())
        .unwrap_or_else(|| "RollingUpdate".into());
    if strategy_type != "RollingUpdate" {
        return Progress::Failed(
            "UnsupportedStrategy".into(),
            format!("rollout status is only available for the RollingUpdate strategy, not {strategy_type}"),
        );
    }
    let status = d.status.clone().unwrap_or_default();
    if d.metadata.generation.unwrap_or(0) > status.observed_generation.unwrap_or(0) {
        return Progress::Waiting("waiting for the daemon set spec update to be observed".into());
    }
    let desired = status.desired_number_scheduled;
    let updated = status.updated_number_scheduled.unwrap_or(0);
    let available = status.number_available.unwrap_or(0);
    if updated < desired {
        return Progress::Waiting(format!(
            "waiting for daemon set \"{name}\" rollout to finish: {updated} out of {desired} new pods have been updated"
        ));
    }
    if available < desired {
        return Progress::Waiting(format!(
            "waiting for daemon set \"{name}\" rollout to finish: {available} of {desired} updated pods are available"
        ));
    }
    Progress::Done(format!("daemon set \"{name}\" successfully rolled out"))
}

fn deployment_counts(d: &Deployment) -> Json {
    let s = d.status.clone().unwrap_or_default();
    json!({
        "replicas": d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1),
        "updated": s.updated_replicas.unwrap_or(0),
        "ready_replicas": s.ready_replicas.unwrap_or(0),
        "available": s.available_replicas.unwrap_or(0),
    })
}

fn statefulset_counts(s: &StatefulSet) -> Json {
    let st = s.status.clone().unwrap_or_default();
    json!({
        "replicas": s.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1),
        "updated": st.updated_replicas.unwrap_or(0),
        "ready_replicas": st.ready_replicas.unwrap_or(0),
        "available": st.available_replicas.unwrap_or(0),
        "revision": st.current_revision.unwrap_or_default(),
    })
}

fn daemonset_counts(d: &DaemonSet) -> Json {
    let s = d.status.clone().unwrap_or_default();
    json!({
        "replicas": s.desired_number_scheduled,
        "updated": s.updated_number_scheduled.unwrap_or(0),
        "ready_replicas": s.number_ready,
        "available": s.number_available.unwrap_or(0),
    })
}

/// A label selector as text (`app=web,tier in (a,b)`).
pub fn selector_text(selector: &LabelSelector) -> String {
    let mut terms: Vec<String> = selector
        .match_labels
        .iter()
        .flatten()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    for e in selector.match_expressions.iter().flatten() {
        let values = e.values.clone().unwrap_or_default().join(",");
        terms.push(match e.operator.as_str() {
            "In" => format!("{} in ({values})", e.key),
            "NotIn" => format!("{} notin ({values})", e.key),
            "Exists" => e.key.clone(),
            _ => format!("!{}", e.key),
        });
    }
    terms.join(",")
}

/// Waits until the workload has rolled out (`timeout_secs` > 0), or reports where
/// it stands now (`timeout_secs` == 0, never failing on an unfinished rollout).
pub async fn status(
    cluster: &Cluster,
    namespace: &str,
    workload: Workload,
    name: &str,
    timeout_secs: i64,
) -> Result<Json, Failure> {
    let started = Instant::now();
    let deadline = (timeout_secs > 0).then(|| started + Duration::from_secs(timeout_secs as u64));
    let object = Object::new(workload.name(), namespace, name);
    let client = cluster.client.clone();
    let (ended, counts, selector) = match workload {
        Workload::Deployment => {
            let api: Api<Deployment> = Api::namespaced(client, namespace);
            let ended = watch_until(cluster, &api, &object, deadline, deployment_progress).await?;
            let d = ended_object(&ended);
            let selector = d
                .spec
                .as_ref()
                .map(|s| selector_text(&s.selector))
                .unwrap_or_default();
            (ended_progress(&ended), deployment_counts(d), selector)
        }
        Workload::StatefulSet => {
            let api: Api<StatefulSet> = Api::namespaced(client, namespace);
            let ended = watch_until(cluster, &api, &object, deadline, statefulset_progress).await?;
            let s = ended_object(&ended);
            let selector = s
                .spec
                .as_ref()
                .map(|s| selector_text(&s.selector))
                .unwrap_or_default();
            (ended_progress(&ended), statefulset_counts(s), selector)
        }
        Workload::DaemonSet => {
            let api: Api<DaemonSet> = Api::namespaced(client, namespace);
            let ended = watch_until(cluster, &api, &object, deadline, daemonset_progress).await?;
            let d = ended_object(&ended);
            let selector = d
                .spec
                .as_ref()
                .map(|s| selector_text(&s.selector))
                .unwrap_or_default();
            (ended_progress(&ended), daemonset_counts(d), selector)
        }
    };
    let mut result = counts;
    result["kind"] = json!(workload.name());
    result["namespace"] = json!(namespace);
    result["name"] = json!(name);
    result["seconds"] = json!(started.elapsed().as_secs_f64());
    let (ready, reason, message, timed_out) = match ended {
        (Progress::Done(m), _) => (true, String::new(), m, false),
        (Progress::Waiting(m), timed_out) => (
            false,
            if timed_out {
                "Timeout".into()
            } else {
                String::new()
            },
            m,
            timed_out,
        ),
        (Progress::Failed(r, m), _) => (false, r, m, false),
    };
    result["ready"] = json!(ready);
    result["failed"] = json!(!ready && !reason.is_empty() && !timed_out);
    result["reason"] = json!(reason);
    result["message"] = json!(message);
    if ready || deadline.is_none() {
        return Ok(result);
    }
    // It failed or ran out of time: say why, from the pods themselves.
    let pods = pods::list(cluster, namespace, &Selector::labels(&selector))
        .await
        .unwrap_or_default();
    let problems = pods::problems(&pods);
    let why = if problems.is_empty() {
        String::new()
    } else {
        format!("; {}", problems.join("; "))
    };
    let (kind, text) = if timed_out {
        (
            ErrorKind::Timeout,
            format!("{object} did not finish rolling out within {timeout_secs} s: {message}{why}"),
        )
    } else {
        (
            ErrorKind::Timeout,
            format!("{object} failed to roll out: {reason}: {message}{why}"),
        )
    };
    let kind = if reason == "UnsupportedStrategy" {
        ErrorKind::Invalid
    } else {
        kind
    };
    Err(Failure::new(kind, text)
        .with_hint(pods::advice(
            &problems,
            &format!(
                "kube::events(\"{namespace}\", \"{}\", \"{name}\")",
                workload.name()
            ),
        ))
        .with_detail("reason", reason)
        .with_detail(
            "problems",
            problems
                .into_iter()
                .map(rhai::Dynamic::from)
                .collect::<rhai::Array>(),
        )
        .with_detail("status", crate::value::from_json(&result)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::apps::v1::{DeploymentCondition, DeploymentSpec, DeploymentStatus};

    fn deployment(
        generation: i64,
        observed: i64,
        replicas: i32,
        updated: i32,
        total: i32,
        available: i32,
    ) -> Deployment {
        let mut d = Deployment::default();
        d.metadata.name = Some("web".into());
        d.metadata.generation = Some(generation);
        d.spec = Some(DeploymentSpec {
            replicas: Some(replicas),
            ..DeploymentSpec::default()
        });
        d.status = Some(DeploymentStatus {
            observed_generation: Some(observed),
            updated_replicas: Some(updated),
            replicas: Some(total),
            available_replicas: Some(available),
            ..DeploymentStatus::default()
        });
        d
    }

    #[test]
    fn deployment_rules_follow_kubectl() {
        assert!(
            matches!(deployment_progress(&deployment(2, 1, 2, 2, 2, 2)), Progress::Waiting(m) if m.contains("observed"))
        );
        assert!(
            matches!(deployment_progress(&deployment(2, 2, 2, 1, 2, 1)), Progress::Waiting(m) if m.contains("1 out of 2 new replicas"))
        );
        assert!(
            matches!(deployment_progress(&deployment(2, 2, 2, 2, 3, 2)), Progress::Waiting(m) if m.contains("1 old replicas"))
        );
        assert!(
            matches!(deployment_progress(&deployment(2, 2, 2, 2, 2, 1)), Progress::Waiting(m) if m.contains("1 of 2 updated replicas"))
        );
        assert!(matches!(
            deployment_progress(&deployment(2, 2, 2, 2, 2, 2)),
            Progress::Done(_)
        ));

        let mut stuck = deployment(2, 2, 2, 1, 2, 1);
        stuck.status.as_mut().unwrap().conditions = Some(vec![DeploymentCondition {
            type_: "Progressing".into(),
            status: "False".into(),
            reason: Some("ProgressDeadlineExceeded".into()),
            ..DeploymentCondition::default()
        }]);
        assert!(
            matches!(deployment_progress(&stuck), Progress::Failed(r, _) if r == "ProgressDeadlineExceeded")
        );
    }

    #[test]
    fn statefulset_waits_for_the_update_revision() {
        let mut s = StatefulSet::default();
        s.metadata.generation = Some(1);
        s.spec = Some(k8s_openapi::api::apps::v1::StatefulSetSpec {
            replicas: Some(1),
            ..Default::default()
        });
        s.status = Some(k8s_openapi::api::apps::v1::StatefulSetStatus {
            observed_generation: Some(1),
            ready_replicas: Some(1),
            updated_replicas: Some(1),
            current_revision: Some("a".into()),
            update_revision: Some("b".into()),
            ..Default::default()
        });
        assert!(matches!(statefulset_progress(&s), Progress::Waiting(_)));
        s.status.as_mut().unwrap().current_revision = Some("b".into());
        assert!(matches!(statefulset_progress(&s), Progress::Done(_)));
    }
}
