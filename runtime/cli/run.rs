//! `lfrun <script>`: run a script or built-in playbook.

use rhai::{Dynamic, EvalAltResult, AST};

use super::session::{Session, SessionOptions};
use super::{print_failure, RunArgs, EXIT_CANCELLED, EXIT_FAILED, EXIT_USAGE};
use crate::diagnostics;
use crate::error::ErrorKind;
use crate::report::{Event, OutputMode};
use crate::script::Script;

/// Stack for the engine thread: deep scripts in debug builds need more than the default.
pub const ENGINE_STACK_BYTES: usize = 64 * 1024 * 1024;

pub fn run(script_arg: &str, args: &RunArgs) -> i32 {
    let script = match Script::load(script_arg) {
        Ok(s) => s,
        Err(f) => {
            print_failure(&f);
            return EXIT_USAGE;
        }
    };
    let session = match Session::open(SessionOptions {
        common: &args.common,
        dry_run: args.dry_run,
        yes: args.yes,
        create_missing: args.create_missing,
        journal: args.journal.as_deref(),
        script_path: script.path.as_deref(),
    }) {
        Ok(s) => s,
        Err(f) => {
            print_failure(&f);
            return EXIT_USAGE;
        }
    };
    let code = run_in_session(&session, &script);
    session.finish();
    code
}

/// Compiles and runs `script` in `session`; prints the plan, summary and any error.
pub fn run_in_session(session: &Session, script: &Script) -> i32 {
    let run = &session.run;
    let ast = match compile(session, script) {
        Ok(ast) => ast,
        Err(report) => {
            eprint!("{}", report.render(false));
            return EXIT_FAILED;
        }
    };
    run.reporter.emit(Event::RunStarted {
        script: script.source.clone(),
        target: run.settings.target.clone(),
        dry_run: run.settings.dry_run,
        config: run.config.source.clone(),
    });

    let cancel = run.cancel.clone();
    let reporter = run.reporter.clone();
    session.runtime.spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            reporter.warn("interrupted: stopping at the next safe point (Ctrl-C again to abort)");
            cancel.cancel();
            if tokio::signal::ctrl_c().await.is_ok() {
                std::process::exit(EXIT_CANCELLED);
            }
        }
    });

    let result = evaluate(session, &ast);

    if run.settings.dry_run {
        run.reporter.emit(Event::Plan {
            changes: run.plan(),
        });
    }
    let counters = run.counters();
    run.reporter.emit(Event::Summary {
        changed: counters.changed,
        kept: counters.kept,
        planned: counters.planned,
        failed: counters.failed + usize::from(result.is_err()),
        checks_failed: counters.checks_failed,
        seconds: run.started.elapsed().as_secs_f64(),
        dry_run: run.settings.dry_run,
    });
    match result {
        Ok(_) => 0,
        Err(err) => {
            let functions = session.engine.gen_fn_signatures(false);
            let report = diagnostics::eval_report(&script.source, &err, &functions);
            if run.reporter.mode() == OutputMode::Json {
                run.reporter.emit(Event::Error {
                    kind: report.failure.kind.to_string(),
                    message: report.failure.message.clone(),
                    hint: report.failure.hint.clone(),
                    location: report.location_text(),
                    step: report.step.clone().unwrap_or_default(),
                });
            }
            eprint!("{}", report.render(colour_on_stderr()));
            if report.failure.kind == ErrorKind::Cancelled {
                EXIT_CANCELLED
            } else {
                EXIT_FAILED
            }
        }
    }
}

/// Compiles a script with its source name set, so positions name the file.
pub fn compile(session: &Session, script: &Script) -> Result<AST, Box<diagnostics::Report>> {
    script
        .compile(&session.engine)
        .map_err(|e| Box::new(diagnostics::parse_report(&script.source, &e)))
}

/// Evaluates on a thread with a large stack; the tokio runtime serves the I/O.
fn evaluate(session: &Session, ast: &AST) -> Result<Dynamic, Box<EvalAltResult>> {
    let mut scope = session.scope();
    std::thread::scope(|s| {
        std::thread::Builder::new()
            .name("lfrun-script".into())
            .stack_size(ENGINE_STACK_BYTES)
            .spawn_scoped(s, || {
                session
                    .engine
                    .eval_ast_with_scope::<Dynamic>(&mut scope, ast)
            })
            .expect("spawning the script thread")
            .join()
            .unwrap_or_else(|_| {
                Err(crate::error::Failure::new(
                    ErrorKind::Script,
                    "internal error while running the script",
                )
                .with_hint("please report this with the script that triggered it")
                .into())
            })
    })
}

fn colour_on_stderr() -> bool {
    use std::io::IsTerminal;
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}
