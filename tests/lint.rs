//! `lfrun lint VALUES.yaml [--chart CHART] [--version V]` with the real helm and charts:
//! clean values pass, violations exit 1, bad input gives one clear error and no
//! temporary file is left behind.

use crate::charts::{chart, good_values, guide_values, path_with};
use crate::test::Test;

fn lint(which: &str) -> Test {
    let t = Test::new().env("PATH", path_with(which));
    let tmp = t.dir().join("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    t.env("TMPDIR", tmp.display().to_string())
}

fn no_temp_files(out: &crate::test::Output) {
    let left: Vec<_> = std::fs::read_dir(out.path("tmp"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert!(left.is_empty(), "temporary files left behind: {left:?}");
}

fn guide_reference_values_pass(which: &str) {
    let out = lint(which)
        .file("values.yaml", &guide_values(true))
        .args(["lint", "values.yaml", "--chart"])
        .arg(chart("1.5.41").display().to_string())
        .stdout_has("values.yaml: 0 errors, 3 warnings")
        // the guide's example keeps the data-store passwords in values: warned, not refused
        .stdout_has(
            "warning[plaintext-secrets]: `postgresql.auth.password` is written as a plain value",
        )
        .stdout_lacks("error[")
        .run();
    no_temp_files(&out);
}

#[test]
fn guide_reference_values_pass_with_helm3() {
    guide_reference_values_pass("helm3");
}

#[test]
fn guide_reference_values_pass_with_helm4() {
    guide_reference_values_pass("helm4");
}

#[test]
fn builder_values_are_clean() {
    lint("helm4")
        .file("values.yaml", &good_values())
        .args(["lint", "values.yaml", "--chart"])
        .arg(chart("1.5.41").display().to_string())
        .stdout_has("values.yaml: 0 errors, 0 warnings, 0 waived")
        .run();
}

#[test]
fn a_violation_exits_1_with_rule_and_fix() {
    let values = good_values().replace(
        "url: https://langfuse.contoso.example",
        "url: http://langfuse.contoso.example",
    );
    lint("helm3")
        .file("values.yaml", &values)
        .args(["lint", "values.yaml", "--chart"])
        .arg(chart("1.5.41").display().to_string())
        .status(1)
        .stdout_has("error[nextauth-url]: values: nextauth.url http://langfuse.contoso.example is not https")
        .stdout_has("error[nextauth-url]: Deployment/langfuse-web: nextauth.url http://langfuse.contoso.example is not https")
        .stdout_has("= fix:")
        .run();
}

#[test]
fn placeholders_left_in_are_refused() {
    let out = lint("helm3")
        .file("values.yaml", &guide_values(false))
        .args(["lint", "values.yaml", "--chart"])
        .arg(chart("1.5.41").display().to_string())
        .status(1)
        .stderr_has("error[invalid]: values.yaml: 12 placeholders of the guide left in")
        .stderr_has("langfuse.web.image.tag: <GIT_SHA>")
        .run();
    no_temp_files(&out);
}

#[test]
fn unparseable_yaml_names_the_line() {
    lint("helm3")
        .file(
            "values.yaml",
            "langfuse:\n  nextauth:\n    url: [unclosed\n",
        )
        .args(["lint", "values.yaml"])
        .status(1)
        .stderr_has("error[invalid]: values.yaml:")
        .stderr_has("not valid YAML")
        .run();
    lint("helm3")
        .file("values.yaml", "- just\n- a list\n")
        .args(["lint", "values.yaml"])
        .status(1)
        .stderr_has("helm values must be a mapping")
        .run();
}

#[test]
fn missing_files_and_charts_are_clear_errors() {
    lint("helm3")
        .args(["lint", "nope.yaml"])
        .status(2)
        .stderr_has("error[not_found]: cannot read values file nope.yaml")
        .run();
    let out = lint("helm3")
        .file("values.yaml", &good_values())
        .args([
            "lint",
            "values.yaml",
            "--chart",
            "./charts/langfuse-9.9.9.tgz",
        ])
        .status(2)
        .stderr_has("error[not_found]: chart ./charts/langfuse-9.9.9.tgz does not exist")
        .run();
    no_temp_files(&out);
    lint("helm3")
        .file("values.yaml", &good_values())
        .args(["lint", "values.yaml", "--chart", "langfuse/langfuse"])
        .status(2)
        .stderr_has("a version is required")
        .run();
}

#[test]
fn chart_drift_to_2_0_is_reported() {
    lint("helm4")
        .file("values.yaml", &good_values())
        .args(["lint", "values.yaml", "--chart"])
        .arg(chart("2.0.0-nodeps").display().to_string())
        .status(1)
        .stdout_has("error[chart-drift]: `clickhouse.persistence` is not a value of chart langfuse 2.0.0")
        .stdout_has("error[chart-drift]: `clickhouse.resourcesPreset` is not a value of chart langfuse 2.0.0")
        .stderr_has("manifests not rendered")
        .run();
}

#[test]
fn waivers_from_the_config_are_shown_and_do_not_fail() {
    let values = good_values().replace("size: 50Gi", "size: 8Gi");
    lint("helm3")
        .file("values.yaml", &values)
        .file(
            "client.yaml",
            "langfuse:\n  public_url: https://langfuse.contoso.example\nchart:\n  version: 1.5.41\nwaivers:\n  - rule: clickhouse-disk-min\n    reason: demo cluster, 1 day retention\n",
        )
        .args(["lint", "values.yaml", "--config", "client.yaml", "--json"])
        .stdout_has(r#""errors":[]"#)
        .stdout_has(r#""reason":"demo cluster, 1 day retention""#)
        .stdout_has(r#""rule":"clickhouse-disk-min""#)
        .run();
}
