//! Playbook benchmark (not a test): prints figures, asserts nothing.
//!
//!     cargo bench --bench playbooks
//!
//! - a full install on a fresh rehearsal environment (target < 5 s wall), and the
//!   API requests it made;
//! - the idempotent second run (target < 2 s);
//! - beside them, the guide's own commands for the same cluster steps (§5 kubectl
//!   create namespace/secrets, §7 helm install, §11 kubectl rollout status) run as
//!   kubectl and helm processes against the same rehearsal cluster (`lfrun sim serve`).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn main() {
    let lfrun = env!("CARGO_BIN_EXE_lfrun");
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));

    let dir = tempfile::tempdir().expect("temp dir");
    let first = timed(Command::new(lfrun).arg("install").current_dir(dir.path()));
    let requests =
        std::fs::read_to_string(dir.path().join(".lfrun/sim/requests.jsonl")).unwrap_or_default();
    let (reads, writes) = requests.lines().fold((0, 0), |(r, w), l| {
        if l.contains("\"verb\":\"write\"") {
            (r, w + 1)
        } else {
            (r + 1, w)
        }
    });
    let second = timed(Command::new(lfrun).arg("install").current_dir(dir.path()));
    println!(
        "lfrun install, fresh rehearsal:      {:>6.2} s (target < 5 s)",
        first.as_secs_f64()
    );
    println!(
        "  Kubernetes API requests:           {} ({reads} reads, {writes} writes)",
        reads + writes
    );
    println!(
        "lfrun install, second (idempotent):  {:>6.2} s (target < 2 s)",
        second.as_secs_f64()
    );

    let guide = guide_commands(lfrun, &root);
    println!("the guide's commands as processes:   {:>6.2} s (§5 namespace + 3 secrets, §7 helm install, §11 two rollout waits)", guide.as_secs_f64());
    println!("  (no Azure verification, image build or validation in that figure; lfrun's includes them)");
}

fn timed(cmd: &mut Command) -> Duration {
    let start = Instant::now();
    let out = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .expect("running lfrun");
    let elapsed = start.elapsed();
    if !out.status.success() {
        eprintln!(
            "warning: {cmd:?} exited with {}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    elapsed
}

fn tool(root: &Path, name: &str) -> String {
    let out = Command::new(root.join("scripts/tools.sh"))
        .args(["path", name])
        .output()
        .expect("scripts/tools.sh");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Serves a fresh rehearsal with `lfrun sim serve` and times the guide's commands against it.
fn guide_commands(lfrun: &str, root: &Path) -> Duration {
    let dir = tempfile::tempdir().expect("temp dir");
    let (kubectl, helm) = (tool(root, "kubectl"), tool(root, "helm4"));
    // Not timed: a fresh cluster, the §8 values from the values builder (no secrets in
    // them) and the §6 images pushed, so the timed commands can succeed.
    let lfrun_in_dir = |args: &[&str]| {
        let ok = Command::new(lfrun)
            .args(args)
            .current_dir(dir.path())
            .stdout(Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if !ok {
            eprintln!("warning: lfrun {args:?} failed");
        }
    };
    lfrun_in_dir(&["sim", "reset", "--scenario", "empty"]);
    std::fs::write(
        dir.path().join("prepare.rhai"),
        "import \"values\" as values;\nimport \"images\" as images;\n\
         fs::write(\"values.yaml\", to_yaml(values::build(\"rehearsal\", \"00000000-0000-4000-8000-000000000000\")));\n\
         images::publish(\"rehearsal\");\n",
    )
    .unwrap();
    lfrun_in_dir(&["prepare.rhai"]);
    let mut serve = ServeGuard(
        Command::new(lfrun)
            .args(["sim", "serve"])
            .current_dir(dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("lfrun sim serve"),
    );
    let mut lines = BufReader::new(serve.0.stdout.take().unwrap()).lines();
    for line in lines.by_ref() {
        if line.unwrap_or_default().contains("Ctrl-C stops it") {
            break;
        }
    }
    // keep reading, so the server never writes into a closed pipe
    std::thread::spawn(move || lines.for_each(drop));
    let kubeconfig = dir.path().join(".lfrun/sim/kubeconfig");
    let chart = root.join("../shared/charts/langfuse-1.5.41.tgz");
    let run = |program: &str, args: &[&str]| {
        let ok = Command::new(program)
            .args(args)
            .env("KUBECONFIG", &kubeconfig)
            .current_dir(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if !ok {
            eprintln!("warning: {program} {args:?} failed");
        }
    };
    let start = Instant::now();
    run(&kubectl, &["create", "namespace", "langfuse"]);
    run(
        &kubectl,
        &[
            "create",
            "secret",
            "generic",
            "langfuse-secrets",
            "-n",
            "langfuse",
            "--from-literal=nextauth-secret=a",
            "--from-literal=salt=b",
            "--from-literal=encryption-key=c",
        ],
    );
    run(
        &kubectl,
        &[
            "create",
            "secret",
            "generic",
            "langfuse-sso",
            "-n",
            "langfuse",
            "--from-literal=client-id=x",
            "--from-literal=client-secret=y",
        ],
    );
    run(
        &kubectl,
        &[
            "create",
            "secret",
            "generic",
            "langfuse-db-passwords",
            "-n",
            "langfuse",
            "--from-literal=postgres-password=p",
            "--from-literal=redis-password=r",
            "--from-literal=clickhouse-password=c",
        ],
    );
    run(
        &kubectl,
        &[
            "create",
            "secret",
            "generic",
            "langfuse-init",
            "-n",
            "langfuse",
            "--from-literal=public-key=pk-lf-1",
            "--from-literal=secret-key=sk-lf-1",
        ],
    );
    run(
        &helm,
        &[
            "install",
            "langfuse",
            chart.to_str().unwrap(),
            "-n",
            "langfuse",
            "-f",
            "values.yaml",
        ],
    );
    run(
        &kubectl,
        &[
            "rollout",
            "status",
            "deployment/langfuse-web",
            "-n",
            "langfuse",
        ],
    );
    run(
        &kubectl,
        &[
            "rollout",
            "status",
            "deployment/langfuse-worker",
            "-n",
            "langfuse",
        ],
    );
    start.elapsed()
}

/// Stops `lfrun sim serve` (Ctrl-C, so it saves its state) when dropped.
struct ServeGuard(Child);

impl Drop for ServeGuard {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-INT", &self.0.id().to_string()])
            .status();
        let _ = self.0.wait();
    }
}
