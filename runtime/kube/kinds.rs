//! Kind names → API resources.
//!
//! Scripts name kinds the way people do: `Deployment`, `deployments`, `deploy`,
//! `pvc`, `apps/v1/Deployment`, `certificates.cert-manager.io`. Built-in kinds are
//! resolved from k8s-openapi's types — no request, and their manifests are checked
//! against the typed schema before anything is sent. Any other kind costs one
//! discovery, once per run: the group version named by a manifest's `apiVersion`,
//! or, for a bare unknown name, the server's whole list, cached.

use std::any::TypeId;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use k8s_openapi::api::{
    apps, autoscaling, batch, coordination, core, discovery, networking, policy, rbac, scheduling,
    storage,
};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use k8s_openapi::NamespaceResourceScope;
use kube::core::{ApiResource, GroupVersionKind};
use kube::discovery::{Discovery, Scope};
use serde::de::DeserializeOwned;
use serde_json::Value as Json;

use crate::error::Failure;
use crate::kube::errors::{api_failure, Object};
use crate::kube::Cluster;

/// Checks a manifest against a k8s-openapi type; the error names the field.
type Check = fn(&Json) -> Result<(), String>;

/// A resolved kind.
#[derive(Clone, Debug)]
pub struct Kind {
    pub resource: ApiResource,
    pub namespaced: bool,
    short_names: &'static [&'static str],
    /// Checks a manifest against the k8s-openapi type (built-ins only).
    check: Option<Check>,
}

impl Kind {
    pub fn name(&self) -> &str {
        &self.resource.kind
    }

    /// Whether this is the kind named `kind` in group `group` (any version).
    pub fn is(&self, group: &str, kind: &str) -> bool {
        self.resource.group == group && self.resource.kind == kind
    }

    fn answers_to(&self, name: &str) -> bool {
        let r = &self.resource;
        r.kind.eq_ignore_ascii_case(name)
            || r.plural.eq_ignore_ascii_case(name)
            || self
                .short_names
                .iter()
                .any(|s| s.eq_ignore_ascii_case(name))
    }

    /// Checks `manifest` against the typed schema; the error names the field.
    pub fn check(&self, manifest: &Json) -> Result<(), String> {
        match self.check {
            Some(check) => check(manifest),
            None => Ok(()),
        }
    }
}

fn check_as<K: DeserializeOwned>(manifest: &Json) -> Result<(), String> {
    serde_path_to_error::deserialize::<_, K>(manifest)
        .map(|_| ())
        .map_err(|e| {
            let path = e.path().to_string();
            if path == "." || path.is_empty() {
                e.inner().to_string()
            } else {
                format!("{path}: {}", e.inner())
            }
        })
}

fn builtin<K>(short_names: &'static [&'static str]) -> Kind
where
    K: k8s_openapi::Resource + DeserializeOwned + 'static,
    K::Scope: 'static,
{
    Kind {
        resource: ApiResource {
            group: K::GROUP.into(),
            version: K::VERSION.into(),
            api_version: K::API_VERSION.into(),
            kind: K::KIND.into(),
            plural: K::URL_PATH_SEGMENT.into(),
        },
        namespaced: TypeId::of::<K::Scope>() == TypeId::of::<NamespaceResourceScope>(),
        short_names,
        check: Some(check_as::<K>),
    }
}

/// The kinds every cluster serves, with kubectl's short names.
pub fn builtins() -> &'static [Kind] {
    static ALL: OnceLock<Vec<Kind>> = OnceLock::new();
    ALL.get_or_init(|| {
        vec![
            builtin::<core::v1::Namespace>(&["ns"]),
            builtin::<core::v1::Secret>(&[]),
            builtin::<core::v1::ConfigMap>(&["cm"]),
            builtin::<core::v1::Pod>(&["po"]),
            builtin::<core::v1::Service>(&["svc"]),
            builtin::<core::v1::ServiceAccount>(&["sa"]),
            builtin::<core::v1::Event>(&["ev"]),
            builtin::<core::v1::PersistentVolumeClaim>(&["pvc"]),
            builtin::<core::v1::PersistentVolume>(&["pv"]),
            builtin::<core::v1::Node>(&["no"]),
            builtin::<core::v1::Endpoints>(&["ep"]),
            builtin::<core::v1::LimitRange>(&["limits"]),
            builtin::<core::v1::ResourceQuota>(&["quota"]),
            builtin::<core::v1::ReplicationController>(&["rc"]),
            builtin::<apps::v1::Deployment>(&["deploy"]),
            builtin::<apps::v1::StatefulSet>(&["sts"]),
            builtin::<apps::v1::DaemonSet>(&["ds"]),
            builtin::<apps::v1::ReplicaSet>(&["rs"]),
            builtin::<apps::v1::ControllerRevision>(&[]),
            builtin::<batch::v1::Job>(&[]),
            builtin::<batch::v1::CronJob>(&["cj"]),
            builtin::<networking::v1::Ingress>(&["ing"]),
            builtin::<networking::v1::IngressClass>(&[]),
            builtin::<networking::v1::NetworkPolicy>(&["netpol"]),
            builtin::<policy::v1::PodDisruptionBudget>(&["pdb"]),
            builtin::<storage::v1::StorageClass>(&["sc"]),
            builtin::<storage::v1::CSIDriver>(&[]),
            builtin::<storage::v1::VolumeAttachment>(&[]),
            builtin::<rbac::v1::Role>(&[]),
            builtin::<rbac::v1::RoleBinding>(&[]),
            builtin::<rbac::v1::ClusterRole>(&[]),
            builtin::<rbac::v1::ClusterRoleBinding>(&[]),
            builtin::<autoscaling::v2::HorizontalPodAutoscaler>(&["hpa"]),
            builtin::<coordination::v1::Lease>(&[]),
            builtin::<scheduling::v1::PriorityClass>(&["pc"]),
            builtin::<discovery::v1::EndpointSlice>(&[]),
            builtin::<CustomResourceDefinition>(&["crd", "crds"]),
        ]
    })
}

/// Kinds learnt from the server this run.
#[derive(Default)]
pub struct KindCache {
    /// Every kind the server serves (filled by the first lookup of an unknown name).
    all: tokio::sync::Mutex<Option<Arc<Vec<Kind>>>>,
    /// `apiVersion` + kind → kind, from manifests.
    pinned: Mutex<HashMap<(String, String), Kind>>,
}

/// How the caller named the kind.
enum Name<'a> {
    /// `Deployment`, `deploy`, `deployments`.
    Plain(&'a str),
    /// `apps/v1/Deployment`, `v1/Secret`.
    Versioned { api_version: &'a str, kind: &'a str },
    /// `deployments.apps`, `Certificate.cert-manager.io`.
    Grouped { name: &'a str, group: &'a str },
}

fn parse_name(text: &str) -> Name<'_> {
    if let Some((api_version, kind)) = text.rsplit_once('/') {
        return Name::Versioned { api_version, kind };
    }
    if let Some((name, group)) = text.split_once('.') {
        return Name::Grouped { name, group };
    }
    Name::Plain(text)
}

fn unknown(text: &str, server: &str) -> Failure {
    Failure::invalid(format!(
        "unknown kind `{text}`: the Kubernetes API server at {server} does not serve it"
    ))
    .with_hint(
        "check the spelling (Deployment, pvc, apps/v1/Deployment, certificates.cert-manager.io), \
         or install the CustomResourceDefinition first",
    )
    .with_detail("reason", "unknown_kind")
}

impl KindCache {
    /// Resolves a kind as a script names it.
    pub async fn resolve(&self, cluster: &Cluster, text: &str) -> Result<Kind, Failure> {
        let text = text.trim();
        if text.is_empty() {
            return Err(Failure::invalid(
                "a kind is required (e.g. Deployment, pvc)",
            ));
        }
        match parse_name(text) {
            Name::Versioned { api_version, kind } => {
                self.for_manifest(cluster, api_version, kind).await
            }
            Name::Plain(name) => {
                if let Some(kind) = builtins().iter().find(|k| k.answers_to(name)) {
                    return Ok(kind.clone());
                }
                let all = self.all(cluster).await?;
                all.iter()
                    .find(|k| k.answers_to(name))
                    .cloned()
                    .ok_or_else(|| unknown(text, &cluster.server))
            }
            Name::Grouped { name, group } => {
                let matches = |k: &&Kind| k.resource.group == group && k.answers_to(name);
                if let Some(kind) = builtins().iter().find(matches) {
                    return Ok(kind.clone());
                }
                let all = self.all(cluster).await?;
                all.iter()
                    .find(matches)
                    .cloned()
                    .ok_or_else(|| unknown(text, &cluster.server))
            }
        }
    }

    /// Resolves a manifest's `apiVersion` and `kind`.
    pub async fn for_manifest(
        &self,
        cluster: &Cluster,
        api_version: &str,
        kind: &str,
    ) -> Result<Kind, Failure> {
        if let Some(k) = builtins()
            .iter()
            .find(|k| k.resource.api_version == api_version && k.resource.kind == kind)
        {
            return Ok(k.clone());
        }
        let key = (api_version.to_string(), kind.to_string());
        if let Some(k) = self.lock_pinned().get(&key) {
            return Ok(k.clone());
        }
        let (group, version) = match api_version.split_once('/') {
            Some((g, v)) => (g, v),
            None => ("", api_version),
        };
        let gvk = GroupVersionKind::gvk(group, version, kind);
        let (resource, caps) = kube::discovery::pinned_kind(&cluster.client, &gvk)
            .await
            .map_err(|e| match &e {
                kube::Error::Api(s) if s.code == 404 => {
                    unknown(&format!("{api_version}/{kind}"), &cluster.server)
                }
                kube::Error::Discovery(_) => {
                    unknown(&format!("{api_version}/{kind}"), &cluster.server)
                }
                _ => api_failure(e, "discover", &Object::new(kind, "", ""), &cluster.server),
            })?;
        let resolved = Kind {
            resource,
            namespaced: caps.scope == Scope::Namespaced,
            short_names: &[],
            check: None,
        };
        self.lock_pinned().insert(key, resolved.clone());
        Ok(resolved)
    }

    fn lock_pinned(&self) -> std::sync::MutexGuard<'_, HashMap<(String, String), Kind>> {
        self.pinned.lock().unwrap_or_else(|e| e.into_inner())
    }

    async fn all(&self, cluster: &Cluster) -> Result<Arc<Vec<Kind>>, Failure> {
        let mut all = self.all.lock().await;
        if let Some(kinds) = all.as_ref() {
            return Ok(kinds.clone());
        }
        let discovery = Discovery::new(cluster.client.clone())
            .run()
            .await
            .map_err(|e| {
                api_failure(
                    e,
                    "discover",
                    &Object::new("API resource", "", ""),
                    &cluster.server,
                )
            })?;
        let kinds: Vec<Kind> = discovery
            .groups()
            .flat_map(|g| g.recommended_resources())
            .map(|(resource, caps)| Kind {
                resource,
                namespaced: caps.scope == Scope::Namespaced,
                short_names: &[],
                check: None,
            })
            .collect();
        let kinds = Arc::new(kinds);
        *all = Some(kinds.clone());
        Ok(kinds)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn find(name: &str) -> Option<&'static Kind> {
        builtins().iter().find(|k| k.answers_to(name))
    }

    #[test]
    fn built_ins_answer_to_kind_plural_and_short_name() {
        for name in ["Deployment", "deployment", "deployments", "deploy"] {
            assert_eq!(find(name).unwrap().resource.plural, "deployments");
        }
        let pvc = find("pvc").unwrap();
        assert_eq!(pvc.resource.kind, "PersistentVolumeClaim");
        assert!(pvc.namespaced);
        assert!(!find("sc").unwrap().namespaced);
        assert!(!find("Namespace").unwrap().namespaced);
    }

    #[test]
    fn typed_check_names_the_bad_field() {
        let deploy = find("Deployment").unwrap();
        let bad = serde_json::json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web"},
            "spec": {"replicas": "three", "selector": {}, "template": {}}
        });
        let err = deploy.check(&bad).unwrap_err();
        assert!(err.starts_with("spec.replicas: invalid type"), "{err}");
    }
}
