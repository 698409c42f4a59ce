//! Functions every script has without a module prefix: `step`, `parallel`, `fail`,
//! `check`, `kept`, `info`, `warn`, `sleep`, YAML/JSON helpers and the run's mode.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rhai::{Array, Dynamic, EvalAltResult, FnPtr, Map, Module, NativeCallContext, Position};

use crate::context::RunContext;
use crate::error::{ErrorKind, Failure, ScriptResult};
use crate::register::Registrar;
use crate::report::Event;
use crate::value;

/// The prefix of the wrapper error a failing step adds, so error reports can name it.
pub const STEP_ERROR_PREFIX: &str = "step ";

pub fn module(run: &Arc<RunContext>) -> Module {
    let mut m = Registrar::new(
        "lfrun",
        "Functions every script has: steps, parallelism, failures, checks and output.",
    );

    let r = run.clone();
    m.fun(
        "step",
        "Runs `body` as a numbered step: prints a header, then its duration and outcome; a failure names the step.",
        &["name", "body"],
        move |ctx: NativeCallContext, name: &str, body: FnPtr| -> ScriptResult<Dynamic> { run_step(&r, &ctx, name, body) },
    );

    let r = run.clone();
    m.fun(
        "parallel",
        "Runs the closures concurrently and returns their results in order; the first failure cancels the rest and is raised.",
        &["closures"],
        move |ctx: NativeCallContext, closures: Array| -> ScriptResult<Array> { run_parallel(&r, &ctx, closures) },
    );

    m.fun(
        "fail",
        "Raises a failure `#{kind, message, hint}` (kind: not_found, invalid, policy, check_failed, …).",
        &["kind", "message", "hint"],
        |kind: &str, message: &str, hint: &str| -> ScriptResult<()> { Err(failure(kind, message, hint)?.into()) },
    );
    m.fun(
        "fail",
        "Raises a failure `#{kind, message, hint}` without a hint.",
        &["kind", "message"],
        |kind: &str, message: &str| -> ScriptResult<()> { Err(failure(kind, message, "")?.into()) },
    );

    let r = run.clone();
    m.fun(
        "check",
        "Reports a check as PASS or FAIL with its evidence; returns `pass`.",
        &["name", "pass", "evidence"],
        move |name: &str, pass: bool, evidence: &str| -> bool {
            r.check(name, pass, evidence);
            pass
        },
    );

    let r = run.clone();
    m.fun(
        "kept",
        "Reports that something was already as wanted and was left alone.",
        &["what", "note"],
        move |what: &str, note: &str| r.kept(what, note),
    );

    let r = run.clone();
    m.fun(
        "info",
        "Prints an informational line (redacted).",
        &["text"],
        move |text: &str| r.reporter.info(text),
    );

    let r = run.clone();
    m.fun(
        "warn",
        "Prints a warning on stderr (redacted).",
        &["text"],
        move |text: &str| r.reporter.warn(text),
    );

    let r = run.clone();
    m.fun(
        "sleep",
        "Waits `seconds` (fractions allowed); Ctrl-C ends the wait.",
        &["seconds"],
        move |seconds: f64| -> ScriptResult<()> {
            let d = Duration::from_secs_f64(seconds.clamp(0.0, 86_400.0));
            Ok(r.wait(&format!("sleeping {seconds}s"), async move {
                tokio::time::sleep(d).await;
                Ok(())
            })?)
        },
    );

    let r = run.clone();
    m.fun(
        "dry_run",
        "True when the run plans instead of acting (`--dry-run`).",
        &[],
        move || r.settings.dry_run,
    );

    let r = run.clone();
    m.fun(
        "target",
        "The target of the run: `sim` (rehearsal) or `azure`.",
        &[],
        move || r.settings.target.clone(),
    );

    let r = run.clone();
    m.fun(
        "create_missing",
        "True when missing Azure resources may be created (`--create-missing` or `azure.create_missing`).",
        &[],
        move || r.settings.create_missing || r.config.get_bool("azure.create_missing").unwrap_or(false),
    );

    let r = run.clone();
    m.fun(
        "confirm",
        "Asks a yes/no question on the terminal; true with --yes, false without a terminal.",
        &["question"],
        move |question: &str| -> bool {
            if r.settings.dry_run {
                return false;
            }
            r.confirm(question).is_ok()
        },
    );

    let r = run.clone();
    m.fun(
        "run_playbook",
        "Runs another playbook by name (`pvc-resize`): the one next to the calling script, else the built-in one.",
        &["name"],
        move |ctx: NativeCallContext, name: &str| -> ScriptResult<()> { run_playbook(&r, &ctx, name) },
    );

    m.fun(
        "join",
        "The items of an array as text, separated by SEP (`[\"a\", \"b\"].join(\", \")`).",
        &["items", "sep"],
        |items: Array, sep: &str| -> String {
            items
                .iter()
                .map(|v| v.to_string())
                .collect::<Vec<_>>()
                .join(sep)
        },
    );
    m.fun(
        "to_yaml",
        "A value as YAML text (secrets shown as ***).",
        &["value"],
        |v: Dynamic| value::to_yaml_text(&v),
    );
    m.fun(
        "to_json",
        "A value as JSON text (secrets shown as ***).",
        &["value"],
        |v: Dynamic| value::to_json(&v, value::Reveal::Mask).to_string(),
    );
    m.fun(
        "parse_yaml",
        "Parses YAML text into a value.",
        &["text"],
        |text: &str| -> ScriptResult<Dynamic> { Ok(value::parse_yaml(text, "parse_yaml")?) },
    );
    m.fun(
        "parse_json",
        "Parses JSON text into a value.",
        &["text"],
        |text: &str| -> ScriptResult<Dynamic> { Ok(value::parse_json(text, "parse_json")?) },
    );
    m.fun(
        "now",
        "The current UTC time, RFC 3339.",
        &[],
        crate::journal::now_rfc3339,
    );

    m.build()
}

fn failure(kind: &str, message: &str, hint: &str) -> Result<Failure, Failure> {
    let kind = ErrorKind::parse(kind).ok_or_else(|| {
        let known: Vec<&str> = ErrorKind::ALL.iter().map(|k| k.as_str()).collect();
        Failure::invalid(format!(
            "fail: unknown kind `{kind}`; use one of {}",
            known.join(", ")
        ))
    })?;
    Ok(Failure::new(kind, message).with_hint(hint))
}

fn run_step(
    run: &RunContext,
    ctx: &NativeCallContext,
    name: &str,
    body: FnPtr,
) -> ScriptResult<Dynamic> {
    let number = {
        let mut state = run.state();
        state.steps_started += 1;
        let n = state.steps_started;
        state.step_stack.push((n, name.to_string()));
        n
    };
    run.reporter.emit(Event::StepStarted {
        number,
        name: name.into(),
    });
    let before = run.counters();
    let start = Instant::now();
    let result = body.call_within_context::<Dynamic>(ctx, ());
    run.state().step_stack.pop();
    let after = run.counters();
    run.reporter.emit(Event::StepFinished {
        number,
        name: name.into(),
        ok: result.is_ok(),
        seconds: start.elapsed().as_secs_f64(),
        changed: after.changed - before.changed,
        kept: after.kept - before.kept,
        planned: after.planned - before.planned,
    });
    result.map_err(|mut err| {
        let label = format!("[{number}] {name}");
        if let EvalAltResult::ErrorRuntime(value, _) = innermost_mut(&mut err) {
            if let Some(mut map) = value.write_lock::<Map>() {
                map.entry("step".into())
                    .or_insert_with(|| label.clone().into());
            }
        }
        Box::new(EvalAltResult::ErrorInFunctionCall(
            format!("{STEP_ERROR_PREFIX}{label}"),
            ctx.call_source().unwrap_or("").to_string(),
            err,
            ctx.call_position(),
        ))
    })
}

fn run_playbook(run: &RunContext, ctx: &NativeCallContext, name: &str) -> ScriptResult<()> {
    let caller = ctx.call_source().unwrap_or("");
    let sibling = std::path::Path::new(caller)
        .parent()
        .map(|d| d.join(format!("{name}.rhai")));
    let script =
        match sibling.filter(|p| !caller.starts_with(crate::embedded::PREFIX) && p.is_file()) {
            Some(path) => crate::script::Script::load(&path.display().to_string())?,
            None => crate::script::Script::load(name)?,
        };
    run.reporter
        .info(format!("\n==> running playbook {}", script.source));
    let engine = ctx.engine();
    let ast = script
        .compile(engine)
        .map_err(|e| Failure::new(ErrorKind::Script, format!("{}: {e}", script.source)))?;
    engine.run_ast_with_scope(&mut run.config.script_scope(), &ast)
}

/// The error at the bottom of a chain of function-call/module wrappers.
pub fn innermost_mut(err: &mut Box<EvalAltResult>) -> &mut EvalAltResult {
    match &mut **err {
        EvalAltResult::ErrorInFunctionCall(_, _, inner, _)
        | EvalAltResult::ErrorInModule(_, inner, _) => innermost_mut(inner),
        other => other,
    }
}

#[allow(deprecated)] // store_data/create_context: "volatile", not deprecated
fn run_parallel(run: &RunContext, ctx: &NativeCallContext, closures: Array) -> ScriptResult<Array> {
    let fns: Vec<FnPtr> = closures
        .into_iter()
        .enumerate()
        .map(|(i, c)| {
            c.try_cast::<FnPtr>().ok_or_else(|| {
                Failure::invalid(format!(
                    "parallel: element {i} is not a closure (write `|| {{ ... }}`)"
                ))
            })
        })
        .collect::<Result<_, _>>()?;
    let store = ctx.store_data();
    let engine = ctx.engine();
    let group = run.current_cancel().child_token();
    let results: Vec<Mutex<Option<ScriptResult<Dynamic>>>> =
        fns.iter().map(|_| Mutex::new(None)).collect();
    let first_error: Mutex<Option<usize>> = Mutex::new(None);
    std::thread::scope(|scope| {
        for (i, f) in fns.iter().enumerate() {
            let (store, group, results, first_error) = (&store, &group, &results, &first_error);
            scope.spawn(move || {
                let outcome = RunContext::with_branch_cancel(group.clone(), || {
                    let branch_ctx = store.create_context(engine);
                    f.call_within_context::<Dynamic>(&branch_ctx, ())
                });
                if outcome.is_err() {
                    let mut first = first_error.lock().unwrap_or_else(|e| e.into_inner());
                    if first.is_none() {
                        *first = Some(i);
                        group.cancel();
                    }
                }
                *results[i].lock().unwrap_or_else(|e| e.into_inner()) = Some(outcome);
            });
        }
    });
    if run.cancel.is_cancelled() {
        return Err(Failure::cancelled().into());
    }
    let mut results: Vec<ScriptResult<Dynamic>> = results
        .into_iter()
        .map(|m| {
            m.into_inner()
                .unwrap_or_else(|e| e.into_inner())
                .unwrap_or(Ok(Dynamic::UNIT))
        })
        .collect();
    if let Some(i) = first_error.into_inner().unwrap_or_else(|e| e.into_inner()) {
        let err = std::mem::replace(&mut results[i], Ok(Dynamic::UNIT));
        return Err(err.expect_err("recorded as the first error"));
    }
    Ok(results.into_iter().map(|r| r.unwrap_or_default()).collect())
}

/// Turns "terminated by on_progress" into the `cancelled` failure scripts see.
pub fn cancelled_error() -> Box<EvalAltResult> {
    Box::new(EvalAltResult::ErrorRuntime(
        Failure::cancelled().to_map().into(),
        Position::NONE,
    ))
}
