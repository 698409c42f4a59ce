//! `http::` — plain HTTPS requests, and the one place lfrun builds its HTTP client.
//!
//! Every HTTP client lfrun uses (the `http::` module, the Resource Manager and Graph
//! calls, the Azure SDK's token and Blob requests) is built by [`client`] from the
//! run's [`Environment`], so they all get the same three knobs:
//!
//! - `resolve`: host names pinned to addresses (a private endpoint, a jump host, the
//!   rehearsal listener) — the host name, SNI and certificate check stay the real ones;
//! - `ca_pem`: an extra trusted root (a TLS-inspecting corporate proxy, the rehearsal CA);
//! - timeouts and a `lfrun/<version>` user agent.
//!
//! Nothing here knows whether the target is real or a rehearsal: a corporate network
//! needs exactly the same knobs.
//!
//! The script-facing `http::request` does not follow redirects unless asked, so a
//! playbook can look at a sign-in redirect's `Location` (guide §9: "SSO login").

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use rhai::{Dynamic, Map};

use crate::context::RunContext;
use crate::environment::Environment;
use crate::error::{ErrorKind, Failure, ScriptResult};
use crate::register::Registrar;
use crate::secret::Secret;
use crate::value::{from_json, to_json, Reveal};

/// How long to wait for a TCP/TLS connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
/// How long one request may take in total.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);

pub fn user_agent() -> String {
    format!("lfrun/{}", env!("CARGO_PKG_VERSION"))
}

/// Whether a client follows redirects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Redirects {
    Follow,
    Keep,
}

/// The HTTP client for `env`. Clients are built once per environment and kind (the
/// certificate store is loaded once) and shared: reqwest clients are cheap to clone.
pub fn client(env: &Arc<Environment>, redirects: Redirects) -> Result<reqwest::Client, Failure> {
    type Cache = Mutex<HashMap<(usize, Redirects), (Arc<Environment>, reqwest::Client)>>;
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let key = (Arc::as_ptr(env) as usize, redirects);
    let cache = CACHE.get_or_init(Default::default);
    if let Some((_, c)) = cache.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
        return Ok(c.clone());
    }
    let built = build(env, redirects)?;
    cache
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(key, (env.clone(), built.clone()));
    Ok(built)
}

fn build(env: &Environment, redirects: Redirects) -> Result<reqwest::Client, Failure> {
    let mut builder = reqwest::Client::builder()
        .user_agent(user_agent())
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(REQUEST_TIMEOUT)
        .redirect(match redirects {
            Redirects::Follow => reqwest::redirect::Policy::limited(10),
            Redirects::Keep => reqwest::redirect::Policy::none(),
        });
    for (host, addr) in &env.resolve {
        builder = builder.resolve(host, *addr);
    }
    if let Some(pem) = &env.ca_pem {
        let certs = reqwest::Certificate::from_pem_bundle(pem.as_bytes()).map_err(|e| {
            Failure::config(format!(
                "the extra CA certificate (network.ca_file) is not valid PEM: {e}"
            ))
        })?;
        builder = builder.tls_certs_merge(certs);
    }
    builder.build().map_err(|e| {
        Failure::config(format!("cannot set up HTTPS: {e}"))
            .with_hint("check network.ca_file and network.resolve in the config")
    })
}

/// A transport for the Azure SDK's pipelines (azure_identity, azure_storage_blob) that
/// sends through our client, so `resolve` and the extra CA apply to them too.
pub fn azure_transport(env: &Arc<Environment>) -> Result<azure_core::http::Transport, Failure> {
    let client = client(env, Redirects::Keep)?;
    Ok(azure_core::http::Transport::new(Arc::new(client)))
}

/// Client options for the Azure SDK's pipelines: our transport, and a short retry
/// budget (a TLS or DNS failure will not heal in the SDK's default minute of retries;
/// throttling still gets a few tries, honouring `Retry-After`).
pub fn azure_client_options(
    env: &Arc<Environment>,
) -> Result<azure_core::http::ClientOptions, Failure> {
    use azure_core::http::{ExponentialRetryOptions, RetryOptions};
    Ok(azure_core::http::ClientOptions {
        transport: Some(azure_transport(env)?),
        retry: RetryOptions::exponential(ExponentialRetryOptions {
            max_retries: 3,
            max_total_elapsed: time::Duration::seconds(30),
            ..ExponentialRetryOptions::default()
        }),
        ..azure_core::http::ClientOptions::default()
    })
}

/// A failure for a request that did not get an HTTP answer.
pub fn send_failure(what: &str, e: &reqwest::Error) -> Failure {
    let mut cause = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        cause = format!("{cause}: {s}");
        source = s.source();
    }
    if e.is_timeout() {
        Failure::timeout(format!("{what}: no answer in time ({cause})"))
            .with_hint("check the network path to the host, or try again")
    } else {
        Failure::new(ErrorKind::Unavailable, format!("{what}: {cause}"))
            .with_hint("check DNS, proxy and firewall settings (network.resolve, network.ca_file)")
    }
}

pub fn module(run: &Arc<RunContext>) -> rhai::Module {
    let mut m = Registrar::new(
        "http",
        "HTTPS requests through lfrun's client (network.resolve, network.ca_file apply).",
    );
    let r = run.clone();
    m.fun(
        "request",
        "Sends METHOD to URL (a string or Secret) with #{headers, body, json, follow_redirects}; returns #{status, headers, body, json}. Redirects are not followed unless asked.",
        &["method", "url", "options"],
        move |method: &str, url: Dynamic, options: Map| -> ScriptResult<Map> {
            Ok(request(&r, method, &url, &options)?)
        },
    );
    let r = run.clone();
    m.fun(
        "get",
        "GET URL; returns #{status, headers, body, json}; redirects are not followed.",
        &["url"],
        move |url: Dynamic| -> ScriptResult<Map> { Ok(request(&r, "GET", &url, &Map::new())?) },
    );
    m.fun(
        "basic_auth",
        "An `Authorization: Basic …` header value for USER and PASSWORD (Secrets or strings), as a Secret.",
        &["user", "password"],
        |user: Dynamic, password: Dynamic| -> Secret {
            use base64::Engine as _;
            let text = |v: &Dynamic| match v.read_lock::<Secret>() {
                Some(s) => s.reveal().to_string(),
                None => v.to_string(),
            };
            let raw = format!("{}:{}", text(&user), text(&password));
            Secret::new(format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(raw)))
        },
    );
    m.fun(
        "url_decode",
        "Percent-decodes TEXT (`%2F` → `/`, `+` → space).",
        &["text"],
        |text: &str| -> String {
            url::form_urlencoded::parse(format!("x={text}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default()
        },
    );
    m.fun(
        "sha256_base64",
        "The SHA-256 of TEXT, base64-encoded (what Langfuse's media API asks for).",
        &["text"],
        |text: &str| -> String {
            use base64::Engine as _;
            let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, text.as_bytes());
            base64::engine::general_purpose::STANDARD.encode(digest.as_ref())
        },
    );
    m.build()
}

fn request(run: &RunContext, method: &str, url: &Dynamic, options: &Map) -> Result<Map, Failure> {
    let url_text = match url.read_lock::<Secret>() {
        Some(s) => s.reveal().to_string(),
        None => url.to_string(),
    };
    // what messages show: the URL without its query (a SAS signature lives there)
    let shown = url_text.split('?').next().unwrap_or_default().to_string();
    let parsed = reqwest::Url::parse(&url_text)
        .map_err(|e| Failure::invalid(format!("http::request: `{shown}` is not a URL: {e}")))?;
    let method =
        reqwest::Method::from_bytes(method.to_ascii_uppercase().as_bytes()).map_err(|_| {
            Failure::invalid(format!("http::request: `{method}` is not an HTTP method"))
        })?;
    let follow = options
        .get("follow_redirects")
        .and_then(|v| v.as_bool().ok())
        .unwrap_or(false);
    let env = run.env()?;
    let client = client(
        &env,
        if follow {
            Redirects::Follow
        } else {
            Redirects::Keep
        },
    )?;
    let mut req = client.request(method.clone(), parsed);
    if let Some(headers) = options
        .get("headers")
        .and_then(|h| h.read_lock::<Map>().map(|m| m.clone()))
    {
        for (name, value) in headers {
            let value = match to_json(&value, Reveal::Expose) {
                serde_json::Value::String(s) => s,
                other => other.to_string(),
            };
            req = req.header(name.as_str(), value);
        }
    }
    if let Some(json) = options.get("json") {
        req = req.json(&to_json(json, Reveal::Expose));
    } else if let Some(body) = options.get("body") {
        let text = match body.read_lock::<Secret>() {
            Some(s) => s.reveal().to_string(),
            None => body.to_string(),
        };
        req = req.body(text);
    }
    let what = format!("{method} {shown}");
    let response = run.block_on(async {
        let resp = req.send().await.map_err(|e| send_failure(&what, &e))?;
        let status = resp.status().as_u16();
        let mut headers = Map::new();
        let mut cookies: Vec<String> = Vec::new();
        for (name, value) in resp.headers() {
            let value = String::from_utf8_lossy(value.as_bytes()).to_string();
            if name == reqwest::header::SET_COOKIE {
                // `cookies` is ready to send back as a Cookie header
                cookies.extend(value.split(';').next().map(|c| c.trim().to_string()));
            }
            headers.insert(name.as_str().into(), value.into());
        }
        headers.insert("cookies".into(), cookies.join("; ").into());
        let body = resp.text().await.map_err(|e| send_failure(&what, &e))?;
        Ok((status, headers, body))
    })?;
    let (status, headers, body) = response;
    let json = serde_json::from_str::<serde_json::Value>(&body)
        .map(|v| from_json(&v))
        .unwrap_or(Dynamic::UNIT);
    let mut out = Map::new();
    out.insert("status".into(), (status as rhai::INT).into());
    out.insert("headers".into(), headers.into());
    out.insert("body".into(), body.into());
    out.insert("json".into(), json);
    Ok(out)
}
