//! `http::` and how the Azure primitives meet a network that misbehaves: requests go
//! through lfrun's one client (resolve + extra CA), redirects are kept for the script
//! to inspect, and a proxy that answers Resource Manager with HTML is a clear error.

use lfrun_sim::front::handler_http::{Response, StatusCode};
use lfrun_sim::front::{self, HandlerBody as Body, Routes};

use crate::azure_rehearsal::AzureRehearsal;

/// A second HTTPS front door (trusted through the same CA file) standing in for a
/// proxy: `sso.contoso.example` redirects, `management.azure.com` answers HTML.
struct Proxy {
    front: front::Front,
    ca_pem: String,
}

fn proxy(runtime: &AzureRehearsal) -> Proxy {
    let mut routes = Routes::default();
    routes.host(
        "sso.contoso.example",
        front::handler(|req| async move {
            match req.uri().path() {
                "/api/auth/signin" => Response::builder()
                    .status(StatusCode::FOUND)
                    .header("location", "https://login.microsoftonline.com/tenant/oauth2/v2.0/authorize?redirect_uri=https%3A%2F%2Fsso.contoso.example%2Fapi%2Fauth%2Fcallback%2Fazure-ad")
                    .body(Body::empty())
                    .unwrap(),
                _ => Response::builder().header("content-type", "application/json").body(Body::from(r#"{"status":"OK","version":"3"}"#)).unwrap(),
            }
        }),
    );
    routes.host(
        "management.azure.com",
        front::handler(|_| async {
            Response::builder()
                .status(StatusCode::OK)
                .header("content-type", "text/html")
                .body(Body::from("<html>proxy says hello</html>"))
                .unwrap()
        }),
    );
    let ca = lfrun_sim::tls::RehearsalCa::generate().unwrap();
    let tls = ca.server_config(&routes.certificate_names()).unwrap();
    let front = runtime
        .cluster
        .block_on(front::start(routes, tls, 0))
        .unwrap();
    Proxy {
        front,
        ca_pem: ca.cert_pem,
    }
}

fn config_through(az: &AzureRehearsal, p: &Proxy) -> String {
    az.config()
        .replace(
            &format!("    management.azure.com: \"{}\"\n", az.info.address),
            &format!(
                "    management.azure.com: \"{}\"\n    sso.contoso.example: \"{}\"\n",
                p.front.addr, p.front.addr
            ),
        )
        .replace(
            &format!("ca_file: {}", az.info.ca_file.display()),
            "ca_file: cas.pem",
        )
}

#[test]
fn http_request_keeps_redirects_and_parses_json() {
    let az = AzureRehearsal::start("healthy");
    let p = proxy(&az);
    let cas = format!(
        "{}\n{}",
        std::fs::read_to_string(&az.info.ca_file).unwrap(),
        p.ca_pem
    );
    az.test_with_config(
        &config_through(&az, &p),
        r#"
        let r = http::get("https://sso.contoso.example/api/auth/signin");
        print(`status ${r.status}`);
        print(`location ${r.headers.location}`);
        let h = http::request("GET", "https://sso.contoso.example/api/public/health", #{headers: #{accept: "application/json"}});
        print(`health ${h.status} ${h.json.status}`);
        try { http::get("not a url"); } catch (e) { print(`bad url ${e.kind}`); }
        "#,
    )
    .file("cas.pem", &cas)
    .stdout_has("status 302")
    .stdout_has("location https://login.microsoftonline.com/tenant/oauth2/v2.0/authorize?redirect_uri=https%3A%2F%2Fsso.contoso.example%2Fapi%2Fauth%2Fcallback%2Fazure-ad")
    .stdout_has("health 200 OK")
    .stdout_has("bad url invalid")
    .run();
}

#[test]
fn a_malformed_resource_manager_answer_is_named_not_panicked_on() {
    let az = AzureRehearsal::start("healthy");
    let p = proxy(&az);
    let cas = format!(
        "{}\n{}",
        std::fs::read_to_string(&az.info.ca_file).unwrap(),
        p.ca_pem
    );
    az.test_with_config(&config_through(&az, &p), r#"az::aks("rg-contoso-langfuse-test", "aks-contoso-langfuse");"#)
        .file("cas.pem", &cas)
        .status(1)
        .stderr_has("malformed response from Resource Manager for /subscriptions/3f1c2d4e-0000-4000-8000-0000000005ab/resourceGroups/rg-contoso-langfuse-test/providers/Microsoft.ContainerService/managedClusters/aks-contoso-langfuse")
        .stderr_lacks("panicked")
        .run();
}

#[test]
fn an_untrusted_certificate_is_refused() {
    let az = AzureRehearsal::start("healthy");
    // without the rehearsal CA, the production names are not trusted at the listener
    let config = az
        .config()
        .replace(&format!("  ca_file: {}\n", az.info.ca_file.display()), "");
    az.test_with_config(&config, "az::whoami();")
        .status(1)
        .stderr_has("could not get an Azure token")
        .run();
}
