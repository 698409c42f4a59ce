//! Ctrl-C stops the script at the next operation boundary and kills child processes.

use std::process::{Command, Stdio};
use std::time::Duration;

#[test]
fn sigint_stops_a_running_script_with_cancelled() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("loop.rhai"),
        "print(\"started\");\nloop { let x = 1; }\n",
    )
    .unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_lfrun"))
        .arg("loop.rhai")
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // wait for the script to start, then interrupt it
    std::thread::sleep(Duration::from_millis(800));
    unsafe_kill(child.id(), 2);
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("error[cancelled]"), "{stderr}");
}

fn unsafe_kill(pid: u32, signal: i32) {
    let status = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(pid.to_string())
        .status()
        .unwrap();
    assert!(status.success());
}
