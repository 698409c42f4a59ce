//! How primitives reach the world: which kubeconfig, which names resolve where,
//! which CA to trust, which docker binary, which Azure credential.
//!
//! For `--target azure` this comes from the client config (`kube:`, `network:`,
//! `tools:`, `azure:`). For `--target sim` the CLI starts the rehearsal environment
//! and fills the same struct from what it reports. Primitives only ever read an
//! `Environment`; none of them knows which target produced it.
//!
//! The target is started lazily, on the first primitive that needs it, so a script
//! that touches nothing (or `lfrun check`) does not pay for it.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use crate::config::{scalar_text, Config};
use crate::error::Failure;

/// How to authenticate to Azure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AzureCredentialSource {
    /// The signed-in Azure CLI / developer tools (operators).
    DeveloperTools,
    /// Workload identity (lfrun running in a pod): federated token file.
    WorkloadIdentity {
        tenant_id: String,
        client_id: String,
        token_file: PathBuf,
    },
    /// A managed identity (optionally user-assigned, by client id).
    ManagedIdentity { client_id: Option<String> },
    /// A client secret, only when the config names one explicitly; the secret's
    /// value comes from the named environment variable.
    ClientSecret {
        tenant_id: String,
        client_id: String,
        secret_env: String,
    },
}

#[derive(Debug, Clone, Default)]
pub struct Environment {
    /// Kubeconfig file to use (None: KUBECONFIG / ~/.kube/config / in-cluster).
    pub kubeconfig: Option<PathBuf>,
    /// Kubeconfig context (None: current context).
    pub kube_context: Option<String>,
    /// Host names resolved to fixed addresses by lfrun's HTTP clients.
    pub resolve: BTreeMap<String, SocketAddr>,
    /// Extra CA certificate (PEM) to trust for HTTPS.
    pub ca_pem: Option<String>,
    /// Tool binaries by name (`helm`, `docker`, `git`), when not taken from PATH.
    pub tools: BTreeMap<String, PathBuf>,
    /// Extra environment for tools (e.g. HELM_CACHE_HOME for a rehearsal).
    pub tool_env: BTreeMap<String, String>,
    pub azure_credential: Option<AzureCredentialSource>,
    /// A directory of chart archives (`langfuse-1.5.41.tgz`) used instead of the chart
    /// repository when it has the pinned version (air-gapped installs, rehearsal).
    pub chart_mirror: Option<PathBuf>,
    /// Values for environment variables the operator did not set, provided by the
    /// target (the rehearsal supplies its app registration's client secret this way).
    /// `secret::from_env` falls back to them; a variable that is set always wins.
    pub secret_defaults: BTreeMap<String, crate::secret::Secret>,
    /// A human description of the target ("rehearsal environment (state in .lfrun/sim)").
    pub description: String,
    /// Base URL of the rehearsal's own control endpoint, when rehearsing.
    pub rehearsal_control: Option<String>,
}

impl Environment {
    /// The environment for a real target, read from the config.
    pub fn from_config(config: &Config) -> Result<Environment, Failure> {
        let mut env = Environment {
            kubeconfig: config.get_str("kube.kubeconfig").map(PathBuf::from),
            kube_context: config.get_str("kube.context"),
            description: "Azure (real)".into(),
            ..Environment::default()
        };
        if let Some(map) = config.get("network.resolve").and_then(|v| v.as_mapping()) {
            for (host, addr) in map {
                let (host, addr) = (scalar_text(host), scalar_text(addr));
                let parsed = addr.parse().map_err(|_| {
                    Failure::config(format!(
                        "network.resolve.{host} in {}: `{addr}` is not an address like 10.0.0.4:443",
                        config.source
                    ))
                })?;
                env.resolve.insert(host, parsed);
            }
        }
        if let Some(path) = config.get_str("network.ca_file") {
            let pem = std::fs::read_to_string(&path).map_err(|e| {
                Failure::config(format!(
                    "network.ca_file in {}: cannot read {path}: {e}",
                    config.source
                ))
            })?;
            env.ca_pem = Some(pem);
        }
        if let Some(map) = config.get("tools").and_then(|v| v.as_mapping()) {
            for (name, path) in map {
                env.tools
                    .insert(scalar_text(name), PathBuf::from(scalar_text(path)));
            }
        }
        env.chart_mirror = config.get_str("chart.mirror_dir").map(PathBuf::from);
        env.azure_credential = Some(azure_credential(config)?);
        Ok(env)
    }

    /// The binary to run for `tool`: configured path, else the name (PATH lookup).
    pub fn tool(&self, tool: &str) -> PathBuf {
        self.tools
            .get(tool)
            .cloned()
            .unwrap_or_else(|| PathBuf::from(tool))
    }
}

fn azure_credential(config: &Config) -> Result<AzureCredentialSource, Failure> {
    let kind = config
        .get_str("azure.credential.kind")
        .unwrap_or_else(|| "developer_tools".into());
    let need = |key: &str| -> Result<String, Failure> {
        config
            .require(&format!("azure.credential.{key}"))
            .map(scalar_text)
    };
    Ok(match kind.as_str() {
        "developer_tools" | "azure_cli" | "cli" => AzureCredentialSource::DeveloperTools,
        "workload_identity" => AzureCredentialSource::WorkloadIdentity {
            tenant_id: config.get_str("azure.credential.tenant_id").or_else(|| std::env::var("AZURE_TENANT_ID").ok()).unwrap_or_default(),
            client_id: config.get_str("azure.credential.client_id").or_else(|| std::env::var("AZURE_CLIENT_ID").ok()).unwrap_or_default(),
            token_file: config
                .get_str("azure.credential.token_file")
                .or_else(|| std::env::var("AZURE_FEDERATED_TOKEN_FILE").ok())
                .map(PathBuf::from)
                .unwrap_or_default(),
        },
        "managed_identity" => AzureCredentialSource::ManagedIdentity { client_id: config.get_str("azure.credential.client_id") },
        "client_secret" => AzureCredentialSource::ClientSecret {
            tenant_id: need("tenant_id")?,
            client_id: need("client_id")?,
            secret_env: need("secret_env")?,
        },
        other => {
            return Err(Failure::config(format!(
                "azure.credential.kind in {}: `{other}` is not one of developer_tools, workload_identity, managed_identity, client_secret",
                config.source
            )))
        }
    })
}

/// Starts a target when first needed.
pub type Starter = Box<dyn Fn() -> Result<Environment, Failure> + Send + Sync>;

/// The environment of a run, started on first use.
pub struct LazyEnvironment {
    starter: Mutex<Option<Starter>>,
    value: OnceLock<Result<Arc<Environment>, Failure>>,
}

impl LazyEnvironment {
    pub fn new(starter: Starter) -> LazyEnvironment {
        LazyEnvironment {
            starter: Mutex::new(Some(starter)),
            value: OnceLock::new(),
        }
    }

    pub fn ready(env: Environment) -> LazyEnvironment {
        let lazy = LazyEnvironment {
            starter: Mutex::new(None),
            value: OnceLock::new(),
        };
        let _ = lazy.value.set(Ok(Arc::new(env)));
        lazy
    }

    pub fn get(&self) -> Result<Arc<Environment>, Failure> {
        self.value
            .get_or_init(|| {
                let starter = self
                    .starter
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .take();
                match starter {
                    Some(start) => start().map(Arc::new),
                    None => Err(Failure::config("no target environment is available here")),
                }
            })
            .clone()
    }

    pub fn is_started(&self) -> bool {
        self.value.get().is_some()
    }
}
