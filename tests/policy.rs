//! The policy rules: for every rule, values that break only that rule make exactly
//! that rule fire — on the values and on what chart 1.5.41 renders from them. The
//! gate in scripts: `policy` errors, waivers journalled.

use serde_yaml::{Mapping, Value};

use crate::charts::{chart, good_values, path_with, run_lfrun, with_helm_config};
use crate::test::Test;

fn good() -> Value {
    serde_yaml::from_str(&good_values()).unwrap()
}

fn at<'a>(v: &'a mut Value, path: &[&str]) -> &'a mut Value {
    let mut node = v;
    for key in path {
        let map = node.as_mapping_mut().expect("a map on the way");
        node = map
            .entry(Value::String(key.to_string()))
            .or_insert_with(|| Value::Mapping(Mapping::new()));
    }
    node
}

fn env_list(v: &mut Value) -> &mut Vec<Value> {
    at(v, &["langfuse", "additionalEnv"])
        .as_sequence_mut()
        .unwrap()
}

/// Lints `values` (rendering chart 1.5.41 with helm 3) and returns the fired rule ids, sorted and unique.
fn fired(values: &Value, extra: &[&str], config: Option<&str>) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("values.yaml"),
        serde_yaml::to_string(values).unwrap(),
    )
    .unwrap();
    let mut args: Vec<String> = ["lint", "values.yaml", "--json", "--chart"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    args.push(chart("1.5.41").display().to_string());
    args.extend(extra.iter().map(|s| s.to_string()));
    if let Some(c) = config {
        std::fs::write(dir.path().join("client.yaml"), c).unwrap();
        args.extend(["--config".to_string(), "client.yaml".to_string()]);
    }
    let (status, stdout, stderr) = run_lfrun(dir.path(), &args, &path_with("helm3"));
    let json: serde_json::Value = serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("lint --json output: {e}\n{stdout}\n{stderr}"));
    let mut rules: Vec<String> = ["errors", "warnings"]
        .iter()
        .flat_map(|k| json[*k].as_array().cloned().unwrap_or_default())
        .map(|v| v["rule"].as_str().unwrap().to_string())
        .collect();
    rules.sort();
    rules.dedup();
    let expect_status = if json["errors"].as_array().unwrap().is_empty() {
        0
    } else {
        1
    };
    assert_eq!(status, expect_status, "{stdout}");
    rules
}

fn only(rule: &str, values: &Value, extra: &[&str], config: Option<&str>) {
    assert_eq!(
        fired(values, extra, config),
        [rule.to_string()],
        "expected only {rule}"
    );
}

#[test]
fn builder_values_break_no_rule() {
    assert!(fired(&good(), &[], None).is_empty());
}

#[test]
fn no_storage_keys() {
    let mut v = good();
    *at(&mut v, &["s3", "accessKeyId"]) =
        serde_yaml::from_str("{secretKeyRef: {name: storage-keys, key: access-key-id}}").unwrap();
    only("no-storage-keys", &v, &[], None);
    let mut v = good();
    env_list(&mut v).push(serde_yaml::from_str("{name: AZURE_STORAGE_CONNECTION_STRING, valueFrom: {secretKeyRef: {name: blob, key: cs}}}").unwrap());
    only("no-storage-keys", &v, &[], None);
}

#[test]
fn workload_identity() {
    let mut v = good();
    at(&mut v, &["langfuse", "pod"])
        .as_mapping_mut()
        .unwrap()
        .remove("labels");
    only("workload-identity", &v, &[], None);
    let mut v = good();
    at(&mut v, &["langfuse", "serviceAccount"])
        .as_mapping_mut()
        .unwrap()
        .remove("annotations");
    only("workload-identity", &v, &[], None);
}

#[test]
fn no_azure_credential_env() {
    let mut v = good();
    env_list(&mut v).push(
        serde_yaml::from_str(
            "{name: AZURE_CLIENT_ID, value: 5b0e2c1a-0000-4000-8000-00000000beef}",
        )
        .unwrap(),
    );
    only("no-azure-credential-env", &v, &[], None);
}

#[test]
fn official_chart() {
    let fork = "chart:\n  repository: https://example.com/forked-charts\n  name: langfuse\n  version: 1.5.41\n";
    // without --chart, so the config's chart is what is judged
    let out = Test::new()
        .file("values.yaml", &good_values())
        .file("client.yaml", fork)
        .args(["lint", "values.yaml", "--json", "--config", "client.yaml"])
        .status(1)
        .stdout_has("https://example.com/forked-charts is not the official https://langfuse.github.io/langfuse-k8s")
        .run();
    let json: serde_json::Value = serde_json::from_str(out.stdout.trim()).unwrap();
    let rules: Vec<&str> = json["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["rule"].as_str().unwrap())
        .collect();
    assert_eq!(rules, ["official-chart"]);
    assert!(json["warnings"].as_array().unwrap().is_empty());
    let floating = "chart:\n  version: \"^1.5\"\n";
    Test::new()
        .file("values.yaml", &good_values())
        .file("client.yaml", floating)
        .args(["lint", "values.yaml", "--config", "client.yaml"])
        .status(1)
        .stdout_has("error[official-chart]: chart version ^1.5 is not pinned to an exact version")
        .run();
}

#[test]
fn in_cluster_data_stores() {
    let mut v = good();
    *at(&mut v, &["postgresql", "deploy"]) = Value::Bool(false);
    *at(&mut v, &["postgresql", "host"]) = Value::String("pg.contoso.example".into());
    only("in-cluster-data-stores", &v, &[], None);
    let mut v = good();
    *at(&mut v, &["s3", "storageProvider"]) = Value::String("s3".into());
    only("in-cluster-data-stores", &v, &[], None);
}

#[test]
fn azure_ad_sso() {
    let mut v = good();
    env_list(&mut v).retain(|e| e["name"] != "AUTH_DISABLE_USERNAME_PASSWORD");
    only("azure-ad-sso", &v, &[], None);
    let mut v = good();
    env_list(&mut v).retain(|e| !e["name"].as_str().unwrap().starts_with("AUTH_AZURE_AD"));
    only("azure-ad-sso", &v, &[], None);
}

#[test]
fn nextauth_url() {
    let mut v = good();
    *at(&mut v, &["langfuse", "nextauth", "url"]) =
        Value::String("http://langfuse.contoso.example".into());
    only("nextauth-url", &v, &[], None);
    let config =
        "langfuse:\n  public_url: https://langfuse.contoso.example\nchart:\n  version: 1.5.41\n";
    let mut v = good();
    *at(&mut v, &["langfuse", "nextauth", "url"]) =
        Value::String("https://langfuse-old.contoso.example".into());
    only("nextauth-url", &v, &[], Some(config));
    assert!(fired(&good(), &[], Some(config)).is_empty());
}

#[test]
fn release_name() {
    only("release-name", &good(), &["--release", "lf"], None);
    // with the overrides the builder sets, release `lf` is fine
    let mut v = good();
    for (store, host) in [
        ("redis", "lf-redis-primary"),
        ("postgresql", "lf-postgresql"),
        ("clickhouse", "lf-clickhouse"),
    ] {
        *at(&mut v, &[store, "host"]) = Value::String(host.into());
    }
    assert!(fired(&v, &["--release", "lf"], None).is_empty());
}

#[test]
fn clickhouse_disk_min_is_a_warning() {
    let mut v = good();
    *at(&mut v, &["clickhouse", "persistence", "size"]) = Value::String("8Gi".into());
    only("clickhouse-disk-min", &v, &[], None);
}

#[test]
fn plaintext_secrets_is_a_warning() {
    let mut v = good();
    *at(&mut v, &["redis", "auth"]) =
        serde_yaml::from_str("{password: canary-redis-plain-pw}").unwrap();
    only("plaintext-secrets", &v, &[], None);
}

#[test]
fn gate_in_a_script_fails_with_kind_policy_and_journals_waivers() {
    let script = r#"
        import "values" as values;
        let v = values::build("abc1234", "5b0e2c1a-0000-4000-8000-00000000beef");
        v.clickhouse.persistence.size = "8Gi";
        let out = policy::gate(v);
        print(`waived ${out.waived.len()} ${out.waived[0].rule}`);
        v.langfuse.nextauth.url = "http://langfuse.contoso.example";
        try { policy::gate(v); } catch (e) { print(`caught ${e.kind} ${e.rules}`); }
        policy::enforce(policy::check_values(v));
    "#;
    let out = with_helm_config("helm4", |c| {
        c.replace(
            "waivers: []",
            "waivers:\n  - rule: clickhouse-disk-min\n    reason: demo cluster",
        )
    })
    .script(script)
    .status(1)
    .stdout_has("waived 2 clickhouse-disk-min")
    .stdout_has("caught policy [\"nextauth-url\"]")
    .stderr_has("error[policy]")
    .stderr_has("[nextauth-url] values: nextauth.url http://langfuse.contoso.example is not https")
    .run();
    assert!(out.journal().contains("policy waiver"), "{}", out.journal());
    assert!(out
        .journal()
        .contains("rule clickhouse-disk-min waived (demo cluster)"));
}

#[test]
fn gate_reports_drift_when_the_chart_floats_to_2_x() {
    let chart2 = chart("2.0.0-nodeps").display().to_string();
    with_helm_config("helm3", |c| c)
        .script(&format!(
            r#"
            import "values" as values;
            let v = values::build("abc1234", "5b0e2c1a-0000-4000-8000-00000000beef");
            let drift = policy::check_drift(v, "{chart2}", "2.0.0");
            print(`drift ${{drift.map(|d| d.message).filter(|m| m.contains("clickhouse.persistence")).len()}}`);
            try {{ policy::gate(v); }} catch (e) {{ print(`gate ${{e.kind}} ${{e.rules.contains("chart-drift")}}`); }}
            "#
        ))
        // a 2.x archive in the mirror, as a client who let the pin float would have
        .args(["--set", "chart.version=2.0.0-nodeps"])
        .stdout_has("drift 1")
        .stdout_has("gate policy true")
        .run();
}
