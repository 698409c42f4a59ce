//! The Entra ID app registration for SSO (guide §4), read from Microsoft Graph.
//!
//! Three things must be true for Langfuse's Azure AD sign-in to work, and each has a
//! distinct symptom when it is not: single-tenant audience, the web redirect URI
//! `<public URL>/api/auth/callback/azure-ad` (otherwise Entra ID rejects the sign-in,
//! or the callback lands elsewhere and NextAuth says "State cookie missing"), and the
//! `email` optional claim on the ID token. Each missing piece becomes a finding with
//! the portal path and the CLI command that fixes it.

use serde_json::{json, Value as Json};

use crate::error::{ErrorKind, Failure};

use super::session::{text, Azure};

/// The redirect URI Langfuse's NextAuth Azure AD provider calls back on.
pub fn redirect_uri(public_url: &str) -> String {
    let base = public_url.trim_end_matches('/');
    let base = if base.starts_with("https://") || base.starts_with("http://") {
        base.to_string()
    } else {
        format!("https://{base}")
    };
    format!("{base}/api/auth/callback/azure-ad")
}

/// Reads the app registration by client (application) id and checks it.
pub async fn app_registration(
    az: &Azure,
    client_id: &str,
    public_url: &str,
) -> Result<Json, Failure> {
    let url = format!(
        "{}/v1.0/applications?$filter=appId%20eq%20'{}'&$select=id,appId,displayName,signInAudience,web,optionalClaims",
        az.endpoints.graph,
        client_id.replace('\'', "")
    );
    let token = az.credential.token(&az.endpoints.graph_scope()).await?;
    let what = format!("app registration {client_id}");
    let resp = az
        .http
        .get(&url)
        .bearer_auth(token.reveal())
        .send()
        .await
        .map_err(|e| {
            crate::http::send_failure(&format!("Microsoft Graph request for {what}"), &e)
        })?;
    let status = resp.status().as_u16();
    let body = resp.text().await.unwrap_or_default();
    let parsed: Json = serde_json::from_str(&body).map_err(|_| {
        Failure::new(
            ErrorKind::Unavailable,
            format!("malformed response from Microsoft Graph for {what}"),
        )
    })?;
    if status >= 400 {
        let code = text(&parsed, "/error/code");
        let message = text(&parsed, "/error/message");
        let (kind, hint) = match status {
            401 | 403 => (ErrorKind::Forbidden, "reading app registrations needs the Application.Read.All permission, or being an owner of the app (Entra ID → App registrations → Owners)"),
            404 => (ErrorKind::NotFound, "check sso.client_id"),
            _ => (ErrorKind::Unavailable, "Microsoft Graph failed; run again later"),
        };
        return Err(Failure::new(kind, format!("{what}: {code}: {message}")).with_hint(hint));
    }
    let redirect = redirect_uri(public_url);
    let Some(app) = parsed
        .get("value")
        .and_then(Json::as_array)
        .and_then(|v| v.first())
        .cloned()
    else {
        return Ok(json!({
            "found": false, "ok": false, "app_id": client_id, "expected_redirect_uri": redirect,
            "findings": [{
                "check": "exists",
                "problem": format!("no app registration with client id {client_id} in this tenant"),
                "fix": "Entra ID → App registrations → New registration (single tenant), then put its Application (client) ID in sso.client_id",
            }],
        }));
    };
    let audience = text(&app, "/signInAudience");
    let uris: Vec<String> = app
        .pointer("/web/redirectUris")
        .and_then(Json::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|u| u.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let email = app
        .pointer("/optionalClaims/idToken")
        .and_then(Json::as_array)
        .is_some_and(|claims| claims.iter().any(|c| text(c, "/name") == "email"));
    let mut findings = Vec::new();
    if audience != "AzureADMyOrg" {
        findings.push(json!({
            "check": "single_tenant",
            "problem": format!("the app is not single-tenant (signInAudience is {audience})"),
            "fix": format!("portal: App registrations → the app → Authentication → Supported account types → single tenant; CLI: az ad app update --id {client_id} --sign-in-audience AzureADMyOrg"),
        }));
    }
    if !uris.iter().any(|u| u.trim_end_matches('/') == redirect) {
        let mut all = uris.clone();
        all.push(redirect.clone());
        findings.push(json!({
            "check": "redirect_uri",
            "problem": format!("web redirect URI {redirect} is not registered (registered: {}); sign-in fails or ends in \"State cookie missing\"",
                if uris.is_empty() { "none".to_string() } else { uris.join(", ") }),
            "fix": format!("portal: App registrations → the app → Authentication → Web → Add URI {redirect}; CLI: az ad app update --id {client_id} --web-redirect-uris {}; and keep langfuse.public_url (nextauth.url) the same as the URI's base", all.join(" ")),
        }));
    }
    if !email {
        findings.push(json!({
            "check": "email_claim",
            "problem": "the ID token has no `email` optional claim",
            "fix": format!("portal: App registrations → the app → Token configuration → Add optional claim → ID → email; CLI: az ad app update --id {client_id} --optional-claims '{{\"idToken\":[{{\"name\":\"email\",\"essential\":false}}]}}'"),
        }));
    }
    Ok(json!({
        "found": true,
        "ok": findings.is_empty(),
        "app_id": text(&app, "/appId"),
        "object_id": text(&app, "/id"),
        "display_name": text(&app, "/displayName"),
        "sign_in_audience": audience,
        "redirect_uris": uris,
        "expected_redirect_uri": redirect,
        "email_claim": email,
        "findings": findings,
    }))
}
