//! Persistent volume claims: binding, the resize rules of the real API server, the
//! FileSystemResizePending → restart → new capacity sequence, and kubelet volume stats.

mod common;
use common::*;
use serde_json::json;

const PVC: &str = "/api/v1/namespaces/v/persistentvolumeclaims/data-db-0";

async fn with_statefulset(scenario: &str) -> TestSim {
    let t = start(scenario).await;
    t.post("/api/v1/namespaces", &namespace("v")).await;
    let sts = json!({
        "apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db"},
        "spec": {"replicas": 1, "serviceName": "db", "selector": {"matchLabels": {"app": "db"}},
                 "template": {"metadata": {"labels": {"app": "db"}}, "spec": {"containers": [{"name": "db", "image": "postgres:17"}]}},
                 "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "8Gi"}}}}]}
    });
    t.post("/apis/apps/v1/namespaces/v/statefulsets", &sts)
        .await;
    t.wait_for(
        "/apis/apps/v1/namespaces/v/statefulsets/db",
        "db ready",
        |s| s["status"]["readyReplicas"] == 1,
    )
    .await;
    t
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resize_waits_for_a_pod_restart() {
    let t = with_statefulset("empty").await;
    let r = t
        .patch(
            PVC,
            "application/merge-patch+json",
            r#"{"spec":{"resources":{"requests":{"storage":"50Gi"}}}}"#,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let pvc = t
        .wait_for(PVC, "resize pending", |p| {
            p["status"]["conditions"]
                .as_array()
                .is_some_and(|c| c.iter().any(|c| c["type"] == "FileSystemResizePending"))
        })
        .await;
    assert_eq!(
        pvc["status"]["capacity"]["storage"], "8Gi",
        "capacity changes only after the restart"
    );
    assert_eq!(pvc["status"]["allocatedResources"]["storage"], "50Gi");
    let pv = t
        .get(&format!(
            "/api/v1/persistentvolumes/{}",
            pvc["spec"]["volumeName"].as_str().unwrap()
        ))
        .await
        .body;
    assert_eq!(
        pv["spec"]["capacity"]["storage"], "50Gi",
        "the disk itself grew"
    );
    // still pending while the old pod runs
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(
        t.get(PVC).await.body["status"]["capacity"]["storage"],
        "8Gi"
    );

    // the guide's step: restart the pod using it
    assert_eq!(
        t.delete("/api/v1/namespaces/v/pods?labelSelector=app%3Ddb")
            .await
            .status,
        200
    );
    let pvc = t
        .wait_for(PVC, "new capacity", |p| {
            p["status"]["capacity"]["storage"] == "50Gi"
        })
        .await;
    assert!(pvc["status"].get("conditions").is_none());
    let events = t
        .get("/api/v1/namespaces/v/events?fieldSelector=involvedObject.name%3Ddata-db-0")
        .await
        .body;
    let reasons: Vec<&str> = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["reason"].as_str().unwrap())
        .collect();
    for r in [
        "ExternalExpanding",
        "Resizing",
        "FileSystemResizeRequired",
        "FileSystemResizeSuccessful",
    ] {
        assert!(reasons.contains(&r), "{r} missing from {reasons:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shrinking_is_forbidden_with_the_real_message() {
    let t = with_statefulset("empty").await;
    let r = t
        .patch(
            PVC,
            "application/merge-patch+json",
            r#"{"spec":{"resources":{"requests":{"storage":"1Gi"}}}}"#,
        )
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(r.body["reason"], "Invalid");
    assert_eq!(
        r.body["message"],
        "PersistentVolumeClaim \"data-db-0\" is invalid: spec.resources.requests.storage: Forbidden: field can not be less than previous value"
    );
    assert_eq!(
        r.body["details"]["causes"][0]["reason"],
        "FieldValueForbidden"
    );
    assert_eq!(
        t.get(PVC).await.body["spec"]["resources"]["requests"]["storage"],
        "8Gi"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn classes_without_expansion_refuse_resizes() {
    let t = with_statefulset("no-volume-expansion").await;
    let r = t
        .patch(
            PVC,
            "application/strategic-merge-patch+json",
            r#"{"spec":{"resources":{"requests":{"storage":"50Gi"}}}}"#,
        )
        .await;
    assert_eq!(r.status, 403);
    assert_eq!(r.body["reason"], "Forbidden");
    assert_eq!(
        r.body["message"],
        "persistentvolumeclaims \"data-db-0\" is forbidden: only dynamically provisioned pvc can be resized and the storageclass that provisions the pvc must support resize"
    );
    let sc = t
        .get("/apis/storage.k8s.io/v1/storageclasses/managed-csi")
        .await
        .body;
    assert_eq!(sc["allowVolumeExpansion"], false);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubelet_stats_report_volume_usage() {
    let t = with_statefulset("empty").await;
    let pod = t.get("/api/v1/namespaces/v/pods/db-0").await.body;
    let node = pod["spec"]["nodeName"].as_str().unwrap().to_string();
    let r = t
        .post(
            "/_sim/disk-usage?namespace=v&claim=data-db-0&percent=100",
            &json!({}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let summary = t
        .get(&format!("/api/v1/nodes/{node}/proxy/stats/summary"))
        .await
        .body;
    assert_eq!(summary["node"]["nodeName"], node.as_str());
    let pod_stats = summary["pods"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["podRef"]["name"] == "db-0")
        .unwrap();
    let volume = pod_stats["volume"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["pvcRef"]["name"] == "data-db-0")
        .unwrap();
    assert_eq!(volume["name"], "data");
    assert_eq!(volume["pvcRef"]["namespace"], "v");
    assert_eq!(volume["capacityBytes"], 8u64 * 1024 * 1024 * 1024);
    assert_eq!(volume["usedBytes"], volume["capacityBytes"]);
    assert_eq!(volume["availableBytes"], 0);
    assert_eq!(
        t.get("/api/v1/nodes/no-such-node/proxy/stats/summary")
            .await
            .status,
        404
    );
}
