//! `lfrun init DIR`: editable copies of the playbooks, the stdlib and an example
//! config. A playbook in `DIR/playbooks/` imports from `DIR/stdlib/` first, so the
//! client's edits take effect without recompiling.

use std::path::Path;

use super::{EXIT_FAILED, EXIT_USAGE};
use crate::embedded;

pub fn init(dir: &Path, force: bool) -> i32 {
    let mut files: Vec<(String, &str)> = Vec::new();
    for folder in ["playbooks", "stdlib"] {
        files.extend(embedded::folder(folder).map(|(p, t)| (p.to_string(), t)));
    }
    files.push(("client.yaml".into(), embedded::example_config()));
    files.extend(
        embedded::folder("examples")
            .filter(|(p, _)| p.ends_with(".rhai"))
            .map(|(p, t)| (p.replacen("examples/", "runbooks/", 1), t)),
    );
    let existing: Vec<&String> = files
        .iter()
        .map(|(p, _)| p)
        .filter(|p| dir.join(p).exists())
        .collect();
    if !existing.is_empty() && !force {
        eprintln!(
            "error[conflict]: {} already has {} of these files (e.g. {}); nothing was written",
            dir.display(),
            existing.len(),
            existing[0]
        );
        eprintln!("   = hint: pass --force to overwrite them, or choose an empty directory");
        return EXIT_USAGE;
    }
    for (path, text) in &files {
        let target = dir.join(path);
        let written = target
            .parent()
            .map(std::fs::create_dir_all)
            .unwrap_or(Ok(()))
            .and_then(|_| std::fs::write(&target, text));
        if let Err(e) = written {
            eprintln!("error[invalid]: cannot write {}: {e}", target.display());
            return EXIT_FAILED;
        }
    }
    println!("wrote {} files to {}:", files.len(), dir.display());
    println!("  playbooks/   the playbooks (run one: lfrun {}/playbooks/install.rhai --config {}/client.yaml)", dir.display(), dir.display());
    println!("  stdlib/      shared modules; your copies override the built-in ones");
    println!("  runbooks/    example client runbooks");
    println!("  client.yaml  the example config, documented key by key");
    0
}
