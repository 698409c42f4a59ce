//! `lfrun check FILE...`: compile without running. Reports every syntax error as
//! `file:line:col` with a code frame, and follows `import`s so a missing module
//! (or a syntax error inside one) is reported here rather than halfway through a run.

use std::collections::BTreeSet;
use std::path::PathBuf;

use rhai::{ASTNode, Engine, Expr, Stmt, AST};

use super::EXIT_FAILED;
use crate::diagnostics::{self, Report};
use crate::error::{ErrorKind, Failure};
use crate::resolver::ModuleFinder;
use crate::script::Script;

pub fn check(files: &[String], stdlib: &[PathBuf]) -> i32 {
    let engine = crate::engine::build(
        &crate::cli::doc::documentation_context(),
        ModuleFinder::default(),
    );
    let mut failed = 0;
    let mut checked = 0;
    for file in files {
        let script = match Script::load(file) {
            Ok(s) => s,
            Err(f) => {
                super::print_failure(&f);
                failed += 1;
                continue;
            }
        };
        let finder = ModuleFinder::new(script.path.as_deref(), stdlib);
        let mut seen = BTreeSet::new();
        let reports = check_source(&engine, &finder, &script.source, &script.text, &mut seen);
        checked += 1 + seen.len();
        for report in &reports {
            eprint!("{}", report.render(false));
        }
        if !reports.is_empty() {
            failed += 1;
        }
    }
    if failed > 0 {
        eprintln!("{failed} of {} file(s) failed the check", files.len());
        EXIT_FAILED
    } else {
        println!(
            "ok: {} file(s) and {} module(s) compile",
            files.len(),
            checked - files.len()
        );
        0
    }
}

/// Compiles one source and, recursively, the modules it imports.
fn check_source(
    engine: &Engine,
    finder: &ModuleFinder,
    source: &str,
    text: &str,
    seen: &mut BTreeSet<String>,
) -> Vec<Report> {
    let ast = match engine.compile(text) {
        Ok(ast) => ast,
        Err(e) => return vec![diagnostics::parse_report(source, &e)],
    };
    let mut reports = Vec::new();
    for (name, pos) in imports(&ast) {
        match finder.find(&name) {
            Some(module) => {
                if seen.insert(module.name.clone()) {
                    reports.extend(check_source(
                        engine,
                        finder,
                        &module.name,
                        &module.text,
                        seen,
                    ));
                }
            }
            None => reports.push(Report {
                failure: Failure::new(
                    ErrorKind::NotFound,
                    format!(
                        "module `{name}` not found (looked in {})",
                        finder.searched(&name).join(", ")
                    ),
                )
                .with_hint("check the name, or pass --stdlib DIR where the module lives"),
                location: pos
                    .line()
                    .map(|l| (source.to_string(), l, pos.position().unwrap_or(1))),
                step: None,
                trace: vec![],
            }),
        }
    }
    reports
}

/// The constant module names a script imports, with their positions.
fn imports(ast: &AST) -> Vec<(String, rhai::Position)> {
    let mut found = Vec::new();
    ast.walk(&mut |path: &[ASTNode]| {
        if let Some(ASTNode::Stmt(Stmt::Import(x, pos))) = path.last() {
            if let Expr::StringConstant(name, _) = &x.0 {
                found.push((name.to_string(), *pos));
            }
        }
        true
    });
    found
}
