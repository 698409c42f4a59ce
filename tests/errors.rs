//! Uncaught errors: kind, message, hint, file:line:col, step; catchable maps.

use crate::test::Test;

#[test]
fn uncaught_failure_shows_position_step_and_hint() {
    Test::new()
        .script("step(\"load\", || {\n  fail(\"not_found\", \"thing is gone\", \"create it first\");\n});\n")
        .status(1)
        .stderr_has("error[not_found]: thing is gone")
        .stderr_has("script.rhai:2:3")
        .stderr_has("= step: [1] load")
        .stderr_has("= hint: create it first")
        .run();
}

#[test]
fn scripts_catch_failures_by_kind() {
    Test::new()
        .script(
            "try { fs::read(\"/nonexistent/x\"); } catch (e) {\n  print(`caught ${e.kind}`);\n  if e.kind == \"not_found\" { print(\"branch taken\"); }\n}\n",
        )
        .stdout_has("caught not_found")
        .stdout_has("branch taken")
        .run();
}

#[test]
fn wrong_argument_types_name_the_expected_signature() {
    Test::new()
        .script("fs::write(42, \"x\");\n")
        .status(1)
        .stderr_has("fs::write (i64, &str | ImmutableString | String)")
        .stderr_has("fs::write(path: String, text: String)")
        .run();
}

#[test]
fn unknown_function_suggests_a_close_name() {
    Test::new()
        .script("fs::wrte(\"a\", \"b\");\n")
        .status(1)
        .stderr_has("did you mean fs::write")
        .run();
}

#[test]
fn errors_inside_modules_point_into_the_module() {
    Test::new()
        .file(
            "stdlib/m.rhai",
            "fn boom() {\n  fail(\"invalid\", \"bad input\");\n}\n",
        )
        .script("import \"m\" as m;\nm::boom();\n")
        .status(1)
        .stderr_has("stdlib/m.rhai:2:3")
        .stderr_has("in function boom")
        .run();
}

#[test]
fn no_panic_or_backtrace_on_garbage_input() {
    let out = Test::new().script("\u{0}\u{1}fn ((((").status(1).run();
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
    assert!(!out.stderr.contains("RUST_BACKTRACE"), "{}", out.stderr);
}
