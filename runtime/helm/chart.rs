//! Which chart to install: the official chart, pinned to the version in the config.
//!
//! The guide allows the official chart only (§1), so install and upgrade never
//! take "the latest": `chart.version` from the config is required and passed to
//! helm every time. When the environment has a chart mirror (air-gapped installs,
//! the rehearsal) holding `<name>-<version>.tgz`, that archive is used instead of
//! the repository, so nothing is downloaded.

use std::path::{Path, PathBuf};

use crate::config::Config;
use crate::error::Failure;

/// The official chart repository (guide §7, §13).
pub const OFFICIAL_REPOSITORY: &str = "https://langfuse.github.io/langfuse-k8s";
/// The official chart's name.
pub const OFFICIAL_NAME: &str = "langfuse";

/// A chart as the config names it: repository, name, pinned version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChartRef {
    pub repository: String,
    pub name: String,
    pub version: String,
}

impl ChartRef {
    /// The chart from `chart.repository`, `chart.name` (official defaults) and the
    /// required `chart.version`.
    pub fn from_config(config: &Config) -> Result<ChartRef, Failure> {
        let version = config
            .require("chart.version")
            .map(crate::config::scalar_text)?;
        Ok(ChartRef {
            repository: config
                .get_str("chart.repository")
                .unwrap_or_else(|| OFFICIAL_REPOSITORY.into()),
            name: config
                .get_str("chart.name")
                .unwrap_or_else(|| OFFICIAL_NAME.into()),
            version,
        })
    }

    /// `langfuse 1.5.41`.
    pub fn describe(&self) -> String {
        format!("{} {}", self.name, self.version)
    }
}

/// Where helm takes the chart from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChartSource {
    /// A local archive or chart directory (mirror, or a path given explicitly).
    Local(PathBuf),
    /// A chart repository: `helm … NAME --repo URL --version V`.
    Repository(ChartRef),
}

impl ChartSource {
    /// The pinned chart: the mirror's archive when it has this version, else the repository.
    pub fn resolve(chart: &ChartRef, mirror: Option<&Path>) -> ChartSource {
        if let Some(dir) = mirror {
            let archive = dir.join(format!("{}-{}.tgz", chart.name, chart.version));
            if archive.is_file() {
                return ChartSource::Local(archive);
            }
        }
        ChartSource::Repository(chart.clone())
    }

    /// A chart given by a script or on the command line: an existing path, or
    /// `NAME` / `REPO/NAME` at `version` (with `repository` for a bare name).
    pub fn from_argument(
        chart: &str,
        version: Option<&str>,
        repository: Option<&str>,
        mirror: Option<&Path>,
    ) -> Result<ChartSource, Failure> {
        let path = Path::new(chart);
        if path.exists() {
            return Ok(ChartSource::Local(path.to_path_buf()));
        }
        let looks_like_path = chart.ends_with(".tgz")
            || chart.starts_with('.')
            || chart.starts_with('/')
            || chart.matches('/').count() > 1;
        if looks_like_path {
            return Err(Failure::not_found(format!(
                "chart {chart} does not exist"
            ))
            .with_hint("give the path of a chart archive (.tgz) or directory, or a chart name such as langfuse/langfuse"));
        }
        let Some(version) = version.filter(|v| !v.is_empty()) else {
            return Err(Failure::invalid(format!(
                "chart {chart}: a version is required (charts are always pinned)"
            ))
            .with_hint("pass the chart version, e.g. 1.5.41"));
        };
        let name = chart.rsplit('/').next().unwrap_or(chart).to_string();
        let chart_ref = ChartRef {
            repository: if chart.contains('/') {
                // a repo alias (`langfuse/langfuse`): helm resolves it from `helm repo add`
                String::new()
            } else {
                repository.unwrap_or(OFFICIAL_REPOSITORY).to_string()
            },
            name: if chart.contains('/') {
                chart.to_string()
            } else {
                name.clone()
            },
            version: version.to_string(),
        };
        if let Some(dir) = mirror {
            let archive = dir.join(format!("{name}-{version}.tgz"));
            if archive.is_file() {
                return Ok(ChartSource::Local(archive));
            }
        }
        Ok(ChartSource::Repository(chart_ref))
    }

    /// The chart arguments for `helm install|upgrade|template|show|pull`.
    pub fn args(&self) -> Vec<String> {
        match self {
            ChartSource::Local(path) => vec![path.display().to_string()],
            ChartSource::Repository(chart) => {
                let mut args = vec![chart.name.clone()];
                if !chart.repository.is_empty() {
                    args.push("--repo".into());
                    args.push(chart.repository.clone());
                }
                args.push("--version".into());
                args.push(chart.version.clone());
                args
            }
        }
    }

    /// For messages: the archive path, or `langfuse 1.5.41 from https://…`.
    pub fn describe(&self) -> String {
        match self {
            ChartSource::Local(path) => path.display().to_string(),
            ChartSource::Repository(c) if c.repository.is_empty() => {
                format!("{} {}", c.name, c.version)
            }
            ChartSource::Repository(c) => format!("{} {} from {}", c.name, c.version, c.repository),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pinned() -> ChartRef {
        ChartRef {
            repository: OFFICIAL_REPOSITORY.into(),
            name: "langfuse".into(),
            version: "1.5.41".into(),
        }
    }

    #[test]
    fn repository_args_always_pin_the_version() {
        let source = ChartSource::resolve(&pinned(), None);
        assert_eq!(
            source.args(),
            [
                "langfuse",
                "--repo",
                OFFICIAL_REPOSITORY,
                "--version",
                "1.5.41"
            ]
        );
    }

    #[test]
    fn mirror_archive_is_preferred_when_it_has_the_version() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("langfuse-1.5.41.tgz"), b"x").unwrap();
        let source = ChartSource::resolve(&pinned(), Some(dir.path()));
        assert_eq!(
            source,
            ChartSource::Local(dir.path().join("langfuse-1.5.41.tgz"))
        );
        let other = ChartRef {
            version: "1.5.40".into(),
            ..pinned()
        };
        assert!(matches!(
            ChartSource::resolve(&other, Some(dir.path())),
            ChartSource::Repository(_)
        ));
    }

    #[test]
    fn argument_paths_must_exist_and_names_need_a_version() {
        let missing = ChartSource::from_argument("./nope/langfuse-9.tgz", None, None, None);
        assert_eq!(missing.unwrap_err().kind, crate::error::ErrorKind::NotFound);
        let unpinned = ChartSource::from_argument("langfuse/langfuse", None, None, None);
        assert_eq!(unpinned.unwrap_err().kind, crate::error::ErrorKind::Invalid);
        let alias = ChartSource::from_argument("langfuse/langfuse", Some("1.5.41"), None, None);
        assert_eq!(
            alias.unwrap().args(),
            ["langfuse/langfuse", "--version", "1.5.41"]
        );
    }
}
