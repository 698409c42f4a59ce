//! Questions the rest of the rehearsal asks the Azure side.
//!
//! - The kubelet pulling an image from `<acr>.azurecr.io`: allowed only when the AKS
//!   kubelet identity holds AcrPull (or AcrPush/Contributor/Owner) on that registry —
//!   "ACR attached" (guide §2, §10 "Image pull errors").
//! - The Langfuse pods reaching Blob through workload identity (guide §3, §9, §10): the
//!   cluster must issue OIDC tokens, the managed identity's federated credential must
//!   trust the pods' service account, and the identity needs the data role (uploads)
//!   and the Delegator role (presigned URLs). The rehearsal's Langfuse endpoints ask
//!   [`workload_blob_access`] and fail the way Langfuse would.

use crate::registry::PrivateRegistryAccess;
use crate::world::World;

use super::rbac;
use super::seed::TOKEN_EXCHANGE_AUDIENCE;
use super::state::AzureState;

/// The kubelet's pull permission, from the world's role assignments.
pub struct AcrPullAccess;

impl PrivateRegistryAccess for AcrPullAccess {
    fn kubelet_may_pull(&self, world: &World, host: &str, _repository: &str) -> Result<(), String> {
        let s = &world.azure;
        if !s.seeded || !host.ends_with(".azurecr.io") {
            return Ok(());
        }
        let kubelets: Vec<&str> = s
            .clusters
            .values()
            .map(|c| c.kubelet.object_id.as_str())
            .collect();
        // a registry the rehearsal does not model (a scenario's pre-pushed `lfrunacr`)
        // stands for the client's: pullable when the kubelet may pull from a modeled one
        let scopes: Vec<String> = match s.registry_by_host(host) {
            Some(r) => vec![s.registry_id(r)],
            None => s.registries.values().map(|r| s.registry_id(r)).collect(),
        };
        let scope = scopes.first().cloned().unwrap_or_else(|| host.to_string());
        if kubelets
            .iter()
            .any(|k| scopes.iter().any(|sc| rbac::may_pull(s, k, sc)))
        {
            Ok(())
        } else {
            Err(format!(
                "the AKS kubelet identity holds no AcrPull on {scope} (ACR not attached)"
            ))
        }
    }
}

/// What the Langfuse pods (namespace/service account, annotated with the identity's
/// client id) can do with Blob storage through workload identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkloadBlobAccess {
    /// The identity's principal id, or why no token could be had (an AADSTS message).
    pub token: Result<String, String>,
    /// Uploading/listing objects (Storage Blob Data Contributor).
    pub write: Result<(), String>,
    /// Presigned URLs: the user delegation key (Storage Blob Delegator).
    pub presign: Result<(), String>,
}

pub fn workload_blob_access(
    s: &AzureState,
    identity_client_id: &str,
    namespace: &str,
    service_account: &str,
    account: &str,
    container: &str,
) -> WorkloadBlobAccess {
    let token = workload_token(s, identity_client_id, namespace, service_account);
    let (write, presign) = match (&token, s.account_by_name(account)) {
        (Err(e), _) => (Err(e.clone()), Err(e.clone())),
        (Ok(_), None) => (
            Err(format!("storage account {account} does not exist")),
            Err(format!("storage account {account} does not exist")),
        ),
        (Ok(oid), Some(a)) => {
            let account_id = s.account_id(a);
            let container_scope =
                format!("{account_id}/blobServices/default/containers/{container}");
            let write = if rbac::may_write_blobs(s, oid, &container_scope) {
                Ok(())
            } else {
                Err("403 AuthorizationPermissionMismatch: the managed identity lacks Storage Blob Data Contributor".to_string())
            };
            let presign = if rbac::may_get_delegation_key(s, oid, &account_id) {
                Ok(())
            } else {
                Err("403 AuthorizationPermissionMismatch on Get User Delegation Key: missing Storage Blob Delegator role".to_string())
            };
            (write, presign)
        }
    };
    WorkloadBlobAccess {
        token,
        write,
        presign,
    }
}

/// Whether a pod of `namespace/service_account` gets an Entra ID token as the identity.
pub fn workload_token(
    s: &AzureState,
    identity_client_id: &str,
    namespace: &str,
    service_account: &str,
) -> Result<String, String> {
    let identity = s
        .identity_by_client_id(identity_client_id)
        .ok_or_else(|| format!("AADSTS700016: Application with identifier '{identity_client_id}' was not found in the directory"))?;
    let Some(cluster) = s.clusters.values().next() else {
        return Err("no AKS cluster".into());
    };
    if !cluster.oidc_issuer_enabled || !cluster.workload_identity_enabled {
        return Err("the AKS cluster does not project service account tokens for workload identity (OIDC issuer / workload identity disabled)".into());
    }
    let subject = format!("system:serviceaccount:{namespace}:{service_account}");
    let issuer = cluster.oidc_issuer_url.trim_end_matches('/');
    if identity.federated.iter().any(|f| {
        f.issuer.trim_end_matches('/') == issuer
            && f.subject == subject
            && f.audiences.iter().any(|a| a == TOKEN_EXCHANGE_AUDIENCE)
    }) {
        Ok(identity.principal_id.clone())
    } else {
        Err(format!("AADSTS70021: No matching federated identity record found for presented assertion. Assertion Issuer: '{}'. Assertion Subject: '{subject}'.", cluster.oidc_issuer_url))
    }
}
