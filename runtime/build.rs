//! Bakes the playbooks, the stdlib and the examples into the binary, so `lfrun
//! install` and `import "values"` work from any directory. The list is generated
//! from the folders, so adding a playbook needs no code change.

use std::fmt::Write;
use std::path::Path;

const FOLDERS: [&str; 3] = ["playbooks", "stdlib", "examples"];

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for folder in FOLDERS {
        println!("cargo:rerun-if-changed={folder}");
        let Ok(entries) = std::fs::read_dir(root.join(folder)) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let is_asset = path.extension().is_some_and(|e| e == "rhai" || e == "yaml");
            if path.is_file() && is_asset {
                let name = format!("{folder}/{}", entry.file_name().to_string_lossy());
                files.push((name, path.canonicalize().expect("asset path")));
            }
        }
    }
    files.sort();
    let mut out = String::from(
        "/// Files baked into the binary: (path relative to the repository, contents).\n",
    );
    out.push_str("pub static FILES: &[(&str, &str)] = &[\n");
    for (name, path) in &files {
        writeln!(
            out,
            "    ({name:?}, include_str!({:?})),",
            path.display().to_string()
        )
        .unwrap();
    }
    out.push_str("];\n");
    let dest = Path::new(&std::env::var("OUT_DIR").unwrap()).join("embedded_files.rs");
    std::fs::write(dest, out).unwrap();
}
