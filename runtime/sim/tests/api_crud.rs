//! CRUD, discovery and error bodies over raw HTTP.

mod common;
use common::*;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn version_discovery_and_openapi() {
    let t = start("empty").await;
    let v = t.get("/version").await;
    assert_eq!(v.body["gitVersion"], "v1.33.2");
    assert_eq!(v.body["minor"], "33");

    let groups = t.get("/apis").await.body;
    let names: Vec<&str> = groups["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].as_str().unwrap())
        .collect();
    for g in [
        "apps",
        "batch",
        "policy",
        "networking.k8s.io",
        "storage.k8s.io",
        "rbac.authorization.k8s.io",
        "apiextensions.k8s.io",
        "events.k8s.io",
    ] {
        assert!(names.contains(&g), "group {g} missing from {names:?}");
    }
    let apps = t.get("/apis/apps/v1").await.body;
    let deploy = apps["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "deployments")
        .unwrap();
    assert_eq!(deploy["kind"], "Deployment");
    assert_eq!(deploy["namespaced"], true);
    assert_eq!(deploy["shortNames"], json!(["deploy"]));
    assert!(apps["resources"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["name"] == "deployments/scale" && r["kind"] == "Scale"));

    // aggregated discovery, as kubectl asks first
    let r = t
        .http
        .get(t.url("/apis"))
        .header(
            "accept",
            "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json",
        )
        .send()
        .await
        .unwrap();
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .contains("as=APIGroupDiscoveryList"));
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["kind"], "APIGroupDiscoveryList");

    // OpenAPI v3: the PATCH operation advertises fieldValidation, which kubectl checks
    let root = t.get("/openapi/v3").await.body;
    let url = root["paths"]["apis/apps/v1"]["serverRelativeURL"]
        .as_str()
        .unwrap()
        .to_string();
    let doc = t.get(&url).await.body;
    let op = &doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"];
    assert_eq!(op["x-kubernetes-group-version-kind"]["kind"], "Deployment");
    assert!(op["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["name"] == "fieldValidation" && p["in"] == "query"));
    assert!(
        doc["components"]["schemas"]["io.k8s.api.apps.v1.Deployment"]["properties"]["spec"]
            .is_object()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_get_update_delete_with_status_bodies() {
    let t = start("empty").await;
    assert_eq!(
        t.post("/api/v1/namespaces", &namespace("demo"))
            .await
            .status,
        201
    );

    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings", "labels": {"tier": "a"}}, "data": {"k": "v"}});
    let created = t.post("/api/v1/namespaces/demo/configmaps", &cm).await;
    assert_eq!(created.status, 201);
    let meta = &created.body["metadata"];
    assert!(meta["uid"].as_str().unwrap().len() == 36);
    assert!(
        meta["resourceVersion"]
            .as_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            > 0
    );
    assert!(meta["creationTimestamp"].is_string());

    // 409 AlreadyExists
    let dup = t.post("/api/v1/namespaces/demo/configmaps", &cm).await;
    assert_eq!(dup.status, 409);
    assert_eq!(dup.body["kind"], "Status");
    assert_eq!(dup.body["reason"], "AlreadyExists");
    assert_eq!(
        dup.body["message"],
        "configmaps \"settings\" already exists"
    );

    // 404 NotFound, with the real wording and details
    let missing = t
        .get("/apis/apps/v1/namespaces/demo/deployments/nope")
        .await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.body["reason"], "NotFound");
    assert_eq!(
        missing.body["message"],
        "deployments.apps \"nope\" not found"
    );
    assert_eq!(missing.body["details"]["group"], "apps");

    // update with a stale resourceVersion → 409 Conflict
    let mut stale = created.body.clone();
    stale["data"]["k"] = json!("v2");
    assert_eq!(
        t.put("/api/v1/namespaces/demo/configmaps/settings", &stale)
            .await
            .status,
        200
    );
    stale["data"]["k"] = json!("v3");
    let conflict = t
        .put("/api/v1/namespaces/demo/configmaps/settings", &stale)
        .await;
    assert_eq!(conflict.status, 409);
    assert_eq!(conflict.body["reason"], "Conflict");
    assert!(conflict.body["message"]
        .as_str()
        .unwrap()
        .contains("the object has been modified"));
    assert_eq!(
        t.get("/api/v1/namespaces/demo/configmaps/settings")
            .await
            .body["data"]["k"],
        "v2"
    );

    // creating in a namespace that does not exist
    let nons = t.post("/api/v1/namespaces/ghost/configmaps", &cm).await;
    assert_eq!(nons.status, 404);
    assert_eq!(nons.body["message"], "namespaces \"ghost\" not found");

    // 422 Invalid: bad name, and a wrong type named by its field
    let bad_name = t
        .post(
            "/api/v1/namespaces/demo/configmaps",
            &json!({"metadata": {"name": "Bad_Name"}}),
        )
        .await;
    assert_eq!(bad_name.status, 422);
    assert_eq!(
        bad_name.body["details"]["causes"][0]["field"],
        "metadata.name"
    );
    let mut d = deployment("web", "nginx:1.27", 1);
    d["spec"]["replicas"] = json!("three");
    let wrong_type = t
        .post("/apis/apps/v1/namespaces/demo/deployments", &d)
        .await;
    assert_eq!(wrong_type.status, 422, "{}", wrong_type.body);
    assert_eq!(wrong_type.body["reason"], "Invalid");
    assert_eq!(
        wrong_type.body["details"]["causes"][0]["field"],
        "spec.replicas"
    );
    assert!(
        t.get("/apis/apps/v1/namespaces/demo/deployments/web")
            .await
            .status
            == 404,
        "nothing half-applied"
    );

    // selector not matching the template
    let mut d = deployment("web", "nginx:1.27", 1);
    d["spec"]["template"]["metadata"]["labels"] = json!({"app": "other"});
    let mismatch = t
        .post("/apis/apps/v1/namespaces/demo/deployments", &d)
        .await;
    assert_eq!(mismatch.status, 422);
    assert!(mismatch.body["message"]
        .as_str()
        .unwrap()
        .contains("`selector` does not match template `labels`"));

    // 400 for malformed JSON, 405 for an unsupported method
    let malformed = t
        .send(
            "POST",
            "/api/v1/namespaces/demo/configmaps",
            "application/json",
            Some("{not json".into()),
        )
        .await;
    assert_eq!(malformed.status, 400);
    assert_eq!(malformed.body["reason"], "BadRequest");
    let not_allowed = t
        .send(
            "PUT",
            "/api/v1/namespaces/demo/configmaps",
            "application/json",
            Some("{}".into()),
        )
        .await;
    assert_eq!(not_allowed.status, 405);
    assert_eq!(
        t.get("/apis/nothing.example.com/v1/things").await.status,
        404
    );

    // generateName
    let gen = t
        .post(
            "/api/v1/namespaces/demo/configmaps",
            &json!({"metadata": {"generateName": "tmp-"}}),
        )
        .await;
    assert_eq!(gen.status, 201);
    assert!(gen.body["metadata"]["name"]
        .as_str()
        .unwrap()
        .starts_with("tmp-"));

    // dryRun=All validates and answers without storing
    let dry = t
        .post(
            "/api/v1/namespaces/demo/configmaps?dryRun=All",
            &json!({"metadata": {"name": "dry"}}),
        )
        .await;
    assert_eq!(dry.status, 201);
    assert_eq!(
        t.get("/api/v1/namespaces/demo/configmaps/dry").await.status,
        404
    );

    // delete returns the object; a second delete is 404
    let deleted = t
        .delete("/api/v1/namespaces/demo/configmaps/settings")
        .await;
    assert_eq!(deleted.status, 200);
    assert_eq!(deleted.body["metadata"]["name"], "settings");
    assert_eq!(
        t.delete("/api/v1/namespaces/demo/configmaps/settings")
            .await
            .status,
        404
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_with_label_and_field_selectors_and_paging() {
    let t = start("empty").await;
    t.post("/api/v1/namespaces", &namespace("sel")).await;
    for (name, tier, env) in [
        ("a", "web", "prod"),
        ("b", "web", "dev"),
        ("c", "db", "prod"),
        ("d", "cache", ""),
    ] {
        let mut labels = json!({"tier": tier});
        if !env.is_empty() {
            labels["env"] = json!(env);
        }
        let r = t
            .post(
                "/api/v1/namespaces/sel/configmaps",
                &json!({"metadata": {"name": name, "labels": labels}}),
            )
            .await;
        assert_eq!(r.status, 201);
    }
    let names = |v: &serde_json::Value| -> Vec<String> {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["metadata"]["name"].as_str().unwrap().to_string())
            .collect()
    };
    for (selector, want) in [
        ("tier%3Dweb", vec!["a", "b"]),
        // objects without the label match != and notin (the root CA ConfigMap has none)
        ("tier%21%3Dweb", vec!["c", "d", "kube-root-ca.crt"]),
        ("tier%20in%20(web,db)", vec!["a", "b", "c"]),
        ("tier%20notin%20(web,db)", vec!["d", "kube-root-ca.crt"]),
        ("env", vec!["a", "b", "c"]),
        ("%21env", vec!["d", "kube-root-ca.crt"]),
        ("tier%3Dweb,env%3Dprod", vec!["a"]),
    ] {
        let r = t
            .get(&format!(
                "/api/v1/namespaces/sel/configmaps?labelSelector={selector}"
            ))
            .await;
        assert_eq!(r.status, 200);
        assert_eq!(names(&r.body), want, "labelSelector={selector}");
        assert_eq!(r.body["kind"], "ConfigMapList");
    }
    let r = t
        .get("/api/v1/namespaces/sel/configmaps?fieldSelector=metadata.name%3Dc")
        .await;
    assert_eq!(names(&r.body), vec!["c"]);
    let r = t
        .get("/api/v1/namespaces/sel/configmaps?labelSelector=tier&fieldSelector=metadata.name%21%3Dc")
        .await;
    assert_eq!(names(&r.body), vec!["a", "b", "d"]);
    let bad = t
        .get("/api/v1/namespaces/sel/configmaps?fieldSelector=data.k%3Dv")
        .await;
    assert_eq!(bad.status, 400);
    assert!(bad.body["message"]
        .as_str()
        .unwrap()
        .contains("field label not supported"));
    // all namespaces and paging
    let all = t.get("/api/v1/configmaps?labelSelector=tier").await;
    assert_eq!(names(&all.body).len(), 4);
    let page1 = t
        .get("/api/v1/namespaces/sel/configmaps?labelSelector=tier&limit=3")
        .await
        .body;
    assert_eq!(names(&page1), vec!["a", "b", "c"]);
    let token = page1["metadata"]["continue"].as_str().unwrap();
    let page2 = t
        .get(&format!(
            "/api/v1/namespaces/sel/configmaps?labelSelector=tier&limit=3&continue={token}"
        ))
        .await
        .body;
    assert_eq!(names(&page2), vec!["d"]);
    assert!(page2["metadata"].get("continue").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn table_output_for_kubectl_get() {
    let t = start("empty").await;
    t.post("/api/v1/namespaces", &namespace("tbl")).await;
    t.post(
        "/apis/apps/v1/namespaces/tbl/deployments",
        &deployment("web", "nginx:1.27", 2),
    )
    .await;
    t.wait_for(
        "/apis/apps/v1/namespaces/tbl/deployments/web",
        "web ready",
        |d| d["status"]["readyReplicas"] == 2,
    )
    .await;
    let r = t
        .http
        .get(t.url("/api/v1/namespaces/tbl/pods"))
        .header(
            "accept",
            "application/json;as=Table;v=v1;g=meta.k8s.io,application/json",
        )
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap();
    assert_eq!(r["kind"], "Table");
    let cols: Vec<&str> = r["columnDefinitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(&cols[..5], &["Name", "Ready", "Status", "Restarts", "Age"]);
    let row = &r["rows"][0]["cells"];
    assert_eq!(row[1], "1/1");
    assert_eq!(row[2], "Running");
    assert_eq!(r["rows"][0]["object"]["kind"], "PartialObjectMetadata");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_and_scale_subresources() {
    let t = start("empty").await;
    t.post("/api/v1/namespaces", &namespace("sub")).await;
    let created = t
        .post(
            "/apis/apps/v1/namespaces/sub/deployments",
            &deployment("web", "nginx:1.27", 1),
        )
        .await;
    assert_eq!(created.status, 201);
    // the main resource ignores status changes
    let mut d = t
        .get("/apis/apps/v1/namespaces/sub/deployments/web")
        .await
        .body;
    d["status"] = json!({"replicas": 99});
    d["metadata"]
        .as_object_mut()
        .unwrap()
        .remove("resourceVersion");
    let put = t
        .put("/apis/apps/v1/namespaces/sub/deployments/web", &d)
        .await;
    assert_eq!(put.status, 200);
    assert_ne!(put.body["status"]["replicas"], 99);
    // scale
    let scale = t
        .get("/apis/apps/v1/namespaces/sub/deployments/web/scale")
        .await
        .body;
    assert_eq!(scale["kind"], "Scale");
    assert_eq!(scale["spec"]["replicas"], 1);
    assert_eq!(scale["status"]["selector"], "app=web");
    let r = t
        .patch(
            "/apis/apps/v1/namespaces/sub/deployments/web/scale",
            "application/merge-patch+json",
            r#"{"spec":{"replicas":3}}"#,
        )
        .await;
    assert_eq!(r.status, 200);
    t.wait_for(
        "/apis/apps/v1/namespaces/sub/deployments/web",
        "3 ready",
        |d| d["spec"]["replicas"] == 3 && d["status"]["readyReplicas"] == 3,
    )
    .await;
    // generation moved with the spec change, observedGeneration follows
    let d = t
        .get("/apis/apps/v1/namespaces/sub/deployments/web")
        .await
        .body;
    assert_eq!(d["metadata"]["generation"], 2);
    assert_eq!(d["status"]["observedGeneration"], 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custom_resources_are_stored_as_is() {
    let t = start("empty").await;
    let crd = json!({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {"group": "example.com", "scope": "Namespaced",
                 "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "shortNames": ["wg"]},
                 "versions": [{"name": "v1", "served": true, "storage": true, "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}]}
    });
    assert_eq!(
        t.post(
            "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
            &crd
        )
        .await
        .status,
        201
    );
    let list = t.get("/apis/example.com/v1").await.body;
    assert_eq!(list["resources"][0]["kind"], "Widget");
    let w = json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w1"}, "spec": {"anything": [1, {"goes": true}]}});
    let r = t
        .post("/apis/example.com/v1/namespaces/default/widgets", &w)
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(
        t.get("/apis/example.com/v1/namespaces/default/widgets/w1")
            .await
            .body["spec"]["anything"][1]["goes"],
        true
    );
    // strategic merge is not for custom resources
    let smp = t
        .patch(
            "/apis/example.com/v1/namespaces/default/widgets/w1",
            "application/strategic-merge-patch+json",
            "{}",
        )
        .await;
    assert_eq!(smp.status, 415);
}
