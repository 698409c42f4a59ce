//! The Langfuse web endpoints of the rehearsal, on the client's public host.
//!
//! The validate and doctor playbooks talk to Langfuse the way a user and an SDK do:
//! health, Azure AD sign-in, ingestion, traces, media uploads (guide §9, §10). In the
//! rehearsal nobody runs Langfuse, so this module answers for it — not from a script
//! of canned answers, but from the **deployed state in the world**, the way the real
//! application would behave given its pod spec:
//!
//! - `deployed.rs` — which web pod serves a request, and its environment as the chart
//!   rendered it (Secret references resolved);
//! - `health.rs` — `GET /api/public/health`;
//! - `sign_in.rs` — NextAuth's `/api/auth/*` with the Azure AD provider (the Entra ID
//!   side is `azure/authorize.rs`);
//! - `api_auth.rs` — the project's API keys (headless initialisation env);
//! - `blob_access.rs` — the pod's Blob buckets and its workload identity;
//! - `ingestion.rs` — `POST /api/public/ingestion` into Blob, `worker.rs` — into
//!   ClickHouse (or dropped when ClickHouse's disk is full), `traces.rs` — reading back;
//! - `media.rs` and `presign.rs` — presigned media upload and download;
//! - `state.rs` — what Langfuse's own stores hold, persisted with the world.
//!
//! In front of it all stands the ingress: when no `langfuse-web` pod is Running and
//! Ready, every request gets its `503 Service Temporarily Unavailable`.
//!
//! The host is the one in the world's Azure names (`langfuse.public_url`); `Sim::start`
//! registers it on the rehearsal's HTTPS front door (`azure::start_in_sim`), so the
//! rehearsal certificate covers it and clients resolve it to the listener.

pub mod api_auth;
pub mod blob_access;
pub mod deployed;
pub mod health;
pub mod ingestion;
pub mod media;
pub mod presign;
pub mod request;
pub mod sign_in;
pub mod state;
pub mod traces;
pub mod worker;

pub use state::LangfuseState;

use axum::body::Body;
use axum::http::{Method, Response};

use crate::front::{self, Routes};
use crate::world::SharedWorld;
use request::PublicRequest;

/// The host of a public URL (`https://langfuse.contoso.example/` → `langfuse.contoso.example`).
pub fn public_host(public_url: &str) -> String {
    let with_scheme = if public_url.contains("://") {
        public_url.to_string()
    } else {
        format!("https://{public_url}")
    };
    url::Url::parse(&with_scheme)
        .ok()
        .and_then(|u| u.host_str().map(str::to_ascii_lowercase))
        .unwrap_or_default()
}

/// Routes serving the Langfuse public host of the world's names.
pub fn routes(world: &SharedWorld) -> Routes {
    let mut routes = Routes::default();
    add_routes(world, &mut routes);
    routes
}

/// Adds the Langfuse public host to `routes`.
pub fn add_routes(world: &SharedWorld, routes: &mut Routes) {
    let host = world.read(|w| public_host(&w.azure.names.public_url));
    if host.is_empty() {
        return;
    }
    let w = world.clone();
    routes.host(&host, front::handler(move |req| handle(w.clone(), req)));
}

async fn handle(world: SharedWorld, req: axum::http::Request<Body>) -> Response<Body> {
    let req = PublicRequest::read(req).await;
    if req.method == Method::GET && req.path == "/api/public/health" {
        return world.read(|w| match deployed::serving_web_pod(w) {
            Some(pod) => health::get(&pod),
            None => request::no_healthy_upstream(),
        });
    }
    world.write(|w| {
        let Some(pod) = deployed::serving_web_pod(w) else {
            return request::no_healthy_upstream();
        };
        worker::drain(w);
        let path = req.path.trim_end_matches('/').to_string();
        if let Some(action) = path.strip_prefix("/api/auth/") {
            return sign_in::handle(w, &pod, &req, action);
        }
        if path == "/api/public/ingestion" {
            return match req.method {
                Method::POST => ingestion::handle(w, &pod, &req),
                _ => request::method_not_allowed(),
            };
        }
        if let Some(id) = path.strip_prefix("/api/public/traces/") {
            return match req.method {
                Method::GET => traces::get(w, &pod, &req, id),
                _ => request::method_not_allowed(),
            };
        }
        if path == "/api/public/media" {
            return match req.method {
                Method::POST => media::create(w, &pod, &req),
                _ => request::method_not_allowed(),
            };
        }
        if let Some(id) = path.strip_prefix("/api/public/media/") {
            return media::one(w, &pod, &req, id);
        }
        request::not_found()
    })
}
