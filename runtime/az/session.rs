//! The Azure side of one run: endpoints, credential, Resource Manager client and the
//! subscription, set up on the first `az::` call and shared by all later ones.
//!
//! Also the rules every `ensure_*` primitive follows, kept here so they cannot drift
//! apart: an existing resource is reported as kept; a missing one is created only
//! when creation was asked for (`--create-missing` or `azure.create_missing: true`),
//! and then through `RunContext::change`, so a dry run plans it instead.

use std::future::Future;
use std::sync::Arc;

use serde_json::{json, Value as Json};
use tokio::sync::OnceCell;

use crate::context::RunContext;
use crate::environment::Environment;
use crate::error::{ErrorKind, Failure};
use crate::plan::{Applied, Change};

use super::arm::Arm;
use super::credential::Credential;
use super::endpoints::Endpoints;

pub const SUBSCRIPTIONS_API: &str = "2022-12-01";

pub struct Azure {
    pub run: Arc<RunContext>,
    pub env: Arc<Environment>,
    pub endpoints: Endpoints,
    pub credential: Arc<Credential>,
    pub arm: Arm,
    /// lfrun's HTTP client (no redirects), for Graph, ACR and anything not ARM.
    pub http: reqwest::Client,
    subscription: OnceCell<String>,
}

impl Azure {
    pub fn new(run: Arc<RunContext>) -> Result<Azure, Failure> {
        let env = run.env()?;
        let endpoints = Endpoints::from_config(&run.config)?;
        let credential = Arc::new(Credential::new(&env, &endpoints)?);
        let http = crate::http::client(&env, crate::http::Redirects::Keep)?;
        let arm = Arm::new(
            http.clone(),
            &endpoints.resource_manager,
            credential.clone(),
        );
        Ok(Azure {
            run,
            env,
            endpoints,
            credential,
            arm,
            http,
            subscription: OnceCell::new(),
        })
    }

    /// Whether missing resources may be created.
    pub fn may_create(&self) -> bool {
        self.run.settings.create_missing
            || self.run.config.get_bool("azure.create_missing") == Some(true)
    }

    /// The subscription ID: `azure.subscription` as given when it is an ID, else
    /// looked up by display name among the subscriptions the credential can see.
    pub async fn subscription_id(&self) -> Result<String, Failure> {
        self.subscription
            .get_or_try_init(|| async {
                let wanted = self.run.config.require("azure.subscription").map(crate::config::scalar_text)?;
                if is_guid(&wanted) {
                    return Ok(wanted.to_ascii_lowercase());
                }
                let all = self.arm.list("/subscriptions", SUBSCRIPTIONS_API).await?;
                all.iter()
                    .find(|s| s.get("displayName").and_then(Json::as_str).is_some_and(|n| n.eq_ignore_ascii_case(&wanted)))
                    .and_then(|s| s.get("subscriptionId").and_then(Json::as_str))
                    .map(str::to_string)
                    .ok_or_else(|| {
                        Failure::not_found(format!("no subscription named `{wanted}` is visible to {}", self.credential.describe))
                            .with_hint("check azure.subscription (name or ID); `az account list -o table` lists the ones you can use")
                    })
            })
            .await
            .cloned()
    }

    pub async fn group_id(&self, group: &str) -> Result<String, Failure> {
        Ok(format!(
            "/subscriptions/{}/resourceGroups/{group}",
            self.subscription_id().await?
        ))
    }

    /// `/subscriptions/…/resourceGroups/<group>/providers/<provider_type>/<name>`
    pub async fn resource_id(
        &self,
        group: &str,
        provider_type: &str,
        name: &str,
    ) -> Result<String, Failure> {
        Ok(format!(
            "{}/providers/{provider_type}/{name}",
            self.group_id(group).await?
        ))
    }

    /// The ensure rule: `current` found → kept; missing → created through plan mode
    /// when allowed, else `not_found` saying how to allow it.
    pub async fn ensure<F>(
        &self,
        what: &str,
        id: &str,
        current: Option<Json>,
        change: Change,
        create: F,
    ) -> Result<Json, Failure>
    where
        F: Future<Output = Result<Json, Failure>>,
    {
        if let Some(existing) = current {
            self.run.kept(what, "exists");
            return Ok(json!({"outcome": "kept", "id": id, "resource": existing}));
        }
        if !self.may_create() {
            return Err(Failure::new(ErrorKind::NotFound, format!("{what} does not exist ({id})"))
                .with_hint("create it, or run again with --create-missing (or azure.create_missing: true) to let lfrun create it")
                .with_detail("resource_id", id.to_string()));
        }
        match self.run.change(change, create).await? {
            Applied::Done(created) => {
                Ok(json!({"outcome": "created", "id": id, "resource": created}))
            }
            Applied::Planned => Ok(json!({"outcome": "planned", "id": id})),
        }
    }

    /// The location for new resources: `azure.location`.
    pub fn location(&self) -> Result<String, Failure> {
        self.run
            .config
            .require("azure.location")
            .map(crate::config::scalar_text)
    }
}

pub fn is_guid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() == 5
        && [8, 4, 4, 4, 12]
            .iter()
            .zip(&parts)
            .all(|(n, p)| p.len() == *n && p.chars().all(|c| c.is_ascii_hexdigit()))
}

/// A string field at a JSON pointer ("" when absent).
pub fn text(v: &Json, pointer: &str) -> String {
    v.pointer(pointer)
        .and_then(Json::as_str)
        .unwrap_or_default()
        .to_string()
}
