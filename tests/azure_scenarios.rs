//! Each shipped Azure scenario of the rehearsal produces its own finding through the
//! `az::` primitives, and `healthy` produces none; the Langfuse pods' view (workload
//! identity to Blob) and the kubelet's image pulls fail the way they would on AKS.

use lfrun_sim::PrivateRegistryAccess;

use crate::azure_rehearsal::AzureRehearsal;

/// Every Azure check of guide §2–§4, printing `FINDING <check>` for what is wrong.
const CHECKS: &str = r#"
    let rg = "rg-contoso-langfuse-test";
    let c = az::aks(rg, "aks-contoso-langfuse");
    for f in c.findings { print(`FINDING ${f.check}: ${f.problem} | fix: ${f.fix}`); }
    let a = az::acr_attached(rg, "aks-contoso-langfuse", "contosolangfuse");
    if !a.attached { print(`FINDING acr_attached: ${a.evidence} | fix: ${a.fix}`); }
    let st = az::storage_account(rg, "contosolangfusest");
    for f in st.findings { print(`FINDING ${f.check}: ${f.problem}`); }
    let id = az::identity(rg, "id-contoso-langfuse");
    let container = `${st.id}/blobServices/default/containers/langfuse`;
    if !az::has_role(container, id.principal_id, "Storage Blob Data Contributor") { print("FINDING data_role: missing Storage Blob Data Contributor"); }
    if !az::has_role(st.id, id.principal_id, "Storage Blob Delegator") { print("FINDING delegator_role: missing Storage Blob Delegator"); }
    if c.oidc_issuer_enabled {
        let f = az::check_federated_credential(rg, "id-contoso-langfuse", c.oidc_issuer_url, az::service_account_subject("langfuse", "langfuse"));
        if !f.ok { print(`FINDING federated: ${f.evidence}`); }
    }
    let app = az::app_registration("5d1e7a00-0000-4000-8000-00000000a11d", "https://langfuse.contoso.example");
    for f in app.findings { print(`FINDING ${f.check}: ${f.problem} | fix: ${f.fix}`); }
    print("CHECKS DONE");
"#;

/// The checks' findings, as the set of check names.
fn findings(scenario: &str) -> (Vec<String>, String) {
    let az = AzureRehearsal::start(scenario);
    let out = az.test(CHECKS).stdout_has("CHECKS DONE").run();
    let mut checks: Vec<String> = out
        .stdout
        .lines()
        .filter_map(|l| l.trim().strip_prefix("FINDING "))
        .map(|l| l.split(':').next().unwrap_or_default().to_string())
        .collect();
    checks.sort();
    (checks, out.stdout)
}

#[test]
fn healthy_has_no_finding() {
    let (checks, out) = findings("healthy");
    assert!(checks.is_empty(), "healthy should pass every check:\n{out}");
}

#[test]
fn missing_delegator_role_is_found() {
    let (checks, out) = findings("missing-delegator-role");
    assert_eq!(checks, ["delegator_role"], "{out}");
}

#[test]
fn acr_not_attached_is_found_with_the_attach_command() {
    let (checks, out) = findings("acr-not-attached");
    assert_eq!(checks, ["acr_attached"], "{out}");
    assert!(out.contains("az aks update -g rg-contoso-langfuse-test -n aks-contoso-langfuse --attach-acr contosolangfuse"), "{out}");
}

#[test]
fn oidc_disabled_is_found() {
    let (checks, out) = findings("oidc-disabled");
    assert_eq!(checks, ["oidc_issuer", "workload_identity"], "{out}");
    assert!(out.contains("--enable-oidc-issuer"), "{out}");
}

#[test]
fn federated_subject_mismatch_shows_both_values() {
    let (checks, out) = findings("federated-subject-mismatch");
    assert_eq!(checks, ["federated"], "{out}");
    assert!(out.contains("subject is `system:serviceaccount:langfuse:default`, expected `system:serviceaccount:langfuse:langfuse`"), "{out}");
    // ensuring it fails with both values, and changes nothing unless asked
    let az = AzureRehearsal::start("federated-subject-mismatch");
    az.test(
        r#"
        let issuer = az::aks("rg-contoso-langfuse-test", "aks-contoso-langfuse").oidc_issuer_url;
        let fixed = az::ensure_federated_credential("rg-contoso-langfuse-test", "id-contoso-langfuse", "langfuse", issuer, "system:serviceaccount:langfuse:langfuse");
        print(`fixed ${fixed.outcome}`);
        "#,
    )
    .arg("--create-missing")
    .stdout_has("fixed updated")
    .run();
    az.test(
        r#"
        let issuer = az::aks("rg-contoso-langfuse-test", "aks-contoso-langfuse").oidc_issuer_url;
        try {
            az::ensure_federated_credential("rg-contoso-langfuse-test", "id-contoso-langfuse", "langfuse", issuer, "system:serviceaccount:langfuse:other");
        } catch (e) { print(`${e.kind}: found ${e.found_subject} expected ${e.expected_subject}`); }
        "#,
    )
    .stdout_has("conflict: found system:serviceaccount:langfuse:langfuse expected system:serviceaccount:langfuse:other")
    .run();
}

#[test]
fn sso_redirect_mismatch_is_found_with_the_fix() {
    let (checks, out) = findings("sso-redirect-mismatch");
    assert_eq!(checks, ["redirect_uri"], "{out}");
    assert!(
        out.contains(
            "https://langfuse.contoso.example/api/auth/callback/azure-ad is not registered"
        ),
        "{out}"
    );
    assert!(out.contains("Authentication → Web → Add URI"), "{out}");
}

#[test]
fn the_app_registration_missing_or_misconfigured_lists_each_piece() {
    let az = AzureRehearsal::with_azure(
        "app_registration:\n  sign_in_audience: AzureADMultipleOrgs\n  email_claim: false",
    );
    az.test(
        r#"
        let app = az::app_registration("5d1e7a00-0000-4000-8000-00000000a11d", "https://langfuse.contoso.example");
        for f in app.findings { print(`FINDING ${f.check}`); }
        let none = az::app_registration("00000000-0000-4000-8000-000000000000", "https://langfuse.contoso.example");
        print(`found ${none.found}: ${none.findings[0].problem}`);
        "#,
    )
    .stdout_has("FINDING single_tenant")
    .stdout_has("FINDING email_claim")
    .stdout_lacks("FINDING redirect_uri")
    .stdout_has("found false: no app registration with client id")
    .run();
}

#[test]
fn the_pods_presigned_urls_fail_without_the_delegator_role() {
    let script = r#"
        let r = az::blob_put("contosolangfusest", "langfuse", "media/probe.txt", "hello");
        print(`upload ${r.outcome}`);
        try {
            az::user_delegation_sas("contosolangfusest", "langfuse", "media/probe.txt", "r", 10);
            print("presign ok");
        } catch (e) { print(`presign ${e.kind}: ${e.message}`); }
    "#;
    let az = AzureRehearsal::start("missing-delegator-role");
    let pod = az.pod_credential(&az.identity_client_id());
    az.test_with_config(&az.config_with_credential(&pod), script)
        .stdout_has("upload uploaded")
        .stdout_has("presign forbidden")
        .stdout_has("missing Storage Blob Delegator role")
        .run();
    let az = AzureRehearsal::start("healthy");
    let pod = az.pod_credential(&az.identity_client_id());
    az.test_with_config(&az.config_with_credential(&pod), script)
        .stdout_has("presign ok")
        .run();
    let access = az.azure(|s| {
        lfrun_sim::azure::workload_blob_access(
            s,
            &s.identities.values().next().unwrap().client_id,
            "langfuse",
            "langfuse",
            "contosolangfusest",
            "langfuse",
        )
    });
    assert!(
        access.token.is_ok() && access.write.is_ok() && access.presign.is_ok(),
        "{access:?}"
    );
}

#[test]
fn the_pods_get_no_token_when_the_federated_subject_differs() {
    let az = AzureRehearsal::start("federated-subject-mismatch");
    let pod = az.pod_credential(&az.identity_client_id());
    az.test_with_config(
        &az.config_with_credential(&pod),
        r#"az::blob_list("contosolangfusest", "langfuse", "events/");"#,
    )
    .status(1)
    .stderr_has("AADSTS70021")
    .run();
    let access = az.azure(|s| {
        lfrun_sim::azure::workload_blob_access(
            s,
            &s.identities.values().next().unwrap().client_id,
            "langfuse",
            "langfuse",
            "contosolangfusest",
            "langfuse",
        )
    });
    assert!(
        access
            .token
            .as_ref()
            .is_err_and(|e| e.contains("AADSTS70021")),
        "{access:?}"
    );
}

#[test]
fn the_kubelet_may_pull_only_when_acr_is_attached() {
    for (scenario, allowed) in [("healthy", true), ("acr-not-attached", false)] {
        let az = AzureRehearsal::start(scenario);
        let result = az.world().read(|w| {
            lfrun_sim::azure::AcrPullAccess.kubelet_may_pull(
                w,
                "contosolangfuse.azurecr.io",
                "langfuse-web",
            )
        });
        assert_eq!(result.is_ok(), allowed, "{scenario}: {result:?}");
    }
}

#[test]
fn ensure_acr_pull_attaches_the_registry_when_asked() {
    let az = AzureRehearsal::start("acr-not-attached");
    let script = r#"
        try { az::ensure_acr_pull("rg-contoso-langfuse-test", "aks-contoso-langfuse", "contosolangfuse"); }
        catch (e) { print(`${e.kind}: ${e.hint}`); }
    "#;
    az.test(script)
        .stdout_has("not_found: az role assignment create")
        .stdout_has("--role \"AcrPull\"")
        .run();
    az.test(r#"print(`acr pull ${az::ensure_acr_pull("rg-contoso-langfuse-test", "aks-contoso-langfuse", "contosolangfuse").outcome}`);"#)
        .arg("--create-missing")
        .stdout_has("acr pull created")
        .run();
    az.test(r#"print(`attached ${az::acr_attached("rg-contoso-langfuse-test", "aks-contoso-langfuse", "contosolangfuse").attached}`);"#)
        .stdout_has("attached true")
        .run();
    let pull = az.world().read(|w| {
        lfrun_sim::azure::AcrPullAccess.kubelet_may_pull(
            w,
            "contosolangfuse.azurecr.io",
            "langfuse-web",
        )
    });
    assert!(pull.is_ok(), "{pull:?}");
}

#[test]
fn a_client_with_its_own_names_rehearses_them() {
    let names = "azure:\n  resource_group: rg-fabrikam-obs\n  aks_cluster: aks-fabrikam\n  acr: fabrikamacr\n  storage_account: fabrikamst\n  managed_identity: id-fabrikam\nlangfuse:\n  public_url: https://obs.fabrikam.example\n";
    let az = AzureRehearsal::start_with("sso-redirect-mismatch", Some(names));
    assert!(
        az.info.resolve.contains_key("fabrikamacr.azurecr.io")
            && az
                .info
                .resolve
                .contains_key("fabrikamst.blob.core.windows.net"),
        "{:?}",
        az.info.resolve
    );
    az.test(
        r#"
        let c = az::aks("rg-fabrikam-obs", "aks-fabrikam");
        print(`aks ${c.oidc_issuer_enabled}`);
        print(`acr ${az::acr("rg-fabrikam-obs", "fabrikamacr").login_server}`);
        print(`attached ${az::acr_attached("rg-fabrikam-obs", "aks-fabrikam", "fabrikamacr").attached}`);
        let app = az::app_registration("5d1e7a00-0000-4000-8000-00000000a11d", "https://obs.fabrikam.example");
        print(`app ${app.findings.map(|f| f.check)}`);
        print(`blobs ${az::blob_list("fabrikamst", "langfuse", "").len()}`);
        "#,
    )
    .stdout_has("aks true")
    .stdout_has("acr fabrikamacr.azurecr.io")
    .stdout_has("attached true")
    .stdout_has(r#"app ["redirect_uri"]"#)
    .stdout_has("blobs 0")
    .run();
}
