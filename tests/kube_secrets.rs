//! `kube::ensure_secret` and friends: created once, keys added, existing keys never
//! overwritten; values come back as `Secret` and never appear in any output.

use crate::rehearsal::Rehearsal;

const CANARY: &str = "canary-kube-secret-7f3a9c1e";

#[test]
fn ensure_secret_never_overwrites_an_existing_key() {
    let cluster = Rehearsal::start("empty");
    let first = format!(
        r#"
        kube::ensure_namespace("langfuse");
        let r = kube::ensure_secret("langfuse", "langfuse-secrets", #{{
            "encryption-key": secret::wrap("{CANARY}"),
            "salt": secret::random_hex(32),
        }});
        print(`first ${{r.outcome}} added ${{r.added}} kept ${{r.kept}}`);
        "#
    );
    cluster
        .test(&first)
        .stdout_has("first created added [\"encryption-key\", \"salt\"] kept []")
        .run();

    // A second run offers different values and one new key: the new key is added,
    // the existing ones are reported kept and stay byte-identical.
    let second = r#"
        let r = kube::ensure_secret("langfuse", "langfuse-secrets", #{
            "encryption-key": secret::random_hex(32),
            "salt": "a-different-salt-value",
            "nextauth-secret": secret::random_hex(32),
        });
        print(`second ${r.outcome} added ${r.added} kept ${r.kept}`);
        print(`keys ${kube::secret_keys("langfuse", "langfuse-secrets")}`);
        let v = kube::secret_value("langfuse", "langfuse-secrets", "encryption-key");
        print(`value prints as ${v}, is secret ${secret::is_secret(v)}`);
        print(`unchanged ${v == secret::wrap("CANARY")}`);
    "#
    .replace("CANARY", CANARY);
    let out = cluster
        .test(&second)
        .stdout_has(
            "second updated added [\"nextauth-secret\"] kept [\"encryption-key\", \"salt\"]",
        )
        .stdout_has("keys [\"encryption-key\", \"nextauth-secret\", \"salt\"]")
        .stdout_has("value prints as ***, is secret true")
        .stdout_has("unchanged true")
        .run();
    assert!(!out.stdout.contains(CANARY) && !out.stderr.contains(CANARY));
    assert!(!out.journal().contains(CANARY), "journal leaks the canary");

    // A third run with the same keys writes nothing at all.
    cluster.clear_requests();
    cluster
        .test(&second)
        .stdout_has("second kept added [] kept [\"encryption-key\", \"nextauth-secret\", \"salt\"]")
        .run();
    assert!(cluster.writes().is_empty(), "{:?}", cluster.writes());
}

#[test]
fn canary_secret_never_printed_anywhere() {
    let cluster = Rehearsal::start("empty");
    // The canary reaches the script through the environment, so the script's own
    // text (shown in error frames) does not contain it.
    let script = r#"
        let canary = secret::from_env("LFRUN_TEST_CANARY");
        kube::ensure_namespace("langfuse");
        kube::ensure_secret("langfuse", "sso", #{"client-secret": canary, "client-id": "app-id"});
        let v = kube::secret_value("langfuse", "sso", "client-secret");
        print(`value ${v}`);
        debug(v);
        let s = kube::get("Secret", "langfuse", "sso");
        print(`object ${s}`);
        print(`listed ${kube::list("Secret", "langfuse")}`);
        kube::apply(#{apiVersion: "v1", kind: "Secret", metadata: #{name: "copy", namespace: "langfuse"},
            stringData: #{token: canary}});
        kube::patch("Secret", "langfuse", "copy", #{stringData: #{other: canary}}, "merge");
        throw `failing with ${v}`;
    "#;
    for mode in [vec!["-vv"], vec!["--output", "json"], vec!["--dry-run"]] {
        let out = cluster
            .test(script)
            .args(mode.clone())
            .env("LFRUN_TEST_CANARY", CANARY)
            .status(1)
            .run();
        for (what, text) in [
            ("stdout", &out.stdout),
            ("stderr", &out.stderr),
            ("journal", &out.journal()),
        ] {
            assert!(
                !text.contains(CANARY),
                "{what} with {mode:?} shows the canary:\n{text}"
            );
        }
        assert!(out.stderr.contains("failing with ***"), "{}", out.stderr);
    }
}

#[test]
fn secret_data_reads_back_as_secrets_and_round_trips_through_apply() {
    let cluster = Rehearsal::start("empty");
    cluster
        .test(
            r#"
            kube::ensure_namespace("apps");
            kube::ensure_secret("apps", "one", #{password: secret::wrap("s3cr3t-value-1")}, #{labels: #{app: "demo"}, type: "Opaque"});
            let s = kube::get("Secret", "apps", "one");
            print(`type ${s.type} password is secret ${secret::is_secret(s.data.password)}`);
            s.metadata = #{name: "two", namespace: "apps"};
            print(`copy ${kube::apply(s).outcome}`);
            print(`same ${kube::secret_value("apps", "two", "password") == secret::wrap("s3cr3t-value-1")}`);
            print(`kept ${kube::apply(s).outcome}`);
            print(`exists ${kube::secret_exists("apps", "two")} ${kube::secret_exists("apps", "three")}`);
            try { kube::secret_value("apps", "one", "nope") } catch (e) { print(`${e.kind}: ${e.message} (${e.hint})`) }
            "#,
        )
        .stdout_has("type Opaque password is secret true")
        .stdout_has("copy created")
        .stdout_has("same true")
        .stdout_has("kept kept")
        .stdout_has("exists true false")
        .stdout_has("not_found: Secret apps/one has no key `nope` (its keys are: password)")
        .run();
}
