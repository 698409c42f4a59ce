//! `lfrun check`: syntax errors with positions and frames; missing imports.

use crate::test::Test;

#[test]
fn syntax_error_is_reported_with_position_and_frame() {
    Test::new()
        .file("bad.rhai", "let a = 1;\nlet b = ;\n")
        .args(["check", "bad.rhai"])
        .status(1)
        .stderr_has("bad.rhai:2:9")
        .stderr_has("2 | let b = ;")
        .stderr_has("error[script]: syntax error")
        .run();
}

#[test]
fn missing_module_is_reported_by_check() {
    Test::new()
        .file("uses.rhai", "import \"no_such_module\" as m;\nm::f();\n")
        .args(["check", "uses.rhai"])
        .status(1)
        .stderr_has("module `no_such_module` not found")
        .stderr_has("uses.rhai:1:1")
        .run();
}

#[test]
fn syntax_error_inside_an_imported_module_names_the_module_file() {
    Test::new()
        .file("stdlib/broken.rhai", "fn f( { }\n")
        .file("main.rhai", "import \"broken\" as b;\n")
        .args(["check", "main.rhai"])
        .status(1)
        .stderr_has("stdlib/broken.rhai:1:")
        .run();
}

#[test]
fn valid_scripts_pass() {
    Test::new()
        .file(
            "stdlib/helpers.rhai",
            "/// Doubles.\nfn double(x) { x * 2 }\n",
        )
        .file(
            "ok.rhai",
            "import \"helpers\" as h;\nprint(h::double(2));\n",
        )
        .args(["check", "ok.rhai"])
        .stdout_has("ok: 1 file(s) and 1 module(s) compile")
        .run();
}
