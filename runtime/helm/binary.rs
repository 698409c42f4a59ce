//! Finding the helm binary and learning its version, once per run.
//!
//! Helm 3 and Helm 4 differ in a few flags lfrun uses (how to wait, how to dry-run),
//! so every command is built knowing the major version (`args.rs`). The guide asks
//! for Helm 3.14 or newer (§0); Helm 4 is supported as well. Anything older, or a
//! helm that does not run, is `tool_missing` with how to install a good one.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use crate::error::{ErrorKind, Failure};
use crate::process::Command;

/// The oldest helm the guide supports (§0).
pub const MINIMUM: Version = Version {
    major: 3,
    minor: 14,
    patch: 0,
};

/// Where to get helm, for `tool_missing` hints.
pub const INSTALL_HINT: &str = "install helm 3.14+ or 4.x (https://helm.sh/docs/intro/install/), \
     or set its path under `tools.helm` in the config";

/// A helm version, e.g. 3.17.3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version {
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
}

impl Version {
    /// Parses `v3.17.3`, `3.17.3`, `v4.1.4+g05fa379`.
    pub fn parse(text: &str) -> Option<Version> {
        let text = text.trim().trim_start_matches('v');
        let core = text.split(['+', '-']).next()?;
        let mut parts = core.split('.').map(|p| p.parse::<u32>());
        Some(Version {
            major: parts.next()?.ok()?,
            minor: parts.next().unwrap_or(Ok(0)).ok()?,
            patch: parts.next().unwrap_or(Ok(0)).ok()?,
        })
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// A helm binary known to work, with its version and the environment it runs with.
#[derive(Debug, Clone)]
pub struct HelmBinary {
    pub path: PathBuf,
    pub version: Version,
    /// Extra environment for every helm process (e.g. HELM_CACHE_HOME in a rehearsal).
    pub env: BTreeMap<String, String>,
}

impl HelmBinary {
    /// Runs `helm version` and checks the version is supported.
    pub async fn detect(
        path: PathBuf,
        env: BTreeMap<String, String>,
    ) -> Result<HelmBinary, Failure> {
        let mut command = Command::new(&path).args(["version", "--template", "{{.Version}}"]);
        for (k, v) in &env {
            command = command.env(k, v);
        }
        let output = command.output(None).await.map_err(|f| match f.kind {
            ErrorKind::ToolMissing => Failure::new(
                ErrorKind::ToolMissing,
                format!("helm was not found ({})", path.display()),
            )
            .with_hint(INSTALL_HINT),
            _ => f,
        })?;
        if output.code != 0 {
            return Err(Failure::new(
                ErrorKind::ToolMissing,
                format!(
                    "`{} version` failed (exit {}): {}",
                    path.display(),
                    output.code,
                    crate::process::stderr_tail(&output.stderr)
                ),
            )
            .with_hint(INSTALL_HINT));
        }
        let version = Version::parse(&output.stdout).ok_or_else(|| {
            Failure::new(
                ErrorKind::ToolMissing,
                format!("cannot read helm's version from `{}`", output.stdout.trim()),
            )
            .with_hint(INSTALL_HINT)
        })?;
        check_supported(version)?;
        Ok(HelmBinary { path, version, env })
    }

    /// A helm command with the binary and its environment set.
    pub fn command(&self) -> Command {
        let mut command = Command::new(&self.path);
        for (k, v) in &self.env {
            command = command.env(k, v);
        }
        command
    }
}

/// Helm 3.14+ and 4.x are supported.
pub fn check_supported(version: Version) -> Result<(), Failure> {
    if version < MINIMUM {
        return Err(Failure::new(
            ErrorKind::ToolMissing,
            format!("helm {version} is too old: lfrun needs helm {MINIMUM} or newer"),
        )
        .with_hint(INSTALL_HINT));
    }
    if version.major > 4 {
        return Err(Failure::new(
            ErrorKind::ToolMissing,
            format!("helm {version} is not supported yet: lfrun knows helm 3 and helm 4"),
        )
        .with_hint(INSTALL_HINT));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_helm_version_strings() {
        assert_eq!(
            Version::parse("v3.17.3"),
            Some(Version {
                major: 3,
                minor: 17,
                patch: 3
            })
        );
        assert_eq!(Version::parse("v4.1.4+g05fa379").unwrap().major, 4);
        assert_eq!(Version::parse("garbage"), None);
    }

    #[test]
    fn supports_3_14_and_4_only() {
        assert!(check_supported(Version::parse("3.14.0").unwrap()).is_ok());
        assert!(check_supported(Version::parse("4.1.4").unwrap()).is_ok());
        let old = check_supported(Version::parse("3.13.9").unwrap()).unwrap_err();
        assert_eq!(old.kind, ErrorKind::ToolMissing);
        assert!(old.message.contains("too old"));
        assert!(check_supported(Version::parse("5.0.0").unwrap()).is_err());
    }
}
