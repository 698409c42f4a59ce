//! Secrets: a value type that never shows itself, and the redactor that scrubs
//! every byte lfrun writes.
//!
//! Two defences, because one slip is enough to leak an encryption key into a CI log:
//!
//! 1. `Secret` prints, debugs, serialises and formats as `***`. Scripts can pass it
//!    around and hand it to primitives; only Rust code calls [`Secret::reveal`], at
//!    the point where a value must be sent (a Kubernetes secret body, helm's values
//!    file, docker's stdin).
//! 2. Every secret value created in this process is registered with a global
//!    redactor, and every output path (terminal, JSON events, plan, journal, error
//!    messages, a tool's echoed stderr) passes text through [`redact`]. So a secret
//!    that escaped its type, say inside a tool's error message, is still scrubbed.

use std::fmt;
use std::sync::{Arc, OnceLock, RwLock};

use rhai::{Dynamic, Module};

use crate::error::{Failure, ScriptResult};
use crate::register::Registrar;

/// What a secret looks like wherever it is shown.
pub const MASK: &str = "***";

/// Secret values shorter than this are not scrubbed from free text (masking
/// every "1" or "true" would garble output and protect nothing).
const MIN_REDACTED_LEN: usize = 6;

/// A secret string. Cloning shares the value; displaying shows `***`.
#[derive(Clone)]
pub struct Secret(Arc<str>);

impl Secret {
    /// Wraps a value as a secret and registers it with the redactor.
    pub fn new(value: impl Into<String>) -> Secret {
        let value: String = value.into();
        register(&value);
        Secret(Arc::from(value))
    }

    /// The value itself. Call only where it must be sent somewhere.
    pub fn reveal(&self) -> &str {
        &self.0
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(MASK)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(MASK)
    }
}

impl PartialEq for Secret {
    fn eq(&self, other: &Secret) -> bool {
        self.0 == other.0
    }
}

impl serde::Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(MASK)
    }
}

fn registry() -> &'static RwLock<Vec<Arc<str>>> {
    static SECRETS: OnceLock<RwLock<Vec<Arc<str>>>> = OnceLock::new();
    SECRETS.get_or_init(|| RwLock::new(Vec::new()))
}

/// Registers a value that must never be shown (also used for values that are not
/// wrapped in `Secret`, e.g. a token passed to a tool's stdin).
pub fn register(value: &str) {
    if value.len() < MIN_REDACTED_LEN {
        return;
    }
    let mut all = registry().write().unwrap_or_else(|e| e.into_inner());
    if !all.iter().any(|s| &**s == value) {
        all.push(Arc::from(value));
        // longest first, so a secret that contains another is masked whole
        all.sort_by_key(|s| std::cmp::Reverse(s.len()));
    }
}

/// Replaces every registered secret value in `text` with `***`.
pub fn redact(text: &str) -> String {
    let all = registry().read().unwrap_or_else(|e| e.into_inner());
    let mut out = text.to_string();
    for secret in all.iter() {
        if out.contains(&**secret) {
            out = out.replace(&**secret, MASK);
        }
    }
    out
}

/// Redacts every string inside a JSON value (for the plan and the journal).
pub fn redact_json(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::String(s) => *s = redact(s),
        serde_json::Value::Array(items) => items.iter_mut().for_each(redact_json),
        serde_json::Value::Object(map) => map.values_mut().for_each(redact_json),
        _ => {}
    }
}

/// `n` random bytes from the operating system's CSPRNG, hex-encoded.
pub fn random_hex(bytes: usize) -> Result<String, Failure> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).map_err(|e| {
        Failure::new(
            crate::error::ErrorKind::Unavailable,
            format!("OS random source failed: {e}"),
        )
    })?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}

/// `<prefix><random UUID v4>`, the shape of Langfuse's API keys (`pk-lf-…`, `sk-lf-…`).
pub fn random_key(prefix: &str) -> Result<String, Failure> {
    let h = random_hex(16)?;
    // version 4, variant 10xx
    let variant = ["8", "9", "a", "b"][usize::from_str_radix(&h[16..17], 16).unwrap_or(0) % 4];
    Ok(format!(
        "{prefix}{}-{}-4{}-{variant}{}-{}",
        &h[0..8],
        &h[8..12],
        &h[13..16],
        &h[17..20],
        &h[20..32]
    ))
}

/// Reads a line from the terminal with echo off.
fn read_hidden(question: &str) -> Result<Secret, Failure> {
    use std::io::{BufRead, Write};
    let fail =
        |e: std::io::Error| Failure::config(format!("reading {question} from the terminal: {e}"));
    let tty = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")
        .map_err(fail)?;
    let fd = std::os::unix::io::AsRawFd::as_raw_fd(&tty);
    // SAFETY: termios calls on a terminal we opened; the old settings are restored below.
    let old = unsafe {
        let mut t: libc::termios = std::mem::zeroed();
        libc::tcgetattr(fd, &mut t);
        let old = t;
        t.c_lflag &= !libc::ECHO;
        libc::tcsetattr(fd, libc::TCSANOW, &t);
        old
    };
    let mut writer = &tty;
    let _ = write!(writer, "  ? {question}: ");
    let _ = writer.flush();
    let mut line = String::new();
    let read = std::io::BufReader::new(&tty).read_line(&mut line);
    // SAFETY: restoring the settings read above.
    unsafe {
        libc::tcsetattr(fd, libc::TCSANOW, &old);
    }
    let _ = writeln!(writer);
    read.map_err(fail)?;
    let value = line.trim_end_matches(['\r', '\n']).to_string();
    if value.is_empty() {
        return Err(Failure::config(format!("no value entered for {question}")));
    }
    Ok(Secret::new(value))
}

/// Registers the `Secret` type and the `secret::` module.
pub fn register_type(engine: &mut rhai::Engine) {
    engine
        .register_type_with_name::<Secret>("Secret")
        .register_fn("to_string", |s: &mut Secret| s.to_string())
        .register_fn("to_debug", |s: &mut Secret| s.to_string())
        .register_fn("len", |s: &mut Secret| s.len() as rhai::INT)
        .register_fn("is_empty", |s: &mut Secret| s.is_empty())
        .register_fn("==", |a: &mut Secret, b: Secret| *a == b)
        .register_fn("!=", |a: &mut Secret, b: Secret| *a != b);
}

pub fn module(run: &std::sync::Arc<crate::context::RunContext>) -> Module {
    let mut m = Registrar::new(
        "secret",
        "Secret values that never print: `***` in output, plan, journal and errors.",
    );
    m.fun(
        "random_hex",
        "Random bytes from the OS CSPRNG, hex-encoded (`random_hex(32)` is 64 hex digits), as a Secret.",
        &["bytes"],
        |bytes: rhai::INT| -> ScriptResult<Secret> {
            if !(1..=4096).contains(&bytes) {
                return Err(Failure::invalid(format!("secret::random_hex: bytes must be 1..=4096, got {bytes}")).into());
            }
            Ok(Secret::new(random_hex(bytes as usize)?))
        },
    );
    m.fun(
        "random_key",
        "A random key `<prefix><uuid>`, as a Secret: Langfuse's API key shape (`random_key(\"sk-lf-\")`).",
        &["prefix"],
        |prefix: &str| -> ScriptResult<Secret> { Ok(Secret::new(random_key(prefix)?)) },
    );
    let r = run.clone();
    m.fun(
        "from_env",
        "The value of environment variable NAME as a Secret; fails with kind `config` when it is unset or empty.",
        &["name"],
        move |name: &str| -> ScriptResult<Secret> {
            if let Ok(v) = std::env::var(name) {
                if !v.is_empty() {
                    return Ok(Secret::new(v));
                }
            }
            if let Some(v) = r.env().ok().and_then(|env| env.secret_defaults.get(name).cloned()) {
                return Ok(v);
            }
            Err(Failure::config(format!("environment variable {name} is not set"))
                .with_hint(format!("export {name}=… before running (the value is never printed)"))
                .into())
        },
    );
    m.fun(
        "env_is_set",
        "True when environment variable NAME is set and not empty (does not read the value into the script).",
        &["name"],
        |name: &str| -> bool { std::env::var(name).map(|v| !v.is_empty()).unwrap_or(false) },
    );
    let r = run.clone();
    m.fun(
        "prompt",
        "Asks for a secret on the terminal without echoing it; fails with kind `config` when there is no terminal.",
        &["question"],
        move |question: &str| -> ScriptResult<Secret> {
            if !r.settings.interactive {
                return Err(Failure::config(format!("cannot ask for {question}: no terminal"))
                    .with_hint("run on a terminal, or take the value from an environment variable instead")
                    .into());
            }
            Ok(read_hidden(question)?)
        },
    );
    m.fun(
        "matches",
        "True when the Secret's value equals TEXT (compares without showing either).",
        &["secret", "text"],
        |secret: Secret, text: &str| -> bool { secret.reveal() == text },
    );
    m.fun(
        "wrap",
        "Turns a string into a Secret (for values a script assembled itself).",
        &["value"],
        |value: &str| -> Secret { Secret::new(value) },
    );
    m.fun(
        "is_secret",
        "True when the value is a Secret.",
        &["value"],
        |value: Dynamic| -> bool { value.is::<Secret>() },
    );
    m.build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_never_formats_its_value() {
        let s = Secret::new("canary-value-abc123");
        assert_eq!(format!("{s}"), MASK);
        assert_eq!(format!("{s:?}"), MASK);
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"***\"");
        assert_eq!(s.reveal(), "canary-value-abc123");
    }

    #[test]
    fn redactor_scrubs_registered_values_from_free_text() {
        let _ = Secret::new("canary-redact-xyz789");
        let text = "helm said: password canary-redact-xyz789 rejected";
        assert_eq!(redact(text), "helm said: password *** rejected");
    }

    #[test]
    fn random_hex_has_requested_length_and_differs() {
        let a = random_hex(32).unwrap();
        let b = random_hex(32).unwrap();
        assert_eq!(a.len(), 64);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }

    #[test]
    fn random_key_is_prefix_and_uuid() {
        let k = random_key("sk-lf-").unwrap();
        let uuid = k.strip_prefix("sk-lf-").unwrap();
        let parts: Vec<&str> = uuid.split('-').collect();
        assert_eq!(
            parts.iter().map(|p| p.len()).collect::<Vec<_>>(),
            [8, 4, 4, 4, 12]
        );
        assert!(parts[2].starts_with('4'));
        assert!("89ab".contains(&parts[3][..1]));
        assert_ne!(k, random_key("sk-lf-").unwrap());
    }
}
