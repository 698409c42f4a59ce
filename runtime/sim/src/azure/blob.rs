//! Azure Blob Storage in the rehearsal (`<account>.blob.core.windows.net`).
//!
//! Serves what `azure_storage_blob` and presigned URLs use: container create and
//! properties, list with prefix, put/get/head blob (with ranges), the user delegation
//! key, and requests authorised by a user delegation SAS — whose signature is checked
//! with the delegation key, exactly as the service does. Bearer requests are
//! authorised by the data roles of the token's principal; shared-key requests are
//! refused with `KeyBasedAuthenticationNotPermitted` when the account disables keys.
//! Errors are the service's XML bodies with `x-ms-error-code`.
//!
//! Delegation keys are derived from the world's signing key and the key's owner and
//! validity, so a SAS can be checked without remembering the keys handed out.

use axum::body::Body;
use axum::http::{Method, Request, Response, StatusCode};
use base64::Engine as _;
use serde_json::Value as Json;

use super::rbac;
use super::state::{AzureState, Blob, Container};
use super::{token, web};
use crate::world::SharedWorld;

const VERSION: &str = "2026-04-06";

pub fn error(status: StatusCode, code: &str, message: &str) -> Response<Body> {
    let body = format!(
        "\u{feff}<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>{code}</Code><Message>{}\nRequestId:00000000-0000-0000-0000-000000000000\nTime:{}</Message></Error>",
        web::xml_escape(message),
        web::iso(web::now())
    );
    let mut r = web::text(status, "application/xml", body);
    let h = r.headers_mut();
    if let Ok(v) = axum::http::HeaderValue::from_str(code) {
        h.insert("x-ms-error-code", v);
    }
    h.insert(
        "x-ms-version",
        axum::http::HeaderValue::from_static(VERSION),
    );
    h.insert(
        "x-ms-request-id",
        axum::http::HeaderValue::from_static("00000000-0000-0000-0000-000000000000"),
    );
    r
}

fn permission_mismatch() -> Response<Body> {
    error(
        StatusCode::FORBIDDEN,
        "AuthorizationPermissionMismatch",
        "This request is not authorized to perform this operation using this permission.",
    )
}

/// The delegation key a principal gets for a validity window.
pub fn delegation_key(state: &AzureState, oid: &str, start: &str, expiry: &str) -> Vec<u8> {
    let secret: Vec<u8> = state.signing_key.as_bytes().to_vec();
    let k = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &secret);
    aws_lc_rs::hmac::sign(&k, format!("udk|{oid}|{start}|{expiry}").as_bytes())
        .as_ref()
        .to_vec()
}

/// Who a request acts as.
enum Caller {
    Principal(String),
    /// A valid user delegation SAS: its key owner and permissions.
    Sas {
        owner: String,
        permissions: String,
    },
}

pub async fn handle(world: SharedWorld, req: Request<Body>) -> Response<Body> {
    let (parts, body) = web::body_bytes(req).await;
    let host = web::header(&parts, "host").unwrap_or_default();
    let account_name = host.split('.').next().unwrap_or_default().to_string();
    let q = web::query(&parts);
    let path = percent_decode(parts.uri.path());
    let method = parts.method.clone();
    world.write(|w| {
        let s = &mut w.azure;
        let Some(account) = s.account_by_name(&account_name).cloned() else {
            return error(StatusCode::NOT_FOUND, "ResourceNotFound", "The specified resource does not exist.");
        };
        let account_id = s.account_id(&account);
        let caller = match authenticate(s, &parts, &q, &account_name, &path, account.allow_shared_key_access) {
            Ok(c) => c,
            Err(r) => return *r,
        };
        let trimmed = path.trim_start_matches('/');
        let (container, blob) = match trimmed.split_once('/') {
            Some((c, b)) => (c.to_string(), b.to_string()),
            None => (trimmed.to_string(), String::new()),
        };
        // the user delegation key: POST /?restype=service&comp=userdelegationkey
        if container.is_empty() && q.get("comp").map(String::as_str) == Some("userdelegationkey") && method == Method::POST {
            let Caller::Principal(oid) = &caller else {
                return error(StatusCode::FORBIDDEN, "AuthenticationFailed", "A user delegation key can only be requested with an Entra ID token.");
            };
            if !rbac::may_get_delegation_key(s, oid, &account_id) {
                return permission_mismatch();
            }
            let doc = String::from_utf8_lossy(&body).to_string();
            let start = web::xml_value(&doc, "Start").unwrap_or_else(|| web::iso(web::now()));
            let expiry = web::xml_value(&doc, "Expiry").unwrap_or_default();
            let (Some(st), Some(ex)) = (web::parse_iso(&start), web::parse_iso(&expiry)) else {
                return error(StatusCode::BAD_REQUEST, "InvalidXmlDocument", "XML specified is not syntactically valid.");
            };
            if ex.as_second() - st.as_second() > 7 * 24 * 3600 {
                return error(StatusCode::BAD_REQUEST, "InvalidQueryParameterValue", "The expiry must be within 7 days of the start.");
            }
            let (start, expiry) = (web::iso(st), web::iso(ex));
            let value = base64::engine::general_purpose::STANDARD.encode(delegation_key(s, oid, &start, &expiry));
            let xml = format!(
                "\u{feff}<?xml version=\"1.0\" encoding=\"utf-8\"?><UserDelegationKey><SignedOid>{oid}</SignedOid><SignedTid>{}</SignedTid><SignedStart>{start}</SignedStart><SignedExpiry>{expiry}</SignedExpiry><SignedService>b</SignedService><SignedVersion>{VERSION}</SignedVersion><Value>{value}</Value></UserDelegationKey>",
                s.tenant_id
            );
            return ok_headers(web::text(StatusCode::OK, "application/xml", xml));
        }
        if container.is_empty() {
            return error(StatusCode::BAD_REQUEST, "UnsupportedQueryParameter", "The rehearsal serves container and blob operations and the user delegation key.");
        }
        let container_scope = format!("{account_id}/blobServices/default/containers/{container}");
        let writing = matches!(method, Method::PUT | Method::DELETE | Method::POST);
        let allowed = match &caller {
            Caller::Principal(oid) if writing => rbac::may_write_blobs(s, oid, &container_scope),
            Caller::Principal(oid) => rbac::may_read_blobs(s, oid, &container_scope),
            Caller::Sas { owner, permissions } => {
                let perm_ok = if writing { permissions.contains('c') || permissions.contains('w') } else { permissions.contains('r') };
                perm_ok && (if writing { rbac::may_write_blobs(s, owner, &container_scope) } else { rbac::may_read_blobs(s, owner, &container_scope) })
            }
        };
        if !allowed {
            return permission_mismatch();
        }
        let Some(acc) = s.account_by_name_mut(&account_name) else {
            return error(StatusCode::NOT_FOUND, "ResourceNotFound", "The specified resource does not exist.");
        };
        if blob.is_empty() {
            return container_op(acc, &container, &method, &q, &account_name);
        }
        let Some(c) = acc.containers.get_mut(&container) else {
            return error(StatusCode::NOT_FOUND, "ContainerNotFound", "The specified container does not exist.");
        };
        blob_op(c, &blob, &method, &parts, body)
    })
}

fn ok_headers(mut r: Response<Body>) -> Response<Body> {
    let h = r.headers_mut();
    h.insert(
        "x-ms-version",
        axum::http::HeaderValue::from_static(VERSION),
    );
    h.insert(
        "x-ms-request-id",
        axum::http::HeaderValue::from_static("00000000-0000-0000-0000-000000000000"),
    );
    if let Ok(v) = axum::http::HeaderValue::from_str(&web::http_date(web::now())) {
        h.insert("date", v);
    }
    r
}

fn authenticate(
    s: &AzureState,
    parts: &axum::http::request::Parts,
    q: &std::collections::BTreeMap<String, String>,
    account: &str,
    path: &str,
    shared_key_allowed: bool,
) -> Result<Caller, Box<Response<Body>>> {
    if let Some(auth) = web::header(parts, "authorization") {
        if auth.starts_with("SharedKey") {
            return Err(Box::new(if shared_key_allowed {
                error(StatusCode::FORBIDDEN, "AuthenticationFailed", "Server failed to authenticate the request. Make sure the value of Authorization header is formed correctly including the signature.")
            } else {
                error(
                    StatusCode::FORBIDDEN,
                    "KeyBasedAuthenticationNotPermitted",
                    "Key based authentication is not permitted on this storage account.",
                )
            }));
        }
        let Some(bearer) = web::bearer(parts) else {
            return Err(Box::new(error(
                StatusCode::FORBIDDEN,
                "AuthenticationFailed",
                "Server failed to authenticate the request.",
            )));
        };
        let claims = token::verify(s, &bearer).map_err(|e| {
            Box::new(error(
                StatusCode::UNAUTHORIZED,
                "InvalidAuthenticationInfo",
                &format!("Server failed to authenticate the request. {e}"),
            ))
        })?;
        let aud = claims.get("aud").and_then(Json::as_str).unwrap_or_default();
        if !(aud.starts_with("https://storage.azure.com") || aud.contains(".blob.")) {
            return Err(Box::new(error(
                StatusCode::UNAUTHORIZED,
                "InvalidAuthenticationInfo",
                &format!("Audience validation failed. Audience did not match: {aud}"),
            )));
        }
        return Ok(Caller::Principal(
            claims
                .get("oid")
                .and_then(Json::as_str)
                .unwrap_or_default()
                .to_string(),
        ));
    }
    if q.contains_key("sig") {
        return verify_sas(s, q, account, path);
    }
    Err(Box::new(error(StatusCode::UNAUTHORIZED, "NoAuthenticationInformation", "Server failed to authenticate the request. Please refer to the information in the www-authenticate header.")))
}

fn verify_sas(
    s: &AzureState,
    q: &std::collections::BTreeMap<String, String>,
    account: &str,
    path: &str,
) -> Result<Caller, Box<Response<Body>>> {
    let g = |k: &str| q.get(k).cloned().unwrap_or_default();
    let failed = |why: &str| {
        Box::new(error(StatusCode::FORBIDDEN, "AuthenticationFailed", &format!("Server failed to authenticate the request. Make sure the value of Authorization header is formed correctly including the signature. {why}")))
    };
    if g("skoid").is_empty() {
        return Err(failed(
            "Only user delegation SAS is accepted (the account does not allow keys).",
        ));
    }
    let now = web::now();
    let expiry = web::parse_iso(&g("se")).ok_or_else(|| failed("Signed expiry is invalid."))?;
    if expiry < now {
        return Err(failed("Signed expiry time has passed."));
    }
    if web::parse_iso(&g("st")).is_some_and(|st| st > now) {
        return Err(failed("Signed start time is in the future."));
    }
    if web::parse_iso(&g("ske")).is_none_or(|ke| ke < now) {
        return Err(failed("The signed key has expired."));
    }
    let canonical = format!("/blob/{account}{path}");
    let to_sign = [
        g("sp"),
        g("st"),
        g("se"),
        canonical,
        g("skoid"),
        g("sktid"),
        g("skt"),
        g("ske"),
        g("sks"),
        g("skv"),
        g("saoid"),
        g("suoid"),
        g("scid"),
        g("sip"),
        g("spr"),
        g("sv"),
        g("sr"),
        g("sst"),
        g("ses"),
        g("rscc"),
        g("rscd"),
        g("rsce"),
        g("rscl"),
        g("rsct"),
    ]
    .join("\n");
    let key = delegation_key(s, &g("skoid"), &g("skt"), &g("ske"));
    let k = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &key);
    let expected = base64::engine::general_purpose::STANDARD
        .encode(aws_lc_rs::hmac::sign(&k, to_sign.as_bytes()).as_ref());
    if expected != g("sig") {
        return Err(failed(&format!(
            "Signature did not match. String to sign used was {}",
            to_sign.replace('\n', "\\n")
        )));
    }
    Ok(Caller::Sas {
        owner: g("skoid"),
        permissions: g("sp"),
    })
}

fn container_op(
    acc: &mut super::state::StorageAccount,
    container: &str,
    method: &Method,
    q: &std::collections::BTreeMap<String, String>,
    account: &str,
) -> Response<Body> {
    if q.get("restype").map(String::as_str) != Some("container") {
        return error(
            StatusCode::BAD_REQUEST,
            "InvalidUri",
            "The requested URI does not represent any resource on the server.",
        );
    }
    match (method.clone(), q.get("comp").map(String::as_str)) {
        (Method::PUT, None) => {
            if acc.containers.contains_key(container) {
                return error(
                    StatusCode::CONFLICT,
                    "ContainerAlreadyExists",
                    "The specified container already exists.",
                );
            }
            acc.containers.insert(
                container.to_string(),
                Container {
                    name: container.to_string(),
                    ..Container::default()
                },
            );
            ok_headers(web::text(StatusCode::CREATED, "text/plain", ""))
        }
        (Method::GET, None) | (Method::HEAD, None) => match acc.containers.get(container) {
            Some(_) => {
                let mut r = ok_headers(web::text(StatusCode::OK, "text/plain", ""));
                r.headers_mut().insert(
                    "x-ms-lease-status",
                    axum::http::HeaderValue::from_static("unlocked"),
                );
                r.headers_mut().insert(
                    "x-ms-has-immutability-policy",
                    axum::http::HeaderValue::from_static("false"),
                );
                r
            }
            None => error(
                StatusCode::NOT_FOUND,
                "ContainerNotFound",
                "The specified container does not exist.",
            ),
        },
        (Method::GET, Some("list")) => {
            let Some(c) = acc.containers.get(container) else {
                return error(
                    StatusCode::NOT_FOUND,
                    "ContainerNotFound",
                    "The specified container does not exist.",
                );
            };
            let prefix = q.get("prefix").cloned().unwrap_or_default();
            let mut xml = format!(
                "\u{feff}<?xml version=\"1.0\" encoding=\"utf-8\"?><EnumerationResults ServiceEndpoint=\"https://{account}.blob.core.windows.net/\" ContainerName=\"{container}\"><Prefix>{}</Prefix><Blobs>",
                web::xml_escape(&prefix)
            );
            for (name, b) in c.blobs.iter().filter(|(n, _)| n.starts_with(&prefix)) {
                let len = base64::engine::general_purpose::STANDARD
                    .decode(&b.content)
                    .map(|v| v.len())
                    .unwrap_or(0);
                xml.push_str(&format!(
                    "<Blob><Name>{}</Name><Properties><Creation-Time>{lm}</Creation-Time><Last-Modified>{lm}</Last-Modified><Etag>{}</Etag><Content-Length>{len}</Content-Length><Content-Type>{}</Content-Type><BlobType>BlockBlob</BlobType><AccessTier>Hot</AccessTier><AccessTierInferred>true</AccessTierInferred><LeaseStatus>unlocked</LeaseStatus><LeaseState>available</LeaseState><ServerEncrypted>true</ServerEncrypted></Properties><OrMetadata /></Blob>",
                    web::xml_escape(name), b.etag, web::xml_escape(&b.content_type), lm = b.last_modified
                ));
            }
            xml.push_str("</Blobs><NextMarker /></EnumerationResults>");
            ok_headers(web::text(StatusCode::OK, "application/xml", xml))
        }
        _ => error(
            StatusCode::BAD_REQUEST,
            "UnsupportedHttpVerb",
            "The resource doesn't support the specified HTTP verb.",
        ),
    }
}

fn blob_op(
    c: &mut Container,
    name: &str,
    method: &Method,
    parts: &axum::http::request::Parts,
    body: Vec<u8>,
) -> Response<Body> {
    match method.clone() {
        Method::PUT => {
            let blob_type = web::header(parts, "x-ms-blob-type").unwrap_or_default();
            if !blob_type.eq_ignore_ascii_case("BlockBlob") {
                return error(StatusCode::BAD_REQUEST, "MissingRequiredHeader", "An HTTP header that's mandatory for this request is not specified: x-ms-blob-type (BlockBlob).");
            }
            let now = web::now();
            let etag = format!(
                "\"0x8DD{:011X}\"",
                now.as_millisecond() as u64 & 0x0FFF_FFFF_FFFF
            );
            let b = Blob {
                content: base64::engine::general_purpose::STANDARD.encode(&body),
                content_type: web::header(parts, "x-ms-blob-content-type")
                    .or_else(|| web::header(parts, "content-type"))
                    .unwrap_or_else(|| "application/octet-stream".into()),
                last_modified: web::http_date(now),
                etag: etag.clone(),
            };
            let lm = b.last_modified.clone();
            c.blobs.insert(name.to_string(), b);
            let mut r = ok_headers(web::text(StatusCode::CREATED, "text/plain", ""));
            for (k, v) in [
                ("etag", etag),
                ("last-modified", lm),
                ("x-ms-request-server-encrypted", "true".into()),
            ] {
                if let Ok(v) = axum::http::HeaderValue::from_str(&v) {
                    r.headers_mut().insert(k, v);
                }
            }
            r
        }
        Method::GET | Method::HEAD => {
            let Some(b) = c.blobs.get(name) else {
                return error(
                    StatusCode::NOT_FOUND,
                    "BlobNotFound",
                    "The specified blob does not exist.",
                );
            };
            let data = base64::engine::general_purpose::STANDARD
                .decode(&b.content)
                .unwrap_or_default();
            let total = data.len();
            let range = web::header(parts, "x-ms-range").or_else(|| web::header(parts, "range"));
            let (status, slice, content_range) = match range.as_deref().and_then(parse_range) {
                Some((start, end)) if total > 0 && start < total => {
                    let end = end.unwrap_or(total - 1).min(total - 1);
                    (
                        StatusCode::PARTIAL_CONTENT,
                        data[start..=end].to_vec(),
                        Some(format!("bytes {start}-{end}/{total}")),
                    )
                }
                Some(_) if total > 0 => {
                    return error(
                        StatusCode::RANGE_NOT_SATISFIABLE,
                        "InvalidRange",
                        "The range specified is invalid for the current size of the resource.",
                    )
                }
                _ => (StatusCode::OK, data, None),
            };
            let len = slice.len();
            let mut r = ok_headers(web::text(
                status,
                &b.content_type,
                if *method == Method::HEAD {
                    Vec::new()
                } else {
                    slice
                },
            ));
            let mut headers = vec![
                ("etag", b.etag.clone()),
                ("last-modified", b.last_modified.clone()),
                ("x-ms-creation-time", b.last_modified.clone()),
                ("x-ms-blob-type", "BlockBlob".to_string()),
                ("accept-ranges", "bytes".to_string()),
                ("x-ms-server-encrypted", "true".to_string()),
                ("x-ms-lease-status", "unlocked".to_string()),
                ("x-ms-lease-state", "available".to_string()),
                (
                    "content-length",
                    if *method == Method::HEAD {
                        total.to_string()
                    } else {
                        len.to_string()
                    },
                ),
            ];
            if let Some(cr) = content_range {
                headers.push(("content-range", cr));
            }
            for (k, v) in headers {
                if let Ok(v) = axum::http::HeaderValue::from_str(&v) {
                    r.headers_mut().insert(k, v);
                }
            }
            r
        }
        Method::DELETE => match c.blobs.remove(name) {
            Some(_) => ok_headers(web::text(StatusCode::ACCEPTED, "text/plain", "")),
            None => error(
                StatusCode::NOT_FOUND,
                "BlobNotFound",
                "The specified blob does not exist.",
            ),
        },
        _ => error(
            StatusCode::BAD_REQUEST,
            "UnsupportedHttpVerb",
            "The resource doesn't support the specified HTTP verb.",
        ),
    }
}

/// `bytes=0-99` → (0, Some(99)); `bytes=100-` → (100, None).
fn parse_range(v: &str) -> Option<(usize, Option<usize>)> {
    let r = v.strip_prefix("bytes=")?;
    let (a, b) = r.split_once('-')?;
    Some((
        a.parse().ok()?,
        if b.is_empty() {
            None
        } else {
            Some(b.parse().ok()?)
        },
    ))
}

fn percent_decode(path: &str) -> String {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&path[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).to_string()
}
