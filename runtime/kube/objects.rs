//! Any kind: get, list, server-side apply, patch, delete.
//!
//! These are the escape hatch for everything the specialised files do not cover
//! (a ConfigMap, an Ingress, a cert-manager Certificate). Objects travel as JSON;
//! built-in kinds are resolved without discovery and their manifests are checked
//! against k8s-openapi's types before anything is sent.
//!
//! `apply` reads the live object first. When every field the manifest sets already
//! has that value, nothing is sent and the object is reported kept — so a second
//! run of a playbook makes no writes. Otherwise it is one server-side apply with
//! field manager `lfrun`, planned in a dry run with the fields that would change.

use kube::api::{Api, DeleteParams, DynamicObject, ListParams, Patch, PatchParams};
use serde_json::{json, Value as Json};

use crate::context::RunContext;
use crate::error::Failure;
use crate::kube::errors::{api_failure, Object};
use crate::kube::kinds::Kind;
use crate::kube::Cluster;
use crate::plan::{Applied, Change};

/// The field manager lfrun's server-side applies are recorded under.
pub const FIELD_MANAGER: &str = "lfrun";

/// Label and field selectors for lists and deletes.
#[derive(Debug, Clone, Default)]
pub struct Selector {
    pub labels: String,
    pub fields: String,
}

impl Selector {
    pub fn labels(labels: &str) -> Selector {
        Selector {
            labels: labels.to_string(),
            fields: String::new(),
        }
    }

    pub fn list_params(&self) -> ListParams {
        let mut lp = ListParams::default();
        if !self.labels.is_empty() {
            lp = lp.labels(&self.labels);
        }
        if !self.fields.is_empty() {
            lp = lp.fields(&self.fields);
        }
        lp
    }

    /// `app=web`, `app=web, status.phase=Running`, or `all`.
    pub fn describe(&self) -> String {
        match (self.labels.is_empty(), self.fields.is_empty()) {
            (true, true) => "all".into(),
            (false, true) => self.labels.clone(),
            (true, false) => self.fields.clone(),
            (false, false) => format!("{}, {}", self.labels, self.fields),
        }
    }
}

/// How a patch document is to be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchType {
    Merge,
    Strategic,
    Json,
}

impl PatchType {
    pub fn parse(text: &str) -> Result<PatchType, Failure> {
        match text {
            "merge" => Ok(PatchType::Merge),
            "strategic" => Ok(PatchType::Strategic),
            "json" => Ok(PatchType::Json),
            other => Err(Failure::invalid(format!(
                "unknown patch type `{other}`: use \"merge\", \"strategic\" or \"json\""
            ))),
        }
    }

    fn name(self) -> &'static str {
        match self {
            PatchType::Merge => "merge",
            PatchType::Strategic => "strategic merge",
            PatchType::Json => "JSON",
        }
    }
}

/// The API for `kind` in `namespace` ("" = all namespaces, or cluster-scoped).
pub fn api(cluster: &Cluster, kind: &Kind, namespace: &str) -> Api<DynamicObject> {
    if kind.namespaced && !namespace.is_empty() {
        Api::namespaced_with(cluster.client.clone(), namespace, &kind.resource)
    } else {
        Api::all_with(cluster.client.clone(), &kind.resource)
    }
}

/// Namespace as used for one object: required for namespaced kinds, ignored otherwise.
fn object_namespace<'a>(kind: &Kind, namespace: &'a str, name: &str) -> Result<&'a str, Failure> {
    if !kind.namespaced {
        return Ok("");
    }
    if namespace.is_empty() {
        return Err(Failure::invalid(format!(
            "{} {name}: a {} lives in a namespace; give one",
            kind.name(),
            kind.name()
        )));
    }
    Ok(namespace)
}

/// An object as scripts see it: everything but `metadata.managedFields`.
pub fn present(object: &DynamicObject) -> Json {
    let mut value = serde_json::to_value(object).unwrap_or(Json::Null);
    if let Some(meta) = value.get_mut("metadata").and_then(Json::as_object_mut) {
        meta.remove("managedFields");
    }
    value
}

pub async fn get_opt(
    cluster: &Cluster,
    kind: &Kind,
    namespace: &str,
    name: &str,
) -> Result<Option<DynamicObject>, Failure> {
    let namespace = object_namespace(kind, namespace, name)?;
    api(cluster, kind, namespace)
        .get_opt(name)
        .await
        .map_err(|e| {
            api_failure(
                e,
                "get",
                &Object::new(kind.name(), namespace, name),
                &cluster.server,
            )
        })
}

pub async fn get(
    cluster: &Cluster,
    kind: &Kind,
    namespace: &str,
    name: &str,
) -> Result<Json, Failure> {
    match get_opt(cluster, kind, namespace, name).await? {
        Some(object) => Ok(present(&object)),
        None => Err(Failure::not_found(format!(
            "{} not found",
            Object::new(kind.name(), object_namespace(kind, namespace, name)?, name)
        ))
        .with_hint("check the name and the namespace")
        .with_detail("code", 404 as rhai::INT)),
    }
}

pub async fn list(
    cluster: &Cluster,
    kind: &Kind,
    namespace: &str,
    selector: &Selector,
) -> Result<Vec<DynamicObject>, Failure> {
    let namespace = if kind.namespaced { namespace } else { "" };
    let list = api(cluster, kind, namespace)
        .list(&selector.list_params())
        .await
        .map_err(|e| {
            api_failure(
                e,
                "list",
                &Object::new(kind.name(), namespace, ""),
                &cluster.server,
            )
        })?;
    Ok(list.items)
}

/// What `apply` did.
pub struct ApplyOutcome {
    /// `created`, `configured`, `kept` or `planned`.
    pub outcome: String,
    /// The fields that differed (empty when created or kept).
    pub changes: Vec<String>,
    pub kind: String,
    pub namespace: String,
    pub name: String,
}

impl ApplyOutcome {
    pub fn to_json(&self) -> Json {
        json!({
            "kind": self.kind,
            "namespace": self.namespace,
            "name": self.name,
            "outcome": self.outcome,
            "changes": self.changes,
        })
    }
}

/// Server-side apply of `manifest` (secret values already in it, base64 where due).
pub async fn apply(
    run: &RunContext,
    cluster: &Cluster,
    mut manifest: Json,
    force: bool,
) -> Result<ApplyOutcome, Failure> {
    let text = |key: &str| -> String {
        manifest
            .pointer(key)
            .and_then(Json::as_str)
            .unwrap_or("")
            .to_string()
    };
    let (api_version, kind_name, name) =
        (text("/apiVersion"), text("/kind"), text("/metadata/name"));
    let mut missing = Vec::new();
    for (field, value) in [
        ("apiVersion", &api_version),
        ("kind", &kind_name),
        ("metadata.name", &name),
    ] {
        if value.is_empty() {
            missing.push(field);
        }
    }
    if !missing.is_empty() {
        let what = if name.is_empty() {
            kind_name.clone()
        } else {
            format!("{kind_name} {name}")
        };
        return Err(Failure::invalid(format!(
            "manifest {}: missing {}",
            if what.is_empty() {
                "(unnamed)".to_string()
            } else {
                what
            },
            missing.join(", ")
        ))
        .with_hint("a manifest needs apiVersion, kind and metadata.name"));
    }
    let kind = cluster
        .kinds
        .for_manifest(cluster, &api_version, &kind_name)
        .await?;
    let namespace = text("/metadata/namespace");
    let namespace = if kind.namespaced {
        if namespace.is_empty() {
            return Err(Failure::invalid(format!(
                "manifest {kind_name} {name}: metadata.namespace is missing (a {kind_name} lives in a namespace)"
            )));
        }
        namespace
    } else {
        if let Some(meta) = manifest.get_mut("metadata").and_then(Json::as_object_mut) {
            meta.remove("namespace");
        }
        String::new()
    };
    let object = Object::new(kind.name(), &namespace, &name);
    kind.check(&manifest).map_err(|e| {
        Failure::invalid(format!("manifest {object}: {e}"))
            .with_hint("fix that field; nothing was sent")
    })?;

    let live = get_opt(cluster, &kind, &namespace, &name).await?;
    let hide_values = kind.is("", "Secret");
    let changes = match &live {
        None => Vec::new(),
        Some(live) => {
            let mut found = Vec::new();
            let wanted = if hide_values {
                string_data_as_data(&manifest)
            } else {
                manifest.clone()
            };
            differences(&wanted, &present(live), "", hide_values, &mut found);
            if found.is_empty() {
                run.kept(&object.to_string(), "as in the manifest");
                return Ok(ApplyOutcome {
                    outcome: "kept".into(),
                    changes: Vec::new(),
                    kind: kind.name().to_string(),
                    namespace,
                    name,
                });
            }
            found
        }
    };
    let target = if namespace.is_empty() {
        name.clone()
    } else {
        format!("{namespace}/{name}")
    };
    let change = match &live {
        None => Change::new(format!("create {}", kind.name()), target)
            .detail("server-side apply (new object)"),
        Some(_) => {
            Change::new(format!("update {}", kind.name()), target).detail(summarise(&changes))
        }
    };
    let api = api(cluster, &kind, &namespace);
    let mut params = PatchParams::apply(FIELD_MANAGER).validation_strict();
    if force {
        params = params.force();
    }
    let applied = run
        .change(change, async {
            api.patch(&name, &params, &Patch::Apply(&manifest))
                .await
                .map_err(|e| api_failure(e, "apply", &object, &cluster.server))
        })
        .await?;
    Ok(ApplyOutcome {
        outcome: match (&applied, &live) {
            (Applied::Planned, _) => "planned".into(),
            (Applied::Done(_), None) => "created".into(),
            (Applied::Done(_), Some(_)) => "configured".into(),
        },
        changes,
        kind: kind.name().to_string(),
        namespace,
        name,
    })
}

/// Fields `wanted` sets that `live` does not have with the same value (`a.b[0].c`),
/// with `old → new` for scalars unless `hide_values`.
fn differences(wanted: &Json, live: &Json, path: &str, hide_values: bool, out: &mut Vec<String>) {
    const IGNORED: [&str; 7] = [
        "status",
        "metadata.resourceVersion",
        "metadata.uid",
        "metadata.generation",
        "metadata.creationTimestamp",
        "metadata.managedFields",
        "metadata.selfLink",
    ];
    if IGNORED.contains(&path) {
        return;
    }
    match (wanted, live) {
        (Json::Object(w), Json::Object(l)) => {
            for (key, value) in w {
                let sub = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                differences(
                    value,
                    l.get(key).unwrap_or(&Json::Null),
                    &sub,
                    hide_values,
                    out,
                );
            }
        }
        (Json::Array(w), Json::Array(l)) if w.len() == l.len() => {
            for (i, (wv, lv)) in w.iter().zip(l).enumerate() {
                differences(wv, lv, &format!("{path}[{i}]"), hide_values, out);
            }
        }
        (Json::Null, Json::Null) => {}
        (w, l) if same_scalar(w, l) => {}
        (w, l) => {
            let scalar = |v: &Json| !v.is_object() && !v.is_array();
            if hide_values || !scalar(w) || !scalar(l) {
                out.push(path.to_string());
            } else {
                out.push(format!("{path}: {} → {}", short(l), short(w)));
            }
        }
    }
}

/// A Secret manifest with `stringData` folded into `data` (base64), as the server
/// stores it, so an unchanged secret compares equal.
fn string_data_as_data(manifest: &Json) -> Json {
    use base64::Engine;
    let mut out = manifest.clone();
    let Some(string_data) = out.as_object_mut().and_then(|m| m.remove("stringData")) else {
        return out;
    };
    let Some(entries) = string_data.as_object() else {
        return out;
    };
    let encoded: serde_json::Map<String, Json> = entries
        .iter()
        .map(|(k, v)| {
            let text = v
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| v.to_string());
            (
                k.clone(),
                Json::String(base64::engine::general_purpose::STANDARD.encode(text)),
            )
        })
        .collect();
    if let Some(map) = out.as_object_mut() {
        let data = map.entry("data").or_insert_with(|| json!({}));
        if let Some(data) = data.as_object_mut() {
            data.extend(encoded);
        }
    }
    out
}

fn same_scalar(a: &Json, b: &Json) -> bool {
    match (a, b) {
        (Json::Number(x), Json::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

fn short(v: &Json) -> String {
    let text = match v {
        Json::Null => "(unset)".to_string(),
        Json::String(s) => s.clone(),
        other => other.to_string(),
    };
    if text.chars().count() > 60 {
        format!("{}…", text.chars().take(57).collect::<String>())
    } else {
        text
    }
}

fn summarise(changes: &[String]) -> String {
    const SHOWN: usize = 12;
    let mut text = changes
        .iter()
        .take(SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join("\n");
    if changes.len() > SHOWN {
        text.push_str(&format!("\n… and {} more", changes.len() - SHOWN));
    }
    text
}

/// What `patch` did.
pub struct PatchOutcome {
    /// `patched`, `unchanged` or `planned`.
    pub outcome: String,
    pub object: Json,
}

/// Patches one object. `shown` is the patch as it may be printed (secrets masked).
/// PVC patches count as destructive (a resize cannot be undone).
#[allow(clippy::too_many_arguments)]
pub async fn patch(
    run: &RunContext,
    cluster: &Cluster,
    kind: &Kind,
    namespace: &str,
    name: &str,
    patch: Json,
    patch_type: PatchType,
    shown: &str,
) -> Result<PatchOutcome, Failure> {
    let namespace = object_namespace(kind, namespace, name)?;
    let object = Object::new(kind.name(), namespace, name);
    let document = match patch_type {
        PatchType::Merge => Patch::Merge(patch),
        PatchType::Strategic => Patch::Strategic(patch),
        PatchType::Json => {
            let ops: json_patch::Patch = serde_json::from_value(patch).map_err(|e| {
                Failure::invalid(format!("JSON patch for {object}: {e}")).with_hint(
                    "a JSON patch is an array of operations like #{op: \"replace\", path: \"/spec/replicas\", value: 3}",
                )
            })?;
            Patch::Json(ops)
        }
    };
    let live = get_opt(cluster, kind, namespace, name)
        .await?
        .ok_or_else(|| {
            Failure::not_found(format!("{object} not found"))
                .with_hint("check the name and the namespace; patch only changes existing objects")
        })?;
    let target = if namespace.is_empty() {
        name.to_string()
    } else {
        format!("{namespace}/{name}")
    };
    let mut change = Change::new(format!("patch {}", kind.name()), target)
        .detail(format!("{} patch: {shown}", patch_type.name()));
    if kind.is("", "PersistentVolumeClaim") {
        change = change.destructive();
    }
    let api = api(cluster, kind, namespace);
    let applied = run
        .change(change, async {
            api.patch(name, &PatchParams::default(), &document)
                .await
                .map_err(|e| api_failure(e, "patch", &object, &cluster.server))
        })
        .await?;
    Ok(match applied {
        Applied::Planned => PatchOutcome {
            outcome: "planned".into(),
            object: present(&live),
        },
        Applied::Done(after) => PatchOutcome {
            outcome: if after.metadata.resource_version == live.metadata.resource_version {
                "unchanged".into()
            } else {
                "patched".into()
            },
            object: present(&after),
        },
    })
}

/// Deletes one object: `deleted`, `absent` or `planned`. Destructive.
pub async fn delete(
    run: &RunContext,
    cluster: &Cluster,
    kind: &Kind,
    namespace: &str,
    name: &str,
) -> Result<String, Failure> {
    let namespace = object_namespace(kind, namespace, name)?;
    if get_opt(cluster, kind, namespace, name).await?.is_none() {
        return Ok("absent".into());
    }
    let object = Object::new(kind.name(), namespace, name);
    let target = if namespace.is_empty() {
        name.to_string()
    } else {
        format!("{namespace}/{name}")
    };
    let change = Change::new(format!("delete {}", kind.name()), target).destructive();
    let api = api(cluster, kind, namespace);
    let applied = run
        .change(change, async {
            match api.delete(name, &DeleteParams::background()).await {
                Ok(_) => Ok("deleted"),
                Err(kube::Error::Api(s)) if s.code == 404 => Ok("absent"),
                Err(e) => Err(api_failure(e, "delete", &object, &cluster.server)),
            }
        })
        .await?;
    Ok(match applied {
        Applied::Planned => "planned".into(),
        Applied::Done(word) => word.into(),
    })
}

/// Deletes every object the selector matches, as one confirmed change.
pub async fn delete_selected(
    run: &RunContext,
    cluster: &Cluster,
    kind: &Kind,
    namespace: &str,
    selector: &Selector,
) -> Result<Json, Failure> {
    if selector.labels.is_empty() && selector.fields.is_empty() {
        return Err(Failure::invalid(format!(
            "refusing to delete every {} without a selector",
            kind.name()
        ))
        .with_hint("give #{labels: \"app=…\"} or #{fields: \"…\"}"));
    }
    let items = list(cluster, kind, namespace, selector).await?;
    let names: Vec<String> = items
        .iter()
        .filter_map(|o| o.metadata.name.clone())
        .collect();
    if names.is_empty() {
        return Ok(json!({"outcome": "none", "deleted": []}));
    }
    let scope = if kind.namespaced { namespace } else { "" };
    let target = if scope.is_empty() {
        format!("{} ({})", kind.name(), selector.describe())
    } else {
        format!("{scope} ({})", selector.describe())
    };
    let change = Change::new(format!("delete {} {}(s)", names.len(), kind.name()), target)
        .detail(names.join(", "))
        .destructive();
    let api = api(cluster, kind, scope);
    let applied = run
        .change(change, async {
            for name in &names {
                match api.delete(name, &DeleteParams::background()).await {
                    Ok(_) => {}
                    Err(kube::Error::Api(s)) if s.code == 404 => {}
                    Err(e) => {
                        return Err(api_failure(
                            e,
                            "delete",
                            &Object::new(kind.name(), scope, name),
                            &cluster.server,
                        ))
                    }
                }
            }
            Ok(())
        })
        .await?;
    Ok(json!({
        "outcome": applied.outcome("deleted"),
        "deleted": names,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn differences_ignore_fields_the_manifest_does_not_set() {
        let wanted = json!({"spec": {"replicas": 2, "template": {"containers": [{"name": "web", "image": "a:1"}]}}});
        let live = json!({"spec": {"replicas": 2, "paused": false,
            "template": {"containers": [{"name": "web", "image": "a:1", "imagePullPolicy": "Always"}]}},
            "status": {"replicas": 1}});
        let mut out = Vec::new();
        differences(&wanted, &live, "", false, &mut out);
        assert!(out.is_empty(), "{out:?}");

        let wanted = json!({"spec": {"replicas": 3, "template": {"containers": [{"name": "web", "image": "a:2"}]}}});
        differences(&wanted, &live, "", false, &mut out);
        assert_eq!(
            out,
            [
                "spec.replicas: 2 → 3",
                "spec.template.containers[0].image: a:1 → a:2"
            ]
        );
    }

    #[test]
    fn secret_values_never_appear_in_differences() {
        let mut out = Vec::new();
        differences(
            &json!({"data": {"k": "bmV3"}}),
            &json!({"data": {"k": "b2xk"}}),
            "",
            true,
            &mut out,
        );
        assert_eq!(out, ["data.k"]);
    }
}
