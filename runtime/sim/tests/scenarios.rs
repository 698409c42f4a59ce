//! Each Kubernetes failure scenario, after a real `helm install` of Langfuse and
//! `apply_faults`, shows the symptom the guide's §10 describes.

mod common;
use common::*;
use serde_json::Value;
use std::time::Duration;

const NS: &str = "langfuse";

async fn deployed(scenario: &str) -> (TestSim, std::path::PathBuf) {
    let helm = tool("helm3");
    let t = start(scenario).await;
    assert!(t.sim.deploy_pending().await.unwrap());
    install_langfuse(&t, &helm, NS).await;
    t.sim.apply_faults().await.unwrap();
    assert!(!t.sim.deploy_pending().await.unwrap());
    (t, helm)
}

fn pods_of<'a>(list: &'a Value, component: &str) -> Vec<&'a Value> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["metadata"]["labels"]["app.kubernetes.io/component"] == component)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthy_has_every_pod_ready() {
    let (t, _) = deployed("healthy").await;
    let pods = t
        .wait_for(&format!("/api/v1/namespaces/{NS}/pods"), "all ready", |l| {
            l["items"].as_array().unwrap().iter().all(|p| {
                p["status"]["conditions"].as_array().is_some_and(|c| {
                    c.iter()
                        .any(|c| c["type"] == "Ready" && c["status"] == "True")
                })
            })
        })
        .await;
    assert!(pods["items"].as_array().unwrap().len() >= 6);
    assert_eq!(
        t.get(&format!(
            "/api/v1/namespaces/{NS}/persistentvolumeclaims/data-langfuse-clickhouse-shard0-0"
        ))
        .await
        .body["status"]["phase"],
        "Bound"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clickhouse_disk_full_drops_traces_until_resized() {
    let (t, _) = deployed("clickhouse-disk-full").await;
    let claim = "data-langfuse-clickhouse-shard0-0";
    let pod = t
        .get(&format!(
            "/api/v1/namespaces/{NS}/pods/langfuse-clickhouse-shard0-0"
        ))
        .await
        .body;
    let node = pod["spec"]["nodeName"].as_str().unwrap();
    let summary = t
        .get(&format!("/api/v1/nodes/{node}/proxy/stats/summary"))
        .await
        .body;
    let volume = summary["pods"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["volume"].as_array().cloned().unwrap_or_default())
        .find(|v| v["pvcRef"]["name"] == claim)
        .unwrap();
    assert_eq!(
        volume["usedBytes"], volume["capacityBytes"],
        "the volume is full"
    );

    // a minute of virtual time later, the worker has logged dropped traces
    t.sim.advance_clock(Duration::from_secs(120)).await.unwrap();
    let worker = pods_of(
        &t.get(&format!("/api/v1/namespaces/{NS}/pods")).await.body,
        "worker",
    )[0]["metadata"]["name"]
        .as_str()
        .unwrap()
        .to_string();
    let logs = t
        .wait_for(
            &format!("/api/v1/namespaces/{NS}/pods/{worker}/log"),
            "dropped traces",
            |l| l.as_str().is_some_and(|s| s.contains("dropped")),
        )
        .await;
    assert!(logs.as_str().unwrap().contains("traces/observations"));
    let ch_logs = t
        .get(&format!(
            "/api/v1/namespaces/{NS}/pods/langfuse-clickhouse-shard0-0/log"
        ))
        .await
        .body;
    assert!(
        ch_logs.as_str().unwrap().contains("not enough space"),
        "{ch_logs}"
    );

    // the guide's fix: resize, restart ClickHouse; the worker stops dropping
    let r = t
        .patch(
            &format!("/api/v1/namespaces/{NS}/persistentvolumeclaims/{claim}"),
            "application/merge-patch+json",
            r#"{"spec":{"resources":{"requests":{"storage":"50Gi"}}}}"#,
        )
        .await;
    assert_eq!(r.status, 200);
    t.delete(&format!(
        "/api/v1/namespaces/{NS}/pods?labelSelector=app.kubernetes.io%2Fname%3Dclickhouse"
    ))
    .await;
    t.wait_for(
        &format!("/api/v1/namespaces/{NS}/persistentvolumeclaims/{claim}"),
        "resized",
        |p| p["status"]["capacity"]["storage"] == "50Gi",
    )
    .await;
    let before = t
        .get(&format!("/api/v1/namespaces/{NS}/pods/{worker}/log"))
        .await
        .body
        .as_str()
        .unwrap()
        .lines()
        .count();
    t.sim.advance_clock(Duration::from_secs(180)).await.unwrap();
    let after = t
        .wait_for(
            &format!("/api/v1/namespaces/{NS}/pods/{worker}/log"),
            "more lines",
            |l| l.as_str().is_some_and(|s| s.lines().count() > before),
        )
        .await;
    let new_lines: Vec<&str> = after.as_str().unwrap().lines().skip(before).collect();
    assert!(
        new_lines.iter().all(|l| !l.contains("dropped")),
        "{new_lines:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn db_not_ready_crash_loops_web_and_worker() {
    let (t, _) = deployed("db-not-ready").await;
    let list = t
        .wait_for(
            &format!("/api/v1/namespaces/{NS}/pods"),
            "crash loop",
            |l| {
                let pods = pods_of(l, "web");
                pods.len() == 1
                    && pods[0]["status"]["containerStatuses"][0]["restartCount"]
                        .as_i64()
                        .unwrap_or(0)
                        >= 2
            },
        )
        .await;
    let web = pods_of(&list, "web")[0];
    assert_eq!(web["status"]["containerStatuses"][0]["ready"], false);
    let pg = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["metadata"]["name"] == "langfuse-postgresql-0")
        .unwrap();
    assert_eq!(pg["status"]["containerStatuses"][0]["ready"], false);
    let name = web["metadata"]["name"].as_str().unwrap();
    t.wait_for(
        &format!("/api/v1/namespaces/{NS}/pods/{name}"),
        "CrashLoopBackOff",
        |p| p["status"]["containerStatuses"][0]["state"]["waiting"]["reason"] == "CrashLoopBackOff",
    )
    .await;
    let previous = t
        .get(&format!(
            "/api/v1/namespaces/{NS}/pods/{name}/log?previous=true"
        ))
        .await
        .body;
    assert!(
        previous
            .as_str()
            .unwrap()
            .contains("Can't reach database server"),
        "{previous}"
    );
    let events = t
        .get(&format!(
            "/api/v1/namespaces/{NS}/events?fieldSelector=involvedObject.name%3D{name}"
        ))
        .await
        .body;
    assert!(events["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["reason"] == "BackOff"
            && e["message"]
                .as_str()
                .unwrap()
                .starts_with("Back-off restarting failed container")));
    let pg_events = t.get(&format!("/api/v1/namespaces/{NS}/events?fieldSelector=involvedObject.name%3Dlangfuse-postgresql-0,reason%3DUnhealthy")).await.body;
    assert!(!pg_events["items"].as_array().unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn image_missing_fails_to_pull() {
    let (t, _) = deployed("image-missing").await;
    let list = t
        .wait_for(
            &format!("/api/v1/namespaces/{NS}/pods"),
            "image pull failures",
            |l| {
                ["web", "worker"].iter().all(|c| {
                    pods_of(l, c).iter().any(|p| {
                        p["status"]["containerStatuses"][0]["state"]["waiting"]["reason"]
                            .as_str()
                            .is_some_and(|r| r == "ImagePullBackOff" || r == "ErrImagePull")
                    })
                })
            },
        )
        .await;
    let web = pods_of(&list, "web")
        .into_iter()
        .find(|p| p["metadata"]["deletionTimestamp"].is_null())
        .unwrap();
    let message = web["status"]["containerStatuses"][0]["state"]["waiting"]["message"]
        .as_str()
        .unwrap_or("");
    assert!(
        message.contains("lfrunacr.azurecr.io/langfuse-web:3.224.1")
            && message.contains("not found"),
        "{message}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn helm_pending_upgrade_blocks_upgrades() {
    let (t, helm) = deployed("helm-pending-upgrade").await;
    let kc = t.kubeconfig();
    let history = run_ok(&helm, &kc, &["history", "langfuse", "-n", NS], t.dir.path()).await;
    assert!(
        history.lines().last().unwrap().contains("pending-upgrade"),
        "{history}"
    );
    let secret = t
        .get(&format!(
            "/api/v1/namespaces/{NS}/secrets/sh.helm.release.v1.langfuse.v2"
        ))
        .await
        .body;
    assert_eq!(secret["metadata"]["labels"]["status"], "pending-upgrade");
    let values = t.dir.path().join("values.yaml");
    let chart = langfuse_chart();
    let out = run(
        &helm,
        &kc,
        &[
            "upgrade",
            "langfuse",
            chart.to_str().unwrap(),
            "-n",
            NS,
            "-f",
            values.to_str().unwrap(),
        ],
        t.dir.path(),
    )
    .await;
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("another operation (install/upgrade/rollback) is in progress"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
