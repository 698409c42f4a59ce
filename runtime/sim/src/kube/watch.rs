//! Watch: a chunked stream of `{"type": …, "object": …}` lines.
//!
//! A watch starts from a resourceVersion: unset or "0" means "send what exists as ADDED,
//! then changes"; a number means "changes after that version", replayed from the store's
//! history (410 Gone when it is older than the history kept). `sendInitialEvents=true`
//! (the watch-list protocol) sends existing objects then a bookmark marked
//! `k8s.io/initial-events-end`. Objects that stop matching a selector are reported as
//! DELETED and those that start matching as ADDED, as the real watch cache does (each
//! change carries the object's previous version to decide).

use crate::kube::handlers::{present, Selectors};
use crate::kube::resources::ResourceType;
use crate::kube::status::ApiError;
use crate::kube::table;
use crate::store::{namespace_of, Change, ChangeKind};
use crate::world::SharedWorld;
use axum::body::Bytes;
use serde_json::{json, Value};
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;
use tokio::time::Instant;

pub struct WatchRequest {
    pub rt: ResourceType,
    pub namespace: Option<String>,
    pub selectors: Selectors,
    pub resource_version: Option<String>,
    pub send_initial_events: bool,
    pub allow_bookmarks: bool,
    pub timeout: Duration,
    /// `None` for JSON objects; `Some(includeObject)` for Table rows.
    pub table: Option<String>,
}

struct WatchState {
    request: WatchRequest,
    world: SharedWorld,
    receiver: tokio::sync::broadcast::Receiver<Change>,
    epoch: u64,
    queued: Vec<Bytes>,
    deadline: Instant,
    next_bookmark: Instant,
    last_rv: u64,
    done: bool,
}

fn encode(event_type: &str, object: Value) -> Bytes {
    let mut line =
        serde_json::to_vec(&json!({"type": event_type, "object": object})).unwrap_or_default();
    line.push(b'\n');
    Bytes::from(line)
}

impl WatchState {
    fn render(&self, object: &Value) -> Value {
        let shown = present(&self.request.rt, object);
        match &self.request.table {
            None => shown,
            Some(include) => {
                let rv = object["metadata"]["resourceVersion"].as_str().unwrap_or("");
                table::table(&self.request.rt, &[shown], include, rv)
            }
        }
    }

    fn in_scope(&self, object: &Value) -> bool {
        self.request
            .namespace
            .as_deref()
            .is_none_or(|ns| namespace_of(object) == ns)
    }

    /// Turns a store change into zero or one watch event for this watcher.
    fn event_for(&mut self, change: &Change) -> Option<Bytes> {
        if change.type_key != self.request.rt.type_key() || !self.in_scope(&change.object) {
            return None;
        }
        self.last_rv = change.resource_version;
        let matched_before = change
            .previous
            .as_ref()
            .is_some_and(|p| self.request.selectors.matches(p));
        let event_type = match change.kind {
            ChangeKind::Deleted if matched_before => "DELETED",
            ChangeKind::Deleted => return None,
            _ => match (
                matched_before,
                self.request.selectors.matches(&change.object),
            ) {
                (true, true) => "MODIFIED",
                (false, true) => "ADDED",
                (true, false) => "DELETED",
                (false, false) => return None,
            },
        };
        Some(encode(event_type, self.render(&change.object)))
    }

    fn bookmark(&self, initial_end: bool) -> Bytes {
        let rv = if initial_end {
            self.last_rv
        } else {
            self.world.read(|w| w.kube.resource_version)
        };
        let mut meta = json!({"resourceVersion": rv.to_string()});
        if initial_end {
            meta["annotations"] = json!({"k8s.io/initial-events-end": "true"});
        }
        encode(
            "BOOKMARK",
            json!({"kind": self.request.rt.kind, "apiVersion": self.request.rt.api_version(), "metadata": meta}),
        )
    }
}

/// Starts a watch; the returned stream yields the event lines.
pub fn start(
    world: &SharedWorld,
    request: WatchRequest,
) -> Result<impl futures_util::Stream<Item = Result<Bytes, std::convert::Infallible>>, ApiError> {
    let type_key = request.rt.type_key();
    let from: Option<u64> = match request.resource_version.as_deref() {
        None | Some("") | Some("0") => None,
        Some(rv) => Some(
            rv.parse()
                .map_err(|_| ApiError::bad_request(format!("invalid resource version: {rv}")))?,
        ),
    };
    let initial_listing = from.is_none() || request.send_initial_events;
    let ((initial, replay, current_rv), receiver, epoch) = world.read_and_subscribe(|w| {
        let current = w.kube.resource_version;
        let initial: Vec<Value> = if initial_listing {
            w.kube
                .list(&type_key, request.namespace.as_deref())
                .filter(|o| request.selectors.matches(o))
                .cloned()
                .collect()
        } else {
            Vec::new()
        };
        let replay = match from {
            Some(rv) if !request.send_initial_events => w.kube.changes_since(rv).map(Some),
            _ => Some(None),
        };
        (initial, replay, current)
    });
    let replay = replay.ok_or_else(|| {
        ApiError::gone(format!(
            "too old resource version: {} ({})",
            from.unwrap_or(0),
            current_rv
        ))
    })?;
    let now = Instant::now();
    let mut state = WatchState {
        deadline: now + request.timeout,
        next_bookmark: now + Duration::from_secs(5),
        request,
        world: world.clone(),
        receiver,
        epoch,
        queued: Vec::new(),
        last_rv: from.unwrap_or(current_rv),
        done: false,
    };
    if initial_listing {
        let mut chunk = Vec::new();
        for object in &initial {
            chunk.extend_from_slice(&encode("ADDED", state.render(object)));
        }
        if !chunk.is_empty() {
            state.queued.push(Bytes::from(chunk));
        }
        state.last_rv = current_rv;
        if state.request.send_initial_events {
            let bookmark = state.bookmark(true);
            state.queued.push(bookmark);
        }
    } else if let Some(changes) = replay {
        for change in changes.iter().filter(|c| c.resource_version <= current_rv) {
            if let Some(event) = state.event_for(change) {
                state.queued.push(event);
            }
        }
        state.last_rv = state.last_rv.max(current_rv);
    }
    state.queued.reverse();
    Ok(futures_util::stream::unfold(
        state,
        |mut state| async move {
            loop {
                if let Some(chunk) = state.queued.pop() {
                    return Some((Ok(chunk), state));
                }
                if state.done || state.world.epoch() != state.epoch {
                    return None;
                }
                let now = Instant::now();
                if now >= state.deadline {
                    return None;
                }
                let wake = state.deadline.min(state.next_bookmark);
                match tokio::time::timeout_at(wake, state.receiver.recv()).await {
                    Ok(Ok(change)) => {
                        if let Some(event) = state.event_for(&change) {
                            return Some((Ok(event), state));
                        }
                    }
                    Ok(Err(RecvError::Lagged(_))) | Ok(Err(RecvError::Closed)) => {
                        state.done = true;
                    }
                    Err(_) => {
                        if Instant::now() >= state.next_bookmark {
                            state.next_bookmark = Instant::now() + Duration::from_secs(5);
                            if state.request.allow_bookmarks {
                                let b = state.bookmark(false);
                                return Some((Ok(b), state));
                            }
                        }
                    }
                }
            }
        },
    ))
}
