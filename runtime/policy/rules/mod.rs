//! The rules, one per file, in the order the guide states them.

use super::Rule;

pub mod azure_ad_sso;
pub mod clickhouse_disk;
pub mod data_stores;
pub mod nextauth_url;
pub mod no_azure_credential_env;
pub mod official_chart;
pub mod plaintext_secrets;
pub mod release_name;
pub mod storage_keys;
pub mod workload_identity;

/// Every rule lfrun enforces.
pub const ALL: [&Rule; 10] = [
    &storage_keys::RULE,
    &workload_identity::RULE,
    &no_azure_credential_env::RULE,
    &official_chart::RULE,
    &data_stores::RULE,
    &azure_ad_sso::RULE,
    &nextauth_url::RULE,
    &release_name::RULE,
    &clickhouse_disk::RULE,
    &plaintext_secrets::RULE,
];

/// Ids a waiver may name: every rule, and chart drift.
pub fn known_ids() -> Vec<&'static str> {
    ALL.iter()
        .map(|r| r.id)
        .chain(std::iter::once(super::drift::RULE_ID))
        .collect()
}
