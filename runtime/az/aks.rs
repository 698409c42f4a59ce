//! The AKS cluster (guide §2, §3, §6): what workload identity needs from it, and its
//! user credentials as a kubeconfig for the `kube::` primitives.

use base64::Engine as _;
use serde_json::{json, Value as Json};

use crate::error::Failure;

use super::session::{text, Azure};

pub const AKS_API: &str = "2024-09-01";
const AKS_TYPE: &str = "Microsoft.ContainerService/managedClusters";

/// The cluster's facts, and what is missing for the guide's design.
pub async fn aks(az: &Azure, group: &str, name: &str) -> Result<Json, Failure> {
    let id = az.resource_id(group, AKS_TYPE, name).await?;
    let c = az.arm.get(&id, AKS_API).await?;
    let oidc = c
        .pointer("/properties/oidcIssuerProfile/enabled")
        .and_then(Json::as_bool)
        .unwrap_or(false);
    let wi = c
        .pointer("/properties/securityProfile/workloadIdentity/enabled")
        .and_then(Json::as_bool)
        .unwrap_or(false);
    let kubelet = c
        .pointer("/properties/identityProfile/kubeletidentity")
        .cloned()
        .unwrap_or(Json::Null);
    let version = match text(&c, "/properties/currentKubernetesVersion") {
        v if v.is_empty() => text(&c, "/properties/kubernetesVersion"),
        v => v,
    };
    let mut findings = Vec::new();
    if !oidc {
        findings.push(json!({
            "check": "oidc_issuer",
            "problem": format!("the OIDC issuer is not enabled on AKS cluster {name}"),
            "fix": format!("az aks update -g {group} -n {name} --enable-oidc-issuer"),
        }));
    }
    if !wi {
        findings.push(json!({
            "check": "workload_identity",
            "problem": format!("workload identity is not enabled on AKS cluster {name}"),
            "fix": format!("az aks update -g {group} -n {name} --enable-workload-identity"),
        }));
    }
    Ok(json!({
        "id": id,
        "name": name,
        "location": text(&c, "/location"),
        "provisioning_state": text(&c, "/properties/provisioningState"),
        "oidc_issuer_enabled": oidc,
        "oidc_issuer_url": text(&c, "/properties/oidcIssuerProfile/issuerURL"),
        "workload_identity_enabled": wi,
        "kubelet_identity": {
            "client_id": text(&kubelet, "/clientId"),
            "object_id": text(&kubelet, "/objectId"),
            "resource_id": text(&kubelet, "/resourceId"),
        },
        "node_size": text(&c, "/properties/agentPoolProfiles/0/vmSize"),
        "kubernetes_version": version,
        "fqdn": text(&c, "/properties/fqdn"),
        "findings": findings,
    }))
}

/// The cluster user kubeconfig (what `az aks get-credentials` writes), as text.
pub async fn user_kubeconfig(az: &Azure, group: &str, name: &str) -> Result<String, Failure> {
    let id = az.resource_id(group, AKS_TYPE, name).await?;
    let path = format!("{id}/listClusterUserCredential");
    let out = az.arm.post(&path, AKS_API, None).await?;
    let value = text(&out, "/kubeconfigs/0/value");
    if value.is_empty() {
        return Err(Failure::new(
            crate::error::ErrorKind::Unavailable,
            format!("{id}: listClusterUserCredential returned no kubeconfig"),
        ));
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(value.trim())
        .map_err(|_| {
            Failure::new(
                crate::error::ErrorKind::Unavailable,
                format!("{id}: the kubeconfig is not base64"),
            )
        })?;
    let text = String::from_utf8(bytes).map_err(|_| {
        Failure::new(
            crate::error::ErrorKind::Unavailable,
            format!("{id}: the kubeconfig is not UTF-8"),
        )
    })?;
    Ok(text)
}

/// Whether a kubeconfig carries credentials (a token, a client key, a password),
/// rather than only an exec plugin such as kubelogin.
pub fn carries_credentials(kubeconfig: &str) -> bool {
    ["token:", "client-key-data:", "password:"]
        .iter()
        .any(|k| kubeconfig.contains(k))
}
