#![allow(dead_code)] // helpers used by some feature files only
//! The `Test` builder: a script, arguments and environment in, the expected exit
//! code and output out. Every test runs the real `lfrun` binary in its own
//! temporary working directory (so `.lfrun/` state and journals never leak
//! between tests).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The repository root (where `playbooks/`, `stdlib/` and `examples/` live).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `../shared` beside the repository (the guide and the real charts).
pub fn shared_dir() -> PathBuf {
    repo_root().join("..").join("shared")
}

/// The path of an external tool (`helm3`, `helm4`, `kubectl`), found on PATH or
/// fetched by `scripts/tools.sh`. A tool that cannot be had fails the test with the
/// script's message: tests never skip silently.
pub fn tool(name: &str) -> PathBuf {
    let out = Command::new(repo_root().join("scripts/tools.sh"))
        .args(["path", name])
        .output()
        .expect("running scripts/tools.sh");
    assert!(
        out.status.success(),
        "scripts/tools.sh could not provide {name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}

pub struct Test {
    dir: tempfile::TempDir,
    args: Vec<String>,
    env: Vec<(String, String)>,
    stdin: Option<String>,
    status: i32,
    stdout_has: Vec<String>,
    stdout_lacks: Vec<String>,
    stderr_has: Vec<String>,
    stderr_lacks: Vec<String>,
}

/// What a finished run left behind, for further assertions.
pub struct Output {
    pub stdout: String,
    pub stderr: String,
    pub status: i32,
    pub dir: tempfile::TempDir,
}

impl Output {
    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// All journal lines written in this test's working directory.
    pub fn journal(&self) -> String {
        let dir = self.path(".lfrun/journal");
        let mut all = String::new();
        if let Ok(entries) = std::fs::read_dir(dir) {
            for e in entries.flatten() {
                all.push_str(&std::fs::read_to_string(e.path()).unwrap_or_default());
            }
        }
        all
    }
}

impl Output {
    /// The rehearsal's persisted world (`.lfrun/sim/state.json`).
    pub fn sim_state(&self) -> serde_json::Value {
        let text =
            std::fs::read_to_string(self.path(".lfrun/sim/state.json")).expect("rehearsal state");
        serde_json::from_str(&text).expect("rehearsal state is JSON")
    }

    /// A Kubernetes object from the rehearsal's state, by `v1/Secret` and `ns/name`.
    pub fn sim_object(&self, type_key: &str, key: &str) -> Option<serde_json::Value> {
        self.sim_state()["kube"]["objects"][type_key]
            .get(key)
            .cloned()
    }

    /// Requests the rehearsal's Kubernetes API answered, from `.lfrun/sim/requests.jsonl`.
    pub fn sim_requests(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(self.path(".lfrun/sim/requests.jsonl"))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }
}

/// The path of a playbook in this checkout.
pub fn playbook(name: &str) -> String {
    repo_root()
        .join("playbooks")
        .join(format!("{name}.rhai"))
        .display()
        .to_string()
}

impl Default for Test {
    fn default() -> Self {
        Test::new()
    }
}

impl Test {
    pub fn new() -> Test {
        Test {
            dir: tempfile::tempdir().expect("temp dir"),
            args: Vec::new(),
            env: vec![("NO_COLOR".into(), "1".into())],
            stdin: None,
            status: 0,
            stdout_has: Vec::new(),
            stdout_lacks: Vec::new(),
            stderr_has: Vec::new(),
            stderr_lacks: Vec::new(),
        }
    }

    /// Runs in an existing directory (e.g. a second run over the same state).
    pub fn in_dir(dir: tempfile::TempDir) -> Test {
        Test { dir, ..Test::new() }
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Writes `script.rhai` with `text` and runs it.
    pub fn script(self, text: &str) -> Test {
        self.file("script.rhai", text).arg("script.rhai")
    }

    /// Writes a file relative to the working directory.
    pub fn file(self, rel: &str, text: &str) -> Test {
        let path = self.dir.path().join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(path, text).unwrap();
        self
    }

    pub fn arg(mut self, arg: impl Into<String>) -> Test {
        self.args.push(arg.into());
        self
    }

    pub fn args<I: IntoIterator<Item = S>, S: Into<String>>(mut self, args: I) -> Test {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    pub fn env(mut self, key: &str, value: impl Into<String>) -> Test {
        self.env.push((key.into(), value.into()));
        self
    }

    pub fn stdin(mut self, text: &str) -> Test {
        self.stdin = Some(text.into());
        self
    }

    /// Expected exit code (default 0).
    pub fn status(mut self, code: i32) -> Test {
        self.status = code;
        self
    }

    pub fn stdout_has(mut self, text: &str) -> Test {
        self.stdout_has.push(text.into());
        self
    }

    pub fn stdout_lacks(mut self, text: &str) -> Test {
        self.stdout_lacks.push(text.into());
        self
    }

    pub fn stderr_has(mut self, text: &str) -> Test {
        self.stderr_has.push(text.into());
        self
    }

    pub fn stderr_lacks(mut self, text: &str) -> Test {
        self.stderr_lacks.push(text.into());
        self
    }

    /// Runs `lfrun` and checks every expectation; returns the output.
    pub fn run(self) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_lfrun"));
        cmd.args(&self.args)
            .current_dir(self.dir.path())
            .env("HOME", self.dir.path())
            .env("LFRUN_HISTORY", self.dir.path().join(".history"))
            .env_remove("LFRUN_CONFIG")
            .env_remove("RUST_LOG")
            .stdin(if self.stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("starting lfrun");
        if let Some(input) = &self.stdin {
            let mut stdin = child.stdin.take().unwrap();
            stdin.write_all(input.as_bytes()).unwrap();
        }
        let out = child.wait_with_output().expect("waiting for lfrun");
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        let status = out.status.code().unwrap_or(-1);
        let context = format!(
            "\n--- args: {:?}\n--- stdout:\n{stdout}\n--- stderr:\n{stderr}",
            self.args
        );
        assert_eq!(status, self.status, "exit code{context}");
        for t in &self.stdout_has {
            assert!(stdout.contains(t), "stdout should contain {t:?}{context}");
        }
        for t in &self.stdout_lacks {
            assert!(
                !stdout.contains(t),
                "stdout should not contain {t:?}{context}"
            );
        }
        for t in &self.stderr_has {
            assert!(stderr.contains(t), "stderr should contain {t:?}{context}");
        }
        for t in &self.stderr_lacks {
            assert!(
                !stderr.contains(t),
                "stderr should not contain {t:?}{context}"
            );
        }
        Output {
            stdout,
            stderr,
            status,
            dir: self.dir,
        }
    }
}
