//! A request to the Langfuse public host, read once, and the answers the handlers share.

use std::collections::BTreeMap;

use axum::body::Body;
use axum::http::{HeaderMap, Method, Response, StatusCode};
use serde_json::Value as Json;

use crate::azure::web;

/// What a handler needs of a request.
#[derive(Debug, Clone)]
pub struct PublicRequest {
    pub method: Method,
    pub path: String,
    pub query: BTreeMap<String, String>,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    /// The `Host` the client asked for (without a port).
    pub host: String,
}

impl PublicRequest {
    pub async fn read(req: axum::http::Request<Body>) -> PublicRequest {
        let (parts, body) = web::body_bytes(req).await;
        let host = web::header(&parts, "host")
            .map(|h| h.rsplit_once(':').map(|(n, _)| n.to_string()).unwrap_or(h))
            .unwrap_or_default()
            .to_ascii_lowercase();
        PublicRequest {
            query: web::query(&parts),
            method: parts.method,
            path: parts.uri.path().to_string(),
            headers: parts.headers,
            body,
            host,
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// A cookie the client sent (`Cookie: a=1; b=2`), percent-decoded.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all("cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(k, _)| *k == name)
            .map(|(_, v)| {
                url::form_urlencoded::parse(format!("v={v}").as_bytes())
                    .next()
                    .map(|(_, v)| v.into_owned())
                    .unwrap_or_default()
            })
    }

    /// The body as an `application/x-www-form-urlencoded` form.
    pub fn form(&self) -> BTreeMap<String, String> {
        web::form(&String::from_utf8_lossy(&self.body))
    }

    /// The body as JSON (None when it is not).
    pub fn json(&self) -> Option<Json> {
        serde_json::from_slice(&self.body).ok()
    }
}

pub fn json(status: StatusCode, value: &Json) -> Response<Body> {
    web::json(status, value)
}

/// A response without a body.
pub fn empty(status: StatusCode) -> Response<Body> {
    web::text(status, "text/plain", "")
}

/// What the ingress answers when no web pod is ready: no healthy upstream.
pub fn no_healthy_upstream() -> Response<Body> {
    web::text(
        StatusCode::SERVICE_UNAVAILABLE,
        "text/html",
        "<html>\r\n<head><title>503 Service Temporarily Unavailable</title></head>\r\n<body>\r\n<center><h1>503 Service Temporarily Unavailable</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n",
    )
}

/// Next.js's answer for a path Langfuse does not serve.
pub fn not_found() -> Response<Body> {
    web::text(
        StatusCode::NOT_FOUND,
        "text/html; charset=utf-8",
        "<!DOCTYPE html><html><head><title>404: This page could not be found</title></head><body><h1>404</h1><h2>This page could not be found.</h2></body></html>",
    )
}

/// Langfuse's public API errors (`withMiddlewares`): `{message, error}` with the error class.
pub fn api_error(status: StatusCode, error: &str, message: &str) -> Response<Body> {
    json(
        status,
        &serde_json::json!({"message": message, "error": error}),
    )
}

pub fn method_not_allowed() -> Response<Body> {
    api_error(
        StatusCode::METHOD_NOT_ALLOWED,
        "MethodNotAllowedError",
        "Method not allowed",
    )
}

/// A redirect (`302 Found`) with cookies to set.
pub fn redirect(location: &str, cookies: &[String]) -> Response<Body> {
    let mut builder = Response::builder()
        .status(StatusCode::FOUND)
        .header("location", location);
    for c in cookies {
        builder = builder.header("set-cookie", c);
    }
    builder.body(Body::empty()).unwrap_or_default()
}

/// Adds `Set-Cookie` headers to a response.
pub fn with_cookies(mut response: Response<Body>, cookies: &[String]) -> Response<Body> {
    for c in cookies {
        if let Ok(v) = axum::http::HeaderValue::from_str(c) {
            response.headers_mut().append("set-cookie", v);
        }
    }
    response
}
