//! `lfrun sim serve|reset|scenarios`: the rehearsal on its own, for kubectl and helm.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use crate::test::{playbook, tool, Test};

/// Stops `lfrun sim serve` with Ctrl-C (so it saves its state) when dropped.
struct Serve(Child);

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-INT", &self.0.id().to_string()])
            .status();
        let _ = self.0.wait();
    }
}

fn serve(dir: &std::path::Path) -> (Serve, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_lfrun"))
        .args(["sim", "serve"])
        .current_dir(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut printed = String::new();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    for line in lines.by_ref() {
        let line = line.unwrap();
        printed.push_str(&line);
        printed.push('\n');
        if line.contains("Ctrl-C stops it") {
            break;
        }
    }
    // keep reading, so the server never writes into a closed pipe
    std::thread::spawn(move || lines.for_each(drop));
    (Serve(child), printed)
}

fn kubectl(dir: &std::path::Path, args: &[&str]) -> String {
    let out = Command::new(tool("kubectl"))
        .args(args)
        .env("KUBECONFIG", dir.join(".lfrun/sim/kubeconfig"))
        .env("HOME", dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "kubectl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).to_string()
}

#[test]
fn kubectl_sees_what_a_playbook_did_and_runs_attach_to_the_server() {
    let installed = Test::new().arg(playbook("install")).run();
    let dir = installed.dir.path().to_path_buf();
    let (_serve, printed) = serve(&dir);
    assert!(
        printed.contains("kubectl get pods -n langfuse"),
        "{printed}"
    );
    let pods = kubectl(&dir, &["get", "pods", "-n", "langfuse"]);
    assert!(
        pods.contains("langfuse-web-") && pods.contains("Running"),
        "{pods}"
    );
    // a run while the server is up uses it: kubectl sees its change at once
    // (the output owns the temporary directory: keep it until the end)
    let _run = Test::in_dir(installed.dir)
        .script("kube::ensure_namespace(\"made-while-served\");\n")
        .run();
    let namespaces = kubectl(&dir, &["get", "namespaces"]);
    assert!(namespaces.contains("made-while-served"), "{namespaces}");
}

#[test]
fn reset_starts_afresh_from_a_scenario() {
    let out = Test::new()
        .args(["sim", "reset", "--scenario", "empty"])
        .stdout_has("starts from scenario `empty`")
        .run();
    assert!(out
        .sim_object("apps/v1/Deployment", "langfuse/langfuse-web")
        .is_none());
    let deployed = Test::in_dir(out.dir)
        .args(["sim", "reset", "--scenario", "healthy"])
        .run();
    assert!(deployed
        .sim_object("apps/v1/Deployment", "langfuse/langfuse-web")
        .is_some());
}

#[test]
fn scenarios_are_listed_and_an_unknown_one_is_named() {
    Test::new()
        .args(["sim", "scenarios"])
        .stdout_has("clickhouse-disk-full")
        .stdout_has("sso-redirect-mismatch")
        .run();
    Test::new()
        .args(["validate", "--scenario", "no-such-scenario"])
        .status(2)
        .stderr_has("no-such-scenario")
        .run();
}
