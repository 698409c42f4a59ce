//! The Blob data plane (guide §9 "Blob access", "Presigned URLs"; §10 "Presigned URL
//! 403"), through `azure_storage_blob` with the run's Entra ID credential — never a
//! storage account key.
//!
//! Presigned URLs are what Langfuse hands browsers for media. On Azure without keys
//! they are *user delegation SAS* URLs: the identity asks the Blob service for a user
//! delegation key (which needs the Storage Blob Delegator role — the guide's most
//! common 403), then signs the URL with that key. [`user_delegation_sas`] does the same,
//! so the whole chain can be tried from lfrun.

use std::sync::Arc;

use azure_core::http::{RequestContent, StatusCode};
use azure_storage_blob::models::BlobContainerClientListBlobsOptions;
use azure_storage_blob::{BlobServiceClient, BlobServiceClientOptions};
use base64::Engine as _;
use futures::StreamExt;
use serde_json::{json, Value as Json};

use crate::error::{ErrorKind, Failure};
use crate::plan::Change;
use crate::secret::Secret;

use super::session::Azure;

/// The service version our SAS strings are signed for (format of 2020-12-06 and later).
pub const SAS_VERSION: &str = "2022-11-02";

fn service(az: &Azure, account: &str) -> Result<BlobServiceClient, Failure> {
    let url = az.endpoints.blob_url(account);
    let options = BlobServiceClientOptions {
        client_options: crate::http::azure_client_options(&az.env)?,
        ..BlobServiceClientOptions::default()
    };
    let url = azure_core::http::Url::parse(&url)
        .map_err(|e| Failure::config(format!("blob endpoint {url}: {e}")))?;
    BlobServiceClient::new(
        url,
        Some(az.credential.clone() as Arc<dyn azure_core::credentials::TokenCredential>),
        Some(options),
    )
    .map_err(|e| Failure::config(format!("cannot set up the Blob client for {account}: {e}")))
}

/// A Blob error as a failure: kind from the status, the service's error code, and
/// what the code means for this design.
fn blob_failure(what: &str, e: &azure_core::Error) -> Failure {
    let (status, code) = match e.kind() {
        azure_core::error::ErrorKind::HttpResponse {
            status, error_code, ..
        } => (Some(*status), error_code.clone().unwrap_or_default()),
        _ => (None, String::new()),
    };
    let first = crate::secret::redact(&error_chain(e));
    let (kind, hint) = match (status, code.as_str()) {
        (Some(StatusCode::Forbidden), "AuthorizationPermissionMismatch") => (
            ErrorKind::Forbidden,
            "the identity lacks the data role: assign Storage Blob Data Contributor on the storage account".to_string(),
        ),
        (Some(StatusCode::Forbidden), "KeyBasedAuthenticationNotPermitted") => (
            ErrorKind::Forbidden,
            "shared-key access is disabled (as the design wants); use Entra ID tokens".to_string(),
        ),
        (Some(StatusCode::Forbidden), _) | (Some(StatusCode::Unauthorized), _) => (
            ErrorKind::Forbidden,
            "check the identity's roles on the storage account and the account's network rules".to_string(),
        ),
        (Some(StatusCode::NotFound), _) => (ErrorKind::NotFound, "check the account, container and blob names".to_string()),
        (Some(StatusCode::Conflict), _) => (ErrorKind::Conflict, String::new()),
        (Some(_), _) => (ErrorKind::Unavailable, "the Blob service failed; try again".to_string()),
        (None, _) if matches!(e.kind(), azure_core::error::ErrorKind::Credential) => (
            ErrorKind::Forbidden,
            "could not get a token for Azure Storage: check azure.credential.*".to_string(),
        ),
        (None, _) => (ErrorKind::Unavailable, "check the network path to the storage account".to_string()),
    };
    let mut f = Failure::new(
        kind,
        format!(
            "{what}: {}{first}",
            if code.is_empty() {
                String::new()
            } else {
                format!("{code}: ")
            }
        ),
    )
    .with_hint(hint)
    .with_detail("code", code);
    if let Some(s) = status {
        f = f.with_detail("status", u16::from(s) as rhai::INT);
    }
    f
}

/// An SDK error with its causes, one line each (the cause — e.g. Entra ID's AADSTS
/// message for a failed token — is often two levels down).
fn error_chain(e: &azure_core::Error) -> String {
    let mut parts = vec![e.to_string().lines().next().unwrap_or_default().to_string()];
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let line = s.to_string().lines().next().unwrap_or_default().to_string();
        if !parts.contains(&line) {
            parts.push(line);
        }
        source = s.source();
    }
    parts.join(": ")
}

/// Blobs under `prefix` (e.g. `events/`): name, size, last modified.
pub async fn list(
    az: &Azure,
    account: &str,
    container: &str,
    prefix: &str,
) -> Result<Vec<Json>, Failure> {
    let what = format!("listing {account}/{container}/{prefix}*");
    let client = service(az, account)?.blob_container_client(container);
    let options = BlobContainerClientListBlobsOptions {
        prefix: (!prefix.is_empty()).then(|| prefix.to_string()),
        ..Default::default()
    };
    let mut pager = client
        .list_blobs(Some(options))
        .map_err(|e| blob_failure(&what, &e))?;
    let mut out = Vec::new();
    while let Some(item) = pager.next().await {
        let item = item.map_err(|e| blob_failure(&what, &e))?;
        let props = item.properties.as_ref();
        out.push(json!({
            "name": item.name.clone().unwrap_or_default(),
            "size": props.and_then(|p| p.content_length).unwrap_or(0),
            "last_modified": props.and_then(|p| p.last_modified).map(|t| t.to_string()).unwrap_or_default(),
        }));
    }
    Ok(out)
}

/// Uploads `text` as a block blob (a change: planned in a dry run).
pub async fn put(
    az: &Azure,
    account: &str,
    container: &str,
    name: &str,
    text: &str,
) -> Result<Json, Failure> {
    let what = format!("{account}/{container}/{name}");
    let client = service(az, account)?.blob_client(container, name);
    let bytes = text.as_bytes().to_vec();
    let len = bytes.len();
    let change = Change::new("upload blob", &what).detail(format!("{len} bytes"));
    let applied = az
        .run
        .change(change, async {
            client
                .upload(RequestContent::from(bytes), None)
                .await
                .map(|_| ())
                .map_err(|e| blob_failure(&format!("uploading {what}"), &e))
        })
        .await?;
    Ok(json!({"outcome": applied.outcome("uploaded"), "blob": what, "size": len}))
}

/// Downloads a blob as text.
pub async fn get(
    az: &Azure,
    account: &str,
    container: &str,
    name: &str,
) -> Result<String, Failure> {
    let what = format!("downloading {account}/{container}/{name}");
    let client = service(az, account)?.blob_client(container, name);
    let result = client
        .download(None)
        .await
        .map_err(|e| blob_failure(&what, &e))?;
    let bytes = result
        .body
        .collect()
        .await
        .map_err(|e| blob_failure(&what, &e))?;
    Ok(String::from_utf8_lossy(&bytes).to_string())
}

/// A user delegation key: what signs presigned URLs without an account key.
pub struct DelegationKey {
    pub oid: String,
    pub tid: String,
    pub start: String,
    pub expiry: String,
    pub service: String,
    pub version: String,
    pub value: Vec<u8>,
}

pub async fn delegation_key(
    az: &Azure,
    account: &str,
    minutes: i64,
) -> Result<DelegationKey, Failure> {
    let what = format!("getting a user delegation key from {account}");
    let client = service(az, account)?;
    let now = time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap_or(time::OffsetDateTime::now_utc());
    let start = now - time::Duration::minutes(5);
    let expiry = now + time::Duration::minutes(minutes.max(1));
    let key_info = azure_storage_blob::models::KeyInfo {
        start: Some(start),
        expiry: Some(expiry),
        ..Default::default()
    };
    let response = client
        .get_user_delegation_key(RequestContent::try_from(key_info).map_err(|e| blob_failure(&what, &e))?, None)
        .await
        .map_err(|e| {
            let f = blob_failure(&what, &e);
            if f.kind == ErrorKind::Forbidden && f.details.get("code").is_some_and(|c| c.to_string() == "AuthorizationPermissionMismatch") {
                Failure::new(ErrorKind::Forbidden, format!("{what}: 403 AuthorizationPermissionMismatch — missing Storage Blob Delegator role"))
                    .with_hint(format!("assign Storage Blob Delegator on storage account {account} to the identity (guide §2, §10: presigned URLs answer 403 without it)"))
                    .with_detail("code", "AuthorizationPermissionMismatch")
                    .with_detail("missing_role", "Storage Blob Delegator")
            } else {
                f
            }
        })?;
    let key = response.into_model().map_err(|e| blob_failure(&what, &e))?;
    let fmt = |t: Option<time::OffsetDateTime>| t.map(iso_seconds).unwrap_or_default();
    let value = key.value.clone().unwrap_or_default();
    crate::secret::register(&base64::engine::general_purpose::STANDARD.encode(&value));
    Ok(DelegationKey {
        oid: key.signed_oid.clone().unwrap_or_default(),
        tid: key.signed_tid.clone().unwrap_or_default(),
        start: fmt(key.signed_start),
        expiry: fmt(key.signed_expiry),
        service: key.signed_service.clone().unwrap_or_else(|| "b".into()),
        version: key.signed_version.clone().unwrap_or_default(),
        value,
    })
}

/// `2026-12-03T16:30:00Z`
pub fn iso_seconds(t: time::OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// The string a blob user delegation SAS signs (service version 2020-12-06 and later).
pub fn string_to_sign(fields: &SasFields, key: &DelegationKey) -> String {
    [
        fields.permissions.as_str(),
        fields.start.as_str(),
        fields.expiry.as_str(),
        fields.canonical_resource.as_str(),
        key.oid.as_str(),
        key.tid.as_str(),
        key.start.as_str(),
        key.expiry.as_str(),
        key.service.as_str(),
        key.version.as_str(),
        "", // signedAuthorizedUserObjectId
        "", // signedUnauthorizedUserObjectId
        "", // signedCorrelationId
        "", // signedIP
        "https",
        SAS_VERSION,
        "b", // signedResource: blob
        "",  // signedSnapshotTime
        "",  // signedEncryptionScope
        "",
        "",
        "",
        "",
        "", // rscc, rscd, rsce, rscl, rsct
    ]
    .join("\n")
}

pub struct SasFields {
    pub permissions: String,
    pub start: String,
    pub expiry: String,
    /// `/blob/<account>/<container>/<blob>`
    pub canonical_resource: String,
}

/// A user delegation SAS URL for one blob, valid `minutes`, with `permissions`
/// (`r`, `cw`, `rcw`…). The URL is a bearer credential, so it is a Secret.
pub async fn user_delegation_sas(
    az: &Azure,
    account: &str,
    container: &str,
    blob: &str,
    permissions: &str,
    minutes: i64,
) -> Result<Secret, Failure> {
    if permissions.is_empty() || !permissions.chars().all(|c| "racwdxyltmeopi".contains(c)) {
        return Err(Failure::invalid(format!("user_delegation_sas: `{permissions}` is not a SAS permission string (e.g. \"r\", \"cw\")")));
    }
    let key = delegation_key(az, account, minutes).await?;
    let now = time::OffsetDateTime::now_utc();
    let fields = SasFields {
        permissions: permissions.to_string(),
        start: iso_seconds(now - time::Duration::minutes(5)),
        expiry: iso_seconds(now + time::Duration::minutes(minutes.max(1))),
        canonical_resource: format!("/blob/{account}/{container}/{blob}"),
    };
    let signature = sign(&key.value, &string_to_sign(&fields, &key));
    let query = [
        ("sv", SAS_VERSION),
        ("spr", "https"),
        ("st", fields.start.as_str()),
        ("se", fields.expiry.as_str()),
        ("skoid", key.oid.as_str()),
        ("sktid", key.tid.as_str()),
        ("skt", key.start.as_str()),
        ("ske", key.expiry.as_str()),
        ("sks", key.service.as_str()),
        ("skv", key.version.as_str()),
        ("sr", "b"),
        ("sp", fields.permissions.as_str()),
        ("sig", signature.as_str()),
    ]
    .iter()
    .map(|(k, v)| format!("{k}={}", encode(v)))
    .collect::<Vec<_>>()
    .join("&");
    let blob_path = blob.split('/').map(encode).collect::<Vec<_>>().join("/");
    Ok(Secret::new(format!(
        "{}{container}/{blob_path}?{query}",
        az.endpoints.blob_url(account)
    )))
}

/// base64(HMAC-SHA256(key, text))
pub fn sign(key: &[u8], text: &str) -> String {
    let k = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, key);
    let tag = aws_lc_rs::hmac::sign(&k, text.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(tag.as_ref())
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
