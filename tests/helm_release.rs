//! `helm::install`, `upgrade`, `upgrade_reuse`, `history`, `status`, `get_values` and
//! `rollback` with the real helm 3.17 and 4.1 and chart 1.5.41, against the rehearsal
//! cluster: idempotent re-runs change nothing, a dry run writes nothing, a release
//! stuck in pending-upgrade is `release_pending` naming the revision to roll back to,
//! and a secret in values never shows.

use crate::charts::{with_helm_config, IDENTITY};
use crate::rehearsal::Rehearsal;
use crate::test::Test;

/// A run with the example config, helm `which`, the chart mirror and this cluster.
fn on(cluster: &Rehearsal, which: &str) -> Test {
    let kubeconfig = cluster.kubeconfig().display().to_string();
    with_helm_config(which, move |c| {
        format!("{c}\nkube:\n  kubeconfig: {kubeconfig}\n")
    })
}

const BUILD: &str = r#"
    import "values" as values;
    kube::ensure_namespace("langfuse");
    let v = values::build("abc1234", "IDENTITY");
"#;

fn script(body: &str) -> String {
    format!("{}{body}", BUILD.replace("IDENTITY", IDENTITY))
}

fn lifecycle(which: &str) {
    let cluster = Rehearsal::start("empty");
    on(&cluster, which)
        .script(&script(
            r#"
            let r = helm::install(v);
            print(`install ${r.outcome} rev ${r.revision} chart ${r.chart_version}`);
            "#,
        ))
        .stdout_has("install installed rev 1 chart 1.5.41")
        .run();

    // a second run with the same values changes nothing, and writes nothing to the cluster
    cluster.clear_requests();
    on(&cluster, which)
        .script(&script(
            r#"
            let r = helm::install(v);
            print(`again ${r.outcome} rev ${r.revision}`);
            "#,
        ))
        .stdout_has("again kept rev 1")
        .run();
    let writes: Vec<String> = cluster
        .writes()
        .into_iter()
        .filter(|w| !w.contains("/namespaces?") && !w.ends_with("/namespaces"))
        .collect();
    assert!(writes.is_empty(), "an identical install wrote: {writes:?}");

    // a dry-run upgrade plans with a diff and writes nothing
    cluster.clear_requests();
    on(&cluster, which)
        .script(&script(
            r#"
            v.langfuse.web.image.tag = "def5678";
            v.langfuse.worker.image.tag = "def5678";
            let u = helm::upgrade(v);
            print(`planned ${u.outcome}`);
            "#,
        ))
        .arg("--dry-run")
        .stdout_has("planned planned")
        .stdout_has("helm upgrade langfuse (chart 1.5.41)")
        .run();
    assert!(
        cluster.writes().iter().all(|w| !w.contains("/secrets")),
        "dry run wrote: {:?}",
        cluster.writes()
    );

    on(&cluster, which)
        .script(&script(
            r#"
            v.langfuse.web.image.tag = "def5678";
            v.langfuse.worker.image.tag = "def5678";
            let u = helm::upgrade(v);
            print(`upgrade ${u.outcome} rev ${u.revision}`);
            print(`diff ${u.diff}`);
            // §11 reuse-values mode; an all-digit SHA stays a string
            let r = helm::upgrade_reuse(values::image_overrides("1234567"));
            print(`reuse ${r.outcome} rev ${r.revision}`);
            let again = helm::upgrade_reuse(values::image_overrides("1234567"));
            print(`reuse again ${again.outcome}`);
            let got = helm::get_values();
            print(`tag ${got.langfuse.web.image.tag} ${type_of(got.langfuse.web.image.tag)} bucket ${got.s3.bucket}`);
            let h = helm::history();
            print(`history ${h.map(|x| x.revision)} last ${h[-1].status} ${h[-1].chart_version}`);
            let s = helm::status();
            print(`status ${s.status} rev ${s.revision}`);
            print(`last deployed ${helm::last_deployed().revision}`);
            let rb = helm::rollback(2);
            print(`rollback ${rb.outcome} to ${rb.to_revision} rev ${rb.revision}`);
            print(`after ${helm::get_values().langfuse.web.image.tag}`);
            "#,
        ))
        .arg("--yes")
        .stdout_has("upgrade upgraded rev 2")
        .stdout_has("~ langfuse.web.image.tag: abc1234 → def5678")
        .stdout_has("reuse upgraded rev 3")
        .stdout_has("reuse again kept")
        .stdout_has("tag 1234567 string bucket langfuse")
        .stdout_has("history [1, 2, 3] last deployed 1.5.41")
        .stdout_has("status deployed rev 3")
        .stdout_has("last deployed 3")
        .stdout_has("rollback rolled_back to 2 rev 4")
        .stdout_has("after def5678")
        .run();
}

#[test]
fn install_upgrade_history_rollback_with_helm3() {
    lifecycle("helm3");
}

#[test]
fn install_upgrade_history_rollback_with_helm4() {
    lifecycle("helm4");
}

#[test]
fn rollback_is_refused_without_a_terminal_or_yes() {
    let cluster = Rehearsal::start("empty");
    on(&cluster, "helm4")
        .script(&script(
            r#"
            helm::install(v);
            v.langfuse.web.image.tag = "def5678";
            helm::upgrade(v);
            helm::rollback(0);
            "#,
        ))
        .status(1)
        .stderr_has("error[refused]")
        .stderr_has("helm rollback langfuse to revision 1")
        .stderr_has("--yes")
        .run();
}

#[test]
fn policy_stops_an_install_before_the_cluster_is_touched() {
    let cluster = Rehearsal::start("empty");
    cluster.clear_requests();
    on(&cluster, "helm3")
        .script(&script(
            r#"
            v.s3.accessKeyId = #{ value: "AKIAEXAMPLEKEY" };
            helm::install(v);
            "#,
        ))
        .status(1)
        .stderr_has("error[policy]")
        .stderr_has("[no-storage-keys] `s3.accessKeyId` is set")
        .run();
    let secrets: Vec<String> = cluster
        .writes()
        .into_iter()
        .filter(|w| w.contains("/secrets"))
        .collect();
    assert!(secrets.is_empty(), "{secrets:?}");
    on(&cluster, "helm3")
        .script(r#"print(`history ${helm::history().len()}`);"#)
        .stdout_has("history 0")
        .run();
}

#[test]
fn a_secret_in_values_never_shows() {
    let cluster = Rehearsal::start("empty");
    let canary = "canary-helm-values-secret-8086";
    // helm runs through a wrapper that records its command lines
    let real = crate::charts::helm("helm4");
    let t = on(&cluster, "helm4").file(
        "bin/helm",
        &format!(
            "#!/bin/sh\nprintf '%s\\n' \"$*\" >> \"$(dirname \"$0\")/argv.log\"\nexec {} \"$@\"\n",
            real.display()
        ),
    );
    crate::helm_template::make_executable(&t.dir().join("bin/helm"));
    let out = t
        .args(["--set", "tools.helm=bin/helm"])
        .script(&script(&format!(
            r#"
            // a password kept in values on purpose (plain-text secrets are only a warning)
            v.redis.auth = #{{ password: secret::wrap("{canary}") }};
            let r = helm::install(v);
            print(`install ${{r.outcome}}`);
            v.langfuse.web.image.tag = "def5678";
            helm::upgrade(v);
            print(to_yaml(helm::get_values().redis));
            "#
        )))
        .args(["-v"])
        .stdout_has("install installed")
        .stdout_lacks(canary)
        .stderr_lacks(canary)
        .stderr_has("plaintext-secrets")
        .run();
    assert!(!out.journal().contains(canary));
    let argv = std::fs::read_to_string(out.path("bin/argv.log")).unwrap();
    assert!(
        argv.contains("install langfuse") && argv.contains("--values"),
        "{argv}"
    );
    assert!(!argv.contains(canary), "{argv}");
    // the plan of the same upgrade in a dry run
    let plan = on(&cluster, "helm4")
        .script(&script(&format!(
            r#"
            v.redis.auth = #{{ password: secret::wrap("{canary}-2") }};
            helm::upgrade(v);
            "#
        )))
        .args(["--dry-run", "--output", "json"])
        .stdout_has("redis.auth.password: *** → ***")
        .stdout_lacks(canary)
        .run();
    assert!(!plan.journal().contains(canary));
}

#[test]
fn pending_upgrade_is_release_pending_with_the_revision_to_roll_back_to() {
    let cluster = Rehearsal::start("empty");
    on(&cluster, "helm3")
        .script(&script("helm::install(v);"))
        .run();
    stage_pending_upgrade(&cluster);
    on(&cluster, "helm3")
        .script(&script(
            r#"
            v.langfuse.web.image.tag = "def5678";
            try { helm::upgrade(v); } catch (e) { print(`caught ${e.kind} revision ${e.revision} status ${e.status}`); print(e.hint); }
            print(`history ${helm::history().map(|h| h.status)}`);
            helm::rollback(1);
            print(`after rollback ${helm::status().status}`);
            print(`upgrade ${helm::upgrade(v).outcome}`);
            "#,
        ))
        .arg("--yes")
        .stdout_has("caught release_pending revision 1 status pending-upgrade")
        .stdout_has("helm rollback langfuse 1 -n langfuse")
        .stdout_has("history [\"deployed\", \"pending-upgrade\"]")
        .stdout_has("after rollback deployed")
        .stdout_has("upgrade upgraded")
        .run();
}

/// What an interrupted `helm upgrade` leaves behind: a newer revision of the release
/// stuck in `pending-upgrade` (written as helm writes it, a labelled release Secret).
fn stage_pending_upgrade(cluster: &Rehearsal) {
    let kubectl = crate::test::tool("kubectl");
    let (code, out, err) = cluster.tool(
        &kubectl,
        &[
            "get",
            "secrets",
            "-n",
            "langfuse",
            "-l",
            "owner=helm,name=langfuse",
            "-o",
            "json",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let list: serde_json::Value = serde_json::from_str(&out).unwrap();
    let latest = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .max_by_key(|s| {
            s["metadata"]["labels"]["version"]
                .as_str()
                .unwrap()
                .parse::<u64>()
                .unwrap()
        })
        .unwrap()
        .clone();
    let mut release =
        lfrun_sim::helm_release::decode(latest["data"]["release"].as_str().unwrap()).unwrap();
    let version = release["version"].as_u64().unwrap() + 1;
    release["version"] = version.into();
    release["info"]["status"] = "pending-upgrade".into();
    release["info"]["description"] = "Preparing upgrade".into();
    let secret = serde_json::json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "helm.sh/release.v1",
        "metadata": {
            "name": format!("sh.helm.release.v1.langfuse.v{version}"),
            "namespace": "langfuse",
            "labels": {"owner": "helm", "name": "langfuse", "status": "pending-upgrade", "version": version.to_string()},
        },
        "data": {"release": lfrun_sim::helm_release::encode(&release)},
    });
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pending.json");
    std::fs::write(&file, secret.to_string()).unwrap();
    let (code, _, err) = cluster.tool(&kubectl, &["create", "-f", file.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
}
