//! Namespaces: the first thing an install creates (guide §5), and the first thing
//! to check when anything else says "not found".

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, ObjectMeta, PostParams};
use serde_json::{json, Value as Json};

use crate::context::RunContext;
use crate::error::Failure;
use crate::kube::errors::{api_failure, Object};
use crate::kube::retry::idempotent;
use crate::kube::Cluster;
use crate::plan::{Applied, Change};

fn api(cluster: &Cluster) -> Api<Namespace> {
    Api::all(cluster.client.clone())
}

pub async fn get_opt(cluster: &Cluster, name: &str) -> Result<Option<Namespace>, Failure> {
    api(cluster).get_opt(name).await.map_err(|e| {
        api_failure(
            e,
            "get",
            &Object::new("Namespace", "", name),
            &cluster.server,
        )
    })
}

/// `#{name, phase, labels, created}`.
pub fn summary(ns: &Namespace) -> Json {
    json!({
        "name": ns.metadata.name,
        "phase": ns.status.as_ref().and_then(|s| s.phase.clone()).unwrap_or_default(),
        "labels": ns.metadata.labels.clone().unwrap_or_default(),
        "created": ns.metadata.creation_timestamp.as_ref().map(|t| t.0.to_string()).unwrap_or_default(),
    })
}

pub async fn get(cluster: &Cluster, name: &str) -> Result<Json, Failure> {
    match get_opt(cluster, name).await? {
        Some(ns) => Ok(summary(&ns)),
        None => Err(Failure::not_found(format!("Namespace {name} not found"))
            .with_hint(format!("create it with kube::ensure_namespace(\"{name}\")"))),
    }
}

/// Creates the namespace when it is missing: `#{name, outcome}` with outcome
/// `created`, `kept` or `planned`. Labels are set only on creation.
pub async fn ensure(
    run: &RunContext,
    cluster: &Cluster,
    name: &str,
    labels: BTreeMap<String, String>,
) -> Result<Json, Failure> {
    if let Some(ns) = get_opt(cluster, name).await? {
        let terminating =
            ns.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Terminating");
        if terminating {
            return Err(Failure::new(
                crate::error::ErrorKind::Conflict,
                format!("Namespace {name} is being deleted"),
            )
            .with_hint("wait until it is gone (kube::namespace_exists) and run again"));
        }
        run.kept(&format!("namespace {name}"), "exists");
        return Ok(json!({"name": name, "outcome": "kept"}));
    }
    let object = Object::new("Namespace", "", name);
    let namespace = Namespace {
        metadata: ObjectMeta {
            name: Some(name.to_string()),
            labels: (!labels.is_empty()).then_some(labels),
            ..ObjectMeta::default()
        },
        ..Namespace::default()
    };
    let change = Change::new("create namespace", name);
    let applied = run
        .change(change, async {
            let api = api(cluster);
            let post = PostParams::default();
            match idempotent(|| api.create(&post, &namespace)).await {
                Ok(_) => Ok(()),
                // Someone (a retry, a parallel branch) made it meanwhile: that is what we wanted.
                Err(kube::Error::Api(s)) if s.code == 409 => Ok(()),
                Err(e) => Err(api_failure(e, "create", &object, &cluster.server)),
            }
        })
        .await?;
    Ok(json!({"name": name, "outcome": match applied {
        Applied::Planned => "planned",
        Applied::Done(()) => "created",
    }}))
}
