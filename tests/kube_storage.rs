//! PVCs, storage classes, resize (and its refusals), capacity waits and volume
//! usage, on a ClickHouse-like StatefulSet in the rehearsal cluster (guide §10).

use crate::rehearsal::Rehearsal;

/// Creates namespace `apps` and StatefulSet `ch` with an 8Gi claim template `data`,
/// and waits for it: its claim is `data-ch-0`.
const CLICKHOUSE: &str = r#"
    kube::ensure_namespace("apps");
    kube::apply(#{apiVersion: "apps/v1", kind: "StatefulSet",
        metadata: #{name: "ch", namespace: "apps"},
        spec: #{replicas: 1, serviceName: "ch", selector: #{matchLabels: #{app: "ch"}},
                template: #{metadata: #{labels: #{app: "ch"}},
                            spec: #{containers: [#{name: "clickhouse", image: "lfrunacr.azurecr.io/langfuse-web:3.224.1",
                                                   volumeMounts: [#{name: "data", mountPath: "/var/lib/clickhouse"}]}]}},
                volumeClaimTemplates: [#{metadata: #{name: "data"},
                    spec: #{accessModes: ["ReadWriteOnce"], resources: #{requests: #{storage: "8Gi"}}}}]}});
    kube::rollout_status("apps", "StatefulSet", "ch", 60);
"#;

#[test]
fn lists_claims_classes_templates_and_usage() {
    let cluster = Rehearsal::start("empty");
    let script = CLICKHOUSE.to_string()
        + r#"
        let pvc = kube::pvc("apps", "data-ch-0");
        print(`pvc ${pvc.phase} requested ${pvc.requested} capacity ${pvc.capacity} bytes ${pvc.capacity_bytes} class ${pvc.storage_class}`);
        print(`listed ${kube::pvcs("apps").map(|p| p.name)}`);
        let sc = kube::storage_class("");
        print(`default class ${sc.name} expandable ${sc.allow_volume_expansion} default ${sc.is_default}`);
        print(`classes ${kube::storage_classes().len() > 0}`);
        let t = kube::volume_claim_templates("apps", "ch")[0];
        print(`template ${t.name} ${t.size} claims ${t.claims}`);
        let u = kube::volume_usage("apps");
        print(`usage ${u.len()} for ${u[0].pvc} pod ${u[0].pod} capacity ${u[0].capacity_bytes} percent ${type_of(u[0].used_percent)}`);
        "#;
    cluster
        .test(&script)
        .stdout_has("pvc Bound requested 8Gi capacity 8Gi bytes 8589934592 class managed-csi")
        .stdout_has("listed [\"data-ch-0\"]")
        .stdout_has("default class managed-csi expandable true default true")
        .stdout_has("classes true")
        .stdout_has("template data 8Gi claims [\"data-ch-0\"]")
        .stdout_has("usage 1 for data-ch-0 pod ch-0 capacity 8589934592 percent f64")
        .run();
}

#[test]
fn resize_refuses_a_shrink_then_grows_after_a_restart() {
    let cluster = Rehearsal::start("empty");
    cluster.run(CLICKHOUSE);
    cluster.clear_requests();
    cluster
        .test(
            r#"
            try { kube::resize_pvc("apps", "data-ch-0", "5Gi"); print("shrunk?!"); }
            catch (e) { print(`${e.kind} ${e.reason}: ${e.message}`); }
            try { kube::resize_pvc("apps", "data-ch-0", "lots"); } catch (e) { print(`${e.kind}: ${e.message}`); }
            "#,
        )
        .arg("--yes")
        .stdout_has("invalid shrink: refusing to shrink PersistentVolumeClaim apps/data-ch-0 from 8Gi to 5Gi")
        .stdout_has("invalid: `lots` is not a storage size")
        .run();
    assert!(
        cluster.writes().is_empty(),
        "refusals must not write: {:?}",
        cluster.writes()
    );

    // In a dry run the resize is planned, nothing is sent, and the wait only reports.
    cluster
        .test(
            r#"
            print(`plan ${kube::resize_pvc("apps", "data-ch-0", "20Gi").outcome}`);
            print(`wait ${kube::wait_pvc_capacity("apps", "data-ch-0", "20Gi", 30).ready}`);
            "#,
        )
        .arg("--dry-run")
        .stdout_has("plan planned")
        .stdout_has("wait false")
        .stdout_has("resize pvc apps/data-ch-0")
        .run();
    assert!(
        cluster.writes().is_empty(),
        "dry run wrote: {:?}",
        cluster.writes()
    );

    cluster
        .test(
            r#"
            let r = kube::resize_pvc("apps", "data-ch-0", "20Gi");
            print(`resize ${r.outcome} ${r.from} -> ${r.to} (${r.storage_class})`);
            print(`again ${kube::resize_pvc("apps", "data-ch-0", "20Gi").outcome}`);
            try { kube::wait_pvc_capacity("apps", "data-ch-0", "20Gi", 2); print("grown without restart?!"); }
            catch (e) { print(`before restart: ${e.kind}: ${e.message}`); print(`hint: ${e.hint}`); }
            print(`restart ${kube::restart_pods("apps", "app=ch", 60).outcome}`);
            let p = kube::wait_pvc_capacity("apps", "data-ch-0", "20Gi", 60);
            print(`after restart ready ${p.ready} capacity ${p.capacity} resizing ${p.resizing}`);
            print(`usage capacity ${kube::volume_usage("apps")[0].capacity}`);
            "#,
        )
        .arg("--yes")
        .stdout_has("resize resized 8Gi -> 20Gi (managed-csi)")
        .stdout_has("again kept")
        .stdout_has("before restart: timeout: PersistentVolumeClaim apps/data-ch-0 did not reach 20Gi within 2 s")
        .stdout_has("hint: restart the pod that mounts it")
        .stdout_has("restart restarted")
        .stdout_has("after restart ready true capacity 20Gi resizing false")
        .stdout_has("usage capacity 20.0 GiB")
        .run();
}

#[test]
fn resize_refuses_a_class_without_expansion_before_patching() {
    let cluster = Rehearsal::start("no-volume-expansion");
    cluster.run(CLICKHOUSE);
    cluster.clear_requests();
    cluster
        .test(
            r#"
            print(`expandable ${kube::storage_class("").allow_volume_expansion}`);
            try { kube::resize_pvc("apps", "data-ch-0", "50Gi"); print("resized?!"); }
            catch (e) { print(`${e.kind} ${e.reason} ${e.storage_class}: ${e.message}`); print(`hint: ${e.hint}`); }
            "#,
        )
        .arg("--yes")
        .stdout_has("expandable false")
        .stdout_has("forbidden no_expansion managed-csi: StorageClass managed-csi does not allow volume expansion, so PersistentVolumeClaim apps/data-ch-0 cannot grow from 8Gi to 50Gi")
        .stdout_has("hint: nothing was changed")
        .run();
    assert!(cluster.writes().is_empty(), "{:?}", cluster.writes());
}
