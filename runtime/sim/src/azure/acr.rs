//! Azure Container Registry in the rehearsal (`<acr>.azurecr.io`): the Entra ID token
//! exchange `az acr login` uses, the registry's token endpoint, and enough of the
//! Docker Registry HTTP API v2 for a push to record its tag in the World's registry
//! (which is what the rehearsal kubelet pulls from).
//!
//! - `POST /oauth2/exchange` (grant_type=access_token): an Entra ID token of a principal
//!   that may pull or push → an ACR refresh token.
//! - `POST|GET /oauth2/token`: refresh token (form, or as the Basic password of the
//!   all-zero user, as docker sends it) + scope → an access token.
//! - `/v2/`, blob uploads, `PUT|HEAD|GET /v2/<name>/manifests/<tag>`, `GET /v2/<name>/tags/list`.

use axum::body::Body;
use axum::http::{Request, Response, StatusCode};
use base64::Engine as _;
use serde_json::{json, Value as Json};

use super::rbac;
use super::{token, web};
use crate::world::SharedWorld;

fn registry_error(
    status: StatusCode,
    code: &str,
    message: &str,
    host: &str,
    scope: Option<&str>,
) -> Response<Body> {
    let mut r = web::json(
        status,
        &json!({"errors": [{"code": code, "message": message, "detail": null}]}),
    );
    if status == StatusCode::UNAUTHORIZED {
        let mut challenge =
            format!("Bearer realm=\"https://{host}/oauth2/token\",service=\"{host}\"");
        if let Some(s) = scope {
            challenge.push_str(&format!(",scope=\"{s}\""));
        }
        if let Ok(v) = axum::http::HeaderValue::from_str(&challenge) {
            r.headers_mut().insert("www-authenticate", v);
        }
    }
    r
}

pub async fn handle(world: SharedWorld, req: Request<Body>) -> Response<Body> {
    let (parts, body) = web::body_bytes(req).await;
    let host = web::header(&parts, "host").unwrap_or_default();
    let host = host
        .split(':')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    let path = parts.uri.path().to_string();
    let method = parts.method.clone();
    let form = if method == "POST" {
        web::form(&String::from_utf8_lossy(&body))
    } else {
        web::query(&parts)
    };
    let basic_password = web::header(&parts, "authorization").and_then(|a| {
        let (scheme, rest) = a.split_once(' ')?;
        if !scheme.eq_ignore_ascii_case("basic") {
            return None;
        }
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(rest.trim())
            .ok()?;
        let text = String::from_utf8(decoded).ok()?;
        Some(text.split_once(':')?.1.to_string())
    });
    let bearer = web::bearer(&parts);
    world.write(|w| {
        let Some(registry) = w.azure.registry_by_host(&host).cloned() else {
            return registry_error(StatusCode::NOT_FOUND, "NAME_UNKNOWN", &format!("registry {host} does not exist"), &host, None);
        };
        let registry_id = w.azure.registry_id(&registry);
        match path.as_str() {
            "/oauth2/exchange" => {
                let aad = form.get("access_token").cloned().unwrap_or_default();
                let claims = match token::verify(&w.azure, &aad) {
                    Ok(c) => c,
                    Err(e) => return web::json(StatusCode::UNAUTHORIZED, &json!({"errors": [{"code": "UNAUTHORIZED", "message": format!("invalid Entra ID token: {e}")}]})),
                };
                let oid = claims.get("oid").and_then(Json::as_str).unwrap_or_default().to_string();
                if !rbac::may_pull(&w.azure, &oid, &registry_id) {
                    return web::json(StatusCode::UNAUTHORIZED, &json!({"errors": [{"code": "UNAUTHORIZED", "message": format!("principal {oid} has no role on registry {} (needs AcrPull, AcrPush or Contributor)", registry.name)}]}));
                }
                let now = web::now().as_second();
                let refresh = token::sign(&w.azure, &json!({"typ": "acr-refresh", "aud": host, "sub": oid, "iat": now, "exp": now + 3 * 3600, "tenant": w.azure.tenant_id}));
                web::json(StatusCode::OK, &json!({"refresh_token": refresh}))
            }
            "/oauth2/token" => {
                let refresh = form.get("refresh_token").cloned().or(basic_password).unwrap_or_default();
                let claims = match token::verify(&w.azure, &refresh) {
                    Ok(c) if c.get("typ").and_then(Json::as_str) == Some("acr-refresh") => c,
                    _ => return registry_error(StatusCode::UNAUTHORIZED, "UNAUTHORIZED", "authentication required", &host, None),
                };
                let oid = claims.get("sub").and_then(Json::as_str).unwrap_or_default().to_string();
                let scope = form.get("scope").cloned().unwrap_or_default();
                let mut actions = vec!["pull"];
                if rbac::may_push(&w.azure, &oid, &registry_id) {
                    actions.push("push");
                }
                let now = web::now().as_second();
                let access = token::sign(&w.azure, &json!({"typ": "acr-access", "aud": host, "sub": oid, "scope": scope, "actions": actions, "iat": now, "exp": now + 3600}));
                web::json(StatusCode::OK, &json!({"access_token": access}))
            }
            _ if path.starts_with("/v2") => {
                let claims = bearer.and_then(|b| token::verify(&w.azure, &b).ok()).filter(|c| c.get("typ").and_then(Json::as_str) == Some("acr-access"));
                let rest = path.trim_start_matches("/v2").trim_start_matches('/');
                let Some(claims) = claims else {
                    let scope = rest.split("/manifests/").next().filter(|r| !r.is_empty()).map(|r| format!("repository:{r}:pull,push"));
                    return registry_error(StatusCode::UNAUTHORIZED, "UNAUTHORIZED", "authentication required", &host, scope.as_deref());
                };
                let may_push = claims.get("actions").and_then(Json::as_array).is_some_and(|a| a.iter().any(|x| x == "push"));
                v2(w, &host, &method, rest, may_push, &body, &parts)
            }
            _ => registry_error(StatusCode::NOT_FOUND, "NOT_FOUND", &format!("{path} is not served"), &host, None),
        }
    })
}

fn v2(
    w: &mut crate::world::World,
    host: &str,
    method: &axum::http::Method,
    rest: &str,
    may_push: bool,
    body: &[u8],
    parts: &axum::http::request::Parts,
) -> Response<Body> {
    if rest.is_empty() {
        return web::json(StatusCode::OK, &json!({}));
    }
    let denied = || {
        registry_error(
            StatusCode::UNAUTHORIZED,
            "DENIED",
            "requested access to the resource is denied (needs AcrPush)",
            host,
            None,
        )
    };
    if let Some((name, reference)) = rest.split_once("/manifests/") {
        let image = format!("{host}/{name}:{reference}");
        let r = crate::registry::ImageRef::parse(&image);
        return match method.as_str() {
            "PUT" => {
                if !may_push {
                    return denied();
                }
                w.registry.push(&image);
                let digest = format!("sha256:{}", hex_digest(body));
                let mut resp = web::text(StatusCode::CREATED, "text/plain", "");
                for (k, v) in [
                    ("docker-content-digest", digest.clone()),
                    ("location", format!("/v2/{name}/manifests/{digest}")),
                ] {
                    if let Ok(v) = axum::http::HeaderValue::from_str(&v) {
                        resp.headers_mut().insert(k, v);
                    }
                }
                resp
            }
            "GET" | "HEAD" if w.registry.contains(&r) => {
                let manifest = json!({"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                    "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 0, "digest": format!("sha256:{}", hex_digest(image.as_bytes()))},
                    "layers": []});
                let text = manifest.to_string();
                let mut resp = web::text(
                    StatusCode::OK,
                    "application/vnd.docker.distribution.manifest.v2+json",
                    if method == "HEAD" {
                        String::new()
                    } else {
                        text.clone()
                    },
                );
                if let Ok(v) = axum::http::HeaderValue::from_str(&format!(
                    "sha256:{}",
                    hex_digest(text.as_bytes())
                )) {
                    resp.headers_mut().insert("docker-content-digest", v);
                }
                resp
            }
            _ => registry_error(
                StatusCode::NOT_FOUND,
                "MANIFEST_UNKNOWN",
                &format!("manifest tagged by \"{reference}\" is not found"),
                host,
                None,
            ),
        };
    }
    if let Some(name) = rest.strip_suffix("/tags/list") {
        let tags: Vec<String> = w
            .registry
            .repositories
            .get(&format!("{host}/{name}"))
            .map(|t| t.iter().cloned().collect())
            .unwrap_or_default();
        if tags.is_empty() {
            return registry_error(
                StatusCode::NOT_FOUND,
                "NAME_UNKNOWN",
                &format!("repository name not known to registry: {name}"),
                host,
                None,
            );
        }
        return web::json(StatusCode::OK, &json!({"name": name, "tags": tags}));
    }
    if let Some((name, after)) = rest.split_once("/blobs/") {
        if after.starts_with("uploads") {
            if !may_push {
                return denied();
            }
            let q = web::query(parts);
            if let Some(digest) = q.get("digest") {
                w.azure
                    .registry_blobs
                    .insert(format!("{host}/{name}@{digest}"));
                return web::text(StatusCode::CREATED, "text/plain", "");
            }
            let id = w.azure.new_guid(0x0a);
            let mut resp = web::text(StatusCode::ACCEPTED, "text/plain", "");
            if let Ok(v) =
                axum::http::HeaderValue::from_str(&format!("/v2/{name}/blobs/uploads/{id}"))
            {
                resp.headers_mut().insert("location", v);
            }
            resp.headers_mut().insert(
                "docker-upload-uuid",
                axum::http::HeaderValue::from_str(&id)
                    .unwrap_or(axum::http::HeaderValue::from_static("0")),
            );
            return resp;
        }
        return if w
            .azure
            .registry_blobs
            .contains(&format!("{host}/{name}@{after}"))
        {
            web::text(StatusCode::OK, "application/octet-stream", "")
        } else {
            registry_error(
                StatusCode::NOT_FOUND,
                "BLOB_UNKNOWN",
                "blob unknown to registry",
                host,
                None,
            )
        };
    }
    registry_error(
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
        &format!("/v2/{rest} is not served"),
        host,
        None,
    )
}

fn hex_digest(bytes: &[u8]) -> String {
    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
