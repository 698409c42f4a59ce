//! Helm's release records, read straight from the cluster.
//!
//! Helm (3 and 4, with the default `secret` storage driver) keeps every revision
//! of a release as a Secret `sh.helm.release.v1.<release>.v<N>`, labelled
//! `owner=helm,name=<release>`, whose `release` key holds base64 of gzip of the
//! release as JSON. Reading those directly gives `helm history` — and, more to
//! the point, a release stuck in `pending-upgrade` — without the helm binary,
//! without a second client configuration, and in one list request. Read-only:
//! writing releases stays helm's job.

use std::io::Read;

use base64::Engine;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, ListParams};
use serde_json::{json, Value as Json};

use crate::error::Failure;
use crate::kube::errors::{api_failure, Object};
use crate::kube::Cluster;

/// Decodes the `release` value of a helm release secret (as stored: base64 text
/// of gzip of JSON; older helm versions may skip the gzip).
pub fn decode_release(stored: &[u8]) -> Result<Json, String> {
    let text: Vec<u8> = stored
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    let raw = base64::engine::general_purpose::STANDARD
        .decode(&text)
        .map_err(|e| format!("not base64: {e}"))?;
    let json_bytes = if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(raw.as_slice())
            .read_to_end(&mut out)
            .map_err(|e| format!("not gzip: {e}"))?;
        out
    } else {
        raw
    };
    serde_json::from_slice(&json_bytes).map_err(|e| format!("not a release document: {e}"))
}

fn is_pending(status: &str) -> bool {
    status.starts_with("pending-")
}

/// One history entry, shaped like a row of `helm history`.
pub fn entry(release: &Json) -> Json {
    let meta = &release["chart"]["metadata"];
    let text = |v: &Json| v.as_str().unwrap_or("").to_string();
    let (chart_name, chart_version) = (text(&meta["name"]), text(&meta["version"]));
    let status = text(&release["info"]["status"]);
    json!({
        "name": release["name"],
        "namespace": release["namespace"],
        "revision": release["version"].as_i64().unwrap_or(0),
        "status": status,
        "pending": is_pending(&status),
        "chart": if chart_version.is_empty() { chart_name.clone() } else { format!("{chart_name}-{chart_version}") },
        "chart_name": chart_name,
        "chart_version": chart_version,
        "app_version": text(&meta["appVersion"]),
        "updated": text(&release["info"]["last_deployed"]),
        "first_deployed": text(&release["info"]["first_deployed"]),
        "description": text(&release["info"]["description"]),
    })
}

/// Every revision of `release` in `namespace` ("" for every release), decoded,
/// oldest first.
async fn records(cluster: &Cluster, namespace: &str, release: &str) -> Result<Vec<Json>, Failure> {
    let mut selector = "owner=helm".to_string();
    if !release.is_empty() {
        selector.push_str(&format!(",name={release}"));
    }
    let api: Api<Secret> = Api::namespaced(cluster.client.clone(), namespace);
    let what = Object::new("helm release Secret", namespace, "");
    let secrets = api
        .list(&ListParams::default().labels(&selector))
        .await
        .map_err(|e| api_failure(e, "list", &what, &cluster.server))?
        .items;
    let mut out = Vec::new();
    for secret in secrets {
        let name = secret.metadata.name.clone().unwrap_or_default();
        if !name.starts_with("sh.helm.release.v1.") {
            continue;
        }
        let Some(stored) = secret.data.as_ref().and_then(|d| d.get("release")) else {
            continue;
        };
        let release = decode_release(&stored.0).map_err(|e| {
            Failure::invalid(format!("Secret {namespace}/{name}: the helm release record is unreadable: {e}"))
                .with_hint("helm itself will fail on it too; see `helm history` and consider deleting that revision's secret")
        })?;
        out.push(release);
    }
    out.sort_by_key(|r| r["version"].as_i64().unwrap_or(0));
    Ok(out)
}

fn no_release(namespace: &str, release: &str) -> Failure {
    Failure::not_found(format!(
        "helm release {release} not found in namespace {namespace}"
    ))
    .with_hint(
        "it has not been installed yet (or was uninstalled); check the release name and namespace",
    )
}

/// `helm history`: every revision, oldest first; empty when the release does not
/// exist (so a check can ask "is anything pending?" without a try).
pub async fn history(
    cluster: &Cluster,
    namespace: &str,
    release: &str,
) -> Result<Vec<Json>, Failure> {
    let all = records(cluster, namespace, release).await?;
    Ok(all.iter().map(entry).collect())
}

/// The latest revision, with its user-supplied values (`helm get values`).
pub async fn latest(cluster: &Cluster, namespace: &str, release: &str) -> Result<Json, Failure> {
    let all = records(cluster, namespace, release).await?;
    let last = all.last().ok_or_else(|| no_release(namespace, release))?;
    let mut out = entry(last);
    out["values"] = last
        .get("config")
        .cloned()
        .filter(|v| !v.is_null())
        .unwrap_or_else(|| json!({}));
    Ok(out)
}

/// `helm list`: the latest revision of every release in the namespace.
pub async fn releases(cluster: &Cluster, namespace: &str) -> Result<Vec<Json>, Failure> {
    let all = records(cluster, namespace, "").await?;
    let mut latest: std::collections::BTreeMap<String, &Json> = std::collections::BTreeMap::new();
    for r in &all {
        let name = r["name"].as_str().unwrap_or("").to_string();
        let newer = latest
            .get(&name)
            .is_none_or(|seen| seen["version"].as_i64() <= r["version"].as_i64());
        if newer {
            latest.insert(name, r);
        }
    }
    Ok(latest.values().map(|r| entry(r)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn stored(release: &Json) -> Vec<u8> {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(release.to_string().as_bytes()).unwrap();
        base64::engine::general_purpose::STANDARD
            .encode(gz.finish().unwrap())
            .into_bytes()
    }

    #[test]
    fn decodes_a_release_record() {
        let release = json!({
            "name": "langfuse", "namespace": "langfuse", "version": 3,
            "info": {"status": "pending-upgrade", "last_deployed": "2026-12-03T10:00:00Z", "description": "Upgrade in progress"},
            "chart": {"metadata": {"name": "langfuse", "version": "1.5.41", "appVersion": "3.224.1"}},
            "config": {"langfuse": {"web": {"image": {"tag": "abc1234"}}}}
        });
        let decoded = decode_release(&stored(&release)).unwrap();
        let e = entry(&decoded);
        assert_eq!(e["revision"], 3);
        assert_eq!(e["chart"], "langfuse-1.5.41");
        assert_eq!(e["app_version"], "3.224.1");
        assert_eq!(e["pending"], true);
        assert_eq!(e["description"], "Upgrade in progress");
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(decode_release(b"!!!").is_err());
        assert!(decode_release(
            base64::engine::general_purpose::STANDARD
                .encode([0x1f, 0x8b, 1])
                .as_bytes()
        )
        .is_err());
    }
}
