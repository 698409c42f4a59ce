//! A canary secret never reaches stdout, stderr, the journal or the plan.

use crate::test::Test;

const CANARY: &str = "canary-7f3a9c1e5b";

#[test]
fn canary_secret_is_never_shown() {
    let out = Test::new()
        .env("LFRUN_CANARY", CANARY)
        .script(
            r#"
let s = secret::from_env("LFRUN_CANARY");
print(s);
print(`interpolated ${s}`);
debug(s);
print(#{ password: s, list: [s] });
print(to_yaml(#{ nested: #{ key: s } }));
print(to_json(#{ key: s }));
fs::write("plan-target.txt", "no secret here");
try { fail("invalid", `bad value ${s}`, `hint ${s}`); } catch (e) { print(e.message); print(e.hint); }
fail("invalid", "uncaught " + s);
"#,
        )
        .args(["--dry-run", "-v"])
        .status(1)
        .run();
    assert!(
        !out.stdout.contains(CANARY),
        "stdout leaked: {}",
        out.stdout
    );
    assert!(
        !out.stderr.contains(CANARY),
        "stderr leaked: {}",
        out.stderr
    );
    assert!(!out.journal().contains(CANARY), "journal leaked");
    assert!(out.stdout.contains("interpolated ***"), "{}", out.stdout);
    assert!(out.stderr.contains("uncaught ***"), "{}", out.stderr);
}

#[test]
fn canary_is_not_in_json_output() {
    let out = Test::new()
        .env("LFRUN_CANARY", CANARY)
        .script("let s = secret::from_env(\"LFRUN_CANARY\");\nprint(s);\nfail(\"invalid\", `x ${s}`);\n")
        .args(["--output", "json"])
        .status(1)
        .run();
    assert!(!out.stdout.contains(CANARY));
    assert!(!out.stderr.contains(CANARY));
}

#[test]
fn random_hex_is_secret_and_sized() {
    Test::new()
        .script("let k = secret::random_hex(32);\nprint(k);\nprint(k.len());\nprint(secret::is_secret(k));\n")
        .stdout_has("***")
        .stdout_has("64")
        .stdout_has("true")
        .run();
}

#[test]
fn unset_env_secret_is_a_config_error_with_a_hint() {
    Test::new()
        .script("secret::from_env(\"LFRUN_SURELY_UNSET_VAR\");\n")
        .status(1)
        .stderr_has("environment variable LFRUN_SURELY_UNSET_VAR is not set")
        .stderr_has("export LFRUN_SURELY_UNSET_VAR")
        .run();
}
