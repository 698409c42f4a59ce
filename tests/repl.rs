//! The REPL driven through stdin: persistent scope, functions, multi-line input,
//! YAML display, :doc, secrets masked.

use crate::test::Test;

#[test]
fn repl_keeps_scope_functions_and_imports_across_lines() {
    Test::new()
        .file("stdlib/greet.rhai", "/// Greets.\nfn hello(n) { `hello ${n}` }\n")
        .args(["repl", "--stdlib", "stdlib"])
        .stdin("let x = 40;\nx + 2\nfn dbl(a) {\n  a * 2\n}\ndbl(x)\nimport \"greet\" as g;\ng::hello(\"ops\")\n")
        .stdout_has("42")
        .stdout_has("80")
        .stdout_has("hello ops")
        .run();
}

#[test]
fn repl_shows_maps_as_yaml_and_masks_secrets() {
    let out = Test::new()
        .args(["repl"])
        .env("LFRUN_CANARY", "canary-repl-5511aa")
        .stdin("#{a: 1, b: [1, 2]}\nsecret::from_env(\"LFRUN_CANARY\")\n")
        .stdout_has("a: 1\nb:\n- 1\n- 2")
        .stdout_has("***")
        .run();
    assert!(!out.stdout.contains("canary-repl-5511aa"));
}

#[test]
fn repl_doc_and_help() {
    Test::new()
        .args(["repl"])
        .stdin(":doc fs::write\n:help\n")
        .stdout_has("fs::write(path: String, text: String) -> String")
        .stdout_has(":doc NAME")
        .run();
}

#[test]
fn repl_errors_do_not_end_the_session() {
    Test::new()
        .args(["repl"])
        .stdin("fail(\"invalid\", \"oops\")\n1 + 1\n")
        .stderr_has("error[invalid]: oops")
        .stdout_has("2")
        .run();
}

#[test]
fn repl_history_is_saved() {
    let out = Test::new()
        .args(["repl"])
        .stdin("let remembered = 1;\n")
        .run();
    let history = std::fs::read_to_string(out.path(".history")).unwrap_or_default();
    assert!(history.contains("let remembered = 1;"), "{history}");
}
