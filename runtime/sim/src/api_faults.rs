//! Request fault injection: throttling, server errors and stalls, as a busy or degraded
//! API server produces them (the `api-flaky` scenario).
//!
//! The decision for each request is a pure function of the configured seed and the
//! request's position among eligible requests, so a test that makes the same requests in
//! the same order meets the same faults. A request that gets a fault is answered before
//! it reaches the server: nothing it asked for is applied.

use crate::ids::mix;
use serde::{Deserialize, Serialize};
use std::sync::Mutex;
use std::time::Duration;

/// The `api_faults:` section of a scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ApiFaultConfig {
    /// Seed for the deterministic fault sequence.
    pub seed: u64,
    /// Chance (0..1) that an eligible request starts a burst of faults.
    pub rate: f64,
    /// How many consecutive eligible requests fail once a burst starts.
    pub burst: u32,
    /// Eligible requests before the first fault may happen (lets a client start up).
    pub skip_first: u64,
    /// The faults to draw from, by weight.
    pub faults: Vec<FaultKind>,
    /// Only requests whose path starts with one of these are eligible; empty means all
    /// resource requests (`/api/…`, `/apis/…`) except discovery and OpenAPI.
    pub paths: Vec<String>,
    /// Only these methods are eligible; empty means all.
    pub methods: Vec<String>,
}

impl Default for ApiFaultConfig {
    fn default() -> Self {
        ApiFaultConfig {
            seed: 1,
            rate: 0.1,
            burst: 2,
            skip_first: 0,
            faults: vec![
                FaultKind {
                    status: 429,
                    weight: 3,
                    retry_after: Some(1),
                    stall_ms: None,
                },
                FaultKind {
                    status: 500,
                    weight: 2,
                    retry_after: None,
                    stall_ms: None,
                },
                FaultKind {
                    status: 504,
                    weight: 1,
                    retry_after: None,
                    stall_ms: Some(2000),
                },
            ],
            paths: Vec::new(),
            methods: Vec::new(),
        }
    }
}

/// One kind of injected failure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultKind {
    /// HTTP status answered: 429, 500, 503, 504 …
    pub status: u16,
    #[serde(default = "one")]
    pub weight: u32,
    /// `Retry-After` seconds (429/503).
    #[serde(default)]
    pub retry_after: Option<u64>,
    /// Hold the response this long (real milliseconds) before answering — a stall that a
    /// client with a shorter timeout sees as a timeout.
    #[serde(default)]
    pub stall_ms: Option<u64>,
}

fn one() -> u32 {
    1
}

/// The fault chosen for one request.
#[derive(Debug, Clone, PartialEq)]
pub struct InjectedFault {
    pub status: u16,
    pub retry_after: Option<u64>,
    pub stall: Option<Duration>,
}

impl InjectedFault {
    /// Short description for the request log: `429`, `500`, `stall 2000ms then 504`.
    pub fn describe(&self) -> String {
        match self.stall {
            Some(d) => format!("stall {}ms then {}", d.as_millis(), self.status),
            None => self.status.to_string(),
        }
    }
}

#[derive(Default)]
struct DrawState {
    /// Eligible requests seen so far.
    count: u64,
    burst_left: u32,
    burst_fault: Option<usize>,
}

/// Decides, request by request, whether to inject a fault.
#[derive(Default)]
pub struct ApiFaults {
    state: Mutex<DrawState>,
}

/// Discovery and OpenAPI documents: clients cache them and real flakiness there would only
/// make the rehearsal slower, so they are not eligible by default.
fn is_discovery(path: &str) -> bool {
    path == "/api"
        || path == "/apis"
        || path.starts_with("/openapi")
        || path == "/version"
        || path == "/healthz"
        || path == "/readyz"
        || path == "/livez"
        || {
            let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
            (parts.len() == 2 && parts[0] == "api") || (parts.len() <= 3 && parts[0] == "apis")
        }
}

impl ApiFaults {
    /// Forgets the position in the sequence (a fresh world starts over).
    pub fn reset(&self) {
        *self.state.lock().unwrap_or_else(|p| p.into_inner()) = DrawState::default();
    }

    pub fn decide(
        &self,
        config: &ApiFaultConfig,
        method: &str,
        path: &str,
    ) -> Option<InjectedFault> {
        if config.faults.is_empty() || path.starts_with("/_sim") {
            return None;
        }
        let eligible_path = if config.paths.is_empty() {
            (path.starts_with("/api/") || path.starts_with("/apis/")) && !is_discovery(path)
        } else {
            config.paths.iter().any(|p| path.starts_with(p.as_str()))
        };
        let eligible_method = config.methods.is_empty()
            || config
                .methods
                .iter()
                .any(|m| m.eq_ignore_ascii_case(method));
        if !eligible_path || !eligible_method {
            return None;
        }
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        state.count += 1;
        let n = state.count;
        if n <= config.skip_first {
            return None;
        }
        let draw = mix(config.seed.wrapping_mul(0x1000_0000_01b3) ^ n);
        let index = if state.burst_left > 0 {
            state.burst_left -= 1;
            state.burst_fault?
        } else {
            let roll = (draw >> 11) as f64 / (1u64 << 53) as f64;
            if roll >= config.rate {
                return None;
            }
            let total: u64 = config.faults.iter().map(|f| f.weight.max(1) as u64).sum();
            let mut pick = mix(draw) % total;
            let mut index = 0;
            for (i, f) in config.faults.iter().enumerate() {
                let w = f.weight.max(1) as u64;
                if pick < w {
                    index = i;
                    break;
                }
                pick -= w;
            }
            state.burst_left = config.burst.saturating_sub(1);
            state.burst_fault = Some(index);
            index
        };
        let kind = config.faults.get(index)?;
        Some(InjectedFault {
            status: kind.status,
            retry_after: kind.retry_after,
            stall: kind.stall_ms.map(Duration::from_millis),
        })
    }
}
