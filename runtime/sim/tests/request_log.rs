//! Every request is logged (memory, `/_sim/requests`, `requests.jsonl`), so a test can
//! prove a dry run wrote nothing.

mod common;
use common::*;
use lfrun_sim::Verb;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_are_logged_as_reads_and_writes() {
    let t = start("empty").await;
    t.delete("/_sim/requests").await;
    t.get("/api/v1/namespaces").await;
    t.post("/api/v1/namespaces?dryRun=All", &namespace("dry"))
        .await;
    t.post("/api/v1/namespaces", &namespace("wet")).await;
    t.get("/api/v1/namespaces/missing").await;

    let records = t.sim.requests().await.unwrap();
    let resource: Vec<_> = records
        .iter()
        .filter(|r| !r.path.starts_with("/_sim"))
        .collect();
    assert_eq!(resource.len(), 4, "{resource:?}");
    assert_eq!(
        (
            resource[0].method.as_str(),
            resource[0].verb,
            resource[0].status
        ),
        ("GET", Verb::Read, 200)
    );
    assert_eq!(
        (
            resource[1].verb,
            resource[1].dry_run,
            resource[1].query.as_str()
        ),
        (Verb::Write, true, "dryRun=All")
    );
    assert_eq!(
        (resource[2].verb, resource[2].dry_run, resource[2].status),
        (Verb::Write, false, 201)
    );
    assert_eq!(resource[3].status, 404);

    let served = t.get("/_sim/requests").await.body;
    assert!(served
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["path"] == "/api/v1/namespaces"
            && r["method"] == "POST"
            && r["verb"] == "write"));
    let file = std::fs::read_to_string(t.dir.path().join("requests.jsonl")).unwrap();
    assert!(file
        .lines()
        .any(|l| l.contains("\"/api/v1/namespaces/missing\"")));

    // a read-only session makes zero writes
    t.delete("/_sim/requests").await;
    t.get("/apis/apps/v1/deployments").await;
    t.get("/api/v1/namespaces/wet").await;
    let writes = t
        .sim
        .requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.verb == Verb::Write && !r.path.starts_with("/_sim"))
        .count();
    assert_eq!(writes, 0);
    assert_eq!(
        t.get("/_sim/requests").await.body.as_array().unwrap().len(),
        2
    );
    let _ = json!({});
}
