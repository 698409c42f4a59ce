//! `az::` Blob primitives (azure_storage_blob with an Entra ID token, never a key):
//! list by prefix, upload, download, user delegation key and presigned URLs — against
//! the rehearsal's Blob endpoint and against Azurite, Microsoft's emulator.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::azure_rehearsal::AzureRehearsal;

const ROUND_TRIP: &str = r#"
    let account = "contosolangfusest";
    let r = az::blob_put(account, "langfuse", "events/trace-1.json", "{\"id\":\"trace-1\"}");
    print(`put ${r.outcome} ${r.size}`);
    az::blob_put(account, "langfuse", "media/other.txt", "not an event");
    let names = az::blob_list(account, "langfuse", "events/").map(|b| `${b.name}:${b.size}`);
    print(`listed ${names}`);
    print(`got ${az::blob_get(account, "langfuse", "events/trace-1.json")}`);
    let url = az::user_delegation_sas(account, "langfuse", "events/trace-1.json", "r", 10);
    print(`sas ${type_of(url)} ${url}`);
    let down = http::get(url);
    print(`presigned get ${down.status} ${down.body}`);
    let up_url = az::user_delegation_sas(account, "langfuse", "media/upload.png", "cw", 10);
    let up = http::request("PUT", up_url, #{headers: #{"x-ms-blob-type": "BlockBlob"}, body: "png bytes"});
    print(`presigned put ${up.status}`);
    print(`uploaded ${az::blob_get(account, "langfuse", "media/upload.png")}`);
    let read_only = az::user_delegation_sas(account, "langfuse", "media/nope.png", "r", 10);
    let denied = http::request("PUT", read_only, #{headers: #{"x-ms-blob-type": "BlockBlob"}, body: "x"});
    print(`read-only put ${denied.status}`);
"#;

#[test]
fn blob_round_trip_and_presigned_urls_on_the_rehearsal() {
    let az = AzureRehearsal::start("healthy");
    let out = az
        .test(ROUND_TRIP)
        .stdout_has("put uploaded 16")
        .stdout_has(r#"listed ["events/trace-1.json:16"]"#)
        .stdout_has(r#"got {"id":"trace-1"}"#)
        .stdout_has("sas Secret ***")
        .stdout_has(r#"presigned get 200 {"id":"trace-1"}"#)
        .stdout_has("presigned put 201")
        .stdout_has("uploaded png bytes")
        .stdout_has("read-only put 403")
        .run();
    assert!(
        !out.stdout.contains("sig="),
        "a SAS signature was printed:\n{}",
        out.stdout
    );
    assert!(az.azure(
        |s| s.storage_accounts.values().next().unwrap().containers["langfuse"]
            .blobs
            .contains_key("media/upload.png")
    ));
}

#[test]
fn blob_put_is_planned_in_a_dry_run() {
    let az = AzureRehearsal::start("healthy");
    az.test(r#"print(`outcome ${az::blob_put("contosolangfusest", "langfuse", "events/x.json", "{}").outcome}`);"#)
        .arg("--dry-run")
        .stdout_has("outcome planned")
        .stdout_has("upload blob")
        .run();
    assert!(az.azure(
        |s| s.storage_accounts.values().next().unwrap().containers["langfuse"]
            .blobs
            .is_empty()
    ));
}

#[test]
fn tampered_or_expired_sas_and_shared_keys_are_refused() {
    let az = AzureRehearsal::start("healthy");
    az.test(
        r#"
        az::blob_put("contosolangfusest", "langfuse", "events/a.json", "{}");
        let url = az::user_delegation_sas("contosolangfusest", "langfuse", "events/a.json", "r", 10);
        // a SAS for one blob does not open another
        let base = "https://contosolangfusest.blob.core.windows.net/langfuse/";
        let r = http::get(base + "events/a.json");
        print(`anonymous ${r.status} ${r.headers["x-ms-error-code"]}`);
        let k = http::request("GET", base + "events/a.json", #{headers: #{authorization: "SharedKey contosolangfusest:AAAA"}});
        print(`shared key ${k.status} ${k.headers["x-ms-error-code"]}`);
        "#,
    )
    .stdout_has("anonymous 401 NoAuthenticationInformation")
    .stdout_has("shared key 403 KeyBasedAuthenticationNotPermitted")
    .run();
}

/// Azurite's Blob emulator on a free port with HTTPS and OAuth, the account named like
/// the client's, and a certificate for `<account>.blob.core.windows.net` signed by a CA
/// the test trusts.
struct Azurite {
    child: Child,
    port: u16,
    ca_pem: String,
    _dir: tempfile::TempDir,
}

impl Azurite {
    fn start(account: &str) -> Azurite {
        let out = Command::new(crate::test::repo_root().join("scripts/azurite.sh"))
            .arg("path")
            .output()
            .expect("running scripts/azurite.sh");
        assert!(
            out.status.success(),
            "scripts/azurite.sh could not provide Azurite: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let bin = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let dir = tempfile::tempdir().unwrap();
        let ca = lfrun_sim::tls::RehearsalCa::generate().unwrap();
        let (cert, key) = ca
            .issue_pem(&[format!("{account}.blob.core.windows.net")])
            .unwrap();
        std::fs::write(dir.path().join("cert.pem"), cert).unwrap();
        std::fs::write(dir.path().join("key.pem"), key).unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut child = Command::new(&bin)
            .args(["--blobHost", "127.0.0.1", "--blobPort", &port.to_string(), "--oauth", "basic", "--skipApiVersionCheck", "--loose", "--silent", "--disableTelemetry"])
            .arg("--cert").arg(dir.path().join("cert.pem"))
            .arg("--key").arg(dir.path().join("key.pem"))
            .arg("--location").arg(dir.path())
            // the emulator's well-known development key, under the client's account name
            .env("AZURITE_ACCOUNTS", format!("{account}:Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="))
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("starting azurite-blob");
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = child.try_wait() {
                let mut err = String::new();
                if let Some(mut e) = child.stderr.take() {
                    use std::io::Read;
                    let _ = e.read_to_string(&mut err);
                }
                panic!("Azurite exited ({status}) before listening: {err}");
            }
            assert!(
                Instant::now() < deadline,
                "Azurite did not listen on port {port} within 30s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Azurite {
            child,
            port,
            ca_pem: ca.cert_pem,
            _dir: dir,
        }
    }
}

impl Drop for Azurite {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn blob_round_trip_and_presigned_urls_on_azurite() {
    let account = "contosolangfusest";
    let azurite = Azurite::start(account);
    // Entra ID tokens from the rehearsal; every Blob request goes to Azurite
    let az = AzureRehearsal::start("healthy");
    let host = format!("{account}.blob.core.windows.net");
    let to_azurite: std::net::SocketAddr = format!("127.0.0.1:{}", azurite.port).parse().unwrap();
    let both_cas = format!(
        "{}\n{}",
        std::fs::read_to_string(&az.info.ca_file).unwrap(),
        azurite.ca_pem
    );
    let config = az
        .config()
        .replace(
            &format!("    {host}: \"{}\"\n", az.info.address),
            &format!("    {host}: \"{to_azurite}\"\n"),
        )
        .replace(
            &format!("ca_file: {}", az.info.ca_file.display()),
            "ca_file: cas.pem",
        );
    assert!(config.contains(&to_azurite.to_string()), "{config}");
    // the container, made through Azurite's data plane with the same kind of token
    let token = az.access_token("https://storage.azure.com/.default");
    let status = az.cluster.block_on(async {
        let http = reqwest::Client::builder()
            .tls_certs_merge(
                reqwest::Certificate::from_pem_bundle(azurite.ca_pem.as_bytes()).unwrap(),
            )
            .resolve(&host, to_azurite)
            .build()
            .unwrap();
        http.put(format!("https://{host}/langfuse?restype=container"))
            .bearer_auth(token)
            .header("x-ms-version", "2025-11-05")
            .header("content-length", "0")
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    });
    assert_eq!(status, 201, "creating the container on Azurite");
    az.test_with_config(&config, ROUND_TRIP)
        .file("cas.pem", &both_cas)
        .stdout_has("put uploaded 16")
        .stdout_has(r#"listed ["events/trace-1.json:16"]"#)
        .stdout_has(r#"got {"id":"trace-1"}"#)
        .stdout_has(r#"presigned get 200 {"id":"trace-1"}"#)
        .stdout_has("presigned put 201")
        .stdout_has("uploaded png bytes")
        .stdout_has("read-only put 403")
        .run();
}
