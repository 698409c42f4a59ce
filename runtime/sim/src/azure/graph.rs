//! Microsoft Graph in the rehearsal (`graph.microsoft.com`): the app registrations
//! lfrun reads for the SSO checks, `GET /v1.0/applications?$filter=appId eq '…'`.

use axum::body::Body;
use axum::http::{Request, Response, StatusCode};
use serde_json::{json, Value as Json};

use super::state::Application;
use super::{token, web};
use crate::world::SharedWorld;

fn graph_error(status: StatusCode, code: &str, message: &str) -> Response<Body> {
    web::json(
        status,
        &json!({"error": {"code": code, "message": message,
        "innerError": {"date": web::iso(web::now()), "request-id": "00000000-0000-0000-0000-000000000000"}}}),
    )
}

pub fn application_json(a: &Application) -> Json {
    json!({
        "id": a.object_id,
        "appId": a.app_id,
        "displayName": a.display_name,
        "signInAudience": a.sign_in_audience,
        "web": {"redirectUris": a.redirect_uris, "implicitGrantSettings": {"enableAccessTokenIssuance": false, "enableIdTokenIssuance": false}},
        "optionalClaims": {
            "idToken": a.id_token_claims.iter().map(|c| json!({"name": c, "source": null, "essential": false, "additionalProperties": []})).collect::<Vec<_>>(),
            "accessToken": [], "saml2Token": []
        }
    })
}

pub async fn handle(world: SharedWorld, req: Request<Body>) -> Response<Body> {
    let (parts, _) = web::body_bytes(req).await;
    let q = web::query(&parts);
    world.read(|w| {
        let s = &w.azure;
        let Some(bearer) = web::bearer(&parts) else {
            return graph_error(StatusCode::UNAUTHORIZED, "InvalidAuthenticationToken", "Access token is empty.");
        };
        let claims = match token::verify(s, &bearer) {
            Ok(c) => c,
            Err(e) => return graph_error(StatusCode::UNAUTHORIZED, "InvalidAuthenticationToken", &format!("Access token validation failure: {e}.")),
        };
        if !claims.get("aud").and_then(Json::as_str).unwrap_or_default().starts_with("https://graph.microsoft.com") {
            return graph_error(StatusCode::UNAUTHORIZED, "InvalidAuthenticationToken", "Access token validation failure. Invalid audience.");
        }
        let path = parts.uri.path().trim_end_matches('/');
        if parts.method != "GET" || path != "/v1.0/applications" {
            return graph_error(StatusCode::BAD_REQUEST, "BadRequest", &format!("The rehearsal serves GET /v1.0/applications only, not {path}."));
        }
        let filter = q.get("$filter").cloned().unwrap_or_default();
        let wanted = filter.split('\'').nth(1).unwrap_or_default().to_string();
        let items: Vec<Json> = s
            .applications
            .iter()
            .filter(|a| wanted.is_empty() || a.app_id.eq_ignore_ascii_case(&wanted))
            .map(application_json)
            .collect();
        web::json(StatusCode::OK, &json!({"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#applications", "value": items}))
    })
}
