//! Rollout waits, pods with their reasons, logs, events and restarts, against the
//! rehearsal cluster's simulated controllers (on its fast virtual clock).

use crate::rehearsal::Rehearsal;

const IMAGE: &str = "lfrunacr.azurecr.io/langfuse-web:3.224.1";

/// A script prelude defining `deployment(name, image, replicas, deadline_secs)`.
fn prelude() -> String {
    r#"
    fn deployment(name, image, replicas, deadline) {
        #{apiVersion: "apps/v1", kind: "Deployment",
          metadata: #{name: name, namespace: "apps", labels: #{app: name}},
          spec: #{replicas: replicas, progressDeadlineSeconds: deadline,
                  selector: #{matchLabels: #{app: name}},
                  template: #{metadata: #{labels: #{app: name}},
                              spec: #{containers: [#{name: name, image: image,
                                      readinessProbe: #{httpGet: #{path: "/", port: 3000}, initialDelaySeconds: 5}}]}}}}
    }
    kube::ensure_namespace("apps");
    "#
    .to_string()
}

#[test]
fn rollout_status_waits_for_ready_replicas_like_kubectl() {
    let cluster = Rehearsal::start("empty");
    let script = prelude()
        + format!(
            r#"
            kube::apply(deployment("web", "{IMAGE}", 2, 600));
            let r = kube::rollout_status("apps", "Deployment", "web", 60);
            print(`ready ${{r.ready}} available ${{r.available}}/${{r.replicas}}: ${{r.message}}`);
            let pods = kube::pods("apps", "app=web");
            print(`pods ${{pods.len()}} all ready ${{pods.all(|p| p.ready && p.phase == "Running")}}`);
            print(`container ${{pods[0].containers[0].name}} ${{pods[0].containers[0].image}} restarts ${{pods[0].restarts}}`);
            print(`problems ${{kube::pod_problems("apps", "app=web")}}`);
            let now = kube::rollout_status("apps", "deploy", "web", 0);
            print(`snapshot ${{now.ready}}`);
            "#
        )
        .as_str();
    cluster
        .test(&script)
        .stdout_has("ready true available 2/2: deployment \"web\" successfully rolled out")
        .stdout_has("pods 2 all ready true")
        .stdout_has(&format!("container web {IMAGE} restarts 0"))
        .stdout_has("problems []")
        .stdout_has("snapshot true")
        .run();
}

#[test]
fn rollout_fails_on_progress_deadline_naming_the_image_pull_error() {
    let cluster = Rehearsal::start("empty");
    // Guide §11 gone wrong: an upgrade to an image tag that was never pushed. The old
    // pods keep serving; the new one cannot pull; after progressDeadlineSeconds (60 s
    // of virtual time) the Deployment reports ProgressDeadlineExceeded.
    let script = prelude()
        + format!(
            r#"
            kube::apply(deployment("web", "{IMAGE}", 2, 60));
            kube::rollout_status("apps", "Deployment", "web", 60);
            kube::apply(deployment("web", "lfrunacr.azurecr.io/langfuse-web:no-such-tag", 2, 60));
            try {{
                kube::rollout_status("apps", "Deployment", "web", 60);
                print("rolled out?!");
            }} catch (e) {{
                print(`kind ${{e.kind}} reason ${{e.reason}}`);
                print(`message ${{e.message}}`);
                print(`hint ${{e.hint}}`);
            }}
            let stuck = kube::pods("apps", "app=web").filter(|p| !p.ready);
            print(`waiting ${{stuck[0].containers[0].waiting_reason}}`);
            let s = kube::rollout_status("apps", "Deployment", "web", 0);
            print(`snapshot ready ${{s.ready}} failed ${{s.failed}} ${{s.reason}}`);
            "#
        )
        .as_str();
    let out = cluster
        .test(&script)
        .stdout_has("kind timeout reason ProgressDeadlineExceeded")
        .stdout_has("message Deployment apps/web failed to roll out: ProgressDeadlineExceeded: deployment \"web\" exceeded its progress deadline")
        .stdout_has("hint an image cannot be pulled")
        .stdout_has("snapshot ready false failed true ProgressDeadlineExceeded")
        .run();
    assert!(
        out.stdout.contains("waiting ImagePullBackOff")
            || out.stdout.contains("waiting ErrImagePull"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("langfuse-web:no-such-tag: not found"),
        "{}",
        out.stdout
    );
}

#[test]
fn rollout_times_out_with_the_pods_reason() {
    let cluster = Rehearsal::start("empty");
    let script = prelude()
        + r#"
        kube::apply(deployment("worker", "lfrunacr.azurecr.io/langfuse-worker:gone", 1, 100000));
        try { kube::rollout_status("apps", "Deployment", "worker", 2); }
        catch (e) { print(`kind ${e.kind} reason ${e.reason}: ${e.message}`); print(`problems ${e.problems.len()}`); }
        "#;
    let out = cluster
        .test(&script)
        .stdout_has("kind timeout reason Timeout: Deployment apps/worker did not finish rolling out within 2 s")
        .stdout_has("problems 1")
        .run();
    assert!(
        out.stdout.contains("no-such") || out.stdout.contains("not found"),
        "{}",
        out.stdout
    );
}

#[test]
fn statefulset_rollout_logs_and_events() {
    let cluster = Rehearsal::start("empty");
    let script = format!(
        r#"
        kube::ensure_namespace("apps");
        kube::apply(#{{apiVersion: "apps/v1", kind: "StatefulSet",
            metadata: #{{name: "db", namespace: "apps"}},
            spec: #{{replicas: 2, serviceName: "db", selector: #{{matchLabels: #{{app: "db"}}}},
                    template: #{{metadata: #{{labels: #{{app: "db"}}}},
                                spec: #{{containers: [#{{name: "db", image: "{IMAGE}"}}]}}}}}}}});
        let r = kube::rollout_status("apps", "StatefulSet", "db", 60);
        print(`sts ready ${{r.ready}} ${{r.ready_replicas}}/${{r.replicas}}: ${{r.message}}`);
        print(`pods ${{kube::pods("apps", "app=db").map(|p| p.name)}}`);
        let log = kube::logs("apps", "db-0", 5);
        print(`log is text ${{type_of(log)}}`);
        print(`log with options ${{type_of(kube::logs("apps", "db-0", #{{container: "db", tail: 2}}))}}`);
        let events = kube::events("apps", "Pod", "db-0");
        print(`pod events ${{events.len() > 0}} reasons ${{events.map(|e| e.reason)}}`);
        print(`namespace events ${{kube::events("apps").len() >= events.len()}}`);
        try {{ kube::logs("apps", "db-9", 5) }} catch (e) {{ print(`${{e.kind}}: ${{e.message}}`) }}
        "#
    );
    cluster
        .test(&script)
        // The API server defaults rollingUpdate.partition to 0, so kubectl's rule is the partitioned one.
        .stdout_has(
            "sts ready true 2/2: partitioned roll out complete: 2 new pods have been updated",
        )
        .stdout_has("pods [\"db-0\", \"db-1\"]")
        .stdout_has("log is text string")
        .stdout_has("log with options string")
        .stdout_has("pod events true")
        .stdout_has("Scheduled")
        .stdout_has("namespace events true")
        .stdout_has("not_found: Pod apps/db-9 not found")
        .run();
}

#[test]
fn restart_pods_waits_for_ready_replacements() {
    let cluster = Rehearsal::start("empty");
    let script = prelude()
        + format!(
            r#"
            kube::apply(deployment("web", "{IMAGE}", 2, 600));
            kube::rollout_status("apps", "Deployment", "web", 60);
            let before = kube::pods("apps", "app=web").map(|p| p.name);
            let r = kube::restart_pods("apps", "app=web", 60);
            print(`outcome ${{r.outcome}} deleted ${{r.deleted.len()}} replacements ${{r.replacements.len()}}`);
            let after = kube::pods("apps", "app=web");
            print(`all ready ${{after.all(|p| p.ready)}} fresh ${{after.all(|p| !before.contains(p.name))}}`);
            print(`replacements are the pods ${{r.replacements.all(|n| after.map(|p| p.name).contains(n))}}`);
            "#
        )
        .as_str();
    cluster
        .test(&script)
        .arg("--yes")
        .stdout_has("outcome restarted deleted 2 replacements 2")
        .stdout_has("all ready true fresh true")
        .stdout_has("replacements are the pods true")
        .run();
}

#[test]
fn restart_is_destructive_and_refused_without_confirmation() {
    let cluster = Rehearsal::start("empty");
    let script = prelude()
        + format!(
            r#"
            kube::apply(deployment("web", "{IMAGE}", 1, 600));
            kube::rollout_status("apps", "Deployment", "web", 60);
            kube::restart_pods("apps", "app=web", 60);
            "#
        )
        .as_str();
    cluster
        .test(&script)
        .status(1)
        .stderr_has("refusing to restart pods apps (app=web)")
        .stderr_has("--yes")
        .run();
}

#[test]
fn restart_names_the_reason_when_replacements_cannot_start() {
    let cluster = Rehearsal::start("empty");
    let script = prelude()
        + r#"
        kube::apply(deployment("web", "lfrunacr.azurecr.io/langfuse-web:never-pushed", 1, 100000));
        while kube::pods("apps", "app=web").is_empty() { sleep(0.05); }
        try { kube::restart_pods("apps", "app=web", 2); print("restarted?!"); }
        catch (e) { print(`${e.kind}: ${e.message}`); print(`hint: ${e.hint}`); }
        "#;
    cluster
        .test(&script)
        .arg("--yes")
        .stdout_has("timeout: pods app=web in apps were deleted but only 0 of 1 replacements were Ready after 2 s")
        .stdout_has("hint: an image cannot be pulled")
        .run();
}

#[test]
fn a_first_rollout_whose_image_is_missing_hits_the_progress_deadline() {
    let cluster = Rehearsal::start("empty");
    let script = prelude()
        + r#"
        kube::apply(deployment("web", "lfrunacr.azurecr.io/langfuse-web:never-pushed", 1, 60));
        try { kube::rollout_status("apps", "Deployment", "web", 60); print("rolled out?!"); }
        catch (e) { print(`${e.kind} ${e.reason}: ${e.message}`); }
        "#;
    let out = cluster
        .test(&script)
        .stdout_has("timeout ProgressDeadlineExceeded: Deployment apps/web failed to roll out")
        .run();
    assert!(
        out.stdout.contains("ImagePullBackOff") || out.stdout.contains("ErrImagePull"),
        "{}",
        out.stdout
    );
}
