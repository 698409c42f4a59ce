//! Container logs: a ring buffer per container, plus the previous instance's lines.
//!
//! `kubectl logs` and `kubectl logs --previous` read these through `pods/{name}/log`.
//! What the lines say is decided by the kubelet simulation (see
//! `controllers/workload_logs.rs`), which writes them as containers start, crash and run.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, VecDeque};

/// Lines kept per container instance.
const LINES_PER_CONTAINER: usize = 1000;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LogLine {
    /// RFC 3339 with nanoseconds, as `kubectl logs --timestamps` prints.
    pub time: String,
    pub text: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ContainerLog {
    pub current: VecDeque<LogLine>,
    pub previous: Vec<LogLine>,
}

/// Logs by `namespace/pod/container`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PodLogs {
    pub containers: BTreeMap<String, ContainerLog>,
}

pub fn log_key(namespace: &str, pod: &str, container: &str) -> String {
    format!("{namespace}/{pod}/{container}")
}

impl PodLogs {
    pub fn append(&mut self, namespace: &str, pod: &str, container: &str, text: impl Into<String>) {
        let log = self
            .containers
            .entry(log_key(namespace, pod, container))
            .or_default();
        log.current.push_back(LogLine {
            time: crate::clock::wall_time_nanos(),
            text: text.into(),
        });
        while log.current.len() > LINES_PER_CONTAINER {
            log.current.pop_front();
        }
    }

    /// A container restarted: its current lines become the previous instance's.
    pub fn rotate(&mut self, namespace: &str, pod: &str, container: &str) {
        let log = self
            .containers
            .entry(log_key(namespace, pod, container))
            .or_default();
        log.previous = std::mem::take(&mut log.current).into();
    }

    pub fn get(&self, namespace: &str, pod: &str, container: &str) -> Option<&ContainerLog> {
        self.containers.get(&log_key(namespace, pod, container))
    }

    /// Forgets every container of a deleted pod.
    pub fn remove_pod(&mut self, namespace: &str, pod: &str) {
        let prefix = format!("{namespace}/{pod}/");
        self.containers.retain(|k, _| !k.starts_with(&prefix));
    }
}
