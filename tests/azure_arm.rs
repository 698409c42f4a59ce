//! `az::` identity and Resource Manager primitives against the rehearsal's Azure:
//! token acquisition through workload identity, the healthy world read back, missing
//! resources reported and created only when asked (and planned in a dry run),
//! permissions, throttling and long-running operations.

use crate::azure_rehearsal::AzureRehearsal;

const RG: &str = "rg-contoso-langfuse-test";

#[test]
fn whoami_gets_a_token_through_workload_identity() {
    let az = AzureRehearsal::start("healthy");
    let operator = az.azure(|s| s.operator.object_id.clone());
    az.test(
        r#"
        let me = az::whoami();
        print(`tenant ${me.tenant_id}`);
        print(`principal ${me.principal_id} ${me.principal_type}`);
        print(`credential ${me.credential}`);
        let sub = az::subscription();
        print(`subscription ${sub.id} ${sub.state}`);
        "#,
    )
    .stdout_has("tenant 72f988bf-0000-4000-8000-00000000c0de")
    .stdout_has(&format!("principal {operator} ServicePrincipal"))
    .stdout_has("credential workload identity")
    .stdout_has("subscription 3f1c2d4e-0000-4000-8000-0000000005ab Enabled")
    .stdout_lacks("eyJ")
    .run();
}

#[test]
fn a_wrong_token_file_is_a_clear_forbidden_error() {
    let az = AzureRehearsal::start("healthy");
    let config = az.config_with_credential(&format!(
        "kind: workload_identity\n    tenant_id: {}\n    client_id: {}\n    token_file: /nonexistent/token",
        az.info.operator.tenant_id, az.info.operator.client_id
    ));
    az.test_with_config(&config, "az::whoami();")
        .status(1)
        .stderr_has("token file /nonexistent/token cannot be read")
        .run();
    // a token whose issuer/subject the operator app does not trust: Entra ID's AADSTS70021
    let pod = az.pod_credential(&az.info.operator.client_id);
    az.test_with_config(&az.config_with_credential(&pod), "az::whoami();")
        .status(1)
        .stderr_has("could not get an Azure token")
        .stderr_has("AADSTS70021")
        .stderr_has("federated credential (issuer, subject")
        .run();
}

#[test]
fn the_healthy_world_reads_back_as_the_guide_wants_it() {
    let az = AzureRehearsal::start("healthy");
    az.test(&format!(
        r#"
        let c = az::aks("{RG}", "aks-contoso-langfuse");
        print(`oidc ${{c.oidc_issuer_enabled}} wi ${{c.workload_identity_enabled}} findings ${{c.findings.len()}}`);
        print(`issuer ${{c.oidc_issuer_url}}`);
        print(`node ${{c.node_size}} version ${{c.kubernetes_version}} kubelet ${{c.kubelet_identity.object_id != ""}}`);
        let r = az::acr("{RG}", "contosolangfuse");
        print(`acr ${{r.login_server}} admin ${{r.admin_user_enabled}}`);
        let a = az::acr_attached("{RG}", "aks-contoso-langfuse", "contosolangfuse");
        print(`attached ${{a.attached}}: ${{a.evidence}}`);
        let st = az::storage_account("{RG}", "contosolangfusest");
        print(`storage ${{st.kind}} ${{st.sku}} shared_key ${{st.allow_shared_key_access}} findings ${{st.findings.len()}}`);
        print(`container ${{az::container("{RG}", "contosolangfusest", "langfuse").name}}`);
        let id = az::identity("{RG}", "id-contoso-langfuse");
        print(`identity client ${{id.client_id != ""}} principal ${{id.principal_id != ""}}`);
        let roles = az::role_assignments(st.id, id.principal_id).map(|a| a.role);
        roles.sort();
        print(`roles ${{roles}}`);
        print(`delegator ${{az::has_role(st.id, id.principal_id, "Storage Blob Delegator")}}`);
        let subject = az::service_account_subject("langfuse", "langfuse");
        let f = az::check_federated_credential("{RG}", "id-contoso-langfuse", c.oidc_issuer_url, subject);
        print(`federated ${{f.ok}}: ${{f.evidence}}`);
        let app = az::app_registration("5d1e7a00-0000-4000-8000-00000000a11d", "https://langfuse.contoso.example");
        print(`app ${{app.found}} ok ${{app.ok}} ${{app.redirect_uris}}`);
        let kc = az::aks_credentials("{RG}", "aks-contoso-langfuse");
        print(`kubeconfig ${{type_of(kc)}}`);
        "#
    ))
    .stdout_has("oidc true wi true findings 0")
    .stdout_has("issuer https://westeurope.oic.prod-aks.azure.com/72f988bf-0000-4000-8000-00000000c0de/")
    .stdout_has("node Standard_D4s_v5 version 1.33.2 kubelet true")
    .stdout_has("acr contosolangfuse.azurecr.io admin false")
    .stdout_has("attached true: kubelet identity")
    .stdout_has("AcrPull")
    .stdout_has("storage StorageV2 Standard_LRS shared_key false findings 0")
    .stdout_has("container langfuse")
    .stdout_has("identity client true principal true")
    .stdout_has(r#"roles ["Storage Blob Data Contributor", "Storage Blob Delegator"]"#)
    .stdout_has("delegator true")
    .stdout_has("federated true")
    .stdout_has("app true ok true [\"https://langfuse.contoso.example/api/auth/callback/azure-ad\"]")
    .run();
}

#[test]
fn aks_credentials_return_the_rehearsal_clusters_kubeconfig() {
    let az = AzureRehearsal::start("healthy");
    az.test(&format!(
        r#"
        let kc = az::aks_credentials("{RG}", "aks-contoso-langfuse");
        // no token or key in it (the rehearsal cluster takes none), so it is plain text
        print(`${{type_of(kc)}}`);
        print(kc);
        "#
    ))
    .stdout_has("string")
    .stdout_has(&format!("server: {}", az.cluster.kube_url()))
    .run();
}

#[test]
fn missing_resources_are_reported_with_their_id_and_not_created() {
    let az = AzureRehearsal::start("healthy");
    az.test(
        r#"
        try { az::resource_group("rg-nope"); } catch (e) { print(`get: ${e.kind} ${e.code} ${e.resource_id}`); }
        try { az::aks("rg-nope", "x"); } catch (e) { print(`aks: ${e.kind} ${e.code}`); }
        try { az::aks("rg-contoso-langfuse-test", "aks-nope"); } catch (e) { print(`aks2: ${e.kind} ${e.message} | ${e.hint}`); }
        try { az::ensure_resource_group("rg-nope"); } catch (e) { print(`ensure: ${e.kind} ${e.message} | ${e.hint}`); }
        "#,
    )
    .stdout_has("get: not_found ResourceGroupNotFound /subscriptions/3f1c2d4e-0000-4000-8000-0000000005ab/resourceGroups/rg-nope")
    .stdout_has("aks: not_found ResourceGroupNotFound")
    .stdout_has("aks2: not_found /subscriptions/3f1c2d4e-0000-4000-8000-0000000005ab/resourceGroups/rg-contoso-langfuse-test/providers/Microsoft.ContainerService/managedClusters/aks-nope: ResourceNotFound")
    .stdout_has("ensure: not_found resource group rg-nope does not exist")
    .stdout_has("--create-missing")
    .run();
    assert!(az.azure(|s| !s.groups.contains_key("rg-nope")));
}

#[test]
fn wrong_subscription_is_named_with_what_to_do() {
    let az = AzureRehearsal::start("healthy");
    let config = az.config().replace(
        "subscription: 3f1c2d4e-0000-4000-8000-0000000005ab",
        "subscription: 00000000-0000-4000-8000-000000000bad",
    );
    az.test_with_config(
        &config,
        r#"az::resource_group("rg-contoso-langfuse-test");"#,
    )
    .status(1)
    .stderr_has("SubscriptionNotFound")
    .stderr_has("check azure.subscription")
    .run();
    let config = az.config().replace(
        "subscription: 3f1c2d4e-0000-4000-8000-0000000005ab",
        "subscription: Contoso Langfuse (rehearsal)",
    );
    az.test_with_config(&config, r#"print(az::subscription().id);"#)
        .stdout_has("3f1c2d4e-0000-4000-8000-0000000005ab")
        .run();
}

#[test]
fn creation_is_planned_in_a_dry_run_and_done_once_with_create_missing() {
    let az = AzureRehearsal::start("healthy");
    let script = r#"
        let g = az::ensure_resource_group("rg-new");
        print(`group ${g.outcome}`);
        let i = az::ensure_identity("rg-contoso-langfuse-test", "id-new");
        print(`identity ${i.outcome}`);
        if i.outcome != "planned" {
            let st = az::storage_account("rg-contoso-langfuse-test", "contosolangfusest");
            print(`role ${az::ensure_role(st.id, i.principal_id, "Storage Blob Delegator").outcome}`);
            let issuer = az::aks("rg-contoso-langfuse-test", "aks-contoso-langfuse").oidc_issuer_url;
            let f = az::ensure_federated_credential("rg-contoso-langfuse-test", "id-new", "langfuse", issuer, az::service_account_subject("langfuse", "langfuse"));
            print(`federated ${f.outcome}`);
        }
        print(`container ${az::ensure_container("rg-contoso-langfuse-test", "contosolangfusest", "exports").outcome}`);
    "#;
    let out = az
        .test(script)
        .args(["--dry-run", "--create-missing"])
        .stdout_has("group planned")
        .stdout_has("identity planned")
        .stdout_has("container planned")
        .run();
    assert!(
        out.stdout.contains("create resource group"),
        "plan lists the change:\n{}",
        out.stdout
    );
    assert!(
        az.azure(|s| !s.groups.contains_key("rg-new")
            && !s.identities.keys().any(|k| k.ends_with("/id-new"))),
        "a dry run created something"
    );
    az.test(script)
        .arg("--create-missing")
        .stdout_has("group created")
        .stdout_has("identity created")
        .stdout_has("role created")
        .stdout_has("federated created")
        .stdout_has("container created")
        .run();
    let again = az
        .test(script)
        .arg("--create-missing")
        .stdout_has("group kept")
        .stdout_has("identity kept")
        .stdout_has("role kept")
        .stdout_has("federated kept")
        .stdout_has("container kept")
        .run();
    assert!(
        !again.stdout.contains("created"),
        "second run changed something:\n{}",
        again.stdout
    );
    let count = az.azure(|s| {
        s.role_assignments
            .iter()
            .filter(|a| a.role == "db58b8e5-c6ad-4a2a-8342-4190687cbf4a")
            .count()
    });
    assert_eq!(
        count, 3,
        "operator, langfuse identity and id-new hold Delegator once each"
    );
}

#[test]
fn insufficient_permissions_name_the_role_and_scope() {
    let az = AzureRehearsal::with_azure("operator_roles: [Reader]");
    az.test(r#"az::ensure_resource_group("rg-new");"#)
        .arg("--create-missing")
        .status(1)
        .stderr_has("AuthorizationFailed")
        .stderr_has("Microsoft.Resources/subscriptions/resourceGroups/write")
        .stderr_has("needs a role that allows")
        .stderr_has("/subscriptions/3f1c2d4e-0000-4000-8000-0000000005ab/resourceGroups/rg-new")
        .run();
    let id = az.azure(|s| s.identities.values().next().unwrap().principal_id.clone());
    az.test(&format!(
        r#"let st = az::storage_account("{RG}", "contosolangfusest"); az::ensure_role(st.id, "{id}", "AcrPull");"#
    ))
    .arg("--create-missing")
    .status(1)
    .stderr_has("Owner, User Access Administrator")
    .run();
}

#[test]
fn throttling_and_server_errors_are_retried_honouring_retry_after() {
    let az = AzureRehearsal::start("api-flaky");
    let out = az
        .test(
            r#"
            for i in 0..6 { az::aks("rg-contoso-langfuse-test", "aks-contoso-langfuse"); }
            print(`reads done, oidc ${az::aks("rg-contoso-langfuse-test", "aks-contoso-langfuse").oidc_issuer_enabled}`);
            "#,
        )
        .env("RUST_LOG", "lfrun=debug")
        .stdout_has("reads done, oidc true")
        .run();
    assert!(
        out.stderr.contains("status=429"),
        "a 429 was met and retried:\n{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("wait_ms=1000"),
        "Retry-After: 1 was honoured:\n{}",
        out.stderr
    );
}

#[test]
fn long_running_creates_are_polled_to_completion() {
    let az = AzureRehearsal::with_azure("slow_provisioning: 2");
    let out = az
        .test(
            r#"
            let i = az::ensure_identity("rg-contoso-langfuse-test", "id-slow");
            print(`outcome ${i.outcome} state ${i.resource.client_id != ""}`);
            "#,
        )
        .arg("--create-missing")
        .env("RUST_LOG", "lfrun=debug")
        .stdout_has("outcome created state true")
        .run();
    assert!(
        out.stderr.contains("InProgress"),
        "the operation was polled:\n{}",
        out.stderr
    );
    assert!(az.azure(|s| s.operations.values().all(|o| o.polls_left == 0)));
}

#[test]
fn tokens_are_cached_per_scope_for_the_run() {
    let az = AzureRehearsal::start("healthy");
    az.test(
        r#"
        for i in 0..5 { az::aks("rg-contoso-langfuse-test", "aks-contoso-langfuse"); az::identity("rg-contoso-langfuse-test", "id-contoso-langfuse"); }
        az::app_registration("5d1e7a00-0000-4000-8000-00000000a11d", "https://langfuse.contoso.example");
        az::app_registration("5d1e7a00-0000-4000-8000-00000000a11d", "https://langfuse.contoso.example");
        az::blob_list("contosolangfusest", "langfuse", "");
        az::blob_list("contosolangfusest", "langfuse", "events/");
        print("done");
        "#,
    )
    .stdout_has("done")
    .run();
    let issued = az.azure(|s| s.tokens_issued.clone());
    assert_eq!(
        issued.get("https://management.azure.com/"),
        Some(&1),
        "{issued:?}"
    );
    assert_eq!(
        issued.get("https://graph.microsoft.com"),
        Some(&1),
        "{issued:?}"
    );
    assert_eq!(
        issued.get("https://storage.azure.com"),
        Some(&1),
        "{issued:?}"
    );
}
