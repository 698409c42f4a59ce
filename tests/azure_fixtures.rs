//! The rehearsal's Azure answers are shaped like the examples of the Azure REST API
//! specifications: each fixture in `tests/fixtures/azure/` (naming the example it
//! follows) is requested from the rehearsal, and every field of the fixture's body
//! must be in the answer with the same JSON type. The token comes from the rehearsal's
//! Entra ID endpoint through the client-assertion grant, as workload identity does.

use serde_json::Value as Json;

use crate::azure_rehearsal::AzureRehearsal;

/// Every field of `want` is in `got` with the same JSON type (arrays: their first items).
fn same_shape(want: &Json, got: &Json, at: &str, problems: &mut Vec<String>) {
    match (want, got) {
        (Json::Object(w), Json::Object(g)) => {
            for (k, v) in w {
                match g.get(k) {
                    Some(gv) => same_shape(v, gv, &format!("{at}.{k}"), problems),
                    None => problems.push(format!("{at}.{k} is missing")),
                }
            }
        }
        (Json::Array(w), Json::Array(g)) => {
            if let (Some(w0), Some(g0)) = (w.first(), g.first()) {
                same_shape(w0, g0, &format!("{at}[0]"), problems);
            } else if !w.is_empty() {
                problems.push(format!("{at} is empty"));
            }
        }
        (Json::Null, _) => {}
        (w, g) if std::mem::discriminant(w) == std::mem::discriminant(g) => {}
        (w, g) => problems.push(format!("{at}: expected a value like {w}, got {g}")),
    }
}

#[test]
fn rehearsal_answers_follow_the_specification_examples() {
    let az = AzureRehearsal::start("healthy");
    let principal = az.azure(|s| s.identities.values().next().unwrap().principal_id.clone());
    let subs = [
        ("{subscription}", "3f1c2d4e-0000-4000-8000-0000000005ab"),
        ("{group}", "rg-contoso-langfuse-test"),
        ("{aks}", "aks-contoso-langfuse"),
        ("{acr}", "contosolangfuse"),
        ("{account}", "contosolangfusest"),
        ("{container}", "langfuse"),
        ("{identity_principal}", principal.as_str()),
        ("{identity}", "id-contoso-langfuse"),
        ("{app}", "5d1e7a00-0000-4000-8000-00000000a11d"),
    ];
    let dir = crate::test::repo_root().join("tests/fixtures/azure");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    assert!(files.len() >= 10, "fixtures in {}", dir.display());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut problems = Vec::new();
    let arm = az.access_token("https://management.azure.com/.default");
    let graph = az.access_token("https://graph.microsoft.com/.default");
    let http = az.http();
    runtime.block_on(async {
        for file in &files {
            let mut text = std::fs::read_to_string(file).unwrap();
            for (k, v) in subs {
                text = text.replace(k, v);
            }
            let fixture: Json =
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            assert!(
                fixture["follows"].as_str().is_some_and(|f| !f.is_empty()),
                "{} names the example it follows",
                file.display()
            );
            let host = fixture["host"].as_str().unwrap_or("management.azure.com");
            let req = &fixture["request"];
            let path = req["path"].as_str().unwrap();
            let api = req["api-version"].as_str().unwrap_or("");
            let sep = if path.contains('?') { '&' } else { '?' };
            let url = if api.is_empty() {
                format!("https://{host}{path}")
            } else {
                format!("https://{host}{path}{sep}api-version={api}")
            };
            let bearer = if host.starts_with("graph.") {
                &graph
            } else {
                &arm
            };
            let method =
                reqwest::Method::from_bytes(req["method"].as_str().unwrap().as_bytes()).unwrap();
            let resp = http
                .request(method, &url)
                .bearer_auth(bearer)
                .header("content-length", "0")
                .send()
                .await
                .unwrap();
            let name = file.file_name().unwrap().to_string_lossy().to_string();
            let status = resp.status().as_u16();
            let got: Json = resp.json().await.unwrap_or(Json::Null);
            if Some(status as u64) != fixture["response"]["status"].as_u64() {
                problems.push(format!(
                    "{name}: status {status}, expected {} ({got})",
                    fixture["response"]["status"]
                ));
                continue;
            }
            same_shape(&fixture["response"]["body"], &got, &name, &mut problems);
        }
    });
    assert!(
        problems.is_empty(),
        "answers differ from the specification examples:\n{}",
        problems.join("\n")
    );
}
