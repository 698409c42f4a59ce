//! The rehearsal's Langfuse public host after a real `helm install`: health follows
//! the web pods' readiness, and Azure AD sign-in goes through NextAuth and Entra ID
//! with the redirect URI, cookies and errors the deployed values produce.

mod common;
mod langfuse_site;

use langfuse_site::*;
use reqwest::Method;

fn query_param(url: &str, name: &str) -> String {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// `GET /api/auth/csrf`, then `POST /api/auth/signin/azure-ad` with the token and cookie.
async fn start_sign_in(site: &Site) -> Answer {
    let csrf = site.get(&format!("{PUBLIC_URL}/api/auth/csrf")).await;
    assert_eq!(csrf.status, 200, "{}", csrf.text);
    let token = csrf.json()["csrfToken"].as_str().unwrap().to_string();
    let cookie = csrf
        .cookie("__Secure-next-auth.csrf-token")
        .expect("the csrf cookie");
    site.send(form(
        site.https
            .post(format!("{PUBLIC_URL}/api/auth/signin/azure-ad"))
            .header("cookie", cookie),
        &[
            ("csrfToken", token.as_str()),
            ("callbackUrl", &format!("{PUBLIC_URL}/")),
        ],
    ))
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_answers_while_a_web_pod_is_ready_and_the_ingress_503s_without_one() {
    let site = deployed("healthy").await;
    let health = format!("{PUBLIC_URL}/api/public/health");
    let ok = site.get(&health).await;
    assert_eq!(ok.status, 200, "{}", ok.text);
    assert_eq!(
        ok.json(),
        serde_json::json!({"status": "OK", "version": "3.224.1"})
    );

    site.scale_web(0).await;
    let down = site.get(&health).await;
    assert_eq!(down.status, 503);
    assert!(down.text.contains("503 Service Temporarily Unavailable"));
    let ingest = site
        .send(
            site.api(Method::POST, "/api/public/ingestion")
                .json(&serde_json::json!({"batch": []})),
        )
        .await;
    assert_eq!(ingest.status, 503, "every path, not only health");

    site.scale_web(1).await;
    assert_eq!(site.get(&health).await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_redirects_to_entra_id_with_the_nextauth_redirect_uri_and_completes() {
    let site = deployed("healthy").await;
    let app = site.t.sim.world().unwrap().read(|w| {
        (
            w.azure.names.sso_client_id.clone(),
            w.azure.tenant_id.clone(),
        )
    });
    let (client_id, tenant) = app;
    let signin = start_sign_in(&site).await;
    assert_eq!(signin.status, 302, "{}", signin.text);
    let location = signin.location();
    let state = query_param(&location, "state");
    assert!(!state.is_empty());
    assert_eq!(
        location,
        format!(
            "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/authorize?client_id={client_id}&response_type=code&scope=openid%20profile%20email&redirect_uri=https%3A%2F%2Flangfuse.contoso.example%2Fapi%2Fauth%2Fcallback%2Fazure-ad&state={state}"
        )
    );
    assert_eq!(
        query_param(&location, "redirect_uri"),
        format!("{PUBLIC_URL}/api/auth/callback/azure-ad")
    );
    let state_cookie = signin
        .set_cookies()
        .into_iter()
        .find(|c| c.starts_with("__Secure-next-auth.state="))
        .expect("a state cookie");
    assert!(!state_cookie.contains("Domain="), "{state_cookie}");

    // Entra ID shows its sign-in page; once signed in it sends the browser back
    let page = site.get(&location).await;
    assert_eq!(page.status, 200, "{}", page.text);
    let continue_url = page
        .text
        .split("id=\"rehearsal-continue\" href=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap()
        .replace("&amp;", "&");
    assert!(continue_url.starts_with(&format!("{PUBLIC_URL}/api/auth/callback/azure-ad?code=")));
    let cookies = [
        signin.cookie("__Secure-next-auth.state").unwrap(),
        signin.cookie("__Secure-next-auth.callback-url").unwrap(),
    ]
    .join("; ");
    let done = site
        .send(site.https.get(&continue_url).header("cookie", &cookies))
        .await;
    assert_eq!(done.status, 302, "{}", done.text);
    assert_eq!(done.location(), format!("{PUBLIC_URL}/"));
    assert!(done.cookie("__Secure-next-auth.session-token").is_some());

    // the same callback without the state cookie: NextAuth's "State cookie was missing."
    let lost = site.get(&continue_url).await;
    assert_eq!(lost.status, 302);
    assert_eq!(
        lost.location(),
        format!("{PUBLIC_URL}/auth/error?error=OAuthCallback")
    );
    assert!(site
        .logs("web")
        .await
        .contains("[OAUTH_CALLBACK_ERROR] https://next-auth.js.org/errors#oauth_callback_error State cookie was missing."));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_without_the_csrf_cookie_goes_back_to_the_sign_in_page() {
    let site = deployed("healthy").await;
    let r = site
        .send(form(
            site.https
                .post(format!("{PUBLIC_URL}/api/auth/signin/azure-ad")),
            &[("csrfToken", "forged")],
        ))
        .await;
    assert_eq!(r.status, 302);
    assert_eq!(
        r.location(),
        format!("{PUBLIC_URL}/api/auth/signin?csrf=true")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entra_id_refuses_a_redirect_uri_the_app_registration_does_not_list() {
    let site = deployed("sso-redirect-mismatch").await;
    let (client_id, tenant) = site.t.sim.world().unwrap().read(|w| {
        (
            w.azure.names.sso_client_id.clone(),
            w.azure.tenant_id.clone(),
        )
    });
    let signin = start_sign_in(&site).await;
    assert_eq!(signin.status, 302);
    let page = site.get(&signin.location()).await;
    assert_eq!(page.status, 400);
    assert!(
        page.text.contains(&format!(
            "AADSTS50011: The redirect URI '{PUBLIC_URL}/api/auth/callback/azure-ad' specified in the request does not match the redirect URIs configured for the application '{client_id}'"
        )),
        "{}",
        page.text
    );

    let unknown = site
        .get(&format!(
            "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/authorize?client_id=00000000-0000-4000-8000-000000000bad&response_type=code&redirect_uri=https%3A%2F%2Fx.example%2Fcb"
        ))
        .await;
    assert_eq!(unknown.status, 400);
    assert!(unknown.text.contains("AADSTS700016"), "{}", unknown.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nextauth_url_on_another_host_loses_the_state_cookie() {
    let old = "https://langfuse-old.contoso.example";
    let site = deployed_with(
        "healthy",
        Deploy {
            nextauth_url: old.into(),
        },
    )
    .await;
    let signin = start_sign_in(&site).await;
    assert_eq!(signin.status, 302);
    assert_eq!(
        query_param(&signin.location(), "redirect_uri"),
        format!("{old}/api/auth/callback/azure-ad")
    );
    let state_cookie = signin
        .set_cookies()
        .into_iter()
        .find(|c| c.starts_with("__Secure-next-auth.state="))
        .expect("a state cookie");
    assert!(
        state_cookie.contains("; Domain=langfuse-old.contoso.example"),
        "{state_cookie}"
    );
    // a browser on langfuse.contoso.example refuses that cookie, so the callback lacks it
    let callback = site
        .get(&format!(
            "{PUBLIC_URL}/api/auth/callback/azure-ad?code=x&state={}",
            query_param(&signin.location(), "state")
        ))
        .await;
    assert_eq!(callback.status, 302);
    assert_eq!(
        callback.location(),
        format!("{old}/auth/error?error=OAuthCallback")
    );
    assert!(site.logs("web").await.contains("State cookie was missing."));
}
