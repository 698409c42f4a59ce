//! `az::` — Azure for playbooks: identity, Resource Manager, Microsoft Graph, ACR
//! login and Blob, over Azure's REST APIs with `azure_identity` credentials.
//!
//! No `az` subprocess per call and never a storage account key: every call is an
//! HTTPS request with an Entra ID token, through lfrun's HTTP client (so
//! `network.resolve` and `network.ca_file` apply, and the rehearsal environment is
//! reached exactly like Azure is). One file per concept:
//!
//! - `endpoints.rs` — which hosts (public cloud by default, `azure.endpoints.*`);
//! - `credential.rs` — the credential and its per-scope token cache;
//! - `arm.rs` — Resource Manager requests: retries, long-running operations, errors;
//! - `session.rs` — the run's Azure session and the ensure rule (create only when asked);
//! - `subscription.rs`, `aks.rs`, `acr.rs`, `storage.rs`, `identity.rs`, `roles.rs` —
//!   the resources of guide §2–§3; `graph.rs` — the SSO app registration (§4);
//!   `blob.rs` — the Blob data plane and user delegation SAS (§9, §10).
//!
//! Read functions return maps with the facts and, where the guide has a rule, a
//! `findings` list (`#{check, problem, fix}`); `ensure_*` functions return
//! `#{outcome: "kept" | "created" | "planned", …}` and fail with `not_found` when
//! something is missing and creation was not asked for.

pub mod acr;
pub mod aks;
pub mod arm;
pub mod blob;
pub mod credential;
pub mod endpoints;
pub mod graph;
pub mod identity;
pub mod roles;
pub mod session;
pub mod storage;
pub mod subscription;

use std::future::Future;
use std::sync::{Arc, OnceLock};

use rhai::{Array, Dynamic, Map, Module};
use serde_json::Value as Json;

use crate::context::RunContext;
use crate::error::{Failure, ScriptResult};
use crate::register::Registrar;
use crate::secret::Secret;
use crate::value::from_json;

use session::Azure;

/// The script-facing handle: the run, and the Azure session made on first use.
#[derive(Clone)]
struct Az {
    run: Arc<RunContext>,
    session: Arc<OnceLock<Result<Arc<Azure>, Failure>>>,
}

impl Az {
    fn session(&self) -> Result<Arc<Azure>, Failure> {
        self.session
            .get_or_init(|| Azure::new(self.run.clone()).map(Arc::new))
            .clone()
    }

    /// Runs an Azure call from the script thread, with a spinner labelled `label`.
    fn call<T, F, Fut>(&self, label: &str, f: F) -> Result<T, Failure>
    where
        F: FnOnce(Arc<Azure>) -> Fut,
        Fut: Future<Output = Result<T, Failure>>,
    {
        let az = self.session()?;
        self.run.wait(label, f(az))
    }

    fn map<F, Fut>(&self, label: &str, f: F) -> ScriptResult<Map>
    where
        F: FnOnce(Arc<Azure>) -> Fut,
        Fut: Future<Output = Result<Json, Failure>>,
    {
        Ok(to_map(self.call(label, f)?))
    }
}

fn to_map(json: Json) -> Map {
    from_json(&json).try_cast::<Map>().unwrap_or_default()
}

fn to_array(items: Vec<Json>) -> Array {
    items.iter().map(from_json).collect()
}

pub fn module(run: &Arc<RunContext>) -> Module {
    let mut m = Registrar::new(
        "az",
        "Azure over its REST APIs with Entra ID tokens: Resource Manager, Graph, ACR login, Blob.",
    );
    let az = Az {
        run: run.clone(),
        session: Arc::new(OnceLock::new()),
    };

    // ---- identity ---------------------------------------------------------------
    let a = az.clone();
    m.fun("whoami", "Tenant, subscription and principal of the configured credential: #{tenant_id, subscription_id, principal_id, principal_name, principal_type, credential}.",
        &[], move || a.map("az: who am I", |az| async move { subscription::whoami(&az).await }));
    let a = az.clone();
    m.fun("subscription", "The configured subscription (azure.subscription, an ID or a name): #{id, name, state, tenant_id}.",
        &[], move || a.map("az: subscription", |az| async move { subscription::subscription(&az).await }));

    // ---- resource group -------------------------------------------------------------
    let a = az.clone();
    m.fun(
        "resource_group",
        "A resource group: #{id, name, location, provisioning_state}; not_found when missing.",
        &["name"],
        move |name: &str| {
            let n = name.to_string();
            a.map("az: resource group", |az| async move {
                subscription::resource_group(&az, &n).await
            })
        },
    );
    let a = az.clone();
    m.fun("ensure_resource_group", "Keeps an existing resource group or creates it in azure.location (only with --create-missing); #{outcome}.",
        &["name"], move |name: &str| { let n = name.to_string(); a.map("az: resource group", |az| async move { subscription::ensure_resource_group(&az, &n).await }) });

    // ---- AKS ------------------------------------------------------------------------
    let a = az.clone();
    m.fun("aks", "An AKS cluster: #{oidc_issuer_enabled, oidc_issuer_url, workload_identity_enabled, kubelet_identity, node_size, kubernetes_version, findings}.",
        &["resource_group", "name"], move |rg: &str, name: &str| {
            let (rg, n) = (rg.to_string(), name.to_string());
            a.map("az: AKS cluster", |az| async move { aks::aks(&az, &rg, &n).await })
        });
    let a = az.clone();
    m.fun("aks_credentials", "The cluster user kubeconfig (az aks get-credentials), a Secret when it carries credentials; hand it to kube::connect(#{kubeconfig}).",
        &["resource_group", "name"], move |rg: &str, name: &str| -> ScriptResult<Dynamic> {
            let (rg, n) = (rg.to_string(), name.to_string());
            let text = a.call("az: AKS credentials", |az| async move { aks::user_kubeconfig(&az, &rg, &n).await })?;
            Ok(if aks::carries_credentials(&text) { Dynamic::from(Secret::new(text)) } else { text.into() })
        });

    // ---- ACR ------------------------------------------------------------------------
    let a = az.clone();
    m.fun(
        "acr",
        "A container registry: #{id, login_server, sku, admin_user_enabled, findings}.",
        &["resource_group", "name"],
        move |rg: &str, name: &str| {
            let (rg, n) = (rg.to_string(), name.to_string());
            a.map("az: container registry", |az| async move {
                acr::acr(&az, &rg, &n).await
            })
        },
    );
    let a = az.clone();
    m.fun("acr_attached", "Whether the AKS kubelet identity holds AcrPull on the registry: #{attached, evidence, fix, kubelet_object_id, acr_id}.",
        &["resource_group", "aks", "acr"], move |rg: &str, aks_name: &str, acr_name: &str| {
            let (rg, k, r) = (rg.to_string(), aks_name.to_string(), acr_name.to_string());
            a.map("az: ACR attached?", |az| async move { acr::attached(&az, &rg, &k, &r).await })
        });
    let a = az.clone();
    m.fun("ensure_acr_pull", "Gives the AKS kubelet identity AcrPull on the registry (like --attach-acr; only with --create-missing); #{outcome}.",
        &["resource_group", "aks", "acr"], move |rg: &str, aks_name: &str, acr_name: &str| {
            let (rg, k, r) = (rg.to_string(), aks_name.to_string(), acr_name.to_string());
            a.map("az: AcrPull", |az| async move { acr::ensure_pull(&az, &rg, &k, &r).await })
        });
    let a = az.clone();
    m.fun("acr_login", "Logs docker in to <acr>.azurecr.io with an Entra ID token exchanged for an ACR refresh token (no admin user, no key).",
        &["acr"], move |name: &str| {
            let n = name.to_string();
            a.map("az: ACR login", |az| async move { acr::login(&az, &n).await })
        });
    let a = az.clone();
    m.fun(
        "acr_refresh_token",
        "An ACR refresh token for the registry (a Secret), from the registry's /oauth2/exchange.",
        &["acr"],
        move |name: &str| -> ScriptResult<Secret> {
            let n = name.to_string();
            Ok(a.call("az: ACR token", |az| async move {
                acr::refresh_token(&az, &n).await
            })?)
        },
    );

    // ---- storage --------------------------------------------------------------------
    let a = az.clone();
    m.fun("storage_account", "A storage account: #{kind, sku, allow_shared_key_access, blob_endpoint, findings} (keys allowed is a finding).",
        &["resource_group", "name"], move |rg: &str, name: &str| {
            let (rg, n) = (rg.to_string(), name.to_string());
            a.map("az: storage account", |az| async move { storage::account(&az, &rg, &n).await })
        });
    let a = az.clone();
    m.fun(
        "container",
        "A blob container, read through Resource Manager: #{id, name, public_access}.",
        &["resource_group", "account", "name"],
        move |rg: &str, account: &str, name: &str| {
            let (rg, acc, n) = (rg.to_string(), account.to_string(), name.to_string());
            a.map("az: blob container", |az| async move {
                storage::container(&az, &rg, &acc, &n).await
            })
        },
    );
    let a = az.clone();
    m.fun(
        "ensure_container",
        "Keeps or creates (with --create-missing) a private blob container; #{outcome}.",
        &["resource_group", "account", "name"],
        move |rg: &str, account: &str, name: &str| {
            let (rg, acc, n) = (rg.to_string(), account.to_string(), name.to_string());
            a.map("az: blob container", |az| async move {
                storage::ensure_container(&az, &rg, &acc, &n).await
            })
        },
    );

    // ---- managed identity, federated credential -----------------------------------------
    let a = az.clone();
    m.fun(
        "identity",
        "A user-assigned managed identity: #{id, client_id, principal_id, tenant_id}.",
        &["resource_group", "name"],
        move |rg: &str, name: &str| {
            let (rg, n) = (rg.to_string(), name.to_string());
            a.map("az: managed identity", |az| async move {
                identity::identity(&az, &rg, &n).await
            })
        },
    );
    let a = az.clone();
    m.fun("ensure_identity", "Keeps or creates (with --create-missing) a user-assigned managed identity; #{outcome, client_id, principal_id}.",
        &["resource_group", "name"], move |rg: &str, name: &str| {
            let (rg, n) = (rg.to_string(), name.to_string());
            a.map("az: managed identity", |az| async move { identity::ensure_identity(&az, &rg, &n).await })
        });
    let a = az.clone();
    m.fun("federated_credentials", "The federated identity credentials of a managed identity: [#{name, issuer, subject, audiences}].",
        &["resource_group", "identity"], move |rg: &str, name: &str| -> ScriptResult<Array> {
            let (rg, n) = (rg.to_string(), name.to_string());
            Ok(to_array(a.call("az: federated credentials", |az| async move { identity::federated_credentials(&az, &rg, &n).await })?))
        });
    let a = az.clone();
    m.fun("check_federated_credential", "Compares the identity's federated credentials with ISSUER and SUBJECT: #{ok, evidence, fix, found_issuer, found_subject, expected_issuer, expected_subject}.",
        &["resource_group", "identity", "issuer", "subject"], move |rg: &str, name: &str, issuer: &str, subject: &str| {
            let (rg, n, i, s) = (rg.to_string(), name.to_string(), issuer.to_string(), subject.to_string());
            a.map("az: federated credential", |az| async move { identity::check_federated_credential(&az, &rg, &n, &i, &s).await })
        });
    let a = az.clone();
    m.fun("ensure_federated_credential", "Ensures credential NAME trusts SUBJECT from ISSUER (audience api://AzureADTokenExchange); a mismatch fails with both values unless --create-missing.",
        &["resource_group", "identity", "name", "issuer", "subject"], move |rg: &str, ident: &str, name: &str, issuer: &str, subject: &str| {
            let (rg, id, n, i, s) = (rg.to_string(), ident.to_string(), name.to_string(), issuer.to_string(), subject.to_string());
            a.map("az: federated credential", |az| async move { identity::ensure_federated_credential(&az, &rg, &id, &n, &i, &s).await })
        });
    m.fun(
        "service_account_subject",
        "`system:serviceaccount:<namespace>:<name>`, the subject a federated credential must name.",
        &["namespace", "service_account"],
        |ns: &str, sa: &str| identity::subject(ns, sa),
    );

    // ---- role assignments -----------------------------------------------------------
    let a = az.clone();
    m.fun("role_assignments", "Role assignments of PRINCIPAL_ID that apply at SCOPE (a resource ID): [#{role, scope, role_definition_id, id}].",
        &["scope", "principal_id"], move |scope: &str, principal: &str| -> ScriptResult<Array> {
            let (s, p) = (scope.to_string(), principal.to_string());
            Ok(to_array(a.call("az: role assignments", |az| async move { roles::assignments(&az, &s, &p).await })?))
        });
    let a = az.clone();
    m.fun("has_role", "True when PRINCIPAL_ID holds ROLE (a name like \"Storage Blob Delegator\") at SCOPE, directly or inherited.",
        &["scope", "principal_id", "role"], move |scope: &str, principal: &str, role: &str| -> ScriptResult<bool> {
            let (s, p, r) = (scope.to_string(), principal.to_string(), role.to_string());
            Ok(a.call("az: role check", |az| async move { roles::has_role(&az, &s, &p, &r).await })?)
        });
    let a = az.clone();
    m.fun("ensure_role", "Assigns ROLE to PRINCIPAL_ID at SCOPE unless already held (only with --create-missing); #{outcome}.",
        &["scope", "principal_id", "role"], move |scope: &str, principal: &str, role: &str| {
            let (s, p, r) = (scope.to_string(), principal.to_string(), role.to_string());
            a.map("az: role assignment", |az| async move { roles::ensure_role(&az, &s, &p, &r).await })
        });

    // ---- Graph ----------------------------------------------------------------------
    let a = az.clone();
    m.fun("app_registration", "Checks the SSO app registration (single tenant, redirect <public_url>/api/auth/callback/azure-ad, email claim): #{found, ok, redirect_uris, findings}.",
        &["client_id", "public_url"], move |client_id: &str, public_url: &str| {
            let (c, u) = (client_id.to_string(), public_url.to_string());
            a.map("az: app registration", |az| async move { graph::app_registration(&az, &c, &u).await })
        });
    m.fun(
        "sso_redirect_uri",
        "The redirect URI Langfuse's Azure AD sign-in uses for a public URL.",
        &["public_url"],
        |url: &str| graph::redirect_uri(url),
    );

    // ---- Blob -----------------------------------------------------------------------
    let a = az.clone();
    m.fun("blob_list", "Blobs in ACCOUNT/CONTAINER whose names start with PREFIX (e.g. \"events/\"): [#{name, size, last_modified}].",
        &["account", "container", "prefix"], move |account: &str, container: &str, prefix: &str| -> ScriptResult<Array> {
            let (acc, c, p) = (account.to_string(), container.to_string(), prefix.to_string());
            Ok(to_array(a.call("az: list blobs", |az| async move { blob::list(&az, &acc, &c, &p).await })?))
        });
    let a = az.clone();
    m.fun(
        "blob_put",
        "Uploads TEXT as blob NAME (a change: planned in a dry run); #{outcome, size}.",
        &["account", "container", "name", "text"],
        move |account: &str, container: &str, name: &str, text: &str| {
            let (acc, c, n, t) = (
                account.to_string(),
                container.to_string(),
                name.to_string(),
                text.to_string(),
            );
            a.map("az: upload blob", |az| async move {
                blob::put(&az, &acc, &c, &n, &t).await
            })
        },
    );
    let a = az.clone();
    m.fun(
        "blob_get",
        "Downloads blob NAME as text.",
        &["account", "container", "name"],
        move |account: &str, container: &str, name: &str| -> ScriptResult<String> {
            let (acc, c, n) = (account.to_string(), container.to_string(), name.to_string());
            Ok(a.call("az: download blob", |az| async move {
                blob::get(&az, &acc, &c, &n).await
            })?)
        },
    );
    let a = az.clone();
    m.fun("user_delegation_sas", "A presigned (user delegation SAS) URL for one blob, as a Secret: PERMISSIONS like \"r\" or \"cw\", valid MINUTES. 403 → missing Storage Blob Delegator.",
        &["account", "container", "name", "permissions", "minutes"], move |account: &str, container: &str, name: &str, permissions: &str, minutes: rhai::INT| -> ScriptResult<Secret> {
            let (acc, c, n, p) = (account.to_string(), container.to_string(), name.to_string(), permissions.to_string());
            Ok(a.call("az: presigned URL", |az| async move { blob::user_delegation_sas(&az, &acc, &c, &n, &p, minutes).await })?)
        });
    m.build()
}
