//! Media uploads through presigned URLs (guide §9 "Presigned URLs", §10 "Presigned
//! URL 403"), as Langfuse's SDKs and `/api/public/media` do them:
//!
//! 1. `POST /api/public/media` `{traceId, observationId?, contentType, contentLength,
//!    sha256Hash, field}` → `201 {mediaId, uploadUrl}`. The media id is the first 22
//!    characters of the URL-safe SHA-256; the object is
//!    `<LANGFUSE_S3_MEDIA_UPLOAD_PREFIX><project>/<mediaId>.<ext>`; `uploadUrl` is a
//!    user delegation SAS URL for it (`presign.rs`). Media already uploaded with the
//!    same hash and type answers `uploadUrl: null`.
//! 2. The client `PUT`s the bytes to `uploadUrl` (the Blob host, which checks the SAS)
//!    with `x-ms-blob-type: BlockBlob`.
//! 3. The client reports the upload: `PATCH /api/public/media/<id>` `{uploadedAt,
//!    uploadHttpStatus, uploadHttpError?, uploadTimeMs?}` → 200 (Blob answers the
//!    upload with 201, which counts as uploaded, like S3's 200).
//! 4. `GET /api/public/media/<id>` → `200 {mediaId, contentType, contentLength,
//!    uploadedAt, url, urlExpiry}`, `url` a read SAS the client then `GET`s. Before
//!    step 3 it is `404 Media not yet uploaded`.
//!
//! Signing needs the identity's user delegation key. Without Storage Blob Delegator
//! the Blob service refuses it (403 `AuthorizationPermissionMismatch`): the web pod
//! logs that error and `POST` answers `500 {"message": "Failed to get media upload
//! URL", "error": "InternalServerError"}`; a download link fails the same way, with
//! the Blob error in the 500's `error`.

use axum::body::Body;
use axum::http::{Method, Response, StatusCode};
use serde_json::{json, Value as Json};

use super::api_auth;
use super::blob_access::{self, Bucket};
use super::deployed::WebPod;
use super::presign::{self, Permission};
use super::request::{self, PublicRequest};
use super::state::{row_key, MediaRecord};
use crate::azure::web;
use crate::world::World;

/// Content types Langfuse accepts for media, with the file extension it stores them under.
const CONTENT_TYPES: &[(&str, &str)] = &[
    ("image/png", "png"),
    ("image/jpeg", "jpeg"),
    ("image/jpg", "jpg"),
    ("image/webp", "webp"),
    ("image/gif", "gif"),
    ("image/svg+xml", "svg"),
    ("image/tiff", "tiff"),
    ("image/bmp", "bmp"),
    ("audio/mpeg", "mp3"),
    ("audio/mp3", "mp3"),
    ("audio/wav", "wav"),
    ("audio/ogg", "ogg"),
    ("audio/oga", "oga"),
    ("audio/aac", "aac"),
    ("audio/mp4", "m4a"),
    ("audio/flac", "flac"),
    ("video/mp4", "mp4"),
    ("video/webm", "webm"),
    ("text/plain", "txt"),
    ("text/html", "html"),
    ("text/css", "css"),
    ("text/csv", "csv"),
    ("application/pdf", "pdf"),
    ("application/msword", "doc"),
    ("application/vnd.ms-excel", "xls"),
    ("application/zip", "zip"),
    ("application/json", "json"),
    ("application/xml", "xml"),
    ("application/octet-stream", "bin"),
];

/// How long an upload URL is valid (Langfuse: one hour).
const UPLOAD_URL_TTL_SECS: i64 = 3600;

/// An upload the client reported as done: S3 answers 200, Blob 201.
fn uploaded(http_status: u16) -> bool {
    http_status == 200 || http_status == 201
}

fn extension(content_type: &str) -> Option<&'static str> {
    CONTENT_TYPES
        .iter()
        .find(|(t, _)| *t == content_type)
        .map(|(_, e)| *e)
}

/// Langfuse's media id: the URL-safe SHA-256, first 132 bits (22 base64url characters).
pub fn media_id(sha256_hash: &str) -> String {
    sha256_hash
        .replace('+', "-")
        .replace('/', "_")
        .chars()
        .take(22)
        .collect()
}

/// zod's answer for a body that does not match the schema.
fn invalid(issues: Vec<Json>) -> Response<Body> {
    request::json(
        StatusCode::BAD_REQUEST,
        &json!({"message": "Invalid request data", "error": issues}),
    )
}

fn issue(path: &str, message: &str) -> Json {
    json!({"code": "invalid_type", "path": [path], "message": message})
}

/// `POST /api/public/media`
pub fn create(w: &mut World, pod: &WebPod, req: &PublicRequest) -> Response<Body> {
    let scope = match api_auth::require_project(pod, req, "Access denied") {
        Ok(s) => s,
        Err(r) => return *r,
    };
    let body = req.json().unwrap_or(Json::Null);
    let text = |k: &str| body[k].as_str().unwrap_or_default().to_string();
    let mut issues = Vec::new();
    for field in ["traceId", "field"] {
        if !body[field].is_string() {
            issues.push(issue(field, "Required"));
        }
    }
    let content_type = text("contentType");
    let Some(ext) = extension(&content_type) else {
        issues.push(issue("contentType", "Invalid enum value"));
        return invalid(issues);
    };
    let Some(content_length) = body["contentLength"].as_u64().filter(|n| *n > 0) else {
        issues.push(issue("contentLength", "Expected positive integer"));
        return invalid(issues);
    };
    let sha = text("sha256Hash");
    let is_base64 = |c: char| c.is_ascii_alphanumeric() || "+/=".contains(c);
    if sha.len() != 44 || !sha.chars().all(is_base64) {
        issues.push(issue(
            "sha256Hash",
            "Must be a 44 character base64 encoded SHA-256 hash",
        ));
    }
    if !issues.is_empty() {
        return invalid(issues);
    }
    let max = pod
        .env("LANGFUSE_S3_MEDIA_UPLOAD_MAX_CONTENT_LENGTH")
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(1_000_000_000);
    if content_length > max {
        return request::api_error(
            StatusCode::BAD_REQUEST,
            "InvalidRequestError",
            &format!("File size must be less than {max} bytes"),
        );
    }

    let project = scope.project_id.clone();
    let id = media_id(&sha);
    let key = row_key(&project, &id);
    if let Some(existing) = w.langfuse.media.get(&key) {
        if existing.upload_http_status.is_some_and(uploaded)
            && existing.content_type == content_type
        {
            return request::json(
                StatusCode::CREATED,
                &json!({"mediaId": id, "uploadUrl": null}),
            );
        }
    }
    let observation = body["observationId"].as_str().map(String::from);
    let signed = blob_access::target(pod, Bucket::MediaUpload).and_then(|target| {
        let principal = blob_access::access(w, pod, Bucket::MediaUpload, &target).presign?;
        let path = format!("{}{project}/{id}.{ext}", target.prefix);
        let url = presign::sas_url(
            &w.azure,
            &principal,
            &target,
            &path,
            Permission::Upload,
            UPLOAD_URL_TTL_SECS,
        );
        Ok((target, path, url))
    });
    let (target, path, url) = match signed {
        Ok(s) => s,
        Err(e) => {
            let observation = observation.as_deref().unwrap_or("undefined");
            for line in [
                format!("error: Failed to generate presigned upload URL: {e}"),
                format!(
                    "error: Failed to get media upload URL for trace {} and observation {observation}.",
                    text("traceId")
                ),
            ] {
                w.logs.append(&pod.namespace, &pod.name, &pod.container, line);
            }
            return request::api_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalServerError",
                "Failed to get media upload URL",
            );
        }
    };
    w.langfuse.media.insert(
        key,
        MediaRecord {
            id: id.clone(),
            project_id: project,
            trace_id: text("traceId"),
            observation_id: observation,
            field: text("field"),
            sha256_hash: sha,
            content_type,
            content_length,
            account: target.account,
            bucket_name: target.container,
            bucket_path: path,
            uploaded_at: None,
            upload_http_status: None,
            upload_http_error: None,
        },
    );
    request::json(
        StatusCode::CREATED,
        &json!({"mediaId": id, "uploadUrl": url}),
    )
}

/// `GET` and `PATCH /api/public/media/<id>`
pub fn one(w: &mut World, pod: &WebPod, req: &PublicRequest, id: &str) -> Response<Body> {
    let scope = match api_auth::require_project(pod, req, "Access denied") {
        Ok(s) => s,
        Err(r) => return *r,
    };
    let key = row_key(&scope.project_id, id);
    match req.method {
        Method::PATCH => patch(w, req, &key, id, &scope.project_id),
        Method::GET => download(w, pod, &key),
        _ => request::method_not_allowed(),
    }
}

fn patch(w: &mut World, req: &PublicRequest, key: &str, id: &str, project: &str) -> Response<Body> {
    let body = req.json().unwrap_or(Json::Null);
    let (Some(uploaded_at), Some(status)) = (
        body["uploadedAt"]
            .as_str()
            .filter(|t| web::parse_iso(t).is_some()),
        body["uploadHttpStatus"].as_u64(),
    ) else {
        return invalid(vec![
            issue("uploadedAt", "Invalid datetime"),
            issue("uploadHttpStatus", "Required"),
        ]);
    };
    let Some(record) = w.langfuse.media.get_mut(key) else {
        return request::api_error(
            StatusCode::NOT_FOUND,
            "LangfuseNotFoundError",
            &format!("Media asset {id} not found in project {project}"),
        );
    };
    record.uploaded_at = Some(uploaded_at.to_string());
    record.upload_http_status = Some(status as u16);
    record.upload_http_error = if status == 200 {
        None
    } else {
        body["uploadHttpError"].as_str().map(String::from)
    };
    request::empty(StatusCode::OK)
}

fn download(w: &mut World, pod: &WebPod, key: &str) -> Response<Body> {
    let not_found = |m: &str| request::api_error(StatusCode::NOT_FOUND, "LangfuseNotFoundError", m);
    let Some(record) = w.langfuse.media.get(key).cloned() else {
        return not_found("Media asset not found");
    };
    match record.upload_http_status {
        None => return not_found("Media not yet uploaded"),
        Some(status) if uploaded(status) => {}
        Some(status) => {
            return not_found(&format!(
                "Media upload failed with status {status}: \n {}",
                record.upload_http_error.as_deref().unwrap_or("null")
            ))
        }
    }
    let ttl = pod
        .env("LANGFUSE_S3_MEDIA_UPLOAD_DOWNLOAD_URL_EXPIRY_SECONDS")
        .and_then(|v| v.parse::<i64>().ok())
        .unwrap_or(3600);
    let target = blob_access::BlobTarget {
        account: record.account.clone(),
        container: record.bucket_name.clone(),
        prefix: String::new(),
    };
    let principal = match blob_access::access(w, pod, Bucket::MediaUpload, &target).presign {
        Ok(p) => p,
        Err(e) => {
            w.logs.append(
                &pod.namespace,
                &pod.name,
                &pod.container,
                format!("error: Failed to generate presigned download URL: {e}"),
            );
            return request::api_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                &e,
                "Internal Server Error",
            );
        }
    };
    let url = presign::sas_url(
        &w.azure,
        &principal,
        &target,
        &record.bucket_path,
        Permission::Read,
        ttl,
    );
    let expiry = jiff::Timestamp::from_second(web::now().as_second() + ttl)
        .map(web::iso)
        .unwrap_or_default();
    request::json(
        StatusCode::OK,
        &json!({
            "mediaId": record.id,
            "contentType": record.content_type,
            "contentLength": record.content_length,
            "uploadedAt": record.uploaded_at,
            "url": url,
            "urlExpiry": expiry,
        }),
    )
}
