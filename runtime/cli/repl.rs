//! `lfrun repl`: ad-hoc operations with the same primitives, config and target as
//! a run.
//!
//! Variables, functions and imports persist from line to line; an input with open
//! brackets continues on the next line; Ctrl-C cancels the running evaluation (or
//! clears the line at the prompt); Ctrl-D exits. Values are shown as YAML.

use std::borrow::Cow;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use rhai::{Dynamic, Scope, AST};
use rustyline::completion::{Completer, Pair};
use rustyline::error::ReadlineError;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::validate::{ValidationContext, ValidationResult, Validator};
use rustyline::{Context, Editor, Helper};
use tokio_util::sync::CancellationToken;

use super::doc::{all_functions, FunctionDoc};
use super::run::ENGINE_STACK_BYTES;
use super::session::{Session, SessionOptions};
use super::{print_failure, CommonArgs, EXIT_USAGE};
use crate::context::RunContext;
use crate::diagnostics;
use crate::resolver::ModuleFinder;
use crate::value;

const HELP: &str = "\
lfrun repl — Rhai with lfrun's primitives.
  <expression or statements>   evaluate; open brackets continue on the next line
  :help                        this help
  :doc NAME                    signature and doc of a function (e.g. :doc kube::get)
  :funcs [PREFIX]              list functions (e.g. :funcs helm::)
  :vars                        variables in scope
  :plan                        the plan so far (with --dry-run)
  Tab                          complete functions and variables
  Ctrl-C                       cancel the running evaluation / clear the line
  Ctrl-D or :quit              exit
The config is in `config`; `lfrun doc` prints the whole reference.";

pub fn repl(common: &CommonArgs, yes: bool, dry_run: bool) -> i32 {
    let session = match Session::open(SessionOptions {
        common,
        dry_run,
        yes,
        create_missing: false,
        journal: None,
        script_path: None,
    }) {
        Ok(s) => s,
        Err(f) => {
            print_failure(&f);
            return EXIT_USAGE;
        }
    };
    let code = run_repl(&session);
    session.finish();
    code
}

struct ReplHelper {
    functions: Vec<FunctionDoc>,
    variables: Arc<Mutex<Vec<String>>>,
}

fn run_repl(session: &Session) -> i32 {
    let functions = all_functions(&session.engine, &ModuleFinder::default());
    let variables = Arc::new(Mutex::new(vec!["config".to_string()]));
    let mut editor: Editor<ReplHelper, rustyline::history::DefaultHistory> = match Editor::new() {
        Ok(e) => e,
        Err(e) => {
            eprintln!("error[invalid]: cannot start the line editor: {e}");
            return EXIT_USAGE;
        }
    };
    editor.set_helper(Some(ReplHelper {
        functions: functions.clone(),
        variables: variables.clone(),
    }));
    let history = history_path();
    let _ = editor.load_history(&history);

    // Ctrl-C during an evaluation cancels that evaluation only.
    let current: Arc<Mutex<Option<CancellationToken>>> = Arc::new(Mutex::new(None));
    let current2 = current.clone();
    session.runtime.spawn(async move {
        while tokio::signal::ctrl_c().await.is_ok() {
            if let Some(t) = current2.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
                t.cancel();
            }
        }
    });

    println!(
        "lfrun repl on {} — :help for help, Ctrl-D to exit",
        session.run.settings.target
    );
    let mut scope = session.scope();
    let mut functions_ast = AST::empty();
    let mut imports: Vec<String> = Vec::new();
    loop {
        let line = match editor.readline("lfrun> ") {
            Ok(line) => line,
            Err(ReadlineError::Interrupted) => continue,
            Err(ReadlineError::Eof) => break,
            Err(e) => {
                eprintln!("error: {e}");
                break;
            }
        };
        let input = line.trim();
        if input.is_empty() {
            continue;
        }
        let _ = editor.add_history_entry(input);
        if let Some(command) = input.strip_prefix(':') {
            if meta_command(command, &functions, &scope, &session.run) {
                break;
            }
            continue;
        }
        let source = format!("{}\n{input}", imports.join("\n"));
        let ast = match session.engine.compile_with_scope(&scope, &source) {
            Ok(ast) => ast,
            Err(e) => {
                let report = diagnostics::parse_report("<repl>", &e);
                eprintln!("error: {}", report.failure.message);
                continue;
            }
        };
        functions_ast = functions_ast.merge(&ast.clone_functions_only());
        let program = functions_ast.merge(&ast);
        let token = CancellationToken::new();
        *current.lock().unwrap_or_else(|e| e.into_inner()) = Some(token.clone());
        let result = std::thread::scope(|s| {
            std::thread::Builder::new()
                .stack_size(ENGINE_STACK_BYTES)
                .spawn_scoped(s, || {
                    RunContext::with_branch_cancel(token, || {
                        session
                            .engine
                            .eval_ast_with_scope::<Dynamic>(&mut scope, &program)
                    })
                })
                .expect("spawning the evaluation thread")
                .join()
        });
        *current.lock().unwrap_or_else(|e| e.into_inner()) = None;
        match result {
            Ok(Ok(value)) => {
                if input.trim_start().starts_with("import ") {
                    imports.push(input.to_string());
                }
                show(&value);
            }
            Ok(Err(err)) => {
                let report = diagnostics::eval_report(
                    "<repl>",
                    &err,
                    &session.engine.gen_fn_signatures(false),
                );
                eprintln!(
                    "error[{}]: {}",
                    report.failure.kind,
                    crate::secret::redact(&report.failure.message)
                );
                if !report.failure.hint.is_empty() {
                    eprintln!("   = hint: {}", crate::secret::redact(&report.failure.hint));
                }
            }
            Err(_) => eprintln!("error: internal error during evaluation"),
        }
        *variables.lock().unwrap_or_else(|e| e.into_inner()) = scope
            .iter_raw()
            .map(|(name, _, _)| name.to_string())
            .collect();
    }
    let _ = editor.save_history(&history);
    0
}

/// Handles `:command`; returns true to quit.
fn meta_command(command: &str, functions: &[FunctionDoc], scope: &Scope, run: &RunContext) -> bool {
    let (name, arg) = command
        .split_once(' ')
        .map(|(a, b)| (a, b.trim()))
        .unwrap_or((command, ""));
    match name {
        "q" | "quit" | "exit" => return true,
        "help" | "h" => println!("{HELP}"),
        "doc" => {
            let matches: Vec<&FunctionDoc> = functions.iter().filter(|f| f.name == arg).collect();
            if matches.is_empty() {
                println!("no function named `{arg}` (try :funcs {arg})");
            }
            for f in matches {
                println!("{}\n    {}", f.signature, f.doc);
            }
        }
        "funcs" => {
            for f in functions.iter().filter(|f| f.name.starts_with(arg)) {
                println!("{}", f.signature);
            }
        }
        "vars" => {
            for (name, constant, value) in scope.iter_raw() {
                let kind = if constant { "const" } else { "let" };
                println!("{kind} {name}: {}", value.type_name());
            }
        }
        "plan" => println!("{}", serde_yaml::to_string(&run.plan()).unwrap_or_default()),
        other => println!("unknown command :{other} (:help lists them)"),
    }
    false
}

fn show(value: &Dynamic) {
    if value.is_unit() {
        return;
    }
    let text = value::to_yaml_text(value);
    println!("{}", crate::secret::redact(text.trim_end()));
}

fn history_path() -> PathBuf {
    if let Some(p) = std::env::var_os("LFRUN_HISTORY") {
        return PathBuf::from(p);
    }
    std::env::var_os("HOME")
        .map(|h| PathBuf::from(h).join(".lfrun_history"))
        .unwrap_or_else(|| PathBuf::from(".lfrun_history"))
}

impl Completer for ReplHelper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let start = line[..pos]
            .rfind(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
            .map(|i| i + 1)
            .unwrap_or(0);
        let word = &line[start..pos];
        if word.is_empty() {
            return Ok((pos, vec![]));
        }
        let mut names: Vec<String> = self
            .functions
            .iter()
            .map(|f| f.name.clone())
            .chain(
                self.variables
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .iter()
                    .cloned(),
            )
            .filter(|n| n.starts_with(word))
            .collect();
        names.sort();
        names.dedup();
        Ok((
            start,
            names
                .into_iter()
                .map(|n| Pair {
                    display: n.clone(),
                    replacement: n,
                })
                .collect(),
        ))
    }
}

impl Hinter for ReplHelper {
    type Hint = String;
}

impl Highlighter for ReplHelper {
    fn highlight_prompt<'b, 's: 'b, 'p: 'b>(
        &'s self,
        prompt: &'p str,
        _default: bool,
    ) -> Cow<'b, str> {
        Cow::Borrowed(prompt)
    }
}

impl Validator for ReplHelper {
    /// An input with unclosed brackets or strings continues on the next line.
    fn validate(&self, ctx: &mut ValidationContext) -> rustyline::Result<ValidationResult> {
        Ok(if is_incomplete(ctx.input()) {
            ValidationResult::Incomplete
        } else {
            ValidationResult::Valid(None)
        })
    }
}

impl Helper for ReplHelper {}

/// True when brackets or a string are still open.
pub fn is_incomplete(input: &str) -> bool {
    let mut depth: i32 = 0;
    let mut in_string: Option<char> = None;
    let mut escaped = false;
    for c in input.chars() {
        if let Some(q) = in_string {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == q {
                in_string = None;
            }
            continue;
        }
        match c {
            '"' | '`' => in_string = Some(c),
            '{' | '(' | '[' => depth += 1,
            '}' | ')' | ']' => depth -= 1,
            _ => {}
        }
    }
    depth > 0 || in_string.is_some()
}

#[cfg(test)]
mod tests {
    use super::is_incomplete;

    #[test]
    fn open_brackets_continue() {
        assert!(is_incomplete("fn f() {"));
        assert!(is_incomplete("let m = #{ a: \"}"));
        assert!(!is_incomplete("let x = [1, 2];"));
    }
}
