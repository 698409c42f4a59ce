//! Who we are, which subscription, which resource group (guide §0, §2).

use serde_json::{json, Value as Json};

use crate::error::Failure;
use crate::plan::Change;

use super::credential::claims;
use super::session::{text, Azure, SUBSCRIPTIONS_API};

pub const GROUPS_API: &str = "2021-04-01";

/// Tenant, subscription and principal of the credential in use.
pub async fn whoami(az: &Azure) -> Result<Json, Failure> {
    let token = az.credential.token(&az.endpoints.arm_scope()).await?;
    let c = claims(&token)?;
    let claim = |names: &[&str]| {
        names
            .iter()
            .find_map(|n| c.get(*n).and_then(Json::as_str))
            .unwrap_or_default()
            .to_string()
    };
    let principal_type = match claim(&["idtyp"]).as_str() {
        "app" => "ServicePrincipal",
        "user" => "User",
        _ if !claim(&["upn", "unique_name"]).is_empty() => "User",
        _ => "ServicePrincipal",
    };
    Ok(json!({
        "tenant_id": claim(&["tid"]),
        "subscription_id": az.subscription_id().await?,
        "principal_id": claim(&["oid"]),
        "principal_name": claim(&["upn", "unique_name", "name", "appid", "azp"]),
        "app_id": claim(&["appid", "azp"]),
        "principal_type": principal_type,
        "credential": az.credential.describe,
    }))
}

/// The configured subscription: id, name, state, tenant.
pub async fn subscription(az: &Azure) -> Result<Json, Failure> {
    let id = format!("/subscriptions/{}", az.subscription_id().await?);
    let s = az.arm.get(&id, SUBSCRIPTIONS_API).await?;
    let state = text(&s, "/state");
    if !state.is_empty() && state != "Enabled" {
        az.run.reporter.warn(format!(
            "subscription {id} is {state}: changes will fail until it is Enabled"
        ));
    }
    Ok(json!({
        "id": text(&s, "/subscriptionId"),
        "name": text(&s, "/displayName"),
        "state": state,
        "tenant_id": text(&s, "/tenantId"),
    }))
}

fn group_view(g: &Json) -> Json {
    json!({
        "id": text(g, "/id"),
        "name": text(g, "/name"),
        "location": text(g, "/location"),
        "provisioning_state": text(g, "/properties/provisioningState"),
    })
}

pub async fn resource_group(az: &Azure, name: &str) -> Result<Json, Failure> {
    let id = az.group_id(name).await?;
    Ok(group_view(&az.arm.get(&id, GROUPS_API).await?))
}

pub async fn ensure_resource_group(az: &Azure, name: &str) -> Result<Json, Failure> {
    let id = az.group_id(name).await?;
    let current = az.arm.find(&id, GROUPS_API).await?.map(|g| group_view(&g));
    let location = if current.is_none() {
        az.location()?
    } else {
        String::new()
    };
    let body = json!({"location": location});
    let change = Change::new("create resource group", &id).detail(format!("location {location}"));
    let out = az
        .ensure(
            &format!("resource group {name}"),
            &id,
            current,
            change,
            async {
                az.arm
                    .put(&id, GROUPS_API, &body)
                    .await
                    .map(|g| group_view(&g))
            },
        )
        .await?;
    Ok(out)
}
