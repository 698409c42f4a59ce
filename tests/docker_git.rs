//! `git::` against a real repository in a temp dir (short SHA, dirty detection, the
//! `-dirty` tag policy) and `docker::` against a stand-in docker that records its argv
//! and stdin: argv as expected, secrets only on stdin or in docker's environment.

use std::path::Path;
use std::process::Command;

use crate::test::Test;

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .output()
        .expect("git");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A test whose working dir has `fork/`, a git repository with one commit.
fn with_repo() -> (Test, String) {
    let t = Test::new().file("fork/web/Dockerfile", "FROM scratch\n");
    let repo = t.dir().join("fork");
    git(&repo, &["init", "-q"]);
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-q", "-m", "first"]);
    let sha = git(&repo, &["rev-parse", "--short", "HEAD"]);
    (t, sha)
}

#[test]
fn short_sha_dirty_detection_and_image_tag() {
    let (t, sha) = with_repo();
    t.script(
        r#"
        print(`sha ${git::short_sha("fork")}`);
        print(`dirty ${git::is_dirty("fork")}`);
        print(`tag ${git::image_tag("fork")}`);
        fs::write("fork/new-file.txt", "uncommitted");
        print(`dirty ${git::is_dirty("fork")}`);
        try { git::image_tag("fork"); } catch (e) { print(`refused ${e.kind}: ${e.message}`); }
        print(`allowed ${git::image_tag("fork", true)}`);
        "#,
    )
    .stdout_has(&format!("sha {sha}"))
    .stdout_has("dirty false")
    .stdout_has(&format!("tag {sha}"))
    .stdout_has("dirty true")
    .stdout_has(&format!("refused invalid: fork has uncommitted changes: an image built from it would not match commit {sha}"))
    .stdout_has(&format!("allowed {sha}-dirty"))
    .run();
}

#[test]
fn allow_dirty_comes_from_the_config() {
    let (t, sha) = with_repo();
    t.file("fork/more.txt", "x")
        .file("c.yaml", "images:\n  allow_dirty: true\n")
        .script(r#"print(`tag ${git::image_tag("fork")}`);"#)
        .args(["--config", "c.yaml"])
        .stdout_has(&format!("tag {sha}-dirty"))
        .run();
}

#[test]
fn not_a_checkout_is_a_clear_error() {
    Test::new()
        .file("plain/readme.txt", "x")
        .script(r#"git::short_sha("plain");"#)
        .status(1)
        .stderr_has("error[invalid]: plain is not a git checkout")
        .run();
    Test::new()
        .script(r#"git::short_sha("missing-dir");"#)
        .status(1)
        .stderr_has("error[not_found]: missing-dir is not a directory")
        .run();
}

const CANARY: &str = "canary-docker-secret-5150";

/// A stand-in docker: logs argv (one line per call), stdin of `login`, and whether the
/// secret build argument arrived in its environment.
fn fake_docker(t: Test) -> Test {
    let script = format!(
        r#"#!/bin/sh
here="$(dirname "$0")"
printf '%s\n' "$*" >> "$here/argv.log"
case "$1" in
  login) cat > "$here/stdin.log" ;;
  build) if [ "$NPM_TOKEN" = "{CANARY}" ]; then echo "secret-env-ok" >> "$here/env.log"; fi ;;
  push) echo "The push refers to repository [$2]"; echo "abc1234: digest: sha256:feedbeef00 size: 528" ;;
  version) echo '{{"Client":{{"Version":"28.2.2"}},"Server":null}}'; echo "Cannot connect to the Docker daemon" >&2; exit 1 ;;
esac
"#
    );
    let t = t
        .file("bin/docker", &script)
        .file("c.yaml", "target: azure\ntools:\n  docker: bin/docker\n");
    crate::helm_template::make_executable(&t.dir().join("bin/docker"));
    t.args(["--config", "c.yaml"])
}

#[test]
fn docker_argv_and_secrets_stay_off_the_command_line() {
    let script = format!(
        r#"
        let v = docker::version();
        print(`client ${{v.client}} daemon ${{v.daemon}}`);
        let b = docker::build(#{{context: "fork", dockerfile: "fork/web/Dockerfile",
            tags: ["contosolangfuse.azurecr.io/langfuse-web:abc1234"],
            build_args: #{{NPM_TOKEN: secret::wrap("{CANARY}"), NODE_ENV: "production"}},
            platform: "linux/amd64"}});
        print(`build ${{b.outcome}}`);
        docker::tag("contosolangfuse.azurecr.io/langfuse-web:abc1234", "contosolangfuse.azurecr.io/langfuse-web:latest");
        let l = docker::login("contosolangfuse.azurecr.io", "00000000-0000-0000-0000-000000000000", secret::wrap("{CANARY}"));
        print(`login ${{l.outcome}}`);
        let p = docker::push("contosolangfuse.azurecr.io/langfuse-web:abc1234");
        print(`push ${{p.outcome}} ${{p.digest}}`);
        "#
    );
    let out = fake_docker(Test::new())
        .script(&script)
        .stdout_has("client 28.2.2 daemon false")
        .stdout_has("build built")
        .stdout_has("login logged_in")
        .stdout_has("push pushed sha256:feedbeef00")
        .stdout_lacks(CANARY)
        .stderr_lacks(CANARY)
        .run();
    let argv = std::fs::read_to_string(out.path("bin/argv.log")).unwrap();
    let lines: Vec<&str> = argv.lines().collect();
    assert_eq!(
        lines,
        [
            "version --format {{json .}}",
            "build --file fork/web/Dockerfile --tag contosolangfuse.azurecr.io/langfuse-web:abc1234 --build-arg NODE_ENV=production --build-arg NPM_TOKEN --platform linux/amd64 fork",
            "tag contosolangfuse.azurecr.io/langfuse-web:abc1234 contosolangfuse.azurecr.io/langfuse-web:latest",
            "login contosolangfuse.azurecr.io --username 00000000-0000-0000-0000-000000000000 --password-stdin",
            "push contosolangfuse.azurecr.io/langfuse-web:abc1234",
        ]
    );
    assert_eq!(
        std::fs::read_to_string(out.path("bin/stdin.log")).unwrap(),
        CANARY
    );
    assert_eq!(
        std::fs::read_to_string(out.path("bin/env.log"))
            .unwrap()
            .trim(),
        "secret-env-ok"
    );
    let journal = out.journal();
    assert!(journal.contains("docker push"), "{journal}");
    assert!(!journal.contains(CANARY), "{journal}");
}

#[test]
fn docker_changes_are_planned_in_a_dry_run() {
    let script = format!(
        r#"
        docker::build(#{{context: "fork", tags: ["r.azurecr.io/langfuse-web:abc1234"]}});
        docker::login("r.azurecr.io", "user", secret::wrap("{CANARY}"));
        print(`push ${{docker::push("r.azurecr.io/langfuse-web:abc1234").outcome}}`);
        "#
    );
    let out = fake_docker(Test::new())
        .script(&script)
        .args(["--dry-run", "--output", "json"])
        .stdout_has("push planned")
        .stdout_has("docker build")
        .stdout_lacks(CANARY)
        .run();
    assert!(
        !out.path("bin/argv.log").exists(),
        "docker ran in a dry run"
    );
    assert!(!out.journal().contains(CANARY));
}

#[test]
fn docker_failure_carries_the_stderr_tail() {
    let t = Test::new()
        .file(
            "bin/docker",
            "#!/bin/sh\necho 'denied: requested access to the resource is denied' >&2\nexit 1\n",
        )
        .file("c.yaml", "target: azure\ntools:\n  docker: bin/docker\n");
    crate::helm_template::make_executable(&t.dir().join("bin/docker"));
    t.args(["--config", "c.yaml"])
        .script(r#"docker::push("r.azurecr.io/langfuse-web:abc1234");"#)
        .status(1)
        .stderr_has("error[tool_failed]")
        .stderr_has("denied: requested access to the resource is denied")
        .stderr_has("AcrPush")
        .run();
}
