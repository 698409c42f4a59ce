//! `helm::template` and the values builder with the real chart 1.5.41 and the real
//! helm 3.17 and 4.1; helm detection (`tool_missing` for a missing or old helm).

use crate::charts::{good_values, guide_values, kind_counts, with_helm, IDENTITY};
use crate::test::Test;

/// Renders `values_expr` and prints `kind name` per manifest; returns the printed kinds and names.
fn render(
    which: &str,
    prelude: &str,
    values_expr: &str,
) -> (Vec<String>, Vec<String>, crate::test::Output) {
    let script = format!(
        r#"
        import "values" as values;
        {prelude}
        let v = {values_expr};
        for m in helm::template(v) {{
            print(`manifest ${{m.kind}} ${{m.metadata.name}}`);
        }}
        "#
    );
    let out = with_helm(which).script(&script).run();
    let (mut kinds, mut names) = (Vec::new(), Vec::new());
    for line in out.stdout.lines() {
        if let Some(rest) = line.trim().strip_prefix("manifest ") {
            let (kind, name) = rest.split_once(' ').unwrap();
            kinds.push(kind.to_string());
            names.push(format!("{kind}/{name}"));
        }
    }
    (kinds, names, out)
}

fn builder_renders(which: &str) {
    let (kinds, names, _) = render(
        which,
        "",
        &format!(r#"values::build(#{{tag: "abc1234", identity_client_id: "{IDENTITY}"}})"#),
    );
    let counts = kind_counts(&kinds);
    let expect: Vec<(String, usize)> = [
        ("ConfigMap", 6),
        ("Deployment", 2),
        ("NetworkPolicy", 4),
        ("PodDisruptionBudget", 5),
        ("Service", 9),
        ("ServiceAccount", 5),
        ("StatefulSet", 4),
    ]
    .iter()
    .map(|(k, n)| (k.to_string(), *n))
    .collect();
    // no Secret: the data-store passwords come from langfuse-db-passwords, not from values
    assert_eq!(counts, expect, "{names:?}");
    for name in [
        "Deployment/langfuse-web",
        "Deployment/langfuse-worker",
        "StatefulSet/langfuse-zookeeper",
        "StatefulSet/langfuse-clickhouse-shard0",
        "StatefulSet/langfuse-postgresql",
        "StatefulSet/langfuse-redis-primary",
    ] {
        assert!(
            names.contains(&name.to_string()),
            "{name} missing from {names:?}"
        );
    }
}

#[test]
fn builder_values_render_with_helm3() {
    builder_renders("helm3");
}

#[test]
fn builder_values_render_with_helm4() {
    builder_renders("helm4");
}

/// The guide's own §8 values render to exactly what ../shared/charts/README.md lists.
fn guide_values_render(which: &str) {
    let (kinds, _, _) = render(
        which,
        &format!("let text = {:?};", guide_values(true)),
        "parse_yaml(text)",
    );
    let counts = kind_counts(&kinds);
    let expect: Vec<(String, usize)> = [
        ("ConfigMap", 6),
        ("Deployment", 2),
        ("NetworkPolicy", 4),
        ("PodDisruptionBudget", 5),
        ("Secret", 3),
        ("Service", 9),
        ("ServiceAccount", 5),
        ("StatefulSet", 4),
    ]
    .iter()
    .map(|(k, n)| (k.to_string(), *n))
    .collect();
    assert_eq!(counts, expect);
}

#[test]
fn guide_reference_values_render_with_helm3() {
    guide_values_render("helm3");
}

#[test]
fn guide_reference_values_render_with_helm4() {
    guide_values_render("helm4");
}

#[test]
fn builder_output_is_good_values() {
    let out = with_helm("helm3")
        .script(&format!(
            r#"
            import "values" as values;
            let v = values::build(#{{tag: "abc1234", identity_client_id: "{IDENTITY}"}});
            fs::write("built.yaml", to_yaml(v));
            "#
        ))
        .run();
    let built: serde_yaml::Value =
        serde_yaml::from_str(&std::fs::read_to_string(out.path("built.yaml")).unwrap()).unwrap();
    let expected: serde_yaml::Value = serde_yaml::from_str(&good_values()).unwrap();
    assert_eq!(built, expected);
}

#[test]
fn builder_sets_hosts_for_another_release_name_and_refuses_placeholders() {
    with_helm("helm3")
        .script(&format!(
            r#"
            import "values" as values;
            let v = values::build("abc1234", "{IDENTITY}");
            print(`redis ${{v.redis.host}} pg ${{v.postgresql.host}} ch ${{v.clickhouse.host}}`);
            let names = helm::template(v).map(|m| m.metadata.name);
            print(`rendered ${{names.contains("lf-redis-primary")}} ${{names.contains("lf-postgresql")}}`);
            "#
        ))
        .args(["--set", "langfuse.release=lf"])
        .stdout_has("redis lf-redis-primary pg lf-postgresql ch lf-clickhouse")
        .stdout_has("rendered true true")
        .run();
    with_helm("helm3")
        .script(&format!(
            r#"
            import "values" as values;
            values::build("abc1234", "{IDENTITY}");
            "#
        ))
        .args(["--set", "azure.acr=<ACR_NAME>"])
        .status(1)
        .stderr_has("error[invalid]")
        .stderr_has("langfuse.web.image.repository: <ACR_NAME>.azurecr.io/langfuse-web")
        .run();
}

#[test]
fn init_project_keys_are_fresh_langfuse_shaped_secrets() {
    with_helm("helm3")
        .script(
            r#"
            import "values" as values;
            import "naming" as naming;
            let a = values::init_project_keys();
            let b = values::init_project_keys();
            let k = naming::init_secret_keys();
            print(`secret ${naming::init_secret()} keys ${a.keys()}`);
            print(`wrapped ${secret::is_secret(a[k.public_key])} ${secret::is_secret(a[k.secret_key])}`);
            print(`lengths ${a[k.public_key].len()} ${a[k.secret_key].len()}`);
            print(`differ ${a[k.secret_key] != b[k.secret_key]}`);
            "#,
        )
        .stdout_has("secret langfuse-init keys [\"public-key\", \"secret-key\"]")
        .stdout_has("wrapped true true")
        // `pk-lf-` / `sk-lf-` and a UUID
        .stdout_has("lengths 42 42")
        .stdout_has("differ true")
        .run();
}

#[test]
fn template_failure_carries_helms_message_and_leaves_no_values_file() {
    let t = with_helm("helm4");
    let tmp = t.dir().join("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    let out = t
        .env("TMPDIR", tmp.display().to_string())
        .script(r#"helm::template(#{clickhouse: #{shards: 2}, db_password: secret::wrap("canary-template-pw-77")});"#)
        .status(1)
        .stderr_has("error[tool_failed]")
        .stderr_has("no valid value, secretKeyRef, fieldRef, or resourceFieldRef provided for langfuse.salt")
        .stderr_lacks("canary-template-pw-77")
        .run();
    let left: Vec<_> = std::fs::read_dir(out.path("tmp"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert!(left.is_empty(), "temporary files left behind: {left:?}");
}

#[test]
fn helm_version_reports_the_major() {
    with_helm("helm3")
        .script(r#"let v = helm::version(); print(`helm ${v.version} major ${v.major}`);"#)
        .stdout_has("helm 3.17.3 major 3")
        .run();
    with_helm("helm4")
        .script(r#"let v = helm::version(); print(`helm ${v.version} major ${v.major}`);"#)
        .stdout_has("helm 4.1.4 major 4")
        .run();
}

#[test]
fn missing_or_old_helm_is_tool_missing_with_how_to_install() {
    Test::new()
        .file("c.yaml", "target: azure\ntools:\n  helm: ./no-such-helm\n")
        .script("helm::version();")
        .args(["--config", "c.yaml"])
        .status(1)
        .stderr_has("error[tool_missing]")
        .stderr_has("https://helm.sh/docs/intro/install/")
        .run();
    let t = Test::new()
        .file("c.yaml", "target: azure\ntools:\n  helm: ./old-helm\n")
        .file("old-helm", "#!/bin/sh\necho v3.12.0\n");
    make_executable(&t.dir().join("old-helm"));
    t.script("try { helm::version(); } catch (e) { print(`${e.kind}: ${e.message}`); }")
        .args(["--config", "c.yaml"])
        .stdout_has("tool_missing: helm 3.12.0 is too old: lfrun needs helm 3.14.0 or newer")
        .run();
}

pub fn make_executable(path: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn repo_add_keeps_a_known_repository_and_plans_a_new_one() {
    with_helm("helm4")
        .file(
            ".config/helm/repositories.yaml",
            "apiVersion: \"\"\ngenerated: \"0001-01-01T00:00:00Z\"\nrepositories:\n- name: langfuse\n  url: https://langfuse.github.io/langfuse-k8s\n",
        )
        .script(
            r#"
            print(`known ${helm::repo_add("langfuse", "https://langfuse.github.io/langfuse-k8s")}`);
            print(`new ${helm::repo_add("other", "https://charts.example.com")}`);
            "#,
        )
        .arg("--dry-run")
        .stdout_has("known kept")
        .stdout_has("new planned")
        .stdout_has("helm repo add other")
        .run();
}
