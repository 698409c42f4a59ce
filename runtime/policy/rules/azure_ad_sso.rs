//! `azure-ad-sso` — every user signs in with Azure AD (guide §1, §4, §8).
//!
//! The web pods need the app registration's client id and secret from the
//! `langfuse-sso` secret, the tenant id, and username/password sign-in switched
//! off — otherwise anyone who finds the URL can create a local account. The
//! chart's own `langfuse.auth.providers.azureAd` form is accepted as well as the
//! guide's `additionalEnv` form.

use serde_json::Value as Json;

use crate::policy::manifests::langfuse;
use crate::policy::rule::{Finding, Rule, Severity};
use crate::policy::{tree, Context};

pub const RULE: Rule = Rule {
    id: "azure-ad-sso",
    severity: Severity::Error,
    summary: "AUTH_AZURE_AD_CLIENT_ID/_CLIENT_SECRET from a secret, AUTH_AZURE_AD_TENANT_ID set, AUTH_DISABLE_USERNAME_PASSWORD=true (guide §4, §8)",
    values,
    manifests,
};

/// The four settings as the web pod would get them: `(name, from_secret, literal)`.
struct Sso {
    entries: Vec<(String, bool, Option<String>)>,
}

impl Sso {
    fn get(&self, name: &str) -> Option<&(String, bool, Option<String>)> {
        self.entries.iter().rev().find(|(n, _, _)| n == name)
    }

    fn findings(&self, place: &str) -> Vec<Finding> {
        let mut out = Vec::new();
        for name in ["AUTH_AZURE_AD_CLIENT_ID", "AUTH_AZURE_AD_CLIENT_SECRET"] {
            match self.get(name) {
                Some((_, true, _)) => {}
                Some(_) => out.push(Finding::new(
                    format!("{place}: {name} is not taken from a secret"),
                    format!("set {name} with valueFrom.secretKeyRef on the langfuse-sso secret (guide §5, §8)"),
                )),
                None => out.push(Finding::new(
                    format!("{place}: {name} is missing: Azure AD sign-in is not configured"),
                    format!("add {name} from the langfuse-sso secret (guide §8)"),
                )),
            }
        }
        match self.get("AUTH_AZURE_AD_TENANT_ID") {
            Some((_, true, _)) => {}
            Some((_, false, Some(v))) if !v.is_empty() => {}
            _ => out.push(Finding::new(
                format!("{place}: AUTH_AZURE_AD_TENANT_ID is not set"),
                "set AUTH_AZURE_AD_TENANT_ID to the directory (tenant) id (guide §4, §8)",
            )),
        }
        match self.get("AUTH_DISABLE_USERNAME_PASSWORD") {
            Some((_, _, Some(v))) if v == "true" => {}
            _ => out.push(Finding::new(
                format!("{place}: username/password sign-in is not disabled"),
                "set AUTH_DISABLE_USERNAME_PASSWORD to \"true\" (guide §8)",
            )),
        }
        out
    }
}

fn from_values(values: &Json) -> Sso {
    let mut entries = Vec::new();
    for path in [
        &["langfuse", "additionalEnv"][..],
        &["langfuse", "web", "pod", "additionalEnv"][..],
    ] {
        for e in tree::at(values, path)
            .and_then(|v| v.as_array())
            .into_iter()
            .flatten()
        {
            entries.push((
                tree::env_name(e).to_string(),
                tree::env_from_secret(e),
                tree::env_value(e),
            ));
        }
    }
    // the chart's native form: langfuse.auth.providers.azureAd.{clientId, clientSecret, tenantId}
    let provider = tree::at(values, &["langfuse", "auth", "providers", "azureAd"]);
    for (key, name) in [
        ("clientId", "AUTH_AZURE_AD_CLIENT_ID"),
        ("clientSecret", "AUTH_AZURE_AD_CLIENT_SECRET"),
        ("tenantId", "AUTH_AZURE_AD_TENANT_ID"),
    ] {
        if let Some(v) = provider.and_then(|p| p.get(key)) {
            let from_secret = v["secretKeyRef"]["name"]
                .as_str()
                .is_some_and(|s| !s.is_empty());
            entries.push((name.to_string(), from_secret, v.as_str().map(String::from)));
        }
    }
    if let Some(v) = tree::at(values, &["langfuse", "auth", "disableUsernamePassword"]) {
        let text = v
            .as_str()
            .map(String::from)
            .unwrap_or_else(|| v.to_string());
        entries.push(("AUTH_DISABLE_USERNAME_PASSWORD".into(), false, Some(text)));
    }
    Sso { entries }
}

fn values(values: &Json, _: &Context) -> Vec<Finding> {
    from_values(values).findings("values")
}

fn manifests(manifests: &[Json], _: &Context) -> Vec<Finding> {
    let Some(web) = langfuse(manifests, "web") else {
        return Vec::new();
    };
    let entries = web
        .env()
        .into_iter()
        .map(|(_, e)| {
            (
                tree::env_name(e).to_string(),
                tree::env_from_secret(e),
                tree::env_value(e),
            )
        })
        .collect();
    Sso { entries }.findings(&web.id())
}
