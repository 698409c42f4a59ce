//! Plan mode, the journal and destructive-action confirmation, using `fs::` (the
//! reference mutating primitive).

use crate::test::Test;

#[test]
fn dry_run_records_and_does_not_execute() {
    let out = Test::new()
        .script("fs::write(\"made.txt\", \"hello\");\n")
        .arg("--dry-run")
        .stdout_has("Plan (nothing was changed):")
        .stdout_has("create file made.txt")
        .run();
    assert!(
        !out.path("made.txt").exists(),
        "dry run must not write the file"
    );
    assert!(
        out.journal().contains("\"outcome\":\"planned\""),
        "{}",
        out.journal()
    );
}

#[test]
fn plan_is_json_with_output_json() {
    let out = Test::new()
        .script("fs::write(\"made.txt\", \"hello\");\n")
        .args(["--dry-run", "--output", "json"])
        .run();
    let plan = out
        .stdout
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("every stdout line is JSON"))
        .find(|v| v["event"] == "plan")
        .expect("a plan event");
    assert_eq!(plan["changes"][0]["action"], "create file");
    assert_eq!(plan["changes"][0]["target"], "made.txt");
}

#[test]
fn done_changes_are_journalled() {
    let out = Test::new()
        .script("step(\"write it\", || fs::write(\"made.txt\", \"hello\"));\n")
        .stdout_has("~ changed create file made.txt")
        .run();
    assert_eq!(
        std::fs::read_to_string(out.path("made.txt")).unwrap(),
        "hello"
    );
    let journal = out.journal();
    let line: serde_json::Value = serde_json::from_str(journal.lines().next().unwrap()).unwrap();
    assert_eq!(line["action"], "create file");
    assert_eq!(line["outcome"], "done");
    assert_eq!(line["step"], "write it");
    assert!(line["time"].as_str().unwrap().ends_with('Z'));
}

#[test]
fn destructive_action_refused_without_tty_and_yes() {
    let out = Test::new()
        .file("victim.txt", "x")
        .script("fs::remove(\"victim.txt\");\n")
        .status(1)
        .stderr_has("error[refused]")
        .stderr_has("--yes")
        .run();
    assert!(out.path("victim.txt").exists());
}

#[test]
fn destructive_action_proceeds_with_yes() {
    let out = Test::new()
        .file("victim.txt", "x")
        .script("fs::remove(\"victim.txt\");\n")
        .arg("--yes")
        .run();
    assert!(!out.path("victim.txt").exists());
}

#[test]
fn unwritable_journal_stops_before_running() {
    let out = Test::new()
        .file("blocker", "a file where a directory should be")
        .script("fs::write(\"made.txt\", \"x\");\n")
        .args(["--journal", "blocker/sub"])
        .status(2)
        .stderr_has("cannot write the journal")
        .run();
    assert!(!out.path("made.txt").exists());
}
