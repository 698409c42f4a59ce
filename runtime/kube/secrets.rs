//! Secrets, with the one rule that matters: an existing key is never overwritten.
//!
//! Langfuse encrypts data with `encryption-key` and hashes with `salt` (guide §5).
//! Regenerating either on a re-run makes every stored secret unreadable, so
//! [`ensure`] creates a missing secret or adds the keys it lacks, and reports each
//! key it found as kept — whatever value the caller offered for it. There is no
//! option to overwrite; rotating a key is a deliberate `kube::patch`.
//!
//! Values are never printed: the plan and journal list key names only, and values
//! read back come out as `Secret`.

use std::collections::BTreeMap;

use base64::Engine;
use k8s_openapi::api::core::v1::Secret as KubeSecret;
use k8s_openapi::ByteString;
use kube::api::{Api, ObjectMeta, Patch, PatchParams, PostParams};
use serde_json::{json, Value as Json};

use crate::context::RunContext;
use crate::error::{ErrorKind, Failure};
use crate::kube::errors::{api_failure, Object};
use crate::kube::retry::idempotent;
use crate::kube::Cluster;
use crate::plan::{Applied, Change};
use crate::secret::Secret;

/// Extra settings for a secret lfrun creates.
#[derive(Debug, Clone, Default)]
pub struct SecretOptions {
    /// `type` (default `Opaque`).
    pub type_: Option<String>,
    pub labels: BTreeMap<String, String>,
}

fn api(cluster: &Cluster, namespace: &str) -> Api<KubeSecret> {
    Api::namespaced(cluster.client.clone(), namespace)
}

pub async fn get_opt(
    cluster: &Cluster,
    namespace: &str,
    name: &str,
) -> Result<Option<KubeSecret>, Failure> {
    api(cluster, namespace).get_opt(name).await.map_err(|e| {
        api_failure(
            e,
            "get",
            &Object::new("Secret", namespace, name),
            &cluster.server,
        )
    })
}

async fn get(cluster: &Cluster, namespace: &str, name: &str) -> Result<KubeSecret, Failure> {
    get_opt(cluster, namespace, name).await?.ok_or_else(|| {
        Failure::not_found(format!("Secret {namespace}/{name} not found"))
            .with_hint("check the name and the namespace (kube::ensure_secret creates it)")
    })
}

fn key_names(secret: &KubeSecret) -> Vec<String> {
    let mut keys: Vec<String> = secret.data.iter().flat_map(|d| d.keys().cloned()).collect();
    keys.extend(secret.string_data.iter().flat_map(|d| d.keys().cloned()));
    keys.sort();
    keys.dedup();
    keys
}

/// The key names of a secret, sorted.
pub async fn keys(cluster: &Cluster, namespace: &str, name: &str) -> Result<Vec<String>, Failure> {
    Ok(key_names(&get(cluster, namespace, name).await?))
}

/// One value of a secret, as a `Secret`.
pub async fn value(
    cluster: &Cluster,
    namespace: &str,
    name: &str,
    key: &str,
) -> Result<Secret, Failure> {
    let secret = get(cluster, namespace, name).await?;
    let bytes = secret
        .data
        .as_ref()
        .and_then(|d| d.get(key))
        .map(|b| b.0.clone())
        .or_else(|| {
            secret
                .string_data
                .as_ref()
                .and_then(|d| d.get(key))
                .map(|s| s.clone().into_bytes())
        });
    let Some(bytes) = bytes else {
        return Err(
            Failure::not_found(format!("Secret {namespace}/{name} has no key `{key}`"))
                .with_hint(format!("its keys are: {}", key_names(&secret).join(", "))),
        );
    };
    String::from_utf8(bytes).map(Secret::new).map_err(|_| {
        Failure::invalid(format!(
            "key `{key}` of Secret {namespace}/{name} is binary, not text"
        ))
    })
}

/// Creates the secret or adds the keys it lacks; never changes a key that exists.
/// `wanted` holds the values to send (revealed). Returns
/// `#{namespace, name, outcome, added, kept}` with outcome `created`, `updated`,
/// `kept` or `planned`.
pub async fn ensure(
    run: &RunContext,
    cluster: &Cluster,
    namespace: &str,
    name: &str,
    wanted: &BTreeMap<String, String>,
    options: &SecretOptions,
) -> Result<Json, Failure> {
    let object = Object::new("Secret", namespace, name);
    let target = format!("{namespace}/{name}");
    // A concurrent writer (another run, a retry that did land) shows up as a 409;
    // read again and decide again, a few times.
    for _ in 0..3 {
        match get_opt(cluster, namespace, name).await? {
            None => {
                let keys: Vec<&String> = wanted.keys().collect();
                let secret = KubeSecret {
                    metadata: ObjectMeta {
                        name: Some(name.to_string()),
                        namespace: Some(namespace.to_string()),
                        labels: (!options.labels.is_empty()).then(|| options.labels.clone()),
                        ..ObjectMeta::default()
                    },
                    type_: Some(options.type_.clone().unwrap_or_else(|| "Opaque".into())),
                    data: Some(
                        wanted
                            .iter()
                            .map(|(k, v)| (k.clone(), ByteString(v.clone().into_bytes())))
                            .collect(),
                    ),
                    ..KubeSecret::default()
                };
                let change =
                    Change::new("create secret", &target).detail(format!("keys: {}", join(&keys)));
                let applied = run
                    .change(change, async {
                        let api = api(cluster, namespace);
                        let post = PostParams::default();
                        match idempotent(|| api.create(&post, &secret)).await {
                            Ok(_) => Ok(true),
                            Err(kube::Error::Api(s)) if s.code == 409 => Ok(false),
                            Err(e) => Err(api_failure(e, "create", &object, &cluster.server)),
                        }
                    })
                    .await?;
                match applied {
                    Applied::Done(false) => continue,
                    Applied::Done(true) | Applied::Planned => {
                        return Ok(json!({
                            "namespace": namespace,
                            "name": name,
                            "outcome": applied.outcome("created"),
                            "added": keys,
                            "kept": [],
                        }))
                    }
                }
            }
            Some(live) => {
                let present = key_names(&live);
                let (kept, missing): (Vec<&String>, Vec<&String>) =
                    wanted.keys().partition(|k| present.contains(k));
                if missing.is_empty() {
                    run.kept(
                        &format!("secret {target}"),
                        &format!("keys present, values kept: {}", join(&kept)),
                    );
                    return Ok(json!({
                        "namespace": namespace, "name": name, "outcome": "kept",
                        "added": [], "kept": kept,
                    }));
                }
                if live.immutable == Some(true) {
                    return Err(Failure::new(
                        ErrorKind::Conflict,
                        format!(
                            "Secret {target} is immutable and lacks keys {}",
                            join(&missing)
                        ),
                    )
                    .with_hint("an immutable secret cannot gain keys; create a new secret name"));
                }
                let data: serde_json::Map<String, Json> = missing
                    .iter()
                    .map(|k| {
                        let encoded = base64::engine::general_purpose::STANDARD.encode(&wanted[*k]);
                        ((*k).clone(), Json::String(encoded))
                    })
                    .collect();
                // The resourceVersion makes this fail (409) if the secret changed since
                // we read it, instead of racing another writer for the same key.
                let body = json!({
                    "metadata": {"resourceVersion": live.metadata.resource_version},
                    "data": data,
                });
                let detail = if kept.is_empty() {
                    format!("add keys: {}", join(&missing))
                } else {
                    format!("add keys: {}; keep: {}", join(&missing), join(&kept))
                };
                let change = Change::new("add secret keys", &target).detail(detail);
                let applied = run
                    .change(change, async {
                        let patched = api(cluster, namespace)
                            .patch(name, &PatchParams::default(), &Patch::Merge(&body))
                            .await;
                        match patched {
                            Ok(_) => Ok(true),
                            Err(kube::Error::Api(s)) if s.code == 409 => Ok(false),
                            Err(e) => Err(api_failure(e, "patch", &object, &cluster.server)),
                        }
                    })
                    .await?;
                match applied {
                    Applied::Done(false) => continue,
                    Applied::Done(true) | Applied::Planned => {
                        return Ok(json!({
                            "namespace": namespace,
                            "name": name,
                            "outcome": applied.outcome("updated"),
                            "added": missing,
                            "kept": kept,
                        }))
                    }
                }
            }
        }
    }
    Err(Failure::new(
        ErrorKind::Conflict,
        format!("Secret {target} kept changing while lfrun was adding keys"),
    )
    .with_hint("something else is writing this secret; stop it and run again"))
}

fn join(keys: &[&String]) -> String {
    keys.iter()
        .map(|k| k.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}
