//! The virtual clock that simulated controllers run on.
//!
//! Things that take seconds or minutes on a real cluster (pulling an image, a readiness
//! probe's initial delay, a crash-loop back-off, a Deployment's progress deadline) take
//! the same *virtual* time here, but virtual time runs `scale` times faster than the wall
//! clock, so a rehearsal install finishes in well under a second of real time.
//!
//! Object timestamps (`creationTimestamp`, event times, condition times) stay on the wall
//! clock so that `kubectl get` and `kubectl describe`, which compute ages on the client,
//! show sensible ages. Only durations are virtual: controllers compare virtual instants,
//! never timestamps.
//!
//! The clock's reading is persisted with the world, so a second process continues where
//! the first stopped, and tests can jump it forward (`advance`) instead of waiting.

use serde::{Deserialize, Serialize};
use std::time::{Duration, Instant};

/// Virtual seconds per real second unless the options say otherwise.
pub const DEFAULT_TIME_SCALE: f64 = 200.0;

/// Milliseconds of virtual time since the world was created.
pub type VirtualMillis = u64;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VirtualClock {
    /// The virtual time at the last save (or at `base_real`, while running).
    elapsed_ms: VirtualMillis,
    /// Virtual seconds per real second.
    #[serde(skip, default = "default_scale")]
    scale: f64,
    #[serde(skip, default = "Instant::now")]
    base_real: Instant,
}

fn default_scale() -> f64 {
    DEFAULT_TIME_SCALE
}

impl Default for VirtualClock {
    fn default() -> Self {
        VirtualClock {
            elapsed_ms: 0,
            scale: DEFAULT_TIME_SCALE,
            base_real: Instant::now(),
        }
    }
}

impl VirtualClock {
    /// Starts counting from the persisted reading at `scale` virtual seconds per real second.
    pub fn resume(&mut self, scale: f64) {
        self.elapsed_ms = self.now();
        self.scale = if scale.is_finite() && scale > 0.0 {
            scale
        } else {
            DEFAULT_TIME_SCALE
        };
        self.base_real = Instant::now();
    }

    /// The current virtual time.
    pub fn now(&self) -> VirtualMillis {
        let real = self.base_real.elapsed().as_secs_f64() * 1000.0;
        self.elapsed_ms + (real * self.scale) as u64
    }

    /// Moves virtual time forward (tests and `POST /_sim/clock`).
    pub fn advance(&mut self, by: Duration) {
        self.elapsed_ms += by.as_millis() as u64;
    }

    pub fn scale(&self) -> f64 {
        self.scale
    }

    /// How long to sleep in real time until virtual time reaches `at`.
    pub fn real_until(&self, at: VirtualMillis) -> Duration {
        let now = self.now();
        if at <= now {
            return Duration::ZERO;
        }
        Duration::from_secs_f64((at - now) as f64 / 1000.0 / self.scale)
    }

    /// Freezes the reading before the world is written to disk.
    pub fn checkpoint(&mut self) {
        self.elapsed_ms = self.now();
        self.base_real = Instant::now();
    }
}

/// Wall-clock time in the Kubernetes `Time` format (RFC 3339, whole seconds, UTC).
pub fn wall_time() -> String {
    let now = jiff::Timestamp::now();
    now.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Wall-clock time in the Kubernetes `MicroTime` format.
pub fn wall_time_micros() -> String {
    let now = jiff::Timestamp::now();
    now.strftime("%Y-%m-%dT%H:%M:%S.%6fZ").to_string()
}

/// Wall-clock time with nanoseconds, as container log timestamps have.
pub fn wall_time_nanos() -> String {
    let now = jiff::Timestamp::now();
    now.strftime("%Y-%m-%dT%H:%M:%S.%9fZ").to_string()
}

/// Seconds between a Kubernetes timestamp and now (for AGE columns); None when unparsable.
pub fn age_seconds(timestamp: &str) -> Option<i64> {
    let then: jiff::Timestamp = timestamp.parse().ok()?;
    Some((jiff::Timestamp::now().as_second() - then.as_second()).max(0))
}

/// `kubectl`'s short human duration: 5s, 3m, 2m10s, 4h, 3d, 2y.
pub fn human_duration(seconds: i64) -> String {
    let s = seconds.max(0);
    if s < 120 {
        format!("{s}s")
    } else if s < 600 {
        let (m, r) = (s / 60, s % 60);
        if r == 0 {
            format!("{m}m")
        } else {
            format!("{m}m{r}s")
        }
    } else if s < 3 * 3600 {
        format!("{}m", s / 60)
    } else if s < 8 * 3600 {
        let (h, m) = (s / 3600, (s % 3600) / 60);
        if m == 0 {
            format!("{h}h")
        } else {
            format!("{h}h{m}m")
        }
    } else if s < 48 * 3600 {
        format!("{}h", s / 3600)
    } else if s < 8 * 86400 {
        let (d, h) = (s / 86400, (s % 86400) / 3600);
        if h == 0 {
            format!("{d}d")
        } else {
            format!("{d}d{h}h")
        }
    } else if s < 2 * 365 * 86400 {
        format!("{}d", s / 86400)
    } else {
        format!("{}y", s / (365 * 86400))
    }
}
