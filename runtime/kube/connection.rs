//! Which cluster the `kube::` functions talk to, and the one client they share.
//!
//! A run makes one client, on the first `kube::` call, and keeps it: every call
//! after that reuses its connection pool and the kinds it already resolved, so a
//! playbook of a hundred calls pays for TLS and discovery once.
//!
//! Where the client comes from, first match wins:
//!
//! 1. `kube::connect(#{kubeconfig: …})` — kubeconfig text (or a `Secret` holding
//!    it) handed over by the Azure primitives (`az::aks_credentials`), or a path;
//! 2. the run's [`Environment`](crate::environment::Environment): the rehearsal's
//!    kubeconfig, or `kube.kubeconfig` / `kube.context` from the client config;
//! 3. `KUBECONFIG` or `~/.kube/config` (current context unless one is named);
//! 4. the pod's service account, when lfrun runs inside the cluster.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};
use tower::buffer::BufferLayer;
use tower::retry::RetryLayer;
use tower::timeout::TimeoutLayer;

use crate::context::RunContext;
use crate::error::{ErrorKind, Failure};
use crate::kube::kinds::KindCache;
use crate::kube::retry::SafeRetry;
use crate::secret::Secret;

/// How long one attempt may wait for the API server's answer to start (headers; a
/// watch's events may follow for much longer). A hung server becomes a `timeout`
/// that the retry layer repeats for safe requests, instead of a wait without end.
const ATTEMPT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// Where a kubeconfig comes from.
#[derive(Clone)]
pub enum KubeconfigSource {
    /// The run's environment, then `KUBECONFIG` / `~/.kube/config`, then in-cluster.
    Default,
    /// A kubeconfig file.
    File(PathBuf),
    /// Kubeconfig text, e.g. from `az::aks_credentials` (may hold credentials).
    Text(Secret),
}

/// A connected cluster: the client and what was learnt about the API.
pub struct Cluster {
    pub client: Client,
    /// The API server URL, for messages.
    pub server: String,
    /// The kubeconfig context used ("in-cluster" for a service account).
    pub context: String,
    /// Kinds resolved so far (built-ins need no request; others one discovery).
    pub kinds: KindCache,
}

/// Makes the run's client on first use and hands out the same one afterwards.
pub struct Connector {
    run: Arc<RunContext>,
    current: Mutex<Option<Arc<Cluster>>>,
}

impl Connector {
    pub fn new(run: Arc<RunContext>) -> Connector {
        Connector {
            run,
            current: Mutex::new(None),
        }
    }

    /// The cluster for this run, connecting on the first call.
    pub fn cluster(&self) -> Result<Arc<Cluster>, Failure> {
        if let Some(cluster) = self.lock().as_ref() {
            return Ok(cluster.clone());
        }
        let cluster = self.connect(KubeconfigSource::Default, None)?;
        Ok(cluster)
    }

    /// Connects (again) from `source`, with `context` if given; later calls use it.
    pub fn connect(
        &self,
        source: KubeconfigSource,
        context: Option<String>,
    ) -> Result<Arc<Cluster>, Failure> {
        let (source, context) = match source {
            KubeconfigSource::Default => {
                let env = self.run.env()?;
                match &env.kubeconfig {
                    Some(path) => (
                        KubeconfigSource::File(path.clone()),
                        context.or_else(|| env.kube_context.clone()),
                    ),
                    None => (
                        KubeconfigSource::Default,
                        context.or_else(|| env.kube_context.clone()),
                    ),
                }
            }
            other => (other, context),
        };
        let cluster = Arc::new(self.run.block_on(open(source, context))?);
        *self.lock() = Some(cluster.clone());
        Ok(cluster)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Arc<Cluster>>> {
        self.current.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Builds a client from a kubeconfig source (no request is made yet).
pub async fn open(source: KubeconfigSource, context: Option<String>) -> Result<Cluster, Failure> {
    let options = KubeConfigOptions {
        context: context.clone(),
        ..KubeConfigOptions::default()
    };
    let (mut config, context_name) = match &source {
        KubeconfigSource::File(path) => {
            let kubeconfig = read_file(path)?;
            let name = context_name(&kubeconfig, &context);
            let config = Config::from_custom_kubeconfig(kubeconfig, &options)
                .await
                .map_err(|e| unusable(&path.display().to_string(), &e.to_string(), &context))?;
            (config, name)
        }
        KubeconfigSource::Text(text) => {
            // The text may carry a token or a client key: never quote it in a message.
            let kubeconfig = Kubeconfig::from_yaml(text.reveal()).map_err(|_| {
                Failure::invalid("the kubeconfig handed to kube::connect is not valid kubeconfig YAML")
                    .with_hint("pass the text returned by az::aks_credentials, or a path as #{kubeconfig_path: …}")
            })?;
            let name = context_name(&kubeconfig, &context);
            let config = Config::from_custom_kubeconfig(kubeconfig, &options)
                .await
                .map_err(|e| unusable("the kubeconfig text", &e.to_string(), &context))?;
            (config, name)
        }
        KubeconfigSource::Default if context.is_some() => {
            let config = Config::from_kubeconfig(&options)
                .await
                .map_err(|e| unusable("KUBECONFIG / ~/.kube/config", &e.to_string(), &context))?;
            (config, context.clone().unwrap_or_default())
        }
        KubeconfigSource::Default => match Kubeconfig::read() {
            Ok(kubeconfig) => {
                let name = context_name(&kubeconfig, &None);
                let config = Config::from_custom_kubeconfig(kubeconfig, &options)
                    .await
                    .map_err(|e| unusable("KUBECONFIG / ~/.kube/config", &e.to_string(), &None))?;
                (config, name)
            }
            Err(kubeconfig_error) => match Config::incluster() {
                Ok(config) => (config, "in-cluster".to_string()),
                Err(_) => {
                    return Err(Failure::config(format!(
                        "no Kubernetes cluster to talk to: {kubeconfig_error}, and lfrun is not running in a pod"
                    ))
                    .with_hint(
                        "set kube.kubeconfig (and kube.context) in the client config, export KUBECONFIG, \
                         or run `az aks get-credentials` first",
                    ))
                }
            },
        },
    };
    // Our own retry layer decides what is safe to retry; kube's would also retry
    // creates after a 503, which may have been applied.
    config.default_retry = false;
    let server = config.cluster_url.to_string();
    let builder = kube::client::ClientBuilder::try_from(config).map_err(|e| {
        Failure::config(format!("cannot set up a client for {server}: {e}"))
            .with_hint("check the cluster's certificate data in the kubeconfig")
    })?;
    let client = builder
        .with_layer(&TimeoutLayer::new(ATTEMPT_TIMEOUT))
        .with_layer(&BufferLayer::new(1024))
        .with_layer(&RetryLayer::new(SafeRetry::default()))
        .build();
    Ok(Cluster {
        client,
        server: server.trim_end_matches('/').to_string(),
        context: context_name,
        kinds: KindCache::default(),
    })
}

fn read_file(path: &Path) -> Result<Kubeconfig, Failure> {
    Kubeconfig::read_from(path).map_err(|e| {
        let kind = if path.exists() {
            ErrorKind::Config
        } else {
            ErrorKind::NotFound
        };
        Failure::new(
            kind,
            format!("cannot read kubeconfig {}: {e}", path.display()),
        )
        .with_hint("check kube.kubeconfig in the client config (or KUBECONFIG)")
    })
}

fn context_name(kubeconfig: &Kubeconfig, wanted: &Option<String>) -> String {
    wanted
        .clone()
        .or_else(|| kubeconfig.current_context.clone())
        .unwrap_or_default()
}

fn unusable(what: &str, error: &str, context: &Option<String>) -> Failure {
    let hint = match context {
        Some(c) => {
            format!("check that context `{c}` exists in {what} (kube.context in the client config)")
        }
        None => format!("check the current context of {what}, or name one with kube.context"),
    };
    Failure::config(format!("cannot use {what}: {error}")).with_hint(hint)
}
