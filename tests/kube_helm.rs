//! Helm release history read from helm's own release secrets, without the helm
//! binary — checked against what real helm 3 and helm 4 wrote and report.

use crate::rehearsal::Rehearsal;
use crate::test::tool;

/// A tiny chart (one ConfigMap) in `dir/chart`.
fn write_chart(dir: &std::path::Path) -> std::path::PathBuf {
    let chart = dir.join("chart");
    std::fs::create_dir_all(chart.join("templates")).unwrap();
    std::fs::write(
        chart.join("Chart.yaml"),
        "apiVersion: v2\nname: tiny\nversion: 0.3.1\nappVersion: \"2.0.7\"\n",
    )
    .unwrap();
    std::fs::write(chart.join("values.yaml"), "greeting: hello\n").unwrap();
    std::fs::write(
        chart.join("templates/configmap.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-settings\ndata:\n  greeting: {{ .Values.greeting | quote }}\n",
    )
    .unwrap();
    chart
}

#[test]
fn history_decoded_from_release_secrets_matches_helm() {
    let cluster = Rehearsal::start("empty");
    let work = tempfile::tempdir().unwrap();
    let chart = write_chart(work.path());
    let chart = chart.to_str().unwrap();
    for (helm, release) in [(tool("helm3"), "demo3"), (tool("helm4"), "demo4")] {
        for args in [
            vec![
                "install",
                release,
                chart,
                "-n",
                "apps",
                "--create-namespace",
            ],
            vec![
                "upgrade",
                release,
                chart,
                "-n",
                "apps",
                "--set",
                "greeting=hi",
            ],
        ] {
            let (status, _, stderr) = cluster.tool(&helm, &args);
            assert_eq!(status, 0, "{} {args:?}: {stderr}", helm.display());
        }
        let (status, json, stderr) =
            cluster.tool(&helm, &["history", release, "-n", "apps", "-o", "json"]);
        assert_eq!(status, 0, "helm history: {stderr}");
        let helm_history: Vec<serde_json::Value> = serde_json::from_str(&json).unwrap();

        let out = cluster.run(&format!(
            r#"
            for e in kube::helm_history("apps", "{release}") {{
                print(`rev ${{e.revision}} | ${{e.status}} | ${{e.chart}} | ${{e.app_version}} | ${{e.description}} | pending ${{e.pending}}`);
            }}
            let r = kube::helm_release("apps", "{release}");
            print(`latest ${{r.revision}} greeting ${{r.values.greeting}}`);
            "#
        ));
        for h in &helm_history {
            let line = format!(
                "rev {} | {} | {} | {} | {} | pending false",
                h["revision"],
                h["status"].as_str().unwrap(),
                h["chart"].as_str().unwrap(),
                h["app_version"].as_str().unwrap(),
                h["description"].as_str().unwrap()
            );
            assert!(
                out.contains(&line),
                "{} history has {line:?}; lfrun printed:\n{out}",
                helm.display()
            );
        }
        assert!(out.contains("latest 2 greeting hi"), "{out}");
    }
    cluster
        .test(r#"print(`releases ${kube::helm_releases("apps").map(|r| `${r.name}:${r.revision}:${r.status}`)}`);"#)
        .stdout_has("releases [\"demo3:2:deployed\", \"demo4:2:deployed\"]")
        .run();
}

#[test]
fn a_release_stuck_pending_is_visible_and_a_missing_one_is_not_found() {
    let cluster = Rehearsal::start("helm-pending-upgrade");
    let work = tempfile::tempdir().unwrap();
    let chart = write_chart(work.path());
    let (status, _, stderr) = cluster.tool(
        &tool("helm4"),
        &[
            "install",
            "langfuse",
            chart.to_str().unwrap(),
            "-n",
            "langfuse",
            "--create-namespace",
        ],
    );
    assert_eq!(status, 0, "{stderr}");
    // The scenario's fault: an interrupted upgrade leaves revision 2 pending-upgrade.
    cluster.apply_faults();
    cluster
        .test(
            r#"
            let r = kube::helm_release("langfuse", "langfuse");
            print(`latest ${r.revision} ${r.status} pending ${r.pending}`);
            print(`history ${kube::helm_history("langfuse", "langfuse").map(|e| e.status)}`);
            print(`no history ${kube::helm_history("langfuse", "nope").len()}`);
            try { kube::helm_release("langfuse", "nope") } catch (e) { print(`${e.kind}: ${e.message}`) }
            "#,
        )
        .stdout_has("latest 2 pending-upgrade pending true")
        .stdout_has("history [\"deployed\", \"pending-upgrade\"]")
        .stdout_has("no history 0")
        .stdout_has("not_found: helm release nope not found in namespace langfuse")
        .run();
}
