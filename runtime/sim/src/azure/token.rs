//! Entra ID in the rehearsal: the token endpoint and the tokens it issues.
//!
//! `POST /<tenant>/oauth2/v2.0/token` accepts the client-credentials grant with a
//! client assertion (workload identity: a service account token checked against the
//! principal's federated credentials, exactly as Entra ID does) or with a client
//! secret. Access tokens are JWT-shaped (header.claims.signature) with the claims
//! clients read (`tid`, `oid`, `appid`, `aud`, `exp`), signed with the world's key so
//! every rehearsal endpoint can check them. Errors carry the real AADSTS codes.

use axum::body::Body;
use axum::http::{Request, Response, StatusCode};
use base64::Engine as _;
use serde_json::{json, Value as Json};

use super::seed::TOKEN_EXCHANGE_AUDIENCE;
use super::state::AzureState;
use super::web;
use crate::world::SharedWorld;

/// Access tokens live an hour, as Entra ID's do.
pub const LIFETIME_SECS: i64 = 3600;

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn key(state: &AzureState) -> aws_lc_rs::hmac::Key {
    let bytes: Vec<u8> = (0..state.signing_key.len() / 2)
        .filter_map(|i| u8::from_str_radix(&state.signing_key[2 * i..2 * i + 2], 16).ok())
        .collect();
    aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &bytes)
}

/// Signs `claims` as a JWT with the world's key.
pub fn sign(state: &AzureState, claims: &Json) -> String {
    let head = b64(br#"{"alg":"HS256","typ":"JWT","kid":"lfrun-rehearsal"}"#);
    let body = b64(claims.to_string().as_bytes());
    let tag = aws_lc_rs::hmac::sign(&key(state), format!("{head}.{body}").as_bytes());
    format!("{head}.{body}.{}", b64(tag.as_ref()))
}

/// The claims of a JWT this world signed, if the signature holds and it has not expired.
pub fn verify(state: &AzureState, token: &str) -> Result<Json, String> {
    let mut parts = token.split('.');
    let (Some(head), Some(body), Some(sig)) = (parts.next(), parts.next(), parts.next()) else {
        return Err("the token is not a JWT".into());
    };
    let sig = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(sig)
        .map_err(|_| "bad signature encoding".to_string())?;
    aws_lc_rs::hmac::verify(&key(state), format!("{head}.{body}").as_bytes(), &sig)
        .map_err(|_| "the token's signature is invalid (issued by another world?)".to_string())?;
    let claims: Json = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(body)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or("the token's claims are not JSON")?;
    let exp = claims.get("exp").and_then(Json::as_i64).unwrap_or(0);
    if exp < web::now().as_second() {
        return Err("the token has expired".into());
    }
    Ok(claims)
}

/// An access token for `principal` (object id) with audience `aud`.
pub fn access_token(state: &AzureState, principal: &str, app_id: &str, aud: &str) -> String {
    let now = web::now().as_second();
    sign(
        state,
        &json!({
            "aud": aud,
            "iss": format!("https://sts.windows.net/{}/", state.tenant_id),
            "iat": now, "nbf": now, "exp": now + LIFETIME_SECS,
            "tid": state.tenant_id,
            "oid": principal,
            "sub": principal,
            "appid": app_id,
            "azp": app_id,
            "idtyp": "app",
            "ver": "1.0",
        }),
    )
}

/// A service account token as the AKS OIDC issuer would project it into a pod (or,
/// for the operator, as its rehearsal token file holds it).
pub fn service_account_token(
    state: &AzureState,
    issuer: &str,
    subject: &str,
    hours: i64,
) -> String {
    let now = web::now().as_second();
    sign(
        state,
        &json!({"iss": issuer, "sub": subject, "aud": [TOKEN_EXCHANGE_AUDIENCE], "iat": now, "nbf": now, "exp": now + hours * 3600}),
    )
}

/// The audience a scope asks for: `https://management.azure.com/.default` → `https://management.azure.com/`.
fn audience(scope: &str) -> String {
    let first = scope.split_whitespace().next().unwrap_or_default();
    let resource = first
        .trim_end_matches("/.default")
        .trim_end_matches(".default");
    match resource {
        "https://management.azure.com" | "https://management.core.windows.net" => {
            format!("{resource}/")
        }
        other => other.to_string(),
    }
}

fn aad_error(status: StatusCode, error: &str, code: u32, description: &str) -> Response<Body> {
    let now = web::now();
    web::json(
        status,
        &json!({
            "error": error,
            "error_description": format!("AADSTS{code}: {description} Trace ID: 00000000-0000-0000-0000-000000000000 Correlation ID: 00000000-0000-0000-0000-000000000000 Timestamp: {}", web::iso(now)),
            "error_codes": [code],
            "timestamp": web::iso(now),
            "trace_id": "00000000-0000-0000-0000-000000000000",
            "correlation_id": "00000000-0000-0000-0000-000000000000",
        }),
    )
}

/// `login.microsoftonline.com`
pub async fn login(world: SharedWorld, req: Request<Body>) -> Response<Body> {
    let (parts, body) = web::body_bytes(req).await;
    let path = parts.uri.path().to_string();
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    if parts.method != "POST" || segments.len() != 4 || segments[1..] != ["oauth2", "v2.0", "token"]
    {
        return web::json(
            StatusCode::NOT_FOUND,
            &json!({"error": "not_found", "error_description": format!("the rehearsal serves only POST /<tenant>/oauth2/v2.0/token, not {path}")}),
        );
    }
    let tenant = segments[0].to_string();
    let f = web::form(&String::from_utf8_lossy(&body));
    world.write(|w| {
        let s = &mut w.azure;
        if !tenant.eq_ignore_ascii_case(&s.tenant_id) {
            return aad_error(StatusCode::BAD_REQUEST, "invalid_request", 90002, &format!("Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud."));
        }
        if f.get("grant_type").map(String::as_str) != Some("client_credentials") {
            return aad_error(StatusCode::BAD_REQUEST, "unsupported_grant_type", 70003, "The app requested an unsupported grant type.");
        }
        let client_id = f.get("client_id").cloned().unwrap_or_default();
        let scope = f.get("scope").cloned().unwrap_or_default();
        // who is asking: the operator app, or a user-assigned managed identity
        let (principal, federated, secrets) = if client_id.eq_ignore_ascii_case(&s.operator.client_id) {
            (s.operator.object_id.clone(), s.operator.federated.clone(), s.operator.client_secrets.clone())
        } else if let Some(i) = s.identity_by_client_id(&client_id) {
            (i.principal_id.clone(), i.federated.clone(), Vec::new())
        } else {
            return aad_error(StatusCode::BAD_REQUEST, "unauthorized_client", 700016, &format!("Application with identifier '{client_id}' was not found in the directory '{}'.", s.tenant_id));
        };
        if let Some(assertion) = f.get("client_assertion") {
            let claims = match verify(s, assertion) {
                Ok(c) => c,
                Err(e) => return aad_error(StatusCode::UNAUTHORIZED, "invalid_client", 700024, &format!("Client assertion is not within its valid time range or is invalid: {e}.")),
            };
            let iss = claims.get("iss").and_then(Json::as_str).unwrap_or_default();
            let sub = claims.get("sub").and_then(Json::as_str).unwrap_or_default();
            let matched = federated.iter().any(|c| {
                c.issuer.trim_end_matches('/') == iss.trim_end_matches('/') && c.subject == sub && c.audiences.iter().any(|a| a == TOKEN_EXCHANGE_AUDIENCE)
            });
            if !matched {
                return aad_error(StatusCode::UNAUTHORIZED, "invalid_client", 70021, &format!("No matching federated identity record found for presented assertion. Assertion Issuer: '{iss}'. Assertion Subject: '{sub}'. Assertion Audience: '{TOKEN_EXCHANGE_AUDIENCE}'."));
            }
        } else if let Some(secret) = f.get("client_secret") {
            if !secrets.iter().any(|s| s == secret) {
                return aad_error(StatusCode::UNAUTHORIZED, "invalid_client", 7000215, "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.");
            }
        } else {
            return aad_error(StatusCode::UNAUTHORIZED, "invalid_client", 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.");
        }
        let aud = audience(&scope);
        *s.tokens_issued.entry(aud.clone()).or_default() += 1;
        let token = access_token(s, &principal, &client_id, &aud);
        web::json(StatusCode::OK, &json!({"token_type": "Bearer", "expires_in": LIFETIME_SECS, "ext_expires_in": LIFETIME_SECS, "access_token": token}))
    })
}
