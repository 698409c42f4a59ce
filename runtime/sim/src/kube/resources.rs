//! The catalogue of resource types the API server serves.
//!
//! Built-in kinds are listed once here with what discovery needs (plural, short names,
//! categories, subresources) and, through k8s-openapi, how to validate an object of the
//! kind and how to describe it in OpenAPI. Kinds defined by CustomResourceDefinitions in
//! the store are added on the fly and stored as-is.

use crate::store::type_key;
use crate::world::World;
use k8s_openapi::schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::any::TypeId;
use std::borrow::Cow;
use std::sync::OnceLock;

/// How to check and describe objects of a kind k8s-openapi knows.
#[derive(Clone, Copy)]
pub struct TypedKind {
    /// Deserialises into the k8s-openapi type; `Err((field path, problem))`.
    pub validate: fn(&Value) -> Result<(), (String, String)>,
    /// Adds the kind's schema (and what it refers to) to a generator; returns a `$ref`.
    pub schema: fn(&mut SchemaGenerator) -> Schema,
    /// The OpenAPI definition name, e.g. `io.k8s.api.apps.v1.Deployment`.
    pub schema_name: fn() -> Cow<'static, str>,
}

impl std::fmt::Debug for TypedKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TypedKind({})", (self.schema_name)())
    }
}

#[derive(Debug, Clone)]
pub struct ResourceType {
    pub group: String,
    pub version: String,
    pub kind: String,
    pub plural: String,
    pub singular: String,
    pub namespaced: bool,
    pub short_names: Vec<String>,
    pub categories: Vec<String>,
    /// `status`, `scale`, `log`, `proxy`, `finalize`, `eviction`, `binding`.
    pub subresources: Vec<String>,
    /// Verbs on the main resource.
    pub verbs: Vec<String>,
    /// None for custom resources: stored as-is.
    pub typed: Option<TypedKind>,
}

impl ResourceType {
    /// `apps/v1`, or `v1` for the core group.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// Where the objects live in the store.
    pub fn type_key(&self) -> String {
        // events.k8s.io/v1 Events are a view of the core Events, as on a real server.
        if self.group == "events.k8s.io" && self.kind == "Event" {
            return "v1/Event".to_string();
        }
        type_key(&self.api_version(), &self.kind)
    }

    pub fn has_subresource(&self, name: &str) -> bool {
        self.subresources.iter().any(|s| s == name)
    }

    pub fn has_status(&self) -> bool {
        self.has_subresource("status")
    }

    /// `deployments.apps`
    pub fn group_resource(&self) -> String {
        crate::kube::status::group_resource(&self.group, &self.plural)
    }

    pub fn is_events_view(&self) -> bool {
        self.group == "events.k8s.io"
    }
}

fn validate_as<T: DeserializeOwned>(value: &Value) -> Result<(), (String, String)> {
    match serde_path_to_error::deserialize::<_, T>(value) {
        Ok(_) => Ok(()),
        Err(e) => Err((e.path().to_string(), e.inner().to_string())),
    }
}

fn schema_of<T: JsonSchema>(generator: &mut SchemaGenerator) -> Schema {
    generator.subschema_for::<T>()
}

const ALL_VERBS: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];

fn builtin<T>(short: &[&str], subresources: &[&str], categories: &[&str]) -> ResourceType
where
    T: k8s_openapi::Resource + DeserializeOwned + JsonSchema + 'static,
{
    let namespaced =
        TypeId::of::<T::Scope>() == TypeId::of::<k8s_openapi::NamespaceResourceScope>();
    ResourceType {
        group: T::GROUP.to_string(),
        version: T::VERSION.to_string(),
        kind: T::KIND.to_string(),
        plural: T::URL_PATH_SEGMENT.to_string(),
        singular: T::KIND.to_lowercase(),
        namespaced,
        short_names: short.iter().map(|s| s.to_string()).collect(),
        categories: categories.iter().map(|s| s.to_string()).collect(),
        subresources: subresources.iter().map(|s| s.to_string()).collect(),
        verbs: ALL_VERBS.iter().map(|s| s.to_string()).collect(),
        typed: Some(TypedKind {
            validate: validate_as::<T>,
            schema: schema_of::<T>,
            schema_name: <T as JsonSchema>::schema_name,
        }),
    }
}

/// The built-in kinds, in discovery order.
pub fn builtins() -> &'static [ResourceType] {
    static BUILTINS: OnceLock<Vec<ResourceType>> = OnceLock::new();
    BUILTINS.get_or_init(|| {
        use k8s_openapi::api::*;
        use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1 as apiextensions;
        let all = &["all"];
        let mut list = vec![
            builtin::<core::v1::Namespace>(&["ns"], &["status", "finalize"], &[]),
            builtin::<core::v1::Pod>(&["po"], &["status", "log", "eviction", "binding"], all),
            builtin::<core::v1::Service>(&["svc"], &["status"], all),
            builtin::<core::v1::Secret>(&[], &[], &[]),
            builtin::<core::v1::ConfigMap>(&["cm"], &[], &[]),
            builtin::<core::v1::ServiceAccount>(&["sa"], &[], &[]),
            builtin::<core::v1::Endpoints>(&["ep"], &[], &[]),
            builtin::<core::v1::PersistentVolumeClaim>(&["pvc"], &["status"], &[]),
            builtin::<core::v1::PersistentVolume>(&["pv"], &["status"], &[]),
            builtin::<core::v1::Node>(&["no"], &["status", "proxy"], &[]),
            builtin::<core::v1::Event>(&["ev"], &[], &[]),
            builtin::<core::v1::ResourceQuota>(&["quota"], &["status"], &[]),
            builtin::<core::v1::LimitRange>(&["limits"], &[], &[]),
            builtin::<apps::v1::Deployment>(&["deploy"], &["status", "scale"], all),
            builtin::<apps::v1::ReplicaSet>(&["rs"], &["status", "scale"], all),
            builtin::<apps::v1::StatefulSet>(&["sts"], &["status", "scale"], all),
            builtin::<apps::v1::DaemonSet>(&["ds"], &["status"], all),
            builtin::<apps::v1::ControllerRevision>(&[], &[], &[]),
            builtin::<batch::v1::Job>(&[], &["status"], all),
            builtin::<batch::v1::CronJob>(&["cj"], &["status"], all),
            builtin::<autoscaling::v2::HorizontalPodAutoscaler>(&["hpa"], &["status"], all),
            builtin::<policy::v1::PodDisruptionBudget>(&["pdb"], &["status"], &[]),
            builtin::<networking::v1::NetworkPolicy>(&["netpol"], &[], &[]),
            builtin::<networking::v1::Ingress>(&["ing"], &["status"], &[]),
            builtin::<networking::v1::IngressClass>(&[], &[], &[]),
            builtin::<discovery::v1::EndpointSlice>(&[], &[], &[]),
            builtin::<storage::v1::StorageClass>(&["sc"], &[], &[]),
            builtin::<rbac::v1::Role>(&[], &[], &[]),
            builtin::<rbac::v1::RoleBinding>(&[], &[], &[]),
            builtin::<rbac::v1::ClusterRole>(&[], &[], &[]),
            builtin::<rbac::v1::ClusterRoleBinding>(&[], &[], &[]),
            builtin::<apiextensions::CustomResourceDefinition>(&["crd", "crds"], &["status"], &[]),
            builtin::<coordination::v1::Lease>(&[], &[], &[]),
            builtin::<events::v1::Event>(&["ev"], &[], &[]),
            builtin::<scheduling::v1::PriorityClass>(&["pc"], &[], &[]),
            builtin::<authorization::v1::SelfSubjectAccessReview>(&[], &[], &[]),
            builtin::<authorization::v1::SelfSubjectRulesReview>(&[], &[], &[]),
        ];
        for rt in list.iter_mut() {
            if rt.group == "authorization.k8s.io" {
                rt.verbs = vec!["create".into()];
            }
        }
        list
    })
}

/// Types defined by the CustomResourceDefinitions in the store (served versions).
pub fn custom_types(world: &World) -> Vec<ResourceType> {
    let mut out = Vec::new();
    for crd in world
        .kube
        .list("apiextensions.k8s.io/v1/CustomResourceDefinition", None)
    {
        let spec = &crd["spec"];
        let names = &spec["names"];
        let (Some(group), Some(plural), Some(kind)) = (
            spec["group"].as_str(),
            names["plural"].as_str(),
            names["kind"].as_str(),
        ) else {
            continue;
        };
        let strings = |v: &Value| -> Vec<String> {
            v.as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|s| s.as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default()
        };
        for version in spec["versions"].as_array().into_iter().flatten() {
            if version["served"].as_bool() == Some(false) {
                continue;
            }
            let Some(name) = version["name"].as_str() else {
                continue;
            };
            let mut subresources = Vec::new();
            if version["subresources"]["status"].is_object() {
                subresources.push("status".to_string());
            }
            if version["subresources"]["scale"].is_object() {
                subresources.push("scale".to_string());
            }
            out.push(ResourceType {
                group: group.to_string(),
                version: name.to_string(),
                kind: kind.to_string(),
                plural: plural.to_string(),
                singular: names["singular"]
                    .as_str()
                    .unwrap_or(&kind.to_lowercase())
                    .to_string(),
                namespaced: spec["scope"].as_str() != Some("Cluster"),
                short_names: strings(&names["shortNames"]),
                categories: strings(&names["categories"]),
                subresources,
                verbs: ALL_VERBS.iter().map(|s| s.to_string()).collect(),
                typed: None,
            });
        }
    }
    out
}

/// Every type served right now: built-ins and custom resources.
pub fn all_types(world: &World) -> Vec<ResourceType> {
    let mut all = builtins().to_vec();
    all.extend(custom_types(world));
    all
}

/// The type served at `/apis/{group}/{version}/{plural}`.
pub fn find_by_path(
    world: &World,
    group: &str,
    version: &str,
    plural: &str,
) -> Option<ResourceType> {
    let matches =
        |rt: &ResourceType| rt.group == group && rt.version == version && rt.plural == plural;
    builtins()
        .iter()
        .find(|rt| matches(rt))
        .cloned()
        .or_else(|| custom_types(world).into_iter().find(matches))
}

/// The type of an object with this apiVersion and kind.
pub fn find_by_kind(world: &World, api_version: &str, kind: &str) -> Option<ResourceType> {
    let matches = |rt: &ResourceType| rt.api_version() == api_version && rt.kind == kind;
    builtins()
        .iter()
        .find(|rt| matches(rt))
        .cloned()
        .or_else(|| custom_types(world).into_iter().find(matches))
}

/// The built-in type for a store type key (`apps/v1/Deployment`), for controllers.
pub fn builtin_by_type_key(key: &str) -> Option<&'static ResourceType> {
    builtins()
        .iter()
        .find(|rt| !rt.is_events_view() && rt.type_key() == key)
}
