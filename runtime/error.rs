//! The one error type primitives fail with.
//!
//! A script sees a failure as a map `#{kind, message, hint}` so it can branch on
//! `e.kind` inside `try { } catch (e) { }`. The kind is a short stable word; the
//! message says what went wrong with which file/key/resource; the hint says what
//! to do about it. Every message passes through the redactor before it is shown.

use std::fmt;

use rhai::{Dynamic, EvalAltResult, Map, Position};

/// What kind of failure this is. Scripts compare `e.kind` against these names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The object, file, release or resource does not exist.
    NotFound,
    /// The caller is not allowed (HTTP 403, Azure RBAC, Kubernetes RBAC).
    Forbidden,
    /// The object exists already or changed under us (HTTP 409).
    Conflict,
    /// A wait or a request ran out of time.
    Timeout,
    /// The input is malformed or of the wrong type (HTTP 422, bad argument).
    Invalid,
    /// A hard constraint of the guide would be broken.
    Policy,
    /// An external tool (helm, docker, git) is missing or too old.
    ToolMissing,
    /// An external tool ran and failed.
    ToolFailed,
    /// The user pressed Ctrl-C, or a sibling in `parallel` failed first.
    Cancelled,
    /// A destructive action was not confirmed.
    Refused,
    /// A Helm release is stuck in pending-install/upgrade/rollback.
    ReleasePending,
    /// The server could not be reached or answered with a server error.
    Unavailable,
    /// The configuration is missing a key or has a bad value.
    Config,
    /// A script error that is not a primitive's failure (type mismatch, unknown function …).
    Script,
    /// A check failed (validate, doctor): the system is not as it should be.
    CheckFailed,
}

impl ErrorKind {
    pub const ALL: [ErrorKind; 15] = [
        ErrorKind::NotFound,
        ErrorKind::Forbidden,
        ErrorKind::Conflict,
        ErrorKind::Timeout,
        ErrorKind::Invalid,
        ErrorKind::Policy,
        ErrorKind::ToolMissing,
        ErrorKind::ToolFailed,
        ErrorKind::Cancelled,
        ErrorKind::Refused,
        ErrorKind::ReleasePending,
        ErrorKind::Unavailable,
        ErrorKind::Config,
        ErrorKind::Script,
        ErrorKind::CheckFailed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::NotFound => "not_found",
            ErrorKind::Forbidden => "forbidden",
            ErrorKind::Conflict => "conflict",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Invalid => "invalid",
            ErrorKind::Policy => "policy",
            ErrorKind::ToolMissing => "tool_missing",
            ErrorKind::ToolFailed => "tool_failed",
            ErrorKind::Cancelled => "cancelled",
            ErrorKind::Refused => "refused",
            ErrorKind::ReleasePending => "release_pending",
            ErrorKind::Unavailable => "unavailable",
            ErrorKind::Config => "config",
            ErrorKind::Script => "script",
            ErrorKind::CheckFailed => "check_failed",
        }
    }

    pub fn parse(s: &str) -> Option<ErrorKind> {
        ErrorKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A primitive's failure: what kind, what happened, what to do.
#[derive(Debug, Clone)]
pub struct Failure {
    pub kind: ErrorKind,
    pub message: String,
    pub hint: String,
    /// Extra fields scripts may read (e.g. `revision` for a pending release).
    pub details: Map,
}

impl Failure {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Failure {
        Failure {
            kind,
            message: message.into(),
            hint: String::new(),
            details: Map::new(),
        }
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Failure {
        self.hint = hint.into();
        self
    }

    pub fn with_detail(mut self, key: &str, value: impl Into<Dynamic>) -> Failure {
        self.details.insert(key.into(), value.into());
        self
    }

    pub fn not_found(message: impl Into<String>) -> Failure {
        Failure::new(ErrorKind::NotFound, message)
    }
    pub fn invalid(message: impl Into<String>) -> Failure {
        Failure::new(ErrorKind::Invalid, message)
    }
    pub fn config(message: impl Into<String>) -> Failure {
        Failure::new(ErrorKind::Config, message)
    }
    pub fn timeout(message: impl Into<String>) -> Failure {
        Failure::new(ErrorKind::Timeout, message)
    }
    pub fn cancelled() -> Failure {
        Failure::new(ErrorKind::Cancelled, "cancelled")
            .with_hint("the run was interrupted; run it again to finish")
    }

    /// The map a script sees in `catch (e)`.
    pub fn to_map(&self) -> Map {
        let redact = crate::secret::redact;
        let mut map = self.details.clone();
        map.insert("kind".into(), self.kind.as_str().into());
        map.insert("message".into(), redact(&self.message).into());
        map.insert("hint".into(), redact(&self.hint).into());
        map
    }

    /// Reads a failure back from a value a script threw or a primitive raised.
    pub fn from_dynamic(value: &Dynamic) -> Option<Failure> {
        let map = value.read_lock::<Map>()?;
        let kind = ErrorKind::parse(&map.get("kind")?.to_string())?;
        let text = |k: &str| map.get(k).map(|v| v.to_string()).unwrap_or_default();
        let mut details = map.clone();
        for k in ["kind", "message", "hint"] {
            details.remove(k);
        }
        Some(Failure {
            kind,
            message: text("message"),
            hint: text("hint"),
            details,
        })
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", crate::secret::redact(&self.message))?;
        if !self.hint.is_empty() {
            write!(f, " (hint: {})", crate::secret::redact(&self.hint))?;
        }
        Ok(())
    }
}

impl std::error::Error for Failure {}

impl From<Failure> for Box<EvalAltResult> {
    fn from(f: Failure) -> Self {
        Box::new(EvalAltResult::ErrorRuntime(
            f.to_map().into(),
            Position::NONE,
        ))
    }
}

/// The result type of primitives as Rhai sees them.
pub type ScriptResult<T> = Result<T, Box<EvalAltResult>>;
