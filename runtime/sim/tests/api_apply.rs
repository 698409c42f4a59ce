//! Server-side apply: creation, field ownership, removal of dropped fields, conflicts.

mod common;
use common::*;
use serde_json::json;

const D: &str = "/apis/apps/v1/namespaces/ssa/deployments/web";

fn config(env: serde_json::Value, replicas: i64) -> String {
    let mut d = deployment("web", "web:1", replicas);
    d["spec"]["template"]["spec"]["containers"][0]["env"] = env;
    serde_yaml::to_string(&d).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_creates_updates_and_removes_what_was_dropped() {
    let t = start("empty").await;
    t.post("/api/v1/namespaces", &namespace("ssa")).await;
    let yaml = "application/apply-patch+yaml";
    let r = t
        .patch(
            &format!("{D}?fieldManager=tool"),
            yaml,
            &config(
                json!([{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]),
                1,
            ),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let mf = &r.body["metadata"]["managedFields"][0];
    assert_eq!(mf["manager"], "tool");
    assert_eq!(mf["operation"], "Apply");
    assert!(
        mf["fieldsV1"]["f:spec"]["f:template"]["f:spec"]["f:containers"]["k:{\"name\":\"main\"}"]
            ["f:env"]["k:{\"name\":\"A\"}"]
            .is_object()
    );

    // someone else adds a label with a merge patch; the next apply must keep it
    t.patch(
        D,
        "application/merge-patch+json",
        r#"{"metadata":{"labels":{"owner":"ops"}}}"#,
    )
    .await;
    let r = t
        .patch(
            &format!("{D}?fieldManager=tool"),
            yaml,
            &config(json!([{"name": "A", "value": "1"}]), 1),
        )
        .await;
    assert_eq!(r.status, 200);
    let env = &r.body["spec"]["template"]["spec"]["containers"][0]["env"];
    assert_eq!(
        env,
        &json!([{"name": "A", "value": "1"}]),
        "B was applied before and dropped now: removed"
    );
    assert_eq!(
        r.body["metadata"]["labels"]["owner"], "ops",
        "fields of other managers stay"
    );

    // apply without a field manager is refused
    let r = t.patch(D, yaml, &config(json!([]), 1)).await;
    assert_eq!(r.status, 400);

    // another manager changing an owned field conflicts, unless forced
    let r = t
        .patch(
            &format!("{D}?fieldManager=other"),
            yaml,
            &config(json!([{"name": "A", "value": "1"}]), 5),
        )
        .await;
    assert_eq!(r.status, 409);
    assert_eq!(r.body["reason"], "Conflict");
    assert!(
        r.body["message"]
            .as_str()
            .unwrap()
            .contains("conflict with \"tool\""),
        "{}",
        r.body
    );
    assert!(r.body["message"]
        .as_str()
        .unwrap()
        .contains(".spec.replicas"));
    assert_eq!(
        t.get(D).await.body["spec"]["replicas"],
        1,
        "the conflicting apply changed nothing"
    );
    let r = t
        .patch(
            &format!("{D}?fieldManager=other&force=true"),
            yaml,
            &config(json!([{"name": "A", "value": "1"}]), 5),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["spec"]["replicas"], 5);

    // dry run
    let r = t
        .patch(
            &format!("{D}?fieldManager=other&force=true&dryRun=All"),
            yaml,
            &config(json!([{"name": "A", "value": "1"}]), 7),
        )
        .await;
    assert_eq!(r.body["spec"]["replicas"], 7);
    assert_eq!(t.get(D).await.body["spec"]["replicas"], 5);

    // duplicate keys cannot become a field set
    let r = t
        .patch(
            &format!("{D}?fieldManager=tool"),
            yaml,
            &config(json!([{"name": "A"}, {"name": "A"}]), 5),
        )
        .await;
    assert!(r.status >= 400);
    assert!(r.body["message"]
        .as_str()
        .unwrap()
        .contains("duplicate entries for key"));
}
