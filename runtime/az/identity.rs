//! The user-assigned managed identity the Langfuse pods run as (guide §2), and its
//! federated identity credential (guide §3).
//!
//! Workload identity works only when the federated credential's issuer is the AKS
//! cluster's OIDC issuer URL, its subject is the pods' service account
//! (`system:serviceaccount:<namespace>:<name>`) and its audience is
//! `api://AzureADTokenExchange`. A credential that differs in any of them is the
//! classic silent failure (pods get no token), so a mismatch is reported with both
//! the value found and the value expected.

use serde_json::{json, Value as Json};

use crate::error::{ErrorKind, Failure};
use crate::plan::Change;

use super::session::{text, Azure};

pub const IDENTITY_API: &str = "2023-01-31";
const IDENTITY_TYPE: &str = "Microsoft.ManagedIdentity/userAssignedIdentities";
pub const AUDIENCE: &str = "api://AzureADTokenExchange";

fn identity_view(i: &Json) -> Json {
    json!({
        "id": text(i, "/id"),
        "name": text(i, "/name"),
        "location": text(i, "/location"),
        "client_id": text(i, "/properties/clientId"),
        "principal_id": text(i, "/properties/principalId"),
        "tenant_id": text(i, "/properties/tenantId"),
    })
}

pub async fn identity(az: &Azure, group: &str, name: &str) -> Result<Json, Failure> {
    let id = az.resource_id(group, IDENTITY_TYPE, name).await?;
    Ok(identity_view(&az.arm.get(&id, IDENTITY_API).await?))
}

pub async fn ensure_identity(az: &Azure, group: &str, name: &str) -> Result<Json, Failure> {
    let id = az.resource_id(group, IDENTITY_TYPE, name).await?;
    let current = az
        .arm
        .find(&id, IDENTITY_API)
        .await?
        .map(|i| identity_view(&i));
    let location = if current.is_none() {
        az.location()?
    } else {
        String::new()
    };
    let body = json!({"location": location});
    let change = Change::new("create managed identity", &id).detail(format!("location {location}"));
    let mut out = az
        .ensure(
            &format!("managed identity {name}"),
            &id,
            current,
            change,
            async {
                az.arm
                    .put(&id, IDENTITY_API, &body)
                    .await
                    .map(|i| identity_view(&i))
            },
        )
        .await?;
    // scripts want the ids at the top level, as `identity()` gives them
    if let Some(resource) = out.get("resource").cloned() {
        for key in ["client_id", "principal_id", "tenant_id"] {
            out[key] = resource.get(key).cloned().unwrap_or(Json::Null);
        }
    }
    Ok(out)
}

fn credential_view(f: &Json) -> Json {
    json!({
        "id": text(f, "/id"),
        "name": text(f, "/name"),
        "issuer": text(f, "/properties/issuer"),
        "subject": text(f, "/properties/subject"),
        "audiences": f.pointer("/properties/audiences").cloned().unwrap_or(json!([])),
    })
}

pub async fn federated_credentials(
    az: &Azure,
    group: &str,
    identity: &str,
) -> Result<Vec<Json>, Failure> {
    let id = az.resource_id(group, IDENTITY_TYPE, identity).await?;
    let items = az
        .arm
        .list(&format!("{id}/federatedIdentityCredentials"), IDENTITY_API)
        .await?;
    Ok(items.iter().map(credential_view).collect())
}

/// The service account subject: `system:serviceaccount:<namespace>:<name>`.
pub fn subject(namespace: &str, service_account: &str) -> String {
    format!("system:serviceaccount:{namespace}:{service_account}")
}

/// How the existing credentials compare with the wanted issuer and subject.
pub enum Comparison {
    /// One credential matches exactly.
    Matches(Json),
    /// None matches; this one is the closest (same name, or same issuer/subject).
    Mismatch(Json),
    Missing,
}

pub fn compare(existing: &[Json], name: &str, issuer: &str, subject: &str) -> Comparison {
    let has_audience = |c: &Json| {
        c.get("audiences")
            .and_then(Json::as_array)
            .is_some_and(|a| a.iter().any(|x| x.as_str() == Some(AUDIENCE)))
    };
    let same_issuer =
        |c: &Json| text(c, "/issuer").trim_end_matches('/') == issuer.trim_end_matches('/');
    if let Some(c) = existing
        .iter()
        .find(|c| same_issuer(c) && text(c, "/subject") == subject && has_audience(c))
    {
        return Comparison::Matches(c.clone());
    }
    let closest = existing
        .iter()
        .find(|c| text(c, "/name") == name)
        .or_else(|| {
            existing
                .iter()
                .find(|c| same_issuer(c) || text(c, "/subject") == subject)
        })
        .or(existing.first());
    match closest {
        Some(c) => Comparison::Mismatch(c.clone()),
        None => Comparison::Missing,
    }
}

fn mismatch_failure(identity: &str, found: &Json, issuer: &str, subject: &str) -> Failure {
    let mut diffs = Vec::new();
    if text(found, "/issuer").trim_end_matches('/') != issuer.trim_end_matches('/') {
        diffs.push(format!(
            "issuer is `{}`, expected `{issuer}`",
            text(found, "/issuer")
        ));
    }
    if text(found, "/subject") != subject {
        diffs.push(format!(
            "subject is `{}`, expected `{subject}`",
            text(found, "/subject")
        ));
    }
    let audiences = found.get("audiences").cloned().unwrap_or(json!([]));
    if !audiences
        .as_array()
        .is_some_and(|a| a.iter().any(|x| x.as_str() == Some(AUDIENCE)))
    {
        diffs.push(format!(
            "audiences are {audiences}, expected [\"{AUDIENCE}\"]"
        ));
    }
    let name = text(found, "/name");
    Failure::new(
        ErrorKind::Conflict,
        format!("federated credential `{name}` on identity {identity} does not match: {}", diffs.join("; ")),
    )
    .with_hint(format!(
        "az identity federated-credential update --identity-name {identity} -g <resource group> -n {name} --issuer {issuer} --subject {subject} --audiences {AUDIENCE}   (or run again with --create-missing)"
    ))
    .with_detail("found_issuer", text(found, "/issuer"))
    .with_detail("found_subject", text(found, "/subject"))
    .with_detail("expected_issuer", issuer.to_string())
    .with_detail("expected_subject", subject.to_string())
}

/// Checks the wiring without changing anything: `#{ok, evidence, found, expected…}`.
pub async fn check_federated_credential(
    az: &Azure,
    group: &str,
    identity: &str,
    issuer: &str,
    subject: &str,
) -> Result<Json, Failure> {
    let existing = federated_credentials(az, group, identity).await?;
    Ok(match compare(&existing, "", issuer, subject) {
        Comparison::Matches(c) => json!({"ok": true, "name": text(&c, "/name"),
            "evidence": format!("federated credential `{}` trusts {subject} from {issuer}", text(&c, "/name"))}),
        Comparison::Mismatch(c) => {
            let f = mismatch_failure(identity, &c, issuer, subject);
            json!({"ok": false, "name": text(&c, "/name"), "evidence": f.message, "fix": f.hint,
                "found_issuer": text(&c, "/issuer"), "found_subject": text(&c, "/subject"),
                "expected_issuer": issuer, "expected_subject": subject})
        }
        Comparison::Missing => json!({"ok": false, "name": "",
            "evidence": format!("identity {identity} has no federated credential"),
            "fix": format!("az identity federated-credential create --identity-name {identity} -g {group} -n langfuse --issuer {issuer} --subject {subject} --audiences {AUDIENCE}"),
            "found_issuer": "", "found_subject": "", "expected_issuer": issuer, "expected_subject": subject}),
    })
}

/// Ensures a federated credential named `name` with this issuer and subject.
pub async fn ensure_federated_credential(
    az: &Azure,
    group: &str,
    identity: &str,
    name: &str,
    issuer: &str,
    subject: &str,
) -> Result<Json, Failure> {
    if issuer.is_empty() {
        return Err(Failure::invalid("the OIDC issuer URL is empty: the AKS cluster's OIDC issuer is not enabled")
            .with_hint("az aks update -g <resource group> -n <cluster> --enable-oidc-issuer --enable-workload-identity"));
    }
    let existing = federated_credentials(az, group, identity).await?;
    let what = format!("federated credential {name} on {identity}");
    let body =
        json!({"properties": {"issuer": issuer, "subject": subject, "audiences": [AUDIENCE]}});
    let id = format!(
        "{}/federatedIdentityCredentials/{name}",
        az.resource_id(group, IDENTITY_TYPE, identity).await?
    );
    let (action, current) = match compare(&existing, name, issuer, subject) {
        Comparison::Matches(c) => {
            az.run
                .kept(&what, &format!("issuer {issuer}, subject {subject}"));
            return Ok(
                json!({"outcome": "kept", "name": text(&c, "/name"), "issuer": issuer, "subject": subject}),
            );
        }
        Comparison::Mismatch(c) => {
            if !az.may_create() {
                return Err(mismatch_failure(identity, &c, issuer, subject));
            }
            if text(&c, "/name") == name {
                ("update federated credential", Some(c))
            } else {
                ("create federated credential", None)
            }
        }
        Comparison::Missing => {
            if !az.may_create() {
                return Err(Failure::new(ErrorKind::NotFound, format!("{what} does not exist"))
                    .with_hint(format!("az identity federated-credential create --identity-name {identity} -g {group} -n {name} --issuer {issuer} --subject {subject} --audiences {AUDIENCE}   (or run again with --create-missing)")));
            }
            ("create federated credential", None)
        }
    };
    let detail = match &current {
        Some(c) => format!(
            "issuer {} → {issuer}\nsubject {} → {subject}",
            text(c, "/issuer"),
            text(c, "/subject")
        ),
        None => format!("issuer {issuer}, subject {subject}, audience {AUDIENCE}"),
    };
    let applied = az
        .run
        .change(Change::new(action, &id).detail(detail), async {
            az.arm.put(&id, IDENTITY_API, &body).await
        })
        .await?;
    let verb = if current.is_some() {
        "updated"
    } else {
        "created"
    };
    Ok(
        json!({"outcome": applied.outcome(verb), "name": name, "issuer": issuer, "subject": subject}),
    )
}
