//! The validate playbook (guide §9) against healthy and broken deployments.

use crate::test::{playbook, Test};

#[test]
fn healthy_deployment_passes_every_check() {
    Test::new()
        .args([playbook("validate").as_str(), "--scenario", "healthy"])
        .stdout_has("PASS pods running and ready")
        .stdout_has("PASS SSO sign-in redirects to Entra ID — 302 to Entra ID with redirect_uri https://langfuse.contoso.example/api/auth/callback/azure-ad")
        .stdout_has("PASS trace lands under events/ in Blob")
        .stdout_has("PASS trace readable through the API")
        .stdout_has("PASS presigned media upload and download")
        .stdout_lacks("FAIL")
        .run();
}

#[test]
fn missing_delegator_role_fails_the_presigned_media_check_only() {
    let out = Test::new()
        .args([
            playbook("validate").as_str(),
            "--scenario",
            "missing-delegator-role",
        ])
        .status(1)
        .stdout_has("FAIL presigned media upload and download")
        .stdout_has("PASS trace lands under events/ in Blob")
        .run();
    assert_eq!(out.stdout.matches("FAIL").count(), 1, "{}", out.stdout);
}

#[test]
fn redirect_mismatch_fails_the_sso_check() {
    Test::new()
        .args([
            playbook("validate").as_str(),
            "--scenario",
            "sso-redirect-mismatch",
        ])
        .status(1)
        .stdout_has(
            "FAIL SSO sign-in redirects to Entra ID — Entra ID refused the sign-in: HTTP 400",
        )
        .run();
}

#[test]
fn full_clickhouse_disk_fails_the_trace_read_back() {
    Test::new()
        .args([
            playbook("validate").as_str(),
            "--scenario",
            "clickhouse-disk-full",
        ])
        .status(1)
        .stdout_has("FAIL trace readable through the API")
        .stdout_has("not found")
        .run();
}
