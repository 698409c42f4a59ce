//! Reading a chart archive: its metadata and its default values, subcharts included.
//!
//! `helm show values` prints the parent chart's `values.yaml` only, but a key such
//! as `clickhouse.persistence.size` is a default of the vendored ClickHouse
//! subchart. Chart drift (`policy/drift.rs`) needs everything a chart version
//! knows, so the archive is read directly: the parent's values, and each
//! dependency's values under its alias (`redis` for valkey), recursively.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use serde_json::Value as Json;

use crate::error::Failure;

/// What a chart version declares.
#[derive(Debug, Clone)]
pub struct ChartArchive {
    /// `Chart.yaml`, as JSON.
    pub metadata: Json,
    /// Every default value, subcharts merged in under their aliases.
    pub defaults: Json,
    /// Dependencies (by alias) whose subchart is not in the archive (e.g. a `-nodeps` package).
    pub missing_subcharts: Vec<String>,
}

impl ChartArchive {
    pub fn name(&self) -> &str {
        self.metadata["name"].as_str().unwrap_or("")
    }

    pub fn version(&self) -> &str {
        self.metadata["version"].as_str().unwrap_or("")
    }

    /// `home` and `sources` of Chart.yaml, where a chart says where it comes from.
    pub fn sources(&self) -> Vec<String> {
        let mut out: Vec<String> = self.metadata["sources"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default();
        if let Some(home) = self.metadata["home"].as_str() {
            out.push(home.to_string());
        }
        out
    }

    /// Reads a packaged chart (`.tgz`) or a chart directory.
    pub fn read(path: &Path) -> Result<ChartArchive, Failure> {
        let files = if path.is_dir() {
            directory_files(path, path)?
        } else {
            let bytes = std::fs::read(path).map_err(|e| {
                Failure::not_found(format!("cannot read chart {}: {e}", path.display()))
            })?;
            archive_files(&bytes).map_err(|e| {
                Failure::invalid(format!("{} is not a chart archive: {e}", path.display()))
            })?
        };
        from_files(&files, &path.display().to_string())
    }
}

/// Files of a chart, by path relative to the chart's root (`Chart.yaml`, `charts/x/values.yaml`).
type Files = BTreeMap<String, Vec<u8>>;

fn archive_files(gzipped: &[u8]) -> std::io::Result<Files> {
    let mut files = Files::new();
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(gzipped));
    for entry in archive.entries()? {
        let mut entry = entry?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let path = entry.path()?.to_string_lossy().to_string();
        // strip the chart's own top folder (`langfuse/Chart.yaml` → `Chart.yaml`)
        let Some((_, rel)) = path.split_once('/') else {
            continue;
        };
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes)?;
        files.insert(rel.to_string(), bytes);
    }
    Ok(files)
}

fn directory_files(root: &Path, dir: &Path) -> Result<Files, Failure> {
    let mut files = Files::new();
    let entries = std::fs::read_dir(dir).map_err(|e| {
        Failure::not_found(format!(
            "cannot read chart directory {}: {e}",
            dir.display()
        ))
    })?;
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(directory_files(root, &path)?);
        } else if let Ok(bytes) = std::fs::read(&path) {
            let rel = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .to_string_lossy()
                .to_string();
            files.insert(rel, bytes);
        }
    }
    Ok(files)
}

fn yaml(files: &Files, name: &str, what: &str) -> Result<Json, Failure> {
    match files.get(name) {
        None => Ok(Json::Null),
        Some(bytes) => {
            let v: Json = serde_yaml::from_slice(bytes)
                .map_err(|e| Failure::invalid(format!("{what}: {name} is not valid YAML: {e}")))?;
            Ok(v)
        }
    }
}

fn from_files(files: &Files, what: &str) -> Result<ChartArchive, Failure> {
    let metadata = yaml(files, "Chart.yaml", what)?;
    if !metadata.is_object() {
        return Err(Failure::invalid(format!(
            "{what} has no Chart.yaml: it is not a chart"
        )));
    }
    let mut defaults = match yaml(files, "values.yaml", what)? {
        Json::Null => Json::Object(Default::default()),
        v => v,
    };
    let mut missing = Vec::new();
    let dependencies = metadata["dependencies"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for dep in dependencies {
        let Some(name) = dep["name"].as_str() else {
            continue;
        };
        let key = dep["alias"].as_str().unwrap_or(name).to_string();
        let Some(sub) = subchart(files, name, what)? else {
            missing.push(key);
            continue;
        };
        missing.extend(sub.missing_subcharts.iter().map(|m| format!("{key}.{m}")));
        let parent_part = defaults.get(&key).cloned().unwrap_or(Json::Null);
        let merged = crate::helm::deploy::merge(&sub.defaults, &parent_part);
        if let Some(map) = defaults.as_object_mut() {
            map.insert(key, merged);
        }
    }
    Ok(ChartArchive {
        metadata,
        defaults,
        missing_subcharts: missing,
    })
}

/// The subchart `name` under `charts/`: a folder, or a nested archive.
fn subchart(files: &Files, name: &str, what: &str) -> Result<Option<ChartArchive>, Failure> {
    let prefix = format!("charts/{name}/");
    let nested: Files = files
        .iter()
        .filter_map(|(p, b)| {
            p.strip_prefix(&prefix)
                .map(|rel| (rel.to_string(), b.clone()))
        })
        .collect();
    if !nested.is_empty() {
        return from_files(&nested, what).map(Some);
    }
    let packaged = files
        .iter()
        .find(|(p, _)| p.starts_with(&format!("charts/{name}-")) && p.ends_with(".tgz"));
    if let Some((_, bytes)) = packaged {
        let inner = archive_files(bytes).map_err(|e| {
            Failure::invalid(format!("{what}: subchart {name} is not an archive: {e}"))
        })?;
        return from_files(&inner, what).map(Some);
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directory_chart_with_a_vendored_subchart() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::write(
            root.join("Chart.yaml"),
            "name: top\nversion: 1.0.0\ndependencies:\n- name: valkey\n  alias: redis\n- name: gone\n",
        )
        .unwrap();
        std::fs::write(root.join("values.yaml"), "redis:\n  deploy: true\n").unwrap();
        std::fs::create_dir_all(root.join("charts/valkey")).unwrap();
        std::fs::write(
            root.join("charts/valkey/Chart.yaml"),
            "name: valkey\nversion: 2.0.0\n",
        )
        .unwrap();
        std::fs::write(
            root.join("charts/valkey/values.yaml"),
            "primary:\n  persistence:\n    size: 8Gi\n",
        )
        .unwrap();
        let chart = ChartArchive::read(root).unwrap();
        assert_eq!(chart.name(), "top");
        assert_eq!(chart.defaults["redis"]["deploy"], true);
        assert_eq!(
            chart.defaults["redis"]["primary"]["persistence"]["size"],
            "8Gi"
        );
        assert_eq!(chart.missing_subcharts, ["gone"]);
    }
}
