//! The REST verbs on resources — get, list, create, update, patch, apply, delete — as
//! operations on the world. HTTP concerns (paths, headers, streaming) live in
//! `server.rs`; this file holds the API semantics.
//!
//! Every write goes through [`finish_write`], which does what kube-apiserver's generic
//! registry does, in its order: status-subresource rules, defaulting, validation,
//! admission, field ownership, finalization, and finally storage — or nothing at all for
//! `dryRun=All`.

use crate::kube::apply::{server_side_apply, ApplyError};
use crate::kube::defaults::apply_defaults;
use crate::kube::events_view::{core_to_events_v1, events_v1_to_core};
use crate::kube::managed_fields::record_update;
use crate::kube::merge_patch::merge_patch;
use crate::kube::resources::ResourceType;
use crate::kube::selector::{selector_object_to_string, FieldSelector, LabelSelector};
use crate::kube::status::{success_status, ApiError, Cause};
use crate::kube::strategic_merge::strategic_merge;
use crate::kube::validation::{admit_update, validate};
use crate::store::{ensure_object, name_of, namespace_of};
use crate::world::World;
use base64::Engine;
use serde_json::{json, Value};

/// Query parameters and headers that shape a write.
#[derive(Debug, Clone, Default)]
pub struct WriteOptions {
    pub dry_run: bool,
    /// `fieldManager`, or derived from the User-Agent.
    pub field_manager: String,
    pub force: bool,
}

/// Which part of the object a request addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Main,
    Status,
}

/// The manager name the real server derives from a User-Agent (`kubectl/v1.33 …` → `kubectl`).
pub fn manager_from_user_agent(user_agent: &str) -> String {
    let prefix = user_agent.split('/').next().unwrap_or("").trim();
    if prefix.is_empty() {
        "unknown".into()
    } else {
        prefix.chars().take(128).collect()
    }
}

/// Parses a request body: JSON, or YAML for apply patches and YAML content types.
pub fn parse_body(body: &[u8], yaml: bool) -> Result<Value, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request("the request body is empty"));
    }
    let parsed: Result<Value, String> = if yaml {
        serde_yaml::from_slice::<Value>(body).map_err(|e| e.to_string())
    } else {
        serde_json::from_slice::<Value>(body).map_err(|e| e.to_string())
    };
    parsed.map_err(|e| {
        ApiError::bad_request(format!(
            "error decoding {}: {e}",
            if yaml { "YAML" } else { "JSON" }
        ))
    })
}

fn strip_for_list(rt: &ResourceType, mut object: Value) -> Value {
    if rt.is_events_view() {
        object = core_to_events_v1(&object);
    }
    object
}

/// The object as served: events.k8s.io view converted.
pub fn present(rt: &ResourceType, object: &Value) -> Value {
    strip_for_list(rt, object.clone())
}

pub fn get(
    world: &World,
    rt: &ResourceType,
    namespace: &str,
    name: &str,
) -> Result<Value, ApiError> {
    world
        .kube
        .get(&rt.type_key(), namespace, name)
        .map(|o| present(rt, o))
        .ok_or_else(|| ApiError::not_found(&rt.group, &rt.plural, name))
}

/// Parsed `labelSelector` and `fieldSelector`.
pub struct Selectors {
    pub labels: LabelSelector,
    pub fields: FieldSelector,
}

impl Selectors {
    pub fn parse(
        rt: &ResourceType,
        label: Option<&str>,
        field: Option<&str>,
    ) -> Result<Selectors, ApiError> {
        let labels = LabelSelector::parse(label.unwrap_or("")).map_err(ApiError::bad_request)?;
        let fields = FieldSelector::parse(field.unwrap_or(""), &rt.type_key())
            .map_err(ApiError::bad_request)?;
        Ok(Selectors { labels, fields })
    }

    pub fn matches(&self, object: &Value) -> bool {
        self.labels.matches_object(object) && self.fields.matches(object)
    }
}

/// A list response; `limit`/`continue` page through the key order.
pub fn list(
    world: &World,
    rt: &ResourceType,
    namespace: Option<&str>,
    selectors: &Selectors,
    limit: Option<usize>,
    continue_token: Option<&str>,
) -> Result<Value, ApiError> {
    let start_after = match continue_token.filter(|t| !t.is_empty()) {
        Some(token) => Some(
            base64::engine::general_purpose::STANDARD
                .decode(token)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(|| {
                    ApiError::bad_request("continue key is not valid: illegal base64 data")
                })?,
        ),
        None => None,
    };
    let key_of = |o: &Value| crate::store::object_key(namespace_of(o), name_of(o));
    let mut items: Vec<&Value> = world
        .kube
        .list(&rt.type_key(), namespace)
        .filter(|o| selectors.matches(o))
        .filter(|o| start_after.as_ref().is_none_or(|after| key_of(o) > *after))
        .collect();
    let mut metadata = json!({"resourceVersion": world.kube.resource_version.to_string()});
    if let Some(limit) = limit.filter(|l| *l > 0) {
        if items.len() > limit {
            let remaining = items.len() - limit;
            items.truncate(limit);
            let last = key_of(items[limit - 1]);
            metadata["continue"] = json!(base64::engine::general_purpose::STANDARD.encode(last));
            metadata["remainingItemCount"] = json!(remaining);
        }
    }
    let items: Vec<Value> = items
        .into_iter()
        .map(|o| {
            let mut o = strip_for_list(rt, o.clone());
            if rt.typed.is_some() {
                if let Some(m) = o.as_object_mut() {
                    m.remove("apiVersion");
                    m.remove("kind");
                }
            }
            o
        })
        .collect();
    Ok(json!({
        "kind": format!("{}List", rt.kind),
        "apiVersion": rt.api_version(),
        "metadata": metadata,
        "items": items,
    }))
}

/// Puts apiVersion/kind/namespace in place and checks what the body says against the URL.
fn normalise_identity(
    rt: &ResourceType,
    object: &mut Value,
    namespace: &str,
    url_name: Option<&str>,
) -> Result<(), ApiError> {
    if !object.is_object() {
        return Err(ApiError::bad_request(format!(
            "Object '{}' is not a JSON object",
            rt.kind
        )));
    }
    let api_version = rt.api_version();
    match object.get("apiVersion").and_then(Value::as_str) {
        Some(v) if v != api_version => {
            return Err(ApiError::bad_request(format!(
                "the API version in the data ({v}) does not match the expected API version ({api_version})"
            )))
        }
        _ => {}
    }
    match object.get("kind").and_then(Value::as_str) {
        Some(k) if k != rt.kind => {
            return Err(ApiError::bad_request(format!(
                "the kind in the data ({k}) does not match the expected kind ({})",
                rt.kind
            )))
        }
        _ => {}
    }
    object["apiVersion"] = json!(api_version);
    object["kind"] = json!(rt.kind);
    let meta = ensure_object(object, "metadata");
    if rt.namespaced {
        match meta.get("namespace").and_then(Value::as_str) {
            Some(ns) if !ns.is_empty() && ns != namespace => {
                return Err(ApiError::bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request",
                ))
            }
            _ => {
                meta.insert("namespace".into(), json!(namespace));
            }
        }
    } else {
        meta.remove("namespace");
    }
    if let Some(url_name) = url_name {
        match meta.get("name").and_then(Value::as_str) {
            Some(n) if n != url_name => {
                return Err(ApiError::bad_request(format!(
                    "the name of the object ({n}) does not match the name on the URL ({url_name})"
                )))
            }
            _ => {
                meta.insert("name".into(), json!(url_name));
            }
        }
    }
    Ok(())
}

fn require_namespace(world: &World, rt: &ResourceType, namespace: &str) -> Result<(), ApiError> {
    if !rt.namespaced {
        return Ok(());
    }
    match world.kube.get("v1/Namespace", "", namespace) {
        None => Err(ApiError::not_found("", "namespaces", namespace)),
        Some(ns) if ns["status"]["phase"] == "Terminating" => Err(ApiError::forbidden(
            &rt.group,
            &rt.plural,
            "",
            &format!("unable to create new content in namespace {namespace} because it is being terminated"),
        )),
        Some(_) => Ok(()),
    }
}

/// Create-time admission: default storage class, cluster IP allocation.
pub(crate) fn admit_create(world: &World, rt: &ResourceType, object: &mut Value) {
    match rt.type_key().as_str() {
        "v1/PersistentVolumeClaim" => {
            if object["spec"]["storageClassName"].is_null() {
                let default = world
                    .kube
                    .list("storage.k8s.io/v1/StorageClass", None)
                    .find(|sc| {
                        sc["metadata"]["annotations"]["storageclass.kubernetes.io/is-default-class"]
                            == "true"
                    });
                if let Some(sc) = default {
                    object["spec"]["storageClassName"] = json!(name_of(sc));
                }
            }
            if object["status"].is_null() || object["status"]["phase"].is_null() {
                object["status"] = json!({"phase": "Pending"});
            }
        }
        "v1/Service" => {
            let spec = &mut object["spec"];
            if spec["type"] != "ExternalName" {
                let wanted = spec["clusterIP"].as_str().unwrap_or("").to_string();
                if wanted.is_empty() {
                    let used: std::collections::BTreeSet<String> = world
                        .kube
                        .list("v1/Service", None)
                        .filter_map(|s| s["spec"]["clusterIP"].as_str().map(String::from))
                        .collect();
                    let ip = (10u32..65000)
                        .map(|n| format!("10.0.{}.{}", n / 250, n % 250 + 1))
                        .find(|ip| !used.contains(ip))
                        .unwrap_or_else(|| "10.0.255.254".into());
                    spec["clusterIP"] = json!(ip);
                }
                spec["clusterIPs"] = json!([spec["clusterIP"].clone()]);
            }
            if spec["type"] == "NodePort" || spec["type"] == "LoadBalancer" {
                let used: std::collections::BTreeSet<i64> = world
                    .kube
                    .list("v1/Service", None)
                    .flat_map(|s| s["spec"]["ports"].as_array().cloned().unwrap_or_default())
                    .filter_map(|p| p["nodePort"].as_i64())
                    .collect();
                let mut next = 30000i64;
                for port in spec["ports"].as_array_mut().into_iter().flatten() {
                    if port["nodePort"].is_null() {
                        while used.contains(&next) {
                            next += 1;
                        }
                        port["nodePort"] = json!(next);
                        next += 1;
                    }
                }
            }
        }
        "v1/Namespace" => {
            object["status"] = json!({"phase": "Active"});
        }
        _ => {}
    }
}

/// The common tail of every write: see the module docs.
#[allow(clippy::too_many_arguments)]
fn finish_write(
    world: &mut World,
    rt: &ResourceType,
    old: Option<&Value>,
    mut new: Value,
    part: Part,
    opts: &WriteOptions,
    track_fields: bool,
) -> Result<Value, ApiError> {
    let type_key = rt.type_key();
    // status subresource: the main resource cannot change status, /status only status
    if rt.has_status() {
        match (part, old) {
            (Part::Main, Some(old)) => match old.get("status") {
                Some(s) => new["status"] = s.clone(),
                None => {
                    if let Some(m) = new.as_object_mut() {
                        m.remove("status");
                    }
                }
            },
            (Part::Main, None) => {
                if rt.typed.is_some() && type_key != "v1/PersistentVolumeClaim" {
                    if let Some(m) = new.as_object_mut() {
                        m.remove("status");
                    }
                }
            }
            (Part::Status, Some(old)) => {
                let mut merged = old.clone();
                merged["status"] = new.get("status").cloned().unwrap_or(Value::Null);
                if merged["status"].is_null() {
                    if let Some(m) = merged.as_object_mut() {
                        m.remove("status");
                    }
                }
                // managedFields edits ride along with status writes too
                merged["metadata"]["managedFields"] = new["metadata"]["managedFields"].clone();
                new = merged;
            }
            (Part::Status, None) => {
                return Err(ApiError::not_found(&rt.group, &rt.plural, name_of(&new)))
            }
        }
    }
    if let Some(meta) = new.get_mut("metadata").and_then(Value::as_object_mut) {
        if meta.get("managedFields").is_some_and(Value::is_null) {
            meta.remove("managedFields");
        }
        // the server owns these
        meta.remove("selfLink");
        if let Some(old) = old {
            for field in ["deletionTimestamp", "deletionGracePeriodSeconds"] {
                match old["metadata"].get(field) {
                    Some(v) => {
                        meta.insert(field.into(), v.clone());
                    }
                    None => {
                        meta.remove(field);
                    }
                }
            }
        } else {
            meta.remove("deletionTimestamp");
            meta.remove("deletionGracePeriodSeconds");
        }
    }
    if rt.typed.is_some() {
        crate::kube::openapi::normalize(&type_key, &mut new);
        apply_defaults(&type_key, &mut new);
    }
    if old.is_none() {
        admit_create(world, rt, &mut new);
    }
    validate(rt, &new, old)?;
    if let Some(old) = old {
        admit_update(world, rt, old, &new)?;
    }
    if track_fields {
        let explicit_fields = new["metadata"]["managedFields"].clone();
        let old_fields = old
            .map(|o| o["metadata"]["managedFields"].clone())
            .unwrap_or(Value::Null);
        // a client that sends managedFields different from the stored ones is editing
        // them on purpose (Helm 4's client-side → server-side migration does this)
        if !explicit_fields.is_null() && explicit_fields != old_fields {
            if explicit_fields.as_array().is_some_and(|a| a.is_empty()) {
                ensure_object(&mut new, "metadata").remove("managedFields");
            }
        } else {
            let subresource = if part == Part::Status { "status" } else { "" };
            record_update(
                &type_key,
                old,
                &mut new,
                &opts.field_manager,
                subresource,
                &rt.api_version(),
            );
        }
    }
    // an object being deleted whose last finalizer was removed goes away now
    if old.is_some_and(|o| o["metadata"]["deletionTimestamp"].is_string())
        && new["metadata"]["finalizers"]
            .as_array()
            .is_none_or(|f| f.is_empty())
    {
        if opts.dry_run {
            return Ok(new);
        }
        let removed = world
            .kube
            .remove(&type_key, namespace_of(&new), name_of(&new))
            .unwrap_or(new);
        return Ok(removed);
    }
    if opts.dry_run {
        if old.is_none() {
            let meta = ensure_object(&mut new, "metadata");
            meta.insert(
                "uid".into(),
                json!(crate::ids::uid(u64::MAX - world.kube.id_counter)),
            );
            meta.insert("creationTimestamp".into(), json!(crate::clock::wall_time()));
            meta.remove("resourceVersion");
        }
        return Ok(new);
    }
    let stored = match old {
        None => world.kube.insert_new(&type_key, new),
        Some(_) => world.kube.replace(&type_key, new),
    };
    Ok(stored)
}

fn to_storage(rt: &ResourceType, object: Value) -> Value {
    if rt.is_events_view() {
        events_v1_to_core(&object)
    } else {
        object
    }
}

/// `POST` on a collection.
pub fn create(
    world: &mut World,
    rt: &ResourceType,
    namespace: &str,
    body: Value,
    opts: &WriteOptions,
) -> Result<Value, ApiError> {
    let mut object = body;
    normalise_identity(rt, &mut object, namespace, None)?;
    let mut object = to_storage(rt, object);
    let storage_rt = storage_type(rt);
    let meta = ensure_object(&mut object, "metadata");
    for field in [
        "uid",
        "resourceVersion",
        "creationTimestamp",
        "generation",
        "deletionTimestamp",
    ] {
        meta.remove(field);
    }
    if meta
        .get("name")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        if let Some(prefix) = meta
            .get("generateName")
            .and_then(Value::as_str)
            .map(String::from)
        {
            let suffix = world.kube.new_suffix(5);
            meta.insert("name".into(), json!(format!("{prefix}{suffix}")));
        }
    }
    let name = name_of(&object).to_string();
    if name.is_empty() {
        return Err(ApiError::invalid(
            &rt.group,
            &rt.kind,
            "",
            vec![Cause::required(
                "metadata.name",
                "name or generateName is required",
            )],
        ));
    }
    require_namespace(world, rt, namespace)?;
    if world
        .kube
        .get(&storage_rt.type_key(), namespace, &name)
        .is_some()
    {
        return Err(ApiError::already_exists(&rt.group, &rt.plural, &name));
    }
    if rt.group == "authorization.k8s.io" {
        // access reviews are answered, not stored: the rehearsal user may do anything
        let mut review = object;
        review["status"] = json!({"allowed": true, "reason": "rehearsal cluster: every request is allowed",
                                  "resourceRules": [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}],
                                  "nonResourceRules": [{"verbs": ["*"], "nonResourceURLs": ["*"]}], "incomplete": false});
        return Ok(review);
    }
    let stored = finish_write(world, &storage_rt, None, object, Part::Main, opts, true)?;
    Ok(present(rt, &stored))
}

/// The type whose storage a view writes to (events.k8s.io → core Events).
fn storage_type(rt: &ResourceType) -> ResourceType {
    if rt.is_events_view() {
        crate::kube::resources::builtin_by_type_key("v1/Event")
            .cloned()
            .unwrap_or_else(|| rt.clone())
    } else {
        rt.clone()
    }
}

fn check_resource_version(
    rt: &ResourceType,
    requested: &Value,
    current: &Value,
    name: &str,
) -> Result<(), ApiError> {
    let wanted = requested["metadata"]["resourceVersion"]
        .as_str()
        .unwrap_or("");
    if !wanted.is_empty()
        && wanted
            != current["metadata"]["resourceVersion"]
                .as_str()
                .unwrap_or("")
    {
        return Err(ApiError::stale_resource_version(
            &rt.group, &rt.plural, name,
        ));
    }
    Ok(())
}

/// `PUT` on an object or its status.
pub fn update(
    world: &mut World,
    rt: &ResourceType,
    namespace: &str,
    name: &str,
    body: Value,
    part: Part,
    opts: &WriteOptions,
) -> Result<Value, ApiError> {
    let mut object = body;
    normalise_identity(rt, &mut object, namespace, Some(name))?;
    let object = to_storage(rt, object);
    let storage_rt = storage_type(rt);
    let old = world
        .kube
        .get(&storage_rt.type_key(), namespace, name)
        .cloned()
        .ok_or_else(|| ApiError::not_found(&rt.group, &rt.plural, name))?;
    check_resource_version(rt, &object, &old, name)?;
    let stored = finish_write(world, &storage_rt, Some(&old), object, part, opts, true)?;
    Ok(present(rt, &stored))
}

/// The patch formats `PATCH` accepts, by Content-Type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchType {
    Json,
    Merge,
    Strategic,
    Apply,
}

impl PatchType {
    pub fn from_content_type(content_type: &str) -> Option<PatchType> {
        let base = content_type.split(';').next().unwrap_or("").trim();
        match base {
            "application/json-patch+json" => Some(PatchType::Json),
            "application/merge-patch+json" => Some(PatchType::Merge),
            "application/strategic-merge-patch+json" => Some(PatchType::Strategic),
            "application/apply-patch+yaml"
            | "application/apply-patch+json"
            | "application/apply-patch+cbor" => Some(PatchType::Apply),
            _ => None,
        }
    }

    pub const ACCEPTED: &'static [&'static str] = &[
        "application/json-patch+json",
        "application/merge-patch+json",
        "application/apply-patch+yaml",
        "application/strategic-merge-patch+json",
    ];
}

fn patch_failed(rt: &ResourceType, name: &str, why: String) -> ApiError {
    let mut e = ApiError::invalid(&rt.group, &rt.kind, name, vec![]);
    e.message = format!(
        "{} \"{name}\" is invalid: {why}",
        if rt.group.is_empty() {
            rt.kind.clone()
        } else {
            format!("{}.{}", rt.kind, rt.group)
        }
    );
    e
}

/// Applies a non-apply patch to `current`, returning the patched object.
pub fn apply_patch(
    rt: &ResourceType,
    current: &Value,
    patch_type: PatchType,
    body: &[u8],
    name: &str,
) -> Result<Value, ApiError> {
    let patch = parse_body(body, false)?;
    match patch_type {
        PatchType::Merge => {
            if !patch.is_object() {
                return Err(ApiError::bad_request(
                    "json: cannot unmarshal into Go value of type map[string]interface {}",
                ));
            }
            let mut target = current.clone();
            merge_patch(&mut target, &patch);
            Ok(target)
        }
        PatchType::Strategic => {
            if rt.typed.is_none() {
                return Err(ApiError::unsupported_media_type(
                    "application/strategic-merge-patch+json",
                    &[
                        "application/json-patch+json",
                        "application/merge-patch+json",
                        "application/apply-patch+yaml",
                    ],
                ));
            }
            strategic_merge(&rt.type_key(), current, &patch).map_err(|e| patch_failed(rt, name, e))
        }
        PatchType::Json => {
            let ops: json_patch::Patch = serde_json::from_value(patch)
                .map_err(|e| ApiError::bad_request(format!("error decoding patch: {e}")))?;
            let mut target = current.clone();
            json_patch::patch(&mut target, &ops).map_err(|e| {
                patch_failed(
                    rt,
                    name,
                    format!("the server rejected our request due to an error in our request: {e}"),
                )
            })?;
            Ok(target)
        }
        PatchType::Apply => Err(ApiError::internal("apply handled elsewhere")),
    }
}

/// `PATCH` on an object or its status; apply patches may create.
#[allow(clippy::too_many_arguments)]
pub fn patch(
    world: &mut World,
    rt: &ResourceType,
    namespace: &str,
    name: &str,
    patch_type: PatchType,
    body: &[u8],
    part: Part,
    opts: &WriteOptions,
) -> Result<(u16, Value), ApiError> {
    let storage_rt = storage_type(rt);
    let old = world
        .kube
        .get(&storage_rt.type_key(), namespace, name)
        .cloned();
    if patch_type == PatchType::Apply {
        return apply(world, rt, namespace, name, body, part, opts, old);
    }
    let old = old.ok_or_else(|| ApiError::not_found(&rt.group, &rt.plural, name))?;
    let shown = present(rt, &old);
    let patched = apply_patch(rt, &shown, patch_type, body, name)?;
    let mut patched = patched;
    normalise_identity(rt, &mut patched, namespace, Some(name))?;
    check_resource_version(rt, &patched, &old, name)?;
    let patched = to_storage(rt, patched);
    let stored = finish_write(world, &storage_rt, Some(&old), patched, part, opts, true)?;
    Ok((200, present(rt, &stored)))
}

#[allow(clippy::too_many_arguments)]
fn apply(
    world: &mut World,
    rt: &ResourceType,
    namespace: &str,
    name: &str,
    body: &[u8],
    part: Part,
    opts: &WriteOptions,
    old: Option<Value>,
) -> Result<(u16, Value), ApiError> {
    let mut config = parse_body(body, true)?;
    if config.get("apiVersion").is_none() || config.get("kind").is_none() {
        return Err(ApiError::bad_request(
            "apiVersion and kind must be set in the applied configuration",
        ));
    }
    normalise_identity(rt, &mut config, namespace, Some(name))?;
    if let Some(old) = &old {
        check_resource_version(rt, &config, old, name)?;
    }
    if opts.field_manager.is_empty() || opts.field_manager == "unknown" {
        return Err(ApiError::bad_request(
            "PATCH, application/apply-patch+yaml requests require fieldManager to be set",
        ));
    }
    if old.is_none() {
        require_namespace(world, rt, namespace)?;
    }
    let subresource = if part == Part::Status { "status" } else { "" };
    let type_key = rt.type_key();
    let merged = server_side_apply(&type_key, old.as_ref(), &config, &opts.field_manager, opts.force, &rt.api_version(), subresource)
        .map_err(|e| match e {
            ApplyError::Conflicts(conflicts) => {
                let count = conflicts.len();
                let lines: Vec<String> = conflicts
                    .iter()
                    .map(|(m, p)| format!("conflict with \"{m}\" using {}: {p}", rt.api_version()))
                    .collect();
                let message = if count == 1 {
                    format!("Apply failed with 1 conflict: {}", lines[0])
                } else {
                    format!("Apply failed with {count} conflicts: {}", lines.join("\n"))
                };
                let causes: Vec<Value> = conflicts
                    .iter()
                    .map(|(m, p)| json!({"reason": "FieldManagerConflict", "message": format!("conflict with \"{m}\" using {}", rt.api_version()), "field": p}))
                    .collect();
                let mut err = ApiError::conflict(&rt.group, &rt.plural, name, "");
                err.message = message;
                err.details = Some(json!({"name": name, "group": rt.group, "kind": rt.plural, "causes": causes}));
                err
            }
            ApplyError::Malformed(m) => ApiError::internal(format!(
                "failed to create typed patch object ({}, Kind={}): {m}",
                rt.api_version(),
                rt.kind
            )),
        })?;
    let created = old.is_none();
    let mut merged = merged;
    if created {
        let meta = ensure_object(&mut merged, "metadata");
        for field in ["uid", "resourceVersion", "creationTimestamp", "generation"] {
            meta.remove(field);
        }
    }
    let stored = finish_write(world, rt, old.as_ref(), merged, part, opts, false)?;
    Ok((if created { 201 } else { 200 }, present(rt, &stored)))
}

/// `DeleteOptions` from the body or query.
#[derive(Debug, Clone, Default)]
pub struct DeleteOptions {
    pub grace_period_seconds: Option<i64>,
    pub propagation_policy: Option<String>,
    pub precondition_uid: Option<String>,
    pub precondition_resource_version: Option<String>,
}

impl DeleteOptions {
    pub fn from_value(v: &Value) -> DeleteOptions {
        DeleteOptions {
            grace_period_seconds: v["gracePeriodSeconds"].as_i64(),
            propagation_policy: v["propagationPolicy"]
                .as_str()
                .map(String::from)
                .or_else(|| {
                    v["orphanDependents"]
                        .as_bool()
                        .and_then(|o| o.then(|| "Orphan".to_string()))
                }),
            precondition_uid: v["preconditions"]["uid"].as_str().map(String::from),
            precondition_resource_version: v["preconditions"]["resourceVersion"]
                .as_str()
                .map(String::from),
        }
    }
}

/// `DELETE` on an object.
pub fn delete(
    world: &mut World,
    rt: &ResourceType,
    namespace: &str,
    name: &str,
    options: &DeleteOptions,
    dry_run: bool,
) -> Result<Value, ApiError> {
    let storage_rt = storage_type(rt);
    let type_key = storage_rt.type_key();
    let current = world
        .kube
        .get(&type_key, namespace, name)
        .cloned()
        .ok_or_else(|| ApiError::not_found(&rt.group, &rt.plural, name))?;
    if let Some(uid) = &options.precondition_uid {
        if uid != crate::store::uid_of(&current) {
            return Err(ApiError::conflict(
                &rt.group,
                &rt.plural,
                name,
                &format!(
                    "Precondition failed: UID in precondition: {uid}, UID in object meta: {}",
                    crate::store::uid_of(&current)
                ),
            ));
        }
    }
    if let Some(rv) = &options.precondition_resource_version {
        if Some(rv.as_str()) != current["metadata"]["resourceVersion"].as_str() {
            return Err(ApiError::conflict(&rt.group, &rt.plural, name, &format!(
                "Precondition failed: ResourceVersion in precondition: {rv}, ResourceVersion in object meta: {}",
                current["metadata"]["resourceVersion"].as_str().unwrap_or("")
            )));
        }
    }
    if dry_run {
        return Ok(present(rt, &current));
    }
    if options.propagation_policy.as_deref() == Some("Orphan") {
        crate::controllers::garbage_collector::orphan_dependents(
            world,
            crate::store::uid_of(&current),
        );
    }
    if current["metadata"]["deletionTimestamp"].is_string() {
        // already being deleted; a second delete with grace 0 finishes a pod
        if type_key == "v1/Pod" && options.grace_period_seconds == Some(0) {
            crate::controllers::kubelet::forget_pod(world, &current);
            let removed = world
                .kube
                .remove(&type_key, namespace, name)
                .unwrap_or(current);
            return Ok(present(rt, &removed));
        }
        return Ok(present(rt, &current));
    }
    let has_finalizers = current["metadata"]["finalizers"]
        .as_array()
        .is_some_and(|f| !f.is_empty());
    let now = crate::clock::wall_time();
    if type_key == "v1/Namespace" {
        let mut ns = current.clone();
        ns["metadata"]["deletionTimestamp"] = json!(now);
        ns["metadata"]["deletionGracePeriodSeconds"] = json!(0);
        ns["status"]["phase"] = json!("Terminating");
        let stored = world.kube.replace(&type_key, ns);
        return Ok(present(rt, &stored));
    }
    let grace = options
        .grace_period_seconds
        .or_else(|| current["spec"]["terminationGracePeriodSeconds"].as_i64())
        .unwrap_or(30);
    let graceful_pod = type_key == "v1/Pod"
        && grace > 0
        && current["spec"]["nodeName"].is_string()
        && !matches!(
            current["status"]["phase"].as_str(),
            Some("Succeeded") | Some("Failed")
        );
    if has_finalizers || graceful_pod {
        let mut marked = current.clone();
        marked["metadata"]["deletionTimestamp"] = json!(now);
        marked["metadata"]["deletionGracePeriodSeconds"] =
            json!(if graceful_pod { grace } else { 0 });
        if graceful_pod {
            crate::controllers::kubelet::begin_termination(world, &marked, grace);
        }
        let stored = world.kube.replace(&type_key, marked);
        return Ok(present(rt, &stored));
    }
    if type_key == "v1/Pod" {
        crate::controllers::kubelet::forget_pod(world, &current);
    }
    let removed = world
        .kube
        .remove(&type_key, namespace, name)
        .unwrap_or(current);
    Ok(present(rt, &removed))
}

/// `DELETE` on a collection (with selectors).
pub fn delete_collection(
    world: &mut World,
    rt: &ResourceType,
    namespace: Option<&str>,
    selectors: &Selectors,
    options: &DeleteOptions,
    dry_run: bool,
) -> Result<Value, ApiError> {
    let targets: Vec<(String, String)> = world
        .kube
        .list(&storage_type(rt).type_key(), namespace)
        .filter(|o| selectors.matches(o))
        .map(|o| (namespace_of(o).to_string(), name_of(o).to_string()))
        .collect();
    let mut items = Vec::new();
    for (ns, name) in targets {
        items.push(delete(world, rt, &ns, &name, options, dry_run)?);
    }
    Ok(json!({
        "kind": format!("{}List", rt.kind),
        "apiVersion": rt.api_version(),
        "metadata": {"resourceVersion": world.kube.resource_version.to_string()},
        "items": items,
    }))
}

/// The `autoscaling/v1 Scale` view of a Deployment/ReplicaSet/StatefulSet.
pub fn scale_of(object: &Value) -> Value {
    json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            "name": object["metadata"]["name"],
            "namespace": object["metadata"]["namespace"],
            "uid": object["metadata"]["uid"],
            "resourceVersion": object["metadata"]["resourceVersion"],
            "creationTimestamp": object["metadata"]["creationTimestamp"],
        },
        "spec": {"replicas": object["spec"]["replicas"].as_i64().unwrap_or(1)},
        "status": {
            "replicas": object["status"]["replicas"].as_i64().unwrap_or(0),
            "selector": selector_object_to_string(&object["spec"]["selector"]),
        },
    })
}

/// `PUT`/`PATCH` on `/scale`: changes spec.replicas of the object.
#[allow(clippy::too_many_arguments)]
pub fn write_scale(
    world: &mut World,
    rt: &ResourceType,
    namespace: &str,
    name: &str,
    patch_type: Option<PatchType>,
    body: &[u8],
    opts: &WriteOptions,
) -> Result<Value, ApiError> {
    let old = world
        .kube
        .get(&rt.type_key(), namespace, name)
        .cloned()
        .ok_or_else(|| ApiError::not_found(&rt.group, &rt.plural, name))?;
    let current_scale = scale_of(&old);
    let new_scale = match patch_type {
        None => parse_body(body, false)?,
        Some(PatchType::Apply) => {
            let mut s = current_scale.clone();
            merge_patch(&mut s, &parse_body(body, true)?);
            s
        }
        Some(PatchType::Strategic) | Some(PatchType::Merge) => {
            let mut s = current_scale.clone();
            merge_patch(&mut s, &parse_body(body, false)?);
            s
        }
        Some(PatchType::Json) => apply_patch(rt, &current_scale, PatchType::Json, body, name)?,
    };
    let replicas = new_scale["spec"]["replicas"].as_i64().ok_or_else(|| {
        ApiError::invalid(
            "autoscaling",
            "Scale",
            name,
            vec![Cause::required("spec.replicas", "")],
        )
    })?;
    if replicas < 0 {
        return Err(ApiError::invalid(
            "autoscaling",
            "Scale",
            name,
            vec![Cause::invalid(
                "spec.replicas",
                &json!(replicas),
                "must be greater than or equal to 0",
            )],
        ));
    }
    let mut updated = old.clone();
    updated["spec"]["replicas"] = json!(replicas);
    let stored = finish_write(world, rt, Some(&old), updated, Part::Main, opts, true)?;
    Ok(scale_of(&stored))
}

/// `{"kind":"Status","status":"Success"}` for deletes that return no object.
pub fn deleted_status(rt: &ResourceType, name: &str, uid: &str) -> Value {
    success_status(json!({"name": name, "group": rt.group, "kind": rt.plural, "uid": uid}))
}
