//! Entra ID's interactive sign-in in the rehearsal: `GET /<tenant>/oauth2/v2.0/authorize`.
//!
//! This is where a browser lands when Langfuse's "Sign in with Azure AD" redirects it
//! (guide §4, §9 "SSO login"). Before it shows the sign-in page, Entra ID checks the
//! request against the app registration, and so does the rehearsal:
//!
//! - the tenant must exist (`AADSTS90002`), and a single-tenant app (`AzureADMyOrg`) is
//!   not reachable through `common`/`organizations` (`AADSTS50194`);
//! - `client_id` must be a known app registration (`AADSTS700016`);
//! - `redirect_uri` must be one of its web redirect URIs, compared exactly
//!   (`AADSTS50011`, the error a `nextauth.url` that differs from the registered URI
//!   produces);
//! - `response_type` must ask for a `code`.
//!
//! Errors are the sign-in error page with status 400. A good request gets the sign-in
//! page (200). Nobody types a password in a rehearsal, so the page also carries the
//! link Entra ID would redirect to once the user signed in: `redirect_uri?code=…&state=…`
//! with an authorization code signed by the world's key (claims: client, redirect URI,
//! expiry), which the rehearsal's Langfuse callback checks (`langfuse/sign_in.rs`).
//!
//! Every other request to `login.microsoftonline.com` goes to the token endpoint
//! (`token.rs`).

use axum::body::Body;
use axum::http::{Method, Request, Response, StatusCode};
use serde_json::json;

use super::state::AzureState;
use super::{token, web};
use crate::world::SharedWorld;

/// How long an authorization code stays redeemable (Entra ID: 10 minutes).
pub const CODE_LIFETIME_SECS: i64 = 600;

/// The `login.microsoftonline.com` handler: the authorize page, or the token endpoint.
pub async fn login(world: SharedWorld, req: Request<Body>) -> Response<Body> {
    if req.method() == Method::GET && is_authorize_path(req.uri().path()) {
        authorize(world, req).await
    } else {
        token::login(world, req).await
    }
}

/// `/<tenant>/oauth2/v2.0/authorize`
fn is_authorize_path(path: &str) -> bool {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    segments.len() == 4 && segments[1..] == ["oauth2", "v2.0", "authorize"]
}

async fn authorize(world: SharedWorld, req: Request<Body>) -> Response<Body> {
    let (parts, _) = web::body_bytes(req).await;
    let tenant = parts
        .uri
        .path()
        .trim_matches('/')
        .split('/')
        .next()
        .unwrap_or_default()
        .to_string();
    let q = web::query(&parts);
    let get = |k: &str| q.get(k).cloned().unwrap_or_default();
    world.read(|w| {
        let s = &w.azure;
        match check(
            s,
            &tenant,
            &get("client_id"),
            &get("redirect_uri"),
            &get("response_type"),
        ) {
            Err((code, message)) => error_page(code, &message),
            Ok(()) => {
                let code = authorization_code(s, &get("client_id"), &get("redirect_uri"));
                sign_in_page(&get("redirect_uri"), &code, &get("state"))
            }
        }
    })
}

/// Entra ID's checks, in its order; Err is `(AADSTS code, message)`.
fn check(
    s: &AzureState,
    tenant: &str,
    client_id: &str,
    redirect_uri: &str,
    response_type: &str,
) -> Result<(), (u32, String)> {
    let shared_endpoint = matches!(
        tenant.to_ascii_lowercase().as_str(),
        "common" | "organizations"
    );
    if !shared_endpoint && !tenant.eq_ignore_ascii_case(&s.tenant_id) {
        return Err((90002, format!("Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.")));
    }
    if client_id.is_empty() {
        return Err((
            900144,
            "The request body must contain the following parameter: 'client_id'.".into(),
        ));
    }
    let Some(app) = s.application(client_id) else {
        return Err((700016, format!("Application with identifier '{client_id}' was not found in the directory '{}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.", s.tenant_id)));
    };
    if shared_endpoint && app.sign_in_audience == "AzureADMyOrg" {
        return Err((50194, format!("Application '{client_id}'({}) is not configured as a multi-tenant application. Usage of the /common endpoint is not supported for such applications created after '10/15/2018'. Use a tenant-specific endpoint or configure the application to be multi-tenant.", app.display_name)));
    }
    if !app.redirect_uris.iter().any(|u| u == redirect_uri) {
        return Err((50011, format!("The redirect URI '{redirect_uri}' specified in the request does not match the redirect URIs configured for the application '{client_id}'. Make sure the redirect URI sent in the request matches one added to your application in the Azure portal. Navigate to https://aka.ms/redirectUriMismatchError to learn more about how to fix this.")));
    }
    if !response_type.split_whitespace().any(|t| t == "code") {
        return Err((
            900144,
            "The request body must contain the following parameter: 'response_type'.".into(),
        ));
    }
    Ok(())
}

/// An authorization code for `client_id` and `redirect_uri`, redeemable for
/// [`CODE_LIFETIME_SECS`]: a JWT signed with the world's key.
pub fn authorization_code(s: &AzureState, client_id: &str, redirect_uri: &str) -> String {
    let now = web::now().as_second();
    token::sign(
        s,
        &json!({
            "typ": "authorization_code",
            "tid": s.tenant_id,
            "aud": client_id,
            "redirect_uri": redirect_uri,
            "sub": "rehearsal-user",
            "preferred_username": "rehearsal.user@contoso.example",
            "iat": now,
            "exp": now + CODE_LIFETIME_SECS,
        }),
    )
}

/// Checks an authorization code issued by [`authorization_code`]: it must be this
/// world's, unexpired, and issued for this client and redirect URI (Entra ID answers
/// `invalid_grant` otherwise). Ok is the signed-in user's name.
pub fn redeem_code(
    s: &AzureState,
    code: &str,
    client_id: &str,
    redirect_uri: &str,
) -> Result<String, String> {
    let claims = token::verify(s, code).map_err(|e| {
        format!(
            "invalid_grant: AADSTS9002313: Invalid request. Request is malformed or invalid ({e})."
        )
    })?;
    let field = |k: &str| claims[k].as_str().unwrap_or_default().to_string();
    if field("typ") != "authorization_code" {
        return Err(
            "invalid_grant: AADSTS9002313: Invalid request. Request is malformed or invalid."
                .into(),
        );
    }
    if !field("aud").eq_ignore_ascii_case(client_id) {
        return Err(format!("invalid_grant: AADSTS700005: Provided Authorization Code is intended to use against other tenant or application '{}'.", field("aud")));
    }
    if field("redirect_uri") != redirect_uri {
        return Err(format!("invalid_grant: AADSTS50148: The redirect_uri '{redirect_uri}' does not match the redirect_uri '{}' used to request the authorization code.", field("redirect_uri")));
    }
    Ok(field("preferred_username"))
}

fn error_page(code: u32, message: &str) -> Response<Body> {
    let now = web::iso(web::now());
    let body = format!(
        "<!DOCTYPE html>\n<html><head><title>Sign in to your account</title></head><body>\n<div id=\"error\">\n<h1>Sign in</h1>\n<p>Sorry, but we're having trouble signing you in.</p>\n<p id=\"message\">AADSTS{code}: {}</p>\n<table><tr><td>Request Id:</td><td>00000000-0000-0000-0000-000000000000</td></tr><tr><td>Correlation Id:</td><td>00000000-0000-0000-0000-000000000000</td></tr><tr><td>Timestamp:</td><td>{now}</td></tr></table>\n</div>\n</body></html>\n",
        web::xml_escape(message)
    );
    web::text(StatusCode::BAD_REQUEST, "text/html; charset=utf-8", body)
}

fn sign_in_page(redirect_uri: &str, code: &str, state: &str) -> Response<Body> {
    let mut continue_url = url::Url::parse(redirect_uri)
        .unwrap_or_else(|_| url::Url::parse("https://invalid.example/").expect("a valid URL"));
    continue_url
        .query_pairs_mut()
        .append_pair("code", code)
        .append_pair("state", state)
        .append_pair("session_state", "00000000-0000-0000-0000-000000000000");
    let body = format!(
        "<!DOCTYPE html>\n<html><head><title>Sign in to your account</title></head><body>\n<form id=\"signin\" method=\"post\">\n<h1>Sign in</h1>\n<input type=\"email\" name=\"loginfmt\" placeholder=\"Email, phone, or Skype\">\n<input type=\"submit\" value=\"Next\">\n</form>\n<!-- rehearsal: where Entra ID sends the browser once the user has signed in -->\n<a id=\"rehearsal-continue\" href=\"{}\">Continue as the rehearsal user</a>\n</body></html>\n",
        web::xml_escape(continue_url.as_str())
    );
    web::text(StatusCode::OK, "text/html; charset=utf-8", body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::azure::seed::{AzureNames, AzureScenario};

    fn state() -> (AzureState, AzureNames) {
        let names = AzureNames::default();
        (
            AzureState::seed(&names, &AzureScenario::default()).unwrap(),
            names,
        )
    }

    #[test]
    fn the_registered_redirect_uri_passes_and_another_is_aadsts50011() {
        let (s, n) = state();
        let tenant = s.tenant_id.clone();
        assert_eq!(
            check(&s, &tenant, &n.sso_client_id, &n.redirect_uri(), "code"),
            Ok(())
        );
        let (code, message) = check(
            &s,
            &tenant,
            &n.sso_client_id,
            "https://other.example/api/auth/callback/azure-ad",
            "code",
        )
        .unwrap_err();
        assert_eq!(code, 50011);
        assert!(message.contains("'https://other.example/api/auth/callback/azure-ad'"));
        assert_eq!(
            check(
                &s,
                &tenant,
                "00000000-0000-0000-0000-000000000001",
                &n.redirect_uri(),
                "code"
            )
            .unwrap_err()
            .0,
            700016
        );
        assert_eq!(
            check(&s, "common", &n.sso_client_id, &n.redirect_uri(), "code")
                .unwrap_err()
                .0,
            50194
        );
    }

    #[test]
    fn a_code_redeems_only_for_its_client_and_redirect_uri() {
        let (s, n) = state();
        let code = authorization_code(&s, &n.sso_client_id, &n.redirect_uri());
        assert!(redeem_code(&s, &code, &n.sso_client_id, &n.redirect_uri()).is_ok());
        let other = redeem_code(&s, &code, &n.sso_client_id, "https://x.example/cb").unwrap_err();
        assert!(other.contains("AADSTS50148"), "{other}");
        assert!(redeem_code(&s, "not-a-code", &n.sso_client_id, &n.redirect_uri()).is_err());
    }
}
