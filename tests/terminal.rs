//! Behaviour on a real terminal, through a pseudo-terminal made by `script(1)`:
//! REPL tab completion, Ctrl-C cancelling an evaluation without leaving the REPL,
//! and the spinner on long waits.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

/// Runs `lfrun <args>` on a pseudo-terminal, typing `keys` (each chunk after a pause).
fn on_terminal(args: &str, keys: &[&str]) -> (String, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let cmd = format!("{} {args}", env!("CARGO_BIN_EXE_lfrun"));
    let mut child = Command::new("script")
        .args(["-qfec", &cmd, "/dev/null"])
        .current_dir(dir.path())
        .env("HOME", dir.path())
        .env("LFRUN_HISTORY", dir.path().join(".history"))
        .env("TERM", "xterm")
        .env_remove("NO_COLOR")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("script(1) from util-linux is needed for terminal tests");
    let mut stdin = child.stdin.take().unwrap();
    for chunk in keys {
        std::thread::sleep(Duration::from_millis(700));
        stdin.write_all(chunk.as_bytes()).unwrap();
        stdin.flush().unwrap();
    }
    std::thread::sleep(Duration::from_millis(700));
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    (String::from_utf8_lossy(&out.stdout).to_string(), dir)
}

#[test]
fn tab_completes_module_functions() {
    let (out, dir) = on_terminal("repl", &["fs::wr\t(\"done.txt\", \"y\")\r", "\x04"]);
    assert!(out.contains("fs::write"), "{out}");
    assert!(dir.path().join("done.txt").exists(), "{out}");
}

#[test]
fn ctrl_c_cancels_the_evaluation_but_not_the_repl() {
    let (out, _dir) = on_terminal("repl", &["loop { }\r", "\x03", "40 + 2\r", "\x04"]);
    assert!(out.contains("error[cancelled]"), "{out}");
    assert!(out.contains("42"), "{out}");
}

#[test]
fn long_waits_show_a_spinner_with_elapsed_time() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("wait.rhai"), "sleep(2.5);\n").unwrap();
    let cmd = format!("{} wait.rhai", env!("CARGO_BIN_EXE_lfrun"));
    let out = Command::new("script")
        .args(["-qfec", &cmd, "/dev/null"])
        .current_dir(dir.path())
        .env("TERM", "xterm")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("sleeping 2.5s (1s)"), "{text}");
    assert!(text.contains("sleeping 2.5s (2s)"), "{text}");
}

#[test]
fn sso_client_secret_can_be_typed_at_a_hidden_prompt() {
    use std::io::Read;
    let secret = "typed-sso-secret-5511";
    let dir = tempfile::tempdir().unwrap();
    let cmd = format!(
        "{} {} --set sso.client_secret.from=prompt --set install.validate=false",
        env!("CARGO_BIN_EXE_lfrun"),
        crate::test::playbook("install")
    );
    let mut child = Command::new("script")
        .args(["-qfec", &cmd, "/dev/null"])
        .current_dir(dir.path())
        .env("TERM", "xterm")
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = stdout.read(&mut buf) {
            if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    let mut seen = String::new();
    let mut stdin = child.stdin.take().unwrap();
    let mut answered = false;
    while let Ok(chunk) = rx.recv_timeout(Duration::from_secs(60)) {
        seen.push_str(&String::from_utf8_lossy(&chunk));
        if !answered && seen.contains("client secret value (input hidden):") {
            std::thread::sleep(Duration::from_millis(200));
            stdin.write_all(format!("{secret}\r").as_bytes()).unwrap();
            answered = true;
        }
    }
    child.wait().unwrap();
    assert!(answered, "the prompt was never shown:\n{seen}");
    assert!(
        !seen.contains(secret),
        "the typed secret was echoed:\n{seen}"
    );
    assert!(
        seen.contains("create secret langfuse/langfuse-sso"),
        "{seen}"
    );
    let state: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join(".lfrun/sim/state.json")).unwrap(),
    )
    .unwrap();
    use base64::Engine as _;
    let stored = state["kube"]["objects"]["v1/Secret"]["langfuse/langfuse-sso"]["data"]
        ["client-secret"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        base64::engine::general_purpose::STANDARD
            .decode(stored)
            .unwrap(),
        secret.as_bytes()
    );
}
