//! The Kubernetes API server's HTTP side: URL grammar, content negotiation, request
//! logging and fault injection around the verbs in `handlers.rs`.
//!
//! Kubernetes URLs are regular but awkward for a router (`/api/v1/namespaces/{ns}` is a
//! namespace, `/api/v1/namespaces/{ns}/pods` a collection in it), so one fallback handler
//! parses the path itself, the way kube-apiserver's request-info resolver does.

use crate::api_faults::ApiFaults;
use crate::kube::handlers::{self, DeleteOptions, Part, PatchType, Selectors, WriteOptions};
use crate::kube::resources::{find_by_path, ResourceType};
use crate::kube::status::ApiError;
use crate::kube::{discovery, openapi, pod_logs_api, table, watch};
use crate::request_log::{NewRecord, RequestLog};
use crate::world::SharedWorld;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderValue, Method, Response, StatusCode};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// Everything the API server's handlers share.
#[derive(Clone)]
pub struct KubeServer {
    pub world: SharedWorld,
    pub log: RequestLog,
    pub faults: Arc<ApiFaults>,
    /// `127.0.0.1:port`, as discovery reports it.
    pub address: String,
    pub control: Arc<crate::control::ControlApi>,
}

/// Query parameters, percent-decoded.
pub struct Query(BTreeMap<String, String>);

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                match u8::from_str_radix(
                    std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz"),
                    16,
                ) {
                    Ok(b) => {
                        out.push(b);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl Query {
    pub fn parse(q: &str) -> Query {
        Query(
            q.split('&')
                .filter(|p| !p.is_empty())
                .map(|p| match p.split_once('=') {
                    Some((k, v)) => (percent_decode(k), percent_decode(v)),
                    None => (percent_decode(p), String::new()),
                })
                .collect(),
        )
    }
    pub fn get(&self, k: &str) -> Option<&str> {
        self.0.get(k).map(String::as_str)
    }
    pub fn flag(&self, k: &str) -> bool {
        matches!(
            self.get(k),
            Some("1") | Some("true") | Some("True") | Some("")
        )
    }
}

pub fn json_response(code: u16, value: &Value) -> Response<Body> {
    let body = serde_json::to_vec(value).unwrap_or_default();
    Response::builder()
        .status(StatusCode::from_u16(code).unwrap_or(StatusCode::OK))
        .header("content-type", "application/json")
        .body(Body::from(body))
        .unwrap_or_default()
}

fn text_response(code: u16, text: String) -> Response<Body> {
    Response::builder()
        .status(StatusCode::from_u16(code).unwrap_or(StatusCode::OK))
        .header("content-type", "text/plain; charset=utf-8")
        .body(Body::from(text))
        .unwrap_or_default()
}

pub fn error_response(e: &ApiError) -> Response<Body> {
    let mut r = json_response(e.code, &e.to_status());
    if let Some(secs) = e.retry_after {
        if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
            r.headers_mut().insert("retry-after", v);
        }
    }
    r
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

/// A parsed resource URL.
#[derive(Debug, Clone)]
struct ResourcePath {
    group: String,
    version: String,
    namespace: Option<String>,
    plural: String,
    name: Option<String>,
    subresource: Option<String>,
    rest: Vec<String>,
}

fn parse_resource_path(group: &str, version: &str, segments: &[&str]) -> Option<ResourcePath> {
    let mut segs: Vec<&str> = segments.to_vec();
    if segs.first() == Some(&"watch") {
        segs.remove(0);
    }
    let mut rp = ResourcePath {
        group: group.into(),
        version: version.into(),
        namespace: None,
        plural: String::new(),
        name: None,
        subresource: None,
        rest: Vec::new(),
    };
    let namespaced_item = segs.len() >= 3
        && segs[0] == "namespaces"
        && !(group.is_empty() && segs.len() == 3 && matches!(segs[2], "status" | "finalize"));
    if namespaced_item {
        rp.namespace = Some(segs[1].to_string());
        segs.drain(..2);
    }
    let mut it = segs.into_iter();
    rp.plural = it.next()?.to_string();
    rp.name = it.next().map(String::from);
    rp.subresource = it.next().map(String::from);
    rp.rest = it.map(String::from).collect();
    Some(rp)
}

impl KubeServer {
    /// Answers one HTTP request (the axum fallback handler).
    pub async fn handle(self, request: axum::extract::Request) -> Response<Body> {
        let (parts, body) = request.into_parts();
        let method = parts.method.clone();
        let path = parts.uri.path().to_string();
        let raw_query = parts.uri.query().unwrap_or("").to_string();
        let query = Query::parse(&raw_query);
        let user_agent = header(&parts.headers, "user-agent").to_string();
        let dry_run = query.get("dryRun") == Some("All");
        tracing::debug!(%method, %path, query = %raw_query, "kube request");

        let fault = self
            .world
            .read(|w| w.api_faults.clone())
            .and_then(|config| self.faults.decide(&config, method.as_str(), &path));
        if let Some(fault) = fault {
            if let Some(stall) = fault.stall {
                tokio::time::sleep(stall).await;
            }
            let mut e = ApiError::with_code(fault.status);
            if fault.retry_after.is_some() {
                e.retry_after = fault.retry_after;
                if let Some(d) = e.details.as_mut() {
                    d["retryAfterSeconds"] = json!(fault.retry_after);
                }
            }
            self.log.record(NewRecord {
                server: "kube",
                method: method.as_str(),
                path: &path,
                query: &raw_query,
                status: fault.status,
                dry_run,
                user_agent: &user_agent,
                fault: Some(fault.describe()),
            });
            return error_response(&e);
        }

        let body = match axum::body::to_bytes(body, 256 * 1024 * 1024).await {
            Ok(b) => b,
            Err(e) => {
                return error_response(&ApiError::bad_request(format!(
                    "reading the request body: {e}"
                )))
            }
        };
        let response = match self
            .route(&method, &path, &query, &parts.headers, &body)
            .await
        {
            Ok(r) => r,
            Err(e) => error_response(&e),
        };
        // reading or clearing the log is not part of what it records
        if path == "/_sim/requests" {
            return response;
        }
        self.log.record(NewRecord {
            server: "kube",
            method: method.as_str(),
            path: &path,
            query: &raw_query,
            status: response.status().as_u16(),
            dry_run,
            user_agent: &user_agent,
            fault: None,
        });
        response
    }

    async fn route(
        &self,
        method: &Method,
        path: &str,
        query: &Query,
        headers: &HeaderMap,
        body: &Bytes,
    ) -> Result<Response<Body>, ApiError> {
        let accept = header(headers, "accept");
        let segments: Vec<&str> = path
            .trim_matches('/')
            .split('/')
            .filter(|s| !s.is_empty())
            .collect();
        match segments.as_slice() {
            ["version"] => {
                let v = self.world.read(|w| w.cluster.kubernetes_version.clone());
                let minor = v.split('.').nth(1).unwrap_or("33").to_string();
                Ok(json_response(
                    200,
                    &json!({
                        "major": "1", "minor": minor, "gitVersion": v, "gitCommit": "rehearsal",
                        "gitTreeState": "clean", "buildDate": "2025-06-01T00:00:00Z", "goVersion": "go1.24.4",
                        "compiler": "gc", "platform": "linux/amd64", "emulationMajor": "1", "emulationMinor": minor,
                        "minCompatibilityMajor": "1", "minCompatibilityMinor": "32"
                    }),
                ))
            }
            ["healthz"] | ["readyz"] | ["livez"] => Ok(text_response(200, "ok".into())),
            ["api"] => Ok(if discovery::wants_aggregated(accept) {
                aggregated_response(self.world.read(|w| discovery::aggregated(w, true)))
            } else {
                json_response(200, &discovery::api_versions(&self.address))
            }),
            ["apis"] => Ok(if discovery::wants_aggregated(accept) {
                aggregated_response(self.world.read(|w| discovery::aggregated(w, false)))
            } else {
                json_response(200, &self.world.read(discovery::api_group_list))
            }),
            ["api", "v1"] => self
                .world
                .read(|w| discovery::api_resource_list(w, "", "v1"))
                .map(|v| json_response(200, &v))
                .ok_or_else(ApiError::no_such_path),
            ["apis", group] => self
                .world
                .read(|w| discovery::api_group(w, group))
                .map(|v| json_response(200, &v))
                .ok_or_else(ApiError::no_such_path),
            ["apis", group, version] => self
                .world
                .read(|w| discovery::api_resource_list(w, group, version))
                .map(|v| json_response(200, &v))
                .ok_or_else(ApiError::no_such_path),
            ["openapi", "v2"] => {
                let k = self.world.read(|w| w.cluster.kubernetes_version.clone());
                Ok(json_response(200, &openapi::v2(&k)))
            }
            ["openapi", "v3"] => Ok(json_response(200, &openapi::v3_root())),
            ["openapi", "v3", "api", version] => {
                let k = self.world.read(|w| w.cluster.kubernetes_version.clone());
                openapi::v3_group_version("", version, &k)
                    .map(|v| json_response(200, &v))
                    .ok_or_else(ApiError::no_such_path)
            }
            ["openapi", "v3", "apis", group, version] => {
                let k = self.world.read(|w| w.cluster.kubernetes_version.clone());
                openapi::v3_group_version(group, version, &k)
                    .map(|v| json_response(200, &v))
                    .ok_or_else(ApiError::no_such_path)
            }
            ["_sim", rest @ ..] => {
                self.control
                    .handle(method.as_str(), rest, query, body)
                    .await
            }
            ["api", "v1", rest @ ..] => {
                let rp = parse_resource_path("", "v1", rest).ok_or_else(ApiError::no_such_path)?;
                self.resource(method, rp, query, headers, body).await
            }
            ["apis", group, version, rest @ ..] => {
                let rp =
                    parse_resource_path(group, version, rest).ok_or_else(ApiError::no_such_path)?;
                self.resource(method, rp, query, headers, body).await
            }
            _ => Err(ApiError::no_such_path()),
        }
    }

    async fn resource(
        &self,
        method: &Method,
        rp: ResourcePath,
        query: &Query,
        headers: &HeaderMap,
        body: &Bytes,
    ) -> Result<Response<Body>, ApiError> {
        let rt = self
            .world
            .read(|w| find_by_path(w, &rp.group, &rp.version, &rp.plural))
            .ok_or_else(ApiError::no_such_path)?;
        if rp.namespace.is_some() && !rt.namespaced {
            return Err(ApiError::no_such_path());
        }
        let namespace = rp.namespace.clone().unwrap_or_default();
        let accept = header(headers, "accept");
        let content_type = header(headers, "content-type");
        let user_agent = header(headers, "user-agent");
        let opts = WriteOptions {
            dry_run: query.get("dryRun") == Some("All"),
            field_manager: query
                .get("fieldManager")
                .map(String::from)
                .unwrap_or_else(|| handlers::manager_from_user_agent(user_agent)),
            force: query.flag("force") && query.get("force").is_some(),
        };
        let include_object = query.get("includeObject").unwrap_or("Metadata").to_string();
        let as_table = table::wants_table(accept);
        let watching = query.get("watch").is_some_and(|w| w == "1" || w == "true");
        let name = rp.name.clone();
        let sub = rp.subresource.clone();

        match (method.as_str(), name.as_deref(), sub.as_deref()) {
            ("GET", None, None) if watching => self.watch(
                rt,
                rp.namespace.clone(),
                query,
                as_table.then_some(include_object),
            ),
            ("GET", Some(n), None) if watching => {
                // legacy /watch/{plural}/{name}
                let mut q = Query(query.0.clone());
                q.0.insert("fieldSelector".into(), format!("metadata.name={n}"));
                self.watch(
                    rt,
                    rp.namespace.clone(),
                    &q,
                    as_table.then_some(include_object),
                )
            }
            ("GET", None, None) => {
                let selectors =
                    Selectors::parse(&rt, query.get("labelSelector"), query.get("fieldSelector"))?;
                let limit = query.get("limit").and_then(|l| l.parse().ok());
                let list = self.world.read(|w| {
                    handlers::list(
                        w,
                        &rt,
                        rp.namespace.as_deref(),
                        &selectors,
                        limit,
                        query.get("continue"),
                    )
                })?;
                if as_table {
                    let items: Vec<Value> = self.world.read(|w| {
                        w.kube
                            .list(&rt.type_key(), rp.namespace.as_deref())
                            .filter(|o| selectors.matches(o))
                            .cloned()
                            .collect()
                    });
                    let rv = list["metadata"]["resourceVersion"]
                        .as_str()
                        .unwrap_or("")
                        .to_string();
                    let mut t = table::table(&rt, &items, &include_object, &rv);
                    if let Some(c) = list["metadata"].get("continue") {
                        t["metadata"]["continue"] = c.clone();
                    }
                    return Ok(json_response(200, &t));
                }
                Ok(json_response(200, &list))
            }
            ("GET", Some(n), None) | ("GET", Some(n), Some("status")) => {
                let object = self.world.read(|w| handlers::get(w, &rt, &namespace, n))?;
                if as_table {
                    let stored = self
                        .world
                        .read(|w| w.kube.get(&rt.type_key(), &namespace, n).cloned())
                        .unwrap_or(object.clone());
                    let rv = object["metadata"]["resourceVersion"]
                        .as_str()
                        .unwrap_or("")
                        .to_string();
                    return Ok(json_response(
                        200,
                        &table::table(&rt, &[stored], &include_object, &rv),
                    ));
                }
                Ok(json_response(200, &object))
            }
            ("POST", None, None) => {
                let mut value = body_value(content_type, body)?;
                let warnings = self.check_fields(&rt, &mut value, query)?;
                let created = self
                    .world
                    .write(|w| handlers::create(w, &rt, &namespace, value, &opts))?;
                Ok(with_warnings(json_response(201, &created), &warnings))
            }
            ("PUT", Some(n), None) | ("PUT", Some(n), Some("status")) => {
                let part = if sub.is_some() {
                    Part::Status
                } else {
                    Part::Main
                };
                let mut value = body_value(content_type, body)?;
                let warnings = self.check_fields(&rt, &mut value, query)?;
                let updated = self
                    .world
                    .write(|w| handlers::update(w, &rt, &namespace, n, value, part, &opts))?;
                Ok(with_warnings(json_response(200, &updated), &warnings))
            }
            ("PATCH", Some(n), None) | ("PATCH", Some(n), Some("status")) => {
                let part = if sub.is_some() {
                    Part::Status
                } else {
                    Part::Main
                };
                let patch_type = PatchType::from_content_type(content_type).ok_or_else(|| {
                    ApiError::unsupported_media_type(content_type, PatchType::ACCEPTED)
                })?;
                let warnings = if patch_type != PatchType::Json {
                    let mut value = handlers::parse_body(body, patch_type == PatchType::Apply)?;
                    self.check_fields(&rt, &mut value, query)?
                } else {
                    Vec::new()
                };
                let (code, patched) = self.world.write(|w| {
                    handlers::patch(w, &rt, &namespace, n, patch_type, body, part, &opts)
                })?;
                Ok(with_warnings(json_response(code, &patched), &warnings))
            }
            ("DELETE", Some(n), None) => {
                let mut options = delete_options(content_type, body);
                if let Some(g) = query.get("gracePeriodSeconds").and_then(|g| g.parse().ok()) {
                    options.grace_period_seconds = Some(g);
                }
                if let Some(p) = query.get("propagationPolicy") {
                    options.propagation_policy = Some(p.to_string());
                }
                let deleted = self
                    .world
                    .write(|w| handlers::delete(w, &rt, &namespace, n, &options, opts.dry_run))?;
                Ok(json_response(200, &deleted))
            }
            ("DELETE", None, None) => {
                let selectors =
                    Selectors::parse(&rt, query.get("labelSelector"), query.get("fieldSelector"))?;
                let mut options = delete_options(content_type, body);
                if let Some(g) = query.get("gracePeriodSeconds").and_then(|g| g.parse().ok()) {
                    options.grace_period_seconds = Some(g);
                }
                let deleted = self.world.write(|w| {
                    handlers::delete_collection(
                        w,
                        &rt,
                        rp.namespace.as_deref(),
                        &selectors,
                        &options,
                        opts.dry_run,
                    )
                })?;
                Ok(json_response(200, &deleted))
            }
            ("GET", Some(n), Some("scale")) if rt.has_subresource("scale") => {
                let object = self.world.read(|w| handlers::get(w, &rt, &namespace, n))?;
                Ok(json_response(200, &handlers::scale_of(&object)))
            }
            ("PUT", Some(n), Some("scale")) | ("PATCH", Some(n), Some("scale"))
                if rt.has_subresource("scale") =>
            {
                let patch_type = if method == Method::PATCH {
                    Some(PatchType::from_content_type(content_type).ok_or_else(|| {
                        ApiError::unsupported_media_type(content_type, PatchType::ACCEPTED)
                    })?)
                } else {
                    None
                };
                let scale = self.world.write(|w| {
                    handlers::write_scale(w, &rt, &namespace, n, patch_type, body, &opts)
                })?;
                Ok(json_response(200, &scale))
            }
            ("GET", Some(n), Some("log")) if rt.plural == "pods" => {
                self.pod_log(&namespace, n, query).await
            }
            ("GET", Some(n), Some("proxy")) if rt.plural == "nodes" => {
                if rp.rest.iter().map(String::as_str).collect::<Vec<_>>() == ["stats", "summary"] {
                    let summary = self
                        .world
                        .read(|w| crate::controllers::kubelet_stats::summary(w, n));
                    summary
                        .map(|s| json_response(200, &s))
                        .ok_or_else(|| ApiError::not_found("", "nodes", n))
                } else {
                    Err(ApiError::no_such_path())
                }
            }
            ("POST", Some(n), Some("eviction")) if rt.plural == "pods" => {
                let options = delete_options(content_type, body);
                self.world
                    .write(|w| handlers::delete(w, &rt, &namespace, n, &options, opts.dry_run))?;
                Ok(json_response(
                    201,
                    &crate::kube::status::success_status(json!({"name": n, "kind": "pods"})),
                ))
            }
            ("PUT", Some(n), Some("finalize")) if rt.plural == "namespaces" => {
                let value = body_value(content_type, body)?;
                let updated = self.world.write(|w| {
                    let mut ns = w
                        .kube
                        .get("v1/Namespace", "", n)
                        .cloned()
                        .ok_or_else(|| ApiError::not_found("", "namespaces", n))?;
                    ns["spec"]["finalizers"] = value["spec"]["finalizers"].clone();
                    Ok::<Value, ApiError>(w.kube.replace("v1/Namespace", ns))
                })?;
                Ok(json_response(200, &updated))
            }
            _ => Err(ApiError::method_not_allowed()),
        }
    }

    /// `fieldValidation`: Strict refuses unknown fields (400), Warn (the default) reports
    /// them in `Warning` headers, Ignore says nothing. Unknown fields are dropped either way.
    fn check_fields(
        &self,
        rt: &ResourceType,
        value: &mut Value,
        query: &Query,
    ) -> Result<Vec<String>, ApiError> {
        if rt.typed.is_none() || !value.is_object() {
            return Ok(Vec::new());
        }
        let mode = query.get("fieldValidation").unwrap_or("Warn");
        let mut probe = value.clone();
        let unknown = openapi::unknown_fields(
            &format!("{}/{}", rt.api_version(), rt.kind),
            &mut probe,
            false,
        );
        if unknown.is_empty() || mode == "Ignore" {
            return Ok(Vec::new());
        }
        let listed: Vec<String> = unknown
            .iter()
            .map(|f| format!("unknown field \"{f}\""))
            .collect();
        if mode == "Strict" {
            return Err(ApiError::bad_request(format!(
                "{} in version \"{}\" cannot be handled as a {}: strict decoding error: {}",
                rt.kind,
                rt.version,
                rt.kind,
                listed.join(", ")
            )));
        }
        Ok(listed)
    }

    fn watch(
        &self,
        rt: ResourceType,
        namespace: Option<String>,
        query: &Query,
        table: Option<String>,
    ) -> Result<Response<Body>, ApiError> {
        let selectors =
            Selectors::parse(&rt, query.get("labelSelector"), query.get("fieldSelector"))?;
        let timeout = query
            .get("timeoutSeconds")
            .and_then(|t| t.parse::<u64>().ok())
            .unwrap_or(1800);
        let request = watch::WatchRequest {
            rt,
            namespace,
            selectors,
            resource_version: query.get("resourceVersion").map(String::from),
            send_initial_events: query.flag("sendInitialEvents")
                && query.get("sendInitialEvents").is_some(),
            allow_bookmarks: query.flag("allowWatchBookmarks")
                && query.get("allowWatchBookmarks").is_some(),
            timeout: Duration::from_secs(timeout),
            table,
        };
        let stream = watch::start(&self.world, request)?;
        Ok(Response::builder()
            .status(200)
            .header("content-type", "application/json")
            .header("transfer-encoding", "chunked")
            .body(Body::from_stream(stream))
            .unwrap_or_default())
    }

    async fn pod_log(
        &self,
        namespace: &str,
        name: &str,
        query: &Query,
    ) -> Result<Response<Body>, ApiError> {
        let opts = pod_logs_api::LogOptions {
            container: query.get("container").map(String::from),
            tail_lines: query.get("tailLines").and_then(|t| t.parse().ok()),
            previous: query.flag("previous") && query.get("previous").is_some(),
            timestamps: query.flag("timestamps") && query.get("timestamps").is_some(),
            limit_bytes: query.get("limitBytes").and_then(|t| t.parse().ok()),
        };
        let (text, container, seen) = self
            .world
            .read(|w| pod_logs_api::read_logs(w, namespace, name, &opts))?;
        let follow = query.flag("follow") && query.get("follow").is_some();
        if !follow || opts.previous {
            return Ok(text_response(200, text));
        }
        let world = self.world.clone();
        let (ns, pod, ts) = (namespace.to_string(), name.to_string(), opts.timestamps);
        let first = Some(Bytes::from(text));
        let stream = futures_util::stream::unfold((first, seen), move |(first, seen)| {
            let world = world.clone();
            let (ns, pod, container) = (ns.clone(), pod.clone(), container.clone());
            async move {
                if let Some(chunk) = first {
                    return Some((Ok::<Bytes, std::convert::Infallible>(chunk), (None, seen)));
                }
                loop {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    let (text, total) = world
                        .read(|w| pod_logs_api::lines_since(w, &ns, &pod, &container, seen, ts))?;
                    if !text.is_empty() {
                        return Some((Ok(Bytes::from(text)), (None, total)));
                    }
                }
            }
        });
        Ok(Response::builder()
            .status(200)
            .header("content-type", "text/plain; charset=utf-8")
            .body(Body::from_stream(stream))
            .unwrap_or_default())
    }
}

fn is_yaml(content_type: &str) -> bool {
    content_type.contains("yaml")
}

/// A create/update body as JSON, whatever it was sent as (JSON, YAML, protobuf).
fn body_value(content_type: &str, body: &[u8]) -> Result<Value, ApiError> {
    if content_type.starts_with(crate::kube::protobuf::MEDIA_TYPE) {
        return crate::kube::protobuf::decode(body).map_err(|e| match e {
            crate::kube::protobuf::DecodeError::Unsupported(what) => {
                ApiError::unsupported_media_type(
                    &format!("{content_type}: {what}"),
                    &["application/json", "application/yaml"],
                )
            }
            crate::kube::protobuf::DecodeError::Malformed(m) => {
                ApiError::bad_request(format!("error decoding protobuf: {m}"))
            }
        });
    }
    handlers::parse_body(body, is_yaml(content_type))
}

fn delete_options(content_type: &str, body: &[u8]) -> DeleteOptions {
    if body.is_empty() {
        return DeleteOptions::default();
    }
    let v = body_value(content_type, body).unwrap_or(Value::Null);
    DeleteOptions::from_value(&v)
}

fn aggregated_response(value: Value) -> Response<Body> {
    let mut r = json_response(200, &value);
    r.headers_mut().insert(
        "content-type",
        HeaderValue::from_static(discovery::AGGREGATED_V2),
    );
    r
}

fn with_warnings(mut response: Response<Body>, warnings: &[String]) -> Response<Body> {
    for w in warnings {
        if let Ok(v) = HeaderValue::from_str(&format!("299 - \"{}\"", w.replace('"', "\\\""))) {
            response.headers_mut().append("warning", v);
        }
    }
    response
}
