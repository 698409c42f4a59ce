//! The api-flaky scenario: deterministic 429/500/stalls that never half-apply a request.

mod common;
use common::*;
use serde_json::json;

/// The shipped api-flaky scenario, with shorter stalls so the test does not wait long
/// (loaded from a file path, as `--scenario FILE` does).
async fn flaky() -> TestSim {
    let text = lfrun_sim::scenario::shipped_text("api-flaky")
        .unwrap()
        .replace("stall_ms: 1500", "stall_ms: 100");
    assert!(text.contains("stall_ms: 100"));
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), text).unwrap();
    start(file.path().to_str().unwrap()).await
}

async fn run_sequence() -> (Vec<u16>, Vec<String>, TestSim) {
    let t = flaky().await;
    let applied = t.sim.apply_faults().await.unwrap();
    assert!(applied.iter().any(|a| a.contains("API fault injection")));
    let mut statuses = Vec::new();
    let mut created = Vec::new();
    for i in 0..60 {
        let name = format!("cm-{i}");
        let r = t
            .post(
                "/api/v1/namespaces/default/configmaps",
                &json!({"metadata": {"name": name}}),
            )
            .await;
        statuses.push(r.status);
        if r.status == 201 {
            created.push(name);
        }
        if r.status == 429 {
            assert_eq!(r.headers.get("retry-after").unwrap(), "1");
            assert_eq!(r.body["reason"], "TooManyRequests");
        }
    }
    (statuses, created, t)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flaky_api_is_deterministic_and_never_half_applies() {
    let (first, created, t) = run_sequence().await;
    let (second, _, _t2) = run_sequence().await;
    assert_eq!(first, second, "the same requests meet the same faults");
    assert!(first.contains(&429) && first.contains(&500), "{first:?}");
    assert!(
        first.iter().filter(|s| **s == 201).count() > 30,
        "{first:?}"
    );

    // exactly the successful creates exist: failed ones were not applied
    let listed: Vec<String> = {
        let mut names = None;
        for _ in 0..20 {
            let r = t.get("/api/v1/namespaces/default/configmaps").await;
            if r.status == 200 {
                names = Some(
                    r.body["items"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|i| i["metadata"]["name"].as_str().unwrap().to_string())
                        .collect::<Vec<_>>(),
                );
                break;
            }
        }
        names.expect("a list eventually succeeds")
    };
    let mut want = created.clone();
    want.sort();
    let mut got: Vec<String> = listed
        .into_iter()
        .filter(|n| n.starts_with("cm-"))
        .collect();
    got.sort();
    assert_eq!(got, want);

    // retrying a failed create succeeds
    let failed_index = first.iter().position(|s| *s != 201).unwrap();
    let mut ok = false;
    for _ in 0..10 {
        let r = t
            .post(
                "/api/v1/namespaces/default/configmaps",
                &json!({"metadata": {"name": format!("cm-{failed_index}")}}),
            )
            .await;
        if r.status == 201 {
            ok = true;
            break;
        }
    }
    assert!(ok, "a retried request gets through");
    // the control API and discovery are never faulted
    for _ in 0..20 {
        assert_eq!(t.get("/version").await.status, 200);
        assert_eq!(t.get("/_sim/info").await.status, 200);
    }
    let faults: Vec<_> = t
        .sim
        .requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.fault.is_some())
        .collect();
    assert!(!faults.is_empty());
}
