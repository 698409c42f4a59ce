//! Role-based access control as the rehearsal enforces it.
//!
//! An assignment applies at its scope and everything below it (an Owner at the
//! subscription is Owner on every resource in it). Control-plane actions follow the
//! built-in roles (Reader reads, Contributor changes, Owner / User Access
//! Administrator assign roles); data-plane actions follow the Storage Blob and ACR
//! data roles — Owner alone cannot read a blob, exactly as on Azure.

use super::state::AzureState;

pub const OWNER: &str = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635";
pub const CONTRIBUTOR: &str = "b24988ac-6180-42a0-ab88-20f7382dd24c";
pub const READER: &str = "acdd72a7-3385-48ef-bd42-f606fba81ae7";
pub const USER_ACCESS_ADMIN: &str = "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9";
pub const BLOB_DATA_CONTRIBUTOR: &str = "ba92f5b4-2d11-453d-a403-e96b0029c9fe";
pub const BLOB_DATA_READER: &str = "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1";
pub const BLOB_DATA_OWNER: &str = "b7e6dc6d-f1e8-4753-8033-0f276bb0955b";
pub const BLOB_DELEGATOR: &str = "db58b8e5-c6ad-4a2a-8342-4190687cbf4a";
pub const ACR_PULL: &str = "7f951dda-4ed3-4680-a7ca-43fe172d538d";
pub const ACR_PUSH: &str = "8311e382-0749-4cb8-b61a-304f252e45ec";

/// Built-in role names and IDs (what `roleDefinitions` serves).
pub const ROLES: &[(&str, &str)] = &[
    ("Owner", OWNER),
    ("Contributor", CONTRIBUTOR),
    ("Reader", READER),
    ("User Access Administrator", USER_ACCESS_ADMIN),
    ("Storage Blob Data Contributor", BLOB_DATA_CONTRIBUTOR),
    ("Storage Blob Data Reader", BLOB_DATA_READER),
    ("Storage Blob Data Owner", BLOB_DATA_OWNER),
    ("Storage Blob Delegator", BLOB_DELEGATOR),
    ("AcrPull", ACR_PULL),
    ("AcrPush", ACR_PUSH),
];

pub fn role_id(name: &str) -> Option<&'static str> {
    ROLES
        .iter()
        .find(|(n, id)| n.eq_ignore_ascii_case(name) || id.eq_ignore_ascii_case(name))
        .map(|(_, id)| *id)
}

pub fn role_name(id: &str) -> &str {
    ROLES
        .iter()
        .find(|(_, i)| i.eq_ignore_ascii_case(id))
        .map(|(n, _)| *n)
        .unwrap_or(id)
}

/// Whether `scope` is `parent` or below it.
pub fn within(scope: &str, parent: &str) -> bool {
    let (s, p) = (
        scope.to_ascii_lowercase(),
        parent.trim_end_matches('/').to_ascii_lowercase(),
    );
    s == p || s.starts_with(&format!("{p}/"))
}

/// Whether `principal` holds one of `roles` at `scope` (directly or inherited).
pub fn holds(state: &AzureState, principal: &str, scope: &str, roles: &[&str]) -> bool {
    state.role_assignments.iter().any(|a| {
        a.principal_id.eq_ignore_ascii_case(principal)
            && within(scope, &a.scope)
            && roles.iter().any(|r| r.eq_ignore_ascii_case(&a.role))
    })
}

/// The control-plane action a request needs, for `AuthorizationFailed` messages.
pub enum Need {
    Read,
    Write,
    AssignRoles,
}

pub fn allowed(state: &AzureState, principal: &str, scope: &str, need: &Need) -> bool {
    match need {
        Need::Read => holds(
            state,
            principal,
            scope,
            &[OWNER, CONTRIBUTOR, READER, USER_ACCESS_ADMIN],
        ),
        Need::Write => holds(state, principal, scope, &[OWNER, CONTRIBUTOR]),
        Need::AssignRoles => holds(state, principal, scope, &[OWNER, USER_ACCESS_ADMIN]),
    }
}

/// Data actions on blobs.
pub fn may_read_blobs(state: &AzureState, principal: &str, container_scope: &str) -> bool {
    holds(
        state,
        principal,
        container_scope,
        &[BLOB_DATA_READER, BLOB_DATA_CONTRIBUTOR, BLOB_DATA_OWNER],
    )
}

pub fn may_write_blobs(state: &AzureState, principal: &str, container_scope: &str) -> bool {
    holds(
        state,
        principal,
        container_scope,
        &[BLOB_DATA_CONTRIBUTOR, BLOB_DATA_OWNER],
    )
}

/// `generateUserDelegationKey` is an account-level action: the Delegator role, or a
/// data role assigned at the account (not only on a container) grants it.
pub fn may_get_delegation_key(state: &AzureState, principal: &str, account_scope: &str) -> bool {
    holds(
        state,
        principal,
        account_scope,
        &[
            BLOB_DELEGATOR,
            BLOB_DATA_READER,
            BLOB_DATA_CONTRIBUTOR,
            BLOB_DATA_OWNER,
        ],
    )
}

pub fn may_pull(state: &AzureState, principal: &str, registry_scope: &str) -> bool {
    holds(
        state,
        principal,
        registry_scope,
        &[ACR_PULL, ACR_PUSH, CONTRIBUTOR, OWNER],
    )
}

pub fn may_push(state: &AzureState, principal: &str, registry_scope: &str) -> bool {
    holds(
        state,
        principal,
        registry_scope,
        &[ACR_PUSH, CONTRIBUTOR, OWNER],
    )
}
