//! Resource Manager in the rehearsal (`management.azure.com`).
//!
//! Serves the operations lfrun's `az::` primitives use, with bodies shaped like the
//! examples in the Azure REST API specifications (the fixtures in
//! `tests/fixtures/azure/` name the example each follows), the same error codes
//! (`ResourceGroupNotFound`, `ResourceNotFound`, `AuthorizationFailed`,
//! `InvalidAuthenticationToken`, `RoleAssignmentExists`), the caller's role
//! assignments enforced, and — when the scenario asks — throttling with `Retry-After`,
//! server errors, and creates that finish as long-running operations.

use axum::body::Body;
use axum::http::{Method, Request, Response, StatusCode};
use base64::Engine as _;
use serde_json::{json, Value as Json};

use super::rbac::{self, Need};
use super::state::{key, AzureState, ManagedIdentity, RoleAssignment};
use super::{token, web, AzureService};

fn arm_error(status: StatusCode, code: &str, message: &str) -> Response<Body> {
    let mut r = web::json(
        status,
        &json!({"error": {"code": code, "message": message}}),
    );
    if status == StatusCode::UNAUTHORIZED {
        r.headers_mut().insert(
            "www-authenticate",
            axum::http::HeaderValue::from_static("Bearer authorization_uri=\"https://login.microsoftonline.com/common\", error=\"invalid_token\""),
        );
    }
    r
}

fn not_found(provider_type: &str, name: &str, group: &str) -> Response<Body> {
    arm_error(
        StatusCode::NOT_FOUND,
        "ResourceNotFound",
        &format!("The Resource '{provider_type}/{name}' under resource group '{group}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix"),
    )
}

fn forbidden(principal: &str, action: &str, scope: &str) -> Response<Body> {
    arm_error(
        StatusCode::FORBIDDEN,
        "AuthorizationFailed",
        &format!("The client '{principal}' with object id '{principal}' does not have authorization to perform action '{action}' over scope '{scope}' or the scope is invalid. If access was recently granted, please refresh your credentials."),
    )
}

/// `management.azure.com`
pub async fn handle(service: AzureService, req: Request<Body>) -> Response<Body> {
    let (parts, body) = web::body_bytes(req).await;
    let path = parts.uri.path().to_string();
    if let Some(fault) = service.fault(parts.method.as_str(), &path) {
        if let Some(stall) = fault.stall {
            tokio::time::sleep(stall).await;
        }
        let status =
            StatusCode::from_u16(fault.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let code = if fault.status == 429 {
            "TooManyRequests"
        } else {
            "InternalServerError"
        };
        let mut r = arm_error(status, code, "The request was throttled or failed on the server (rehearsal fault injection). Please retry.");
        if let Some(after) = fault.retry_after {
            r.headers_mut().insert("retry-after", after.into());
        }
        return r;
    }
    let q = web::query(&parts);
    let bearer = web::bearer(&parts);
    let body: Json = serde_json::from_slice(&body).unwrap_or(Json::Null);
    let method = parts.method.clone();
    let kubeconfig = service.kubeconfig();
    service.world.write(|w| {
        let s = &mut w.azure;
        let Some(token) = bearer else {
            return arm_error(StatusCode::UNAUTHORIZED, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing.");
        };
        let claims = match token::verify(s, &token) {
            Ok(c) => c,
            Err(e) => return arm_error(StatusCode::UNAUTHORIZED, "InvalidAuthenticationToken", &format!("The access token is invalid: {e}.")),
        };
        let aud = claims.get("aud").and_then(Json::as_str).unwrap_or_default();
        if !aud.starts_with("https://management.") {
            return arm_error(StatusCode::UNAUTHORIZED, "InvalidAuthenticationToken", &format!("The access token has an invalid audience '{aud}'; Resource Manager expects https://management.azure.com/."));
        }
        let caller = claims.get("oid").and_then(Json::as_str).unwrap_or_default().to_string();
        route(s, &caller, &method, &path, &q, &body, &kubeconfig)
    })
}

fn route(
    s: &mut AzureState,
    caller: &str,
    method: &Method,
    path: &str,
    q: &std::collections::BTreeMap<String, String>,
    body: &Json,
    kubeconfig: &str,
) -> Response<Body> {
    let seg: Vec<&str> = path.trim_matches('/').split('/').collect();
    let lower: Vec<String> = seg.iter().map(|x| x.to_ascii_lowercase()).collect();
    let l: Vec<&str> = lower.iter().map(String::as_str).collect();
    if l == ["subscriptions"] {
        let visible = s.role_assignments.iter().any(|a| a.principal_id == caller);
        let items: Vec<Json> = if visible {
            vec![subscription_json(s)]
        } else {
            vec![]
        };
        return web::json(StatusCode::OK, &json!({"value": items}));
    }
    if l.len() < 2 || l[0] != "subscriptions" {
        return arm_error(
            StatusCode::NOT_FOUND,
            "InvalidResourceType",
            &format!("The rehearsal Resource Manager does not serve {path}"),
        );
    }
    if !seg[1].eq_ignore_ascii_case(&s.subscription.id) {
        return arm_error(
            StatusCode::NOT_FOUND,
            "SubscriptionNotFound",
            &format!("The subscription '{}' could not be found.", seg[1]),
        );
    }
    // role assignments / definitions at any scope: {scope}/providers/Microsoft.Authorization/…
    if let Some(at) = l
        .windows(2)
        .position(|w| w == ["providers", "microsoft.authorization"])
    {
        let scope = format!("/{}", seg[..at].join("/"));
        return authorization(
            s,
            caller,
            method,
            &scope,
            &l[at + 2..],
            &seg[at + 2..],
            q,
            body,
        );
    }
    if l.len() == 2 {
        if !rbac::allowed(
            s,
            caller,
            &format!("/subscriptions/{}", s.subscription.id),
            &Need::Read,
        ) && !s.role_assignments.iter().any(|a| a.principal_id == caller)
        {
            return forbidden(
                caller,
                "Microsoft.Resources/subscriptions/read",
                &format!("/subscriptions/{}", s.subscription.id),
            );
        }
        return web::json(StatusCode::OK, &subscription_json(s));
    }
    // LRO status: /subscriptions/{sub}/providers/Microsoft.Resources/locations/{loc}/operationStatuses/{id}
    if l.len() == 8 && l[2] == "providers" && l[6] == "operationstatuses" {
        let id = seg[7].to_string();
        let Some(op) = s.operations.get_mut(&id) else {
            return arm_error(
                StatusCode::NOT_FOUND,
                "OperationNotFound",
                &format!("Operation {id} was not found."),
            );
        };
        if op.polls_left > 0 {
            op.polls_left -= 1;
            let mut r = web::json(
                StatusCode::OK,
                &json!({"id": path, "name": id, "status": "InProgress"}),
            );
            r.headers_mut().insert("retry-after", 1.into());
            return r;
        }
        return web::json(
            StatusCode::OK,
            &json!({"id": path, "name": id, "status": "Succeeded", "startTime": web::iso(web::now()), "endTime": web::iso(web::now())}),
        );
    }
    if l[2] != "resourcegroups" || l.len() < 4 {
        return arm_error(
            StatusCode::NOT_FOUND,
            "InvalidResourceType",
            &format!("The rehearsal Resource Manager does not serve {path}"),
        );
    }
    let group = seg[3].to_string();
    let group_scope = s.group_id(&group);
    let need = if *method == Method::GET {
        Need::Read
    } else {
        Need::Write
    };
    let scope_for_check = format!("/{}", seg.join("/"));
    if !rbac::allowed(s, caller, &scope_for_check, &need) {
        let action = action_for(&l, method);
        return forbidden(caller, &action, &scope_for_check);
    }
    if l.len() == 4 {
        return resource_group(s, method, &group, body);
    }
    let Some(rg) = s.groups.get(&group.to_ascii_lowercase()).cloned() else {
        return arm_error(
            StatusCode::NOT_FOUND,
            "ResourceGroupNotFound",
            &format!("Resource group '{group}' could not be found."),
        );
    };
    let group = rg.name.clone();
    let _ = group_scope;
    if l.len() < 8 || l[4] != "providers" {
        return arm_error(
            StatusCode::NOT_FOUND,
            "InvalidResourceType",
            &format!("The rehearsal Resource Manager does not serve {path}"),
        );
    }
    let provider_type = format!("{}/{}", seg[5], seg[6]);
    let name = seg[7].to_string();
    let k = key(&group, &name);
    let rest = &l[8..];
    match (l[5], l[6], rest) {
        ("microsoft.containerservice", "managedclusters", []) if *method == Method::GET => {
            match s.clusters.get(&k) {
                Some(c) => web::json(StatusCode::OK, &cluster_json(s, c)),
                None => not_found(&provider_type, &name, &group),
            }
        }
        ("microsoft.containerservice", "managedclusters", ["listclusterusercredential"])
            if *method == Method::POST =>
        {
            match s.clusters.get(&k) {
                Some(_) => {
                    let value = base64::engine::general_purpose::STANDARD.encode(kubeconfig);
                    web::json(
                        StatusCode::OK,
                        &json!({"kubeconfigs": [{"name": "clusterUser", "value": value}]}),
                    )
                }
                None => not_found(&provider_type, &name, &group),
            }
        }
        ("microsoft.containerregistry", "registries", []) if *method == Method::GET => {
            match s.registries.get(&k) {
                Some(r) => {
                    let id = s.registry_id(r);
                    web::json(
                        StatusCode::OK,
                        &json!({
                            "id": id, "name": r.name, "type": "Microsoft.ContainerRegistry/registries", "location": r.location,
                            "tags": {}, "sku": {"name": r.sku, "tier": r.sku},
                            "properties": {"loginServer": format!("{}.azurecr.io", r.name.to_ascii_lowercase()), "creationDate": "2026-01-05T10:00:00Z",
                                "provisioningState": "Succeeded", "adminUserEnabled": r.admin_user_enabled, "publicNetworkAccess": "Enabled",
                                "anonymousPullEnabled": false, "dataEndpointEnabled": false}
                        }),
                    )
                }
                None => not_found(&provider_type, &name, &group),
            }
        }
        ("microsoft.storage", "storageaccounts", []) if *method == Method::GET => {
            match s.storage_accounts.get(&k) {
                Some(a) => web::json(
                    StatusCode::OK,
                    &json!({
                        "id": s.account_id(a), "name": a.name, "type": "Microsoft.Storage/storageAccounts", "location": a.location,
                        "kind": a.kind, "sku": {"name": a.sku, "tier": "Standard"}, "tags": {},
                        "properties": {
                            "provisioningState": "Succeeded", "allowSharedKeyAccess": a.allow_shared_key_access, "allowBlobPublicAccess": false,
                            "minimumTlsVersion": "TLS1_2", "supportsHttpsTrafficOnly": true, "accessTier": "Hot",
                            "creationTime": "2026-01-05T10:00:00.0000000Z", "statusOfPrimary": "available", "primaryLocation": a.location,
                            "primaryEndpoints": {
                                "blob": format!("https://{}.blob.core.windows.net/", a.name), "dfs": format!("https://{}.dfs.core.windows.net/", a.name),
                                "queue": format!("https://{}.queue.core.windows.net/", a.name), "table": format!("https://{}.table.core.windows.net/", a.name),
                                "file": format!("https://{}.file.core.windows.net/", a.name), "web": format!("https://{}.z6.web.core.windows.net/", a.name)
                            }
                        }
                    }),
                ),
                None => not_found(&provider_type, &name, &group),
            }
        }
        ("microsoft.storage", "storageaccounts", ["blobservices", "default", "containers", _]) => {
            let container = seg[11].to_string();
            let Some(account) = s.storage_accounts.get(&k).cloned() else {
                return not_found(&provider_type, &name, &group);
            };
            let id = format!(
                "{}/blobServices/default/containers/{container}",
                s.account_id(&account)
            );
            let render = |created: bool| {
                json!({
                    "id": id, "name": container, "type": "Microsoft.Storage/storageAccounts/blobServices/containers", "etag": "\"0x8DDREHEARSAL\"",
                    "properties": {"publicAccess": "None", "leaseStatus": "Unlocked", "leaseState": "Available", "hasImmutabilityPolicy": false,
                        "hasLegalHold": false, "deleted": false, "remainingRetentionDays": 0, "lastModifiedTime": web::iso(web::now()),
                        "defaultEncryptionScope": "$account-encryption-key", "denyEncryptionScopeOverride": false, "created": created}
                })
            };
            match *method {
                Method::GET if account.containers.contains_key(&container) => {
                    web::json(StatusCode::OK, &render(false))
                }
                Method::GET => arm_error(
                    StatusCode::NOT_FOUND,
                    "ContainerNotFound",
                    "The specified container does not exist.",
                ),
                Method::PUT => {
                    let existed = account.containers.contains_key(&container);
                    if let Some(a) = s.storage_accounts.get_mut(&k) {
                        a.containers.entry(container.clone()).or_insert_with(|| {
                            super::state::Container {
                                name: container.clone(),
                                ..Default::default()
                            }
                        });
                    }
                    web::json(
                        if existed {
                            StatusCode::OK
                        } else {
                            StatusCode::CREATED
                        },
                        &render(!existed),
                    )
                }
                _ => arm_error(
                    StatusCode::METHOD_NOT_ALLOWED,
                    "MethodNotAllowed",
                    "Method not allowed.",
                ),
            }
        }
        ("microsoft.managedidentity", "userassignedidentities", []) => {
            match (method.clone(), s.identities.get(&k).cloned()) {
                (Method::GET, Some(i)) => web::json(StatusCode::OK, &identity_json(s, &i)),
                (Method::GET, None) => not_found(&provider_type, &name, &group),
                (Method::PUT, existing) => {
                    let created = existing.is_none();
                    let i = match existing {
                        Some(i) => i,
                        None => {
                            let client_id = s.new_guid(0x1d);
                            let principal_id = s.new_guid(0x1e);
                            ManagedIdentity {
                                group: group.clone(),
                                name: name.clone(),
                                location: body
                                    .get("location")
                                    .and_then(Json::as_str)
                                    .unwrap_or(&rg.location)
                                    .to_string(),
                                client_id,
                                principal_id,
                                federated: vec![],
                            }
                        }
                    };
                    s.identities.insert(k.clone(), i.clone());
                    let rendered = identity_json(s, &i);
                    if created {
                        created_answer(s, &rendered, &i.location)
                    } else {
                        web::json(StatusCode::OK, &rendered)
                    }
                }
                _ => arm_error(
                    StatusCode::METHOD_NOT_ALLOWED,
                    "MethodNotAllowed",
                    "Method not allowed.",
                ),
            }
        }
        (
            "microsoft.managedidentity",
            "userassignedidentities",
            ["federatedidentitycredentials", ..],
        ) => {
            let Some(identity) = s.identities.get(&k).cloned() else {
                return not_found(&provider_type, &name, &group);
            };
            let base = format!("{}/federatedIdentityCredentials", s.identity_id(&identity));
            let render = |f: &super::state::FederatedCredential| {
                json!({
                    "id": format!("{base}/{}", f.name), "name": f.name,
                    "type": "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials",
                    "properties": {"issuer": f.issuer, "subject": f.subject, "audiences": f.audiences}
                })
            };
            match (method.clone(), rest.len()) {
                (Method::GET, 1) => web::json(StatusCode::OK, &json!({"value": identity.federated.iter().map(render).collect::<Vec<_>>()})),
                (Method::GET, 2) => match identity.federated.iter().find(|f| f.name.eq_ignore_ascii_case(seg[9])) {
                    Some(f) => web::json(StatusCode::OK, &render(f)),
                    None => not_found("Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials", &format!("{name}/{}", seg[9]), &group),
                },
                (Method::PUT, 2) => {
                    let f = super::state::FederatedCredential {
                        name: seg[9].to_string(),
                        issuer: body.pointer("/properties/issuer").and_then(Json::as_str).unwrap_or_default().to_string(),
                        subject: body.pointer("/properties/subject").and_then(Json::as_str).unwrap_or_default().to_string(),
                        audiences: body.pointer("/properties/audiences").and_then(Json::as_array)
                            .map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect()).unwrap_or_default(),
                    };
                    if f.issuer.is_empty() || !f.issuer.starts_with("https://") {
                        return arm_error(StatusCode::BAD_REQUEST, "BadRequest", "The issuer must be an https URL.");
                    }
                    let existed = identity.federated.iter().any(|x| x.name.eq_ignore_ascii_case(&f.name));
                    if let Some(i) = s.identities.get_mut(&k) {
                        i.federated.retain(|x| !x.name.eq_ignore_ascii_case(&f.name));
                        i.federated.push(f.clone());
                    }
                    web::json(if existed { StatusCode::OK } else { StatusCode::CREATED }, &render(&f))
                }
                _ => arm_error(StatusCode::METHOD_NOT_ALLOWED, "MethodNotAllowed", "Method not allowed."),
            }
        }
        _ => {
            if *method == Method::GET {
                not_found(&provider_type, &name, &group)
            } else {
                arm_error(
                    StatusCode::BAD_REQUEST,
                    "InvalidResourceType",
                    &format!("The rehearsal does not create {provider_type} resources ({path})"),
                )
            }
        }
    }
}

/// The RBAC action a request needs, for AuthorizationFailed messages.
fn action_for(l: &[&str], method: &Method) -> String {
    let verb = if *method == Method::GET {
        "read"
    } else if *method == Method::POST {
        "action"
    } else {
        "write"
    };
    if l.len() >= 8 {
        let mut t = format!("{}/{}", l[5], l[6]);
        for (i, part) in l[8..].iter().enumerate() {
            if i % 2 == 0 && *part != "default" {
                t.push('/');
                t.push_str(part);
            }
        }
        let t = t
            .replace("microsoft.containerservice", "Microsoft.ContainerService")
            .replace("microsoft.storage", "Microsoft.Storage")
            .replace("microsoft.managedidentity", "Microsoft.ManagedIdentity")
            .replace("microsoft.containerregistry", "Microsoft.ContainerRegistry");
        if verb == "action" {
            t
        } else {
            format!("{t}/{verb}")
        }
    } else {
        format!("Microsoft.Resources/subscriptions/resourceGroups/{verb}")
    }
}

fn subscription_json(s: &AzureState) -> Json {
    json!({
        "id": format!("/subscriptions/{}", s.subscription.id),
        "subscriptionId": s.subscription.id,
        "tenantId": s.tenant_id,
        "displayName": s.subscription.name,
        "state": s.subscription.state,
        "authorizationSource": "RoleBased",
        "subscriptionPolicies": {"locationPlacementId": "Public_2014-09-01", "quotaId": "EnterpriseAgreement_2014-09-01", "spendingLimit": "Off"}
    })
}

fn resource_group(s: &mut AzureState, method: &Method, group: &str, body: &Json) -> Response<Body> {
    let render = |s: &AzureState, name: &str, location: &str| {
        json!({
            "id": s.group_id(name), "name": name, "type": "Microsoft.Resources/resourceGroups", "location": location,
            "properties": {"provisioningState": "Succeeded"}
        })
    };
    match (
        method.clone(),
        s.groups.get(&group.to_ascii_lowercase()).cloned(),
    ) {
        (Method::GET, Some(g)) => web::json(StatusCode::OK, &render(s, &g.name, &g.location)),
        (Method::GET, None) => arm_error(
            StatusCode::NOT_FOUND,
            "ResourceGroupNotFound",
            &format!("Resource group '{group}' could not be found."),
        ),
        (Method::PUT, existing) => {
            let location = body
                .get("location")
                .and_then(Json::as_str)
                .unwrap_or_default()
                .to_string();
            if existing.is_none() && location.is_empty() {
                return arm_error(
                    StatusCode::BAD_REQUEST,
                    "LocationRequired",
                    "The location property is required for this definition.",
                );
            }
            let g = existing.clone().unwrap_or(super::state::ResourceGroup {
                name: group.to_string(),
                location,
            });
            s.groups.insert(group.to_ascii_lowercase(), g.clone());
            web::json(
                if existing.is_some() {
                    StatusCode::OK
                } else {
                    StatusCode::CREATED
                },
                &render(s, &g.name, &g.location),
            )
        }
        _ => arm_error(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            "Method not allowed.",
        ),
    }
}

fn cluster_json(s: &AzureState, c: &super::state::Cluster) -> Json {
    let id = s.cluster_id(c);
    let mut oidc = json!({"enabled": c.oidc_issuer_enabled});
    if c.oidc_issuer_enabled {
        oidc["issuerURL"] = json!(c.oidc_issuer_url);
    }
    json!({
        "id": id, "location": c.location, "name": c.name, "type": "Microsoft.ContainerService/ManagedClusters", "tags": {},
        "identity": {"type": "SystemAssigned", "principalId": "00000000-0000-0000-0000-00000000a4c5", "tenantId": s.tenant_id},
        "sku": {"name": "Base", "tier": "Standard"},
        "properties": {
            "provisioningState": "Succeeded", "powerState": {"code": "Running"},
            "kubernetesVersion": c.kubernetes_version, "currentKubernetesVersion": c.kubernetes_version,
            "dnsPrefix": c.name, "fqdn": format!("{}-dns-rehearsal.hcp.{}.azmk8s.io", c.name, c.location),
            "agentPoolProfiles": [{"name": "nodepool1", "count": c.node_count, "vmSize": c.node_size, "maxPods": 110, "osType": "Linux",
                "mode": "System", "provisioningState": "Succeeded", "orchestratorVersion": c.kubernetes_version,
                "currentOrchestratorVersion": c.kubernetes_version}],
            "nodeResourceGroup": format!("MC_{}_{}_{}", c.group, c.name, c.location),
            "enableRBAC": true,
            "networkProfile": {"networkPlugin": "azure", "serviceCidr": "10.0.0.0/16", "dnsServiceIP": "10.0.0.10", "loadBalancerSku": "standard", "outboundType": "loadBalancer"},
            "identityProfile": {"kubeletidentity": {"resourceId": c.kubelet.resource_id, "clientId": c.kubelet.client_id, "objectId": c.kubelet.object_id}},
            "oidcIssuerProfile": oidc,
            "securityProfile": {"workloadIdentity": {"enabled": c.workload_identity_enabled}}
        }
    })
}

fn identity_json(s: &AzureState, i: &ManagedIdentity) -> Json {
    json!({
        "id": s.identity_id(i), "name": i.name, "type": "Microsoft.ManagedIdentity/userAssignedIdentities", "location": i.location, "tags": {},
        "properties": {"tenantId": s.tenant_id, "principalId": i.principal_id, "clientId": i.client_id}
    })
}

/// A create: done at once, or (slow provisioning) accepted as a long-running operation.
fn created_answer(s: &mut AzureState, rendered: &Json, location: &str) -> Response<Body> {
    if s.slow_provisioning == 0 {
        return web::json(StatusCode::CREATED, rendered);
    }
    let op = s.new_guid(0x0b);
    s.operations.insert(
        op.clone(),
        super::state::Operation {
            resource_id: rendered
                .get("id")
                .and_then(Json::as_str)
                .unwrap_or_default()
                .to_string(),
            polls_left: s.slow_provisioning,
        },
    );
    let url = format!("https://management.azure.com/subscriptions/{}/providers/Microsoft.Resources/locations/{location}/operationStatuses/{op}?api-version=2023-01-31", s.subscription.id);
    let mut body = rendered.clone();
    body["properties"]["provisioningState"] = json!("Creating");
    let mut r = web::json(StatusCode::CREATED, &body);
    if let Ok(v) = axum::http::HeaderValue::from_str(&url) {
        r.headers_mut().insert("azure-asyncoperation", v);
    }
    r.headers_mut().insert("retry-after", 1.into());
    r
}

#[allow(clippy::too_many_arguments)]
fn authorization(
    s: &mut AzureState,
    caller: &str,
    method: &Method,
    scope: &str,
    l: &[&str],
    seg: &[&str],
    q: &std::collections::BTreeMap<String, String>,
    body: &Json,
) -> Response<Body> {
    let filter = q.get("$filter").cloned().unwrap_or_default();
    let quoted = filter.split('\'').nth(1).unwrap_or_default().to_string();
    match (method.clone(), l) {
        (Method::GET, ["roledefinitions"]) => {
            let items: Vec<Json> = rbac::ROLES
                .iter()
                .filter(|(n, _)| quoted.is_empty() || n.eq_ignore_ascii_case(&quoted))
                .map(|(n, id)| role_definition_json(&s.subscription.id, n, id))
                .collect();
            web::json(StatusCode::OK, &json!({"value": items}))
        }
        (Method::GET, ["roledefinitions", _]) => match rbac::ROLES
            .iter()
            .find(|(_, id)| id.eq_ignore_ascii_case(seg[1]))
        {
            Some((n, id)) => web::json(
                StatusCode::OK,
                &role_definition_json(&s.subscription.id, n, id),
            ),
            None => arm_error(
                StatusCode::NOT_FOUND,
                "RoleDefinitionDoesNotExist",
                "The specified role definition with ID does not exist.",
            ),
        },
        (Method::GET, ["roleassignments"]) => {
            if !rbac::allowed(s, caller, scope, &Need::Read) {
                return forbidden(
                    caller,
                    "Microsoft.Authorization/roleAssignments/read",
                    scope,
                );
            }
            let items: Vec<Json> = s
                .role_assignments
                .iter()
                .filter(|a| quoted.is_empty() || a.principal_id.eq_ignore_ascii_case(&quoted))
                .filter(|a| rbac::within(scope, &a.scope) || rbac::within(&a.scope, scope))
                .map(|a| assignment_json(&s.subscription.id, a))
                .collect();
            web::json(StatusCode::OK, &json!({"value": items}))
        }
        (Method::PUT, ["roleassignments", _]) => {
            if !rbac::allowed(s, caller, scope, &Need::AssignRoles) {
                return forbidden(
                    caller,
                    "Microsoft.Authorization/roleAssignments/write",
                    scope,
                );
            }
            let def = body
                .pointer("/properties/roleDefinitionId")
                .and_then(Json::as_str)
                .unwrap_or_default();
            let role = def
                .rsplit('/')
                .next()
                .unwrap_or_default()
                .to_ascii_lowercase();
            let principal = body
                .pointer("/properties/principalId")
                .and_then(Json::as_str)
                .unwrap_or_default()
                .to_string();
            if rbac::role_name(&role) == role {
                return arm_error(
                    StatusCode::BAD_REQUEST,
                    "RoleDefinitionDoesNotExist",
                    &format!("The specified role definition with ID '{role}' does not exist."),
                );
            }
            if s.role_assignments.iter().any(|a| {
                a.scope.eq_ignore_ascii_case(scope)
                    && a.role == role
                    && a.principal_id.eq_ignore_ascii_case(&principal)
            }) {
                return arm_error(
                    StatusCode::CONFLICT,
                    "RoleAssignmentExists",
                    "The role assignment already exists.",
                );
            }
            let a = RoleAssignment {
                name: seg[1].to_string(),
                scope: scope.to_string(),
                role,
                principal_id: principal,
                principal_type: body
                    .pointer("/properties/principalType")
                    .and_then(Json::as_str)
                    .unwrap_or("ServicePrincipal")
                    .to_string(),
            };
            s.role_assignments.push(a.clone());
            web::json(
                StatusCode::CREATED,
                &assignment_json(&s.subscription.id, &a),
            )
        }
        _ => arm_error(
            StatusCode::NOT_FOUND,
            "InvalidResourceType",
            "The rehearsal serves roleAssignments and roleDefinitions only.",
        ),
    }
}

fn role_definition_json(sub: &str, name: &str, id: &str) -> Json {
    json!({
        "id": format!("/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{id}"),
        "name": id, "type": "Microsoft.Authorization/roleDefinitions",
        "properties": {"roleName": name, "type": "BuiltInRole", "description": name, "assignableScopes": ["/"], "permissions": []}
    })
}

fn assignment_json(sub: &str, a: &RoleAssignment) -> Json {
    json!({
        "id": format!("{}/providers/Microsoft.Authorization/roleAssignments/{}", a.scope, a.name),
        "name": a.name, "type": "Microsoft.Authorization/roleAssignments",
        "properties": {
            "roleDefinitionId": format!("/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{}", a.role),
            "principalId": a.principal_id, "principalType": a.principal_type, "scope": a.scope
        }
    })
}
