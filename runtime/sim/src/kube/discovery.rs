//! Discovery: how clients learn which groups, versions, kinds and resources exist.
//!
//! Both the legacy documents (`/api`, `/apis`, `APIResourceList` per group-version) and
//! aggregated discovery (`apidiscovery.k8s.io/v2`, one document for all groups, which
//! kubectl ≥ 1.30 and Helm 4 ask for first) are served from the same catalogue.

use crate::kube::resources::{all_types, ResourceType};
use crate::world::World;
use serde_json::{json, Value};

/// Media type of aggregated discovery responses.
pub const AGGREGATED_V2: &str =
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

/// Whether the Accept header prefers aggregated discovery.
pub fn wants_aggregated(accept: &str) -> bool {
    accept
        .split(',')
        .next()
        .is_some_and(|first| first.contains("as=APIGroupDiscoveryList") && first.contains("v=v2"))
}

/// Groups in discovery order (core first), each with its versions in preference order.
fn groups(world: &World) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for rt in all_types(world) {
        match out.iter_mut().find(|(g, _)| *g == rt.group) {
            Some((_, versions)) => {
                if !versions.contains(&rt.version) {
                    versions.push(rt.version.clone());
                }
            }
            None => out.push((rt.group.clone(), vec![rt.version.clone()])),
        }
    }
    out
}

fn subresource_kind(rt: &ResourceType, sub: &str) -> (String, String, String, Vec<&'static str>) {
    match sub {
        "scale" => (
            "autoscaling".into(),
            "v1".into(),
            "Scale".into(),
            vec!["get", "patch", "update"],
        ),
        "log" => ("".into(), "v1".into(), "Pod".into(), vec!["get"]),
        "eviction" => (
            "policy".into(),
            "v1".into(),
            "Eviction".into(),
            vec!["create"],
        ),
        "binding" => ("".into(), "v1".into(), "Binding".into(), vec!["create"]),
        "proxy" => (
            "".into(),
            "v1".into(),
            "NodeProxyOptions".into(),
            vec!["create", "delete", "get", "patch", "update"],
        ),
        "finalize" => ("".into(), "v1".into(), "Namespace".into(), vec!["update"]),
        _ => (
            rt.group.clone(),
            rt.version.clone(),
            rt.kind.clone(),
            vec!["get", "patch", "update"],
        ),
    }
}

/// `/api`
pub fn api_versions(server_address: &str) -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}],
    })
}

fn group_json(name: &str, versions: &[String]) -> Value {
    let vs: Vec<Value> = versions
        .iter()
        .map(|v| json!({"groupVersion": format!("{name}/{v}"), "version": v}))
        .collect();
    json!({"name": name, "versions": vs, "preferredVersion": vs[0]})
}

/// `/apis`
pub fn api_group_list(world: &World) -> Value {
    let groups: Vec<Value> = groups(world)
        .into_iter()
        .filter(|(g, _)| !g.is_empty())
        .map(|(g, vs)| group_json(&g, &vs))
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

/// `/apis/{group}`
pub fn api_group(world: &World, group: &str) -> Option<Value> {
    groups(world)
        .into_iter()
        .find(|(g, _)| g == group && !g.is_empty())
        .map(|(g, vs)| {
            let mut v = group_json(&g, &vs);
            v["kind"] = json!("APIGroup");
            v["apiVersion"] = json!("v1");
            v
        })
}

/// `/api/v1`, `/apis/{group}/{version}`
pub fn api_resource_list(world: &World, group: &str, version: &str) -> Option<Value> {
    let types: Vec<ResourceType> = all_types(world)
        .into_iter()
        .filter(|rt| rt.group == group && rt.version == version)
        .collect();
    if types.is_empty() {
        return None;
    }
    let mut resources = Vec::new();
    for rt in &types {
        let mut r = json!({
            "name": rt.plural,
            "singularName": rt.singular,
            "namespaced": rt.namespaced,
            "kind": rt.kind,
            "verbs": rt.verbs,
        });
        if !rt.short_names.is_empty() {
            r["shortNames"] = json!(rt.short_names);
        }
        if !rt.categories.is_empty() {
            r["categories"] = json!(rt.categories);
        }
        resources.push(r);
        for sub in &rt.subresources {
            let (g, v, kind, verbs) = subresource_kind(rt, sub);
            let mut s = json!({"name": format!("{}/{sub}", rt.plural), "singularName": "", "namespaced": rt.namespaced, "kind": kind, "verbs": verbs});
            if g != rt.group || v != rt.version {
                s["group"] = json!(g);
                s["version"] = json!(v);
            }
            resources.push(s);
        }
    }
    let group_version = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    Some(
        json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version, "resources": resources}),
    )
}

/// Aggregated discovery for `/api` (core only) or `/apis` (all other groups).
pub fn aggregated(world: &World, core: bool) -> Value {
    let types = all_types(world);
    let items: Vec<Value> = groups(world)
        .into_iter()
        .filter(|(g, _)| g.is_empty() == core)
        .map(|(g, versions)| {
            let versions: Vec<Value> = versions
                .iter()
                .map(|v| {
                    let resources: Vec<Value> = types
                        .iter()
                        .filter(|rt| rt.group == g && rt.version == *v)
                        .map(|rt| {
                            let subs: Vec<Value> = rt
                                .subresources
                                .iter()
                                .map(|sub| {
                                    let (sg, sv, kind, verbs) = subresource_kind(rt, sub);
                                    json!({"subresource": sub, "responseKind": {"group": sg, "version": sv, "kind": kind}, "verbs": verbs})
                                })
                                .collect();
                            let mut r = json!({
                                "resource": rt.plural,
                                "responseKind": {"group": rt.group, "version": rt.version, "kind": rt.kind},
                                "scope": if rt.namespaced { "Namespaced" } else { "Cluster" },
                                "singularResource": rt.singular,
                                "verbs": rt.verbs,
                            });
                            if !rt.short_names.is_empty() {
                                r["shortNames"] = json!(rt.short_names);
                            }
                            if !rt.categories.is_empty() {
                                r["categories"] = json!(rt.categories);
                            }
                            if !subs.is_empty() {
                                r["subresources"] = json!(subs);
                            }
                            r
                        })
                        .collect();
                    json!({"version": v, "resources": resources, "freshness": "Current"})
                })
                .collect();
            json!({"metadata": {"name": g, "creationTimestamp": null}, "versions": versions})
        })
        .collect();
    json!({"kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2", "metadata": {}, "items": items})
}
