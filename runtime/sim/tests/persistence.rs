//! The world persists under the state dir; a running `serve` is attached to, not fought.

mod common;
use common::*;
use lfrun_sim::{Sim, SimOptions};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let sim = start_in(dir.path(), Some("empty")).await;
    let http = reqwest::Client::new();
    let ns =
        serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "kept"}});
    let r = http
        .post(format!("{}/api/v1/namespaces", sim.kube_url()))
        .json(&ns)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let rv_before: u64 = r.json::<serde_json::Value>().await.unwrap()["metadata"]
        ["resourceVersion"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    sim.shutdown().await.unwrap();
    assert!(dir.path().join("state.json").exists());
    assert!(
        !dir.path().join("serve.json").exists(),
        "serve.json is removed on shutdown"
    );

    // a second process (here: a second start) sees what the first did
    let sim = start_in(dir.path(), None).await;
    let r = http
        .get(format!("{}/api/v1/namespaces/kept", sim.kube_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let list: serde_json::Value = http
        .get(format!("{}/api/v1/namespaces", sim.kube_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let rv_now: u64 = list["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(rv_now >= rv_before, "resourceVersions never go back");
    // a scenario start replaces the state
    sim.shutdown().await.unwrap();
    let sim = start_in(dir.path(), Some("empty")).await;
    let r = http
        .get(format!("{}/api/v1/namespaces/kept", sim.kube_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    sim.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_is_flushed_while_running() {
    let dir = tempfile::tempdir().unwrap();
    let sim = start_in(dir.path(), Some("empty")).await;
    let http = reqwest::Client::new();
    let ns = serde_json::json!({"metadata": {"name": "flushed"}});
    http.post(format!("{}/api/v1/namespaces", sim.kube_url()))
        .json(&ns)
        .send()
        .await
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let text = std::fs::read_to_string(dir.path().join("state.json")).unwrap_or_default();
        if text.contains("\"flushed\"") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "state.json never got the namespace"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    sim.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_start_attaches_to_a_running_serve() {
    let dir = tempfile::tempdir().unwrap();
    let mut opts = SimOptions::new(dir.path());
    opts.scenario = Some("empty".into());
    opts.serve = true;
    let server = Sim::start(opts).await.unwrap();
    assert!(!server.is_attached());
    let info: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("serve.json")).unwrap()).unwrap();
    assert_eq!(info["pid"], std::process::id());
    assert_eq!(info["kube_url"], server.kube_url());

    let client = Sim::start(SimOptions::new(dir.path())).await.unwrap();
    assert!(client.is_attached());
    assert_eq!(client.kube_url(), server.kube_url());
    assert_eq!(client.kubeconfig_path(), server.kubeconfig_path());
    assert!(client.world().is_none());
    // attached handles steer the server through its control API
    client
        .push_image("lfrunacr.azurecr.io/langfuse-web:abc1234")
        .await
        .unwrap();
    let has = server.world().unwrap().read(|w| {
        w.registry
            .repositories
            .get("lfrunacr.azurecr.io/langfuse-web")
            .is_some_and(|t| t.contains("abc1234"))
    });
    assert!(has);
    assert!(!client.requests().await.unwrap().is_empty());
    // reset through the running server
    lfrun_sim::reset(dir.path(), Some("healthy")).await.unwrap();
    assert!(server
        .world()
        .unwrap()
        .read(|w| w.scenario == "healthy" && w.deploy_pending));
    client.shutdown().await.unwrap();
    server.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_rewrites_the_state_and_names_bad_scenarios() {
    let dir = tempfile::tempdir().unwrap();
    lfrun_sim::reset(dir.path(), Some("db-not-ready"))
        .await
        .unwrap();
    let text = std::fs::read_to_string(dir.path().join("state.json")).unwrap();
    let world: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(world["scenario"], "db-not-ready");
    assert_eq!(world["deploy_pending"], true);
    let err = lfrun_sim::reset(dir.path(), Some("no-such-scenario"))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("no-such-scenario") && err.contains("clickhouse-disk-full"),
        "{err}"
    );
    // a file that is not a scenario is refused without echoing its contents
    let stray = dir.path().join("notes.txt");
    std::fs::write(&stray, "password=hunter2").unwrap();
    let err = lfrun_sim::reset(dir.path(), Some(stray.to_str().unwrap()))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("not a scenario file") && !err.contains("hunter2"),
        "{err}"
    );
    // a corrupt state file is reported with its path
    std::fs::write(dir.path().join("state.json"), "{garbage").unwrap();
    let err = Sim::start(SimOptions::new(dir.path()))
        .await
        .err()
        .expect("corrupt state refused")
        .to_string();
    assert!(err.contains("state.json"), "{err}");
    assert_eq!(lfrun_sim::scenario_names().len(), 13);
}
