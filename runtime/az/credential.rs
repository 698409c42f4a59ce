//! Who lfrun is on Azure: one `azure_identity` credential per run, and its tokens.
//!
//! The credential is the one the config names (`azure.credential.kind`, read into
//! [`AzureCredentialSource`] by `environment.rs`): the signed-in Azure CLI for an
//! operator at a terminal, workload identity when lfrun runs in a pod, a managed
//! identity on an Azure VM, and a client secret only when the config asks for it
//! by naming the environment variable that holds it.
//!
//! Every credential sends through lfrun's HTTP client (`http::azure_transport`), so
//! `network.resolve` and `network.ca_file` apply to token requests too. Tokens are
//! cached per scope for the run (the Azure CLI would otherwise be asked once per
//! call), and every token is registered with the redactor the moment it arrives.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use azure_core::credentials::{AccessToken, TokenCredential, TokenRequestOptions};
use azure_core::http::ClientOptions;
use base64::Engine as _;

use crate::environment::{AzureCredentialSource, Environment};
use crate::error::{ErrorKind, Failure};
use crate::secret::Secret;

use super::endpoints::Endpoints;

/// Refresh a cached token this long before it expires.
const EXPIRY_MARGIN: time::Duration = time::Duration::minutes(2);

/// The run's Azure credential with a per-scope token cache.
#[derive(Debug)]
pub struct Credential {
    inner: Arc<dyn TokenCredential>,
    /// What it is, for messages: "workload identity (client 1234…)".
    pub describe: String,
    cache: Mutex<HashMap<String, AccessToken>>,
}

impl Credential {
    pub fn new(env: &Arc<Environment>, endpoints: &Endpoints) -> Result<Credential, Failure> {
        let source = env
            .azure_credential
            .clone()
            .unwrap_or(AzureCredentialSource::DeveloperTools);
        let client_options = || -> Result<ClientOptions, Failure> {
            let mut cloud = azure_core::cloud::CustomConfiguration::default();
            cloud.authority_host = endpoints.authority.clone();
            Ok(ClientOptions {
                cloud: Some(Arc::new(cloud.into())),
                ..crate::http::azure_client_options(env)?
            })
        };
        let sdk = |e: azure_core::Error| {
            Failure::config(format!("cannot set up the Azure credential: {e}"))
                .with_hint("check azure.credential.* in the config")
        };
        let (inner, describe): (Arc<dyn TokenCredential>, String) = match source {
            AzureCredentialSource::DeveloperTools => (
                azure_identity::DeveloperToolsCredential::new(None).map_err(sdk)?,
                "the signed-in Azure CLI (az login)".into(),
            ),
            AzureCredentialSource::WorkloadIdentity {
                tenant_id,
                client_id,
                token_file,
            } => {
                if tenant_id.is_empty() || client_id.is_empty() || token_file.as_os_str().is_empty()
                {
                    return Err(Failure::config(
                        "workload identity needs a tenant id, a client id and a token file",
                    )
                    .with_hint("set azure.credential.tenant_id/client_id/token_file, or run in a pod with AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_FEDERATED_TOKEN_FILE"));
                }
                if let Err(e) = std::fs::metadata(&token_file) {
                    return Err(Failure::config(format!(
                        "the workload identity token file {} cannot be read: {e}",
                        token_file.display()
                    ))
                    .with_hint("in a pod, check the azure.workload.identity/use label and the projected token (AZURE_FEDERATED_TOKEN_FILE); otherwise set azure.credential.token_file"));
                }
                let options = azure_identity::WorkloadIdentityCredentialOptions {
                    credential_options: azure_identity::ClientAssertionCredentialOptions {
                        client_options: client_options()?,
                    },
                    client_id: Some(client_id.clone()),
                    tenant_id: Some(tenant_id),
                    token_file_path: Some(token_file),
                };
                (
                    azure_identity::WorkloadIdentityCredential::new(Some(options)).map_err(sdk)?,
                    format!("workload identity (client {client_id})"),
                )
            }
            AzureCredentialSource::ManagedIdentity { client_id } => {
                let options = azure_identity::ManagedIdentityCredentialOptions {
                    user_assigned_id: client_id
                        .clone()
                        .map(azure_identity::UserAssignedId::ClientId),
                    client_options: client_options()?,
                };
                (
                    azure_identity::ManagedIdentityCredential::new(Some(options)).map_err(sdk)?,
                    match client_id {
                        Some(id) => format!("managed identity (client {id})"),
                        None => "the system-assigned managed identity".into(),
                    },
                )
            }
            AzureCredentialSource::ClientSecret {
                tenant_id,
                client_id,
                secret_env,
            } => {
                let value = std::env::var(&secret_env)
                    .ok()
                    .filter(|v| !v.is_empty())
                    .ok_or_else(|| {
                        Failure::config(format!(
                            "azure.credential.secret_env names {secret_env}, which is not set"
                        ))
                        .with_hint(format!(
                            "export {secret_env}=… before running (the value is never printed)"
                        ))
                    })?;
                let secret = Secret::new(value);
                let options = azure_identity::ClientSecretCredentialOptions {
                    client_options: client_options()?,
                };
                (
                    azure_identity::ClientSecretCredential::new(
                        &tenant_id,
                        client_id.clone(),
                        secret.reveal().to_string().into(),
                        Some(options),
                    )
                    .map_err(sdk)?,
                    format!("client secret of application {client_id}"),
                )
            }
        };
        Ok(Credential {
            inner,
            describe,
            cache: Mutex::new(HashMap::new()),
        })
    }

    /// A bearer token for `scope` (e.g. `https://management.azure.com/.default`).
    pub async fn token(&self, scope: &str) -> Result<Secret, Failure> {
        let token = self
            .get_token(&[scope], None)
            .await
            .map_err(|e| self.failure(scope, &e))?;
        Ok(Secret::new(token.token.secret().to_string()))
    }

    fn cached(&self, key: &str) -> Option<AccessToken> {
        let cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        cache
            .get(key)
            .filter(|t| t.expires_on - EXPIRY_MARGIN > time::OffsetDateTime::now_utc())
            .cloned()
    }

    fn failure(&self, scope: &str, e: &azure_core::Error) -> Failure {
        let text = crate::secret::redact(&e.to_string());
        let first = text.lines().next().unwrap_or_default().to_string();
        Failure::new(
            ErrorKind::Forbidden,
            format!("could not get an Azure token for {scope} with {}: {first}", self.describe),
        )
        .with_hint(match self.describe.as_str() {
            d if d.contains("Azure CLI") => "run `az login` (and `az account set --subscription …`), or choose another azure.credential.kind".to_string(),
            d if d.contains("workload identity") => "check the federated credential (issuer, subject, audience api://AzureADTokenExchange) and the token file".to_string(),
            _ => "check azure.credential.* in the config and that the identity exists in the tenant".to_string(),
        })
        .with_detail("cause", text)
    }
}

#[async_trait::async_trait]
impl TokenCredential for Credential {
    /// The SDK's clients (Blob) ask through here too, so they share the cache.
    async fn get_token(
        &self,
        scopes: &[&str],
        options: Option<TokenRequestOptions<'_>>,
    ) -> azure_core::Result<AccessToken> {
        let key = scopes.join(" ");
        if let Some(token) = self.cached(&key) {
            return Ok(token);
        }
        let token = self.inner.get_token(scopes, options).await?;
        crate::secret::register(token.token.secret());
        self.cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, token.clone());
        Ok(token)
    }
}

/// The claims of a JWT access token (no signature check: we only read who we are).
pub fn claims(token: &Secret) -> Result<serde_json::Value, Failure> {
    let payload = token.reveal().split('.').nth(1).unwrap_or_default();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|_| Failure::invalid("the Azure access token is not a JWT"))?;
    serde_json::from_slice(&bytes)
        .map_err(|_| Failure::invalid("the Azure access token's claims are not JSON"))
}
