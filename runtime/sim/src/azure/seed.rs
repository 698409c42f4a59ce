//! Seeding the rehearsal's Azure: the healthy world from the client's names, then the
//! scenario's `azure:` section as the differences from healthy.
//!
//! The names come from the client config (`azure.*`, `langfuse.*`, `sso.client_id`),
//! so a client who renamed their resource group or registry still rehearses against
//! their own names. [`AzureNames::default`] matches `examples/client.yaml`.
//!
//! A scenario's `azure:` section says only what differs from healthy, e.g.
//!
//! ```yaml
//! azure:
//!   aks: { oidc_issuer_enabled: false }
//!   identity_roles: ["Storage Blob Data Contributor"]   # no Delegator
//! ```

use serde::{Deserialize, Serialize};
use serde_yaml::Value as Yaml;

use super::rbac::{role_id, ACR_PULL, BLOB_DATA_CONTRIBUTOR, BLOB_DELEGATOR, OWNER};
use super::state::{
    key, Application, AzureState, Cluster, Container, FederatedCredential, KubeletIdentity,
    ManagedIdentity, Operator, Registry, ResourceGroup, RoleAssignment, StorageAccount,
    Subscription,
};
use crate::api_faults::ApiFaultConfig;

/// The audience of every federated credential in the design.
pub const TOKEN_EXCHANGE_AUDIENCE: &str = "api://AzureADTokenExchange";
/// Issuer of the operator's rehearsal token file (any issuer the operator app trusts).
pub const OPERATOR_ISSUER: &str = "https://token.rehearsal.lfrun.invalid/operator";
pub const OPERATOR_SUBJECT: &str = "lfrun-operator";

/// The client's names, as in its config.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AzureNames {
    pub tenant_id: String,
    /// An ID (a name is kept as the display name with a generated ID).
    pub subscription: String,
    pub resource_group: String,
    pub location: String,
    pub aks_cluster: String,
    pub acr: String,
    pub storage_account: String,
    pub blob_container: String,
    pub managed_identity: String,
    pub namespace: String,
    pub service_account: String,
    pub public_url: String,
    pub sso_client_id: String,
}

impl Default for AzureNames {
    fn default() -> AzureNames {
        AzureNames {
            tenant_id: "72f988bf-0000-4000-8000-00000000c0de".into(),
            subscription: "3f1c2d4e-0000-4000-8000-0000000005ab".into(),
            resource_group: "rg-contoso-langfuse-test".into(),
            location: "westeurope".into(),
            aks_cluster: "aks-contoso-langfuse".into(),
            acr: "contosolangfuse".into(),
            storage_account: "contosolangfusest".into(),
            blob_container: "langfuse".into(),
            managed_identity: "id-contoso-langfuse".into(),
            namespace: "langfuse".into(),
            service_account: "langfuse".into(),
            public_url: "https://langfuse.contoso.example".into(),
            sso_client_id: "5d1e7a00-0000-4000-8000-00000000a11d".into(),
        }
    }
}

impl AzureNames {
    /// The names in a client config (its root mapping); missing keys keep the example's.
    pub fn from_config(config: &Yaml) -> AzureNames {
        let mut n = AzureNames::default();
        let get = |path: &str| -> Option<String> {
            let mut node = config;
            for part in path.split('.') {
                node = node.get(part)?;
            }
            match node {
                Yaml::String(s) if !s.is_empty() => Some(s.clone()),
                Yaml::Number(x) => Some(x.to_string()),
                _ => None,
            }
        };
        let fields: [(&str, &mut String); 13] = [
            ("azure.tenant_id", &mut n.tenant_id),
            ("azure.subscription", &mut n.subscription),
            ("azure.resource_group", &mut n.resource_group),
            ("azure.location", &mut n.location),
            ("azure.aks_cluster", &mut n.aks_cluster),
            ("azure.acr", &mut n.acr),
            ("azure.storage_account", &mut n.storage_account),
            ("azure.blob_container", &mut n.blob_container),
            ("azure.managed_identity", &mut n.managed_identity),
            ("langfuse.namespace", &mut n.namespace),
            ("langfuse.service_account", &mut n.service_account),
            ("langfuse.public_url", &mut n.public_url),
            ("sso.client_id", &mut n.sso_client_id),
        ];
        for (path, field) in fields {
            if let Some(v) = get(path) {
                *field = v;
            }
        }
        n
    }

    /// The redirect URI Langfuse signs in with.
    pub fn redirect_uri(&self) -> String {
        let base = self.public_url.trim_end_matches('/');
        let base = if base.contains("://") {
            base.to_string()
        } else {
            format!("https://{base}")
        };
        format!("{base}/api/auth/callback/azure-ad")
    }
}

/// The differences from healthy a scenario asks for (its `azure:` section).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AzureScenario {
    pub aks: AksOverrides,
    /// False: the kubelet identity holds no AcrPull on the registry (ACR not attached).
    pub acr_attached: Option<bool>,
    /// Roles the managed identity holds on the storage account (default: Data Contributor and Delegator).
    pub identity_roles: Option<Vec<String>>,
    /// Roles the managed identity holds on the blob container only.
    pub identity_container_roles: Vec<String>,
    /// The federated credential's subject/issuer, when they differ from the right ones.
    pub federated_subject: Option<String>,
    pub federated_issuer: Option<String>,
    pub app_registration: AppOverrides,
    pub storage: StorageOverrides,
    /// The operator's roles at subscription scope (default: Owner).
    pub operator_roles: Option<Vec<String>>,
    /// Client secrets the operator app accepts (for rehearsing `credential.kind: client_secret`).
    pub operator_client_secrets: Vec<String>,
    /// Resources that do not exist: resource_group, aks, acr, storage_account, container,
    /// identity, federated_credential, app_registration.
    pub missing: Vec<String>,
    /// Resource Manager faults (429 with Retry-After, 500s), deterministic by seed.
    pub faults: Option<ApiFaultConfig>,
    /// Polls a create answers `InProgress` before it completes (long-running operations).
    pub slow_provisioning: Option<u32>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AksOverrides {
    pub oidc_issuer_enabled: Option<bool>,
    pub workload_identity_enabled: Option<bool>,
    pub kubernetes_version: Option<String>,
    pub node_size: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AppOverrides {
    pub redirect_uris: Option<Vec<String>>,
    pub sign_in_audience: Option<String>,
    pub email_claim: Option<bool>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StorageOverrides {
    pub allow_shared_key_access: Option<bool>,
    pub kind: Option<String>,
    pub sku: Option<String>,
}

impl AzureScenario {
    /// Reads a scenario's `azure:` section (`None`/null: healthy).
    pub fn from_yaml(section: Option<&Yaml>) -> Result<AzureScenario, String> {
        match section {
            None | Some(Yaml::Null) => Ok(AzureScenario::default()),
            Some(v) => serde_yaml::from_value(v.clone())
                .map_err(|e| format!("scenario `azure:` section: {e}")),
        }
    }
}

/// A GUID derived from a name, so the same names give the same IDs in every world.
fn guid_for(seed: &str) -> String {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, seed.as_bytes());
    let h: String = d.as_ref()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!(
        "{}-{}-4{}-8{}-{}",
        &h[0..8],
        &h[8..12],
        &h[13..16],
        &h[17..20],
        &h[20..32]
    )
}

fn is_guid(s: &str) -> bool {
    let p: Vec<&str> = s.split('-').collect();
    p.len() == 5
        && [8, 4, 4, 4, 12]
            .iter()
            .zip(&p)
            .all(|(n, x)| x.len() == *n && x.chars().all(|c| c.is_ascii_hexdigit()))
}

impl AzureState {
    /// The healthy Azure side for these names, with the scenario's differences applied.
    pub fn seed(names: &AzureNames, scenario: &AzureScenario) -> Result<AzureState, String> {
        let mut s = AzureState::healthy(names);
        s.apply(names, scenario)?;
        s.names = names.clone();
        s.scenario = scenario.clone();
        Ok(s)
    }

    /// Everything the guide's §2–§4 asks for, in place and wired.
    pub fn healthy(n: &AzureNames) -> AzureState {
        let (sub_id, sub_name) = if is_guid(&n.subscription) {
            (
                n.subscription.to_ascii_lowercase(),
                "Contoso Langfuse (rehearsal)".to_string(),
            )
        } else {
            (
                guid_for(&format!("subscription/{}", n.subscription)),
                n.subscription.clone(),
            )
        };
        let mut key_bytes = [0u8; 32];
        let _ = aws_lc_rs::rand::fill(&mut key_bytes);
        let mut s = AzureState {
            seeded: true,
            tenant_id: n.tenant_id.clone(),
            subscription: Subscription {
                id: sub_id,
                name: sub_name,
                state: "Enabled".into(),
            },
            signing_key: key_bytes.iter().map(|b| format!("{b:02x}")).collect(),
            ..AzureState::default()
        };
        s.operator = Operator {
            display_name: "lfrun-operator".into(),
            client_id: guid_for("operator/client"),
            object_id: guid_for("operator/object"),
            federated: vec![FederatedCredential {
                name: "lfrun-rehearsal".into(),
                issuer: OPERATOR_ISSUER.into(),
                subject: OPERATOR_SUBJECT.into(),
                audiences: vec![TOKEN_EXCHANGE_AUDIENCE.into()],
            }],
            client_secrets: Vec::new(),
        };
        let g = n.resource_group.clone();
        s.groups.insert(
            g.to_ascii_lowercase(),
            ResourceGroup {
                name: g.clone(),
                location: n.location.clone(),
            },
        );
        let issuer = format!(
            "https://{}.oic.prod-aks.azure.com/{}/{}/",
            n.location,
            n.tenant_id,
            guid_for(&format!("oidc/{}", n.aks_cluster))
        );
        let node_group = format!("MC_{}_{}_{}", g, n.aks_cluster, n.location);
        let kubelet = KubeletIdentity {
            client_id: guid_for("kubelet/client"),
            object_id: guid_for("kubelet/object"),
            resource_id: format!(
                "/subscriptions/{}/resourceGroups/{node_group}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{}-agentpool",
                s.subscription.id, n.aks_cluster
            ),
        };
        s.clusters.insert(
            key(&g, &n.aks_cluster),
            Cluster {
                group: g.clone(),
                name: n.aks_cluster.clone(),
                location: n.location.clone(),
                kubernetes_version: "1.33.2".into(),
                node_size: "Standard_D4s_v5".into(),
                node_count: 3,
                oidc_issuer_enabled: true,
                oidc_issuer_url: issuer.clone(),
                workload_identity_enabled: true,
                kubelet: kubelet.clone(),
            },
        );
        let registry = Registry {
            group: g.clone(),
            name: n.acr.clone(),
            location: n.location.clone(),
            sku: "Standard".into(),
            admin_user_enabled: false,
        };
        let registry_id = s.registry_id(&registry);
        s.registries.insert(key(&g, &n.acr), registry);
        let mut account = StorageAccount {
            group: g.clone(),
            name: n.storage_account.clone(),
            location: n.location.clone(),
            kind: "StorageV2".into(),
            sku: "Standard_LRS".into(),
            allow_shared_key_access: false,
            ..StorageAccount::default()
        };
        account.containers.insert(
            n.blob_container.clone(),
            Container {
                name: n.blob_container.clone(),
                ..Container::default()
            },
        );
        let account_id = s.account_id(&account);
        s.storage_accounts
            .insert(key(&g, &n.storage_account), account);
        let identity = ManagedIdentity {
            group: g.clone(),
            name: n.managed_identity.clone(),
            location: n.location.clone(),
            client_id: guid_for(&format!("identity/{}/client", n.managed_identity)),
            principal_id: guid_for(&format!("identity/{}/principal", n.managed_identity)),
            federated: vec![FederatedCredential {
                name: "langfuse".into(),
                issuer,
                subject: format!(
                    "system:serviceaccount:{}:{}",
                    n.namespace, n.service_account
                ),
                audiences: vec![TOKEN_EXCHANGE_AUDIENCE.into()],
            }],
        };
        let principal = identity.principal_id.clone();
        s.identities.insert(key(&g, &n.managed_identity), identity);
        let sub_scope = format!("/subscriptions/{}", s.subscription.id);
        let operator = s.operator.object_id.clone();
        let grants = [
            (sub_scope.as_str(), OWNER, operator.as_str()),
            (
                account_id.as_str(),
                BLOB_DATA_CONTRIBUTOR,
                operator.as_str(),
            ),
            (account_id.as_str(), BLOB_DELEGATOR, operator.as_str()),
            (registry_id.as_str(), ACR_PULL, kubelet.object_id.as_str()),
            (
                account_id.as_str(),
                BLOB_DATA_CONTRIBUTOR,
                principal.as_str(),
            ),
            (account_id.as_str(), BLOB_DELEGATOR, principal.as_str()),
        ];
        for (scope, role, who) in grants {
            s.assign(scope, role, who);
        }
        s.applications.push(Application {
            object_id: guid_for("app/object"),
            app_id: n.sso_client_id.clone(),
            display_name: "Langfuse (contoso)".into(),
            sign_in_audience: "AzureADMyOrg".into(),
            redirect_uris: vec![n.redirect_uri()],
            id_token_claims: vec!["email".into()],
        });
        s
    }

    /// Assigns a role (by GUID) to a principal at a scope.
    pub fn assign(&mut self, scope: &str, role: &str, principal: &str) {
        let name = guid_for(&format!("assignment/{scope}/{role}/{principal}").to_ascii_lowercase());
        self.role_assignments.retain(|a| a.name != name);
        self.role_assignments.push(RoleAssignment {
            name,
            scope: scope.to_string(),
            role: role.to_string(),
            principal_id: principal.to_string(),
            principal_type: "ServicePrincipal".into(),
        });
    }

    pub(crate) fn apply(&mut self, n: &AzureNames, sc: &AzureScenario) -> Result<(), String> {
        let g = n.resource_group.clone();
        let ck = key(&g, &n.aks_cluster);
        if let Some(c) = self.clusters.get_mut(&ck) {
            if let Some(v) = sc.aks.oidc_issuer_enabled {
                c.oidc_issuer_enabled = v;
            }
            if let Some(v) = sc.aks.workload_identity_enabled {
                c.workload_identity_enabled = v;
            }
            if let Some(v) = &sc.aks.kubernetes_version {
                c.kubernetes_version = v.clone();
            }
            if let Some(v) = &sc.aks.node_size {
                c.node_size = v.clone();
            }
        }
        let kubelet = self
            .clusters
            .get(&ck)
            .map(|c| c.kubelet.object_id.clone())
            .unwrap_or_default();
        if sc.acr_attached == Some(false) {
            self.role_assignments.retain(|a| a.principal_id != kubelet);
        }
        let identity = self
            .identities
            .get(&key(&g, &n.managed_identity))
            .map(|i| i.principal_id.clone())
            .unwrap_or_default();
        let account_id = self
            .account_by_name(&n.storage_account)
            .map(|a| self.account_id(a))
            .unwrap_or_default();
        if let Some(roles) = &sc.identity_roles {
            self.role_assignments.retain(|a| a.principal_id != identity);
            for r in roles {
                let id = role_id(r)
                    .ok_or_else(|| format!("scenario azure.identity_roles: unknown role `{r}`"))?;
                self.assign(&account_id.clone(), id, &identity.clone());
            }
        }
        for r in &sc.identity_container_roles {
            let id = role_id(r).ok_or_else(|| {
                format!("scenario azure.identity_container_roles: unknown role `{r}`")
            })?;
            let scope = format!(
                "{account_id}/blobServices/default/containers/{}",
                n.blob_container
            );
            self.assign(&scope, id, &identity.clone());
        }
        if let Some(ident) = self.identities.get_mut(&key(&g, &n.managed_identity)) {
            if let Some(f) = ident.federated.first_mut() {
                if let Some(s) = &sc.federated_subject {
                    f.subject = s.clone();
                }
                if let Some(i) = &sc.federated_issuer {
                    f.issuer = i.clone();
                }
            }
        }
        if let Some(app) = self
            .applications
            .iter_mut()
            .find(|a| a.app_id == n.sso_client_id)
        {
            if let Some(u) = &sc.app_registration.redirect_uris {
                app.redirect_uris = u.clone();
            }
            if let Some(a) = &sc.app_registration.sign_in_audience {
                app.sign_in_audience = a.clone();
            }
            if sc.app_registration.email_claim == Some(false) {
                app.id_token_claims.retain(|c| c != "email");
            }
        }
        if let Some(a) = self.account_by_name_mut(&n.storage_account) {
            if let Some(v) = sc.storage.allow_shared_key_access {
                a.allow_shared_key_access = v;
            }
            if let Some(v) = &sc.storage.kind {
                a.kind = v.clone();
            }
            if let Some(v) = &sc.storage.sku {
                a.sku = v.clone();
            }
        }
        if let Some(roles) = &sc.operator_roles {
            let op = self.operator.object_id.clone();
            let sub_scope = format!("/subscriptions/{}", self.subscription.id);
            self.role_assignments
                .retain(|a| !(a.principal_id == op && a.scope == sub_scope));
            for r in roles {
                let id = role_id(r)
                    .ok_or_else(|| format!("scenario azure.operator_roles: unknown role `{r}`"))?;
                self.assign(&sub_scope, id, &op);
            }
        }
        self.operator.client_secrets = sc.operator_client_secrets.clone();
        for m in &sc.missing {
            match m.as_str() {
                "resource_group" => {
                    self.groups.clear();
                    self.clusters.clear();
                    self.registries.clear();
                    self.storage_accounts.clear();
                    self.identities.clear();
                }
                "aks" => self.clusters.clear(),
                "acr" => self.registries.clear(),
                "storage_account" => self.storage_accounts.clear(),
                "container" => self
                    .storage_accounts
                    .values_mut()
                    .for_each(|a| a.containers.clear()),
                "identity" => self.identities.clear(),
                "federated_credential" => self
                    .identities
                    .values_mut()
                    .for_each(|i| i.federated.clear()),
                "app_registration" => self.applications.clear(),
                other => {
                    return Err(format!(
                        "scenario azure.missing: unknown resource `{other}`"
                    ))
                }
            }
        }
        if let Some(mut f) = sc.faults.clone() {
            if f.paths.is_empty() {
                f.paths = vec!["/subscriptions".into()];
            }
            self.faults = Some(f);
        }
        self.slow_provisioning = sc.slow_provisioning.unwrap_or(0);
        Ok(())
    }
}
