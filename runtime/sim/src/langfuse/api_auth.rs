//! Public API keys: HTTP Basic `public key : secret key`, as Langfuse's `ApiAuthService`
//! checks them.
//!
//! A fresh installation has no organisation, project or keys; an operator creates
//! them in the UI — or, headless, through the web container's environment:
//! `LANGFUSE_INIT_ORG_ID`, `LANGFUSE_INIT_PROJECT_ID`,
//! `LANGFUSE_INIT_PROJECT_PUBLIC_KEY` and `LANGFUSE_INIT_PROJECT_SECRET_KEY` (the
//! values builder sets them, the keys through a Secret). Those are the only keys the
//! rehearsal knows, so they are read from the serving pod's resolved environment.
//!
//! Failures carry Langfuse's messages: `No authorization header`, or
//! `Invalid credentials. Confirm that you've configured the correct host.` for a key
//! pair that does not exist. `Bearer <public key>` authenticates with the `scores`
//! access level only (it may send scores, nothing else).

use axum::body::Body;
use axum::http::{Response, StatusCode};
use base64::Engine as _;
use serde_json::json;

use super::deployed::WebPod;
use super::request::{self, PublicRequest};

/// Which project a key belongs to, and what it may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    pub org_id: String,
    pub project_id: String,
    pub access: Access,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Basic auth with both keys: everything in the project.
    Project,
    /// Bearer with the public key: scores only.
    Scores,
}

/// The key pair the deployment initialised, with its project.
struct InitKeys {
    org_id: String,
    project_id: String,
    public_key: String,
    secret_key: String,
}

fn init_keys(pod: &WebPod) -> Option<InitKeys> {
    Some(InitKeys {
        org_id: pod.env("LANGFUSE_INIT_ORG_ID")?.to_string(),
        project_id: pod.env("LANGFUSE_INIT_PROJECT_ID")?.to_string(),
        public_key: pod.env("LANGFUSE_INIT_PROJECT_PUBLIC_KEY")?.to_string(),
        secret_key: pod.env("LANGFUSE_INIT_PROJECT_SECRET_KEY")?.to_string(),
    })
}

const HOST_HINT: &str = ". Confirm that you've configured the correct host.";

/// The request's scope, or the message of Langfuse's 401.
pub fn verify(pod: &WebPod, req: &PublicRequest) -> Result<Scope, String> {
    let Some(header) = req.header("authorization") else {
        return Err("No authorization header".into());
    };
    let keys = init_keys(pod);
    if let Some(encoded) = header.strip_prefix("Basic ") {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .ok()
            .map(|b| String::from_utf8_lossy(&b).to_string())
            .unwrap_or_default();
        let (public, secret) = decoded.split_once(':').unwrap_or((decoded.as_str(), ""));
        if public.is_empty() || secret.is_empty() {
            return Err(format!("Invalid authorization header{HOST_HINT}"));
        }
        return match keys {
            Some(k) if k.public_key == public && k.secret_key == secret => Ok(Scope {
                org_id: k.org_id,
                project_id: k.project_id,
                access: Access::Project,
            }),
            _ => Err(format!("Invalid credentials{HOST_HINT}")),
        };
    }
    if let Some(public) = header.strip_prefix("Bearer ") {
        return match keys {
            Some(k) if k.public_key == public.trim() => Ok(Scope {
                org_id: k.org_id,
                project_id: k.project_id,
                access: Access::Scores,
            }),
            _ => Err(format!("Invalid public key{HOST_HINT}")),
        };
    }
    Err("Invalid authorization header".into())
}

/// The scope of a request that needs the project's full access (`createAuthedAPIRoute`):
/// Err is the answer — 401 `{message}` for bad credentials, 403 for a scores-only key
/// (`denied` says what was refused).
pub fn require_project(
    pod: &WebPod,
    req: &PublicRequest,
    denied: &str,
) -> Result<Scope, Box<Response<Body>>> {
    match verify(pod, req) {
        Ok(s) if s.access == Access::Project => Ok(s),
        Ok(_) => Err(Box::new(request::api_error(
            StatusCode::FORBIDDEN,
            "ForbiddenError",
            denied,
        ))),
        Err(message) => Err(Box::new(request::json(
            StatusCode::UNAUTHORIZED,
            &json!({"message": message}),
        ))),
    }
}
