//! OpenAPI documents (`/openapi/v2`, `/openapi/v3`, `/openapi/v3/apis/{group}/{version}`)
//! and the schema walk behind `fieldValidation`.
//!
//! kubectl and Helm read the v3 documents to learn whether the server validates fields
//! itself (a `fieldValidation` query parameter on the PATCH operation of the kind) and
//! then send `fieldValidation=Strict` instead of validating on the client. The schemas are
//! generated from k8s-openapi's `schemars` implementations, so they describe exactly the
//! types objects are checked against. The PATCH operations do not list
//! `application/strategic-merge-patch+json`: the schemas lack the patch-merge-key
//! extensions kubectl would need to compute a strategic patch from OpenAPI, so kubectl
//! computes it from its compiled-in types instead, as it does for servers without v3.

use crate::kube::resources::{builtins, ResourceType};
use k8s_openapi::schemars::generate::SchemaSettings;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

/// Every definition of every built-in kind, plus which definition each kind uses.
struct SchemaRegistry {
    definitions: Map<String, Value>,
    /// type key → definition name
    kinds: BTreeMap<String, String>,
}

fn registry() -> &'static SchemaRegistry {
    static REGISTRY: OnceLock<SchemaRegistry> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        let mut generator = SchemaSettings::openapi3().into_generator();
        let mut kinds = BTreeMap::new();
        for rt in builtins() {
            if let Some(typed) = rt.typed {
                (typed.schema)(&mut generator);
                kinds.insert(
                    format!("{}/{}", rt.api_version(), rt.kind),
                    (typed.schema_name)().into_owned(),
                );
            }
        }
        let mut definitions = generator.take_definitions(true);
        for rt in builtins() {
            if let Some(name) = kinds.get(&format!("{}/{}", rt.api_version(), rt.kind)) {
                if let Some(def) = definitions.get_mut(name).and_then(Value::as_object_mut) {
                    let gvk = json!({"group": rt.group, "version": rt.version, "kind": rt.kind});
                    let list = def
                        .entry("x-kubernetes-group-version-kind")
                        .or_insert_with(|| json!([]));
                    if let Some(a) = list.as_array_mut() {
                        if !a.contains(&gvk) {
                            a.push(gvk);
                        }
                    }
                }
            }
        }
        SchemaRegistry { definitions, kinds }
    })
}

/// Builds the registry ahead of the first request (it takes a moment).
pub fn warm_up() {
    let _ = registry();
}

fn reference(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

fn resolve(schema: &Value) -> &Value {
    let defs = &registry().definitions;
    let mut s = schema;
    for _ in 0..8 {
        if let Some(r) = s.get("$ref").and_then(Value::as_str) {
            match r.rsplit('/').next().and_then(|n| defs.get(n)) {
                Some(d) => s = d,
                None => return s,
            }
        } else if let Some(first) = s
            .get("allOf")
            .and_then(Value::as_array)
            .and_then(|a| a.first())
        {
            s = first;
        } else {
            return s;
        }
    }
    s
}

/// Collects the names of definitions reachable from `schema`.
fn reachable(schema: &Value, out: &mut BTreeSet<String>) {
    match schema {
        Value::Object(m) => {
            if let Some(r) = m.get("$ref").and_then(Value::as_str) {
                if let Some(name) = r.rsplit('/').next() {
                    if out.insert(name.to_string()) {
                        if let Some(def) = registry().definitions.get(name) {
                            reachable(def, out);
                        }
                    }
                }
            }
            for v in m.values() {
                reachable(v, out);
            }
        }
        Value::Array(a) => a.iter().for_each(|v| reachable(v, out)),
        _ => {}
    }
}

fn query_param(name: &str, description: &str) -> Value {
    json!({"name": name, "in": "query", "description": description, "schema": {"type": "string", "uniqueItems": true}})
}

fn operation(
    rt: &ResourceType,
    action: &str,
    id: &str,
    def: &str,
    body: Option<Vec<&str>>,
    params: Vec<Value>,
) -> Value {
    let mut op = json!({
        "operationId": id,
        "x-kubernetes-action": action,
        "x-kubernetes-group-version-kind": {"group": rt.group, "version": rt.version, "kind": rt.kind},
        "parameters": params,
        "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": reference(def)}}}},
    });
    if let Some(types) = body {
        let content: Map<String, Value> = types
            .into_iter()
            .map(|t| (t.to_string(), json!({"schema": reference(def)})))
            .collect();
        op["requestBody"] = json!({"content": content, "required": true});
    }
    op
}

fn write_params(patch: bool) -> Vec<Value> {
    let mut p = vec![
        query_param("dryRun", "When present, indicates that modifications should not be persisted."),
        query_param("fieldManager", "fieldManager is a name associated with the actor or entity that is making these changes."),
        query_param("fieldValidation", "fieldValidation instructs the server on how to handle objects in the request containing unknown or duplicate fields. Valid values are: Ignore, Warn, Strict."),
    ];
    if patch {
        p.push(json!({"name": "force", "in": "query", "description": "Force is going to \"force\" Apply requests.", "schema": {"type": "boolean", "uniqueItems": true}}));
    }
    p
}

/// `/openapi/v3/{api/v1 | apis/group/version}`
pub fn v3_group_version(group: &str, version: &str, kubernetes_version: &str) -> Option<Value> {
    let reg = registry();
    let types: Vec<&ResourceType> = builtins()
        .iter()
        .filter(|rt| rt.group == group && rt.version == version && rt.typed.is_some())
        .collect();
    if types.is_empty() {
        return None;
    }
    let prefix = if group.is_empty() {
        format!("/api/{version}")
    } else {
        format!("/apis/{group}/{version}")
    };
    let mut paths = Map::new();
    let mut wanted = BTreeSet::new();
    for rt in types {
        let Some(def) = reg.kinds.get(&format!("{}/{}", rt.api_version(), rt.kind)) else {
            continue;
        };
        wanted.insert(def.clone());
        reachable(&reference(def), &mut wanted);
        let kind = &rt.kind;
        let ns_path = if rt.namespaced {
            "/namespaces/{namespace}"
        } else {
            ""
        };
        let collection = format!("{prefix}{ns_path}/{}", rt.plural);
        let item = format!("{collection}/{{name}}");
        let patch_types = vec![
            "application/apply-patch+yaml",
            "application/json-patch+json",
            "application/merge-patch+json",
        ];
        if rt.verbs.iter().any(|v| v == "get") {
            paths.insert(
                collection.clone(),
                json!({
                    "get": operation(rt, "list", &format!("list{kind}"), def, None, vec![]),
                    "post": operation(rt, "post", &format!("create{kind}"), def, Some(vec!["*/*"]), write_params(false)),
                    "delete": operation(rt, "deletecollection", &format!("deleteCollection{kind}"), def, None, vec![]),
                }),
            );
            paths.insert(
                item.clone(),
                json!({
                    "get": operation(rt, "get", &format!("read{kind}"), def, None, vec![]),
                    "put": operation(rt, "put", &format!("replace{kind}"), def, Some(vec!["*/*"]), write_params(false)),
                    "patch": operation(rt, "patch", &format!("patch{kind}"), def, Some(patch_types.clone()), write_params(true)),
                    "delete": operation(rt, "delete", &format!("delete{kind}"), def, None, vec![]),
                }),
            );
            for sub in rt.subresources.iter().filter(|s| *s == "status") {
                paths.insert(
                    format!("{item}/{sub}"),
                    json!({
                        "get": operation(rt, "get", &format!("read{kind}Status"), def, None, vec![]),
                        "put": operation(rt, "put", &format!("replace{kind}Status"), def, Some(vec!["*/*"]), write_params(false)),
                        "patch": operation(rt, "patch", &format!("patch{kind}Status"), def, Some(patch_types.clone()), write_params(true)),
                    }),
                );
            }
        } else {
            paths.insert(collection, json!({"post": operation(rt, "post", &format!("create{kind}"), def, Some(vec!["*/*"]), write_params(false))}));
        }
    }
    let schemas: Map<String, Value> = wanted
        .into_iter()
        .filter_map(|n| reg.definitions.get(&n).map(|d| (n, d.clone())))
        .collect();
    Some(json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": kubernetes_version},
        "paths": paths,
        "components": {"schemas": schemas},
    }))
}

/// `/openapi/v3`: where each group-version's document is.
pub fn v3_root() -> Value {
    let mut paths = Map::new();
    for rt in builtins() {
        let key = if rt.group.is_empty() {
            format!("api/{}", rt.version)
        } else {
            format!("apis/{}/{}", rt.group, rt.version)
        };
        let hash = crate::ids::safe_encode(crate::ids::fnv32a(key.as_bytes()));
        paths.entry(key.clone()).or_insert_with(
            || json!({"serverRelativeURL": format!("/openapi/v3/{key}?hash={hash}")}),
        );
    }
    json!({"paths": paths})
}

/// `/openapi/v2` (Swagger 2.0, JSON).
pub fn v2(kubernetes_version: &str) -> Value {
    let text = serde_json::to_string(&registry().definitions)
        .unwrap_or_default()
        .replace("#/components/schemas/", "#/definitions/");
    let definitions: Value = serde_json::from_str(&text).unwrap_or(json!({}));
    json!({"swagger": "2.0", "info": {"title": "Kubernetes", "version": kubernetes_version}, "paths": {}, "definitions": definitions})
}

/// Brings an object of a built-in kind into the shape a real server stores after decoding
/// it into Go structs: unknown fields dropped, `null`s dropped, empty lists and empty maps
/// dropped (they are `omitempty`), empty structs (`securityContext: {}`) kept.
pub fn normalize(type_key: &str, value: &mut Value) {
    let reg = registry();
    let Some(def) = reg.kinds.get(type_key) else {
        strip_nulls(value);
        return;
    };
    let schema = reference(def);
    let mut unknown = Vec::new();
    walk(value, &schema, String::new(), &mut unknown, true);
    tidy(value, &schema);
}

fn strip_nulls(value: &mut Value) {
    match value {
        Value::Object(m) => {
            m.retain(|_, v| !v.is_null());
            m.values_mut().for_each(strip_nulls);
        }
        Value::Array(a) => a.iter_mut().for_each(strip_nulls),
        _ => {}
    }
}

fn is_map_schema(schema: &Value) -> bool {
    let s = resolve(schema);
    s.get("properties").is_none()
        && s.get("additionalProperties")
            .is_some_and(|a| a.is_object() || a == &Value::Bool(true))
}

fn tidy(value: &mut Value, schema: &Value) {
    let schema = resolve(schema);
    match value {
        Value::Object(map) => {
            let props = schema.get("properties").and_then(Value::as_object);
            let extra = schema.get("additionalProperties").filter(|a| a.is_object());
            let keys: Vec<String> = map.keys().cloned().collect();
            for k in keys {
                let child_schema = props.and_then(|p| p.get(&k)).or(extra);
                let Some(v) = map.get_mut(&k) else { continue };
                if let Some(cs) = child_schema {
                    tidy(v, cs);
                }
                let drop = match &*v {
                    Value::Null => true,
                    Value::Array(a) => a.is_empty(),
                    Value::Object(o) => o.is_empty() && child_schema.is_some_and(is_map_schema),
                    _ => false,
                };
                if drop {
                    map.remove(&k);
                }
            }
        }
        Value::Array(items) => {
            if let Some(item_schema) = schema.get("items") {
                items.iter_mut().for_each(|v| tidy(v, item_schema));
            }
        }
        _ => {}
    }
}

/// Walks `value` against the schema of its kind, collecting fields the schema does not
/// declare (`spec.template.spec.containers[0].imagee`) and, with `prune`, removing them —
/// a real server drops unknown fields of built-in kinds when it decodes them.
pub fn unknown_fields(type_key: &str, value: &mut Value, prune: bool) -> Vec<String> {
    let reg = registry();
    let Some(def) = reg.kinds.get(type_key) else {
        return Vec::new();
    };
    let schema = reference(def);
    let mut unknown = Vec::new();
    walk(value, &schema, String::new(), &mut unknown, prune);
    unknown
}

fn walk(value: &mut Value, schema: &Value, path: String, unknown: &mut Vec<String>, prune: bool) {
    let schema = resolve(schema);
    if schema
        .get("x-kubernetes-preserve-unknown-fields")
        .and_then(Value::as_bool)
        == Some(true)
    {
        return;
    }
    match value {
        Value::Object(map) => {
            if let Some(props) = schema.get("properties").and_then(Value::as_object) {
                let mut remove = Vec::new();
                for (k, v) in map.iter_mut() {
                    if k.starts_with('$') {
                        continue; // strategic-merge directives
                    }
                    let child = if path.is_empty() {
                        k.clone()
                    } else {
                        format!("{path}.{k}")
                    };
                    match props.get(k) {
                        Some(s) => walk(v, s, child, unknown, prune),
                        None => {
                            if let Some(extra) =
                                schema.get("additionalProperties").filter(|a| a.is_object())
                            {
                                walk(v, extra, child, unknown, prune);
                            } else {
                                unknown.push(child);
                                remove.push(k.clone());
                            }
                        }
                    }
                }
                if prune {
                    for k in remove {
                        map.remove(&k);
                    }
                }
            } else if let Some(extra) = schema.get("additionalProperties").filter(|a| a.is_object())
            {
                for (k, v) in map.iter_mut() {
                    walk(v, extra, format!("{path}.{k}"), unknown, prune);
                }
            }
        }
        Value::Array(items) => {
            if let Some(item_schema) = schema.get("items") {
                for (i, v) in items.iter_mut().enumerate() {
                    walk(v, item_schema, format!("{path}[{i}]"), unknown, prune);
                }
            }
        }
        _ => {}
    }
}
