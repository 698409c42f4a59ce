//! The doctor playbook (guide §10): against each failure scenario it names that
//! failure mode and no other; against healthy it finds nothing.

use crate::test::{playbook, Test};

fn diagnose(scenario: &str) -> Vec<String> {
    let out = Test::new()
        .args([playbook("doctor").as_str(), "--scenario", scenario])
        .status(1)
        .run();
    out.stdout
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("✗ "))
        .filter_map(|l| l.split(':').next().map(str::to_string))
        .collect()
}

#[test]
fn healthy_deployment_has_no_findings() {
    Test::new()
        .args([playbook("doctor").as_str(), "--scenario", "healthy"])
        .stdout_has("PASS known failure modes — none found")
        .run();
}

#[test]
fn each_failure_scenario_is_named_and_nothing_else() {
    let expected = [
        ("clickhouse-disk-full", "clickhouse-disk-full"),
        ("no-volume-expansion", "no-volume-expansion"),
        ("image-missing", "image-missing"),
        ("db-not-ready", "db-not-ready"),
        ("helm-pending-upgrade", "release-pending"),
        ("missing-delegator-role", "presigned-url-403"),
        ("acr-not-attached", "acr-not-attached"),
        ("oidc-disabled", "oidc-disabled"),
        (
            "federated-subject-mismatch",
            "federated-credential-mismatch",
        ),
        ("sso-redirect-mismatch", "state-cookie-missing"),
    ];
    for (scenario, mode) in expected {
        assert_eq!(
            diagnose(scenario),
            vec![mode.to_string()],
            "scenario {scenario}"
        );
    }
}

#[test]
fn flaky_api_is_survived_and_finds_nothing() {
    Test::new()
        .args([playbook("doctor").as_str(), "--scenario", "api-flaky"])
        .stdout_has("PASS known failure modes — none found")
        .run();
}

#[test]
fn doctor_offers_the_fixing_playbook_and_runs_it_with_yes() {
    let out = Test::new()
        .args([
            playbook("doctor").as_str(),
            "--scenario",
            "clickhouse-disk-full",
            "--set",
            "clickhouse.disk=100Gi",
            "--yes",
        ])
        .status(1)
        .stdout_has("running playbook")
        .stdout_has("PASS data-langfuse-clickhouse-shard0-0 capacity")
        .run();
    let pvc = out
        .sim_object(
            "v1/PersistentVolumeClaim",
            "langfuse/data-langfuse-clickhouse-shard0-0",
        )
        .unwrap();
    assert_eq!(pvc["status"]["capacity"]["storage"], "100Gi");
}
