//! Integration tests: each file covers one feature and runs the real `lfrun`
//! binary through the `Test` builder (`tests/test.rs`).

mod charts;
mod rehearsal;
mod test;

mod azure_acr_secrets;
mod azure_arm;
mod azure_blob;
mod azure_fixtures;
mod azure_http;
mod azure_rehearsal;
mod azure_scenarios;
mod cancel;
mod check;
mod config;
mod doc;
mod docker_git;
mod docker_rehearsal;
mod errors;
mod helm_release;
mod helm_template;
mod kube_flaky;
mod kube_helm;
mod kube_objects;
mod kube_secrets;
mod kube_storage;
mod kube_workloads;
mod lint;
mod plan;
mod playbook_doctor;
mod playbook_install;
mod playbook_pvc_resize;
mod playbook_rollback;
mod playbook_upgrade;
mod playbook_validate;
mod policy;
mod repl;
mod runbooks;
mod secrets;
mod sim_cli;
mod steps;
mod terminal;
mod verbosity;
