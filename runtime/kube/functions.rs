//! The `kube::` module scripts call: each function with its parameter names and a
//! one-line doc (shown by `lfrun doc`), converting between Rhai values and the
//! domain files' JSON.
//!
//! Two conversions need care. Secret values: `ensure_secret` accepts strings or
//! `Secret`s and reveals them only into the request body; objects read back of
//! kind Secret carry their `data` as `Secret` values (decoded), and `apply` turns
//! such values back into base64. And waits (`rollout_status`, `restart_pods`,
//! `wait_pvc_capacity`) show a spinner and stop on Ctrl-C.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;

use base64::Engine;
use rhai::{Array, Dynamic, Map, Module, INT};
use serde_json::Value as Json;

use crate::context::RunContext;
use crate::error::{Failure, ScriptResult};
use crate::kube::connection::{Connector, KubeconfigSource};
use crate::kube::errors::{api_failure, Object};
use crate::kube::objects::{PatchType, Selector};
use crate::kube::pods::LogOptions;
use crate::kube::rollout::Workload;
use crate::kube::secrets::SecretOptions;
use crate::kube::{
    events, helm_releases, namespaces, objects, pods, restart, rollout, secrets, storage, Cluster,
};
use crate::register::Registrar;
use crate::secret::Secret;
use crate::value::{from_json, to_json, Reveal};

/// What every `kube::` function shares: the run and the run's one client.
struct Kube {
    run: Arc<RunContext>,
    connector: Connector,
}

impl Kube {
    /// Runs `f` against the cluster from the script thread.
    fn call<T, F, Fut>(&self, f: F) -> Result<T, Failure>
    where
        F: FnOnce(Arc<Cluster>) -> Fut,
        Fut: Future<Output = Result<T, Failure>>,
    {
        let cluster = self.connector.cluster()?;
        self.run.block_on(f(cluster))
    }

    /// Like [`call`](Self::call), with a spinner labelled `label` (for waits).
    fn wait<T, F, Fut>(&self, label: &str, f: F) -> Result<T, Failure>
    where
        F: FnOnce(Arc<Cluster>) -> Fut,
        Fut: Future<Output = Result<T, Failure>>,
    {
        let cluster = self.connector.cluster()?;
        self.run.wait(label, f(cluster))
    }
}

fn map_of(json: Json) -> Map {
    from_json(&json).try_cast::<Map>().unwrap_or_default()
}

fn array_of(items: Vec<Json>) -> Array {
    items.iter().map(from_json).collect()
}

fn strings(items: Vec<String>) -> Array {
    items.into_iter().map(Dynamic::from).collect()
}

/// An object for a script: Secret `data` values become `Secret`s.
fn object_value(mut object: Json) -> Map {
    let is_secret = object["kind"] == "Secret" && object["apiVersion"] == "v1";
    let data = if is_secret {
        object.as_object_mut().and_then(|o| o.remove("data"))
    } else {
        None
    };
    let mut map = map_of(object);
    if let Some(Json::Object(data)) = data {
        let values: Map = data
            .iter()
            .map(|(k, v)| {
                let decoded = v
                    .as_str()
                    .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
                    .and_then(|b| String::from_utf8(b).ok());
                let value = match decoded {
                    Some(text) => Dynamic::from(Secret::new(text)),
                    None => Dynamic::from(Secret::new(v.as_str().unwrap_or_default())),
                };
                (k.as_str().into(), value)
            })
            .collect();
        map.insert("data".into(), values.into());
    }
    map
}

/// A manifest to send: secrets revealed; a Secret's `data` values that are
/// `Secret`s are base64-encoded (plain strings there must already be base64).
fn manifest_json(manifest: &Map) -> Json {
    let mut json = to_json(&Dynamic::from_map(manifest.clone()), Reveal::Expose);
    let is_secret = manifest
        .get("kind")
        .is_some_and(|k| k.to_string() == "Secret");
    if let (true, Some(data)) = (
        is_secret,
        manifest.get("data").and_then(|d| d.read_lock::<Map>()),
    ) {
        for (key, value) in data.iter() {
            if let Some(secret) = value.read_lock::<Secret>() {
                let encoded = base64::engine::general_purpose::STANDARD.encode(secret.reveal());
                json["data"][key.as_str()] = Json::String(encoded);
            }
        }
    }
    json
}

fn selector_of(map: &Map, function: &str) -> Result<Selector, Failure> {
    let mut selector = Selector::default();
    for (key, value) in map {
        match key.as_str() {
            "labels" => selector.labels = value.to_string(),
            "fields" => selector.fields = value.to_string(),
            other => {
                return Err(Failure::invalid(format!(
                    "kube::{function}: unknown selector key `{other}` (use labels, fields)"
                )))
            }
        }
    }
    Ok(selector)
}

fn string_map(map: &Map, what: &str) -> Result<BTreeMap<String, String>, Failure> {
    map.iter()
        .map(|(k, v)| {
            if v.is_string() {
                Ok((k.to_string(), v.to_string()))
            } else {
                Err(Failure::invalid(format!(
                    "{what}: `{k}` must be a string, got {}",
                    v.type_name()
                )))
            }
        })
        .collect()
}

/// Secret data from a script: strings or `Secret`s, revealed for sending.
fn secret_data(map: &Map, target: &str) -> Result<BTreeMap<String, String>, Failure> {
    map.iter()
        .map(|(k, v)| {
            if let Some(s) = v.read_lock::<Secret>() {
                Ok((k.to_string(), s.reveal().to_string()))
            } else if v.is_string() {
                Ok((k.to_string(), v.to_string()))
            } else {
                Err(Failure::invalid(format!(
                    "kube::ensure_secret {target}: the value of `{k}` must be a string or a Secret, got {}",
                    v.type_name()
                )))
            }
        })
        .collect()
}

fn timeout_arg(value: INT, function: &str) -> Result<i64, Failure> {
    if value < 0 {
        return Err(Failure::invalid(format!(
            "kube::{function}: timeout_secs must be 0 or more, got {value}"
        )));
    }
    Ok(value)
}

pub fn module(run: &Arc<RunContext>) -> Module {
    let kube = Arc::new(Kube {
        run: run.clone(),
        connector: Connector::new(run.clone()),
    });
    let mut m = Registrar::new(
        "kube",
        "The Kubernetes cluster: namespaces, secrets, any object, rollouts, pods, volumes, helm release records.",
    );
    register_connection(&mut m, &kube);
    register_namespaces_and_secrets(&mut m, &kube);
    register_objects(&mut m, &kube);
    register_workloads(&mut m, &kube);
    register_storage(&mut m, &kube);
    register_helm(&mut m, &kube);
    m.build()
}

fn register_connection(m: &mut Registrar, kube: &Arc<Kube>) {
    let k = kube.clone();
    m.fun(
        "connect",
        "Uses the cluster in #{kubeconfig: text or Secret (e.g. from az::aks_credentials), kubeconfig_path, context} for the rest of the run; returns #{server, context}.",
        &["options"],
        move |options: Map| -> ScriptResult<Map> {
            let mut source = KubeconfigSource::Default;
            let mut context = None;
            for (key, value) in &options {
                match key.as_str() {
                    "kubeconfig" => {
                        source = match value.read_lock::<Secret>() {
                            Some(s) => KubeconfigSource::Text(s.clone()),
                            None if value.is_string() => KubeconfigSource::Text(Secret::new(value.to_string())),
                            None => return Err(Failure::invalid("kube::connect: `kubeconfig` must be kubeconfig text or a Secret").into()),
                        }
                    }
                    "kubeconfig_path" => source = KubeconfigSource::File(value.to_string().into()),
                    "context" => context = Some(value.to_string()).filter(|c| !c.is_empty()),
                    other => {
                        return Err(Failure::invalid(format!(
                            "kube::connect: unknown option `{other}` (use kubeconfig, kubeconfig_path, context)"
                        ))
                        .into())
                    }
                }
            }
            let cluster = k.connector.connect(source, context)?;
            Ok(map_of(serde_json::json!({"server": cluster.server, "context": cluster.context})))
        },
    );

    let k = kube.clone();
    m.fun(
        "version",
        "The API server's version and where it is: #{git_version, major, minor, platform, server, context}.",
        &[],
        move || -> ScriptResult<Map> {
            Ok(k.call(async |c| {
                let info = c
                    .client
                    .apiserver_version()
                    .await
                    .map_err(|e| api_failure(e, "read the version of", &Object::new("API server", "", &c.server), &c.server))?;
                Ok(map_of(serde_json::json!({
                    "git_version": info.git_version,
                    "major": info.major,
                    "minor": info.minor.trim_end_matches('+'),
                    "platform": info.platform,
                    "server": c.server,
                    "context": c.context,
                })))
            })?)
        },
    );
}

fn register_namespaces_and_secrets(m: &mut Registrar, kube: &Arc<Kube>) {
    let k = kube.clone();
    m.fun(
        "ensure_namespace",
        "Creates the namespace when missing; returns #{name, outcome} with outcome created, kept or planned.",
        &["name"],
        move |name: &str| -> ScriptResult<Map> {
            Ok(map_of(k.call(async |c| namespaces::ensure(&k.run, &c, name, BTreeMap::new()).await)?))
        },
    );
    let k = kube.clone();
    m.fun(
        "ensure_namespace",
        "Creates the namespace with these labels when missing (an existing one is left as it is).",
        &["name", "labels"],
        move |name: &str, labels: Map| -> ScriptResult<Map> {
            let labels = string_map(&labels, "kube::ensure_namespace labels")?;
            Ok(map_of(k.call(async |c| {
                namespaces::ensure(&k.run, &c, name, labels).await
            })?))
        },
    );
    let k = kube.clone();
    m.fun(
        "namespace",
        "A namespace: #{name, phase, labels, created}; fails with not_found.",
        &["name"],
        move |name: &str| -> ScriptResult<Map> {
            Ok(map_of(k.call(async |c| namespaces::get(&c, name).await)?))
        },
    );
    let k = kube.clone();
    m.fun(
        "namespace_exists",
        "True when the namespace exists.",
        &["name"],
        move |name: &str| -> ScriptResult<bool> {
            Ok(k.call(async |c| Ok(namespaces::get_opt(&c, name).await?.is_some()))?)
        },
    );

    let k = kube.clone();
    m.fun(
        "ensure_secret",
        "Creates the secret or adds the keys it lacks; never overwrites an existing key. Values: strings or Secrets. Returns #{outcome, added, kept}.",
        &["namespace", "name", "data"],
        move |namespace: &str, name: &str, data: Map| -> ScriptResult<Map> {
            let wanted = secret_data(&data, &format!("{namespace}/{name}"))?;
            let options = SecretOptions::default();
            Ok(map_of(k.call(async |c| secrets::ensure(&k.run, &c, namespace, name, &wanted, &options).await)?))
        },
    );
    let k = kube.clone();
    m.fun(
        "ensure_secret",
        "As ensure_secret(namespace, name, data), creating it with #{type, labels} when missing.",
        &["namespace", "name", "data", "options"],
        move |namespace: &str, name: &str, data: Map, options: Map| -> ScriptResult<Map> {
            let wanted = secret_data(&data, &format!("{namespace}/{name}"))?;
            let mut settings = SecretOptions::default();
            for (key, value) in &options {
                match key.as_str() {
                    "type" => settings.type_ = Some(value.to_string()),
                    "labels" => {
                        let labels = value
                            .read_lock::<Map>()
                            .map(|l| l.clone())
                            .unwrap_or_default();
                        settings.labels = string_map(&labels, "kube::ensure_secret labels")?;
                    }
                    other => {
                        return Err(Failure::invalid(format!(
                            "kube::ensure_secret: unknown option `{other}` (use type, labels)"
                        ))
                        .into())
                    }
                }
            }
            Ok(map_of(k.call(async |c| {
                secrets::ensure(&k.run, &c, namespace, name, &wanted, &settings).await
            })?))
        },
    );
    let k = kube.clone();
    m.fun(
        "secret_keys",
        "The key names of a secret, sorted (values are not read into the script).",
        &["namespace", "name"],
        move |namespace: &str, name: &str| -> ScriptResult<Array> {
            Ok(strings(k.call(async |c| {
                secrets::keys(&c, namespace, name).await
            })?))
        },
    );
    let k = kube.clone();
    m.fun(
        "secret_value",
        "One value of a secret, as a Secret (prints as ***).",
        &["namespace", "name", "key"],
        move |namespace: &str, name: &str, key: &str| -> ScriptResult<Secret> {
            Ok(k.call(async |c| secrets::value(&c, namespace, name, key).await)?)
        },
    );
    let k = kube.clone();
    m.fun(
        "secret_exists",
        "True when the secret exists.",
        &["namespace", "name"],
        move |namespace: &str, name: &str| -> ScriptResult<bool> {
            Ok(k.call(async |c| Ok(secrets::get_opt(&c, namespace, name).await?.is_some()))?)
        },
    );
}

fn register_objects(m: &mut Registrar, kube: &Arc<Kube>) {
    let k = kube.clone();
    m.fun(
        "get",
        "Any object by kind (Deployment, pvc, apps/v1/Deployment, certificates.cert-manager.io), namespace (\"\" if cluster-scoped) and name; fails with not_found.",
        &["kind", "namespace", "name"],
        move |kind: &str, namespace: &str, name: &str| -> ScriptResult<Map> {
            let object = k.call(async |c| {
                let kind = c.kinds.resolve(&c, kind).await?;
                objects::get(&c, &kind, namespace, name).await
            })?;
            Ok(object_value(object))
        },
    );
    let k = kube.clone();
    m.fun(
        "exists",
        "True when the object exists.",
        &["kind", "namespace", "name"],
        move |kind: &str, namespace: &str, name: &str| -> ScriptResult<bool> {
            Ok(k.call(async |c| {
                let kind = c.kinds.resolve(&c, kind).await?;
                Ok(objects::get_opt(&c, &kind, namespace, name)
                    .await?
                    .is_some())
            })?)
        },
    );
    let k = kube.clone();
    m.fun(
        "list",
        "Every object of a kind in a namespace (\"\" = all namespaces).",
        &["kind", "namespace"],
        move |kind: &str, namespace: &str| -> ScriptResult<Array> {
            let items = k.call(async |c| {
                let kind = c.kinds.resolve(&c, kind).await?;
                objects::list(&c, &kind, namespace, &Selector::default()).await
            })?;
            Ok(items
                .iter()
                .map(|o| Dynamic::from_map(object_value(objects::present(o))))
                .collect())
        },
    );
    let k = kube.clone();
    m.fun(
        "list",
        "Objects of a kind matching #{labels: \"app=web\", fields: \"status.phase=Running\"}.",
        &["kind", "namespace", "selector"],
        move |kind: &str, namespace: &str, selector: Map| -> ScriptResult<Array> {
            let selector = selector_of(&selector, "list")?;
            let items = k.call(async |c| {
                let kind = c.kinds.resolve(&c, kind).await?;
                objects::list(&c, &kind, namespace, &selector).await
            })?;
            Ok(items
                .iter()
                .map(|o| Dynamic::from_map(object_value(objects::present(o))))
                .collect())
        },
    );
    let k = kube.clone();
    m.fun(
        "apply",
        "Server-side apply (field manager lfrun) of a manifest map; nothing is sent when it already matches. Returns #{kind, namespace, name, outcome: created|configured|kept|planned, changes}.",
        &["manifest"],
        move |manifest: Map| -> ScriptResult<Map> {
            let json = manifest_json(&manifest);
            let outcome = k.call(async |c| objects::apply(&k.run, &c, json, false).await)?;
            Ok(map_of(outcome.to_json()))
        },
    );
    let k = kube.clone();
    m.fun(
        "apply",
        "As apply(manifest), with #{force: true} to take over fields another manager owns.",
        &["manifest", "options"],
        move |manifest: Map, options: Map| -> ScriptResult<Map> {
            let mut force = false;
            for (key, value) in &options {
                match key.as_str() {
                    "force" => force = value.as_bool().unwrap_or(false),
                    other => {
                        return Err(Failure::invalid(format!(
                            "kube::apply: unknown option `{other}` (use force)"
                        ))
                        .into())
                    }
                }
            }
            let json = manifest_json(&manifest);
            let outcome = k.call(async |c| objects::apply(&k.run, &c, json, force).await)?;
            Ok(map_of(outcome.to_json()))
        },
    );
    let k = kube.clone();
    m.fun(
        "patch",
        "Patches an object; type is \"merge\", \"strategic\" or \"json\" (an array of operations). Returns #{outcome: patched|unchanged|planned, object}.",
        &["kind", "namespace", "name", "patch", "type"],
        move |kind: &str, namespace: &str, name: &str, patch: Dynamic, patch_type: &str| -> ScriptResult<Map> {
            let patch_type = PatchType::parse(patch_type)?;
            let document = to_json(&patch, Reveal::Expose);
            let shown = to_json(&patch, Reveal::Mask).to_string();
            let outcome = k.call(async |c| {
                let kind = c.kinds.resolve(&c, kind).await?;
                objects::patch(&k.run, &c, &kind, namespace, name, document, patch_type, &shown).await
            })?;
            let mut map = Map::new();
            map.insert("outcome".into(), outcome.outcome.into());
            map.insert("object".into(), object_value(outcome.object).into());
            Ok(map)
        },
    );
    let k = kube.clone();
    m.fun(
        "delete",
        "Deletes an object (destructive: asks unless --yes); returns deleted, absent or planned.",
        &["kind", "namespace", "name"],
        move |kind: &str, namespace: &str, name: &str| -> ScriptResult<String> {
            Ok(k.call(async |c| {
                let kind = c.kinds.resolve(&c, kind).await?;
                objects::delete(&k.run, &c, &kind, namespace, name).await
            })?)
        },
    );
    let k = kube.clone();
    m.fun(
        "delete",
        "Deletes every object matching #{labels, fields} (destructive); returns #{outcome, deleted: [names]}.",
        &["kind", "namespace", "selector"],
        move |kind: &str, namespace: &str, selector: Map| -> ScriptResult<Map> {
            let selector = selector_of(&selector, "delete")?;
            Ok(map_of(k.call(async |c| {
                let kind = c.kinds.resolve(&c, kind).await?;
                objects::delete_selected(&k.run, &c, &kind, namespace, &selector).await
            })?))
        },
    );
}

fn register_workloads(m: &mut Registrar, kube: &Arc<Kube>) {
    let k = kube.clone();
    m.fun(
        "rollout_status",
        "Waits (watching) until a Deployment/StatefulSet/DaemonSet has rolled out, by kubectl's rules; fails with timeout naming the pods' reasons. 0 s: report now. Returns #{ready, replicas, updated, ready_replicas, available, message}.",
        &["namespace", "kind", "name", "timeout_secs"],
        move |namespace: &str, kind: &str, name: &str, timeout_secs: INT| -> ScriptResult<Map> {
            let workload = Workload::parse(kind)?;
            let timeout = timeout_arg(timeout_secs, "rollout_status")?;
            let label = format!("waiting for {} {namespace}/{name} to roll out", workload.name());
            Ok(map_of(k.wait(&label, async |c| rollout::status(&c, namespace, workload, name, timeout).await)?))
        },
    );
    let k = kube.clone();
    m.fun(
        "pods",
        "Pods matching a label selector (\"\" = all): #{name, phase, ready, restarts, node, containers: [#{name, ready, restarts, waiting_reason, terminated_reason, last_terminated_reason, image}]}.",
        &["namespace", "selector"],
        move |namespace: &str, selector: &str| -> ScriptResult<Array> {
            let list = k.call(async |c| pods::list(&c, namespace, &Selector::labels(selector)).await)?;
            Ok(array_of(list.iter().map(pods::summary).collect()))
        },
    );
    let k = kube.clone();
    m.fun(
        "pod_problems",
        "Why pods matching the selector are not Ready, one sentence each (empty when all are Ready).",
        &["namespace", "selector"],
        move |namespace: &str, selector: &str| -> ScriptResult<Array> {
            let list = k.call(async |c| pods::list(&c, namespace, &Selector::labels(selector)).await)?;
            Ok(strings(pods::problems(&list)))
        },
    );
    let k = kube.clone();
    m.fun(
        "logs",
        "The last `tail_lines` lines of a pod's (only or first) container log.",
        &["namespace", "pod", "tail_lines"],
        move |namespace: &str, pod: &str, tail_lines: INT| -> ScriptResult<String> {
            let options = LogOptions {
                tail_lines: (tail_lines > 0).then_some(tail_lines),
                ..LogOptions::default()
            };
            Ok(k.call(async |c| pods::logs(&c, namespace, pod, &options).await)?)
        },
    );
    let k = kube.clone();
    m.fun(
        "logs",
        "A container log with #{container, tail, previous: true for the crashed instance, since_secs}.",
        &["namespace", "pod", "options"],
        move |namespace: &str, pod: &str, options: Map| -> ScriptResult<String> {
            let mut settings = LogOptions::default();
            for (key, value) in &options {
                match key.as_str() {
                    "container" => settings.container = Some(value.to_string()),
                    "tail" => settings.tail_lines = value.as_int().ok(),
                    "previous" => settings.previous = value.as_bool().unwrap_or(false),
                    "since_secs" => settings.since_seconds = value.as_int().ok(),
                    other => {
                        return Err(Failure::invalid(format!(
                            "kube::logs: unknown option `{other}` (use container, tail, previous, since_secs)"
                        ))
                        .into())
                    }
                }
            }
            Ok(k.call(async |c| pods::logs(&c, namespace, pod, &settings).await)?)
        },
    );
    let k = kube.clone();
    m.fun(
        "events",
        "Events about one object, oldest first: #{type, reason, message, count, first_seen, last_seen, object, source}.",
        &["namespace", "kind", "name"],
        move |namespace: &str, kind: &str, name: &str| -> ScriptResult<Array> {
            Ok(array_of(k.call(async |c| {
                let resolved = c.kinds.resolve(&c, kind).await?;
                events::list(&c, namespace, resolved.name(), name).await
            })?))
        },
    );
    let k = kube.clone();
    m.fun(
        "events",
        "Every event in a namespace, oldest first.",
        &["namespace"],
        move |namespace: &str| -> ScriptResult<Array> {
            Ok(array_of(k.call(async |c| {
                events::list(&c, namespace, "", "").await
            })?))
        },
    );
    let k = kube.clone();
    m.fun(
        "restart_pods",
        "Deletes the pods matching a label selector (destructive) and waits until as many replacements are Ready; returns #{outcome, deleted, replacements}.",
        &["namespace", "selector", "timeout_secs"],
        move |namespace: &str, selector: &str, timeout_secs: INT| -> ScriptResult<Map> {
            let timeout = timeout_arg(timeout_secs, "restart_pods")?;
            let label = format!("restarting pods {selector} in {namespace}");
            Ok(map_of(k.wait(&label, async |c| restart::restart_pods(&k.run, &c, namespace, selector, timeout).await)?))
        },
    );
}

fn register_storage(m: &mut Registrar, kube: &Arc<Kube>) {
    let k = kube.clone();
    m.fun(
        "pvcs",
        "PVCs in a namespace: #{name, phase, storage_class, requested, capacity, requested_bytes, capacity_bytes, resizing, resize_status, conditions}.",
        &["namespace"],
        move |namespace: &str| -> ScriptResult<Array> {
            Ok(array_of(k.call(async |c| storage::pvcs(&c, namespace, &Selector::default()).await)?))
        },
    );
    let k = kube.clone();
    m.fun(
        "pvcs",
        "PVCs matching a label selector.",
        &["namespace", "selector"],
        move |namespace: &str, selector: &str| -> ScriptResult<Array> {
            Ok(array_of(k.call(async |c| {
                storage::pvcs(&c, namespace, &Selector::labels(selector)).await
            })?))
        },
    );
    let k = kube.clone();
    m.fun(
        "pvc",
        "One PVC (as in kube::pvcs); fails with not_found.",
        &["namespace", "name"],
        move |namespace: &str, name: &str| -> ScriptResult<Map> {
            Ok(map_of(
                k.call(async |c| storage::pvc(&c, namespace, name).await)?,
            ))
        },
    );
    let k = kube.clone();
    m.fun(
        "storage_classes",
        "Storage classes: #{name, provisioner, allow_volume_expansion, is_default, reclaim_policy, volume_binding_mode}.",
        &[],
        move || -> ScriptResult<Array> { Ok(array_of(k.call(async |c| storage::storage_classes(&c).await)?)) },
    );
    let k = kube.clone();
    m.fun(
        "storage_class",
        "One storage class; \"\" means the cluster's default class.",
        &["name"],
        move |name: &str| -> ScriptResult<Map> {
            Ok(map_of(
                k.call(async |c| storage::storage_class(&c, name).await)?,
            ))
        },
    );
    let k = kube.clone();
    m.fun(
        "resize_pvc",
        "Grows a PVC to `size` (destructive); refuses a shrink (invalid) or a class without expansion (forbidden) before changing anything. Returns #{outcome: resized|kept|planned, from, to, storage_class}.",
        &["namespace", "name", "size"],
        move |namespace: &str, name: &str, size: &str| -> ScriptResult<Map> {
            Ok(map_of(k.call(async |c| storage::resize(&k.run, &c, namespace, name, size).await)?))
        },
    );
    let k = kube.clone();
    m.fun(
        "wait_pvc_capacity",
        "Waits until a PVC's capacity reaches `size` (after a resize and pod restart); returns the PVC with ready: true.",
        &["namespace", "name", "size", "timeout_secs"],
        move |namespace: &str, name: &str, size: &str, timeout_secs: INT| -> ScriptResult<Map> {
            let timeout = timeout_arg(timeout_secs, "wait_pvc_capacity")?;
            let label = format!("waiting for PVC {namespace}/{name} to reach {size}");
            Ok(map_of(k.wait(&label, async |c| {
                storage::wait_capacity(&k.run, &c, namespace, name, size, timeout).await
            })?))
        },
    );
    let k = kube.clone();
    m.fun(
        "volume_claim_templates",
        "A StatefulSet's volumeClaimTemplates: #{name, storage_class, size, access_modes, claims: [PVC names]}.",
        &["namespace", "statefulset"],
        move |namespace: &str, statefulset: &str| -> ScriptResult<Array> {
            Ok(array_of(k.call(async |c| storage::claim_templates(&c, namespace, statefulset).await)?))
        },
    );
    let k = kube.clone();
    m.fun(
        "volume_usage",
        "How full each mounted PVC in the namespace is (kubelet stats): #{pvc, pod, node, used_bytes, capacity_bytes, available_bytes, used_percent, used, capacity}.",
        &["namespace"],
        move |namespace: &str| -> ScriptResult<Array> {
            Ok(array_of(k.call(async |c| storage::volume_usage(&c, namespace).await)?))
        },
    );
}

fn register_helm(m: &mut Registrar, kube: &Arc<Kube>) {
    let k = kube.clone();
    m.fun(
        "helm_history",
        "A release's revisions from helm's release secrets, oldest first (empty when not installed): #{revision, status, pending, chart, chart_version, app_version, updated, description}.",
        &["namespace", "release"],
        move |namespace: &str, release: &str| -> ScriptResult<Array> {
            Ok(array_of(k.call(async |c| helm_releases::history(&c, namespace, release).await)?))
        },
    );
    let k = kube.clone();
    m.fun(
        "helm_release",
        "A release's latest revision (as in helm_history) with its user-supplied `values`; fails with not_found.",
        &["namespace", "release"],
        move |namespace: &str, release: &str| -> ScriptResult<Map> {
            Ok(map_of(k.call(async |c| helm_releases::latest(&c, namespace, release).await)?))
        },
    );
    let k = kube.clone();
    m.fun(
        "helm_releases",
        "The latest revision of every helm release in a namespace.",
        &["namespace"],
        move |namespace: &str| -> ScriptResult<Array> {
            Ok(array_of(k.call(async |c| {
                helm_releases::releases(&c, namespace).await
            })?))
        },
    );
}
