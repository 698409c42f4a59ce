//! Steps, parallel, JSON events.

use crate::test::Test;

#[test]
fn steps_are_numbered_and_timed() {
    Test::new()
        .script("step(\"first\", || { kept(\"thing\", \"already there\"); });\nstep(\"second\", || { 42 });\n")
        .stdout_has("[1] first")
        .stdout_has("= kept thing (already there)")
        .stdout_has("step 1 done in")
        .stdout_has("(1 kept)")
        .stdout_has("[2] second")
        .stdout_has("Summary: nothing changed, 1 kept")
        .run();
}

#[test]
fn failing_step_names_itself_and_is_catchable() {
    Test::new()
        .script(
            "try { step(\"breaks\", || fail(\"timeout\", \"too slow\")); } catch (e) { print(`caught ${e.kind} in ${e.step}`); }\n",
        )
        .stdout_has("caught timeout in [1] breaks")
        .stdout_has("step 1 failed after")
        .run();
}

#[test]
fn parallel_returns_results_in_order() {
    Test::new()
        .script("let r = parallel([|| { sleep(0.2); \"slow\" }, || \"fast\", || 3]);\nprint(r);\n")
        .stdout_has("[\"slow\", \"fast\", 3]")
        .run();
}

#[test]
fn parallel_first_error_cancels_the_rest() {
    let out = Test::new()
        .script(
            r#"
try {
  parallel([
    || { sleep(30.0); fs::write("should-not-exist.txt", "x"); },
    || { sleep(0.1); fail("conflict", "branch two failed"); },
  ]);
} catch (e) {
  print(`raised ${e.kind}: ${e.message}`);
}
"#,
        )
        .stdout_has("raised conflict: branch two failed")
        .run();
    assert!(!out.path("should-not-exist.txt").exists());
}

#[test]
fn json_output_is_one_event_per_line() {
    let out = Test::new()
        .script("step(\"one\", || check(\"pods ready\", true, \"3/3\"));\n")
        .args(["--output", "json"])
        .run();
    let events: Vec<serde_json::Value> = out
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    let kinds: Vec<&str> = events
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "run_started",
            "step_started",
            "check",
            "step_finished",
            "summary"
        ]
    );
    assert_eq!(events[2]["pass"], true);
    assert_eq!(events[2]["evidence"], "3/3");
}

#[test]
fn failed_checks_are_counted_in_the_summary() {
    Test::new()
        .script("check(\"redirect\", false, \"got 500\");\n")
        .stdout_has("FAIL redirect — got 500")
        .stdout_has("1 checks failed")
        .run();
}
