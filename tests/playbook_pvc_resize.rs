//! The pvc-resize playbook (guide §10, ClickHouse disk full).

use crate::test::{playbook, Test};

fn requests_to_pvcs(out: &crate::test::Output, method: &str) -> usize {
    out.sim_requests()
        .iter()
        .filter(|r| {
            r["method"] == method
                && r["path"]
                    .as_str()
                    .unwrap_or("")
                    .contains("/persistentvolumeclaims/")
        })
        .count()
}

#[test]
fn full_clickhouse_disk_is_grown_in_place() {
    let out = Test::new()
        .args([
            playbook("pvc-resize").as_str(),
            "--scenario",
            "clickhouse-disk-full",
            "--set",
            "clickhouse.disk=100Gi",
            "--yes",
        ])
        .stdout_has("PASS data-langfuse-clickhouse-shard0-0")
        .stdout_has("(100.0%)")
        .stdout_has("PASS storage class managed-csi allows expansion")
        .stdout_has("~ changed")
        .stdout_has("PASS data-langfuse-clickhouse-shard0-0 capacity")
        .run();
    let pvc = out
        .sim_object(
            "v1/PersistentVolumeClaim",
            "langfuse/data-langfuse-clickhouse-shard0-0",
        )
        .unwrap();
    assert_eq!(pvc["status"]["capacity"]["storage"], "100Gi");
}

#[test]
fn without_volume_expansion_it_stops_before_changing_anything() {
    let out = Test::new()
        .args([
            playbook("pvc-resize").as_str(),
            "--scenario",
            "no-volume-expansion",
            "--set",
            "clickhouse.disk=100Gi",
            "--yes",
        ])
        .status(1)
        .stdout_has("FAIL storage class managed-csi allows expansion")
        .stdout_has("kubectl delete statefulset -n langfuse langfuse-clickhouse-shard0")
        .stdout_has("Back up ClickHouse")
        .stderr_has("nothing was changed")
        .run();
    assert_eq!(requests_to_pvcs(&out, "PATCH"), 0, "no PVC may be patched");
}

#[test]
fn shrinking_is_refused() {
    Test::new()
        .args([
            playbook("pvc-resize").as_str(),
            "--scenario",
            "healthy",
            "--set",
            "clickhouse.disk=10Gi",
            "--yes",
        ])
        .status(1)
        .stderr_has("shrinking to 10Gi is not possible")
        .run();
}

#[test]
fn resize_is_refused_without_confirmation() {
    let out = Test::new()
        .args([
            playbook("pvc-resize").as_str(),
            "--scenario",
            "clickhouse-disk-full",
            "--set",
            "clickhouse.disk=100Gi",
        ])
        .status(1)
        .stderr_has("--yes")
        .run();
    assert_eq!(requests_to_pvcs(&out, "PATCH"), 0);
}
