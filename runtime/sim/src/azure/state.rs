//! The rehearsal's Azure: tenant, subscription, resources, role assignments, app
//! registrations and blob contents, as one serialisable value kept in the World.
//!
//! Resources are typed (an AKS cluster has an OIDC issuer flag, a storage account has
//! `allow_shared_key_access`) because the scenarios are about exactly those facts.
//! Resource Manager answers are rendered from these types in `arm.rs`, shaped like
//! the examples of the Azure REST API specifications.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::api_faults::ApiFaultConfig;

/// A service principal lfrun's operator signs in as (workload identity or secret).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Operator {
    pub display_name: String,
    pub client_id: String,
    pub object_id: String,
    /// Issuer and subject of the token file the rehearsal writes for the operator.
    pub federated: Vec<FederatedCredential>,
    /// Client secrets accepted for the operator (only used when a test configures one).
    pub client_secrets: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Subscription {
    pub id: String,
    pub name: String,
    pub state: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ResourceGroup {
    pub name: String,
    pub location: String,
}

/// The kubelet (node) identity of a cluster.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct KubeletIdentity {
    pub client_id: String,
    pub object_id: String,
    pub resource_id: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Cluster {
    pub group: String,
    pub name: String,
    pub location: String,
    pub kubernetes_version: String,
    pub node_size: String,
    pub node_count: u32,
    pub oidc_issuer_enabled: bool,
    /// Set even while disabled: AKS keeps the URL once issued.
    pub oidc_issuer_url: String,
    pub workload_identity_enabled: bool,
    pub kubelet: KubeletIdentity,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Registry {
    pub group: String,
    pub name: String,
    pub location: String,
    pub sku: String,
    pub admin_user_enabled: bool,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Blob {
    /// Content, base64-encoded (so `state.json` stays text).
    pub content: String,
    pub content_type: String,
    /// RFC 1123 time, as the Blob service reports it.
    pub last_modified: String,
    pub etag: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Container {
    pub name: String,
    pub blobs: BTreeMap<String, Blob>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct StorageAccount {
    pub group: String,
    pub name: String,
    pub location: String,
    pub kind: String,
    pub sku: String,
    pub allow_shared_key_access: bool,
    pub containers: BTreeMap<String, Container>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct FederatedCredential {
    pub name: String,
    pub issuer: String,
    pub subject: String,
    pub audiences: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ManagedIdentity {
    pub group: String,
    pub name: String,
    pub location: String,
    pub client_id: String,
    pub principal_id: String,
    pub federated: Vec<FederatedCredential>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RoleAssignment {
    /// The assignment's GUID name.
    pub name: String,
    /// Resource ID the role is assigned at (`/subscriptions/…/…`).
    pub scope: String,
    /// Role definition GUID.
    pub role: String,
    pub principal_id: String,
    pub principal_type: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Application {
    pub object_id: String,
    pub app_id: String,
    pub display_name: String,
    /// `AzureADMyOrg` is single tenant.
    pub sign_in_audience: String,
    pub redirect_uris: Vec<String>,
    /// Names of the ID token's optional claims (`email`).
    pub id_token_claims: Vec<String>,
}

/// An accepted long-running operation, polled at `…/operations/<id>`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Operation {
    pub resource_id: String,
    /// Polls still answered `InProgress`.
    pub polls_left: u32,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct AzureState {
    /// False until seeded (an old world or one without Azure).
    pub seeded: bool,
    /// The client names and scenario differences this state was seeded from (a client
    /// config with other names reseeds it: see `azure::use_names`).
    pub names: super::seed::AzureNames,
    pub scenario: super::seed::AzureScenario,
    pub tenant_id: String,
    pub subscription: Subscription,
    /// Signs the rehearsal's tokens, delegation keys and ACR tokens (hex).
    pub signing_key: String,
    pub operator: Operator,
    /// By lower-case name.
    pub groups: BTreeMap<String, ResourceGroup>,
    /// By lower-case `group/name` for clusters, registries, accounts and identities.
    pub clusters: BTreeMap<String, Cluster>,
    pub registries: BTreeMap<String, Registry>,
    pub storage_accounts: BTreeMap<String, StorageAccount>,
    pub identities: BTreeMap<String, ManagedIdentity>,
    pub role_assignments: Vec<RoleAssignment>,
    pub applications: Vec<Application>,
    /// Layer digests pushed to the rehearsal registries (`host/repo@sha256:…`).
    pub registry_blobs: BTreeSet<String>,
    /// Resource Manager fault injection (429 with Retry-After, 500s), when enabled.
    pub faults: Option<ApiFaultConfig>,
    /// How many polls a long-running create answers `InProgress` (0: creates finish at once).
    pub slow_provisioning: u32,
    pub operations: BTreeMap<String, Operation>,
    /// Counter for generated IDs (deterministic per world).
    pub next_id: u64,
    /// Access tokens issued by the token endpoint, by audience (tests read how often
    /// clients came back for one).
    pub tokens_issued: BTreeMap<String, u64>,
}

/// The key of a resource in the maps above.
pub fn key(group: &str, name: &str) -> String {
    format!(
        "{}/{}",
        group.to_ascii_lowercase(),
        name.to_ascii_lowercase()
    )
}

impl AzureState {
    pub fn group_id(&self, group: &str) -> String {
        format!(
            "/subscriptions/{}/resourceGroups/{group}",
            self.subscription.id
        )
    }

    pub fn resource_id(&self, group: &str, provider_type: &str, name: &str) -> String {
        format!("{}/providers/{provider_type}/{name}", self.group_id(group))
    }

    pub fn cluster_id(&self, c: &Cluster) -> String {
        self.resource_id(
            &c.group,
            "Microsoft.ContainerService/managedClusters",
            &c.name,
        )
    }

    pub fn registry_id(&self, r: &Registry) -> String {
        self.resource_id(&r.group, "Microsoft.ContainerRegistry/registries", &r.name)
    }

    pub fn account_id(&self, a: &StorageAccount) -> String {
        self.resource_id(&a.group, "Microsoft.Storage/storageAccounts", &a.name)
    }

    pub fn identity_id(&self, i: &ManagedIdentity) -> String {
        self.resource_id(
            &i.group,
            "Microsoft.ManagedIdentity/userAssignedIdentities",
            &i.name,
        )
    }

    /// A registry by login server (`contosolangfuse.azurecr.io`).
    pub fn registry_by_host(&self, host: &str) -> Option<&Registry> {
        let name = host.split('.').next().unwrap_or_default();
        self.registries
            .values()
            .find(|r| r.name.eq_ignore_ascii_case(name))
    }

    pub fn account_by_name(&self, name: &str) -> Option<&StorageAccount> {
        self.storage_accounts
            .values()
            .find(|a| a.name.eq_ignore_ascii_case(name))
    }

    pub fn account_by_name_mut(&mut self, name: &str) -> Option<&mut StorageAccount> {
        self.storage_accounts
            .values_mut()
            .find(|a| a.name.eq_ignore_ascii_case(name))
    }

    pub fn application(&self, app_id: &str) -> Option<&Application> {
        self.applications
            .iter()
            .find(|a| a.app_id.eq_ignore_ascii_case(app_id))
    }

    pub fn identity_by_client_id(&self, client_id: &str) -> Option<&ManagedIdentity> {
        self.identities
            .values()
            .find(|i| i.client_id.eq_ignore_ascii_case(client_id))
    }

    /// A deterministic GUID-shaped ID (`prefix` keeps kinds apart in the first block).
    pub fn new_guid(&mut self, prefix: u32) -> String {
        self.next_id += 1;
        format!("{prefix:08x}-0000-4000-8000-{:012x}", self.next_id)
    }
}
