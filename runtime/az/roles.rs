//! Role assignments (guide §2 "RBAC (Mandatory)"): list, check and ensure by role name.
//!
//! Roles are named as people say them ("Storage Blob Delegator"); Resource Manager
//! wants role definition IDs. The built-in roles the guide needs are known here by
//! their fixed IDs (the same in every tenant); any other name is looked up.
//!
//! Ensuring is idempotent: an existing assignment of the role to the principal at
//! the scope (or inherited from above it) is kept, never recreated. A new assignment
//! gets a name derived from (scope, principal, role), so even a retried or repeated
//! create lands on the same assignment instead of a duplicate.

use serde_json::{json, Value as Json};

use crate::error::{ErrorKind, Failure};
use crate::plan::Change;

use super::session::{text, Azure};

pub const ROLES_API: &str = "2022-04-01";

/// Built-in roles by name → role definition ID.
pub const BUILT_IN: &[(&str, &str)] = &[
    (
        "Storage Blob Data Contributor",
        "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
    ),
    (
        "Storage Blob Delegator",
        "db58b8e5-c6ad-4a2a-8342-4190687cbf4a",
    ),
    (
        "Storage Blob Data Reader",
        "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1",
    ),
    (
        "Storage Blob Data Owner",
        "b7e6dc6d-f1e8-4753-8033-0f276bb0955b",
    ),
    ("AcrPull", "7f951dda-4ed3-4680-a7ca-43fe172d538d"),
    ("AcrPush", "8311e382-0749-4cb8-b61a-304f252e45ec"),
    ("Owner", "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"),
    ("Contributor", "b24988ac-6180-42a0-ab88-20f7382dd24c"),
    ("Reader", "acdd72a7-3385-48ef-bd42-f606fba81ae7"),
    (
        "User Access Administrator",
        "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9",
    ),
];

/// The role definition GUID for a built-in role name (case-insensitive).
pub fn built_in_id(name: &str) -> Option<&'static str> {
    BUILT_IN
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, id)| *id)
}

fn name_of(definition_guid: &str) -> Option<&'static str> {
    BUILT_IN
        .iter()
        .find(|(_, id)| id.eq_ignore_ascii_case(definition_guid))
        .map(|(n, _)| *n)
}

/// The role definition GUID for `role` (a built-in name, a GUID, or a custom role name).
pub async fn definition_guid(az: &Azure, scope: &str, role: &str) -> Result<String, Failure> {
    if let Some(id) = built_in_id(role) {
        return Ok(id.to_string());
    }
    if super::session::is_guid(role) {
        return Ok(role.to_ascii_lowercase());
    }
    let path = format!(
        "{scope}/providers/Microsoft.Authorization/roleDefinitions?$filter=roleName%20eq%20'{}'",
        role.replace('\'', "''").replace(' ', "%20")
    );
    let found = az.arm.list(&path, ROLES_API).await?;
    found
        .first()
        .map(|d| text(d, "/name"))
        .filter(|n| !n.is_empty())
        .ok_or_else(|| {
            Failure::not_found(format!("no role named `{role}` exists at {scope}"))
                .with_hint("check the spelling; built-in names are e.g. `Storage Blob Data Contributor`, `Storage Blob Delegator`, `AcrPull`")
        })
}

/// Assignments of `principal_id` that apply at `scope` (including inherited ones).
pub async fn assignments(
    az: &Azure,
    scope: &str,
    principal_id: &str,
) -> Result<Vec<Json>, Failure> {
    let path = format!(
        "{scope}/providers/Microsoft.Authorization/roleAssignments?$filter=principalId%20eq%20'{principal_id}'"
    );
    let items = az.arm.list(&path, ROLES_API).await?;
    Ok(items
        .iter()
        .filter(|a| {
            // the filter returns assignments at, above and below the scope: keep those that apply here
            let s = text(a, "/properties/scope").to_ascii_lowercase();
            let here = scope.to_ascii_lowercase();
            here == s || here.starts_with(&format!("{}/", s.trim_end_matches('/'))) || s == "/"
        })
        .map(|a| {
            let def = text(a, "/properties/roleDefinitionId");
            let guid = def.rsplit('/').next().unwrap_or_default().to_string();
            json!({
                "id": text(a, "/id"),
                "role": name_of(&guid).unwrap_or(guid.as_str()),
                "role_definition_id": def,
                "scope": text(a, "/properties/scope"),
                "principal_id": text(a, "/properties/principalId"),
                "principal_type": text(a, "/properties/principalType"),
            })
        })
        .collect())
}

/// Whether `principal_id` holds `role` at `scope` (directly or inherited).
pub async fn has_role(
    az: &Azure,
    scope: &str,
    principal_id: &str,
    role: &str,
) -> Result<bool, Failure> {
    let guid = definition_guid(az, scope, role).await?;
    Ok(assignments(az, scope, principal_id).await?.iter().any(|a| {
        text(a, "/role_definition_id")
            .to_ascii_lowercase()
            .ends_with(&guid)
    }))
}

/// Makes sure `principal_id` holds `role` at `scope`.
pub async fn ensure_role(
    az: &Azure,
    scope: &str,
    principal_id: &str,
    role: &str,
) -> Result<Json, Failure> {
    let guid = definition_guid(az, scope, role).await?;
    let what = format!("role `{role}` for principal {principal_id} on {scope}");
    if has_role(az, scope, principal_id, &guid).await? {
        az.run.kept(&what, "assigned");
        return Ok(
            json!({"outcome": "kept", "role": role, "scope": scope, "principal_id": principal_id}),
        );
    }
    if !az.may_create() {
        return Err(Failure::new(ErrorKind::NotFound, format!("{what} is not assigned"))
            .with_hint(format!(
                "az role assignment create --assignee-object-id {principal_id} --assignee-principal-type ServicePrincipal --role \"{role}\" --scope {scope}   (or run again with --create-missing)"
            ))
            .with_detail("role", role.to_string())
            .with_detail("scope", scope.to_string()));
    }
    let sub = az.subscription_id().await?;
    let id = format!(
        "{scope}/providers/Microsoft.Authorization/roleAssignments/{}",
        assignment_name(scope, principal_id, &guid)
    );
    let body = json!({"properties": {
        "roleDefinitionId": format!("/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{guid}"),
        "principalId": principal_id,
        "principalType": "ServicePrincipal",
    }});
    let change =
        Change::new("assign role", scope).detail(format!("{role} to principal {principal_id}"));
    let applied = az
        .run
        .change(change, async {
            match az.arm.put(&id, ROLES_API, &body).await {
                Err(f)
                    if f.kind == ErrorKind::Conflict
                        && f.details
                            .get("code")
                            .is_some_and(|c| c.to_string() == "RoleAssignmentExists") =>
                {
                    Ok(())
                }
                Err(f) => Err(f),
                Ok(_) => Ok(()),
            }
        })
        .await?;
    Ok(
        json!({"outcome": applied.outcome("created"), "role": role, "scope": scope, "principal_id": principal_id}),
    )
}

/// A stable GUID for an assignment of `role` to `principal` at `scope`.
fn assignment_name(scope: &str, principal: &str, role: &str) -> String {
    let input = format!(
        "{}|{}|{}",
        scope.to_ascii_lowercase(),
        principal.to_ascii_lowercase(),
        role.to_ascii_lowercase()
    );
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, input.as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&d.as_ref()[..16]);
    b[6] = (b[6] & 0x0f) | 0x50; // version 5-style
    b[8] = (b[8] & 0x3f) | 0x80; // RFC 4122 variant
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}
