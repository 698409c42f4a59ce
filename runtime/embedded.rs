//! The playbooks, stdlib modules and example files compiled into the binary.

include!(concat!(env!("OUT_DIR"), "/embedded_files.rs"));

/// The contents of an embedded file, by repository path (`stdlib/values.rhai`).
pub fn file(path: &str) -> Option<&'static str> {
    FILES
        .iter()
        .find(|(p, _)| *p == path)
        .map(|(_, text)| *text)
}

/// Embedded files under a folder (`playbooks`), as (path, contents).
pub fn folder(name: &str) -> impl Iterator<Item = (&'static str, &'static str)> + '_ {
    FILES
        .iter()
        .filter(move |(p, _)| {
            p.strip_prefix(name)
                .is_some_and(|rest| rest.starts_with('/'))
        })
        .copied()
}

/// Names of the embedded playbooks (`install`, `upgrade`, …).
pub fn playbook_names() -> Vec<&'static str> {
    folder("playbooks")
        .filter_map(|(p, _)| p.strip_prefix("playbooks/")?.strip_suffix(".rhai"))
        .collect()
}

/// How an embedded file is named in messages and error positions.
pub const PREFIX: &str = "<built-in>/";

/// The example client config shipped with lfrun.
pub fn example_config() -> &'static str {
    file("examples/client.yaml").unwrap_or("target: sim\n")
}
