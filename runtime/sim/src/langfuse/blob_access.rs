//! How a Langfuse pod reaches Azure Blob: where its buckets are, which credential it
//! gets, and what that credential may do.
//!
//! The chart turns the `s3.*` values into environment variables per bucket
//! (`LANGFUSE_S3_EVENT_UPLOAD_BUCKET`, `…_PREFIX`, `…_ENDPOINT`, and the same for
//! `MEDIA_UPLOAD`), plus `LANGFUSE_USE_AZURE_BLOB=true` for `storageProvider: azure`.
//! The bucket is the blob container; the endpoint names the storage account
//! (`https://<account>.blob.core.windows.net`).
//!
//! The guide's design (§1–§3) has no keys: Langfuse's Azure client uses
//! `DefaultAzureCredential`, which on AKS is workload identity. That works only when
//! every piece is in place, and the rehearsal checks each one where AKS would:
//!
//! 1. the pod carries the label `azure.workload.identity/use: "true"` — otherwise the
//!    webhook injects nothing and the credential is unavailable;
//! 2. its service account is annotated `azure.workload.identity/client-id` with the
//!    managed identity's client id;
//! 3. Entra ID exchanges the projected token: the cluster's OIDC issuer is on and the
//!    identity has a federated credential for this issuer and
//!    `system:serviceaccount:<namespace>:<service account>`;
//! 4. the identity holds Storage Blob Data Contributor (writes) and, for presigned
//!    URLs, Storage Blob Delegator (the user delegation key).
//!
//! Steps 3 and 4 are the Azure side's [`workload_blob_access`]. Each failure reads like
//! the Azure SDK's error as Langfuse logs it. Storage keys in the environment
//! (`…_ACCESS_KEY_ID`/`…_SECRET_ACCESS_KEY`, the guide's §12 fallback) are used
//! instead, and refused when the account disallows key access.

use base64::Engine as _;

use super::deployed::WebPod;
use crate::azure::state::{AzureState, Blob};
use crate::azure::{web, workload_blob_access};
use crate::world::World;

/// The buckets a Langfuse pod writes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bucket {
    /// Raw ingestion events (`s3.eventUpload`).
    EventUpload,
    /// Media files, uploaded by clients through presigned URLs (`s3.mediaUpload`).
    MediaUpload,
}

impl Bucket {
    fn env(self, suffix: &str) -> String {
        let bucket = match self {
            Bucket::EventUpload => "EVENT_UPLOAD",
            Bucket::MediaUpload => "MEDIA_UPLOAD",
        };
        format!("LANGFUSE_S3_{bucket}_{suffix}")
    }
}

/// Where a bucket's objects go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobTarget {
    pub account: String,
    pub container: String,
    /// `events/`, `media/` (may be empty).
    pub prefix: String,
}

/// The bucket's account, container and prefix, from the pod's environment.
pub fn target(pod: &WebPod, bucket: Bucket) -> Result<BlobTarget, String> {
    let container = pod
        .env(&bucket.env("BUCKET"))
        .ok_or_else(|| format!("{} is not set", bucket.env("BUCKET")))?
        .to_string();
    let endpoint = pod.env(&bucket.env("ENDPOINT")).unwrap_or_default();
    if pod.env("LANGFUSE_USE_AZURE_BLOB") != Some("true") {
        // the S3 client, pointed at Blob (or at AWS) without keys
        return Err(
            "CredentialsProviderError: Could not load credentials from any providers".into(),
        );
    }
    let host = url::Url::parse(endpoint)
        .ok()
        .and_then(|u| u.host_str().map(str::to_ascii_lowercase))
        .ok_or_else(|| {
            format!(
                "Invalid URL: {} ({} is not a Blob endpoint)",
                endpoint,
                bucket.env("ENDPOINT")
            )
        })?;
    let Some(account) = host.strip_suffix(".blob.core.windows.net") else {
        return Err(format!("getaddrinfo ENOTFOUND {host}"));
    };
    Ok(BlobTarget {
        account: account.to_string(),
        container,
        prefix: pod
            .env(&bucket.env("PREFIX"))
            .unwrap_or_default()
            .to_string(),
    })
}

/// What the pod's credential may do on a target. Errors are log-ready messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodBlobAccess {
    /// Writing objects (Data Contributor).
    pub write: Result<(), String>,
    /// The user delegation key for presigned URLs: Ok is the principal the key is for.
    pub presign: Result<String, String>,
}

fn denied(why: &str) -> PodBlobAccess {
    PodBlobAccess {
        write: Err(why.to_string()),
        presign: Err(why.to_string()),
    }
}

const PERMISSION_MISMATCH: &str = "RestError: This request is not authorized to perform this operation using this permission. (code: AuthorizationPermissionMismatch, statusCode: 403)";

/// Access of `pod`, whose bucket is `bucket`, to `target`.
pub fn access(world: &World, pod: &WebPod, bucket: Bucket, t: &BlobTarget) -> PodBlobAccess {
    let s = &world.azure;
    let Some(account) = s.account_by_name(&t.account) else {
        return denied(&format!(
            "getaddrinfo ENOTFOUND {}.blob.core.windows.net",
            t.account
        ));
    };
    if pod.env(&bucket.env("ACCESS_KEY_ID")).is_some()
        && pod.env(&bucket.env("SECRET_ACCESS_KEY")).is_some()
    {
        return if account.allow_shared_key_access {
            PodBlobAccess {
                write: Ok(()),
                presign: Err("presigned URLs signed with account keys are not rehearsed (the rehearsal's Blob accepts user delegation SAS only)".into()),
            }
        } else {
            denied("RestError: Key based authentication is not permitted on this storage account. (code: KeyBasedAuthenticationNotPermitted, statusCode: 403)")
        };
    }
    if pod
        .labels
        .get("azure.workload.identity/use")
        .and_then(|v| v.as_str())
        != Some("true")
    {
        return denied("CredentialUnavailableError: DefaultAzureCredential => Failed to retrieve a token from the included credentials. WorkloadIdentityCredential: is unavailable. tenantId, clientId, and federatedTokenFilePath are required parameters (the pod has no label azure.workload.identity/use: \"true\", so the workload identity webhook injected nothing). ManagedIdentityCredential: the request to the IMDS endpoint was refused.");
    }
    let client_id = world
        .kube
        .get("v1/ServiceAccount", &pod.namespace, &pod.service_account)
        .and_then(|sa| {
            sa["metadata"]["annotations"]["azure.workload.identity/client-id"]
                .as_str()
                .map(String::from)
        })
        .filter(|c| !c.is_empty());
    let Some(client_id) = client_id else {
        return denied(&format!("CredentialUnavailableError: DefaultAzureCredential => Failed to retrieve a token from the included credentials. WorkloadIdentityCredential: is unavailable. clientId is a required parameter (service account {}/{} has no annotation azure.workload.identity/client-id).", pod.namespace, pod.service_account));
    };
    let a = workload_blob_access(
        s,
        &client_id,
        &pod.namespace,
        &pod.service_account,
        &t.account,
        &t.container,
    );
    let principal = match a.token {
        Ok(p) => p,
        Err(e) => {
            return denied(&format!(
                "AuthenticationError: WorkloadIdentityCredential authentication failed. {e}"
            ))
        }
    };
    PodBlobAccess {
        write: a.write.map_err(|e| format!("{PERMISSION_MISMATCH} [{e}]")),
        presign: a
            .presign
            .map(|_| principal)
            .map_err(|e| format!("{PERMISSION_MISMATCH} [{e}]")),
    }
}

/// Writes an object as the pod (after [`access`] allowed it): the container must exist.
pub fn put(
    s: &mut AzureState,
    t: &BlobTarget,
    path: &str,
    content_type: &str,
    content: &[u8],
) -> Result<(), String> {
    let account = s
        .account_by_name_mut(&t.account)
        .ok_or_else(|| format!("getaddrinfo ENOTFOUND {}.blob.core.windows.net", t.account))?;
    let container = account.containers.get_mut(&t.container).ok_or(
        "RestError: The specified container does not exist. (code: ContainerNotFound, statusCode: 404)",
    )?;
    let now = web::now();
    container.blobs.insert(
        path.to_string(),
        Blob {
            content: base64::engine::general_purpose::STANDARD.encode(content),
            content_type: content_type.to_string(),
            last_modified: web::http_date(now),
            etag: format!(
                "\"0x8DD{:011X}\"",
                now.as_millisecond() as u64 & 0x0FFF_FFFF_FFFF
            ),
        },
    );
    Ok(())
}
