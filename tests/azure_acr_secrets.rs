//! ACR login without keys (the registry's token exchange, docker fed on stdin) and the
//! canary: a client secret and the tokens it buys never appear in stdout, stderr, the
//! journal or the plan.

use crate::azure_rehearsal::AzureRehearsal;

#[test]
fn acr_token_exchange_and_registry_push_record_the_tag() {
    let az = AzureRehearsal::start("healthy");
    az.test(
        r#"
        let server = "https://contosolangfuse.azurecr.io";
        let refresh = az::acr_refresh_token("contosolangfuse");
        print(`refresh ${type_of(refresh)} ${refresh}`);
        let unauth = http::get(server + "/v2/");
        print(`anonymous ${unauth.status} ${unauth.headers["www-authenticate"]}`);
        let t = http::request("POST", server + "/oauth2/token", #{
            headers: #{"content-type": "application/x-www-form-urlencoded"},
            body: secret::wrap("grant_type=refresh_token&service=contosolangfuse.azurecr.io&scope=repository:langfuse-web:pull,push&refresh_token=" + refresh.to_string())
        });
        print(`token ${t.status}`);
        "#,
    )
    .stdout_has("refresh Secret ***")
    .stdout_has(r#"anonymous 401 Bearer realm="https://contosolangfuse.azurecr.io/oauth2/token",service="contosolangfuse.azurecr.io""#)
    .run();
    // the registry v2 push path: a manifest PUT with the exchanged token records the tag
    let token = az.access_token("https://management.azure.com/.default");
    let http = az.http();
    let tags = az.cluster.block_on(async move {
        let form = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("&")
        };
        let server = "https://contosolangfuse.azurecr.io";
        let ex: serde_json::Value = http
            .post(format!("{server}/oauth2/exchange"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form(&[
                ("grant_type", "access_token"),
                ("service", "contosolangfuse.azurecr.io"),
                ("access_token", &token),
            ]))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let refresh = ex["refresh_token"]
            .as_str()
            .expect("refresh token")
            .to_string();
        let t: serde_json::Value = http
            .post(format!("{server}/oauth2/token"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form(&[
                ("grant_type", "refresh_token"),
                ("service", "contosolangfuse.azurecr.io"),
                ("scope", "repository:langfuse-web:pull,push"),
                ("refresh_token", &refresh),
            ]))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let access = t["access_token"].as_str().unwrap().to_string();
        let put = http
            .put(format!("{server}/v2/langfuse-web/manifests/abc1234"))
            .bearer_auth(&access)
            .header(
                "content-type",
                "application/vnd.docker.distribution.manifest.v2+json",
            )
            .body(r#"{"schemaVersion":2}"#)
            .send()
            .await
            .unwrap();
        assert_eq!(put.status(), 201);
        let head = http
            .head(format!("{server}/v2/langfuse-web/manifests/abc1234"))
            .bearer_auth(&access)
            .send()
            .await
            .unwrap();
        assert_eq!(head.status(), 200);
        let list: serde_json::Value = http
            .get(format!("{server}/v2/langfuse-web/tags/list"))
            .bearer_auth(&access)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        list["tags"].clone()
    });
    assert_eq!(tags, serde_json::json!(["abc1234"]));
    let pushed = az.world().read(|w| {
        w.registry.contains(&lfrun_sim::ImageRef::parse(
            "contosolangfuse.azurecr.io/langfuse-web:abc1234",
        ))
    });
    assert!(
        pushed,
        "the push is in the World's registry the kubelet pulls from"
    );
}

#[test]
fn acr_login_feeds_docker_the_token_on_stdin() {
    let az = AzureRehearsal::start("healthy");
    // a docker stand-in that records its arguments and whether stdin carried a token
    let fake = "#!/bin/sh\necho \"$@\" > docker-args.txt\nread token\n[ -n \"$token\" ] && echo token-received > docker-stdin.txt\necho Login Succeeded\n";
    let bin = tempfile::tempdir().unwrap();
    let docker = bin.path().join("docker");
    std::fs::write(&docker, fake).unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&docker, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let config = format!("{}tools:\n  docker: {}\n", az.config(), docker.display());
    let out = az
        .test_with_config(&config, r#"let r = az::acr_login("contosolangfuse"); print(`login ${r.outcome} ${r.login_server}`);"#)
        .stdout_has("login logged_in contosolangfuse.azurecr.io")
        .run();
    let args = std::fs::read_to_string(out.path("docker-args.txt")).unwrap();
    assert_eq!(args.trim(), "login contosolangfuse.azurecr.io --username 00000000-0000-0000-0000-000000000000 --password-stdin");
    assert_eq!(
        std::fs::read_to_string(out.path("docker-stdin.txt"))
            .unwrap()
            .trim(),
        "token-received"
    );
}

#[test]
fn a_client_secret_and_tokens_never_show() {
    const CANARY: &str = "canary-client-secret-5f2a9c";
    let az = AzureRehearsal::with_azure(&format!("operator_client_secrets: [\"{CANARY}\"]"));
    let credential = format!(
        "kind: client_secret\n    tenant_id: {}\n    client_id: {}\n    secret_env: LFRUN_TEST_AZURE_SECRET",
        az.info.operator.tenant_id, az.info.operator.client_id
    );
    let config = az.config_with_credential(&credential);
    let script = r#"
        let me = az::whoami();
        print(`me ${me.principal_id} via ${me.credential}`);
        print(az::acr_refresh_token("contosolangfuse"));
        let url = az::user_delegation_sas("contosolangfusest", "langfuse", "events/x.json", "r", 5);
        print(url);
        debug(url);
        az::ensure_resource_group("rg-canary");
        az::blob_put("contosolangfusest", "langfuse", "events/x.json", "{}");
        try { az::resource_group("rg-missing"); } catch (e) { print(e); }
    "#;
    for args in [
        vec!["--create-missing", "-vv"],
        vec!["--create-missing", "--dry-run", "--output", "json"],
    ] {
        let out = az
            .test_with_config(&config, script)
            .args(args.clone())
            .env("LFRUN_TEST_AZURE_SECRET", CANARY)
            .env("RUST_LOG", "debug")
            .stdout_has("via client secret of application")
            .run();
        let journal = out.journal();
        for (what, text) in [
            ("stdout", &out.stdout),
            ("stderr", &out.stderr),
            ("journal", &journal),
        ] {
            assert!(
                !text.contains(CANARY),
                "{args:?}: the client secret is in {what}"
            );
            assert!(
                !text.contains("eyJ"),
                "{args:?}: a token (JWT) is in {what}:\n{text}"
            );
            assert!(
                !text.contains("sig="),
                "{args:?}: a SAS signature is in {what}"
            );
        }
        if args.contains(&"--dry-run") {
            assert!(
                out.stdout.contains("rg-canary"),
                "the plan lists the change:\n{}",
                out.stdout
            );
        }
    }
    // a wrong secret: Entra ID's message, without the value
    let out = az
        .test_with_config(&config, "az::whoami();")
        .env("LFRUN_TEST_AZURE_SECRET", "wrong-canary-secret-77")
        .status(1)
        .stderr_has("AADSTS7000215")
        .run();
    assert!(
        !out.stderr.contains("wrong-canary-secret-77")
            && !out.stdout.contains("wrong-canary-secret-77")
    );
}
