//! The state dir (`.lfrun/sim/` in the working directory): what is kept there and who
//! may write it.
//!
//! - `state.json`  — the persisted [`World`](crate::World), written atomically;
//! - `serve.json`  — the running server's pid and URLs, so another process can attach;
//! - `lock`        — held (OS file lock) by the one process serving this dir;
//! - `kubeconfig`  — points kubectl and lfrun at the running API server;
//! - `requests.jsonl` — the request log.

use crate::error::SimError;
use crate::world::{World, STATE_FORMAT};
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct StateDir {
    pub path: PathBuf,
}

/// What a running server records about itself in `serve.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ServeInfo {
    pub pid: u32,
    /// `serve` (standalone, others may attach) or `embedded` (inside a playbook run).
    pub mode: String,
    pub kube_url: String,
    pub kubeconfig: PathBuf,
    pub started: String,
    /// Endpoints added by other parts of the rehearsal (e.g. the Azure front's port).
    #[serde(default)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl StateDir {
    pub fn new(path: impl Into<PathBuf>) -> StateDir {
        StateDir { path: path.into() }
    }
    pub fn state_file(&self) -> PathBuf {
        self.path.join("state.json")
    }
    pub fn serve_file(&self) -> PathBuf {
        self.path.join("serve.json")
    }
    pub fn lock_file(&self) -> PathBuf {
        self.path.join("lock")
    }
    pub fn kubeconfig(&self) -> PathBuf {
        self.path.join("kubeconfig")
    }
    pub fn requests_file(&self) -> PathBuf {
        self.path.join("requests.jsonl")
    }

    pub fn create(&self) -> Result<(), SimError> {
        std::fs::create_dir_all(&self.path).map_err(|e| SimError::io(&self.path, e))
    }

    /// Takes the dir's lock without waiting; None when another process holds it.
    pub fn try_lock(&self) -> Result<Option<File>, SimError> {
        let path = self.lock_file();
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| SimError::io(&path, e))?;
        match file.try_lock() {
            Ok(()) => Ok(Some(file)),
            Err(std::fs::TryLockError::WouldBlock) => Ok(None),
            Err(std::fs::TryLockError::Error(e)) => Err(SimError::io(&path, e)),
        }
    }

    /// The persisted world, if there is one.
    pub fn load_world(&self) -> Result<Option<World>, SimError> {
        let path = self.state_file();
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(SimError::io(&path, e)),
        };
        let world: World = serde_json::from_slice(&bytes).map_err(|e| SimError::Corrupt {
            path: path.clone(),
            message: format!("not a rehearsal state file: {e}"),
        })?;
        if world.format != STATE_FORMAT {
            return Err(SimError::Corrupt {
                path,
                message: format!(
                    "written in state format {}, this lfrun reads format {STATE_FORMAT}",
                    world.format
                ),
            });
        }
        Ok(Some(world))
    }

    /// Writes `state.json` atomically (temporary file, then rename).
    pub fn save_bytes(&self, bytes: &[u8]) -> Result<(), SimError> {
        let path = self.state_file();
        let tmp = self.path.join("state.json.tmp");
        std::fs::write(&tmp, bytes).map_err(|e| SimError::io(&tmp, e))?;
        std::fs::rename(&tmp, &path).map_err(|e| SimError::io(&path, e))
    }

    pub fn save_world(&self, world: &World) -> Result<(), SimError> {
        let bytes = serde_json::to_vec(world).map_err(|e| SimError::Corrupt {
            path: self.state_file(),
            message: e.to_string(),
        })?;
        self.save_bytes(&bytes)
    }

    pub fn read_serve_info(&self) -> Option<ServeInfo> {
        let bytes = std::fs::read(self.serve_file()).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    pub fn write_serve_info(&self, info: &ServeInfo) -> Result<(), SimError> {
        let path = self.serve_file();
        let bytes = serde_json::to_vec_pretty(info).unwrap_or_default();
        std::fs::write(&path, bytes).map_err(|e| SimError::io(&path, e))
    }

    pub fn remove_serve_info(&self) {
        let _ = std::fs::remove_file(self.serve_file());
    }

    /// Writes a kubeconfig for `url` to `path`.
    pub fn write_kubeconfig(path: &Path, url: &str) -> Result<(), SimError> {
        let text = format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: lfrun-rehearsal\n  cluster:\n    server: {url}\ncontexts:\n- name: lfrun-rehearsal\n  context:\n    cluster: lfrun-rehearsal\n    user: lfrun-rehearsal\ncurrent-context: lfrun-rehearsal\nusers:\n- name: lfrun-rehearsal\n  user: {{}}\npreferences: {{}}\n"
        );
        std::fs::write(path, text).map_err(|e| SimError::io(path, e))
    }
}

/// Whether a process with this pid is alive (Linux: /proc; elsewhere assumed alive).
pub fn pid_alive(pid: u32) -> bool {
    if cfg!(target_os = "linux") {
        Path::new(&format!("/proc/{pid}")).exists()
    } else {
        true
    }
}
