//! Kubernetes API errors as the runtime's failure kinds.
//!
//! A script branches on `e.kind`; a person reads `e.message` and `e.hint`. So every
//! failure names the object (`Secret langfuse/langfuse-secrets`), says what lfrun
//! was doing to it, quotes the server's reason, and suggests the next move:
//!
//! | server says | kind |
//! | --- | --- |
//! | 404 | `not_found` |
//! | 401, 403 | `forbidden` |
//! | 409 | `conflict` |
//! | 400, 422 | `invalid` |
//! | 408, 504, a stalled connection | `timeout` |
//! | 429 and 5xx (after retries), connection refused | `unavailable` |

use std::fmt;

use kube::core::Status;

use crate::error::{ErrorKind, Failure};

/// The object a call is about, as people write it: `Deployment langfuse/langfuse-web`,
/// `StorageClass managed-csi`, `Pods in langfuse`.
#[derive(Debug, Clone, Copy)]
pub struct Object<'a> {
    pub kind: &'a str,
    pub namespace: &'a str,
    pub name: &'a str,
}

impl<'a> Object<'a> {
    pub fn new(kind: &'a str, namespace: &'a str, name: &'a str) -> Object<'a> {
        Object {
            kind,
            namespace,
            name,
        }
    }
}

impl fmt::Display for Object<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.namespace, self.name) {
            ("", "") => write!(f, "{}", plural(self.kind)),
            (namespace, "") => write!(f, "{} in namespace {namespace}", plural(self.kind)),
            ("", name) => write!(f, "{} {name}", self.kind),
            (namespace, name) => write!(f, "{} {namespace}/{name}", self.kind),
        }
    }
}

fn plural(kind: &str) -> String {
    if kind.ends_with('s') {
        format!("{kind}es")
    } else {
        format!("{kind}s")
    }
}

/// A failed API call on `object` (`verb` is what lfrun was doing: get, create, patch …).
pub fn api_failure(err: kube::Error, verb: &str, object: &Object<'_>, server: &str) -> Failure {
    match err {
        kube::Error::Api(status) => status_failure(&status, verb, object),
        kube::Error::Auth(e) => Failure::new(
            ErrorKind::Forbidden,
            format!("cannot {verb} {object}: the credentials could not be used: {e}"),
        )
        .with_hint("refresh the cluster credentials (az aks get-credentials) and run again"),
        kube::Error::SerdeError(e) => Failure::invalid(format!(
            "cannot {verb} {object}: the API server's answer is not what Kubernetes sends: {e}"
        ))
        .with_hint("check that kube.kubeconfig points at a Kubernetes API server"),
        other => transport_failure(&other.to_string(), verb, object, server),
    }
}

fn status_failure(status: &Status, verb: &str, object: &Object<'_>) -> Failure {
    let said = status.message.trim();
    let (kind, message, hint) = match status.code {
        404 => {
            let missing_namespace = !object.namespace.is_empty()
                && said.contains(&format!("namespaces \"{}\" not found", object.namespace));
            if missing_namespace {
                (
                    ErrorKind::NotFound,
                    format!("cannot {verb} {object}: namespace {} does not exist", object.namespace),
                    format!("create it first (kube::ensure_namespace(\"{}\"))", object.namespace),
                )
            } else {
                (
                    ErrorKind::NotFound,
                    format!("{object} not found"),
                    "check the name and the namespace".to_string(),
                )
            }
        }
        401 => (
            ErrorKind::Forbidden,
            format!("cannot {verb} {object}: the API server did not accept the credentials (401 Unauthorized)"),
            "the token has probably expired: refresh it (az aks get-credentials) and run again".to_string(),
        ),
        403 => (
            ErrorKind::Forbidden,
            format!("not allowed to {verb} {object}: {said}"),
            "the identity in the kubeconfig lacks this Kubernetes RBAC permission; ask a cluster admin to grant it".to_string(),
        ),
        409 => {
            let hint = if status.reason == "AlreadyExists" {
                "it exists already; use kube::apply to update it".to_string()
            } else if said.contains("conflict") && said.contains("field") || verb == "apply" {
                "another field manager owns these fields; apply with #{force: true} to take them over".to_string()
            } else {
                "it changed while lfrun was working on it; run again".to_string()
            };
            (ErrorKind::Conflict, format!("cannot {verb} {object}: {said}"), hint)
        }
        400 | 422 => {
            let causes: Vec<String> = status
                .details
                .as_ref()
                .map(|d| {
                    d.causes
                        .iter()
                        .map(|c| match (c.field.is_empty(), c.message.is_empty()) {
                            (false, false) => format!("{}: {}", c.field, c.message),
                            (true, false) => c.message.clone(),
                            _ => c.reason.clone(),
                        })
                        .collect()
                })
                .unwrap_or_default();
            let message = if causes.is_empty() || causes.iter().all(|c| said.contains(c.as_str())) {
                format!("cannot {verb} {object}: {said}")
            } else {
                format!("cannot {verb} {object}: {said} ({})", causes.join("; "))
            };
            (
                ErrorKind::Invalid,
                message,
                "fix the field named above; nothing was changed".to_string(),
            )
        }
        408 | 504 => (
            ErrorKind::Timeout,
            format!("cannot {verb} {object}: the API server timed out ({}): {said}", status.code),
            "the cluster is slow or overloaded; run again in a moment".to_string(),
        ),
        429 => (
            ErrorKind::Unavailable,
            format!("cannot {verb} {object}: the API server is throttling requests (429) and kept doing so after retries"),
            "wait a minute and run again".to_string(),
        ),
        code if code >= 500 => (
            ErrorKind::Unavailable,
            format!("cannot {verb} {object}: the API server failed ({code}): {said}"),
            "check the cluster's health (control plane, etcd) and run again".to_string(),
        ),
        code => (
            ErrorKind::Invalid,
            format!("cannot {verb} {object}: the API server answered {code}: {said}"),
            String::new(),
        ),
    };
    Failure::new(kind, message)
        .with_hint(hint)
        .with_detail("code", status.code as rhai::INT)
        .with_detail("reason", status.reason.clone())
        .with_detail("object", object.to_string())
}

fn transport_failure(error: &str, verb: &str, object: &Object<'_>, server: &str) -> Failure {
    let lower = error.to_ascii_lowercase();
    let timed_out =
        lower.contains("timed out") || lower.contains("timeout") || lower.contains("elapsed");
    if timed_out {
        Failure::timeout(format!(
            "cannot {verb} {object}: no answer from the Kubernetes API server at {server} in time ({error})"
        ))
        .with_hint("check that the cluster is reachable from here (VPN, private cluster, firewall) and run again")
        .with_detail("object", object.to_string())
    } else {
        Failure::new(
            ErrorKind::Unavailable,
            format!("cannot {verb} {object}: cannot reach the Kubernetes API server at {server}: {error}"),
        )
        .with_hint("check that the cluster is running and that kube.kubeconfig / kube.context point at it")
        .with_detail("object", object.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(code: u16, reason: &str, message: &str) -> kube::Error {
        kube::Error::Api(Status::failure(message, reason).with_code(code).boxed())
    }

    #[test]
    fn names_the_object_and_maps_the_kind() {
        let secret = Object::new("Secret", "langfuse", "langfuse-secrets");
        let f = api_failure(
            status(404, "NotFound", "secrets \"langfuse-secrets\" not found"),
            "get",
            &secret,
            "http://x",
        );
        assert_eq!(f.kind, ErrorKind::NotFound);
        assert_eq!(f.message, "Secret langfuse/langfuse-secrets not found");
        let f = api_failure(status(403, "Forbidden", "no"), "get", &secret, "");
        assert_eq!(f.kind, ErrorKind::Forbidden);
        let f = api_failure(status(401, "Unauthorized", "expired"), "get", &secret, "");
        assert_eq!(f.kind, ErrorKind::Forbidden);
        assert!(f.hint.contains("expired"), "{}", f.hint);
        let f = api_failure(
            status(409, "AlreadyExists", "exists"),
            "create",
            &secret,
            "",
        );
        assert_eq!(f.kind, ErrorKind::Conflict);
        let f = api_failure(status(422, "Invalid", "bad"), "create", &secret, "");
        assert_eq!(f.kind, ErrorKind::Invalid);
        let f = api_failure(status(504, "Timeout", "slow"), "get", &secret, "");
        assert_eq!(f.kind, ErrorKind::Timeout);
        let f = api_failure(
            status(503, "ServiceUnavailable", "down"),
            "get",
            &secret,
            "",
        );
        assert_eq!(f.kind, ErrorKind::Unavailable);
    }

    #[test]
    fn a_missing_namespace_is_named() {
        let secret = Object::new("Secret", "langfuse", "s");
        let f = api_failure(
            status(404, "NotFound", "namespaces \"langfuse\" not found"),
            "create",
            &secret,
            "",
        );
        assert!(
            f.message.contains("namespace langfuse does not exist"),
            "{}",
            f.message
        );
    }

    #[test]
    fn objects_read_as_people_write_them() {
        assert_eq!(
            Object::new("StorageClass", "", "default").to_string(),
            "StorageClass default"
        );
        assert_eq!(
            Object::new("Pod", "langfuse", "").to_string(),
            "Pods in namespace langfuse"
        );
    }
}
