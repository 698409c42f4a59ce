//! Where `import "x"` finds module `x`.
//!
//! In order, the first hit wins:
//! 1. the script's sibling stdlib: `<script dir>/stdlib/x.rhai`, then
//!    `<script dir>/../stdlib/x.rhai` (a playbook in `playbooks/` next to `stdlib/`,
//!    as `lfrun init` lays them out);
//! 2. each `--stdlib DIR`, in the order given;
//! 3. the stdlib embedded in the binary.
//!
//! So a client edits their copy of a module and it overrides the built-in one,
//! without recompiling. The order is the same for every import in a run, including
//! imports made by embedded modules, so one overridden module is seen everywhere.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rhai::{Engine, EvalAltResult, Module, ModuleResolver, Position, Scope, Shared};

use crate::embedded;

/// Finds module source text.
#[derive(Debug, Clone, Default)]
pub struct ModuleFinder {
    dirs: Vec<PathBuf>,
}

/// A module's text and the name it is known by in messages.
pub struct ModuleText {
    pub name: String,
    pub text: String,
}

impl ModuleFinder {
    pub fn new(script: Option<&Path>, extra: &[PathBuf]) -> ModuleFinder {
        let mut dirs = Vec::new();
        if let Some(dir) = script.and_then(Path::parent) {
            let dir = if dir.as_os_str().is_empty() {
                Path::new(".")
            } else {
                dir
            };
            dirs.push(dir.join("stdlib"));
            dirs.push(dir.join("..").join("stdlib"));
        }
        dirs.extend(extra.iter().cloned());
        ModuleFinder { dirs }
    }

    /// The places searched, for "not found" messages.
    pub fn searched(&self, name: &str) -> Vec<String> {
        let file = file_name(name);
        let mut places: Vec<String> = self
            .dirs
            .iter()
            .map(|d| d.join(&file).display().to_string())
            .collect();
        places.push(format!("{}stdlib/{file}", embedded::PREFIX));
        places
    }

    pub fn find(&self, name: &str) -> Option<ModuleText> {
        let file = file_name(name);
        for dir in &self.dirs {
            let path = dir.join(&file);
            if let Ok(text) = std::fs::read_to_string(&path) {
                return Some(ModuleText {
                    name: normalize(&path),
                    text,
                });
            }
        }
        let key = format!("stdlib/{file}");
        embedded::file(&key).map(|text| ModuleText {
            name: format!("{}{key}", embedded::PREFIX),
            text: text.into(),
        })
    }
}

fn file_name(name: &str) -> String {
    let name = name.trim_end_matches(".rhai");
    format!("{name}.rhai")
}

fn normalize(path: &Path) -> String {
    // show `stdlib/x.rhai` rather than `playbooks/../stdlib/x.rhai`
    let mut parts: Vec<std::path::Component> = Vec::new();
    for c in path.components() {
        match c {
            std::path::Component::ParentDir
                if matches!(parts.last(), Some(std::path::Component::Normal(_))) =>
            {
                parts.pop();
            }
            std::path::Component::CurDir => {}
            other => parts.push(other),
        }
    }
    let p: PathBuf = parts.iter().collect();
    p.display().to_string()
}

/// The Rhai module resolver using a [`ModuleFinder`]; each module is evaluated
/// once per run.
pub struct Resolver {
    finder: ModuleFinder,
    cache: Mutex<HashMap<String, Shared<Module>>>,
}

impl Resolver {
    pub fn new(finder: ModuleFinder) -> Resolver {
        Resolver {
            finder,
            cache: Mutex::new(HashMap::new()),
        }
    }
}

impl ModuleResolver for Resolver {
    fn resolve(
        &self,
        engine: &Engine,
        _source: Option<&str>,
        path: &str,
        pos: Position,
    ) -> Result<Shared<Module>, Box<EvalAltResult>> {
        if let Some(m) = self
            .cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(path)
        {
            return Ok(m.clone());
        }
        let Some(found) = self.finder.find(path) else {
            let searched = self.finder.searched(path).join(", ");
            return Err(Box::new(EvalAltResult::ErrorModuleNotFound(
                format!("{path} (looked in {searched})"),
                pos,
            )));
        };
        let in_module = |err: Box<EvalAltResult>| {
            Box::new(EvalAltResult::ErrorInModule(found.name.clone(), err, pos))
        };
        let mut ast = engine
            .compile(&found.text)
            .map_err(|e| in_module(e.into()))?;
        ast.set_source(found.name.as_str());
        let module = Module::eval_ast_as_new(Scope::new(), &ast, engine).map_err(in_module)?;
        let module: Shared<Module> = module.into();
        self.cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(path.to_string(), module.clone());
        Ok(module)
    }
}
