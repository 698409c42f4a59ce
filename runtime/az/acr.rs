//! Azure Container Registry (guide §2, §6): the registry, whether the cluster may pull
//! from it, and `docker login` without the admin user or any key.
//!
//! "ACR attached" means the AKS kubelet identity holds AcrPull on the registry; that
//! is what `az aks update --attach-acr` sets up, and what image pulls depend on.
//!
//! Login works the way `az acr login` does: an Entra ID access token for Resource
//! Manager is exchanged at the registry's `/oauth2/exchange` for an ACR refresh
//! token, which docker receives on stdin as the password of the all-zero user.

use serde_json::{json, Value as Json};

use crate::error::{ErrorKind, Failure};
use crate::process::Command;
use crate::secret::Secret;

use super::credential::claims;
use super::roles;
use super::session::{text, Azure};

pub const ACR_API: &str = "2023-07-01";
const ACR_TYPE: &str = "Microsoft.ContainerRegistry/registries";
/// The user name docker logs in with when the password is an ACR refresh token.
pub const TOKEN_USER: &str = "00000000-0000-0000-0000-000000000000";
/// Roles that let the kubelet pull.
const PULL_ROLES: &[&str] = &["AcrPull", "AcrPush", "Contributor", "Owner"];

pub async fn acr(az: &Azure, group: &str, name: &str) -> Result<Json, Failure> {
    let id = az.resource_id(group, ACR_TYPE, name).await?;
    let r = az.arm.get(&id, ACR_API).await?;
    let admin = r
        .pointer("/properties/adminUserEnabled")
        .and_then(Json::as_bool)
        .unwrap_or(false);
    let mut findings = Vec::new();
    if admin {
        findings.push(json!({
            "check": "admin_user",
            "problem": format!("the admin user (a shared key) is enabled on registry {name}; the design logs in with Entra ID only"),
            "fix": format!("az acr update -n {name} --admin-enabled false"),
        }));
    }
    Ok(json!({
        "id": id,
        "name": name,
        "login_server": text(&r, "/properties/loginServer"),
        "sku": text(&r, "/sku/name"),
        "admin_user_enabled": admin,
        "findings": findings,
    }))
}

/// Whether the AKS kubelet identity may pull from the registry.
pub async fn attached(
    az: &Azure,
    group: &str,
    aks_name: &str,
    acr_name: &str,
) -> Result<Json, Failure> {
    let cluster = super::aks::aks(az, group, aks_name).await?;
    let kubelet = text(&cluster, "/kubelet_identity/object_id");
    let registry = acr(az, group, acr_name).await?;
    let acr_id = text(&registry, "/id");
    if kubelet.is_empty() {
        return Ok(json!({
            "attached": false, "acr_id": acr_id, "kubelet_object_id": "",
            "evidence": format!("AKS cluster {aks_name} has no kubelet identity (a service principal cluster?)"),
            "fix": format!("az aks update -g {group} -n {aks_name} --attach-acr {acr_name}"),
        }));
    }
    let held = roles::assignments(az, &acr_id, &kubelet).await?;
    let pull = held
        .iter()
        .find(|a| PULL_ROLES.iter().any(|r| text(a, "/role") == *r));
    Ok(match pull {
        Some(a) => json!({
            "attached": true, "acr_id": acr_id, "kubelet_object_id": kubelet,
            "evidence": format!("kubelet identity {kubelet} holds {} on {}", text(a, "/role"), text(a, "/scope")),
        }),
        None => json!({
            "attached": false, "acr_id": acr_id, "kubelet_object_id": kubelet,
            "evidence": format!("kubelet identity {kubelet} of AKS {aks_name} holds no AcrPull on registry {acr_name}"),
            "fix": format!("az aks update -g {group} -n {aks_name} --attach-acr {acr_name}"),
        }),
    })
}

/// Gives the AKS kubelet identity AcrPull on the registry (what `--attach-acr` does).
pub async fn ensure_pull(
    az: &Azure,
    group: &str,
    aks_name: &str,
    acr_name: &str,
) -> Result<Json, Failure> {
    let state = attached(az, group, aks_name, acr_name).await?;
    let kubelet = text(&state, "/kubelet_object_id");
    if kubelet.is_empty() {
        return Err(Failure::invalid(text(&state, "/evidence")).with_hint(text(&state, "/fix")));
    }
    if state.get("attached").and_then(Json::as_bool) == Some(true) {
        az.run.kept(
            &format!("AcrPull on {acr_name} for AKS {aks_name}"),
            &text(&state, "/evidence"),
        );
        return Ok(json!({"outcome": "kept", "evidence": text(&state, "/evidence")}));
    }
    roles::ensure_role(az, &text(&state, "/acr_id"), &kubelet, "AcrPull").await
}

/// An ACR refresh token for `acr`, from the run's Entra ID credential.
pub async fn refresh_token(az: &Azure, acr: &str) -> Result<Secret, Failure> {
    let server = az.endpoints.acr_login_server(acr);
    let aad = az.credential.token(&az.endpoints.arm_scope()).await?;
    let tenant = claims(&aad)?
        .get("tid")
        .and_then(Json::as_str)
        .unwrap_or_default()
        .to_string();
    let url = format!("https://{server}/oauth2/exchange");
    let form = [
        ("grant_type", "access_token"),
        ("service", server.as_str()),
        ("tenant", tenant.as_str()),
        ("access_token", aad.reveal()),
    ];
    let body = form
        .iter()
        .map(|(k, v)| format!("{k}={}", urlencode(v)))
        .collect::<Vec<_>>()
        .join("&");
    let resp = az
        .http
        .post(&url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .map_err(|e| crate::http::send_failure(&format!("ACR token exchange at {server}"), &e))?;
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap_or_default();
    if status != 200 {
        let kind = match status {
            401 | 403 => ErrorKind::Forbidden,
            404 => ErrorKind::NotFound,
            _ => ErrorKind::Unavailable,
        };
        return Err(Failure::new(kind, format!("ACR token exchange at {server} answered {status}: {}", text.chars().take(200).collect::<String>()))
            .with_hint(format!("check that registry {acr} exists and that {} may push/pull to it (AcrPush or Contributor)", az.credential.describe)));
    }
    let json: Json = serde_json::from_str(&text).map_err(|_| {
        Failure::new(
            ErrorKind::Unavailable,
            format!("ACR token exchange at {server}: malformed answer"),
        )
    })?;
    let token = json
        .get("refresh_token")
        .and_then(Json::as_str)
        .ok_or_else(|| {
            Failure::new(
                ErrorKind::Unavailable,
                format!("ACR token exchange at {server}: no refresh_token in the answer"),
            )
        })?;
    Ok(Secret::new(token))
}

/// `docker login <acr>.azurecr.io --username 0000… --password-stdin`.
pub async fn login(az: &Azure, acr: &str) -> Result<Json, Failure> {
    let server = az.endpoints.acr_login_server(acr);
    let token = refresh_token(az, acr).await?;
    let mut cmd = Command::new(az.env.tool("docker"))
        .args([
            "login",
            server.as_str(),
            "--username",
            TOKEN_USER,
            "--password-stdin",
        ])
        .stdin_secret(token);
    for (k, v) in &az.env.tool_env {
        cmd = cmd.env(k, v);
    }
    cmd.run(Some(&az.run.reporter)).await.map_err(|f| {
        let hint = if f.message.contains("credential") || f.message.contains("credsStore") {
            "a docker credential helper failed: check ~/.docker/config.json and remove \"credsStore\": \"desktop\" if present (guide §6 tip)"
        } else {
            "check that docker is running and can reach the registry"
        };
        f.with_hint(hint)
    })?;
    Ok(json!({"outcome": "logged_in", "login_server": server}))
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
