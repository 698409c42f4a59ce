#![allow(dead_code)] // helpers used by some feature files only
//! The rehearsal's Azure for tests of the `az::` primitives.
//!
//! Starts the rehearsal (`lfrun_sim::Sim`, which serves the Azure hosts on its HTTPS
//! listener) from a scenario, then runs the real `lfrun` binary with a client config
//! that points at it the way a corporate network would: every Azure host name pinned to
//! the listener (`network.resolve`), the rehearsal CA trusted (`network.ca_file`), and
//! the operator's workload identity credential (`azure.credential.*`). No primitive
//! knows it is talking to a rehearsal.

use std::path::PathBuf;

use lfrun_sim::azure::ClientInfo;
use lfrun_sim::{Sim, SimOptions};

use crate::test::Test;

/// The rehearsal (Kubernetes API and Azure hosts) served by this test process.
pub struct Cluster {
    sim: Option<Sim>,
    runtime: tokio::runtime::Runtime,
    _dir: tempfile::TempDir,
}

impl Cluster {
    pub fn sim(&self) -> &Sim {
        self.sim.as_ref().expect("running")
    }

    pub fn kubeconfig(&self) -> PathBuf {
        self.sim().kubeconfig_path().to_path_buf()
    }

    pub fn kube_url(&self) -> String {
        self.sim().kube_url().to_string()
    }

    pub fn block_on<F: std::future::Future>(&self, f: F) -> F::Output {
        self.runtime.block_on(f)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if let Some(sim) = self.sim.take() {
            let _ = self.runtime.block_on(sim.shutdown());
        }
    }
}

pub struct AzureRehearsal {
    pub cluster: Cluster,
    pub info: ClientInfo,
}

impl AzureRehearsal {
    /// A fresh rehearsal from a shipped scenario name or a scenario file path.
    pub fn start(scenario: &str) -> AzureRehearsal {
        AzureRehearsal::start_with(scenario, None)
    }

    /// Like `start`, for a client config with its own names (`azure.*`, `langfuse.*`),
    /// handed over the way the CLI does: `AzureNames::save` before `Sim::start`.
    pub fn start_with(scenario: &str, client_config: Option<&str>) -> AzureRehearsal {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("tokio runtime");
        let dir = tempfile::tempdir().expect("temp dir");
        if let Some(text) = client_config {
            let yaml: serde_yaml::Value = serde_yaml::from_str(text).unwrap();
            lfrun_sim::azure::AzureNames::from_config(&yaml)
                .save(&dir.path().join("sim"))
                .unwrap();
        }
        let mut options = SimOptions::new(dir.path().join("sim"));
        options.scenario = Some(scenario.to_string());
        options.attach = false;
        let sim = runtime
            .block_on(Sim::start(options))
            .unwrap_or_else(|e| panic!("starting the rehearsal ({scenario}): {e}"));
        // A scenario's differences wait for the deploy (the CLI installs Langfuse first);
        // these tests look at Azure only, so they apply them at once.
        runtime
            .block_on(sim.apply_faults())
            .unwrap_or_else(|e| panic!("applying the faults of {scenario}: {e}"));
        let info = ClientInfo::read(sim.state_dir()).expect("the rehearsal's Azure client info");
        AzureRehearsal {
            cluster: Cluster {
                sim: Some(sim),
                runtime,
                _dir: dir,
            },
            info,
        }
    }

    /// A scenario file (written to a temp dir) that differs from healthy by `azure_yaml`.
    pub fn with_azure(azure_yaml: &str) -> AzureRehearsal {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("scenario.yaml");
        let indented: String = azure_yaml.lines().map(|l| format!("  {l}\n")).collect();
        std::fs::write(
            &path,
            format!("name: azure-test\ndeployed: false\nazure:\n{indented}"),
        )
        .unwrap();
        let r = AzureRehearsal::start(path.to_str().unwrap());
        drop(dir);
        r
    }

    pub fn state_dir(&self) -> PathBuf {
        self.cluster.sim().state_dir().to_path_buf()
    }

    /// The `network:` section pinning the Azure hosts to the rehearsal listener.
    pub fn network_yaml(&self) -> String {
        let mut s = String::from("network:\n  resolve:\n");
        for (host, addr) in &self.info.resolve {
            s.push_str(&format!("    {host}: \"{addr}\"\n"));
        }
        s.push_str(&format!("  ca_file: {}\n", self.info.ca_file.display()));
        s
    }

    /// The client config: the example's names, the operator's workload identity.
    pub fn config(&self) -> String {
        self.config_with_credential(&format!(
            "kind: workload_identity\n    tenant_id: {}\n    client_id: {}\n    token_file: {}",
            self.info.operator.tenant_id,
            self.info.operator.client_id,
            self.info.operator.token_file.display()
        ))
    }

    /// The client config with another `azure.credential` body (indented 4 spaces).
    pub fn config_with_credential(&self, credential: &str) -> String {
        format!(
            "target: azure
kube:
  kubeconfig: {kubeconfig}
{network}azure:
  tenant_id: 72f988bf-0000-4000-8000-00000000c0de
  subscription: 3f1c2d4e-0000-4000-8000-0000000005ab
  resource_group: rg-contoso-langfuse-test
  location: westeurope
  aks_cluster: aks-contoso-langfuse
  acr: contosolangfuse
  storage_account: contosolangfusest
  blob_container: langfuse
  managed_identity: id-contoso-langfuse
  credential:
    {credential}
langfuse:
  public_url: https://langfuse.contoso.example
  namespace: langfuse
  service_account: langfuse
sso:
  client_id: 5d1e7a00-0000-4000-8000-00000000a11d
",
            kubeconfig = self.cluster.kubeconfig().display(),
            network = self.network_yaml(),
        )
    }

    /// A credential config acting as the Langfuse pods (the managed identity through
    /// workload identity, with the token the AKS OIDC issuer projects into the pods).
    pub fn pod_credential(&self, identity_client_id: &str) -> String {
        let world = self
            .cluster
            .sim()
            .world()
            .expect("in-process rehearsal")
            .clone();
        let service = lfrun_sim::azure::AzureService::new(world);
        let token =
            lfrun_sim::azure::write_pod_token(&service, &self.state_dir(), "langfuse", "langfuse")
                .expect("pod token");
        format!(
            "kind: workload_identity\n    tenant_id: {}\n    client_id: {identity_client_id}\n    token_file: {}",
            self.info.operator.tenant_id,
            token.display()
        )
    }

    /// The managed identity's client id in this world.
    pub fn identity_client_id(&self) -> String {
        self.cluster
            .sim()
            .world()
            .expect("in-process rehearsal")
            .read(|w| {
                w.azure
                    .identities
                    .values()
                    .next()
                    .map(|i| i.client_id.clone())
                    .unwrap_or_default()
            })
    }

    /// A `Test` of `script` as the operator.
    pub fn test(&self, script: &str) -> Test {
        self.test_with_config(&self.config(), script)
    }

    pub fn test_with_config(&self, config: &str, script: &str) -> Test {
        Test::new()
            .file("client.yaml", config)
            .script(script)
            .args(["--config", "client.yaml", "--target", "azure"])
    }

    /// Reads the world's Azure state.
    pub fn azure<R>(&self, f: impl FnOnce(&lfrun_sim::azure::AzureState) -> R) -> R {
        self.cluster
            .sim()
            .world()
            .expect("in-process rehearsal")
            .read(|w| f(&w.azure))
    }

    /// An HTTP client that reaches the rehearsal's hosts (resolve + CA), as lfrun's does.
    pub fn http(&self) -> reqwest::Client {
        let pem = std::fs::read(&self.info.ca_file).unwrap();
        let mut b = reqwest::Client::builder()
            .tls_certs_merge(reqwest::Certificate::from_pem_bundle(&pem).unwrap());
        for (host, addr) in &self.info.resolve {
            b = b.resolve(host, *addr);
        }
        b.build().unwrap()
    }

    /// An operator access token for `scope`, from the rehearsal's token endpoint with the
    /// client-assertion grant (what workload identity sends).
    pub fn access_token(&self, scope: &str) -> String {
        let assertion = std::fs::read_to_string(&self.info.operator.token_file).unwrap();
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", self.info.operator.client_id.as_str()),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ),
            ("client_assertion", assertion.as_str()),
            ("scope", scope),
        ];
        let body = form
            .iter()
            .map(|(k, v)| format!("{k}={}", url_encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        let http = self.http();
        let url = format!(
            "https://login.microsoftonline.com/{}/oauth2/v2.0/token",
            self.info.operator.tenant_id
        );
        self.cluster.block_on(async move {
            let resp = http
                .post(url)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body)
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 200, "token endpoint");
            let json: serde_json::Value = resp.json().await.unwrap();
            assert_eq!(json["token_type"], "Bearer");
            json["access_token"].as_str().unwrap().to_string()
        })
    }

    pub fn world(&self) -> lfrun_sim::SharedWorld {
        self.cluster
            .sim()
            .world()
            .expect("in-process rehearsal")
            .clone()
    }
}

fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
