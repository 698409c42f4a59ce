//! The rehearsal's one HTTPS listener, routing by `Host` like a shared front door.
//!
//! Azure's endpoints (`login.microsoftonline.com`, `management.azure.com`,
//! `graph.microsoft.com`, `<acr>.azurecr.io`, `<account>.blob.core.windows.net`) and the
//! client's Langfuse public host are all served on one `127.0.0.1` port. Clients keep
//! the production URLs and pin the names to this address (reqwest `resolve`, curl
//! `--resolve`), so SNI, the `Host` header and certificate checks are the real ones.
//!
//! Each host is served by a [`Handler`]; a host can be named exactly or by suffix
//! (`.azurecr.io`, for any registry name). The certificate covers every exact name and
//! a wildcard for every suffix.

use std::collections::BTreeMap;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

/// The body and HTTP types handlers use (re-exported so callers need not depend on axum).
pub use axum::body::Body as HandlerBody;
pub use axum::http as handler_http;

/// Answers the requests for one host.
pub type Handler = Arc<
    dyn Fn(Request<Body>) -> Pin<Box<dyn Future<Output = Response<Body>> + Send>> + Send + Sync,
>;

/// Wraps an async function as a [`Handler`].
pub fn handler<F, Fut>(f: F) -> Handler
where
    F: Fn(Request<Body>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Response<Body>> + Send + 'static,
{
    Arc::new(move |req| Box::pin(f(req)))
}

/// Wraps an axum router as a [`Handler`] (for hosts served with axum routes).
pub fn router(router: axum::Router) -> Handler {
    handler(move |req| {
        let r = router.clone();
        async move {
            use tower::ServiceExt;
            match r.oneshot(req).await {
                Ok(resp) => resp,
                Err(never) => match never {},
            }
        }
    })
}

/// Which handler serves which host.
#[derive(Clone, Default)]
pub struct Routes {
    exact: BTreeMap<String, Handler>,
    /// `(".azurecr.io", handler)`: any host ending with the suffix.
    suffixes: Vec<(String, Handler)>,
    /// Concrete names under a suffix that clients should resolve to us.
    also_resolve: Vec<String>,
}

impl Routes {
    pub fn host(&mut self, name: &str, h: Handler) -> &mut Self {
        self.exact.insert(name.to_ascii_lowercase(), h);
        self
    }

    /// Serves every host ending with `suffix` (e.g. `.azurecr.io`).
    pub fn suffix(&mut self, suffix: &str, h: Handler) -> &mut Self {
        self.suffixes.push((suffix.to_ascii_lowercase(), h));
        self
    }

    /// A concrete name under a suffix route that clients should pin to the listener.
    pub fn resolve_also(&mut self, name: &str) -> &mut Self {
        self.also_resolve.push(name.to_ascii_lowercase());
        self
    }

    fn find(&self, host: &str) -> Option<Handler> {
        let host = host.to_ascii_lowercase();
        if let Some(h) = self.exact.get(&host) {
            return Some(h.clone());
        }
        self.suffixes
            .iter()
            .find(|(s, _)| host.ends_with(s.as_str()) && host.len() > s.len())
            .map(|(_, h)| h.clone())
    }

    /// Names for the certificate: every exact host and `*<suffix>` for each suffix.
    pub fn certificate_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.exact.keys().cloned().collect();
        names.extend(self.suffixes.iter().map(|(s, _)| format!("*{s}")));
        names.extend(self.also_resolve.iter().cloned());
        names.sort();
        names.dedup();
        names
    }

    /// Host names clients must resolve to the listener.
    pub fn resolve_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.exact.keys().cloned().collect();
        names.extend(self.also_resolve.iter().cloned());
        names.sort();
        names.dedup();
        names
    }
}

/// The running listener.
pub struct Front {
    pub addr: SocketAddr,
    /// Every host name to pin to `addr`.
    pub hosts: Vec<String>,
    task: tokio::task::JoinHandle<()>,
}

impl Front {
    /// `host → addr` pairs for a client's resolve list.
    pub fn resolve(&self) -> BTreeMap<String, SocketAddr> {
        self.hosts.iter().map(|h| (h.clone(), self.addr)).collect()
    }

    pub fn stop(&self) {
        self.task.abort();
    }
}

impl Drop for Front {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts serving `routes` over TLS on `127.0.0.1:port` (0 = any free port).
pub async fn start(
    routes: Routes,
    tls: Arc<rustls::ServerConfig>,
    port: u16,
) -> std::io::Result<Front> {
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    let addr = listener.local_addr()?;
    let hosts = routes.resolve_names();
    let acceptor = TlsAcceptor::from(tls);
    let routes = Arc::new(routes);
    let task = tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                continue;
            };
            let acceptor = acceptor.clone();
            let routes = routes.clone();
            tokio::spawn(async move {
                let Ok(stream) = acceptor.accept(tcp).await else {
                    return;
                };
                let service =
                    hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
                        let routes = routes.clone();
                        async move {
                            Ok::<_, std::convert::Infallible>(
                                dispatch(&routes, req.map(Body::new)).await,
                            )
                        }
                    });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    Ok(Front { addr, hosts, task })
}

async fn dispatch(routes: &Routes, req: Request<Body>) -> Response<Body> {
    let host = req
        .headers()
        .get("host")
        .and_then(|h| h.to_str().ok())
        .map(|h| h.rsplit_once(':').map(|(n, _)| n).unwrap_or(h).to_string())
        .or_else(|| req.uri().host().map(str::to_string))
        .unwrap_or_default();
    match routes.find(&host) {
        Some(h) => h(req).await,
        None => Response::builder()
            .status(StatusCode::MISDIRECTED_REQUEST)
            .body(Body::from(format!(
                "the rehearsal environment does not serve host `{host}`\n"
            )))
            .unwrap_or_default(),
    }
}
