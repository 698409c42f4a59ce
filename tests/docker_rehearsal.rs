//! The rehearsal's docker stand-in (`lfrun sim docker`) as `tools.docker`: `az::acr_login`
//! and `docker::login` go to the rehearsal ACR's token endpoint, `docker::build` records
//! the image, `docker::push` speaks the Registry v2 API through the HTTPS front door and
//! the tag lands in the World's registry — the one the rehearsal kubelet pulls from.

use std::path::Path;

use lfrun_sim::ImageRef;

use crate::azure_rehearsal::AzureRehearsal;
use crate::test::Test;

const WEB: &str = "contosolangfuse.azurecr.io/langfuse-web:abc1234";
const WORKER: &str = "contosolangfuse.azurecr.io/langfuse-worker:abc1234";

fn with_standin(r: &AzureRehearsal, script: &str) -> Test {
    let wrapper =
        lfrun_sim::docker_standin::install(&r.state_dir(), Path::new(env!("CARGO_BIN_EXE_lfrun")))
            .expect("installing the docker stand-in");
    let config = format!("{}tools:\n  docker: {}\n", r.config(), wrapper.display());
    r.test_with_config(&config, script)
}

fn in_registry(r: &AzureRehearsal, image: &str) -> bool {
    r.world()
        .read(|w| w.registry.contains(&ImageRef::parse(image)))
}

#[test]
fn built_and_pushed_tags_land_in_the_rehearsal_registry() {
    let r = AzureRehearsal::start("empty");
    assert!(!in_registry(&r, WEB));
    with_standin(
        &r,
        &format!(
            r#"
            let v = docker::version();
            print(`docker ${{v.client}} daemon ${{v.daemon}}`);
            print(`login ${{az::acr_login("contosolangfuse").outcome}}`);
            let b = docker::build(#{{context: ".", dockerfile: "web/Dockerfile", tags: ["{WEB}", "{WORKER}"], platform: "linux/amd64"}});
            print(`build ${{b.outcome}}`);
            let p = docker::push("{WEB}");
            print(`push ${{p.outcome}} ${{p.digest.len() > 10}}`);
            docker::push("{WORKER}");
            "#
        ),
    )
    .stdout_has("docker 27.5.1-lfrun-rehearsal daemon true")
    .stdout_has("login logged_in")
    .stdout_has("build built")
    .stdout_has("push pushed true")
    .run();
    assert!(
        in_registry(&r, WEB),
        "web tag not in the rehearsal registry"
    );
    assert!(
        in_registry(&r, WORKER),
        "worker tag not in the rehearsal registry"
    );
    assert!(!in_registry(
        &r,
        "contosolangfuse.azurecr.io/langfuse-web:other"
    ));
}

#[test]
fn push_needs_a_login_and_a_built_image() {
    let r = AzureRehearsal::start("empty");
    with_standin(
        &r,
        &format!(
            r#"
            docker::build(#{{context: ".", tags: ["{WEB}"]}});
            try {{ docker::push("{WEB}"); }} catch (e) {{ print(`no login: ${{e.kind}} ${{e.message}}`); }}
            az::acr_login("contosolangfuse");
            try {{ docker::push("{WORKER}"); }} catch (e) {{ print(`not built: ${{e.message}}`); }}
            "#
        ),
    )
    .stdout_has("no login: tool_failed")
    .stdout_has("unauthorized: authentication required")
    .stdout_has("not built:")
    .stdout_has("An image does not exist locally with the tag: contosolangfuse.azurecr.io/langfuse-worker:abc1234")
    .run();
    assert!(!in_registry(&r, WEB));
}

#[test]
fn a_wrong_password_is_refused_and_never_shown() {
    let r = AzureRehearsal::start("empty");
    let canary = "canary-docker-login-pw-31337";
    let out = with_standin(
        &r,
        &format!(
            r#"
            try {{
                docker::login("contosolangfuse.azurecr.io", "00000000-0000-0000-0000-000000000000", secret::wrap("{canary}"));
            }} catch (e) {{ print(`refused ${{e.kind}}: ${{e.message}}`); }}
            "#
        ),
    )
    .stdout_has("refused tool_failed")
    .stdout_has("unauthorized")
    .stdout_lacks(canary)
    .stderr_lacks(canary)
    .run();
    assert!(!out.journal().contains(canary));
}
