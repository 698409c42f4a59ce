//! The journal: one JSON line per mutating action, planned or done.
//!
//! It answers "what did lfrun change on Tuesday, and in which step?" long after the
//! terminal scrolled away. Lines are appended and flushed one at a time, so a run
//! killed halfway leaves a journal that is complete up to the kill. Secrets are
//! redacted before a line is written.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde_json::json;

use crate::error::Failure;
use crate::secret::redact_json;

pub struct Journal {
    path: PathBuf,
    file: Mutex<File>,
}

/// One journal line.
pub struct Entry<'a> {
    pub step: &'a str,
    pub action: &'a str,
    pub target: &'a str,
    pub detail: &'a str,
    pub outcome: &'a str,
    pub seconds: f64,
}

impl Journal {
    /// Opens `<dir>/<run_id>.jsonl`, or `path` itself when it ends in `.jsonl`.
    /// Fails before the run starts when the place is not writable.
    pub fn open(location: &Path, run_id: &str) -> Result<Journal, Failure> {
        let path = if location.extension().is_some_and(|e| e == "jsonl") {
            location.to_path_buf()
        } else {
            location.join(format!("{run_id}.jsonl"))
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| unwritable(dir, &e))?;
        }
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| unwritable(&path, &e))?;
        Ok(Journal {
            path,
            file: Mutex::new(file),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn append(&self, entry: Entry) -> Result<(), Failure> {
        let mut line = json!({
            "time": now_rfc3339(),
            "step": entry.step,
            "action": entry.action,
            "target": entry.target,
            "detail": entry.detail,
            "outcome": entry.outcome,
            "duration_seconds": (entry.seconds * 1000.0).round() / 1000.0,
        });
        redact_json(&mut line);
        let mut file = self.file.lock().unwrap_or_else(|e| e.into_inner());
        writeln!(file, "{line}")
            .and_then(|_| file.flush())
            .map_err(|e| unwritable(&self.path, &e))
    }

    /// A record that is not a change (e.g. a policy waiver that was applied).
    pub fn note(&self, step: &str, action: &str, detail: &str) -> Result<(), Failure> {
        self.append(Entry {
            step,
            action,
            target: "",
            detail,
            outcome: "noted",
            seconds: 0.0,
        })
    }
}

fn unwritable(path: &Path, e: &std::io::Error) -> Failure {
    Failure::config(format!(
        "cannot write the journal at {}: {e}",
        path.display()
    ))
    .with_hint("pass --journal PATH with a writable directory, or fix the permissions")
}

/// Current UTC time as RFC 3339 (seconds precision), without a date crate.
pub fn now_rfc3339() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    rfc3339(secs)
}

pub fn rfc3339(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (h, m, s) = (rem / 3600, (rem % 3600) / 60, rem % 60);
    // civil-from-days (Howard Hinnant)
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let mo = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if mo <= 2 { y + 1 } else { y };
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{m:02}:{s:02}Z")
}

#[cfg(test)]
mod tests {
    #[test]
    fn formats_known_instants() {
        assert_eq!(super::rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(super::rfc3339(1_796_300_000), "2026-12-03T12:13:20Z");
    }
}
