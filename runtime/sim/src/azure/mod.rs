//! The Azure side of the rehearsal: Entra ID tokens, Resource Manager, Microsoft Graph,
//! Azure Container Registry and Blob Storage, served on the production host names by
//! the one HTTPS listener (`front.rs`), with state in the World (`world.azure`).
//!
//! How the pieces fit:
//!
//! - `state.rs` — what exists (typed resources, role assignments, app registrations);
//! - `seed.rs` — the healthy Azure for the client's names, plus a scenario's differences;
//! - `token.rs` — `login.microsoftonline.com`: workload identity and client secret grants;
//! - `authorize.rs` — its interactive sign-in (`/oauth2/v2.0/authorize`), which checks
//!   the app registration's redirect URIs;
//! - `arm.rs`, `graph.rs`, `acr.rs`, `blob.rs` — the other hosts;
//! - `rbac.rs` — who may do what; `access.rs` — what the kubelet and the Langfuse pods may do.
//!
//! `Sim::start` calls [`start_in_sim`], which serves the listener for the world and
//! writes `azure/client.json` in the state dir. The lfrun CLI then needs two calls:
//!
//! ```no_run
//! # fn demo(state_dir: &std::path::Path, client_config: &serde_yaml::Value) -> Result<(), String> {
//! use lfrun_sim::azure::{AzureNames, ClientInfo};
//! // before Sim::start: the client's names, so a renamed resource group still rehearses
//! AzureNames::from_config(client_config).save(state_dir)?;
//! // after Sim::start: where to connect and as whom
//! let info = ClientInfo::read(state_dir)?;
//! // network.resolve = info.resolve (every host → info.address), network.ca_file = info.ca_file,
//! // azure credential = WorkloadIdentity { info.operator.tenant_id, client_id, token_file }
//! # Ok(()) }
//! ```

pub mod access;
pub mod acr;
pub mod arm;
pub mod authorize;
pub mod blob;
pub mod graph;
pub mod rbac;
pub mod seed;
pub mod state;
pub mod token;
pub mod web;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

pub use access::{workload_blob_access, AcrPullAccess, WorkloadBlobAccess};
pub use seed::{AzureNames, AzureScenario};
pub use state::AzureState;

use crate::api_faults::{ApiFaults, InjectedFault};
use crate::front::{self, Routes};
use crate::tls::RehearsalCa;
use crate::world::SharedWorld;

/// The Azure endpoints' shared handle: the world, fault draws, the cluster kubeconfig.
#[derive(Clone)]
pub struct AzureService {
    pub world: SharedWorld,
    faults: Arc<ApiFaults>,
    kubeconfig: Arc<RwLock<String>>,
}

impl AzureService {
    pub fn new(world: SharedWorld) -> AzureService {
        AzureService {
            world,
            faults: Arc::new(ApiFaults::default()),
            kubeconfig: Arc::new(RwLock::new(String::new())),
        }
    }

    /// The kubeconfig `listClusterUserCredential` hands out (the rehearsal cluster's).
    pub fn set_kubeconfig(&self, text: &str) {
        *self.kubeconfig.write().unwrap_or_else(|p| p.into_inner()) = text.to_string();
    }

    pub fn kubeconfig(&self) -> String {
        self.kubeconfig
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// A Resource Manager fault for this request, when the scenario injects them.
    pub fn fault(&self, method: &str, path: &str) -> Option<InjectedFault> {
        let config = self.world.read(|w| w.azure.faults.clone())?;
        self.faults.decide(&config, method, path)
    }

    /// Adds the Azure hosts to `routes`: the fixed ones, the registry and storage
    /// suffixes, and the concrete registry/account names of the world (to resolve).
    pub fn add_routes(&self, routes: &mut Routes) {
        let s = self.clone();
        routes.host(
            "login.microsoftonline.com",
            front::handler(move |req| authorize::login(s.world.clone(), req)),
        );
        let s = self.clone();
        routes.host(
            "management.azure.com",
            front::handler(move |req| arm::handle(s.clone(), req)),
        );
        let s = self.clone();
        routes.host(
            "graph.microsoft.com",
            front::handler(move |req| graph::handle(s.world.clone(), req)),
        );
        let s = self.clone();
        routes.suffix(
            ".azurecr.io",
            front::handler(move |req| acr::handle(s.world.clone(), req)),
        );
        let s = self.clone();
        routes.suffix(
            ".blob.core.windows.net",
            front::handler(move |req| blob::handle(s.world.clone(), req)),
        );
        let (registries, accounts) = self.world.read(|w| {
            (
                w.azure
                    .registries
                    .values()
                    .map(|r| format!("{}.azurecr.io", r.name.to_ascii_lowercase()))
                    .collect::<Vec<_>>(),
                w.azure
                    .storage_accounts
                    .values()
                    .map(|a| format!("{}.blob.core.windows.net", a.name.to_ascii_lowercase()))
                    .collect::<Vec<_>>(),
            )
        });
        for name in registries.iter().chain(&accounts) {
            routes.resolve_also(name);
        }
    }
}

/// The Azure state for a scenario's `azure:` section, with the example config's names
/// (the CLI's names, when they differ, reseed it at start: [`use_names`]).
pub fn seed_scenario(section: &serde_yaml::Value) -> Result<AzureState, String> {
    AzureState::seed(
        &AzureNames::default(),
        &AzureScenario::from_yaml(Some(section))?,
    )
}

/// Reseeds the world's Azure for `names` when it was seeded for other names (keeping
/// the scenario's differences). Same names: nothing changes, so what earlier runs
/// created stays.
pub fn use_names(world: &SharedWorld, names: &AzureNames) -> Result<bool, String> {
    let (seeded, same, scenario) = world.read(|w| {
        (
            w.azure.seeded,
            w.azure.names == *names,
            w.azure.scenario.clone(),
        )
    });
    if seeded && same {
        return Ok(false);
    }
    let state = AzureState::seed(names, &scenario)?;
    world.write(|w| w.azure = state);
    Ok(true)
}

impl AzureNames {
    /// `azure/names.yaml` in the state dir: the names the CLI wants rehearsed.
    pub fn path(state_dir: &Path) -> PathBuf {
        state_dir.join("azure").join("names.yaml")
    }

    pub fn save(&self, state_dir: &Path) -> Result<(), String> {
        let path = AzureNames::path(state_dir);
        let text = serde_yaml::to_string(self).map_err(|e| e.to_string())?;
        std::fs::create_dir_all(path.parent().unwrap_or(state_dir))
            .and_then(|_| std::fs::write(&path, text))
            .map_err(|e| format!("writing {}: {e}", path.display()))
    }

    pub fn load(state_dir: &Path) -> Option<AzureNames> {
        serde_yaml::from_str(&std::fs::read_to_string(AzureNames::path(state_dir)).ok()?).ok()
    }
}

/// What a client of the rehearsal's Azure needs, as written to `azure/client.json`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ClientInfo {
    /// The HTTPS listener.
    pub address: SocketAddr,
    /// `host → address` for every host it serves by name.
    pub resolve: BTreeMap<String, SocketAddr>,
    /// The rehearsal CA certificate (PEM file) to trust.
    pub ca_file: PathBuf,
    pub operator: OperatorCredential,
}

impl ClientInfo {
    pub fn path(state_dir: &Path) -> PathBuf {
        state_dir.join("azure").join("client.json")
    }

    pub fn read(state_dir: &Path) -> Result<ClientInfo, String> {
        let path = ClientInfo::path(state_dir);
        let text = std::fs::read_to_string(&path).map_err(|e| {
            format!(
                "the rehearsal's Azure is not running ({}: {e})",
                path.display()
            )
        })?;
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    fn write(&self, state_dir: &Path) -> std::io::Result<()> {
        let path = ClientInfo::path(state_dir);
        std::fs::create_dir_all(path.parent().unwrap_or(state_dir))?;
        std::fs::write(path, serde_json::to_vec_pretty(self).unwrap_or_default())
    }
}

/// The hook `Sim::start` calls: applies the CLI's names (`azure/names.yaml`), serves
/// the Azure hosts until `stop` turns true, and writes `azure/client.json`.
pub async fn start_in_sim(
    world: SharedWorld,
    state_dir: &Path,
    kubeconfig: &Path,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> Result<tokio::task::JoinHandle<()>, crate::SimError> {
    let fail = |message: String| crate::SimError::Scenario {
        name: "azure".into(),
        message,
    };
    let names = AzureNames::load(state_dir).unwrap_or_default();
    use_names(&world, &names).map_err(fail)?;
    let service = AzureService::new(world);
    service.set_kubeconfig(&std::fs::read_to_string(kubeconfig).unwrap_or_default());
    let langfuse = crate::langfuse::routes(&service.world);
    let endpoints = serve(&service, state_dir, langfuse, 0)
        .await
        .map_err(fail)?;
    let info = ClientInfo {
        address: endpoints.front.addr,
        resolve: endpoints.resolve.clone(),
        ca_file: endpoints.ca_file.clone(),
        operator: endpoints.operator.clone(),
    };
    info.write(state_dir).map_err(|e| crate::SimError::Io {
        path: ClientInfo::path(state_dir),
        source: e,
    })?;
    Ok(tokio::spawn(async move {
        let _serving = endpoints;
        while !*stop.borrow() {
            if stop.changed().await.is_err() {
                break;
            }
        }
    }))
}

/// Seeds `world.azure` for the client's names and a scenario's `azure:` section.
pub fn seed(
    world: &SharedWorld,
    names: &AzureNames,
    scenario: Option<&serde_yaml::Value>,
) -> Result<(), String> {
    let scenario = AzureScenario::from_yaml(scenario)?;
    let state = AzureState::seed(names, &scenario)?;
    world.write(|w| w.azure = state);
    Ok(())
}

/// What an lfrun client needs to use the rehearsal's Azure.
pub struct Endpoints {
    /// The running listener (drop or `stop()` it to stop serving).
    pub front: front::Front,
    /// `host → listener address` for `network.resolve`.
    pub resolve: BTreeMap<String, SocketAddr>,
    /// The rehearsal CA (PEM) for `network.ca_file`.
    pub ca_pem: String,
    /// Where `ca.pem` was written.
    pub ca_file: PathBuf,
    /// The operator's workload identity credential.
    pub operator: OperatorCredential,
}

/// `AzureCredentialSource::WorkloadIdentity { tenant_id, client_id, token_file }`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct OperatorCredential {
    pub tenant_id: String,
    pub client_id: String,
    pub token_file: PathBuf,
}

/// Starts the HTTPS listener on `127.0.0.1:port` (0: any) for the Azure hosts plus the
/// `extra` routes (e.g. the Langfuse public host), with the world's CA from `state_dir`,
/// installs the AcrPull image-pull policy, and writes the operator's token file.
/// The world must be seeded first (see [`seed`]).
pub async fn serve(
    service: &AzureService,
    state_dir: &Path,
    mut extra: Routes,
    port: u16,
) -> Result<Endpoints, String> {
    service.add_routes(&mut extra);
    let ca = RehearsalCa::load_or_create(state_dir).map_err(|e| e.to_string())?;
    let tls = ca
        .server_config(&extra.certificate_names())
        .map_err(|e| e.to_string())?;
    let front = front::start(extra, tls, port)
        .await
        .map_err(|e| format!("cannot listen on 127.0.0.1:{port}: {e}"))?;
    service
        .world
        .set_private_registry_access(Arc::new(AcrPullAccess));
    let operator = write_operator_token(service, state_dir)
        .map_err(|e| format!("writing the operator token: {e}"))?;
    Ok(Endpoints {
        resolve: front.resolve(),
        front,
        ca_file: ca.path.clone().unwrap_or_else(|| state_dir.join("ca.pem")),
        ca_pem: ca.cert_pem,
        operator,
    })
}

/// Writes `azure/operator-token` (a service account token the operator app trusts).
pub fn write_operator_token(
    service: &AzureService,
    state_dir: &Path,
) -> std::io::Result<OperatorCredential> {
    let (tenant_id, client_id, jwt) = service.world.read(|w| {
        let s = &w.azure;
        (
            s.tenant_id.clone(),
            s.operator.client_id.clone(),
            token::service_account_token(s, seed::OPERATOR_ISSUER, seed::OPERATOR_SUBJECT, 24),
        )
    });
    let token_file = state_dir.join("azure").join("operator-token");
    write_token(&token_file, &jwt)?;
    Ok(OperatorCredential {
        tenant_id,
        client_id,
        token_file,
    })
}

/// Writes the token the AKS OIDC issuer would project into a pod running as
/// `namespace/service_account` (what the Langfuse pods present), and returns its path.
pub fn write_pod_token(
    service: &AzureService,
    state_dir: &Path,
    namespace: &str,
    service_account: &str,
) -> std::io::Result<PathBuf> {
    let jwt = service.world.read(|w| {
        let s = &w.azure;
        let issuer = s
            .clusters
            .values()
            .next()
            .map(|c| c.oidc_issuer_url.clone())
            .unwrap_or_default();
        token::service_account_token(
            s,
            &issuer,
            &format!("system:serviceaccount:{namespace}:{service_account}"),
            24,
        )
    });
    let path = state_dir
        .join("azure")
        .join(format!("pod-token-{namespace}-{service_account}"));
    write_token(&path, &jwt)?;
    Ok(path)
}

fn write_token(path: &Path, jwt: &str) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, jwt)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(())
}
