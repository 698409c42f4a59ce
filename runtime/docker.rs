//! `docker::` — building and pushing the Langfuse images (guide §6, §11).
//!
//! The docker CLI does the work; lfrun builds its argv, never a shell string.
//! Secrets never reach docker's command line: the registry password goes on
//! stdin (`--password-stdin`), and a build argument given as a `Secret` is passed
//! as `--build-arg NAME` with the value in docker's environment (docker reads it
//! from there). Building, tagging, pushing and logging in are changes: planned in
//! a dry run and journalled.
//!
//! In a rehearsal (`--target sim`) `tools.docker` points at `lfrun sim docker`, a
//! stand-in that records built images and pushes them to the rehearsal registry.

use std::sync::Arc;
use std::time::Duration;

use rhai::{Array, Dynamic, Map, Module};
use serde_json::Value as Json;

use crate::context::RunContext;
use crate::environment::Environment;
use crate::error::{ErrorKind, Failure, ScriptResult};
use crate::plan::Change;
use crate::process::Command;
use crate::register::Registrar;
use crate::secret::Secret;
use crate::value;

/// Builds of the Langfuse images take a while.
const BUILD_TIMEOUT: Duration = Duration::from_secs(3600);
const PUSH_TIMEOUT: Duration = Duration::from_secs(1800);
const SHORT_TIMEOUT: Duration = Duration::from_secs(120);

/// What `docker::build` is asked to do.
#[derive(Debug, Clone, Default)]
pub struct Build {
    pub context: String,
    pub dockerfile: Option<String>,
    pub tags: Vec<String>,
    /// Plain build arguments: `--build-arg NAME=VALUE`.
    pub args: Vec<(String, String)>,
    /// Secret build arguments: `--build-arg NAME`, the value in docker's environment.
    pub secret_args: Vec<(String, Secret)>,
    pub platform: Option<String>,
}

impl Build {
    /// Reads `#{context, dockerfile, tags, build_args, platform}`.
    pub fn from_map(map: &Map) -> Result<Build, Failure> {
        let context = value::map_str(map, "context", "docker::build")?;
        let tags: Vec<String> = match map.get("tags") {
            Some(t) if t.is_array() => t
                .read_lock::<Array>()
                .map(|a| a.iter().map(|v| v.to_string()).collect())
                .unwrap_or_default(),
            Some(t) if t.is_string() => vec![t.to_string()],
            _ => Vec::new(),
        };
        if tags.is_empty() {
            return Err(
                Failure::invalid("docker::build: `tags` must name at least one image tag")
                    .with_hint("e.g. tags: [`${registry}/langfuse-web:${sha}`]"),
            );
        }
        let mut build = Build {
            context,
            dockerfile: value::map_opt_str(map, "dockerfile"),
            tags,
            platform: value::map_opt_str(map, "platform").filter(|p| !p.is_empty()),
            ..Build::default()
        };
        if let Some(args) = map
            .get("build_args")
            .and_then(|a| a.read_lock::<Map>().map(|m| m.clone()))
        {
            for (name, v) in args {
                let name = name.to_string();
                if !valid_env_name(&name) {
                    return Err(Failure::invalid(format!(
                        "docker::build: build argument `{name}` is not a valid name"
                    )));
                }
                match v.read_lock::<Secret>() {
                    Some(secret) => build.secret_args.push((name, secret.clone())),
                    None => build.args.push((name, v.to_string())),
                }
            }
        }
        Ok(build)
    }

    /// docker's argv (after the program).
    pub fn argv(&self) -> Vec<String> {
        let mut args = vec!["build".to_string()];
        if let Some(f) = &self.dockerfile {
            args.extend(["--file".into(), f.clone()]);
        }
        for t in &self.tags {
            args.extend(["--tag".into(), t.clone()]);
        }
        for (k, v) in &self.args {
            args.extend(["--build-arg".into(), format!("{k}={v}")]);
        }
        for (k, _) in &self.secret_args {
            args.extend(["--build-arg".into(), k.clone()]);
        }
        if let Some(p) = &self.platform {
            args.extend(["--platform".into(), p.clone()]);
        }
        args.push(self.context.clone());
        args
    }
}

fn valid_env_name(name: &str) -> bool {
    !name.is_empty()
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !name.starts_with(|c: char| c.is_ascii_digit())
}

/// `docker login REGISTRY --username USER --password-stdin`.
pub fn login_argv(registry: &str, username: &str) -> Vec<String> {
    vec![
        "login".into(),
        registry.into(),
        "--username".into(),
        username.into(),
        "--password-stdin".into(),
    ]
}

/// Registry, repository and tag of an image reference, for messages and checks.
pub fn split_image(image: &str) -> (String, String) {
    match image.rfind(':') {
        Some(i) if !image[i..].contains('/') => {
            (image[..i].to_string(), image[i + 1..].to_string())
        }
        _ => (image.to_string(), "latest".to_string()),
    }
}

/// The digest docker prints after a push (`latest: digest: sha256:… size: 528`).
pub fn pushed_digest(stdout: &str) -> Option<String> {
    stdout
        .split_whitespace()
        .find(|w| w.starts_with("sha256:"))
        .map(String::from)
}

struct Docker {
    run: Arc<RunContext>,
}

impl Docker {
    fn env(&self) -> Result<Arc<Environment>, Failure> {
        self.run.env()
    }

    fn command(&self, env: &Environment, args: Vec<String>) -> Command {
        let mut command = Command::new(env.tool("docker")).args(args);
        for (k, v) in &env.tool_env {
            command = command.env(k, v);
        }
        command
    }

    /// Runs a docker change through `RunContext::change`; returns its stdout (empty when planned).
    fn change(
        &self,
        change: Change,
        command: Command,
        hint: &str,
    ) -> Result<(String, bool), Failure> {
        let reporter = self.run.reporter.clone();
        let label = format!("{} {}", change.action, change.target);
        let hint = hint.to_string();
        let applied = self.run.wait(
            &label,
            self.run.change(change, async move {
                let out = command.run(Some(&reporter)).await.map_err(|f| {
                    if f.kind == ErrorKind::ToolFailed && f.hint.is_empty() {
                        f.with_hint(hint)
                    } else {
                        f
                    }
                })?;
                Ok(out.stdout)
            }),
        )?;
        Ok(match applied {
            crate::plan::Applied::Done(stdout) => (stdout, true),
            crate::plan::Applied::Planned => (String::new(), false),
        })
    }
}

fn result(outcome: &str, pairs: &[(&str, Dynamic)]) -> Map {
    let mut m = Map::new();
    m.insert("outcome".into(), outcome.into());
    for (k, v) in pairs {
        m.insert((*k).into(), v.clone());
    }
    m
}

pub fn module(run: &Arc<RunContext>) -> Module {
    let mut m = Registrar::new(
        "docker",
        "Building, tagging and pushing images with the docker CLI (guide §6); secrets only on stdin or in docker's environment.",
    );
    let d = Arc::new(Docker { run: run.clone() });

    let s = d.clone();
    m.fun(
        "version",
        "The docker in use: `#{client, server, daemon}` (server is \"\" and daemon false when no engine answers).",
        &[],
        move || -> ScriptResult<Map> {
            let env = s.env()?;
            let command = s.command(&env, vec!["version".into(), "--format".into(), "{{json .}}".into()]).timeout(SHORT_TIMEOUT);
            let out = s.run.block_on(command.output(None))?;
            // docker prints the client part and exits 1 when the daemon is unreachable
            let json: Json = out
                .stdout
                .lines()
                .find_map(|l| serde_json::from_str(l).ok())
                .ok_or_else(|| command.failure(&out))?;
            let text = |p: &str| json.pointer(p).and_then(|v| v.as_str()).unwrap_or("").to_string();
            let server = text("/Server/Version");
            let mut m = Map::new();
            m.insert("client".into(), text("/Client/Version").into());
            m.insert("server".into(), server.clone().into());
            m.insert("daemon".into(), (!server.is_empty()).into());
            Ok(m)
        },
    );

    let s = d.clone();
    m.fun(
        "build",
        "Builds an image: `#{context, dockerfile, tags, build_args, platform}` (a Secret build arg is passed by name, its value in docker's environment). Returns `#{outcome, tags}` (built or planned).",
        &["options"],
        move |options: Map| -> ScriptResult<Map> {
            let build = Build::from_map(&options)?;
            let env = s.env()?;
            let mut command = s.command(&env, build.argv()).timeout(BUILD_TIMEOUT);
            for (k, secret) in &build.secret_args {
                command = command.secret_env(k, secret.clone());
            }
            let change = Change::new("docker build", build.tags.join(", ")).detail(format!(
                "context {}{}{}",
                build.context,
                build.dockerfile.as_ref().map(|f| format!(", dockerfile {f}")).unwrap_or_default(),
                build.platform.as_ref().map(|p| format!(", platform {p}")).unwrap_or_default()
            ));
            let (_, done) = s.change(change, command, "docker could not build the image; its message is above")?;
            let tags: Array = build.tags.iter().map(|t| Dynamic::from(t.clone())).collect();
            Ok(result(if done { "built" } else { "planned" }, &[("tags", tags.into())]))
        },
    );

    let s = d.clone();
    m.fun(
        "tag",
        "Tags image SOURCE as TARGET (`docker tag`). Returns `#{outcome, image}`.",
        &["source", "target"],
        move |source: &str, target: &str| -> ScriptResult<Map> {
            let env = s.env()?;
            let command = s
                .command(&env, vec!["tag".into(), source.into(), target.into()])
                .timeout(SHORT_TIMEOUT);
            let (_, done) = s.change(
                Change::new("docker tag", target).detail(format!("from {source}")),
                command,
                "is the source image built?",
            )?;
            Ok(result(
                if done { "tagged" } else { "planned" },
                &[("image", target.into())],
            ))
        },
    );

    let s = d.clone();
    m.fun(
        "image_exists",
        "True when the registry already has IMAGE (`docker manifest inspect`; needs a login for private registries).",
        &["image"],
        move |image: &str| -> ScriptResult<bool> {
            let env = s.env()?;
            let command = s
                .command(&env, vec!["manifest".into(), "inspect".into(), image.into()])
                .timeout(SHORT_TIMEOUT);
            let out = s.run.block_on(async { command.output(Some(&s.run.reporter)).await })?;
            if out.code == 0 {
                return Ok(true);
            }
            let stderr = out.stderr.to_ascii_lowercase();
            if stderr.contains("no such manifest") || stderr.contains("manifest unknown") || stderr.contains("not found") {
                return Ok(false);
            }
            Err(command.failure(&out).into())
        },
    );

    let s = d.clone();
    m.fun(
        "push",
        "Pushes IMAGE to its registry (`docker push`). Returns `#{outcome, image, digest}`.",
        &["image"],
        move |image: &str| -> ScriptResult<Map> {
            let env = s.env()?;
            let command = s.command(&env, vec!["push".into(), image.into()]).timeout(PUSH_TIMEOUT);
            let (stdout, done) = s.change(
                Change::new("docker push", image),
                command,
                "log in to the registry first (az::acr_login or docker::login), and check the role on it (AcrPush)",
            )?;
            let digest = pushed_digest(&stdout).unwrap_or_default();
            Ok(result(if done { "pushed" } else { "planned" }, &[("image", image.into()), ("digest", digest.into())]))
        },
    );

    let s = d.clone();
    m.fun(
        "login",
        "Logs docker in to REGISTRY as USERNAME with PASSWORD (a Secret, sent on stdin with --password-stdin, never on the command line). Returns `#{outcome, registry}`.",
        &["registry", "username", "password"],
        move |registry: &str, username: &str, password: Dynamic| -> ScriptResult<Map> {
            let secret = match password.read_lock::<Secret>() {
                Some(s) => s.clone(),
                None if password.is_string() => Secret::new(password.to_string()),
                None => return Err(Failure::invalid("docker::login: the password must be a Secret (or a string)").into()),
            };
            let env = s.env()?;
            let command = s
                .command(&env, login_argv(registry, username))
                .stdin_secret(secret)
                .timeout(SHORT_TIMEOUT);
            let (_, done) = s.change(
                Change::new("docker login", registry).detail(format!("as {username}")),
                command,
                "check the user name and password; if a credential helper failed, remove \"credsStore\": \"desktop\" from ~/.docker/config.json (guide §6 tip)",
            )?;
            Ok(result(if done { "logged_in" } else { "planned" }, &[("registry", registry.into())]))
        },
    );
    m.build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_argv_puts_secret_args_by_name_only() {
        let build = Build {
            context: ".".into(),
            dockerfile: Some("web/Dockerfile".into()),
            tags: vec!["acr.azurecr.io/langfuse-web:abc1234".into()],
            args: vec![("NEXT_PUBLIC_BASE_PATH".into(), "".into())],
            secret_args: vec![("NPM_TOKEN".into(), Secret::new("canary-npm-token-1234"))],
            platform: Some("linux/amd64".into()),
        };
        let argv = build.argv();
        assert_eq!(
            argv,
            [
                "build",
                "--file",
                "web/Dockerfile",
                "--tag",
                "acr.azurecr.io/langfuse-web:abc1234",
                "--build-arg",
                "NEXT_PUBLIC_BASE_PATH=",
                "--build-arg",
                "NPM_TOKEN",
                "--platform",
                "linux/amd64",
                "."
            ]
        );
        assert!(!argv.join(" ").contains("canary-npm-token"));
    }

    #[test]
    fn login_uses_stdin() {
        assert_eq!(
            login_argv("contoso.azurecr.io", "00000000-0000-0000-0000-000000000000"),
            [
                "login",
                "contoso.azurecr.io",
                "--username",
                "00000000-0000-0000-0000-000000000000",
                "--password-stdin"
            ]
        );
    }

    #[test]
    fn reads_the_pushed_digest() {
        assert_eq!(
            pushed_digest("abc1234: digest: sha256:0123abcd size: 528\n").as_deref(),
            Some("sha256:0123abcd")
        );
        assert_eq!(
            split_image("r.azurecr.io/langfuse-web:abc"),
            ("r.azurecr.io/langfuse-web".into(), "abc".into())
        );
    }
}
