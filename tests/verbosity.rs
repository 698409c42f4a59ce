//! Verbosity: -v shows external tools' output live, -vv traces lfrun itself;
//! engine limits from the config stop runaway scripts.

use std::process::Command;

use crate::test::Test;

fn git_repo(dir: &std::path::Path) {
    let git = |args: &[&str]| {
        let ok = Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
            .args(args)
            .current_dir(dir)
            .status()
            .unwrap()
            .success();
        assert!(ok, "git {args:?}");
    };
    std::fs::write(dir.join("README"), "x").unwrap();
    git(&["init", "-q"]);
    git(&["add", "."]);
    git(&["commit", "-qm", "one"]);
}

#[test]
fn minus_v_shows_tool_output_live() {
    let test = Test::new();
    git_repo(test.dir());
    let out = test
        .script("let sha = git::short_sha(\".\");\n")
        .arg("-v")
        .run();
    assert!(
        out.stdout
            .lines()
            .any(|l| l.starts_with("  │ ") && l.len() > 6),
        "{}",
        out.stdout
    );
}

#[test]
fn without_v_tool_output_stays_quiet() {
    let test = Test::new();
    git_repo(test.dir());
    let out = test.script("let sha = git::short_sha(\".\");\n").run();
    assert!(!out.stdout.contains("  │ "), "{}", out.stdout);
}

#[test]
fn minus_vv_traces_lfrun_itself() {
    let test = Test::new();
    git_repo(test.dir());
    test.script("git::short_sha(\".\");\n")
        .arg("-vv")
        .stderr_has("DEBUG")
        .stderr_has("running")
        .run();
}

#[test]
fn rust_log_selects_tracing_without_flags() {
    let test = Test::new();
    git_repo(test.dir());
    test.script("git::short_sha(\".\");\n")
        .env("RUST_LOG", "lfrun=debug")
        .stderr_has("finished")
        .run();
}

#[test]
fn configured_operation_limit_stops_a_runaway_script() {
    Test::new()
        .file("c.yaml", "target: sim\nengine:\n  max_operations: 10000\n")
        .script("let i = 0;\nloop { i += 1; }\n")
        .args(["--config", "c.yaml"])
        .status(1)
        .stderr_has("Too many operations")
        .run();
}

#[test]
fn traces_at_the_finest_level_do_not_leak_a_secret() {
    let canary = "canary-trace-77aa11";
    let out = Test::new()
        .env("LFRUN_CANARY", canary)
        .env("RUST_LOG", "trace")
        .script(
            "kube::ensure_namespace(\"t\");\nkube::ensure_secret(\"t\", \"s\", #{ key: secret::from_env(\"LFRUN_CANARY\") });\n",
        )
        .run();
    use base64::Engine as _;
    let encoded = base64::engine::general_purpose::STANDARD.encode(canary);
    assert!(
        out.stderr.len() > 1000,
        "trace output expected at RUST_LOG=trace"
    );
    assert!(!out.stderr.contains(canary) && !out.stdout.contains(canary));
    assert!(
        !out.stderr.contains(&encoded),
        "the base64 form leaked in traces"
    );
}
