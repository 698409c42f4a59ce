//! Values handed to helm as a temporary YAML file.
//!
//! The values may hold secrets (a password a client chose to keep in values), so
//! they never go on helm's command line, where any user of the machine can read
//! them in the process list. The file is created with mode 0600 and removed when
//! the [`ValuesFile`] is dropped: after helm finished, when helm failed, and when
//! the run was cancelled (the future owning it is dropped).

use std::io::Write;
use std::path::Path;

use serde_json::Value as Json;
use tempfile::NamedTempFile;

use crate::error::Failure;

/// A values file on disk for as long as this value lives.
pub struct ValuesFile {
    file: NamedTempFile,
}

impl ValuesFile {
    /// Writes `values` (with secrets exposed: this file is for helm only) as YAML.
    pub fn write(values: &Json) -> Result<ValuesFile, Failure> {
        let text = serde_yaml::to_string(values)
            .map_err(|e| Failure::invalid(format!("cannot serialise helm values: {e}")))?;
        let unwritable = |e: std::io::Error| {
            Failure::config(format!("cannot write a temporary values file: {e}"))
        };
        let mut file = tempfile::Builder::new()
            .prefix("lfrun-values-")
            .suffix(".yaml")
            .tempfile()
            .map_err(unwritable)?;
        restrict(file.path()).map_err(unwritable)?;
        file.write_all(text.as_bytes()).map_err(unwritable)?;
        file.flush().map_err(unwritable)?;
        Ok(ValuesFile { file })
    }

    pub fn path(&self) -> &Path {
        self.file.path()
    }
}

#[cfg(unix)]
fn restrict(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
}

#[cfg(not(unix))]
fn restrict(_path: &Path) -> std::io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_is_private_and_removed_on_drop() {
        let values = serde_json::json!({"langfuse": {"web": {"image": {"tag": "1234567"}}}});
        let file = ValuesFile::write(&values).unwrap();
        let path = file.path().to_path_buf();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.contains("'1234567'"),
            "a numeric-looking SHA stays a string: {text}"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        drop(file);
        assert!(!path.exists());
    }
}
