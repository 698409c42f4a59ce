//! A script to run or check: a file, or a playbook embedded in the binary.

use std::path::{Path, PathBuf};

use crate::embedded;
use crate::error::Failure;

#[derive(Debug, Clone)]
pub struct Script {
    /// The name positions are reported with: the path as given, or `<built-in>/playbooks/x.rhai`.
    pub source: String,
    /// The file, when the script is one (module resolution starts next to it).
    pub path: Option<PathBuf>,
    pub text: String,
}

impl Script {
    /// `arg` is a path to a `.rhai` file, or the name of an embedded playbook
    /// (`install`, `upgrade`, …).
    pub fn load(arg: &str) -> Result<Script, Failure> {
        let path = Path::new(arg);
        if path.is_file() {
            let text = std::fs::read_to_string(path)
                .map_err(|e| Failure::invalid(format!("cannot read script {arg}: {e}")))?;
            return Ok(Script {
                source: arg.to_string(),
                path: Some(path.to_path_buf()),
                text,
            });
        }
        let name = arg.trim_end_matches(".rhai");
        let embedded_path = format!("playbooks/{name}.rhai");
        if !arg.contains('/') {
            if let Some(text) = embedded::file(&embedded_path) {
                return Ok(Script {
                    source: format!("{}{embedded_path}", embedded::PREFIX),
                    path: None,
                    text: text.to_string(),
                });
            }
        }
        Err(Failure::not_found(format!(
            "no script file `{arg}` and no built-in playbook of that name"
        ))
        .with_hint(format!(
            "built-in playbooks: {}",
            embedded::playbook_names().join(", ")
        )))
    }

    /// Compiles the script with its source name set, so error positions name the file.
    pub fn compile(&self, engine: &rhai::Engine) -> Result<rhai::AST, rhai::ParseError> {
        let mut ast = engine.compile(&self.text)?;
        ast.set_source(self.source.as_str());
        Ok(ast)
    }

    /// A script given as text (REPL lines, tests).
    pub fn inline(source: &str, text: &str) -> Script {
        Script {
            source: source.into(),
            path: None,
            text: text.into(),
        }
    }
}
