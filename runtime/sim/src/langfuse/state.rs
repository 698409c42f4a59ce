//! What the rehearsal's Langfuse remembers between requests, persisted with the world.
//!
//! A real installation keeps this in its data stores: ingestion jobs in Redis, traces
//! and observations in ClickHouse, media records in PostgreSQL. The event files
//! themselves are in Blob (the Azure side's state), exactly where Langfuse writes them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

/// One ingestion job: the events of one entity that the web pod wrote to Blob and
/// queued for the worker (Langfuse queues a pointer to the file; the job carries the
/// events so the rehearsal's worker need not parse Blob contents back).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct IngestionJob {
    pub project_id: String,
    /// `trace`, `observation` or `score`.
    pub entity: String,
    pub body_id: String,
    /// Where the events were written: `<container>/<path>` on the account.
    pub file: String,
    pub events: Vec<Json>,
}

/// A row of PostgreSQL's `media` table.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MediaRecord {
    pub id: String,
    pub project_id: String,
    pub trace_id: String,
    pub observation_id: Option<String>,
    pub field: String,
    pub sha256_hash: String,
    pub content_type: String,
    pub content_length: u64,
    pub account: String,
    pub bucket_name: String,
    pub bucket_path: String,
    /// Set by the client's `PATCH /api/public/media/<id>` after its upload.
    pub uploaded_at: Option<String>,
    pub upload_http_status: Option<u16>,
    pub upload_http_error: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct LangfuseState {
    /// The ingestion queue (Redis): jobs no worker has taken yet.
    pub queue: Vec<IngestionJob>,
    /// ClickHouse `traces`, by `<project>/<trace id>`.
    pub traces: BTreeMap<String, Json>,
    /// ClickHouse `observations`, by `<project>/<observation id>`.
    pub observations: BTreeMap<String, Json>,
    /// ClickHouse `scores`, by `<project>/<score id>`.
    pub scores: BTreeMap<String, Json>,
    /// Events the worker could not insert (ClickHouse full) and dropped.
    pub dropped: u64,
    /// PostgreSQL `media`, by `<project>/<media id>`.
    pub media: BTreeMap<String, MediaRecord>,
}

/// The key of a project's row in the maps above.
pub fn row_key(project_id: &str, id: &str) -> String {
    format!("{project_id}/{id}")
}
