//! Simulated controllers: Deployments roll out, pods come back, StatefulSets get claims,
//! image pulls fail, progress deadlines expire, events are recorded.

mod common;
use common::*;
use serde_json::{json, Value};
use std::time::Duration;

fn items(v: &Value) -> Vec<Value> {
    v["items"].as_array().cloned().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deployment_rolls_out_and_deleted_pods_come_back() {
    let t = start("empty").await;
    t.post("/api/v1/namespaces", &namespace("c")).await;
    t.post(
        "/apis/apps/v1/namespaces/c/deployments",
        &deployment("web", "nginx:1.27", 2),
    )
    .await;
    let d = t
        .wait_for(
            "/apis/apps/v1/namespaces/c/deployments/web",
            "web available",
            |d| d["status"]["availableReplicas"] == 2,
        )
        .await;
    assert_eq!(d["status"]["observedGeneration"], 1);
    assert_eq!(d["status"]["updatedReplicas"], 2);
    let conds: Vec<(String, String)> = d["status"]["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["type"].as_str().unwrap().into(),
                c["reason"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert!(conds.contains(&("Available".into(), "MinimumReplicasAvailable".into())));
    assert!(conds.contains(&("Progressing".into(), "NewReplicaSetAvailable".into())));

    let rs = items(&t.get("/apis/apps/v1/namespaces/c/replicasets").await.body);
    assert_eq!(rs.len(), 1);
    let hash = rs[0]["metadata"]["labels"]["pod-template-hash"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(rs[0]["metadata"]["name"], format!("web-{hash}"));
    assert_eq!(
        rs[0]["metadata"]["annotations"]["deployment.kubernetes.io/revision"],
        "1"
    );
    let pods = items(
        &t.get("/api/v1/namespaces/c/pods?labelSelector=app%3Dweb")
            .await
            .body,
    );
    assert_eq!(pods.len(), 2);
    for p in &pods {
        assert!(p["metadata"]["name"]
            .as_str()
            .unwrap()
            .starts_with(&format!("web-{hash}-")));
        assert!(p["spec"]["nodeName"]
            .as_str()
            .unwrap()
            .starts_with("aks-nodepool1-"));
        assert!(p["status"]["podIP"]
            .as_str()
            .unwrap()
            .starts_with("10.244."));
        assert_eq!(p["status"]["phase"], "Running");
        assert_eq!(p["status"]["containerStatuses"][0]["ready"], true);
    }
    // the Service's endpoints list the ready pods
    t.post("/api/v1/namespaces/c/services", &json!({"metadata": {"name": "web"}, "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": 8080}]}})).await;
    t.wait_for("/api/v1/namespaces/c/endpoints/web", "endpoints", |e| {
        e["subsets"][0]["addresses"]
            .as_array()
            .is_some_and(|a| a.len() == 2)
    })
    .await;

    // a deleted pod is replaced
    let victim = pods[0]["metadata"]["name"].as_str().unwrap().to_string();
    assert_eq!(
        t.delete(&format!("/api/v1/namespaces/c/pods/{victim}"))
            .await
            .status,
        200
    );
    t.wait_for(
        "/api/v1/namespaces/c/pods?labelSelector=app%3Dweb",
        "replacement pod",
        |l| {
            let names: Vec<&str> = l["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["metadata"]["name"].as_str().unwrap())
                .collect();
            names.len() == 2 && !names.contains(&victim.as_str())
        },
    )
    .await;

    // a rolling update replaces every pod and leaves the old ReplicaSet at 0
    t.patch(
        "/apis/apps/v1/namespaces/c/deployments/web",
        "application/strategic-merge-patch+json",
        r#"{"spec":{"template":{"spec":{"containers":[{"name":"main","image":"nginx:1.28"}]}}}}"#,
    )
    .await;
    let d = t
        .wait_for(
            "/apis/apps/v1/namespaces/c/deployments/web",
            "rollout",
            |d| {
                d["status"]["observedGeneration"] == 2
                    && d["status"]["updatedReplicas"] == 2
                    && d["status"]["availableReplicas"] == 2
                    && d["status"]["replicas"] == 2
            },
        )
        .await;
    assert_eq!(
        d["metadata"]["annotations"]["deployment.kubernetes.io/revision"],
        "2"
    );
    // the old pods terminate after the rollout completes (as on a real cluster, where
    // Terminating pods still list for their grace period); then only new ones are left
    t.wait_for(
        "/api/v1/namespaces/c/pods?labelSelector=app%3Dweb",
        "old pods gone",
        |list| {
            let pods = list["items"].as_array().cloned().unwrap_or_default();
            pods.len() == 2
                && pods
                    .iter()
                    .all(|p| p["spec"]["containers"][0]["image"] == "nginx:1.28")
        },
    )
    .await;
    let rs = items(&t.get("/apis/apps/v1/namespaces/c/replicasets").await.body);
    assert_eq!(rs.len(), 2);
    assert!(rs.iter().any(|r| r["spec"]["replicas"] == 0));

    // events as a real cluster records them
    let events = items(&t.get("/api/v1/namespaces/c/events").await.body);
    let reasons: Vec<&str> = events
        .iter()
        .map(|e| e["reason"].as_str().unwrap())
        .collect();
    for r in [
        "ScalingReplicaSet",
        "SuccessfulCreate",
        "Scheduled",
        "Pulling",
        "Pulled",
        "Created",
        "Started",
        "Killing",
    ] {
        assert!(reasons.contains(&r), "no {r} event in {reasons:?}");
    }
    let scheduled = events.iter().find(|e| e["reason"] == "Scheduled").unwrap();
    assert_eq!(scheduled["involvedObject"]["kind"], "Pod");
    assert_eq!(scheduled["source"]["component"], "default-scheduler");
    let by_pod = t
        .get(&format!(
            "/api/v1/namespaces/c/events?fieldSelector=involvedObject.name%3D{}",
            pods[0]["metadata"]["name"].as_str().unwrap()
        ))
        .await
        .body;
    assert!(items(&by_pod)
        .iter()
        .all(|e| e["involvedObject"]["name"] == pods[0]["metadata"]["name"]));

    // deleting the Deployment takes its ReplicaSets and pods along
    t.delete("/apis/apps/v1/namespaces/c/deployments/web").await;
    t.wait_for("/api/v1/namespaces/c/pods", "pods gone", |l| {
        l["items"].as_array().unwrap().is_empty()
    })
    .await;
    assert!(items(&t.get("/apis/apps/v1/namespaces/c/replicasets").await.body).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statefulset_creates_ordered_pods_and_claims() {
    let t = start("empty").await;
    t.post("/api/v1/namespaces", &namespace("s")).await;
    let sts = json!({
        "apiVersion": "apps/v1", "kind": "StatefulSet",
        "metadata": {"name": "langfuse-clickhouse-shard0"},
        "spec": {
            "replicas": 2, "serviceName": "ch-headless",
            "selector": {"matchLabels": {"app.kubernetes.io/name": "clickhouse"}},
            "template": {"metadata": {"labels": {"app.kubernetes.io/name": "clickhouse"}},
                         "spec": {"containers": [{"name": "clickhouse", "image": "bitnami/clickhouse:25.2", "readinessProbe": {"httpGet": {"path": "/ping", "port": 8123}, "initialDelaySeconds": 10}}]}},
            "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "8Gi"}}}}]
        }
    });
    assert_eq!(
        t.post("/apis/apps/v1/namespaces/s/statefulsets", &sts)
            .await
            .status,
        201
    );
    let s = t
        .wait_for(
            "/apis/apps/v1/namespaces/s/statefulsets/langfuse-clickhouse-shard0",
            "sts ready",
            |s| s["status"]["readyReplicas"] == 2,
        )
        .await;
    assert_eq!(
        s["status"]["currentRevision"],
        s["status"]["updateRevision"]
    );
    for i in 0..2 {
        let pvc = t
            .get(&format!(
                "/api/v1/namespaces/s/persistentvolumeclaims/data-langfuse-clickhouse-shard0-{i}"
            ))
            .await
            .body;
        assert_eq!(pvc["status"]["phase"], "Bound");
        assert_eq!(pvc["status"]["capacity"]["storage"], "8Gi");
        assert_eq!(
            pvc["spec"]["storageClassName"], "managed-csi",
            "the default class was filled in"
        );
        let pv = t
            .get(&format!(
                "/api/v1/persistentvolumes/{}",
                pvc["spec"]["volumeName"].as_str().unwrap()
            ))
            .await
            .body;
        assert_eq!(
            pv["spec"]["claimRef"]["name"],
            format!("data-langfuse-clickhouse-shard0-{i}")
        );
        let pod = t
            .get(&format!(
                "/api/v1/namespaces/s/pods/langfuse-clickhouse-shard0-{i}"
            ))
            .await
            .body;
        assert!(pod["spec"]["volumes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v["persistentVolumeClaim"]["claimName"]
                == format!("data-langfuse-clickhouse-shard0-{i}")));
    }
    // OrderedReady: pod 1 was created only after pod 0 was ready
    let p0 = t
        .get("/api/v1/namespaces/s/pods/langfuse-clickhouse-shard0-0")
        .await
        .body;
    let p1 = t
        .get("/api/v1/namespaces/s/pods/langfuse-clickhouse-shard0-1")
        .await
        .body;
    let rv = |p: &Value| p["metadata"]["uid"].as_str().unwrap().to_string();
    assert_ne!(rv(&p0), rv(&p1));
    let events = items(
        &t.get("/api/v1/namespaces/s/events?fieldSelector=involvedObject.kind%3DStatefulSet")
            .await
            .body,
    );
    let messages: Vec<&str> = events
        .iter()
        .map(|e| e["message"].as_str().unwrap())
        .collect();
    let c0 = messages.iter().position(|m| *m == "create Pod langfuse-clickhouse-shard0-0 in StatefulSet langfuse-clickhouse-shard0 successful").unwrap();
    let c1 = messages.iter().position(|m| *m == "create Pod langfuse-clickhouse-shard0-1 in StatefulSet langfuse-clickhouse-shard0 successful").unwrap();
    assert!(c0 < c1);

    // an update rolls pods to the new revision and currentRevision follows
    t.patch(
        "/apis/apps/v1/namespaces/s/statefulsets/langfuse-clickhouse-shard0",
        "application/merge-patch+json",
        r#"{"spec":{"template":{"metadata":{"annotations":{"restartedAt":"now"}}}}}"#,
    )
    .await;
    let s = t
        .wait_for(
            "/apis/apps/v1/namespaces/s/statefulsets/langfuse-clickhouse-shard0",
            "rolled",
            |s| {
                s["status"]["updatedReplicas"] == 2
                    && s["status"]["readyReplicas"] == 2
                    && s["status"]["currentRevision"] == s["status"]["updateRevision"]
                    && s["status"]["observedGeneration"] == 2
            },
        )
        .await;
    let pod = t
        .get("/api/v1/namespaces/s/pods/langfuse-clickhouse-shard0-0")
        .await
        .body;
    assert_eq!(
        pod["metadata"]["labels"]["controller-revision-hash"],
        s["status"]["updateRevision"]
    );
    // the StatefulSet spec outside the template is immutable (the guide's warning)
    let r = t.patch("/apis/apps/v1/namespaces/s/statefulsets/langfuse-clickhouse-shard0", "application/json-patch+json", r#"[{"op":"replace","path":"/spec/volumeClaimTemplates/0/spec/resources/requests/storage","value":"30Gi"}]"#).await;
    assert_eq!(r.status, 422);
    assert!(r.body["message"]
        .as_str()
        .unwrap()
        .contains("updates to statefulset spec for fields other than"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_images_back_off_until_pushed() {
    let t = start("empty").await;
    t.post("/api/v1/namespaces", &namespace("img")).await;
    t.post(
        "/apis/apps/v1/namespaces/img/deployments",
        &deployment("web", "lfrunacr.azurecr.io/langfuse-web:deadbee", 1),
    )
    .await;
    let pods = t
        .wait_for("/api/v1/namespaces/img/pods", "ImagePullBackOff", |l| {
            l["items"][0]["status"]["containerStatuses"][0]["state"]["waiting"]["reason"]
                == "ImagePullBackOff"
        })
        .await;
    let pod = &pods["items"][0];
    assert_eq!(pod["status"]["phase"], "Pending");
    let name = pod["metadata"]["name"].as_str().unwrap();
    let events = items(
        &t.get(&format!(
            "/api/v1/namespaces/img/events?fieldSelector=involvedObject.name%3D{name}"
        ))
        .await
        .body,
    );
    let failed = events
        .iter()
        .find(|e| {
            e["reason"] == "Failed"
                && e["message"]
                    .as_str()
                    .unwrap()
                    .starts_with("Failed to pull image")
        })
        .expect("Failed event");
    assert!(failed["message"].as_str().unwrap().contains("not found"));
    assert_eq!(failed["type"], "Warning");
    assert!(events.iter().any(|e| e["reason"] == "BackOff"));
    // the kubelet's log endpoint says why there are no logs
    let logs = t
        .get(&format!("/api/v1/namespaces/img/pods/{name}/log"))
        .await;
    assert_eq!(logs.status, 400);
    assert!(logs.body["message"]
        .as_str()
        .unwrap()
        .contains("is waiting to start"));

    // pushing the image lets the next attempt succeed
    t.sim
        .push_image("lfrunacr.azurecr.io/langfuse-web:deadbee")
        .await
        .unwrap();
    t.sim.advance_clock(Duration::from_secs(600)).await.unwrap();
    t.wait_for(
        "/apis/apps/v1/namespaces/img/deployments/web",
        "available after push",
        |d| d["status"]["availableReplicas"] == 1,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn progress_deadline_exceeded_when_pods_never_get_ready() {
    let t = start("empty").await;
    t.post("/api/v1/namespaces", &namespace("pd")).await;
    let mut d = deployment("web", "lfrunacr.azurecr.io/missing:1", 1);
    d["spec"]["progressDeadlineSeconds"] = json!(60);
    t.post("/apis/apps/v1/namespaces/pd/deployments", &d).await;
    t.wait_for("/api/v1/namespaces/pd/pods", "pod pending", |l| {
        l["items"].as_array().is_some_and(|a| !a.is_empty())
    })
    .await;
    t.sim.advance_clock(Duration::from_secs(120)).await.unwrap();
    let d = t
        .wait_for(
            "/apis/apps/v1/namespaces/pd/deployments/web",
            "deadline exceeded",
            |d| {
                d["status"]["conditions"].as_array().is_some_and(|c| {
                    c.iter().any(|c| {
                        c["type"] == "Progressing" && c["reason"] == "ProgressDeadlineExceeded"
                    })
                })
            },
        )
        .await;
    let cond = d["status"]["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == "Progressing")
        .unwrap()
        .clone();
    assert_eq!(cond["status"], "False");
    assert!(cond["message"]
        .as_str()
        .unwrap()
        .ends_with("has timed out progressing."));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn container_logs_with_tail_and_container() {
    let t = start("empty").await;
    t.post("/api/v1/namespaces", &namespace("lg")).await;
    let mut d = deployment("two", "langfuse/langfuse-worker:3", 1);
    d["spec"]["template"]["spec"]["containers"] = json!([{"name": "worker", "image": "langfuse/langfuse-worker:3"}, {"name": "side", "image": "busybox:1"}]);
    t.post("/apis/apps/v1/namespaces/lg/deployments", &d).await;
    let l = t
        .wait_for("/api/v1/namespaces/lg/pods", "running", |l| {
            l["items"][0]["status"]["containerStatuses"][0]["ready"] == true
        })
        .await;
    let name = l["items"][0]["metadata"]["name"]
        .as_str()
        .unwrap()
        .to_string();
    let r = t
        .get(&format!("/api/v1/namespaces/lg/pods/{name}/log"))
        .await;
    assert_eq!(r.status, 400);
    assert!(r.body["message"]
        .as_str()
        .unwrap()
        .contains("a container name must be specified"));
    let r = t
        .get(&format!(
            "/api/v1/namespaces/lg/pods/{name}/log?container=worker&tailLines=1"
        ))
        .await;
    assert_eq!(r.status, 200);
    let text = r.body.as_str().unwrap();
    assert_eq!(text.lines().count(), 1);
    assert_eq!(text.trim(), "info: Listening on port 3030");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn namespaces_get_a_default_service_account() {
    let t = start("empty").await;
    t.post("/api/v1/namespaces", &namespace("fresh")).await;
    t.wait_for(
        "/api/v1/namespaces/fresh/serviceaccounts/default",
        "default service account",
        |sa| sa["metadata"]["name"] == "default",
    )
    .await;
    t.wait_for(
        "/api/v1/namespaces/fresh/configmaps/kube-root-ca.crt",
        "root CA",
        |cm| cm["data"]["ca.crt"].is_string(),
    )
    .await;
    // deleting the namespace removes its contents, then the namespace
    let r = t.delete("/api/v1/namespaces/fresh").await;
    assert_eq!(r.body["status"]["phase"], "Terminating");
    t.wait_for("/api/v1/namespaces", "namespace gone", |l| {
        l["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|n| n["metadata"]["name"] != "fresh")
    })
    .await;
    assert_eq!(
        t.get("/api/v1/namespaces/fresh/serviceaccounts/default")
            .await
            .body["items"],
        serde_json::Value::Null
    );
}
