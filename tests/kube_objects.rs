//! `kube::` connection, namespaces and generic objects against the rehearsal
//! cluster over HTTP; errors by kind, naming the object; plan mode makes no writes.

use crate::rehearsal::Rehearsal;
use crate::test::Test;

#[test]
fn connects_from_the_config_kubeconfig_and_reports_the_version() {
    let cluster = Rehearsal::start("empty");
    cluster
        .test(
            r#"
            let v = kube::version();
            print(`version ${v.git_version} major ${v.major} minor ${v.minor}`);
            print(`server ${v.server}`);
            "#,
        )
        .stdout_has("version v1.33")
        .stdout_has("major 1 minor 33")
        .stdout_has(&format!("server {}", cluster.kube_url()))
        .run();
}

#[test]
fn connect_takes_kubeconfig_text_handed_over_by_azure() {
    let cluster = Rehearsal::start("empty");
    let text = std::fs::read_to_string(cluster.kubeconfig()).unwrap();
    // No kube.kubeconfig in the config: the text (as az::aks_credentials returns it) is all there is.
    Test::new()
        .file("kubeconfig.txt", &text)
        .file("cluster.yaml", "target: azure\n")
        .script(
            r#"
            let c = kube::connect(#{kubeconfig: secret::wrap(fs::read("kubeconfig.txt"))});
            print(`connected to ${c.server}`);
            print(`default namespace exists: ${kube::namespace_exists("default")}`);
            "#,
        )
        .args(["--config", "cluster.yaml", "--target", "azure"])
        .env("KUBECONFIG", "/nonexistent")
        .stdout_has(&format!("connected to {}", cluster.kube_url()))
        .stdout_has("default namespace exists: true")
        .run();
}

#[test]
fn ensure_namespace_creates_once_then_keeps() {
    let cluster = Rehearsal::start("empty");
    let script = r#"
        let r = kube::ensure_namespace("langfuse");
        print(`outcome ${r.outcome}`);
        print(`exists ${kube::namespace_exists("langfuse")} phase ${kube::namespace("langfuse").phase}`);
    "#;
    cluster
        .test(script)
        .stdout_has("outcome created")
        .stdout_has("exists true phase Active")
        .run();
    cluster.clear_requests();
    cluster.test(script).stdout_has("outcome kept").run();
    assert!(
        cluster.writes().is_empty(),
        "second run wrote: {:?}",
        cluster.writes()
    );
}

#[test]
fn apply_creates_then_keeps_then_configures_and_patch_and_delete_work() {
    let cluster = Rehearsal::start("empty");
    let script = r#"
        kube::ensure_namespace("apps");
        let cm = #{apiVersion: "v1", kind: "ConfigMap",
                   metadata: #{name: "settings", namespace: "apps", labels: #{app: "demo"}},
                   data: #{mode: "fast"}};
        print(`first ${kube::apply(cm).outcome}`);
        print(`second ${kube::apply(cm).outcome}`);
        cm.data.mode = "slow";
        let r = kube::apply(cm);
        print(`third ${r.outcome} ${r.changes}`);
        print(`live ${kube::get("cm", "apps", "settings").data.mode}`);
        print(`listed ${kube::list("ConfigMap", "apps", #{labels: "app=demo"}).len()}`);
        print(`by field ${kube::list("configmaps", "apps", #{fields: "metadata.name=settings"}).len()}`);
        print(`none ${kube::list("ConfigMap", "apps", #{labels: "app=other"}).len()}`);
        let p = kube::patch("ConfigMap", "apps", "settings", #{data: #{extra: "1"}}, "merge");
        print(`merge ${p.outcome} ${p.object.data.extra}`);
        let p = kube::patch("ConfigMap", "apps", "settings",
            [#{op: "replace", path: "/data/extra", value: "2"}], "json");
        print(`json ${p.outcome} ${p.object.data.extra}`);
        let p = kube::patch("ConfigMap", "apps", "settings", #{data: #{extra: "3"}}, "strategic");
        print(`strategic ${p.outcome} ${p.object.data.extra}`);
        print(`delete ${kube::delete("ConfigMap", "apps", "settings")}`);
        print(`again ${kube::delete("ConfigMap", "apps", "settings")}`);
        print(`exists ${kube::exists("ConfigMap", "apps", "settings")}`);
    "#;
    cluster
        .test(script)
        .arg("--yes")
        .stdout_has("first created")
        .stdout_has("second kept")
        .stdout_has("third configured [\"data.mode: fast → slow\"]")
        .stdout_has("live slow")
        .stdout_has("listed 1")
        .stdout_has("by field 1")
        .stdout_has("none 0")
        .stdout_has("merge patched 1")
        .stdout_has("json patched 2")
        .stdout_has("strategic patched 3")
        .stdout_has("delete deleted")
        .stdout_has("again absent")
        .stdout_has("exists false")
        .run();
    let applies: Vec<String> = cluster
        .writes()
        .into_iter()
        .filter(|w| w.starts_with("PATCH") && w.contains("fieldManager=lfrun"))
        .collect();
    assert_eq!(applies.len(), 2, "one apply per real change: {applies:?}");
}

#[test]
fn delete_by_selector_removes_exactly_the_matching_objects() {
    let cluster = Rehearsal::start("empty");
    cluster
        .test(
            r#"
            kube::ensure_namespace("apps");
            for n in ["a", "b", "c"] {
                kube::apply(#{apiVersion: "v1", kind: "ConfigMap",
                    metadata: #{name: n, namespace: "apps", labels: #{group: if n == "c" { "keep" } else { "drop" }}}});
            }
            let r = kube::delete("ConfigMap", "apps", #{labels: "group=drop"});
            print(`${r.outcome} ${r.deleted}`);
            print(`left ${kube::list("ConfigMap", "apps", #{labels: "group"}).map(|o| o.metadata.name)}`);
            "#,
        )
        .arg("--yes")
        .stdout_has("deleted [\"a\", \"b\"]")
        .stdout_has("left [\"c\"]")
        .run();
}

#[test]
fn errors_name_the_object_and_map_to_kinds() {
    let cluster = Rehearsal::start("empty");
    cluster
        .test(
            r#"
            fn kind_of(f) { let r = "no error"; try { f.call(); } catch (e) { r = `${e.kind}: ${e.message}`; } r }
            print(kind_of(|| kube::get("Secret", "langfuse", "langfuse-secrets")));
            print(kind_of(|| kube::get("Gizmo", "default", "x")));
            print(kind_of(|| kube::apply(#{apiVersion: "apps/v1", kind: "Deployment",
                metadata: #{name: "web", namespace: "default"},
                spec: #{replicas: "three"}})));
            print(kind_of(|| kube::apply(#{kind: "ConfigMap", metadata: #{name: "x"}})));
            print(kind_of(|| kube::apply(#{apiVersion: "v1", kind: "ConfigMap",
                metadata: #{name: "x", namespace: "nowhere"}})));
            print(kind_of(|| kube::patch("ConfigMap", "default", "missing", #{}, "merge")));
            print(kind_of(|| kube::patch("ConfigMap", "default", "missing", #{}, "sideways")));
            print(kind_of(|| kube::rollout_status("default", "Deployment", "ghost", 5)));
            "#,
        )
        .stdout_has("not_found: Secret langfuse/langfuse-secrets not found")
        .stdout_has("invalid: unknown kind `Gizmo`")
        .stdout_has("invalid: manifest Deployment default/web: spec.replicas: invalid type")
        .stdout_has("invalid: manifest ConfigMap x: missing apiVersion")
        .stdout_has("not_found: cannot apply ConfigMap nowhere/x: namespace nowhere does not exist")
        .stdout_has("not_found: ConfigMap default/missing not found")
        .stdout_has("invalid: unknown patch type `sideways`")
        .stdout_has("not_found: Deployment default/ghost not found")
        .run();
    assert!(
        cluster.writes().iter().all(|w| !w.contains("deployments")),
        "{:?}",
        cluster.writes()
    );
}

#[test]
fn an_unreachable_api_server_is_unavailable_with_a_hint() {
    Test::new()
        .file(
            "kubeconfig",
            "apiVersion: v1\nkind: Config\ncurrent-context: gone\nclusters:\n- name: gone\n  cluster:\n    server: http://127.0.0.1:9\ncontexts:\n- name: gone\n  context:\n    cluster: gone\n    user: u\nusers:\n- name: u\n  user: {}\n",
        )
        .file("cluster.yaml", "target: azure\nkube:\n  kubeconfig: kubeconfig\n")
        .script(
            r#"
            try { kube::namespace_exists("x"); } catch (e) { print(`${e.kind}: ${e.message} | ${e.hint}`); }
            "#,
        )
        .args(["--config", "cluster.yaml", "--target", "azure"])
        .stdout_has("unavailable: cannot get Namespace x: cannot reach the Kubernetes API server at http://127.0.0.1:9")
        .stdout_has("check that the cluster is running")
        .run();
}

#[test]
fn dry_run_reads_but_makes_no_write_requests() {
    let cluster = Rehearsal::start("empty");
    cluster.run(
        r#"
        kube::ensure_namespace("langfuse");
        kube::apply(#{apiVersion: "v1", kind: "ConfigMap", metadata: #{name: "old", namespace: "langfuse"}, data: #{a: "1"}});
        "#,
    );
    cluster.clear_requests();
    let out = cluster
        .test(
            r#"
            print(`ns ${kube::ensure_namespace("langfuse-new").outcome}`);
            print(`secret ${kube::ensure_secret("langfuse", "s", #{k: "v"}).outcome}`);
            print(`apply ${kube::apply(#{apiVersion: "v1", kind: "ConfigMap", metadata: #{name: "old", namespace: "langfuse"}, data: #{a: "2"}}).outcome}`);
            print(`patch ${kube::patch("ConfigMap", "langfuse", "old", #{data: #{b: "3"}}, "merge").outcome}`);
            print(`delete ${kube::delete("ConfigMap", "langfuse", "old")}`);
            print(`restart ${kube::restart_pods("langfuse", "app=none", 5).outcome}`);
            "#,
        )
        .arg("--dry-run")
        .stdout_has("ns planned")
        .stdout_has("secret planned")
        .stdout_has("apply planned")
        .stdout_has("patch planned")
        .stdout_has("delete planned")
        .stdout_has("restart none")
        .stdout_has("create namespace langfuse-new")
        .stdout_has("update ConfigMap langfuse/old")
        .run();
    assert!(out.stdout.contains("data.a: 1 → 2"), "{}", out.stdout);
    assert!(
        cluster.writes().is_empty(),
        "dry run wrote: {:?}",
        cluster.writes()
    );
    assert!(!cluster.requests().is_empty(), "dry run still reads");
}

#[test]
fn kinds_beyond_the_built_ins_are_found_by_discovery() {
    let cluster = Rehearsal::start("empty");
    cluster
        .test(
            r#"
            kube::apply(#{apiVersion: "apiextensions.k8s.io/v1", kind: "CustomResourceDefinition",
                metadata: #{name: "widgets.example.com"},
                spec: #{group: "example.com", scope: "Namespaced",
                        names: #{plural: "widgets", singular: "widget", kind: "Widget"},
                        versions: [#{name: "v1", served: true, storage: true,
                                     schema: #{openAPIV3Schema: #{type: "object", "x-kubernetes-preserve-unknown-fields": true}}}]}});
            kube::ensure_namespace("apps");
            let w = #{apiVersion: "example.com/v1", kind: "Widget",
                      metadata: #{name: "w1", namespace: "apps"}, spec: #{size: 3}};
            print(`apply ${kube::apply(w).outcome}`);
            print(`again ${kube::apply(w).outcome}`);
            print(`by group ${kube::get("widgets.example.com", "apps", "w1").spec.size}`);
            print(`by version ${kube::get("example.com/v1/Widget", "apps", "w1").metadata.name}`);
            print(`by kind ${kube::list("Widget", "apps").len()}`);
            print(`deleted ${kube::delete("widget", "apps", "w1")}`);
            "#,
        )
        .arg("--yes")
        .stdout_has("apply created")
        .stdout_has("again kept")
        .stdout_has("by group 3")
        .stdout_has("by version w1")
        .stdout_has("by kind 1")
        .stdout_has("deleted deleted")
        .run();
    // The bare kind name needed the server's list of kinds once, not once per call.
    let discoveries = cluster
        .requests()
        .into_iter()
        .filter(|r| r.path == "/apis")
        .count();
    assert!(discoveries <= 1, "discovery ran {discoveries} times");
}

#[test]
fn the_rehearsal_target_hands_kube_its_kubeconfig() {
    // The CLI's own path: `--target sim` starts the rehearsal and the kube:: client
    // finds it through the run's Environment, like any other cluster.
    Test::new()
        .script(
            r#"
            print(`outcome ${kube::ensure_namespace("langfuse").outcome}`);
            print(`server ${kube::version().server}`);
            "#,
        )
        .args(["--target", "sim", "--scenario", "empty"])
        .stdout_has("outcome created")
        .stdout_has("server http://127.0.0.1:")
        .run();
}
