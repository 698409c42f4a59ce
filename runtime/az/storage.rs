//! The storage account and its blob container (guide §2), through Resource Manager.
//!
//! The design forbids storage account keys (guide §1), so the account's
//! `allowSharedKeyAccess` is reported: an account that still accepts keys is a
//! finding, with the command that turns them off. The container is created through
//! Resource Manager too, which needs no key and no data-plane role.

use serde_json::{json, Value as Json};

use crate::error::Failure;
use crate::plan::Change;

use super::session::{text, Azure};

pub const STORAGE_API: &str = "2023-05-01";
const STORAGE_TYPE: &str = "Microsoft.Storage/storageAccounts";

pub async fn account_id(az: &Azure, group: &str, account: &str) -> Result<String, Failure> {
    az.resource_id(group, STORAGE_TYPE, account).await
}

pub async fn account(az: &Azure, group: &str, name: &str) -> Result<Json, Failure> {
    let id = account_id(az, group, name).await?;
    let a = az.arm.get(&id, STORAGE_API).await?;
    let kind = text(&a, "/kind");
    let sku = text(&a, "/sku/name");
    // absent means allowed: that is Azure's default
    let shared_key = a
        .pointer("/properties/allowSharedKeyAccess")
        .and_then(Json::as_bool)
        .unwrap_or(true);
    let mut findings = Vec::new();
    if kind != "StorageV2" {
        findings.push(json!({"check": "kind", "problem": format!("storage account {name} is of kind {kind}, the guide requires StorageV2"),
            "fix": format!("az storage account update -g {group} -n {name} --set kind=StorageV2 (or create a StorageV2 account)")}));
    }
    if sku != "Standard_LRS" {
        findings.push(json!({"check": "sku", "problem": format!("storage account {name} has SKU {sku}, the guide specifies Standard_LRS"),
            "fix": format!("az storage account update -g {group} -n {name} --sku Standard_LRS")}));
    }
    if shared_key {
        findings.push(json!({"check": "shared_key", "problem": format!("storage account {name} accepts shared keys; the design forbids keys (workload identity only)"),
            "fix": format!("az storage account update -g {group} -n {name} --allow-shared-key-access false")}));
    }
    Ok(json!({
        "id": id,
        "name": name,
        "kind": kind,
        "sku": sku,
        "location": text(&a, "/location"),
        "allow_shared_key_access": shared_key,
        "blob_endpoint": text(&a, "/properties/primaryEndpoints/blob"),
        "findings": findings,
    }))
}

async fn container_id(
    az: &Azure,
    group: &str,
    account: &str,
    container: &str,
) -> Result<String, Failure> {
    Ok(format!(
        "{}/blobServices/default/containers/{container}",
        account_id(az, group, account).await?
    ))
}

fn container_view(c: &Json) -> Json {
    json!({
        "id": text(c, "/id"),
        "name": text(c, "/name"),
        "public_access": text(c, "/properties/publicAccess"),
    })
}

pub async fn container(
    az: &Azure,
    group: &str,
    account: &str,
    name: &str,
) -> Result<Json, Failure> {
    let id = container_id(az, group, account, name).await?;
    Ok(container_view(&az.arm.get(&id, STORAGE_API).await?))
}

pub async fn ensure_container(
    az: &Azure,
    group: &str,
    account: &str,
    name: &str,
) -> Result<Json, Failure> {
    let id = container_id(az, group, account, name).await?;
    let current = az
        .arm
        .find(&id, STORAGE_API)
        .await?
        .map(|c| container_view(&c));
    let body = json!({"properties": {"publicAccess": "None"}});
    let change = Change::new("create blob container", &id).detail("private (no public access)");
    az.ensure(
        &format!("blob container {account}/{name}"),
        &id,
        current,
        change,
        async {
            az.arm
                .put(&id, STORAGE_API, &body)
                .await
                .map(|c| container_view(&c))
        },
    )
    .await
}
