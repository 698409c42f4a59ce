//! `git::` — the commit an image is built from (guide §6, §11).
//!
//! Images are tagged with the git short SHA of the Langfuse fork checkout, so a
//! running pod names the exact commit it runs. A checkout with uncommitted changes
//! has no commit that describes it: building from it is refused unless the config
//! allows it (`images.allow_dirty`), and then the tag says so (`<sha>-dirty`).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rhai::Module;

use crate::context::RunContext;
use crate::error::{ErrorKind, Failure, ScriptResult};
use crate::process::Command;
use crate::register::Registrar;

const TIMEOUT: Duration = Duration::from_secs(60);

/// Runs git in `dir` (`tools.git` from the config, else `git` on PATH).
pub struct Git {
    program: String,
    /// Shows git's output live at `-v`.
    reporter: Option<crate::report::Reporter>,
}

impl Git {
    pub fn new(program: impl Into<String>) -> Git {
        Git {
            reporter: None,
            program: program.into(),
        }
    }

    /// The argv of a git command in `dir` (for tests and messages).
    pub fn command(&self, dir: &str, args: &[&str]) -> Command {
        Command::new(&self.program)
            .args(["-C", dir])
            .args(args.iter().copied())
            .env("GIT_TERMINAL_PROMPT", "0")
            .timeout(TIMEOUT)
    }

    async fn run(&self, dir: &str, args: &[&str]) -> Result<String, Failure> {
        if !Path::new(dir).is_dir() {
            return Err(Failure::not_found(format!("{dir} is not a directory"))
                .with_hint("set images.source_dir to your Langfuse fork checkout"));
        }
        let command = self.command(dir, args);
        let out = command.output(self.reporter.as_ref()).await?;
        if out.code != 0 {
            let failure = command.failure(&out);
            if out.stderr.contains("not a git repository") {
                return Err(Failure::new(
                    ErrorKind::Invalid,
                    format!("{dir} is not a git checkout"),
                )
                .with_hint("images are tagged with the git SHA: point images.source_dir at your Langfuse fork checkout"));
            }
            return Err(failure);
        }
        Ok(out.stdout.trim().to_string())
    }

    /// `git rev-parse --short HEAD`.
    pub async fn short_sha(&self, dir: &str) -> Result<String, Failure> {
        self.run(dir, &["rev-parse", "--short", "HEAD"]).await
    }

    /// Whether the checkout has uncommitted changes or untracked files (`git status --porcelain`).
    pub async fn is_dirty(&self, dir: &str) -> Result<bool, Failure> {
        Ok(!self.run(dir, &["status", "--porcelain"]).await?.is_empty())
    }

    /// The image tag for the checkout: the short SHA, `<sha>-dirty` when dirty and allowed.
    pub async fn image_tag(&self, dir: &str, allow_dirty: bool) -> Result<String, Failure> {
        let sha = self.short_sha(dir).await?;
        if !self.is_dirty(dir).await? {
            return Ok(sha);
        }
        if allow_dirty {
            return Ok(format!("{sha}-dirty"));
        }
        Err(Failure::invalid(format!(
            "{dir} has uncommitted changes: an image built from it would not match commit {sha}"
        ))
        .with_hint("commit or stash the changes (images are tagged with the git SHA, guide §6), or set images.allow_dirty: true to build with the tag <sha>-dirty"))
    }
}

pub fn module(run: &Arc<RunContext>) -> Module {
    let mut m = Registrar::new(
        "git",
        "The commit images are built from: short SHA, dirty check and the image tag policy (guide §6).",
    );
    let git = |run: &RunContext| Git {
        reporter: Some(run.reporter.clone()),
        ..Git::new(
            run.config
                .get_str("tools.git")
                .unwrap_or_else(|| "git".into()),
        )
    };

    let r = run.clone();
    m.fun(
        "short_sha",
        "The short SHA of HEAD in the checkout DIR (`git rev-parse --short HEAD`).",
        &["dir"],
        move |dir: &str| -> ScriptResult<String> { Ok(r.block_on(git(&r).short_sha(dir))?) },
    );
    let r = run.clone();
    m.fun(
        "is_dirty",
        "True when the checkout DIR has uncommitted changes or untracked files.",
        &["dir"],
        move |dir: &str| -> ScriptResult<bool> { Ok(r.block_on(git(&r).is_dirty(dir))?) },
    );
    let r = run.clone();
    m.fun(
        "image_tag",
        "The image tag for checkout DIR: its short SHA; a dirty checkout fails unless `images.allow_dirty` is true, then `<sha>-dirty`.",
        &["dir"],
        move |dir: &str| -> ScriptResult<String> {
            let allow = r.config.get_bool("images.allow_dirty").unwrap_or(false);
            Ok(r.block_on(git(&r).image_tag(dir, allow))?)
        },
    );
    let r = run.clone();
    m.fun(
        "image_tag",
        "The image tag for checkout DIR, with ALLOW_DIRTY given explicitly.",
        &["dir", "allow_dirty"],
        move |dir: &str, allow_dirty: bool| -> ScriptResult<String> {
            Ok(r.block_on(git(&r).image_tag(dir, allow_dirty))?)
        },
    );
    m.build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argv_runs_in_the_directory_without_prompts() {
        let c = Git::new("git").command("/src/langfuse", &["rev-parse", "--short", "HEAD"]);
        assert_eq!(
            c.argv(),
            ["git", "-C", "/src/langfuse", "rev-parse", "--short", "HEAD"]
        );
    }
}
