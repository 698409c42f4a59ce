//! A deployed Langfuse in the rehearsal, and an HTTPS client that reaches its public
//! host the way lfrun's does: production host names pinned to the rehearsal's
//! listener, the rehearsal CA trusted, redirects not followed.
//!
//! The deployment is a real `helm install` of chart 1.5.41 with values shaped like the
//! values builder's (workload identity label and annotation, secret references for
//! NextAuth and the SSO app, the headless-initialisation keys, Azure Blob buckets).
#![allow(dead_code)]

use std::path::PathBuf;

use base64::Engine as _;
use lfrun_sim::azure::ClientInfo;
use serde_json::{json, Value};

use crate::common::{self, TestSim};

pub const NS: &str = "langfuse";
pub const PUBLIC_URL: &str = "https://langfuse.contoso.example";
pub const HOST: &str = "langfuse.contoso.example";
pub const ACCOUNT: &str = "contosolangfusest";
pub const CONTAINER: &str = "langfuse";
pub const PUBLIC_KEY: &str = "pk-lf-rehearsal-0000";
pub const SECRET_KEY: &str = "sk-lf-rehearsal-0000";
pub const PROJECT_ID: &str = "lfrun-project";
pub const NEXTAUTH_SECRET: &str = "rehearsal-nextauth-secret";

/// How the chart is installed.
pub struct Deploy {
    pub nextauth_url: String,
}

impl Default for Deploy {
    fn default() -> Deploy {
        Deploy {
            nextauth_url: PUBLIC_URL.into(),
        }
    }
}

pub struct Site {
    pub t: TestSim,
    pub https: reqwest::Client,
    pub info: ClientInfo,
}

pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or(Value::Null)
    }

    pub fn location(&self) -> String {
        self.header("location")
    }

    pub fn header(&self, name: &str) -> String {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    }

    /// Every `Set-Cookie` header.
    pub fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok().map(String::from))
            .collect()
    }

    /// `name=value` of the cookie set as `name` (for a `Cookie` header).
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.set_cookies()
            .into_iter()
            .find(|c| c.starts_with(&format!("{name}=")))
            .map(|c| c.split(';').next().unwrap_or_default().to_string())
    }
}

fn yaml_values(identity_client_id: &str, tenant: &str, d: &Deploy) -> String {
    format!(
        r#"
langfuse:
  serviceAccount:
    create: true
    name: langfuse
    annotations:
      azure.workload.identity/client-id: "{identity_client_id}"
  pod:
    labels:
      azure.workload.identity/use: "true"
  nextauth:
    url: "{nextauth}"
    secret:
      secretKeyRef: {{name: langfuse-secrets, key: nextauth-secret}}
  salt:
    secretKeyRef: {{name: langfuse-secrets, key: salt}}
  encryptionKey:
    secretKeyRef: {{name: langfuse-secrets, key: encryption-key}}
  web:
    image: {{repository: lfrunacr.azurecr.io/langfuse-web, tag: "3.224.1"}}
  worker:
    image: {{repository: lfrunacr.azurecr.io/langfuse-worker, tag: "3.224.1"}}
  additionalEnv:
    - name: AUTH_AZURE_AD_CLIENT_ID
      valueFrom: {{secretKeyRef: {{name: langfuse-sso, key: client-id}}}}
    - name: AUTH_AZURE_AD_CLIENT_SECRET
      valueFrom: {{secretKeyRef: {{name: langfuse-sso, key: client-secret}}}}
    - name: AUTH_AZURE_AD_TENANT_ID
      value: "{tenant}"
    - name: AUTH_DISABLE_USERNAME_PASSWORD
      value: "true"
    - name: LANGFUSE_INIT_ORG_ID
      value: lfrun-org
    - name: LANGFUSE_INIT_PROJECT_ID
      value: {PROJECT_ID}
    - name: LANGFUSE_INIT_PROJECT_PUBLIC_KEY
      valueFrom: {{secretKeyRef: {{name: langfuse-init, key: public-key}}}}
    - name: LANGFUSE_INIT_PROJECT_SECRET_KEY
      valueFrom: {{secretKeyRef: {{name: langfuse-init, key: secret-key}}}}
  ingress:
    enabled: false
postgresql:
  auth: {{password: pg-password}}
redis:
  auth: {{password: redis-password}}
clickhouse:
  replicaCount: 1
  auth: {{password: ch-password}}
s3:
  deploy: false
  storageProvider: azure
  bucket: {CONTAINER}
  endpoint: https://{ACCOUNT}.blob.core.windows.net
  eventUpload: {{prefix: events/}}
  batchExport: {{enabled: true, prefix: exports/}}
  mediaUpload: {{enabled: true, prefix: media/}}
"#,
        nextauth = d.nextauth_url
    )
}

fn secret(name: &str, data: &[(&str, &str)]) -> Value {
    let data: serde_json::Map<String, Value> = data
        .iter()
        .map(|(k, v)| {
            (
                k.to_string(),
                json!(base64::engine::general_purpose::STANDARD.encode(v)),
            )
        })
        .collect();
    json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "namespace": NS}, "data": data})
}

/// A scenario file: healthy, with `azure` as its Azure differences and `faults`.
pub fn scenario_file(dir: &std::path::Path, name: &str, azure: &str, faults: &str) -> PathBuf {
    let path = dir.join(format!("{name}.yaml"));
    std::fs::write(
        &path,
        format!(
            "name: {name}\ndeployed: true\ncluster:\n  registry:\n    - lfrunacr.azurecr.io/langfuse-web:3.224.1\n    - lfrunacr.azurecr.io/langfuse-worker:3.224.1\nazure:\n{azure}\nfaults:\n{faults}\n"
        ),
    )
    .unwrap();
    path
}

/// Starts `scenario` (a shipped name or a file), installs Langfuse as `d` says, waits
/// for web and worker, applies the scenario's faults.
pub async fn deployed_with(scenario: &str, d: Deploy) -> Site {
    let t = common::start(scenario).await;
    let world = t.sim.world().expect("served here").clone();
    let (identity, tenant, app) = world.read(|w| {
        (
            w.azure
                .identities
                .values()
                .next()
                .unwrap()
                .client_id
                .clone(),
            w.azure.tenant_id.clone(),
            w.azure.names.sso_client_id.clone(),
        )
    });
    assert_eq!(
        t.post("/api/v1/namespaces", &common::namespace(NS))
            .await
            .status,
        201
    );
    for s in [
        secret(
            "langfuse-secrets",
            &[
                ("nextauth-secret", NEXTAUTH_SECRET),
                ("salt", "rehearsal-salt"),
                ("encryption-key", &"0".repeat(64)),
            ],
        ),
        secret(
            "langfuse-sso",
            &[("client-id", &app), ("client-secret", "sso-secret-value")],
        ),
        secret(
            "langfuse-init",
            &[("public-key", PUBLIC_KEY), ("secret-key", SECRET_KEY)],
        ),
    ] {
        let r = t
            .post(&format!("/api/v1/namespaces/{NS}/secrets"), &s)
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
    let values = t.dir.path().join("values.yaml");
    std::fs::write(&values, yaml_values(&identity, &tenant, &d)).unwrap();
    let helm = common::tool("helm3");
    let chart = common::langfuse_chart();
    common::run_ok(
        &helm,
        &t.kubeconfig(),
        &[
            "install",
            "langfuse",
            chart.to_str().unwrap(),
            "-n",
            NS,
            "-f",
            values.to_str().unwrap(),
        ],
        t.dir.path(),
    )
    .await;
    for d in ["langfuse-web", "langfuse-worker"] {
        t.wait_for(
            &format!("/apis/apps/v1/namespaces/{NS}/deployments/{d}"),
            &format!("{d} available"),
            |d| d["status"]["availableReplicas"].as_i64() == Some(1),
        )
        .await;
    }
    t.sim.apply_faults().await.unwrap();
    let info = ClientInfo::read(t.sim.state_dir()).expect("the rehearsal's client info");
    let ca = reqwest::Certificate::from_pem(&std::fs::read(&info.ca_file).unwrap()).unwrap();
    let mut builder = reqwest::Client::builder()
        .add_root_certificate(ca)
        .redirect(reqwest::redirect::Policy::none());
    for (host, addr) in &info.resolve {
        builder = builder.resolve(host, *addr);
    }
    Site {
        t,
        https: builder.build().unwrap(),
        info,
    }
}

pub async fn deployed(scenario: &str) -> Site {
    deployed_with(scenario, Deploy::default()).await
}

impl Site {
    pub async fn send(&self, req: reqwest::RequestBuilder) -> Answer {
        let resp = req.send().await.expect("an HTTPS answer");
        Answer {
            status: resp.status().as_u16(),
            headers: resp.headers().clone(),
            text: resp.text().await.unwrap_or_default(),
        }
    }

    pub async fn get(&self, url: &str) -> Answer {
        self.send(self.https.get(url)).await
    }

    /// A request to the public Langfuse API with the project's keys.
    pub fn api(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.https
            .request(method, format!("{PUBLIC_URL}{path}"))
            .basic_auth(PUBLIC_KEY, Some(SECRET_KEY))
    }

    /// The lines logged by the first pod of a component (`web`, `worker`).
    pub async fn logs(&self, component: &str) -> String {
        let pods = self
            .t
            .get(&format!(
                "/api/v1/namespaces/{NS}/pods?labelSelector=app.kubernetes.io%2Fcomponent%3D{component}"
            ))
            .await
            .body;
        let name = pods["items"][0]["metadata"]["name"]
            .as_str()
            .expect("a pod")
            .to_string();
        self.t
            .get(&format!("/api/v1/namespaces/{NS}/pods/{name}/log"))
            .await
            .body
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// Blob names under `prefix` in the container, listed through the Blob endpoint
    /// with the operator's token (which holds Data Contributor on the account).
    pub async fn list_blobs(&self, prefix: &str) -> Vec<String> {
        let op = &self.info.operator;
        let assertion = std::fs::read_to_string(&op.token_file).unwrap();
        let token = self
            .send(form(
                self.https.post(format!(
                    "https://login.microsoftonline.com/{}/oauth2/v2.0/token",
                    op.tenant_id
                )),
                &[
                    ("grant_type", "client_credentials"),
                    ("client_id", op.client_id.as_str()),
                    ("scope", "https://storage.azure.com/.default"),
                    (
                        "client_assertion_type",
                        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                    ),
                    ("client_assertion", assertion.trim()),
                ],
            ))
            .await;
        assert_eq!(token.status, 200, "{}", token.text);
        let bearer = token.json()["access_token"].as_str().unwrap().to_string();
        let list = self
            .send(
                self.https
                    .get(format!(
                        "https://{ACCOUNT}.blob.core.windows.net/{CONTAINER}?restype=container&comp=list&prefix={prefix}"
                    ))
                    .bearer_auth(bearer)
                    .header("x-ms-version", "2025-05-05"),
            )
            .await;
        assert_eq!(list.status, 200, "{}", list.text);
        list.text
            .split("<Name>")
            .skip(1)
            .filter_map(|s| s.split("</Name>").next())
            .map(String::from)
            .collect()
    }

    /// Scales the web Deployment and waits until that many web pods are ready.
    pub async fn scale_web(&self, replicas: i64) {
        let r = self
            .t
            .patch(
                &format!("/apis/apps/v1/namespaces/{NS}/deployments/langfuse-web"),
                "application/merge-patch+json",
                &json!({"spec": {"replicas": replicas}}).to_string(),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        self.t
            .wait_for(
                &format!("/apis/apps/v1/namespaces/{NS}/deployments/langfuse-web"),
                "web scaled",
                |d| {
                    d["status"]["readyReplicas"].as_i64().unwrap_or(0) == replicas
                        && d["status"]["replicas"].as_i64().unwrap_or(0) == replicas
                },
            )
            .await;
    }
}

/// A form body (`application/x-www-form-urlencoded`), as a browser posts it.
pub fn form(req: reqwest::RequestBuilder, pairs: &[(&str, &str)]) -> reqwest::RequestBuilder {
    let body: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    req.header("content-type", "application/x-www-form-urlencoded")
        .body(body)
}

/// A trace-create event (Langfuse's batch event envelope).
pub fn trace_event(event_id: &str, trace_id: &str) -> Value {
    json!({
        "id": event_id,
        "timestamp": "2026-01-15T10:00:00.000Z",
        "type": "trace-create",
        "body": {"id": trace_id, "name": "lfrun-validate", "timestamp": "2026-01-15T10:00:00.000Z", "input": {"q": "ping"}}
    })
}
