//! `fs::` — files on the operator's machine (reports, exported values, tickets).
//!
//! Small, but it is also the reference for how a primitive declares itself
//! mutating: `write` and `remove` go through `RunContext::change`, so in a dry run
//! they appear in the plan and touch nothing, and `remove` asks first.

use std::path::Path;
use std::sync::Arc;

use rhai::Module;

use crate::context::RunContext;
use crate::error::{ErrorKind, Failure, ScriptResult};
use crate::plan::{Applied, Change};
use crate::register::Registrar;

pub fn module(run: &Arc<RunContext>) -> Module {
    let mut m = Registrar::new("fs", "Files on the machine running lfrun.");

    let r = run.clone();
    m.fun(
        "write",
        "Writes `text` to `path` (creating parent directories); returns `changed`, `kept` (same content) or `planned`.",
        &["path", "text"],
        move |path: &str, text: &str| -> ScriptResult<String> { Ok(write(&r, path, text)?) },
    );

    m.fun(
        "read",
        "The text of a file; fails with `not_found` when it does not exist.",
        &["path"],
        |path: &str| -> ScriptResult<String> {
            std::fs::read_to_string(path).map_err(|e| io_failure(path, &e).into())
        },
    );

    m.fun(
        "exists",
        "True when the path exists.",
        &["path"],
        |path: &str| Path::new(path).exists(),
    );

    let r = run.clone();
    m.fun(
        "remove",
        "Deletes a file (destructive: asks first unless --yes); returns `removed`, `absent` or `planned`.",
        &["path"],
        move |path: &str| -> ScriptResult<String> {
            if !Path::new(path).exists() {
                return Ok("absent".into());
            }
            let change = Change::new("delete file", path).destructive();
            let p = path.to_string();
            let applied = r.change_now(change, move || std::fs::remove_file(&p).map_err(|e| io_failure(&p, &e)))?;
            Ok(applied.outcome("removed"))
        },
    );
    m.build()
}

fn write(run: &RunContext, path: &str, text: &str) -> Result<String, Failure> {
    if std::fs::read_to_string(path).is_ok_and(|old| old == text) {
        run.kept(&format!("file {path}"), "same content");
        return Ok("kept".into());
    }
    let existed = Path::new(path).exists();
    let change = Change::new(
        if existed {
            "update file"
        } else {
            "create file"
        },
        path,
    )
    .detail(format!("{} bytes", text.len()));
    let (p, t) = (path.to_string(), text.to_string());
    let applied: Applied<()> = run.change_now(change, move || {
        if let Some(dir) = Path::new(&p).parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| io_failure(&p, &e))?;
        }
        std::fs::write(&p, t).map_err(|e| io_failure(&p, &e))
    })?;
    Ok(applied.outcome("changed"))
}

fn io_failure(path: &str, e: &std::io::Error) -> Failure {
    let kind = match e.kind() {
        std::io::ErrorKind::NotFound => ErrorKind::NotFound,
        std::io::ErrorKind::PermissionDenied => ErrorKind::Forbidden,
        _ => ErrorKind::Invalid,
    };
    Failure::new(kind, format!("{path}: {e}"))
}
