//! Waiting on one object through a watch.
//!
//! Rollouts, PVC capacity and the like are waits for a status to reach a state.
//! Polling would add up to a poll interval of latency and a request per tick; a
//! watch on the one object (`metadata.name=…`) is told the moment the API server
//! stores the change. The loop re-reads and re-watches when a watch ends or
//! expires, and gives up at the deadline with the last thing it saw.

use std::fmt::Debug;
use std::time::{Duration, Instant};

use futures::{StreamExt, TryStreamExt};
use kube::api::{Api, WatchEvent, WatchParams};
use kube::Resource;
use serde::de::DeserializeOwned;

use crate::error::Failure;
use crate::kube::errors::{api_failure, Object};
use crate::kube::Cluster;

/// Where the awaited object stands.
#[derive(Debug, Clone, PartialEq)]
pub enum Progress {
    Done(String),
    Waiting(String),
    /// It will not finish by itself: (reason, message).
    Failed(String, String),
}

/// How a wait on one object ended.
pub enum Ended<K> {
    Progress(K, Progress),
    TimedOut(K, String),
}

/// Watches one object until `check` says done or failed, or `deadline` passes;
/// with no deadline, reads it once.
pub async fn watch_until<K>(
    cluster: &Cluster,
    api: &Api<K>,
    object: &Object<'_>,
    deadline: Option<Instant>,
    check: impl Fn(&K) -> Progress,
) -> Result<Ended<K>, Failure>
where
    K: Resource + Clone + DeserializeOwned + Debug + Send + 'static,
{
    let name = object.name;
    loop {
        let current = api
            .get_opt(name)
            .await
            .map_err(|e| api_failure(e, "get", object, &cluster.server))?
            .ok_or_else(|| {
                Failure::not_found(format!("{object} not found"))
                    .with_hint("check the name and the namespace (has the release been installed?)")
            })?;
        let mut last = current.clone();
        let mut progress = check(&current);
        let Some(deadline) = deadline else {
            return Ok(Ended::Progress(current, progress));
        };
        if !matches!(progress, Progress::Waiting(_)) {
            return Ok(Ended::Progress(current, progress));
        }
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return Ok(Ended::TimedOut(current, waiting_message(&progress)));
        }
        let version = current.meta().resource_version.clone().unwrap_or_default();
        let params = WatchParams::default()
            .fields(&format!("metadata.name={name}"))
            .timeout(remaining.as_secs().clamp(1, 290) as u32);
        let stream = api
            .watch(&params, &version)
            .await
            .map_err(|e| api_failure(e, "watch", object, &cluster.server))?;
        let mut stream = stream.boxed();
        loop {
            let next = tokio::time::timeout_at(deadline.into(), stream.try_next()).await;
            match next {
                Err(_elapsed) => return Ok(Ended::TimedOut(last, waiting_message(&progress))),
                Ok(Ok(Some(WatchEvent::Added(o) | WatchEvent::Modified(o)))) => {
                    progress = check(&o);
                    if !matches!(progress, Progress::Waiting(_)) {
                        return Ok(Ended::Progress(o, progress));
                    }
                    last = o;
                }
                Ok(Ok(Some(WatchEvent::Deleted(_)))) => {
                    return Err(Failure::not_found(format!(
                        "{object} was deleted while lfrun waited for its rollout"
                    ))
                    .with_hint("something else removed it (helm uninstall?); check the release"));
                }
                Ok(Ok(Some(WatchEvent::Bookmark(_)))) => {}
                // The watch ended, expired (410) or broke: read the object again and re-watch.
                Ok(Ok(Some(WatchEvent::Error(_)))) | Ok(Ok(None)) => break,
                Ok(Err(e)) => {
                    tracing::debug!("watch on {object} ended: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    break;
                }
            }
        }
    }
}

pub fn waiting_message(progress: &Progress) -> String {
    match progress {
        Progress::Waiting(m) | Progress::Done(m) | Progress::Failed(_, m) => m.clone(),
    }
}

pub fn ended_object<K>(ended: &Ended<K>) -> &K {
    match ended {
        Ended::Progress(k, _) | Ended::TimedOut(k, _) => k,
    }
}

/// The final progress, and whether the wait ran out of time.
pub fn ended_progress<K>(ended: &Ended<K>) -> (Progress, bool) {
    match ended {
        Ended::Progress(_, p) => (p.clone(), false),
        Ended::TimedOut(_, m) => (Progress::Waiting(m.clone()), true),
    }
}
