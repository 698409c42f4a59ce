//! Small HTTP helpers shared by the Azure endpoints: reading bodies, forms and
//! queries, and writing JSON/XML answers.

use std::collections::BTreeMap;

use axum::body::Body;
use axum::http::{Request, Response, StatusCode};

/// The whole request body (capped: the rehearsal serves small documents).
pub async fn body_bytes(req: Request<Body>) -> (axum::http::request::Parts, Vec<u8>) {
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, 64 * 1024 * 1024)
        .await
        .map(|b| b.to_vec())
        .unwrap_or_default();
    (parts, bytes)
}

/// `a=1&b=2` (query or `application/x-www-form-urlencoded` body) as a map.
pub fn form(text: &str) -> BTreeMap<String, String> {
    url::form_urlencoded::parse(text.as_bytes())
        .into_owned()
        .collect()
}

pub fn query(parts: &axum::http::request::Parts) -> BTreeMap<String, String> {
    form(parts.uri.query().unwrap_or_default())
}

pub fn header(parts: &axum::http::request::Parts, name: &str) -> Option<String> {
    parts
        .headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// The bearer token of a request, if any.
pub fn bearer(parts: &axum::http::request::Parts) -> Option<String> {
    let auth = header(parts, "authorization")?;
    let (scheme, token) = auth.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_string())
}

pub fn json(status: StatusCode, value: &serde_json::Value) -> Response<Body> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json; charset=utf-8")
        .body(Body::from(value.to_string()))
        .unwrap_or_default()
}

pub fn text(status: StatusCode, content_type: &str, body: impl Into<Body>) -> Response<Body> {
    Response::builder()
        .status(status)
        .header("content-type", content_type)
        .body(body.into())
        .unwrap_or_default()
}

/// Escapes text for XML element content.
pub fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The text of the first `<tag>…</tag>` in an XML document.
pub fn xml_value(doc: &str, tag: &str) -> Option<String> {
    let open = format!("<{tag}>");
    let start = doc.find(&open)? + open.len();
    let end = doc[start..].find(&format!("</{tag}>"))? + start;
    Some(doc[start..end].trim().to_string())
}

/// Now, as RFC 1123 (`Thu, 03 Dec 2026 16:30:00 GMT`), the date format of HTTP headers.
pub fn http_date(t: jiff::Timestamp) -> String {
    t.strftime("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

pub fn now() -> jiff::Timestamp {
    jiff::Timestamp::now()
}

/// `2026-12-03T16:30:00Z`
pub fn iso(t: jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

pub fn parse_iso(s: &str) -> Option<jiff::Timestamp> {
    s.parse::<jiff::Timestamp>().ok()
}
