//! The one way lfrun runs external tools (helm, docker, git).
//!
//! - argv only, never a shell string: nothing a config value contains can be
//!   interpreted by a shell;
//! - a timeout, after which the child is killed;
//! - the child is killed when the future is dropped (Ctrl-C, a failed sibling in
//!   `parallel`), so no orphan keeps working on a cluster after lfrun stopped;
//! - stdout/stderr captured; at `-v` each line is also shown live;
//! - values marked secret (stdin, env) are registered with the redactor, so a tool
//!   that echoes them does not leak them;
//! - a non-zero exit becomes a typed failure carrying the stderr tail.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWriteExt, BufReader};

use crate::error::{ErrorKind, Failure};
use crate::report::Reporter;
use crate::secret::{redact, Secret};

/// How many lines of stderr a failure carries.
const STDERR_TAIL_LINES: usize = 12;

#[derive(Debug, Clone)]
pub struct Command {
    program: PathBuf,
    args: Vec<String>,
    env: BTreeMap<String, String>,
    secret_env: Vec<(String, Secret)>,
    stdin: Option<Secret>,
    dir: Option<PathBuf>,
    timeout: Duration,
}

/// What a finished tool left behind.
#[derive(Debug, Clone)]
pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Command {
    pub fn new(program: impl Into<PathBuf>) -> Command {
        Command {
            program: program.into(),
            args: Vec::new(),
            env: BTreeMap::new(),
            secret_env: Vec::new(),
            stdin: None,
            dir: None,
            timeout: Duration::from_secs(600),
        }
    }

    pub fn arg(mut self, arg: impl Into<String>) -> Command {
        self.args.push(arg.into());
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> Command {
        self.env.insert(key.into(), value.into());
        self
    }

    /// An environment variable whose value must never be shown.
    pub fn secret_env(mut self, key: impl Into<String>, value: Secret) -> Command {
        self.secret_env.push((key.into(), value));
        self
    }

    /// Feeds `value` on stdin (e.g. `docker login --password-stdin`).
    pub fn stdin_secret(mut self, value: Secret) -> Command {
        self.stdin = Some(value);
        self
    }

    pub fn current_dir(mut self, dir: impl Into<PathBuf>) -> Command {
        self.dir = Some(dir.into());
        self
    }

    pub fn timeout(mut self, timeout: Duration) -> Command {
        self.timeout = timeout;
        self
    }

    pub fn argv(&self) -> Vec<String> {
        std::iter::once(self.program.display().to_string())
            .chain(self.args.iter().cloned())
            .collect()
    }

    /// The command line as shown to humans (secrets are never on argv, but redact anyway).
    pub fn display(&self) -> String {
        redact(&self.argv().join(" "))
    }

    /// Runs the tool and returns its output, whatever the exit code.
    pub async fn output(&self, reporter: Option<&Reporter>) -> Result<Output, Failure> {
        tracing::debug!(command = %self.display(), timeout_secs = self.timeout.as_secs(), "running");
        let mut cmd = tokio::process::Command::new(&self.program);
        cmd.args(&self.args)
            .envs(&self.env)
            .stdin(if self.stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        for (k, v) in &self.secret_env {
            cmd.env(k, v.reveal());
        }
        if let Some(dir) = &self.dir {
            cmd.current_dir(dir);
        }
        let program = self.program.display().to_string();
        let mut child = cmd.spawn().map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                Failure::new(
                    ErrorKind::ToolMissing,
                    format!("{program} is not installed or not on PATH"),
                )
                .with_hint(format!(
                    "install {program}, or set its path under `tools:` in the config"
                ))
            } else {
                Failure::new(
                    ErrorKind::ToolFailed,
                    format!("cannot start {program}: {e}"),
                )
            }
        })?;
        if let (Some(secret), Some(mut stdin)) = (&self.stdin, child.stdin.take()) {
            let value = secret.reveal().to_string();
            // a tool that exits before reading stdin is reported by its exit code
            let _ = stdin.write_all(value.as_bytes()).await;
            drop(stdin);
        }
        let live = reporter.filter(|r| r.verbosity() > 0).cloned();
        let out = child
            .stdout
            .take()
            .map(|s| collect(s, live.clone(), "  │ "));
        let err = child.stderr.take().map(|s| collect(s, live, "  │ "));
        let run = async {
            let (stdout, stderr) = tokio::join!(
                async {
                    match out {
                        Some(o) => o.await,
                        None => String::new(),
                    }
                },
                async {
                    match err {
                        Some(e) => e.await,
                        None => String::new(),
                    }
                }
            );
            let status = child.wait().await;
            (status, stdout, stderr)
        };
        match tokio::time::timeout(self.timeout, run).await {
            Ok((Ok(status), stdout, stderr)) => {
                let code = status.code().unwrap_or(-1);
                tracing::debug!(command = %self.display(), code, "finished");
                Ok(Output {
                    code,
                    stdout,
                    stderr,
                })
            }
            Ok((Err(e), _, _)) => Err(Failure::new(
                ErrorKind::ToolFailed,
                format!("{program} failed: {e}"),
            )),
            Err(_) => Err(Failure::timeout(format!(
                "{} did not finish within {}s and was stopped",
                self.display(),
                self.timeout.as_secs()
            ))
            .with_hint("raise the timeout, or check what the tool waits for (network, cluster)")),
        }
    }

    /// Runs the tool; a non-zero exit is a `tool_failed` failure with the stderr tail.
    pub async fn run(&self, reporter: Option<&Reporter>) -> Result<Output, Failure> {
        let output = self.output(reporter).await?;
        if output.code == 0 {
            Ok(output)
        } else {
            Err(self.failure(&output))
        }
    }

    /// The failure for an output with a non-zero exit code.
    pub fn failure(&self, output: &Output) -> Failure {
        Failure::new(
            ErrorKind::ToolFailed,
            format!(
                "`{}` exited with code {}: {}",
                self.display(),
                output.code,
                stderr_tail(&output.stderr)
            ),
        )
        .with_detail("exit_code", output.code as rhai::INT)
        .with_detail("stderr", redact(&stderr_tail(&output.stderr)))
    }
}

/// The last lines of a tool's stderr, redacted.
pub fn stderr_tail(stderr: &str) -> String {
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    let start = lines.len().saturating_sub(STDERR_TAIL_LINES);
    redact(&lines[start..].join("\n"))
}

async fn collect<R: AsyncRead + Unpin + Send + 'static>(
    stream: R,
    live: Option<Reporter>,
    prefix: &'static str,
) -> String {
    let mut reader = BufReader::new(stream);
    let mut all = String::new();
    let mut line = String::new();
    loop {
        line.clear();
        match reader.read_line(&mut line).await {
            Ok(0) | Err(_) => break,
            Ok(_) => {
                if let Some(r) = &live {
                    r.emit(crate::report::Event::Message {
                        level: "info".into(),
                        text: format!("{prefix}{}", line.trim_end()),
                    });
                }
                all.push_str(&line);
            }
        }
    }
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    #[test]
    fn captures_output_and_exit_code() {
        let out = rt()
            .block_on(
                Command::new("sh")
                    .args(["-c", "echo out; echo err >&2; exit 3"])
                    .output(None),
            )
            .unwrap();
        assert_eq!(out.code, 3);
        assert_eq!(out.stdout, "out\n");
        assert_eq!(out.stderr, "err\n");
    }

    #[test]
    fn nonzero_exit_is_tool_failed_with_stderr_tail() {
        let err = rt()
            .block_on(
                Command::new("sh")
                    .args(["-c", "echo boom-reason >&2; exit 2"])
                    .run(None),
            )
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::ToolFailed);
        assert!(err.message.contains("boom-reason"), "{}", err.message);
        assert!(err.message.contains("code 2"), "{}", err.message);
    }

    #[test]
    fn missing_program_is_tool_missing() {
        let err = rt()
            .block_on(Command::new("lfrun-no-such-tool").run(None))
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::ToolMissing);
    }

    #[test]
    fn timeout_kills_the_child() {
        let err = rt()
            .block_on(
                Command::new("sleep")
                    .arg("30")
                    .timeout(Duration::from_millis(200))
                    .run(None),
            )
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::Timeout);
    }

    #[test]
    fn secret_stdin_is_redacted_from_echoed_output() {
        let secret = Secret::new("canary-stdin-secret-42");
        let cmd = Command::new("sh")
            .args(["-c", "read x; echo \"got $x\" >&2; exit 1"])
            .stdin_secret(secret);
        let err = rt().block_on(cmd.run(None)).unwrap_err();
        assert!(
            !err.message.contains("canary-stdin-secret-42"),
            "{}",
            err.message
        );
        assert!(err.message.contains("got ***"), "{}", err.message);
    }
}
