//! The `helm::` functions scripts call.
//!
//! Release and namespace default to `langfuse.release` / `langfuse.namespace` from
//! the config (both `langfuse` by default, as the guide assumes); an options map
//! (`#{release, namespace, chart, version, wait, atomic, timeout}`) overrides them.

use std::sync::Arc;

use rhai::{Array, Dynamic, Map, Module};
use serde_json::Value as Json;

use super::archive::ChartArchive;
use super::args::{self, Waiting};
use super::chart::{ChartRef, ChartSource};
use super::client::Helm;
use super::deploy::{self, Mode, Request};
use crate::context::RunContext;
use crate::error::{Failure, ScriptResult};
use crate::plan::Change;
use crate::register::Registrar;
use crate::value::{self, Reveal};

/// Default seconds helm may wait when asked to wait.
const DEFAULT_TIMEOUT_SECONDS: u64 = 600;

/// Release, namespace, chart and waiting for one call: options over config over defaults.
struct Options {
    release: String,
    namespace: String,
    chart: ChartSource,
    chart_version: String,
    waiting: Waiting,
}

impl Options {
    fn read(
        run: &RunContext,
        opts: &Map,
        env: &crate::environment::Environment,
    ) -> Result<Options, Failure> {
        let text = |key: &str| value::map_opt_str(opts, key).filter(|s| !s.is_empty());
        let release = text("release")
            .or_else(|| run.config.get_str("langfuse.release"))
            .unwrap_or_else(|| "langfuse".into());
        let namespace = text("namespace")
            .or_else(|| run.config.get_str("langfuse.namespace"))
            .unwrap_or_else(|| "langfuse".into());
        let (chart, chart_version) = match text("chart") {
            Some(chart) => {
                let version = text("version");
                let source = ChartSource::from_argument(
                    &chart,
                    version.as_deref(),
                    run.config.get_str("chart.repository").as_deref(),
                    env.chart_mirror.as_deref(),
                )?;
                let version = match (&source, version) {
                    (_, Some(v)) => v,
                    (ChartSource::Local(path), None) => {
                        ChartArchive::read(path)?.version().to_string()
                    }
                    (ChartSource::Repository(c), None) => c.version.clone(),
                };
                (source, version)
            }
            None => {
                let mut pinned = ChartRef::from_config(&run.config)?;
                if let Some(v) = text("version") {
                    pinned.version = v;
                }
                let version = pinned.version.clone();
                (
                    ChartSource::resolve(&pinned, env.chart_mirror.as_deref()),
                    version,
                )
            }
        };
        let flag = |key: &str| {
            opts.get(key)
                .and_then(|v| v.as_bool().ok())
                .unwrap_or(false)
        };
        let timeout = opts
            .get("timeout")
            .and_then(|v| v.as_int().ok())
            .map(|t| t.max(1) as u64)
            .unwrap_or(DEFAULT_TIMEOUT_SECONDS);
        Ok(Options {
            release,
            namespace,
            chart,
            chart_version,
            waiting: Waiting {
                wait: flag("wait"),
                atomic: flag("atomic"),
                timeout_seconds: timeout,
            },
        })
    }
}

/// What every `helm::` function shares: the run, and the helm found for it.
struct Helper {
    run: Arc<RunContext>,
}

impl Helper {
    fn helm(&self) -> Result<(Helm, Arc<crate::environment::Environment>), Failure> {
        let env = self.run.env()?;
        let helm = self.run.block_on(Helm::for_environment(
            env.clone(),
            Some(self.run.reporter.clone()),
        ))?;
        Ok((helm, env))
    }

    fn options(&self, opts: &Map) -> Result<(Helm, Options), Failure> {
        let (helm, env) = self.helm()?;
        let options = Options::read(&self.run, opts, &env)?;
        Ok((helm, options))
    }

    fn deploy(&self, values: Dynamic, opts: &Map, mode: Mode) -> Result<Map, Failure> {
        let (helm, o) = self.options(opts)?;
        let (exposed, shown) = values_json(&values, mode)?;
        let request = Request {
            release: o.release,
            namespace: o.namespace,
            chart: o.chart,
            chart_version: o.chart_version,
            values: exposed,
            shown,
            mode,
            waiting: o.waiting,
        };
        let label = match mode {
            Mode::Install => "helm install",
            _ => "helm upgrade",
        };
        self.run
            .wait(label, deploy::deploy(&self.run, &helm, request))
    }
}

/// Values from a script as (exposed, masked) JSON; in reuse mode the keys are dotted paths.
fn values_json(values: &Dynamic, mode: Mode) -> Result<(Json, Json), Failure> {
    if !values.is_map() {
        return Err(Failure::invalid(format!(
            "helm values must be a map, got {}",
            values.type_name()
        )));
    }
    let exposed = value::to_json(values, Reveal::Expose);
    let shown = value::to_json(values, Reveal::Mask);
    if mode == Mode::ReuseValues {
        return Ok((dotted_to_nested(&exposed), dotted_to_nested(&shown)));
    }
    crate::policy::placeholders::refuse(&shown, "helm values")?;
    Ok((exposed, shown))
}

/// `#{"langfuse.web.image.tag": "abc"}` → `{"langfuse": {"web": {"image": {"tag": "abc"}}}}`.
pub fn dotted_to_nested(flat: &Json) -> Json {
    let mut root = Json::Object(Default::default());
    if let Json::Object(map) = flat {
        for (key, value) in map {
            let mut node = &mut root;
            let parts: Vec<&str> = key.split('.').collect();
            for (i, part) in parts.iter().enumerate() {
                let obj = node.as_object_mut().expect("built as objects");
                if i + 1 == parts.len() {
                    obj.insert(part.to_string(), value.clone());
                    break;
                }
                node = obj
                    .entry(part.to_string())
                    .or_insert_with(|| Json::Object(Default::default()));
                if !node.is_object() {
                    *node = Json::Object(Default::default());
                }
            }
        }
    }
    root
}

pub fn module(run: &Arc<RunContext>) -> Module {
    let mut m = Registrar::new(
        "helm",
        "The official Langfuse chart with the helm CLI (3.14+ or 4.x): pinned chart, values as a private file, policy first, idempotent.",
    );
    let h = Arc::new(Helper { run: run.clone() });

    let s = h.clone();
    m.fun(
        "version",
        "The helm in use: `#{version, major, path}`; fails with `tool_missing` when helm is missing or older than 3.14.",
        &[],
        move || -> ScriptResult<Map> {
            let (helm, _) = s.helm()?;
            let mut map = Map::new();
            map.insert("version".into(), helm.binary.version.to_string().into());
            map.insert("major".into(), (helm.major() as rhai::INT).into());
            map.insert("path".into(), helm.binary.path.display().to_string().into());
            Ok(map)
        },
    );

    let s = h.clone();
    m.fun(
        "repo_add",
        "Adds a chart repository (`helm repo add NAME URL`); returns `changed`, `kept` (already there with that URL) or `planned`.",
        &["name", "url"],
        move |name: &str, url: &str| -> ScriptResult<String> { Ok(repo_add(&s, name, url)?) },
    );

    let s = h.clone();
    m.fun(
        "repo_update",
        "Refreshes the local index of every added chart repository (`helm repo update`); returns `updated`.",
        &[],
        move || -> ScriptResult<String> {
            let (helm, _) = s.helm()?;
            let captured = s.run.wait("helm repo update", helm.run(helm.local_command(args::repo_update(&[]))))?;
            if captured.out.code != 0 {
                return Err(captured.failure().into());
            }
            Ok("updated".into())
        },
    );

    for (name, doc, mode) in [
        ("install", "Installs the pinned chart as release `langfuse` with these values after the policy gate; an existing release is upgraded, an identical one kept. Returns `#{outcome, release, namespace, revision, chart_version, diff}` (outcome: installed, upgraded, kept, planned).", Mode::Install),
        ("upgrade", "Upgrades the existing release to the pinned chart with exactly these values (guide §11, values file) after the policy gate; identical → `kept`. Returns `#{outcome, release, namespace, revision, chart_version, diff}`.", Mode::Upgrade),
        ("upgrade_reuse", "Upgrades keeping the release's values and overriding these dotted keys (guide §11 `--reuse-values --set`, e.g. `#{\"langfuse.web.image.tag\": sha}`), after the policy gate on the result; identical → `kept`.", Mode::ReuseValues),
    ] {
        let s = h.clone();
        m.fun(name, doc, &["values"], move |values: Dynamic| -> ScriptResult<Map> {
            Ok(s.deploy(values, &Map::new(), mode)?)
        });
        let s = h.clone();
        m.fun(
            name,
            "As above, with options `#{release, namespace, chart, version, wait, atomic, timeout}`.",
            &["values", "options"],
            move |values: Dynamic, opts: Map| -> ScriptResult<Map> { Ok(s.deploy(values, &opts, mode)?) },
        );
    }

    let s = h.clone();
    m.fun(
        "history",
        "The release's revisions, oldest first: `[#{revision, status, chart, chart_version, app_version, updated, description}]`; `[]` when the release does not exist.",
        &[],
        move || -> ScriptResult<Array> { Ok(history(&s, &Map::new())?) },
    );
    let s = h.clone();
    m.fun(
        "history",
        "The history of release NAME (namespace from the config).",
        &["release"],
        move |release: &str| -> ScriptResult<Array> { Ok(history(&s, &release_opts(release))?) },
    );

    let s = h.clone();
    m.fun(
        "last_deployed",
        "The release's last deployed revision as a history entry, or `()` when there is none.",
        &[],
        move || -> ScriptResult<Dynamic> {
            let (helm, o) = s.options(&Map::new())?;
            let history = s
                .run
                .block_on(helm.history(&o.release, &o.namespace))?
                .unwrap_or_default();
            Ok(match super::output::last_deployed(&history) {
                Some(r) => deploy::history_maps(std::slice::from_ref(r)).remove(0),
                None => Dynamic::UNIT,
            })
        },
    );

    let s = h.clone();
    m.fun(
        "status",
        "The release's status: `#{name, namespace, revision, status, description, last_deployed, chart_version, app_version}`; `not_found` when it does not exist.",
        &[],
        move || -> ScriptResult<Map> { Ok(status(&s, &Map::new())?) },
    );
    let s = h.clone();
    m.fun(
        "status",
        "The status of release NAME.",
        &["release"],
        move |release: &str| -> ScriptResult<Map> { Ok(status(&s, &release_opts(release))?) },
    );

    let s = h.clone();
    m.fun(
        "get_values",
        "The values the release was installed with (user-supplied, as helm stores them).",
        &[],
        move || -> ScriptResult<Dynamic> { Ok(get_values(&s, &Map::new())?) },
    );
    let s = h.clone();
    m.fun(
        "get_values",
        "The values of release NAME.",
        &["release"],
        move |release: &str| -> ScriptResult<Dynamic> {
            Ok(get_values(&s, &release_opts(release))?)
        },
    );

    let s = h.clone();
    m.fun(
        "rollback",
        "Rolls the release back to REVISION (0: the previous one). Destructive: asks first unless --yes. Returns `#{outcome, revision, to_revision, …}` (outcome: rolled_back or planned).",
        &["revision"],
        move |revision: rhai::INT| -> ScriptResult<Map> { Ok(rollback(&s, revision, &Map::new())?) },
    );
    let s = h.clone();
    m.fun(
        "rollback",
        "As above, with options `#{release, namespace, wait, timeout}`.",
        &["revision", "options"],
        move |revision: rhai::INT, opts: Map| -> ScriptResult<Map> {
            Ok(rollback(&s, revision, &opts)?)
        },
    );

    let s = h.clone();
    m.fun(
        "uninstall",
        "Removes the release (destructive: asks first unless --yes); PVCs and lfrun's secrets stay. Returns `#{outcome}` (uninstalled, absent or planned).",
        &[],
        move || -> ScriptResult<Map> {
            let (helm, o) = s.options(&Map::new())?;
            Ok(s.run.wait("helm uninstall", deploy::uninstall(&s.run, &helm, &o.release, &o.namespace))?)
        },
    );

    let s = h.clone();
    m.fun(
        "template",
        "Renders the pinned chart with these values (offline `helm template`); returns the manifests as a list of maps.",
        &["values"],
        move |values: Dynamic| -> ScriptResult<Array> { Ok(template(&s, values, &Map::new())?) },
    );
    let s = h.clone();
    m.fun(
        "template",
        "As above, with options `#{release, namespace, chart, version}`.",
        &["values", "options"],
        move |values: Dynamic, opts: Map| -> ScriptResult<Array> {
            Ok(template(&s, values, &opts)?)
        },
    );

    let s = h.clone();
    m.fun(
        "show_values",
        "The default values of CHART (a path, `repo/name`, or a name in `chart.repository`) at VERSION, as a map (`helm show values`).",
        &["chart", "version"],
        move |chart: &str, version: &str| -> ScriptResult<Dynamic> {
            let (helm, env) = s.helm()?;
            let source = ChartSource::from_argument(chart, Some(version), s.run.config.get_str("chart.repository").as_deref(), env.chart_mirror.as_deref())?;
            let text = s.run.wait("helm show values", helm.show("values", &source))?;
            Ok(value::parse_yaml(&text, &format!("helm show values {chart}"))?)
        },
    );

    let s = h.clone();
    m.fun(
        "chart_defaults",
        "Every default value of the pinned chart, vendored subcharts included under their aliases (what chart drift compares against).",
        &[],
        move || -> ScriptResult<Dynamic> {
            let (helm, o) = s.options(&Map::new())?;
            let chart = s.run.block_on(helm.read_archive(&o.chart))?;
            Ok(value::from_json(&chart.defaults))
        },
    );
    let s = h.clone();
    m.fun(
        "chart_defaults",
        "Every default value of CHART at VERSION, subcharts included.",
        &["chart", "version"],
        move |chart: &str, version: &str| -> ScriptResult<Dynamic> {
            let mut opts = Map::new();
            opts.insert("chart".into(), chart.into());
            opts.insert("version".into(), version.into());
            let (helm, o) = s.options(&opts)?;
            let chart = s.run.block_on(helm.read_archive(&o.chart))?;
            Ok(value::from_json(&chart.defaults))
        },
    );
    m.build()
}

fn release_opts(release: &str) -> Map {
    let mut opts = Map::new();
    opts.insert("release".into(), release.into());
    opts
}

fn repo_add(h: &Helper, name: &str, url: &str) -> Result<String, Failure> {
    let (helm, _) = h.helm()?;
    let listed = h
        .run
        .block_on(helm.run(helm.local_command(args::repo_list())))?;
    // `helm repo list` fails when no repository was ever added: that is "none"
    let known: Json = if listed.out.code == 0 {
        serde_json::from_str(listed.out.stdout.trim()).unwrap_or(Json::Null)
    } else {
        Json::Null
    };
    let existing = known
        .as_array()
        .and_then(|repos| repos.iter().find(|r| r["name"] == name))
        .and_then(|r| r["url"].as_str().map(String::from));
    if existing.as_deref().map(|u| u.trim_end_matches('/')) == Some(url.trim_end_matches('/')) {
        h.run.kept(&format!("helm repository {name}"), url);
        return Ok("kept".into());
    }
    let change = Change::new("helm repo add", name).detail(url.to_string());
    let command = helm
        .local_command(args::repo_add(name, url))
        .arg("--force-update");
    let applied = h.run.block_on(h.run.change(change, async {
        let captured = helm.run(command).await?;
        if captured.out.code != 0 {
            return Err(captured.failure());
        }
        Ok(())
    }))?;
    Ok(applied.outcome("changed"))
}

fn history(h: &Helper, opts: &Map) -> Result<Array, Failure> {
    let (helm, o) = h.options(opts)?;
    let history = h.run.block_on(helm.history(&o.release, &o.namespace))?;
    Ok(deploy::history_maps(&history.unwrap_or_default()))
}

fn status(h: &Helper, opts: &Map) -> Result<Map, Failure> {
    let (helm, o) = h.options(opts)?;
    let s = h.run.block_on(helm.status(&o.release, &o.namespace))?;
    let mut map = Map::new();
    map.insert("name".into(), s.name.into());
    map.insert("namespace".into(), s.namespace.into());
    map.insert("revision".into(), s.revision.into());
    map.insert("status".into(), s.status.into());
    map.insert("description".into(), s.description.into());
    map.insert("last_deployed".into(), s.last_deployed.into());
    map.insert("chart_version".into(), s.chart_version.into());
    map.insert("app_version".into(), s.app_version.into());
    Ok(map)
}

fn get_values(h: &Helper, opts: &Map) -> Result<Dynamic, Failure> {
    let (helm, o) = h.options(opts)?;
    let values = h.run.block_on(helm.get_values(&o.release, &o.namespace))?;
    Ok(value::from_json(&values))
}

fn rollback(h: &Helper, revision: rhai::INT, opts: &Map) -> Result<Map, Failure> {
    let (helm, o) = h.options(opts)?;
    h.run.wait(
        "helm rollback",
        deploy::rollback(&h.run, &helm, &o.release, &o.namespace, revision, o.waiting),
    )
}

fn template(h: &Helper, values: Dynamic, opts: &Map) -> Result<Array, Failure> {
    let (helm, o) = h.options(opts)?;
    let (exposed, _) = values_json(&values, Mode::Install)?;
    let manifests = h.run.wait(
        "helm template",
        helm.template(&o.release, &o.namespace, &o.chart, &exposed),
    )?;
    Ok(manifests.iter().map(value::from_json).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dotted_keys_become_nested_values() {
        let flat = serde_json::json!({"langfuse.web.image.tag": "abc", "langfuse.worker.image.tag": "abc"});
        assert_eq!(
            dotted_to_nested(&flat),
            serde_json::json!({"langfuse": {"web": {"image": {"tag": "abc"}}, "worker": {"image": {"tag": "abc"}}}})
        );
    }
}
