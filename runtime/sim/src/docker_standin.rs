//! The rehearsal's `docker`: a stand-in for the docker CLI when no engine exists.
//!
//! Playbooks build and push the Langfuse images with `docker::` (guide §6). On the
//! rehearsal there is no Docker engine, yet the rehearsal cluster must be able to
//! pull exactly the tags a playbook pushed (a tag that was never pushed must end in
//! ImagePullBackOff, as on AKS). So in `--target sim`, `tools.docker` points at this
//! stand-in (`lfrun sim docker …`), which speaks the same command line:
//!
//! - `version [--format '{{json .}}']` — a client and "engine" version (≥ 24);
//! - `build [-f F] [-t TAG]… [--build-arg …] [--platform P] CONTEXT` — records the
//!   tags as local images (no build context is needed);
//! - `tag SOURCE TARGET` — a local image under another name;
//! - `login HOST -u USER --password-stdin` — checks the credential against the
//!   registry's token endpoint and keeps it, like `~/.docker/config.json`;
//! - `push IMAGE` — pushes through the rehearsal's HTTPS front door with the Docker
//!   Registry HTTP API v2 (token from `/oauth2/token`, blob uploads, manifest `PUT`),
//!   so the registry records the tag in the World exactly as a real push would, and
//!   refuses it the same way (no login, no AcrPush).
//!
//! # Environment (the contract with the CLI's target selection)
//!
//! - `LFRUN_SIM_STATE_DIR` (required): the rehearsal state dir. The stand-in keeps its
//!   local images and logins under `docker/` there, and reads `azure/client.json`
//!   (written by the running rehearsal) for the HTTPS listener address and the CA.
//! - `LFRUN_SIM_HTTPS_ADDR` (optional): the listener address, overriding client.json.
//! - `LFRUN_SIM_CA_FILE` (optional): the CA certificate (PEM), overriding client.json.
//!
//! [`install`] writes a small wrapper script that sets `LFRUN_SIM_STATE_DIR` and runs
//! `lfrun sim docker "$@"`; the CLI points `tools.docker` at it.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use serde_json::{json, Value as Json};

/// The docker version the stand-in reports (the guide asks for 24+).
pub const VERSION: &str = "27.5.1-lfrun-rehearsal";

/// Writes `<state_dir>/docker/docker`, a wrapper running `LFRUN sim docker "$@"` with
/// `LFRUN_SIM_STATE_DIR` set; returns its path (for `tools.docker`).
pub fn install(state_dir: &Path, lfrun: &Path) -> std::io::Result<PathBuf> {
    let dir = state_dir.join("docker");
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("docker");
    let script = format!(
        "#!/bin/sh\n# docker stand-in of the lfrun rehearsal (see `lfrun sim docker`)\nLFRUN_SIM_STATE_DIR={} exec {} sim docker \"$@\"\n",
        shell_quote(&state_dir.display().to_string()),
        shell_quote(&lfrun.display().to_string())
    );
    std::fs::write(&path, script)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))?;
    }
    Ok(path)
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// Runs one docker command line (the arguments after `docker`); returns the exit code.
pub fn main(args: Vec<String>) -> i32 {
    match run(&args) {
        Ok(()) => 0,
        Err(message) => {
            eprintln!("{message}");
            1
        }
    }
}

fn run(args: &[String]) -> Result<(), String> {
    // docker's global options that take a value, before the command
    let mut rest = args;
    while let Some(first) = rest.first() {
        match first.as_str() {
            "--config" | "--context" | "-c" | "--log-level" | "-l" | "--host" | "-H" => {
                rest = &rest[rest.len().min(2)..]
            }
            f if f.starts_with('-') => rest = &rest[1..],
            _ => break,
        }
    }
    let Some((command, rest)) = rest.split_first() else {
        return Err("Usage: docker [OPTIONS] COMMAND (rehearsal stand-in: version, build, tag, login, push, manifest inspect)".into());
    };
    match command.as_str() {
        "version" => version(rest),
        "build" => build(&Store::open()?, rest),
        "tag" => tag(&Store::open()?, rest),
        "login" => login(&Store::open()?, rest),
        "push" => push(&Store::open()?, rest),
        "manifest" => manifest(&Store::open()?, rest),
        other => Err(format!(
            "docker {other}: not available in the lfrun rehearsal (its docker stand-in knows version, build, tag, login and push)"
        )),
    }
}

fn version(args: &[String]) -> Result<(), String> {
    let info = json!({
        "Client": {"Version": VERSION, "ApiVersion": "1.47", "Os": "linux", "Arch": "amd64"},
        "Server": {"Version": VERSION, "ApiVersion": "1.47", "Os": "linux", "Arch": "amd64"},
    });
    match option(args, &["--format", "-f"]) {
        Some(f) if f.contains("json") => println!("{info}"),
        Some(f) if f.contains(".Client.Version") || f.contains(".Server.Version") => println!("{VERSION}"),
        _ => println!("Client:\n Version:           {VERSION}\n\nServer: lfrun rehearsal\n Engine:\n  Version:          {VERSION}"),
    }
    Ok(())
}

fn build(store: &Store, args: &[String]) -> Result<(), String> {
    let tags = options(args, &["--tag", "-t"]);
    if tags.is_empty() {
        return Err("the rehearsal's docker build needs at least one --tag (an untagged image could never be pushed)".into());
    }
    let mut images = store.images()?;
    for t in &tags {
        images.insert(normalize(t));
    }
    store.save_images(&images)?;
    for t in &tags {
        println!("Successfully tagged {t}");
    }
    Ok(())
}

fn tag(store: &Store, args: &[String]) -> Result<(), String> {
    let positional = positionals(args, &[]);
    let [source, target] = positional.as_slice() else {
        return Err(
            "\"docker tag\" requires exactly 2 arguments: SOURCE_IMAGE TARGET_IMAGE".into(),
        );
    };
    let mut images = store.images()?;
    if !images.contains(&normalize(source)) {
        return Err(format!(
            "Error response from daemon: No such image: {source}"
        ));
    }
    images.insert(normalize(target));
    store.save_images(&images)
}

fn login(store: &Store, args: &[String]) -> Result<(), String> {
    let positional = positionals(args, &["--username", "-u", "--password", "-p"]);
    let Some(host) = positional.first() else {
        return Err(
            "docker login: the rehearsal needs the registry host (e.g. <acr>.azurecr.io)".into(),
        );
    };
    if option(args, &["--password", "-p"]).is_some() {
        return Err("docker login: use --password-stdin; a password on the command line is visible to every user".into());
    }
    if !args.iter().any(|a| a == "--password-stdin") {
        return Err(
            "docker login: the rehearsal reads the password from --password-stdin only".into(),
        );
    }
    let username = option(args, &["--username", "-u"]).unwrap_or_default();
    let mut password = String::new();
    std::io::stdin()
        .read_to_string(&mut password)
        .map_err(|e| format!("reading the password from stdin: {e}"))?;
    let password = password.trim_end_matches(['\n', '\r']).to_string();
    let client = Registry::connect(store, host)?;
    client.token(&username, &password, "registry:catalog:*")?;
    store.save_login(host, &username, &password)?;
    println!("Login Succeeded");
    Ok(())
}

fn push(store: &Store, args: &[String]) -> Result<(), String> {
    let positional = positionals(args, &[]);
    let [image] = positional.as_slice() else {
        return Err("\"docker push\" requires exactly 1 argument: IMAGE".into());
    };
    let image = normalize(image);
    if !store.images()?.contains(&image) {
        return Err(format!(
            "An image does not exist locally with the tag: {image}"
        ));
    }
    let (repository, tag) = image
        .rsplit_once(':')
        .ok_or("an image reference needs a tag")?;
    let (host, name) = repository
        .split_once('/')
        .ok_or_else(|| format!("{image}: no registry host"))?;
    let (username, password) = store.login(host)?.ok_or_else(|| {
        format!("unauthorized: authentication required (docker login {host} first)")
    })?;
    println!("The push refers to repository [{repository}]");
    let client = Registry::connect(store, host)?;
    let token = client.token(
        &username,
        &password,
        &format!("repository:{name}:pull,push"),
    )?;
    let config = serde_json::to_vec(&json!({
        "architecture": "amd64", "os": "linux",
        "config": {"Labels": {"org.opencontainers.image.ref.name": image.clone(), "built-by": "lfrun rehearsal"}},
    }))
    .unwrap_or_default();
    let layer = format!("lfrun rehearsal layer of {image}").into_bytes();
    for blob in [&layer, &config] {
        client.upload_blob(&token, name, blob)?;
    }
    println!("{}: Pushed", &sha256(&layer)[..12]);
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": config.len(), "digest": format!("sha256:{}", sha256(&config))},
        "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": layer.len(), "digest": format!("sha256:{}", sha256(&layer))}],
    }))
    .unwrap_or_default();
    let digest = client.put_manifest(&token, name, tag, &manifest)?;
    println!("{tag}: digest: {digest} size: {}", manifest.len());
    Ok(())
}

/// `docker manifest inspect IMAGE`: prints the manifest when the registry has the tag,
/// fails with docker's "no such manifest" otherwise (how scripts ask "was it pushed?").
fn manifest(store: &Store, args: &[String]) -> Result<(), String> {
    let positional = positionals(args, &[]);
    let ["inspect", image] = positional.iter().map(String::as_str).collect::<Vec<_>>()[..] else {
        return Err("the rehearsal stand-in knows `docker manifest inspect IMAGE` only".into());
    };
    let image = normalize(image);
    let (repository, tag) = image
        .rsplit_once(':')
        .ok_or("an image reference needs a tag")?;
    let (host, name) = repository
        .split_once('/')
        .ok_or_else(|| format!("{image}: no registry host"))?;
    let (username, password) = store.login(host)?.ok_or_else(|| {
        format!("unauthorized: authentication required (docker login {host} first)")
    })?;
    let client = Registry::connect(store, host)?;
    let token = client.token(&username, &password, &format!("repository:{name}:pull"))?;
    let request = client
        .http
        .get(client.url(&format!("/v2/{name}/manifests/{tag}")))
        .bearer_auth(&token)
        .header(
            "accept",
            "application/vnd.docker.distribution.manifest.v2+json",
        );
    let (status, body, _) = client.send(request)?;
    match status {
        200 => {
            println!("{}", String::from_utf8_lossy(&body));
            Ok(())
        }
        404 => Err(format!("no such manifest: {image}")),
        401 | 403 => Err(denied(host, &body)),
        _ => Err(format!(
            "manifest of {image}: {status} {}",
            String::from_utf8_lossy(&body)
        )),
    }
}

/// `docker.io` style references are left alone; the rehearsal only pushes to hosts it serves.
fn normalize(image: &str) -> String {
    let last = image.rsplit('/').next().unwrap_or(image);
    if last.contains(':') || image.contains('@') {
        image.to_string()
    } else {
        format!("{image}:latest")
    }
}

/// The value of the first of `names` (`--tag X`, `--tag=X`, `-t X`).
fn option(args: &[String], names: &[&str]) -> Option<String> {
    options(args, names).into_iter().next()
}

fn options(args: &[String], names: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        if names.contains(&a.as_str()) {
            if let Some(v) = args.get(i + 1) {
                out.push(v.clone());
            }
            i += 2;
            continue;
        }
        if let Some((k, v)) = a.split_once('=') {
            if names.contains(&k) {
                out.push(v.to_string());
            }
        }
        i += 1;
    }
    out
}

/// Arguments that are not options; `with_value` lists this command's options that take a value.
fn positionals(args: &[String], with_value: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        if with_value.contains(&a.as_str()) {
            i += 2;
            continue;
        }
        if !a.starts_with('-') {
            out.push(a.clone());
        }
        i += 1;
    }
    out
}

fn sha256(bytes: &[u8]) -> String {
    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The stand-in's own state: local images and logins, under `<state>/docker/`.
struct Store {
    state_dir: PathBuf,
    dir: PathBuf,
}

impl Store {
    fn open() -> Result<Store, String> {
        let state_dir = std::env::var("LFRUN_SIM_STATE_DIR")
            .ok()
            .filter(|s| !s.is_empty())
            .map(PathBuf::from)
            .ok_or("the lfrun rehearsal's docker stand-in needs LFRUN_SIM_STATE_DIR (the rehearsal state dir); it is meant to run as tools.docker under --target sim")?;
        let dir = state_dir.join("docker");
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        Ok(Store { state_dir, dir })
    }

    fn read(&self, file: &str) -> Result<Json, String> {
        let path = self.dir.join(file);
        match std::fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display())),
            Err(_) => Ok(Json::Null),
        }
    }

    fn write(&self, file: &str, value: &Json) -> Result<(), String> {
        let path = self.dir.join(file);
        let tmp = self.dir.join(format!(".{file}.tmp"));
        std::fs::write(&tmp, serde_json::to_vec_pretty(value).unwrap_or_default())
            .map_err(|e| format!("{}: {e}", tmp.display()))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o600));
        }
        std::fs::rename(&tmp, &path).map_err(|e| format!("{}: {e}", path.display()))
    }

    fn images(&self) -> Result<BTreeSet<String>, String> {
        Ok(self.read("images.json")?["images"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default())
    }

    fn save_images(&self, images: &BTreeSet<String>) -> Result<(), String> {
        self.write("images.json", &json!({"images": images}))
    }

    /// Kept like docker's `config.json`: `auths.<host>.auth` = base64(user:password), mode 0600.
    fn save_login(&self, host: &str, username: &str, password: &str) -> Result<(), String> {
        let mut config = self.read("config.json")?;
        if !config.is_object() {
            config = json!({"auths": {}});
        }
        let auth =
            base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"));
        config["auths"][host] = json!({"auth": auth});
        self.write("config.json", &config)
    }

    fn login(&self, host: &str) -> Result<Option<(String, String)>, String> {
        let config = self.read("config.json")?;
        let Some(auth) = config["auths"][host]["auth"].as_str() else {
            return Ok(None);
        };
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(auth)
            .map_err(|e| format!("config.json: {e}"))?;
        let text = String::from_utf8(decoded).map_err(|e| format!("config.json: {e}"))?;
        Ok(text
            .split_once(':')
            .map(|(u, p)| (u.to_string(), p.to_string())))
    }

    /// The HTTPS listener and CA: env overrides, else `azure/client.json` of the running rehearsal.
    fn front_door(&self) -> Result<(SocketAddr, PathBuf), String> {
        let info: Json = std::fs::read_to_string(self.state_dir.join("azure").join("client.json"))
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or(Json::Null);
        let address = match std::env::var("LFRUN_SIM_HTTPS_ADDR") {
            Ok(a) if !a.is_empty() => a,
            _ => info["address"].as_str().unwrap_or_default().to_string(),
        };
        let address: SocketAddr = address.parse().map_err(|_| {
            "the rehearsal's registry is not reachable: no HTTPS listener in azure/client.json (is the rehearsal running?) and no LFRUN_SIM_HTTPS_ADDR".to_string()
        })?;
        let ca = match std::env::var("LFRUN_SIM_CA_FILE") {
            Ok(c) if !c.is_empty() => PathBuf::from(c),
            _ => PathBuf::from(info["ca_file"].as_str().unwrap_or_default()),
        };
        Ok((address, ca))
    }
}

/// A registry's answer: status, body, headers (lower-case names).
type Answer = (u16, Vec<u8>, BTreeMap<String, String>);

/// A registry host reached through the rehearsal's front door, with the real host name
/// (SNI, `Host`, certificate) pinned to the listener.
struct Registry {
    host: String,
    http: reqwest::Client,
    runtime: tokio::runtime::Runtime,
}

impl Registry {
    fn connect(store: &Store, host: &str) -> Result<Registry, String> {
        if !host.ends_with(".azurecr.io") {
            return Err(format!(
                "{host}: the lfrun rehearsal's registry serves <acr>.azurecr.io only (guide §6 pushes to ACR)"
            ));
        }
        let (address, ca_file) = store.front_door()?;
        let pem = std::fs::read(&ca_file)
            .map_err(|e| format!("the rehearsal CA {}: {e}", ca_file.display()))?;
        let ca = reqwest::Certificate::from_pem(&pem)
            .map_err(|e| format!("the rehearsal CA {}: {e}", ca_file.display()))?;
        let http = reqwest::Client::builder()
            .resolve(host, address)
            .add_root_certificate(ca)
            .user_agent(format!("docker/{VERSION} (lfrun rehearsal)"))
            .build()
            .map_err(|e| format!("HTTPS client: {e}"))?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("async runtime: {e}"))?;
        Ok(Registry {
            host: host.to_string(),
            http,
            runtime,
        })
    }

    fn url(&self, path: &str) -> String {
        format!("https://{}{path}", self.host)
    }

    /// An access token for `scope` from `/oauth2/token`, with the login as Basic credentials.
    fn token(&self, username: &str, password: &str, scope: &str) -> Result<String, String> {
        let url = self.url(&format!(
            "/oauth2/token?service={}&scope={}",
            encode(&self.host),
            encode(scope)
        ));
        let request = self.http.get(&url).basic_auth(username, Some(password));
        let (status, body, _) = self.send(request)?;
        if status == 401 || status == 403 {
            return Err(format!("Error response from daemon: Get \"https://{}/v2/\": unauthorized: authentication required", self.host));
        }
        if status != 200 {
            return Err(format!(
                "Error response from daemon: {url}: {status} {}",
                String::from_utf8_lossy(&body)
            ));
        }
        let json: Json = serde_json::from_slice(&body).map_err(|e| format!("{url}: {e}"))?;
        json["access_token"]
            .as_str()
            .map(String::from)
            .ok_or_else(|| format!("{url}: no access_token in the answer"))
    }

    fn upload_blob(&self, token: &str, name: &str, blob: &[u8]) -> Result<(), String> {
        let digest = format!("sha256:{}", sha256(blob));
        let request = self
            .http
            .post(self.url(&format!(
                "/v2/{name}/blobs/uploads/?digest={}",
                encode(&digest)
            )))
            .bearer_auth(token)
            .header("content-type", "application/octet-stream")
            .body(blob.to_vec());
        let (status, body, _) = self.send(request)?;
        match status {
            201 | 202 => Ok(()),
            401 | 403 => Err(denied(&self.host, &body)),
            _ => Err(format!(
                "blob upload to {}/{name}: {status} {}",
                self.host,
                String::from_utf8_lossy(&body)
            )),
        }
    }

    /// `PUT /v2/<name>/manifests/<tag>`; returns the manifest digest.
    fn put_manifest(
        &self,
        token: &str,
        name: &str,
        tag: &str,
        manifest: &[u8],
    ) -> Result<String, String> {
        let request = self
            .http
            .put(self.url(&format!("/v2/{name}/manifests/{tag}")))
            .bearer_auth(token)
            .header(
                "content-type",
                "application/vnd.docker.distribution.manifest.v2+json",
            )
            .body(manifest.to_vec());
        let (status, body, headers) = self.send(request)?;
        match status {
            200 | 201 => Ok(headers
                .get("docker-content-digest")
                .cloned()
                .unwrap_or_else(|| format!("sha256:{}", sha256(manifest)))),
            401 | 403 => Err(denied(&self.host, &body)),
            _ => Err(format!(
                "manifest upload to {}/{name}:{tag}: {status} {}",
                self.host,
                String::from_utf8_lossy(&body)
            )),
        }
    }

    fn send(&self, request: reqwest::RequestBuilder) -> Result<Answer, String> {
        self.runtime.block_on(async {
            let response = request.send().await.map_err(|e| {
                format!("the rehearsal registry {} is not reachable: {e}", self.host)
            })?;
            let status = response.status().as_u16();
            let headers = response
                .headers()
                .iter()
                .filter_map(|(k, v)| {
                    Some((
                        k.as_str().to_ascii_lowercase(),
                        v.to_str().ok()?.to_string(),
                    ))
                })
                .collect();
            let body = response
                .bytes()
                .await
                .map_err(|e| format!("reading the answer of {}: {e}", self.host))?;
            Ok((status, body.to_vec(), headers))
        })
    }
}

fn encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

fn denied(host: &str, body: &[u8]) -> String {
    let message = serde_json::from_slice::<Json>(body)
        .ok()
        .and_then(|j| j["errors"][0]["message"].as_str().map(String::from))
        .unwrap_or_else(|| "requested access to the resource is denied".into());
    format!("denied: {message} ({host})")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn reads_docker_options_in_both_forms() {
        let args = s(&[
            "--file",
            "web/Dockerfile",
            "-t",
            "a:1",
            "--tag=b:2",
            "--platform",
            "linux/amd64",
            ".",
        ]);
        assert_eq!(options(&args, &["--tag", "-t"]), ["a:1", "b:2"]);
        assert_eq!(
            option(&args, &["--platform"]).as_deref(),
            Some("linux/amd64")
        );
        assert_eq!(
            positionals(
                &s(&["r.azurecr.io", "-u", "user", "--password-stdin"]),
                &["-u"]
            ),
            ["r.azurecr.io"]
        );
    }

    #[test]
    fn untagged_references_mean_latest() {
        assert_eq!(
            normalize("r.azurecr.io/langfuse-web"),
            "r.azurecr.io/langfuse-web:latest"
        );
        assert_eq!(
            normalize("r.azurecr.io/langfuse-web:abc1234"),
            "r.azurecr.io/langfuse-web:abc1234"
        );
        assert_eq!(normalize("localhost:5000/x"), "localhost:5000/x:latest");
    }

    #[test]
    fn wrapper_sets_the_state_dir() {
        let dir = tempfile::tempdir().unwrap();
        let path = install(dir.path(), Path::new("/usr/bin/lfrun")).unwrap();
        let text = std::fs::read_to_string(path).unwrap();
        assert!(text.contains("LFRUN_SIM_STATE_DIR='"), "{text}");
        assert!(
            text.contains("'/usr/bin/lfrun' sim docker \"$@\""),
            "{text}"
        );
    }
}
