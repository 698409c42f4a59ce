//! The `api-flaky` scenario: bursts of 429 (with Retry-After), 500 and stalled 504s.
//! Safe operations ride them out through retries; the request log shows the faults
//! were met and answered by repeats.

use crate::rehearsal::Rehearsal;

#[test]
fn safe_operations_survive_a_flaky_api_server() {
    let cluster = Rehearsal::start("api-flaky");
    // The scenario switches its faults on with the post-deploy faults.
    cluster.apply_faults();
    cluster.clear_requests();
    let out = cluster
        .test(
            r#"
            kube::ensure_namespace("flaky");
            for i in 0..8 {
                kube::apply(#{apiVersion: "v1", kind: "ConfigMap",
                              metadata: #{name: `cm-${i}`, namespace: "flaky", labels: #{set: "flaky"}}, data: #{i: `${i}`}});
            }
            let seen = 0;
            for round in 0..4 {
                for i in 0..8 { if kube::exists("ConfigMap", "flaky", `cm-${i}`) { seen += 1; } }
                seen += kube::list("ConfigMap", "flaky", #{labels: "set=flaky"}).len();
            }
            print(`seen ${seen}`);
            "#,
        )
        .arg("--yes")
        .stdout_has("seen 64")
        .run();
    let faults: Vec<_> = cluster
        .requests()
        .into_iter()
        .filter(|r| r.fault.is_some())
        .collect();
    assert!(
        !faults.is_empty(),
        "the scenario injected no faults; nothing was tested"
    );
    assert!(
        faults.iter().any(|r| r.status == 429),
        "expected some 429s among {:?}",
        faults.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    let _ = out;
}
