//! Helm's release storage format, for scenario faults that stage a release state (a stuck
//! `pending-upgrade`) and for tests that read releases without the helm binary.
//!
//! Helm stores each revision of a release in a Secret named `sh.helm.release.v1.<name>.v<N>`
//! (type `helm.sh/release.v1`, labels `owner=helm`, `name`, `status`, `version`). Its
//! `data.release` holds base64(gzip(JSON of the release)) — and since Secret data is itself
//! base64 in the API, the value in the JSON object is base64 twice.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use serde_json::Value;
use std::io::{Read, Write};

/// Decodes `data.release` of a release Secret as served by the API (outer base64 included).
pub fn decode(secret_data_release: &str) -> Result<Value, String> {
    let helm_encoded = STANDARD
        .decode(secret_data_release.trim())
        .map_err(|e| format!("secret data is not base64: {e}"))?;
    let gz = STANDARD
        .decode(helm_encoded.trim_ascii())
        .map_err(|e| format!("release is not base64: {e}"))?;
    let json_bytes = if gz.starts_with(&[0x1f, 0x8b, 0x08]) {
        let mut out = Vec::new();
        GzDecoder::new(&gz[..])
            .read_to_end(&mut out)
            .map_err(|e| format!("release is not gzip: {e}"))?;
        out
    } else {
        gz
    };
    serde_json::from_slice(&json_bytes).map_err(|e| format!("release is not JSON: {e}"))
}

/// Encodes a release for `data.release` (outer base64 included).
pub fn encode(release: &Value) -> String {
    let json = serde_json::to_vec(release).unwrap_or_default();
    let mut gz = GzEncoder::new(Vec::new(), flate2::Compression::best());
    let _ = gz.write_all(&json);
    let compressed = gz.finish().unwrap_or_default();
    let helm_encoded = STANDARD.encode(compressed);
    STANDARD.encode(helm_encoded)
}

/// The release Secrets of `release` in `namespace`, newest revision last.
pub fn release_secrets<'a>(
    world: &'a crate::world::World,
    namespace: &'a str,
    release: &str,
) -> Vec<&'a Value> {
    let mut secrets: Vec<&Value> = world
        .kube
        .list("v1/Secret", Some(namespace))
        .filter(|s| {
            s["metadata"]["labels"]["owner"] == "helm" && s["metadata"]["labels"]["name"] == release
        })
        .collect();
    secrets.sort_by_key(|s| {
        s["metadata"]["labels"]["version"]
            .as_str()
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    });
    secrets
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let release =
            serde_json::json!({"name": "langfuse", "version": 2, "info": {"status": "deployed"}});
        assert_eq!(decode(&encode(&release)).unwrap(), release);
    }
}
