//! The real Helm 3.17 and Helm 4.1 binaries with the real Langfuse chart: install,
//! upgrade, history, status, get values, rollback — and both leave the same objects.

mod common;
use common::*;
use serde_json::Value;
use std::path::Path;

const H3_NS: &str = "ns-helm-three";
const H4_NS: &str = "ns-helm-four";

async fn lifecycle(t: &TestSim, helm: &Path, ns: &str) {
    let kc = t.kubeconfig();
    let scratch = t.dir.path().join(ns);
    std::fs::create_dir_all(&scratch).unwrap();
    let values = scratch.join("values.yaml");
    std::fs::write(&values, LANGFUSE_VALUES).unwrap();
    let chart = langfuse_chart();
    let (chart, values) = (chart.to_str().unwrap(), values.to_str().unwrap());
    macro_rules! h {
        ($($arg:expr),* $(,)?) => { run_ok(helm, &kc, &[$($arg),*], &scratch).await };
    }
    let out = h!(
        "install",
        "langfuse",
        chart,
        "-n",
        ns,
        "--create-namespace",
        "-f",
        values
    );
    assert!(out.contains("STATUS: deployed"), "{out}");
    for d in ["langfuse-web", "langfuse-worker"] {
        t.wait_for(
            &format!("/apis/apps/v1/namespaces/{ns}/deployments/{d}"),
            d,
            |d| d["status"]["availableReplicas"] == 1,
        )
        .await;
    }
    let out = h!(
        "upgrade",
        "langfuse",
        chart,
        "-n",
        ns,
        "-f",
        values,
        "--set",
        "langfuse.web.image.tag=3.225.0",
        "--set",
        "langfuse.worker.image.tag=3.225.0"
    );
    assert!(out.contains("REVISION: 2"), "{out}");
    let history = h!("history", "langfuse", "-n", ns);
    assert!(
        history.lines().nth(1).unwrap().contains("superseded"),
        "{history}"
    );
    assert!(
        history.lines().nth(2).unwrap().contains("deployed"),
        "{history}"
    );
    let status = h!("status", "langfuse", "-n", ns);
    assert!(
        status.contains("STATUS: deployed") && status.contains("REVISION: 2"),
        "{status}"
    );
    let values_out = h!("get", "values", "langfuse", "-n", ns);
    assert!(
        values_out.contains("tag: 3.225.0") || values_out.contains("tag: \"3.225.0\""),
        "{values_out}"
    );
    // the new images are not in the rehearsal registry: the rollout cannot finish
    let d = t
        .get(&format!(
            "/apis/apps/v1/namespaces/{ns}/deployments/langfuse-web"
        ))
        .await
        .body;
    assert_eq!(
        d["spec"]["template"]["spec"]["containers"][0]["image"],
        "lfrunacr.azurecr.io/langfuse-web:3.225.0"
    );
    t.wait_for(
        &format!("/api/v1/namespaces/{ns}/pods?labelSelector=app.kubernetes.io%2Fcomponent%3Dweb"),
        "pull failure",
        |l| {
            l["items"].as_array().unwrap().iter().any(|p| {
                p["status"]["containerStatuses"][0]["state"]["waiting"]["reason"]
                    .as_str()
                    .is_some_and(|r| r.contains("ImagePull"))
            })
        },
    )
    .await;
    let out = h!("rollback", "langfuse", "1", "-n", ns);
    assert!(out.contains("Rollback was a success"), "{out}");
    let history = h!("history", "langfuse", "-n", ns);
    assert!(
        history.lines().nth(3).unwrap().contains("Rollback to 1"),
        "{history}"
    );
    t.wait_for(
        &format!("/apis/apps/v1/namespaces/{ns}/deployments/langfuse-web"),
        "rolled back",
        |d| {
            d["spec"]["template"]["spec"]["containers"][0]["image"]
                == "lfrunacr.azurecr.io/langfuse-web:3.224.1"
                && d["status"]["updatedReplicas"] == 1
                && d["status"]["availableReplicas"] == 1
                && d["status"]["replicas"] == 1
        },
    )
    .await;
    // release storage: labelled secrets with base64(gzip(JSON))
    let secrets = t
        .get(&format!(
            "/api/v1/namespaces/{ns}/secrets?labelSelector=owner%3Dhelm,name%3Dlangfuse"
        ))
        .await
        .body;
    let latest = secrets["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["metadata"]["labels"]["version"] == "3")
        .unwrap();
    let release =
        lfrun_sim::helm_release::decode(latest["data"]["release"].as_str().unwrap()).unwrap();
    assert_eq!(release["info"]["status"], "deployed");
    assert_eq!(release["chart"]["metadata"]["version"], "1.5.41");
}

/// The objects of a release, without what legitimately differs between two installs.
async fn release_objects(t: &TestSim, ns: &str) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for path in [
        "apis/apps/v1/namespaces/{ns}/deployments",
        "apis/apps/v1/namespaces/{ns}/statefulsets",
        "api/v1/namespaces/{ns}/services",
        "api/v1/namespaces/{ns}/configmaps",
        "api/v1/namespaces/{ns}/secrets",
        "api/v1/namespaces/{ns}/serviceaccounts",
        "apis/networking.k8s.io/v1/namespaces/{ns}/networkpolicies",
        "apis/policy/v1/namespaces/{ns}/poddisruptionbudgets",
    ] {
        let list = t.get(&format!("/{}", path.replace("{ns}", ns))).await.body;
        for mut o in list["items"].as_array().unwrap().clone() {
            let name = o["metadata"]["name"].as_str().unwrap().to_string();
            if name.starts_with("sh.helm.release")
                || o["metadata"]["annotations"]["meta.helm.sh/release-name"].is_null()
            {
                continue;
            }
            let meta = o["metadata"].as_object_mut().unwrap();
            for k in [
                "uid",
                "resourceVersion",
                "creationTimestamp",
                "managedFields",
                "generation",
            ] {
                meta.remove(k);
            }
            if let Some(a) = meta.get_mut("annotations").and_then(Value::as_object_mut) {
                a.remove("deployment.kubernetes.io/revision");
            }
            o.as_object_mut().unwrap().remove("status");
            if let Some(spec) = o["spec"].as_object_mut() {
                spec.remove("clusterIP");
                spec.remove("clusterIPs");
            }
            if let Some(a) = o["spec"]["template"]["metadata"]["annotations"].as_object_mut() {
                a.retain(|k, _| !k.starts_with("checksum/"));
            }
            let text = serde_json::to_string(&o).unwrap().replace(ns, "NAMESPACE");
            out.push((
                format!("{}/{name}", o["kind"].as_str().unwrap_or("")),
                serde_json::from_str(&text).unwrap(),
            ));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn helm3_and_helm4_install_upgrade_and_roll_back_alike() {
    let (helm3, helm4) = (tool("helm3"), tool("helm4"));
    let t = start("healthy").await;
    lifecycle(&t, &helm3, H3_NS).await;
    lifecycle(&t, &helm4, H4_NS).await;

    // Helm 3 (client-side three-way merge) and Helm 4 (server-side apply) both went
    // through install, upgrade and rollback: the objects they leave must be the same
    let a = release_objects(&t, H3_NS).await;
    let b = release_objects(&t, H4_NS).await;
    assert_eq!(a.len(), b.len());
    assert!(a.len() >= 30, "{} objects", a.len());
    for ((ka, va), (kb, vb)) in a.iter().zip(b.iter()) {
        assert_eq!(ka, kb);
        assert_eq!(va, vb, "{ka} differs between Helm 3 and Helm 4");
    }
    // and the way they got there differs: Helm 4 applied server-side
    let d3 = t
        .get(&format!(
            "/apis/apps/v1/namespaces/{H3_NS}/deployments/langfuse-web"
        ))
        .await
        .body;
    let d4 = t
        .get(&format!(
            "/apis/apps/v1/namespaces/{H4_NS}/deployments/langfuse-web"
        ))
        .await
        .body;
    assert!(d3["metadata"]["managedFields"]
        .as_array()
        .unwrap()
        .iter()
        .all(|m| m["operation"] == "Update"));
    assert!(d4["metadata"]["managedFields"]
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m["operation"] == "Apply" && m["manager"] == "helm"));
}
