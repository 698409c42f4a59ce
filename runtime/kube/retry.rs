//! Retrying what is safe to retry.
//!
//! API servers under load throttle (429 with `Retry-After`), fail over (500, 503)
//! and time out (504, or a connection that stalls). A playbook should ride that out
//! instead of failing a 20-minute install on one hiccup — but only where sending
//! the request twice cannot do harm:
//!
//! - **429** is refused before the server does anything, so any request is retried,
//!   after the `Retry-After` the server asked for;
//! - **5xx and transport errors** are retried for requests whose repetition has the
//!   same effect as one: reads and watches (GET), deletes, and patches that set
//!   values (server-side apply, merge and strategic merge). A create (POST) or a JSON
//!   patch (which may append) is not repeated: its caller sees the error and decides.
//!
//! This sits in the client's tower stack, below kube-rs, so every request — typed,
//! dynamic, watches started by rollout waits — gets the same policy.
//!
//! A create is safe to repeat when its caller treats 409 AlreadyExists as success
//! (`ensure_namespace`, `ensure_secret`): those wrap it in [`idempotent`], which
//! repeats it after a server error the same way.

use std::time::Duration;

use http::{Method, Request, Response, StatusCode};
use kube::client::Body;
use tower::retry::Policy;
use tower::BoxError;

/// Attempts after the first.
const MAX_RETRIES: u32 = 6;
/// First backoff; doubled each time up to [`MAX_DELAY`].
const FIRST_DELAY: Duration = Duration::from_millis(100);
const MAX_DELAY: Duration = Duration::from_secs(4);
/// The most we wait on a server's `Retry-After`.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(30);

#[derive(Clone, Default)]
pub struct SafeRetry {
    attempts: u32,
}

impl SafeRetry {
    fn backoff(&self) -> Duration {
        let factor = 1u32 << self.attempts.min(10);
        (FIRST_DELAY * factor).min(MAX_DELAY)
    }
}

/// Whether sending `req` twice has the same effect as sending it once.
pub fn is_idempotent(req: &Request<Body>) -> bool {
    match *req.method() {
        Method::GET | Method::HEAD | Method::OPTIONS | Method::DELETE => true,
        Method::PATCH => {
            let content_type = req
                .headers()
                .get(http::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            content_type.starts_with("application/apply-patch")
                || content_type.starts_with("application/merge-patch")
                || content_type.starts_with("application/strategic-merge-patch")
        }
        _ => false,
    }
}

fn retry_after<B>(response: &Response<B>) -> Option<Duration> {
    let seconds: u64 = response
        .headers()
        .get(http::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(Duration::from_secs(seconds).min(MAX_RETRY_AFTER))
}

impl<B> Policy<Request<Body>, Response<B>, BoxError> for SafeRetry {
    type Future = tokio::time::Sleep;

    fn retry(
        &mut self,
        req: &mut Request<Body>,
        result: &mut Result<Response<B>, BoxError>,
    ) -> Option<Self::Future> {
        if self.attempts >= MAX_RETRIES {
            return None;
        }
        let delay = match result {
            Ok(response) => match response.status() {
                StatusCode::TOO_MANY_REQUESTS => {
                    retry_after(response).unwrap_or_else(|| self.backoff())
                }
                StatusCode::INTERNAL_SERVER_ERROR
                | StatusCode::BAD_GATEWAY
                | StatusCode::SERVICE_UNAVAILABLE
                | StatusCode::GATEWAY_TIMEOUT
                    if is_idempotent(req) =>
                {
                    retry_after(response).unwrap_or_else(|| self.backoff())
                }
                _ => return None,
            },
            Err(_) if is_idempotent(req) => self.backoff(),
            Err(_) => return None,
        };
        tracing::debug!(
            method = %req.method(),
            uri = %req.uri(),
            attempt = self.attempts + 1,
            ?delay,
            "retrying Kubernetes API request"
        );
        self.attempts += 1;
        Some(tokio::time::sleep(delay))
    }

    fn clone_request(&mut self, req: &Request<Body>) -> Option<Request<Body>> {
        // Streaming bodies cannot be replayed; every request kube-rs sends is a buffer.
        let body = req.body().try_clone()?;
        let mut clone = Request::builder()
            .method(req.method().clone())
            .uri(req.uri().clone())
            .version(req.version())
            .body(body)
            .ok()?;
        *clone.headers_mut() = req.headers().clone();
        *clone.extensions_mut() = req.extensions().clone();
        Some(clone)
    }
}

/// Runs `op` again after a server error or a broken connection — for an operation
/// the caller has made idempotent (a create whose 409 it takes as done).
pub async fn idempotent<T, F, Fut>(mut op: F) -> Result<T, kube::Error>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, kube::Error>>,
{
    let mut policy = SafeRetry::default();
    loop {
        match op().await {
            Err(e) if policy.attempts < MAX_RETRIES && is_transient(&e) => {
                tokio::time::sleep(policy.backoff()).await;
                policy.attempts += 1;
            }
            other => return other,
        }
    }
}

fn is_transient(error: &kube::Error) -> bool {
    match error {
        kube::Error::Api(status) => matches!(status.code, 429 | 500 | 502 | 503 | 504),
        kube::Error::HyperError(_) | kube::Error::Service(_) => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(method: Method, content_type: Option<&str>) -> Request<Body> {
        let mut b = Request::builder().method(method).uri("/api/v1/namespaces");
        if let Some(ct) = content_type {
            b = b.header(http::header::CONTENT_TYPE, ct);
        }
        b.body(Body::empty()).unwrap()
    }

    #[test]
    fn creates_and_json_patches_are_not_repeated_after_a_server_error() {
        assert!(is_idempotent(&request(Method::GET, None)));
        assert!(is_idempotent(&request(Method::DELETE, None)));
        assert!(is_idempotent(&request(
            Method::PATCH,
            Some("application/apply-patch+yaml")
        )));
        assert!(is_idempotent(&request(
            Method::PATCH,
            Some("application/merge-patch+json")
        )));
        assert!(!is_idempotent(&request(Method::POST, None)));
        assert!(!is_idempotent(&request(
            Method::PATCH,
            Some("application/json-patch+json")
        )));
    }

    #[tokio::test]
    async fn throttling_is_retried_for_any_request_after_retry_after() {
        let mut policy = SafeRetry::default();
        let mut req = request(Method::POST, None);
        let mut res: Result<Response<()>, BoxError> = Ok(Response::builder()
            .status(429)
            .header("Retry-After", "2")
            .body(())
            .unwrap());
        let sleep = policy.retry(&mut req, &mut res).expect("429 is retried");
        let wait = sleep.deadline() - tokio::time::Instant::now();
        assert!(wait > Duration::from_millis(1900), "{wait:?}");

        let mut res: Result<Response<()>, BoxError> =
            Ok(Response::builder().status(500).body(()).unwrap());
        assert!(policy.retry(&mut req, &mut res).is_none(), "POST after 500");
    }
}
