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
