//! `lfrun doc`: the primitive reference, generated from the engine itself.
//!
//! The Rust primitives come from the engine's own function metadata (names,
//! typed parameters, doc comments given at registration); the stdlib modules come
//! from compiling them and reading their `///` doc comments. Nothing here is a
//! hand-kept list, so the reference cannot drift from the engine.

use std::path::Path;
use std::sync::{Arc, OnceLock};

use rhai::Engine;
use serde::Serialize;
use serde_json::Value;

use super::EXIT_USAGE;
use crate::config::Config;
use crate::context::{RunContext, Settings};
use crate::embedded;
use crate::environment::LazyEnvironment;
use crate::report::{OutputMode, Reporter};
use crate::resolver::ModuleFinder;

/// One documented function.
#[derive(Debug, Clone, Serialize)]
pub struct FunctionDoc {
    /// `kube::get`, `step`, `values::build`.
    pub name: String,
    /// `kube::get(kind: String, ns: String, name: String) -> Map`.
    pub signature: String,
    /// The one-line doc (first line of the doc comment).
    pub doc: String,
    /// Where it comes from: `primitive`, `builtin` or `stdlib`.
    pub origin: String,
}

/// A run context for building an engine that is only inspected, never run.
pub fn documentation_context() -> Arc<RunContext> {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    let runtime = RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a current-thread runtime")
    });
    RunContext::new(
        Settings {
            interactive: false,
            ..Settings::default()
        },
        Config::default(),
        Reporter::new(OutputMode::Text, 0),
        None,
        runtime.handle().clone(),
        LazyEnvironment::ready(Default::default()),
        String::new(),
    )
}

/// Every function a script can call: primitives, builtins, and stdlib modules.
pub fn all_functions(engine: &Engine, finder: &ModuleFinder) -> Vec<FunctionDoc> {
    let mut out = Vec::new();
    let json: Value = engine
        .gen_fn_metadata_to_json(false)
        .ok()
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or_default();
    if let Some(functions) = json.get("functions").and_then(Value::as_array) {
        for f in functions {
            if let Some(doc) = function_doc(f, None) {
                out.push(doc);
            }
        }
    }
    if let Some(modules) = json.get("modules").and_then(Value::as_object) {
        for (module, m) in modules {
            for f in m
                .get("functions")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(doc) = function_doc(f, Some(module)) {
                    out.push(doc);
                }
            }
        }
    }
    out.extend(stdlib_functions(engine, finder));
    out.sort_by(|a, b| {
        (group(&a.name), &a.name, &a.signature).cmp(&(group(&b.name), &b.name, &b.signature))
    });
    out
}

/// The heading a function is listed under: its module, or `core` for the unprefixed ones.
fn group(name: &str) -> &str {
    name.split_once("::").map(|(m, _)| m).unwrap_or("core")
}

fn function_doc(f: &Value, module: Option<&str>) -> Option<FunctionDoc> {
    let name = f.get("name")?.as_str()?;
    let comments: Vec<&str> = f
        .get("docComments")
        .and_then(Value::as_array)?
        .iter()
        .filter_map(Value::as_str)
        .collect();
    // Only functions registered with a doc (our primitives) are part of the reference;
    // operator overloads and type plumbing are not.
    let doc = first_doc_line(&comments)?;
    let qualified = match module {
        Some(m) => format!("{m}::{name}"),
        None => name.to_string(),
    };
    let signature = f.get("signature").and_then(Value::as_str).unwrap_or(name);
    let signature = match module {
        Some(m) if !signature.starts_with(&format!("{m}::")) => format!("{m}::{signature}"),
        _ => signature.to_string(),
    };
    Some(FunctionDoc {
        name: qualified,
        signature,
        doc,
        origin: if module.is_some() {
            "primitive"
        } else {
            "builtin"
        }
        .into(),
    })
}

fn first_doc_line(comments: &[&str]) -> Option<String> {
    comments
        .iter()
        .flat_map(|c| c.lines())
        .map(|l| {
            l.trim()
                .trim_start_matches("///")
                .trim_start_matches("/**")
                .trim_end_matches("*/")
                .trim()
        })
        .find(|l| !l.is_empty())
        .map(str::to_string)
}

/// Functions exported by the stdlib modules (client overrides included).
fn stdlib_functions(engine: &Engine, finder: &ModuleFinder) -> Vec<FunctionDoc> {
    let mut out = Vec::new();
    for (path, _) in embedded::folder("stdlib") {
        let Some(module) = path
            .strip_prefix("stdlib/")
            .and_then(|p| p.strip_suffix(".rhai"))
        else {
            continue;
        };
        let Some(found) = finder.find(module) else {
            continue;
        };
        let Ok(ast) = engine.compile(&found.text) else {
            continue;
        };
        for f in ast.iter_functions() {
            if f.access == rhai::FnAccess::Private || f.name.starts_with("anon$") {
                continue;
            }
            let comments: Vec<&str> = f.comments.iter().map(|s| s.as_ref()).collect();
            let params = f.params.join(", ");
            out.push(FunctionDoc {
                name: format!("{module}::{}", f.name),
                signature: format!("{module}::{}({params})", f.name),
                doc: first_doc_line(&comments).unwrap_or_else(|| "(undocumented)".into()),
                origin: "stdlib".into(),
            });
        }
    }
    out
}

pub fn doc(json: bool, definitions: Option<&Path>) -> i32 {
    let engine = crate::engine::build(&documentation_context(), ModuleFinder::default());
    if let Some(dir) = definitions {
        if let Err(e) =
            std::fs::create_dir_all(dir).and_then(|_| engine.definitions().write_to_dir(dir))
        {
            eprintln!(
                "error[invalid]: cannot write definitions to {}: {e}",
                dir.display()
            );
            return EXIT_USAGE;
        }
        println!("wrote Rhai definition files to {}", dir.display());
        return 0;
    }
    let functions = all_functions(&engine, &ModuleFinder::default());
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&functions).unwrap_or_default()
        );
        return 0;
    }
    let mut current = String::new();
    for f in &functions {
        let group = group(&f.name).to_string();
        if group != current {
            println!("\n{group}");
            current = group;
        }
        println!("  {}\n      {}", f.signature, f.doc);
    }
    0
}
