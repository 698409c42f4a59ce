//! Every request the rehearsal servers answered, for tests and for `lfrun --dry-run`
//! proofs ("plan mode made zero write requests").
//!
//! Records are kept in memory (served at `GET /_sim/requests`, cleared by `DELETE`) and
//! appended to `requests.jsonl` in the state dir so they survive the process.

use serde::{Deserialize, Serialize};
use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Whether a request could have changed anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verb {
    Read,
    Write,
}

impl Verb {
    /// GET and HEAD read; everything else writes (even when refused or dry-run).
    pub fn of_method(method: &str) -> Verb {
        match method {
            "GET" | "HEAD" | "OPTIONS" => Verb::Read,
            _ => Verb::Write,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RequestRecord {
    /// Position in this server's log, from 1.
    pub seq: u64,
    /// Wall-clock time the request arrived (RFC 3339).
    pub time: String,
    /// Which listener answered: `kube`, or a host name for the Azure/Langfuse front.
    pub server: String,
    pub method: String,
    pub path: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub query: String,
    pub status: u16,
    pub verb: Verb,
    /// A write with `dryRun=All`: validated, not stored.
    #[serde(default)]
    pub dry_run: bool,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub user_agent: String,
    /// The injected fault, when `api_faults` answered instead of the server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fault: Option<String>,
}

/// The log shared by all listeners of one rehearsal environment.
#[derive(Clone, Default)]
pub struct RequestLog {
    inner: Arc<LogInner>,
}

#[derive(Default)]
struct LogInner {
    seq: AtomicU64,
    records: Mutex<Vec<RequestRecord>>,
    file: Mutex<Option<File>>,
}

/// A request as the listener saw it, before its record is numbered.
pub struct NewRecord<'a> {
    pub server: &'a str,
    pub method: &'a str,
    pub path: &'a str,
    pub query: &'a str,
    pub status: u16,
    pub dry_run: bool,
    pub user_agent: &'a str,
    pub fault: Option<String>,
}

impl RequestLog {
    /// A log that also appends to `path` (created if missing).
    pub fn with_file(path: &Path) -> std::io::Result<RequestLog> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?;
        let log = RequestLog::default();
        *log.inner.file.lock().unwrap_or_else(|p| p.into_inner()) = Some(file);
        Ok(log)
    }

    pub fn record(&self, r: NewRecord<'_>) {
        let record = RequestRecord {
            seq: self.inner.seq.fetch_add(1, Ordering::AcqRel) + 1,
            time: crate::clock::wall_time(),
            server: r.server.to_string(),
            method: r.method.to_string(),
            path: r.path.to_string(),
            query: r.query.to_string(),
            status: r.status,
            verb: Verb::of_method(r.method),
            dry_run: r.dry_run,
            user_agent: r.user_agent.to_string(),
            fault: r.fault,
        };
        if let Some(file) = self
            .inner
            .file
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_mut()
        {
            if let Ok(mut line) = serde_json::to_vec(&record) {
                line.push(b'\n');
                let _ = file.write_all(&line);
            }
        }
        self.inner
            .records
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(record);
    }

    /// All records since the last clear.
    pub fn records(&self) -> Vec<RequestRecord> {
        self.inner
            .records
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Forgets the in-memory records and truncates the file.
    pub fn clear(&self) {
        self.inner
            .records
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
        if let Some(file) = self
            .inner
            .file
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_mut()
        {
            let _ = file.set_len(0);
        }
    }
}
