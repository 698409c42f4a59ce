//! Resource Manager over HTTPS: typed-enough requests, retries, long-running
//! operations, and errors that name the resource and what to do.
//!
//! Three behaviours every Azure automation needs and that are easy to get wrong:
//!
//! - **Retries.** 429 and 5xx answers (and connection failures) are retried, waiting
//!   what the `Retry-After` header says, or an exponential backoff without one. Only
//!   requests that are safe to repeat come here (GET, PUT of a whole resource, the
//!   POST actions we use are read-only), so a retry never doubles a change.
//! - **Long-running operations.** A PUT answered with 201/202 is not done: we poll
//!   `Azure-AsyncOperation` (or `Location`) until the operation succeeds or fails,
//!   then read the resource, as the Azure SDKs do.
//! - **Errors.** ARM's `{"error": {"code", "message"}}` body becomes a [`Failure`] of
//!   the right kind (404 → `not_found`, 403 → `forbidden`, 409 → `conflict`, 400 →
//!   `invalid`) carrying the resource ID and the error code, with a hint.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value as Json;

use crate::error::{ErrorKind, Failure};

use super::credential::Credential;

/// Attempts per request (the first try plus retries).
const ATTEMPTS: u32 = 6;
/// The longest we wait between two attempts, whatever `Retry-After` says.
const MAX_WAIT: Duration = Duration::from_secs(30);
/// How long a long-running operation may take before we give up.
const LRO_TIMEOUT: Duration = Duration::from_secs(30 * 60);
/// Poll interval when the service gives none.
const DEFAULT_POLL: Duration = Duration::from_secs(5);

/// A Resource Manager client for one run.
#[derive(Debug, Clone)]
pub struct Arm {
    http: reqwest::Client,
    /// `https://management.azure.com`
    base: String,
    scope: String,
    credential: Arc<Credential>,
}

/// One HTTP answer, read whole.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Answer {
    fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    }

    /// The body as JSON; an empty body is `null`; anything else is a malformed answer.
    pub fn json(&self, what: &str) -> Result<Json, Failure> {
        if self.body.trim().is_empty() {
            return Ok(Json::Null);
        }
        serde_json::from_str(&self.body).map_err(|e| {
            Failure::new(
                ErrorKind::Unavailable,
                format!("malformed response from Resource Manager for {what}: {e}"),
            )
            .with_hint("try again; if it persists, a proxy may be rewriting responses (check network settings)")
        })
    }
}

impl Arm {
    pub fn new(http: reqwest::Client, base: &str, credential: Arc<Credential>) -> Arm {
        Arm {
            http,
            base: base.trim_end_matches('/').to_string(),
            scope: format!("{}/.default", base.trim_end_matches('/')),
            credential,
        }
    }

    fn url(&self, path: &str, api_version: &str) -> String {
        let sep = if path.contains('?') { '&' } else { '?' };
        if path.starts_with("https://") {
            path.to_string()
        } else {
            format!("{}{path}{sep}api-version={api_version}", self.base)
        }
    }

    /// GET a resource; 404 is `not_found`.
    pub async fn get(&self, id: &str, api_version: &str) -> Result<Json, Failure> {
        let answer = self
            .send(reqwest::Method::GET, &self.url(id, api_version), None, id)
            .await?;
        check(&answer, id)?;
        answer.json(id)
    }

    /// GET a resource; `None` when it does not exist.
    pub async fn find(&self, id: &str, api_version: &str) -> Result<Option<Json>, Failure> {
        match self.get(id, api_version).await {
            Ok(v) => Ok(Some(v)),
            Err(f) if f.kind == ErrorKind::NotFound && !parent_missing(&f, id) => Ok(None),
            Err(f) => Err(f),
        }
    }

    /// GET a collection, following `nextLink`; returns the items of `value`.
    pub async fn list(&self, path: &str, api_version: &str) -> Result<Vec<Json>, Failure> {
        let mut url = self.url(path, api_version);
        let mut items = Vec::new();
        loop {
            let answer = self.send(reqwest::Method::GET, &url, None, path).await?;
            check(&answer, path)?;
            let page = answer.json(path)?;
            if let Some(values) = page.get("value").and_then(Json::as_array) {
                items.extend(values.iter().cloned());
            }
            match page.get("nextLink").and_then(Json::as_str) {
                Some(next) if !next.is_empty() => url = next.to_string(),
                _ => return Ok(items),
            }
        }
    }

    /// PUT a resource and wait for the operation to finish; returns the resource.
    pub async fn put(&self, id: &str, api_version: &str, body: &Json) -> Result<Json, Failure> {
        let url = self.url(id, api_version);
        let answer = self
            .send(reqwest::Method::PUT, &url, Some(body), id)
            .await?;
        check(&answer, id)?;
        self.finish(answer, id, Some(&url)).await
    }

    /// POST an action (e.g. `listClusterUserCredential`) and return its result.
    pub async fn post(
        &self,
        path: &str,
        api_version: &str,
        body: Option<&Json>,
    ) -> Result<Json, Failure> {
        let answer = self
            .send(
                reqwest::Method::POST,
                &self.url(path, api_version),
                body.or(Some(&Json::Null)),
                path,
            )
            .await?;
        check(&answer, path)?;
        self.finish(answer, path, None).await
    }

    /// Waits for a long-running operation started by `answer`, then returns the
    /// resource (re-read from `resource_url` when there is one) or the final body.
    async fn finish(
        &self,
        answer: Answer,
        what: &str,
        resource_url: Option<&str>,
    ) -> Result<Json, Failure> {
        let async_op = answer.header("azure-asyncoperation");
        let location = answer.header("location");
        let body = answer.json(what)?;
        if let Some(op) = async_op {
            self.poll_status(&op, what, retry_after(&answer.headers))
                .await?;
            return match resource_url {
                Some(url) => {
                    let done = self.send(reqwest::Method::GET, url, None, what).await?;
                    check(&done, what)?;
                    done.json(what)
                }
                None => Ok(body),
            };
        }
        if answer.status == 202 {
            if let Some(loc) = location {
                return self
                    .poll_location(&loc, what, retry_after(&answer.headers))
                    .await;
            }
        }
        // a PUT that came back 200/201 while still provisioning: poll the resource
        if let (Some(url), Some(state)) = (resource_url, provisioning_state(&body)) {
            if !is_terminal(&state) {
                return self.poll_resource(url, what).await;
            }
        }
        Ok(body)
    }

    async fn poll_status(
        &self,
        url: &str,
        what: &str,
        first_wait: Option<Duration>,
    ) -> Result<(), Failure> {
        let deadline = tokio::time::Instant::now() + LRO_TIMEOUT;
        let mut wait = first_wait.unwrap_or(DEFAULT_POLL);
        loop {
            tokio::time::sleep(wait.min(MAX_WAIT)).await;
            let answer = self.send(reqwest::Method::GET, url, None, what).await?;
            check(&answer, what)?;
            let status = answer.json(what)?;
            let state = status
                .get("status")
                .and_then(Json::as_str)
                .unwrap_or("InProgress");
            tracing::debug!(status = state, "long-running operation on {what}");
            match state.to_ascii_lowercase().as_str() {
                "succeeded" => return Ok(()),
                "failed" | "canceled" | "cancelled" => {
                    let (code, message) = error_parts(&status);
                    return Err(Failure::new(
                        ErrorKind::Unavailable,
                        format!("the operation on {what} ended {state}: {code}: {message}"),
                    )
                    .with_detail("resource_id", what.to_string())
                    .with_detail("code", code));
                }
                _ => {}
            }
            if tokio::time::Instant::now() > deadline {
                return Err(Failure::timeout(format!("the operation on {what} did not finish within {} minutes", LRO_TIMEOUT.as_secs() / 60))
                    .with_hint("look at the resource's activity log in the portal; run again to pick up where it is"));
            }
            wait = retry_after(&answer.headers).unwrap_or(DEFAULT_POLL);
        }
    }

    async fn poll_location(
        &self,
        url: &str,
        what: &str,
        first_wait: Option<Duration>,
    ) -> Result<Json, Failure> {
        let deadline = tokio::time::Instant::now() + LRO_TIMEOUT;
        let mut wait = first_wait.unwrap_or(DEFAULT_POLL);
        loop {
            tokio::time::sleep(wait.min(MAX_WAIT)).await;
            let answer = self.send(reqwest::Method::GET, url, None, what).await?;
            check(&answer, what)?;
            if answer.status != 202 {
                return answer.json(what);
            }
            if tokio::time::Instant::now() > deadline {
                return Err(Failure::timeout(format!(
                    "the operation on {what} did not finish in time"
                )));
            }
            wait = retry_after(&answer.headers).unwrap_or(DEFAULT_POLL);
        }
    }

    async fn poll_resource(&self, url: &str, what: &str) -> Result<Json, Failure> {
        let deadline = tokio::time::Instant::now() + LRO_TIMEOUT;
        loop {
            let answer = self.send(reqwest::Method::GET, url, None, what).await?;
            check(&answer, what)?;
            let body = answer.json(what)?;
            match provisioning_state(&body) {
                Some(s) if !is_terminal(&s) => {}
                Some(s) if s.eq_ignore_ascii_case("succeeded") => return Ok(body),
                Some(s) => {
                    return Err(Failure::new(
                        ErrorKind::Unavailable,
                        format!("{what} ended in provisioning state {s}"),
                    )
                    .with_detail("resource_id", what.to_string()))
                }
                None => return Ok(body),
            }
            if tokio::time::Instant::now() > deadline {
                return Err(Failure::timeout(format!(
                    "{what} did not finish provisioning in time"
                )));
            }
            tokio::time::sleep(
                retry_after(&answer.headers)
                    .unwrap_or(DEFAULT_POLL)
                    .min(MAX_WAIT),
            )
            .await;
        }
    }

    /// Sends one request with the bearer token, retrying throttling and server errors.
    pub async fn send(
        &self,
        method: reqwest::Method,
        url: &str,
        body: Option<&Json>,
        what: &str,
    ) -> Result<Answer, Failure> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let token = self.credential.token(&self.scope).await?;
            let mut req = self
                .http
                .request(method.clone(), url)
                .bearer_auth(token.reveal())
                .header("accept", "application/json");
            if let Some(body) = body {
                req = if body.is_null() {
                    req.header("content-length", "0")
                } else {
                    req.json(body)
                };
            }
            let result = req.send().await;
            let retry_in = match result {
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    let headers = resp.headers().clone();
                    let text = resp.text().await.unwrap_or_default();
                    let answer = Answer {
                        status,
                        headers,
                        body: text,
                    };
                    if !is_retryable(status) || attempt >= ATTEMPTS {
                        return Ok(answer);
                    }
                    let wait = retry_after(&answer.headers).unwrap_or_else(|| backoff(attempt));
                    tracing::debug!(
                        status,
                        attempt,
                        wait_ms = wait.as_millis() as u64,
                        "Resource Manager asked us to retry {what}"
                    );
                    wait
                }
                Err(e) => {
                    if attempt >= ATTEMPTS || !(e.is_connect() || e.is_timeout() || e.is_request())
                    {
                        return Err(crate::http::send_failure(
                            &format!("Resource Manager request for {what}"),
                            &e,
                        ));
                    }
                    backoff(attempt)
                }
            };
            tokio::time::sleep(retry_in.min(MAX_WAIT)).await;
        }
    }
}

fn is_retryable(status: u16) -> bool {
    status == 408 || status == 429 || (500..600).contains(&status) && status != 501 && status != 505
}

fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(500u64 << attempt.min(6))
}

/// `Retry-After` as seconds (the form ARM uses) or an HTTP date.
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let v = headers
        .get("retry-after")?
        .to_str()
        .ok()?
        .trim()
        .to_string();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when =
        time::OffsetDateTime::parse(&v, &time::format_description::well_known::Rfc2822).ok()?;
    let secs = (when - time::OffsetDateTime::now_utc())
        .whole_seconds()
        .max(0) as u64;
    Some(Duration::from_secs(secs))
}

fn provisioning_state(body: &Json) -> Option<String> {
    body.pointer("/properties/provisioningState")
        .and_then(Json::as_str)
        .map(str::to_string)
}

fn is_terminal(state: &str) -> bool {
    matches!(
        state.to_ascii_lowercase().as_str(),
        "succeeded" | "failed" | "canceled" | "cancelled"
    )
}

/// `(code, message)` from an ARM error body, or from an operation status body.
fn error_parts(body: &Json) -> (String, String) {
    let error = body.get("error").unwrap_or(body);
    let code = error
        .get("code")
        .and_then(Json::as_str)
        .unwrap_or("")
        .to_string();
    let message = error
        .get("message")
        .and_then(Json::as_str)
        .unwrap_or("")
        .to_string();
    (code, message)
}

/// True for a 404 that is about a parent (group, subscription) of `id`, not `id` itself.
fn parent_missing(f: &Failure, id: &str) -> bool {
    let is_group = id.trim_matches('/').split('/').count() == 4;
    match f.details.get("code").map(|c| c.to_string()).as_deref() {
        Some("ResourceGroupNotFound") => !is_group,
        Some("SubscriptionNotFound") | Some("InvalidSubscriptionId") => true,
        _ => false,
    }
}

/// Turns an error answer into a failure naming `what` (the resource ID).
pub fn check(answer: &Answer, what: &str) -> Result<(), Failure> {
    if answer.status < 400 {
        return Ok(());
    }
    let body: Json = serde_json::from_str(&answer.body).unwrap_or(Json::Null);
    let (code, message) = error_parts(&body);
    let message = if message.is_empty() {
        answer.body.chars().take(300).collect()
    } else {
        message
    };
    let code_shown = if code.is_empty() {
        answer.status.to_string()
    } else {
        code.clone()
    };
    let (kind, hint) = match (answer.status, code.as_str()) {
        (404, "SubscriptionNotFound") | (404, "InvalidSubscriptionId") => (
            ErrorKind::NotFound,
            "check azure.subscription in the config; `az account list -o table` shows the subscriptions you can use".to_string(),
        ),
        (404, "ResourceGroupNotFound") => (
            ErrorKind::NotFound,
            "check azure.resource_group; create it with --create-missing (or `az group create`)".to_string(),
        ),
        (404, _) => (
            ErrorKind::NotFound,
            "check the name in the config and the subscription; run with --create-missing to create what is missing".to_string(),
        ),
        (401, _) => (
            ErrorKind::Forbidden,
            "the token was rejected: sign in again (`az login`) or check azure.credential.*".to_string(),
        ),
        (403, _) => (ErrorKind::Forbidden, forbidden_hint(&message, what)),
        (409, _) => (
            ErrorKind::Conflict,
            "the resource is being changed by someone else or exists with other settings; look at it, then run again".to_string(),
        ),
        (400, _) | (422, _) => (ErrorKind::Invalid, "the request was rejected as invalid; check the values in the config".to_string()),
        (429, _) => (ErrorKind::Unavailable, "Azure kept throttling the requests; wait a few minutes and run again".to_string()),
        _ => (ErrorKind::Unavailable, "Azure answered with a server error; run again later (nothing was changed by the failed request)".to_string()),
    };
    Err(
        Failure::new(kind, format!("{what}: {code_shown}: {message}"))
            .with_hint(hint)
            .with_detail("resource_id", what.to_string())
            .with_detail("status", answer.status as rhai::INT)
            .with_detail("code", code),
    )
}

/// "needs a role that allows <action> on <scope>", from ARM's AuthorizationFailed message.
fn forbidden_hint(message: &str, what: &str) -> String {
    let quoted: Vec<&str> = message.split('\'').skip(1).step_by(2).collect();
    let action = quoted
        .iter()
        .find(|q| q.contains('/') && !q.starts_with('/'))
        .copied();
    let scope = quoted
        .iter()
        .find(|q| q.starts_with('/'))
        .copied()
        .unwrap_or(what);
    match action {
        Some(action) if action.starts_with("Microsoft.Authorization/roleAssignments/write") => format!(
            "needs a role that may assign roles (Owner, User Access Administrator or Role Based Access Control Administrator) on scope {scope}"
        ),
        Some(action) if action.ends_with("/read") => format!(
            "needs a role that allows {action} (e.g. Reader) on scope {scope}"
        ),
        Some(action) => format!("needs a role that allows {action} (e.g. Contributor) on scope {scope}"),
        None => format!("ask for a role on scope {scope} that allows this operation"),
    }
}
