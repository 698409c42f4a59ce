//! Patches: JSON merge, JSON patch, strategic merge with the core lists' merge keys.

mod common;
use common::*;
use serde_json::{json, Value};

const D: &str = "/apis/apps/v1/namespaces/p/deployments/web";

async fn setup() -> TestSim {
    let t = start("empty").await;
    t.post("/api/v1/namespaces", &namespace("p")).await;
    let d = json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "labels": {"app": "web"}},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {
                    "imagePullSecrets": [{"name": "acr"}],
                    "initContainers": [{"name": "init", "image": "busybox:1.36"}],
                    "containers": [
                        {"name": "web", "image": "web:1", "args": ["--a", "--b"],
                         "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
                         "ports": [{"containerPort": 3000, "name": "http"}],
                         "volumeMounts": [{"name": "data", "mountPath": "/data"}, {"name": "tmp", "mountPath": "/tmp"}]},
                        {"name": "sidecar", "image": "side:1"}
                    ],
                    "volumes": [{"name": "data", "emptyDir": {}}, {"name": "tmp", "emptyDir": {}}]
                }
            }
        }
    });
    assert_eq!(
        t.post("/apis/apps/v1/namespaces/p/deployments", &d)
            .await
            .status,
        201
    );
    t
}

fn pod_spec(d: &Value) -> &Value {
    &d["spec"]["template"]["spec"]
}

fn names(list: &Value, key: &str) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|i| i[key].to_string().trim_matches('"').to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strategic_merge_uses_merge_keys() {
    let t = setup().await;
    let patch = json!({"spec": {"template": {"spec": {
        "containers": [{"name": "web", "image": "web:2",
                        "env": [{"name": "B", "value": "20"}, {"name": "C", "value": "3"}],
                        "ports": [{"containerPort": 3001, "name": "metrics"}],
                        "volumeMounts": [{"name": "cache", "mountPath": "/cache"}]}],
        "volumes": [{"name": "cache", "emptyDir": {}}],
        "imagePullSecrets": [{"name": "other"}],
        "initContainers": [{"name": "init", "image": "busybox:1.37"}]
    }}}});
    let r = t
        .patch(
            D,
            "application/strategic-merge-patch+json",
            &patch.to_string(),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let spec = pod_spec(&r.body);
    assert_eq!(
        names(&spec["containers"], "name"),
        vec!["web", "sidecar"],
        "containers merge by name"
    );
    let web = &spec["containers"][0];
    assert_eq!(web["image"], "web:2");
    assert_eq!(web["args"], json!(["--a", "--b"]), "untouched fields stay");
    assert_eq!(
        names(&web["env"], "name"),
        vec!["A", "B", "C"],
        "env merges by name"
    );
    assert_eq!(web["env"][1]["value"], "20");
    assert_eq!(
        names(&web["ports"], "containerPort"),
        vec!["3000", "3001"],
        "ports merge by containerPort"
    );
    assert_eq!(
        names(&web["volumeMounts"], "mountPath"),
        vec!["/data", "/tmp", "/cache"],
        "volumeMounts merge by mountPath"
    );
    assert_eq!(
        names(&spec["volumes"], "name"),
        vec!["data", "tmp", "cache"]
    );
    assert_eq!(
        names(&spec["imagePullSecrets"], "name"),
        vec!["acr", "other"]
    );
    assert_eq!(spec["initContainers"][0]["image"], "busybox:1.37");
    assert_eq!(
        spec["containers"][1]["image"], "side:1",
        "the sidecar survives"
    );

    // directives: delete an item, replace a list, retain keys, reorder
    let patch = json!({"spec": {"template": {"spec": {
        "containers": [{"name": "sidecar", "$patch": "delete"},
                       {"name": "web", "env": [{"name": "A", "$patch": "delete"}], "args": ["--c"]}],
        "$setElementOrder/volumes": [{"name": "cache"}, {"name": "data"}, {"name": "tmp"}]
    }}}});
    let r = t
        .patch(
            D,
            "application/strategic-merge-patch+json",
            &patch.to_string(),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let spec = pod_spec(&r.body);
    assert_eq!(names(&spec["containers"], "name"), vec!["web"]);
    assert_eq!(names(&spec["containers"][0]["env"], "name"), vec!["B", "C"]);
    assert_eq!(
        spec["containers"][0]["args"],
        json!(["--c"]),
        "args is atomic: replaced"
    );
    assert_eq!(
        names(&spec["volumes"], "name"),
        vec!["cache", "data", "tmp"]
    );
    let r = t.patch(D, "application/strategic-merge-patch+json", r#"{"spec":{"template":{"spec":{"volumes":[{"$patch":"replace"},{"name":"only","emptyDir":{}}]}}}}"#).await;
    assert_eq!(names(&pod_spec(&r.body)["volumes"], "name"), vec!["only"]);
    let r = t
        .patch(
            D,
            "application/strategic-merge-patch+json",
            r#"{"spec":{"strategy":{"$retainKeys":["type"],"type":"Recreate"}}}"#,
        )
        .await;
    assert_eq!(r.body["spec"]["strategy"], json!({"type": "Recreate"}));
    // a missing merge key is refused, not applied
    let r = t
        .patch(
            D,
            "application/strategic-merge-patch+json",
            r#"{"spec":{"template":{"spec":{"containers":[{"image":"x"}]}}}}"#,
        )
        .await;
    assert_eq!(r.status, 422);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn merge_and_json_patches() {
    let t = setup().await;
    // merge patch replaces lists and deletes with null
    let r = t.patch(D, "application/merge-patch+json", r#"{"metadata":{"labels":{"tier":"front"}},"spec":{"template":{"spec":{"imagePullSecrets":null}}}}"#).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.body["metadata"]["labels"],
        json!({"app": "web", "tier": "front"})
    );
    assert!(pod_spec(&r.body).get("imagePullSecrets").is_none());
    let r = t
        .patch(
            D,
            "application/merge-patch+json",
            r#"{"spec":{"template":{"spec":{"volumes":[{"name":"x","emptyDir":{}}]}}}}"#,
        )
        .await;
    assert_eq!(names(&pod_spec(&r.body)["volumes"], "name"), vec!["x"]);

    // JSON patch, including test
    let ops = r#"[{"op":"replace","path":"/spec/replicas","value":2},{"op":"add","path":"/metadata/annotations","value":{"a":"b"}},{"op":"test","path":"/spec/replicas","value":2}]"#;
    let r = t.patch(D, "application/json-patch+json", ops).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["spec"]["replicas"], 2);
    let failing = t.patch(D, "application/json-patch+json", r#"[{"op":"test","path":"/spec/replicas","value":7},{"op":"replace","path":"/spec/replicas","value":9}]"#).await;
    assert_eq!(failing.status, 422);
    assert_eq!(
        t.get(D).await.body["spec"]["replicas"],
        2,
        "a failed patch changes nothing"
    );

    // a wrong type through a patch is refused with the field named
    let r = t
        .patch(
            D,
            "application/merge-patch+json",
            r#"{"spec":{"replicas":"lots"}}"#,
        )
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(r.body["details"]["causes"][0]["field"], "spec.replicas");
    let r = t
        .patch(D, "application/merge-patch+json", "[not json")
        .await;
    assert_eq!(r.status, 400);
    let r = t.patch(D, "text/plain", "{}").await;
    assert_eq!(r.status, 415);
    assert_eq!(
        t.patch(
            "/apis/apps/v1/namespaces/p/deployments/ghost",
            "application/merge-patch+json",
            "{}"
        )
        .await
        .status,
        404
    );

    // unknown fields: Strict refuses, the default warns and drops them
    let strict = t
        .patch(
            &format!("{D}?fieldValidation=Strict"),
            "application/merge-patch+json",
            r#"{"spec":{"replicaz":3}}"#,
        )
        .await;
    assert_eq!(strict.status, 400);
    assert!(strict.body["message"]
        .as_str()
        .unwrap()
        .contains("unknown field \"spec.replicaz\""));
    let warn = t
        .patch(
            D,
            "application/merge-patch+json",
            r#"{"spec":{"replicaz":3}}"#,
        )
        .await;
    assert_eq!(warn.status, 200);
    assert!(warn
        .headers
        .get("warning")
        .unwrap()
        .to_str()
        .unwrap()
        .contains("spec.replicaz"));
    assert!(warn.body["spec"].get("replicaz").is_none());
}
