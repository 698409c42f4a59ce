//! The client runbooks in `examples/` run green on the rehearsal environment.

use crate::test::{repo_root, Test};

fn runbook(name: &str) -> String {
    repo_root()
        .join("examples")
        .join(name)
        .display()
        .to_string()
}

#[test]
fn change_ticket_export_writes_values_history_and_images() {
    let out = Test::new()
        .args([
            runbook("change-ticket.rhai").as_str(),
            "--scenario",
            "healthy",
            "--set",
            "ticket.file=CHG.md",
        ])
        .stdout_has("PASS history")
        .run();
    let ticket = std::fs::read_to_string(out.path("CHG.md")).unwrap();
    assert!(
        ticket.contains("langfuse-web: contosolangfuse.azurecr.io/langfuse-web:"),
        "{ticket}"
    );
    assert!(
        ticket.contains("| 1 | deployed | langfuse-1.5.41"),
        "{ticket}"
    );
    assert!(ticket.contains("secretKeyRef"), "{ticket}");
}

#[test]
fn disk_report_passes_below_and_fails_above_the_threshold() {
    Test::new()
        .args([
            runbook("clickhouse-disk-report.rhai").as_str(),
            "--scenario",
            "healthy",
        ])
        .stdout_has("PASS data-langfuse-clickhouse-shard0-0 below 80%")
        .run();
    Test::new()
        .args([
            runbook("clickhouse-disk-report.rhai").as_str(),
            "--scenario",
            "clickhouse-disk-full",
        ])
        .status(1)
        .stdout_has("FAIL data-langfuse-clickhouse-shard0-0 below 80% — 100.0% used")
        .run();
}

#[test]
fn scale_changes_replicas_through_helm() {
    let out = Test::new()
        .args([
            runbook("scale.rhai").as_str(),
            "--scenario",
            "healthy",
            "--set",
            "scale.web=3",
            "--set",
            "scale.worker=2",
        ])
        .stdout_has("PASS web replicas — 3 ready")
        .run();
    let web = out
        .sim_object("apps/v1/Deployment", "langfuse/langfuse-web")
        .unwrap();
    assert_eq!(web["spec"]["replicas"], 3);
}

#[test]
fn sso_secret_rotation_replaces_only_the_client_secret_and_restarts_web() {
    // deployed with the rehearsal's own client secret …
    let deployed = Test::new()
        .args(["sim", "reset", "--scenario", "healthy"])
        .run();
    // … then rotated to the value the operator exported
    let out = Test::in_dir(deployed.dir)
        .env("LANGFUSE_SSO_CLIENT_SECRET", "rotated-secret-value-0042")
        .args([runbook("rotate-sso-secret.rhai").as_str(), "--yes"])
        .stdout_has("~ changed patch Secret langfuse/langfuse-sso")
        .stdout_has("restart pods")
        .run();
    assert!(
        !out.stdout.contains("rotated-secret-value-0042")
            && !out.stderr.contains("rotated-secret-value-0042")
    );
    let sso = out
        .sim_object("v1/Secret", "langfuse/langfuse-sso")
        .unwrap();
    use base64::Engine as _;
    let value = base64::engine::general_purpose::STANDARD
        .decode(sso["data"]["client-secret"].as_str().unwrap())
        .unwrap();
    assert_eq!(value, b"rotated-secret-value-0042");
}
