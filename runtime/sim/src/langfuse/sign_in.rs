//! Sign-in with Azure AD through NextAuth (`/api/auth/*`), as Langfuse configures it
//! (guide §4, §9 "SSO login", §10 "State cookie missing").
//!
//! Everything comes from the web container's environment: `NEXTAUTH_URL`,
//! `NEXTAUTH_SECRET`, `AUTH_AZURE_AD_CLIENT_ID`, `AUTH_AZURE_AD_CLIENT_SECRET` and
//! `AUTH_AZURE_AD_TENANT_ID` (the provider exists only when all three `AUTH_AZURE_AD_*`
//! are set). The flow:
//!
//! 1. `GET /api/auth/csrf` → `{csrfToken}` and the cookie `next-auth.csrf-token` =
//!    `token|sha256(token + NEXTAUTH_SECRET)`.
//! 2. `POST /api/auth/signin/azure-ad` (form `csrfToken`, `callbackUrl`, and the csrf
//!    cookie) → `302` to `https://login.microsoftonline.com/<tenant>/oauth2/v2.0/authorize`
//!    with `client_id`, `response_type=code`, `scope=openid profile email`,
//!    `redirect_uri=<NEXTAUTH_URL>/api/auth/callback/azure-ad` and a random `state`,
//!    which is also kept in the `next-auth.state` cookie. (`json=true` in the form gets
//!    `200 {url}` instead, as Langfuse's sign-in button asks for.) A missing or wrong
//!    csrf token redirects to `/api/auth/signin?csrf=true`.
//! 3. Entra ID checks the redirect URI (`azure/authorize.rs`) and sends the browser to
//!    the callback: `GET /api/auth/callback/azure-ad?code=…&state=…`. Without the state
//!    cookie NextAuth fails with "State cookie was missing." and redirects to
//!    `/auth/error?error=OAuthCallback`; likewise for a state mismatch or a code Entra
//!    ID does not redeem. Success redirects to the callback URL with a session cookie.
//!
//! The redirect URI is built from `NEXTAUTH_URL`, not from the host the browser used.
//! When they differ (`nextauth.url` not the public URL), the cookies are set for the
//! `NEXTAUTH_URL` domain (`Domain=` attribute), which a browser on the public host
//! refuses — so the callback arrives without the state cookie: the guide's "State
//! cookie missing". The web pod logs each failure as NextAuth does.

use axum::body::Body;
use axum::http::{Method, Response, StatusCode};
use base64::Engine as _;
use serde_json::json;

use super::deployed::WebPod;
use super::request::{self, PublicRequest};
use crate::azure::authorize::redeem_code;
use crate::world::World;

/// What NextAuth needs to run the Azure AD provider.
struct Provider {
    nextauth_url: String,
    secret: String,
    client_id: String,
    tenant_id: String,
}

impl Provider {
    fn from_pod(pod: &WebPod) -> Option<Provider> {
        pod.env("AUTH_AZURE_AD_CLIENT_SECRET")?;
        Some(Provider {
            nextauth_url: pod.nextauth_url(),
            secret: pod.env("NEXTAUTH_SECRET").unwrap_or_default().to_string(),
            client_id: pod.env("AUTH_AZURE_AD_CLIENT_ID")?.to_string(),
            tenant_id: pod.env("AUTH_AZURE_AD_TENANT_ID")?.to_string(),
        })
    }

    fn redirect_uri(&self) -> String {
        format!("{}/api/auth/callback/azure-ad", self.nextauth_url)
    }
}

/// Cookie names and attributes, as Langfuse's `getCookieName`/`getCookieOptions` make them.
struct Cookies {
    secure: bool,
    /// `Domain=` when NEXTAUTH_URL's host is not the host the request came to.
    domain: Option<String>,
}

impl Cookies {
    fn new(pod: &WebPod, req: &PublicRequest) -> Cookies {
        let nextauth = pod.nextauth_url();
        let host = host_of(&nextauth);
        Cookies {
            secure: nextauth.starts_with("https://"),
            domain: (!host.is_empty() && host != req.host).then_some(host),
        }
    }

    fn name(&self, base: &str) -> String {
        if self.secure {
            format!("__Secure-{base}")
        } else {
            base.to_string()
        }
    }

    fn set(&self, base: &str, value: &str, max_age: Option<i64>) -> String {
        let mut c = format!(
            "{}={}; Path=/; HttpOnly; SameSite=Lax",
            self.name(base),
            encode_cookie(value)
        );
        if let Some(d) = &self.domain {
            c.push_str(&format!("; Domain={d}"));
        }
        if let Some(age) = max_age {
            c.push_str(&format!("; Max-Age={age}"));
        }
        if self.secure {
            c.push_str("; Secure");
        }
        c
    }
}

fn host_of(url: &str) -> String {
    url::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_ascii_lowercase))
        .unwrap_or_default()
}

fn encode_cookie(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

fn random_bytes() -> [u8; 32] {
    let mut b = [0u8; 32];
    let _ = aws_lc_rs::rand::fill(&mut b);
    b
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn sha256_hex(text: &str) -> String {
    hex(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, text.as_bytes()).as_ref())
}

fn hmac_hex(secret: &str, text: &str) -> String {
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, secret.as_bytes());
    hex(aws_lc_rs::hmac::sign(&key, text.as_bytes()).as_ref())
}

/// Requests under `/api/auth/`; `action` is the rest of the path.
pub fn handle(w: &mut World, pod: &WebPod, req: &PublicRequest, action: &str) -> Response<Body> {
    match (&req.method, action) {
        (&Method::GET, "csrf") => csrf(pod, req),
        (&Method::GET, "providers") => providers(pod),
        (&Method::GET, "session") => request::json(StatusCode::OK, &json!({})),
        (&Method::GET, "signin") => {
            request::redirect(&format!("{}/auth/sign-in", pod.nextauth_url()), &[])
        }
        (&Method::POST, "signin/azure-ad") => sign_in(w, pod, req),
        (&Method::GET, "callback/azure-ad") | (&Method::POST, "callback/azure-ad") => {
            callback(w, pod, req)
        }
        _ => request::not_found(),
    }
}

fn csrf(pod: &WebPod, req: &PublicRequest) -> Response<Body> {
    let cookies = Cookies::new(pod, req);
    let secret = pod.env("NEXTAUTH_SECRET").unwrap_or_default();
    // an existing valid cookie keeps its token, as NextAuth does
    let token = req
        .cookie(&cookies.name("next-auth.csrf-token"))
        .and_then(|c| {
            let (t, h) = c.split_once('|')?;
            (sha256_hex(&format!("{t}{secret}")) == h).then(|| t.to_string())
        })
        .unwrap_or_else(|| hex(&random_bytes()));
    let value = format!("{token}|{}", sha256_hex(&format!("{token}{secret}")));
    request::with_cookies(
        request::json(StatusCode::OK, &json!({"csrfToken": token})),
        &[cookies.set("next-auth.csrf-token", &value, None)],
    )
}

fn providers(pod: &WebPod) -> Response<Body> {
    let url = pod.nextauth_url();
    let list = match Provider::from_pod(pod) {
        Some(_) => json!({"azure-ad": {
            "id": "azure-ad", "name": "Azure Active Directory", "type": "oauth",
            "signinUrl": format!("{url}/api/auth/signin/azure-ad"),
            "callbackUrl": format!("{url}/api/auth/callback/azure-ad"),
        }}),
        None => json!({}),
    };
    request::json(StatusCode::OK, &list)
}

fn log(w: &mut World, pod: &WebPod, line: String) {
    w.logs
        .append(&pod.namespace, &pod.name, &pod.container, line);
}

fn sign_in(w: &mut World, pod: &WebPod, req: &PublicRequest) -> Response<Body> {
    let url = pod.nextauth_url();
    let cookies = Cookies::new(pod, req);
    let form = req.form();
    let secret = pod.env("NEXTAUTH_SECRET").unwrap_or_default();
    let csrf_ok = req
        .cookie(&cookies.name("next-auth.csrf-token"))
        .and_then(|c| {
            let (t, h) = c.split_once('|')?;
            Some(
                sha256_hex(&format!("{t}{secret}")) == h
                    && form.get("csrfToken").map(String::as_str) == Some(t),
            )
        })
        .unwrap_or(false);
    if !csrf_ok {
        return request::redirect(&format!("{url}/api/auth/signin?csrf=true"), &[]);
    }
    let Some(provider) = Provider::from_pod(pod) else {
        log(w, pod, "error: [next-auth][error][SIGNIN_OAUTH_ERROR] provider azure-ad is not configured (AUTH_AZURE_AD_CLIENT_ID, AUTH_AZURE_AD_CLIENT_SECRET and AUTH_AZURE_AD_TENANT_ID are required)".into());
        return request::redirect(&format!("{url}/auth/error?error=OAuthSignin"), &[]);
    };
    let state = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random_bytes());
    let mut authorize = url::Url::parse(&format!(
        "https://login.microsoftonline.com/{}/oauth2/v2.0/authorize",
        provider.tenant_id
    ))
    .expect("a valid authorize URL");
    authorize
        .query_pairs_mut()
        .append_pair("client_id", &provider.client_id)
        .append_pair("response_type", "code")
        .append_pair("scope", "openid profile email")
        .append_pair("redirect_uri", &provider.redirect_uri())
        .append_pair("state", &state);
    // the query encodes spaces as `+`; OAuth servers and browsers send `%20`
    let location = authorize.as_str().replace('+', "%20");
    let callback_url = form
        .get("callbackUrl")
        .cloned()
        .unwrap_or_else(|| url.clone());
    let state_cookie = format!("{state}.{}", hmac_hex(&provider.secret, &state));
    let set = [
        cookies.set("next-auth.state", &state_cookie, Some(900)),
        cookies.set("next-auth.callback-url", &callback_url, None),
    ];
    if form.get("json").map(String::as_str) == Some("true") {
        return request::with_cookies(
            request::json(StatusCode::OK, &json!({"url": location})),
            &set,
        );
    }
    request::redirect(&location, &set)
}

fn callback(w: &mut World, pod: &WebPod, req: &PublicRequest) -> Response<Body> {
    let url = pod.nextauth_url();
    let error_page = format!("{url}/auth/error?error=OAuthCallback");
    let Some(provider) = Provider::from_pod(pod) else {
        return request::redirect(&error_page, &[]);
    };
    let cookies = Cookies::new(pod, req);
    let fail = |w: &mut World, message: String| {
        log(w, pod, format!("error: [next-auth][error][OAUTH_CALLBACK_ERROR] https://next-auth.js.org/errors#oauth_callback_error {message} {{ providerId: 'azure-ad', message: '{message}' }}"));
        request::redirect(&error_page, &[])
    };
    if let Some(e) = req.query.get("error") {
        let description = req
            .query
            .get("error_description")
            .cloned()
            .unwrap_or_default();
        return fail(w, format!("{e}: {description}"));
    }
    let Some(cookie) = req.cookie(&cookies.name("next-auth.state")) else {
        return fail(w, "State cookie was missing.".into());
    };
    let returned = req.query.get("state").cloned().unwrap_or_default();
    let expected = match cookie.rsplit_once('.') {
        Some((state, mac)) if hmac_hex(&provider.secret, state) == mac => state.to_string(),
        _ => return fail(w, "State value could not be parsed.".into()),
    };
    if expected != returned {
        return fail(
            w,
            format!("state mismatch, expected {expected}, got: {returned}"),
        );
    }
    let code = req.query.get("code").cloned().unwrap_or_default();
    let user = match redeem_code(
        &w.azure,
        &code,
        &provider.client_id,
        &provider.redirect_uri(),
    ) {
        Ok(user) => user,
        Err(e) => return fail(w, e),
    };
    let session = format!(
        "{user}.{}",
        hmac_hex(&provider.secret, &format!("session|{user}"))
    );
    let target = req
        .cookie(&cookies.name("next-auth.callback-url"))
        .filter(|c| c.starts_with(&url))
        .unwrap_or_else(|| url.clone());
    request::redirect(
        &target,
        &[
            cookies.set("next-auth.session-token", &session, Some(30 * 24 * 3600)),
            cookies.set("next-auth.state", "", Some(0)),
        ],
    )
}
