//! Config: YAML merged with --set, typed values, missing/unknown keys, bad input.

use crate::test::Test;

#[test]
fn set_overrides_merge_with_the_file_and_are_typed() {
    Test::new()
        .file("c.yaml", "target: sim\nlangfuse:\n  namespace: langfuse\n  release: langfuse\n")
        .script("print(config.langfuse.namespace);\nprint(type_of(config.replicas));\nprint(config.flag == true);\nprint(config.langfuse.release);\n")
        .args(["--config", "c.yaml", "--set", "langfuse.namespace=lf-test", "--set", "replicas=3", "--set", "flag=true"])
        .stdout_has("lf-test")
        .stdout_has("i64")
        .stdout_has("true")
        .stdout_has("langfuse")
        .run();
}

#[test]
fn missing_required_key_names_the_key_and_the_file() {
    Test::new()
        .file("c.yaml", "target: sim\n")
        .script("config::get(\"azure.subscription\");\n")
        .args(["--config", "c.yaml"])
        .status(1)
        .stderr_has("error[config]: missing required config key `azure.subscription` in c.yaml")
        .run();
}

#[test]
fn unknown_top_level_key_is_warned_with_a_suggestion() {
    Test::new()
        .file("c.yaml", "target: sim\nlangfsue:\n  namespace: x\n")
        .script("print(\"ran\");\n")
        .args(["--config", "c.yaml"])
        .stderr_has("unknown config key `langfsue` in c.yaml (did you mean `langfuse`?)")
        .stdout_has("ran")
        .run();
}

#[test]
fn malformed_config_file_names_file_and_line() {
    Test::new()
        .file("c.yaml", "target: sim\nlangfuse: [unclosed\n")
        .script("print(\"must not run\");\n")
        .args(["--config", "c.yaml"])
        .status(2)
        .stderr_has("c.yaml:")
        .stderr_has("not valid YAML")
        .stdout_lacks("must not run")
        .run();
}

#[test]
fn missing_config_file_is_a_clear_error() {
    Test::new()
        .script("print(1);\n")
        .args(["--config", "nope.yaml"])
        .status(2)
        .stderr_has("cannot read config file nope.yaml")
        .run();
}

#[test]
fn bad_set_path_is_rejected_before_running() {
    Test::new()
        .script("print(\"must not run\");\n")
        .args([
            "--set",
            "langfuse.namespace.x=1",
            "--set",
            "langfuse.namespace=a",
        ])
        .status(2)
        .stderr_has("--set langfuse.namespace.x=1: `langfuse.namespace` is a string")
        .stdout_lacks("must not run")
        .run();
    Test::new()
        .script("print(1);\n")
        .args(["--set", "a..b=1"])
        .status(2)
        .stderr_has("not a valid key path")
        .run();
}

#[test]
fn without_config_the_built_in_example_is_used() {
    Test::new()
        .script("print(config::source());\nprint(config::get(\"chart.version\"));\n")
        .stdout_has("examples/client.yaml (built in)")
        .stdout_has("1.5.41")
        .run();
}

#[test]
fn set_keys_of_a_runbook_are_not_reported_as_typos() {
    Test::new()
        .script("print(config::get(\"scale.web\"));\n")
        .args(["--set", "scale.web=3"])
        .stdout_has("3")
        .stderr_lacks("unknown config key")
        .run();
}
