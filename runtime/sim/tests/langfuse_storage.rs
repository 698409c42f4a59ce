//! The rehearsal's Langfuse ingestion, traces and media after a real `helm install`:
//! events land in Blob only when the pods' workload identity really grants access,
//! traces read back unless ClickHouse's disk is full, and presigned media URLs work
//! only with the Storage Blob Delegator role.

mod common;
mod langfuse_site;

use langfuse_site::*;
use reqwest::Method;
use serde_json::json;

async fn ingest(site: &Site, event_id: &str, trace_id: &str) -> Answer {
    site.send(
        site.api(Method::POST, "/api/public/ingestion")
            .json(&json!({"batch": [trace_event(event_id, trace_id)]})),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trace_lands_under_events_and_reads_back() {
    let site = deployed("healthy").await;
    let r = ingest(&site, "evt-1", "trace-1").await;
    assert_eq!(r.status, 207, "{}", r.text);
    assert_eq!(
        r.json(),
        json!({"successes": [{"id": "evt-1", "status": 201}], "errors": []})
    );
    let blobs = site.list_blobs("events/").await;
    assert_eq!(
        blobs,
        vec![format!("events/{PROJECT_ID}/trace/trace-1/evt-1.json")]
    );

    let trace = site
        .send(site.api(Method::GET, "/api/public/traces/trace-1"))
        .await;
    assert_eq!(trace.status, 200, "{}", trace.text);
    assert_eq!(trace.json()["name"], "lfrun-validate");
    assert_eq!(trace.json()["input"], json!({"q": "ping"}));

    let wrong = site
        .send(
            site.https
                .post(format!("{PUBLIC_URL}/api/public/ingestion"))
                .basic_auth(PUBLIC_KEY, Some("sk-lf-wrong"))
                .json(&json!({"batch": [trace_event("evt-2", "trace-2")]})),
        )
        .await;
    assert_eq!(wrong.status, 401);
    assert_eq!(
        wrong.json()["message"],
        "Invalid credentials. Confirm that you've configured the correct host."
    );
    assert_eq!(site.list_blobs("events/").await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ingestion_fails_without_storage_blob_data_contributor() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = scenario_file(
        dir.path(),
        "no-data-contributor",
        "  identity_roles: [\"Storage Blob Delegator\"]",
        "  []",
    );
    let site = deployed(scenario.to_str().unwrap()).await;
    let r = ingest(&site, "evt-1", "trace-1").await;
    assert_eq!(r.status, 500, "{}", r.text);
    assert_eq!(
        r.json(),
        json!({"message": "Invalid request data", "errors": ["Failed to upload events to blob storage, aborting event processing"]})
    );
    let logs = site.logs("web").await;
    assert!(
        logs.contains("Failed to upload event to S3 RestError")
            && logs.contains("AuthorizationPermissionMismatch"),
        "{logs}"
    );
    assert!(site.list_blobs("events/").await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ingestion_fails_when_the_federated_subject_is_not_the_service_account() {
    let site = deployed("federated-subject-mismatch").await;
    let r = ingest(&site, "evt-1", "trace-1").await;
    assert_eq!(r.status, 500, "{}", r.text);
    let logs = site.logs("web").await;
    assert!(
        logs.contains("AADSTS70021") && logs.contains("system:serviceaccount:langfuse:langfuse"),
        "{logs}"
    );
    assert!(site.list_blobs("events/").await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_clickhouse_disk_drops_the_trace() {
    let site = deployed("clickhouse-disk-full").await;
    let r = ingest(&site, "evt-1", "trace-1").await;
    assert_eq!(r.status, 207, "{}", r.text);
    // the event file is written (Blob is fine) …
    assert_eq!(site.list_blobs("events/").await.len(), 1);
    // … but the worker cannot insert it
    let trace = site
        .send(site.api(Method::GET, "/api/public/traces/trace-1"))
        .await;
    assert_eq!(trace.status, 404);
    assert_eq!(
        trace.json(),
        json!({"message": "Trace trace-1 not found within authorized project", "error": "LangfuseNotFoundError"})
    );
    let worker = site.logs("worker").await;
    assert!(
        worker.contains("error: dropped 1 traces/observations"),
        "{worker}"
    );
}

fn media_body(bytes: &[u8]) -> serde_json::Value {
    use base64::Engine as _;
    let sha = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes);
    json!({
        "traceId": "trace-1",
        "contentType": "image/png",
        "contentLength": bytes.len(),
        "sha256Hash": base64::engine::general_purpose::STANDARD.encode(sha.as_ref()),
        "field": "input",
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn media_upload_and_download_through_presigned_urls() {
    let site = deployed("healthy").await;
    let bytes = b"\x89PNG rehearsal image".to_vec();
    let created = site
        .send(
            site.api(Method::POST, "/api/public/media")
                .json(&media_body(&bytes)),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let media_id = created.json()["mediaId"].as_str().unwrap().to_string();
    let upload_url = created.json()["uploadUrl"].as_str().unwrap().to_string();
    assert!(
        upload_url.starts_with(&format!(
            "https://{ACCOUNT}.blob.core.windows.net/{CONTAINER}/media/{PROJECT_ID}/{media_id}.png?"
        )),
        "{upload_url}"
    );
    assert!(
        upload_url.contains("skoid="),
        "a user delegation SAS: {upload_url}"
    );

    // the Blob endpoint checks the signature
    let forged = upload_url.replace("sig=", "sig=AAAA");
    let refused = site
        .send(
            site.https
                .put(&forged)
                .header("x-ms-blob-type", "BlockBlob")
                .body(bytes.clone()),
        )
        .await;
    assert_eq!(refused.status, 403, "{}", refused.text);

    let put = site
        .send(
            site.https
                .put(&upload_url)
                .header("x-ms-blob-type", "BlockBlob")
                .header("content-type", "image/png")
                .body(bytes.clone()),
        )
        .await;
    assert_eq!(put.status, 201, "{}", put.text);

    let not_yet = site
        .send(site.api(Method::GET, &format!("/api/public/media/{media_id}")))
        .await;
    assert_eq!(not_yet.status, 404);
    assert_eq!(not_yet.json()["message"], "Media not yet uploaded");
    let patched = site
        .send(
            site.api(Method::PATCH, &format!("/api/public/media/{media_id}"))
                .json(&json!({"uploadedAt": "2026-01-15T10:00:01.000Z", "uploadHttpStatus": put.status, "uploadTimeMs": 12})),
        )
        .await;
    assert_eq!(patched.status, 200, "{}", patched.text);

    let media = site
        .send(site.api(Method::GET, &format!("/api/public/media/{media_id}")))
        .await;
    assert_eq!(media.status, 200, "{}", media.text);
    assert_eq!(media.json()["contentType"], "image/png");
    let url = media.json()["url"].as_str().unwrap().to_string();
    let download = site.https.get(&url).send().await.unwrap();
    assert_eq!(download.status(), 200);
    assert_eq!(download.bytes().await.unwrap().to_vec(), bytes);

    // the same file again: already uploaded, no new URL
    let again = site
        .send(
            site.api(Method::POST, "/api/public/media")
                .json(&media_body(&bytes)),
        )
        .await;
    assert_eq!(again.status, 201);
    assert_eq!(
        again.json(),
        json!({"mediaId": media_id, "uploadUrl": null})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presigned_urls_fail_without_the_delegator_role() {
    let site = deployed("missing-delegator-role").await;
    let created = site
        .send(
            site.api(Method::POST, "/api/public/media")
                .json(&media_body(b"image")),
        )
        .await;
    assert_eq!(created.status, 500, "{}", created.text);
    assert_eq!(
        created.json(),
        json!({"message": "Failed to get media upload URL", "error": "InternalServerError"})
    );
    let logs = site.logs("web").await;
    assert!(
        logs.contains("statusCode: 403") && logs.contains("AuthorizationPermissionMismatch"),
        "{logs}"
    );
    assert!(logs.contains("Storage Blob Delegator"), "{logs}");
    // uploads by the pod itself still work: the Data Contributor role is there
    assert_eq!(ingest(&site, "evt-1", "trace-1").await.status, 207);
}
