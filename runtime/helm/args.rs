//! Building helm's argv, per major version.
//!
//! Everything helm is told goes through these functions, so the differences
//! between Helm 3 and Helm 4 live in one place:
//!
//! | what                  | Helm 3        | Helm 4                   |
//! | --------------------- | ------------- | ------------------------ |
//! | wait for readiness    | `--wait`      | `--wait=watcher`         |
//! | roll back on failure  | `--atomic`    | `--rollback-on-failure`  |
//! | apply method          | client-side   | server-side (`auto`)     |
//!
//! Helm 4 picks server-side apply for new releases and keeps a release's method on
//! upgrade and rollback (`--server-side=auto`, its default), so lfrun does not pass
//! it. Values are always given as a file (`-f`), never as `--set`, so no value —
//! secret or not — is ever on the command line, and a git SHA such as `1234567`
//! stays a string.

use std::path::Path;

use crate::environment::Environment;

/// Flags that point helm at the cluster and namespace of the run's environment.
pub fn cluster(env: &Environment, namespace: &str) -> Vec<String> {
    let mut args = vec!["--namespace".to_string(), namespace.to_string()];
    if let Some(path) = &env.kubeconfig {
        args.push("--kubeconfig".into());
        args.push(path.display().to_string());
    }
    if let Some(context) = &env.kube_context {
        args.push("--kube-context".into());
        args.push(context.clone());
    }
    args
}

/// How an install, upgrade or rollback waits.
#[derive(Debug, Clone, Copy, Default)]
pub struct Waiting {
    /// Wait until the release's resources are ready.
    pub wait: bool,
    /// Roll the release back when it fails (implies waiting).
    pub atomic: bool,
    /// Seconds helm may take for any one operation.
    pub timeout_seconds: u64,
}

impl Waiting {
    fn args(&self, major: u32) -> Vec<String> {
        let mut args = Vec::new();
        if self.atomic {
            args.push(if major >= 4 {
                "--rollback-on-failure".into()
            } else {
                "--atomic".into()
            });
        }
        if self.wait || self.atomic {
            args.push(if major >= 4 {
                "--wait=watcher".into()
            } else {
                "--wait".into()
            });
        }
        if self.timeout_seconds > 0 {
            args.push("--timeout".into());
            args.push(format!("{}s", self.timeout_seconds));
        }
        args
    }
}

/// `helm install RELEASE CHART -f VALUES`.
pub fn install(
    major: u32,
    release: &str,
    chart: &[String],
    values_file: &Path,
    waiting: Waiting,
) -> Vec<String> {
    let mut args = vec!["install".to_string(), release.to_string()];
    args.extend(chart.iter().cloned());
    args.push("--values".into());
    args.push(values_file.display().to_string());
    args.extend(waiting.args(major));
    args
}

/// `helm upgrade RELEASE CHART -f VALUES`, or with `--reuse-values` first so the
/// file only overrides (the guide's §11 `--reuse-values --set …`).
pub fn upgrade(
    major: u32,
    release: &str,
    chart: &[String],
    values_file: &Path,
    reuse_values: bool,
    waiting: Waiting,
) -> Vec<String> {
    let mut args = vec!["upgrade".to_string(), release.to_string()];
    args.extend(chart.iter().cloned());
    if reuse_values {
        args.push("--reuse-values".into());
    } else {
        // values-file mode: exactly the file's values, never what a previous
        // `--reuse-values` run left behind
        args.push("--reset-values".into());
    }
    args.push("--values".into());
    args.push(values_file.display().to_string());
    args.extend(waiting.args(major));
    args
}

/// `helm rollback RELEASE REVISION` (revision 0: the previous one).
pub fn rollback(major: u32, release: &str, revision: i64, waiting: Waiting) -> Vec<String> {
    let mut args = vec![
        "rollback".to_string(),
        release.to_string(),
        revision.to_string(),
    ];
    args.extend(waiting.args(major));
    args
}

/// `helm template RELEASE CHART -f VALUES` (offline rendering).
pub fn template(
    release: &str,
    namespace: &str,
    chart: &[String],
    values_file: &Path,
) -> Vec<String> {
    let mut args = vec!["template".to_string(), release.to_string()];
    args.extend(chart.iter().cloned());
    args.extend([
        "--namespace".to_string(),
        namespace.to_string(),
        "--values".to_string(),
        values_file.display().to_string(),
    ]);
    args
}

/// `helm history RELEASE -o json`.
pub fn history(release: &str) -> Vec<String> {
    vec![
        "history".into(),
        release.into(),
        "--max".into(),
        "256".into(),
        "--output".into(),
        "json".into(),
    ]
}

/// `helm status RELEASE -o json`.
pub fn status(release: &str) -> Vec<String> {
    vec![
        "status".into(),
        release.into(),
        "--output".into(),
        "json".into(),
    ]
}

/// `helm get values RELEASE -o json` (the values the user supplied).
pub fn get_values(release: &str) -> Vec<String> {
    vec![
        "get".into(),
        "values".into(),
        release.into(),
        "--output".into(),
        "json".into(),
    ]
}

/// `helm show values CHART` / `helm show chart CHART`.
pub fn show(what: &str, chart: &[String]) -> Vec<String> {
    let mut args = vec!["show".to_string(), what.to_string()];
    args.extend(chart.iter().cloned());
    args
}

/// `helm pull CHART --destination DIR`.
pub fn pull(chart: &[String], destination: &Path) -> Vec<String> {
    let mut args = vec!["pull".to_string()];
    args.extend(chart.iter().cloned());
    args.push("--destination".into());
    args.push(destination.display().to_string());
    args
}

/// `helm repo add NAME URL`.
pub fn repo_add(name: &str, url: &str) -> Vec<String> {
    vec!["repo".into(), "add".into(), name.into(), url.into()]
}

/// `helm repo list -o json`.
pub fn repo_list() -> Vec<String> {
    vec![
        "repo".into(),
        "list".into(),
        "--output".into(),
        "json".into(),
    ]
}

/// `helm repo update [NAME…]`.
pub fn repo_update(names: &[String]) -> Vec<String> {
    let mut args = vec!["repo".to_string(), "update".to_string()];
    args.extend(names.iter().cloned());
    args
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chart() -> Vec<String> {
        vec!["/charts/langfuse-1.5.41.tgz".into()]
    }

    #[test]
    fn wait_flags_differ_by_major() {
        let w = Waiting {
            wait: true,
            atomic: true,
            timeout_seconds: 600,
        };
        let v3 = upgrade(3, "langfuse", &chart(), Path::new("/tmp/v.yaml"), false, w);
        assert!(v3.contains(&"--atomic".into()) && v3.contains(&"--wait".into()));
        let v4 = upgrade(4, "langfuse", &chart(), Path::new("/tmp/v.yaml"), false, w);
        assert!(v4.contains(&"--rollback-on-failure".into()));
        assert!(v4.contains(&"--wait=watcher".into()));
        assert!(v4.ends_with(&["--timeout".into(), "600s".into()]));
    }

    #[test]
    fn upgrade_modes() {
        let w = Waiting::default();
        let file = Path::new("/tmp/v.yaml");
        let reuse = upgrade(3, "langfuse", &chart(), file, true, w);
        assert_eq!(
            reuse,
            [
                "upgrade",
                "langfuse",
                "/charts/langfuse-1.5.41.tgz",
                "--reuse-values",
                "--values",
                "/tmp/v.yaml"
            ]
        );
        let values = upgrade(3, "langfuse", &chart(), file, false, w);
        assert!(values.contains(&"--reset-values".into()));
        assert!(!values.iter().any(|a| a.starts_with("--set")));
    }

    #[test]
    fn cluster_flags_come_from_the_environment() {
        let env = Environment {
            kubeconfig: Some("/k/config".into()),
            kube_context: Some("sim".into()),
            ..Environment::default()
        };
        assert_eq!(
            cluster(&env, "langfuse"),
            [
                "--namespace",
                "langfuse",
                "--kubeconfig",
                "/k/config",
                "--kube-context",
                "sim"
            ]
        );
    }
}
