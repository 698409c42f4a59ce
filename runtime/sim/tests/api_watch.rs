//! Watch: streams, resourceVersions, selectors, bookmarks, timeouts, 410 Gone.

mod common;
use common::*;
use futures_util::StreamExt;
use serde_json::{json, Value};
use std::time::Duration;

/// Reads watch events until `n` arrived (or the stream ended / 10 s passed).
async fn events(t: &TestSim, path: &str, n: usize) -> Vec<Value> {
    let resp = t.http.get(t.url(path)).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let mut stream = resp.bytes_stream();
    let mut buf = Vec::new();
    let mut out = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while out.len() < n {
        let Ok(chunk) = tokio::time::timeout_at(deadline, stream.next()).await else {
            break;
        };
        let Some(Ok(chunk)) = chunk else { break };
        buf.extend_from_slice(&chunk);
        while let Some(i) = buf.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = buf.drain(..=i).collect();
            out.push(serde_json::from_slice(&line).unwrap());
        }
    }
    out
}

fn cm(name: &str, app: &str) -> Value {
    json!({"metadata": {"name": name, "labels": {"app": app}}, "data": {"n": "1"}})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_sends_existing_then_changes() {
    let t = start("empty").await;
    t.post("/api/v1/namespaces", &namespace("w")).await;
    t.post("/api/v1/namespaces/w/configmaps", &cm("one", "x"))
        .await;
    let path = "/api/v1/namespaces/w/configmaps?watch=1&labelSelector=app%3Dx";
    let watcher = {
        let url = t.url(path);
        let http = t.http.clone();
        tokio::spawn(async move {
            let resp = http.get(url).send().await.unwrap();
            let mut s = resp.bytes_stream();
            let mut text = String::new();
            while text.matches('\n').count() < 4 {
                match tokio::time::timeout(Duration::from_secs(10), s.next()).await {
                    Ok(Some(Ok(c))) => text.push_str(&String::from_utf8_lossy(&c)),
                    _ => break,
                }
            }
            text
        })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    t.post("/api/v1/namespaces/w/configmaps", &cm("two", "x"))
        .await;
    t.post("/api/v1/namespaces/w/configmaps", &cm("other", "y"))
        .await;
    t.patch(
        "/api/v1/namespaces/w/configmaps/two",
        "application/merge-patch+json",
        r#"{"data":{"n":"2"}}"#,
    )
    .await;
    t.delete("/api/v1/namespaces/w/configmaps/one").await;
    let text = watcher.await.unwrap();
    let evs: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let summary: Vec<(String, String)> = evs
        .iter()
        .map(|e| {
            (
                e["type"].as_str().unwrap().to_string(),
                e["object"]["metadata"]["name"]
                    .as_str()
                    .unwrap()
                    .to_string(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            ("ADDED".into(), "one".into()),
            ("ADDED".into(), "two".into()),
            ("MODIFIED".into(), "two".into()),
            ("DELETED".into(), "one".into())
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_resumes_from_a_resource_version() {
    let t = start("empty").await;
    t.post("/api/v1/namespaces", &namespace("w")).await;
    let first = t
        .post("/api/v1/namespaces/w/configmaps", &cm("a", "x"))
        .await;
    let rv = first.body["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_string();
    t.post("/api/v1/namespaces/w/configmaps", &cm("b", "x"))
        .await;
    t.patch(
        "/api/v1/namespaces/w/configmaps/a",
        "application/merge-patch+json",
        r#"{"data":{"n":"9"}}"#,
    )
    .await;
    let evs = events(
        &t,
        &format!(
            "/api/v1/namespaces/w/configmaps?watch=true&labelSelector=app&resourceVersion={rv}&timeoutSeconds=1"
        ),
        2,
    )
    .await;
    assert_eq!(evs.len(), 2);
    assert_eq!(
        (
            evs[0]["type"].as_str(),
            evs[0]["object"]["metadata"]["name"].as_str()
        ),
        (Some("ADDED"), Some("b"))
    );
    assert_eq!(
        (
            evs[1]["type"].as_str(),
            evs[1]["object"]["data"]["n"].as_str()
        ),
        (Some("MODIFIED"), Some("9"))
    );
    // timeoutSeconds ends the stream
    let done = events(
        &t,
        "/api/v1/namespaces/w/configmaps?watch=true&resourceVersion=999999999&timeoutSeconds=1",
        100,
    )
    .await;
    assert!(done.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_list_and_label_changes() {
    let t = start("empty").await;
    t.post("/api/v1/namespaces", &namespace("w")).await;
    t.post("/api/v1/namespaces/w/configmaps", &cm("a", "x"))
        .await;
    // sendInitialEvents: existing objects, then a bookmark marking their end
    let evs = events(&t, "/api/v1/namespaces/w/configmaps?watch=1&labelSelector=app&sendInitialEvents=true&allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan&timeoutSeconds=1", 2).await;
    assert_eq!(evs[0]["type"], "ADDED");
    assert_eq!(evs[1]["type"], "BOOKMARK");
    assert_eq!(
        evs[1]["object"]["metadata"]["annotations"]["k8s.io/initial-events-end"],
        "true"
    );

    // an object that stops matching the selector is DELETED for this watcher
    let rv = t.get("/api/v1/namespaces/w/configmaps").await.body["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_string();
    t.patch(
        "/api/v1/namespaces/w/configmaps/a",
        "application/merge-patch+json",
        r#"{"metadata":{"labels":{"app":"moved"}}}"#,
    )
    .await;
    let evs = events(&t, &format!("/api/v1/namespaces/w/configmaps?watch=1&labelSelector=app%3Dx&resourceVersion={rv}&timeoutSeconds=1"), 1).await;
    assert_eq!(evs[0]["type"], "DELETED");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_from_before_the_history_is_gone() {
    let t = start("empty").await;
    // the history starts at start-up: versions before it are too old
    let r = t.get("/api/v1/namespaces?watch=1&resourceVersion=1").await;
    assert_eq!(r.status, 410);
    assert_eq!(r.body["reason"], "Expired");
}
