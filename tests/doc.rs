//! `lfrun doc`, `init`, module override order, completions.

use crate::test::Test;

#[test]
fn doc_lists_primitives_from_the_engine_with_types_and_docs() {
    Test::new()
        .args(["doc"])
        .stdout_has("fs::write(path: String, text: String) -> String")
        .stdout_has("secret::random_hex(bytes: int) -> Secret")
        .stdout_has("step(name: String, body: Fn) -> ?")
        .run();
}

#[test]
fn doc_json_is_machine_readable() {
    let out = Test::new().args(["doc", "--json"]).run();
    let all: Vec<serde_json::Value> = serde_json::from_str(&out.stdout).unwrap();
    let write = all
        .iter()
        .find(|f| f["name"] == "fs::write")
        .expect("fs::write documented");
    assert!(write["doc"].as_str().unwrap().starts_with("Writes"));
    assert!(all.iter().all(|f| !f["doc"].as_str().unwrap().is_empty()));
}

#[test]
fn doc_definitions_are_written_for_the_language_server() {
    let out = Test::new().args(["doc", "--definitions", "defs"]).run();
    let fs_defs = std::fs::read_to_string(out.path("defs/fs.d.rhai")).unwrap();
    assert!(
        fs_defs.contains("fn write(path: String, text: String) -> String;"),
        "{fs_defs}"
    );
}

#[test]
fn init_writes_editable_copies_and_refuses_to_overwrite() {
    let out = Test::new()
        .args(["init", "mine"])
        .stdout_has("client.yaml")
        .run();
    assert!(out.path("mine/client.yaml").exists());
    let again = Test::in_dir(out.dir)
        .args(["init", "mine"])
        .status(2)
        .stderr_has("nothing was written")
        .run();
    assert!(again.path("mine/client.yaml").exists());
}

#[test]
fn sibling_stdlib_overrides_stdlib_flag_which_overrides_built_in() {
    let base = Test::new()
        .file("proj/stdlib/which.rhai", "fn name() { \"sibling\" }\n")
        .file("extra/which.rhai", "fn name() { \"flag\" }\n")
        .file("extra/only_flag.rhai", "fn name() { \"flag-only\" }\n")
        .file("proj/run.rhai", "import \"which\" as w;\nimport \"only_flag\" as o;\nprint(w::name());\nprint(o::name());\n")
        .args(["proj/run.rhai", "--stdlib", "extra"])
        .stdout_has("sibling")
        .stdout_has("flag-only")
        .run();
    std::fs::remove_file(base.path("proj/stdlib/which.rhai")).unwrap();
    Test::in_dir(base.dir)
        .args(["proj/run.rhai", "--stdlib", "extra"])
        .stdout_has("flag\n")
        .run();
}

#[test]
fn completions_are_generated_for_each_shell() {
    Test::new()
        .args(["completions", "bash"])
        .stdout_has("_lfrun()")
        .run();
    Test::new()
        .args(["completions", "zsh"])
        .stdout_has("#compdef lfrun")
        .run();
    Test::new()
        .args(["completions", "fish"])
        .stdout_has("complete -c lfrun")
        .run();
}

#[test]
fn unknown_script_lists_built_in_playbooks() {
    Test::new()
        .arg("nonexistent-playbook")
        .status(2)
        .stderr_has("built-in playbooks:")
        .run();
}
