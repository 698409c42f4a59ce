//! `GET /api/v1/namespaces/{ns}/pods/{name}/log`: container logs with kubectl's options
//! (`container`, `tailLines`, `previous`, `timestamps`, `limitBytes`, `follow`) and the
//! kubelet's refusals (no container named, container not started yet).

use crate::kube::status::ApiError;
use crate::logs::LogLine;
use crate::world::World;
use serde_json::Value;

pub struct LogOptions {
    pub container: Option<String>,
    pub tail_lines: Option<usize>,
    pub previous: bool,
    pub timestamps: bool,
    pub limit_bytes: Option<usize>,
}

/// Which container a log request is for, or the kubelet's 400.
pub fn resolve_container(pod: &Value, wanted: Option<&str>) -> Result<String, ApiError> {
    let name = pod["metadata"]["name"].as_str().unwrap_or("");
    let containers: Vec<String> = pod["spec"]["containers"]
        .as_array()
        .into_iter()
        .flatten()
        .chain(
            pod["spec"]["initContainers"]
                .as_array()
                .into_iter()
                .flatten(),
        )
        .filter_map(|c| c["name"].as_str().map(String::from))
        .collect();
    match wanted {
        Some(c) if containers.iter().any(|n| n == c) => Ok(c.to_string()),
        Some(c) => Err(ApiError::bad_request(format!(
            "container {c} is not valid for pod {name}"
        ))),
        None => {
            let main: Vec<&str> = pod["spec"]["containers"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|c| c["name"].as_str())
                .collect();
            if main.len() == 1 {
                Ok(main[0].to_string())
            } else {
                let default = pod["metadata"]["annotations"]
                    ["kubectl.kubernetes.io/default-container"]
                    .as_str();
                match default {
                    Some(d) if main.contains(&d) => Ok(d.to_string()),
                    _ => Err(ApiError::bad_request(format!(
                        "a container name must be specified for pod {name}, choose one of: [{}]",
                        main.join(" ")
                    ))),
                }
            }
        }
    }
}

fn format_lines(lines: &[&LogLine], opts: &LogOptions) -> String {
    let mut out = String::new();
    for line in lines {
        if opts.timestamps {
            out.push_str(&line.time);
            out.push(' ');
        }
        out.push_str(&line.text);
        out.push('\n');
    }
    if let Some(limit) = opts.limit_bytes {
        if out.len() > limit {
            let mut cut = limit;
            while !out.is_char_boundary(cut) {
                cut -= 1;
            }
            out.truncate(cut);
        }
    }
    out
}

/// The log text, and how many lines of the current instance it covered (for `follow`).
pub fn read_logs(
    world: &World,
    namespace: &str,
    pod_name: &str,
    opts: &LogOptions,
) -> Result<(String, String, usize), ApiError> {
    let pod = world
        .kube
        .get("v1/Pod", namespace, pod_name)
        .ok_or_else(|| ApiError::not_found("", "pods", pod_name))?;
    let container = resolve_container(pod, opts.container.as_deref())?;
    let status = pod["status"]["containerStatuses"]
        .as_array()
        .into_iter()
        .flatten()
        .chain(
            pod["status"]["initContainerStatuses"]
                .as_array()
                .into_iter()
                .flatten(),
        )
        .find(|s| s["name"] == container.as_str())
        .cloned()
        .unwrap_or(Value::Null);
    let log = world.logs.get(namespace, pod_name, &container);
    if opts.previous {
        let previous = log.map(|l| &l.previous).filter(|p| !p.is_empty());
        let Some(previous) = previous else {
            return Err(ApiError::bad_request(format!(
                "previous terminated container \"{container}\" in pod \"{pod_name}\" not found"
            )));
        };
        let lines: Vec<&LogLine> = tail(previous.iter().collect(), opts.tail_lines);
        return Ok((format_lines(&lines, opts), container, 0));
    }
    let current: Vec<&LogLine> = log.map(|l| l.current.iter().collect()).unwrap_or_default();
    if current.is_empty() {
        if let Some(reason) = status["state"]["waiting"]["reason"].as_str() {
            let why = match reason {
                "ErrImagePull" | "ImagePullBackOff" => "trying and failing to pull image",
                other => other,
            };
            return Err(ApiError::bad_request(format!(
                "container \"{container}\" in pod \"{pod_name}\" is waiting to start: {why}"
            )));
        }
        if status.is_null() {
            return Err(ApiError::bad_request(format!(
                "container \"{container}\" in pod \"{pod_name}\" is waiting to start: ContainerCreating"
            )));
        }
    }
    let total = current.len();
    let lines = tail(current, opts.tail_lines);
    Ok((format_lines(&lines, opts), container, total))
}

/// New lines of the current instance since `seen` (for `follow`); None when the pod is gone.
pub fn lines_since(
    world: &World,
    namespace: &str,
    pod_name: &str,
    container: &str,
    seen: usize,
    timestamps: bool,
) -> Option<(String, usize)> {
    world.kube.get("v1/Pod", namespace, pod_name)?;
    let log = world.logs.get(namespace, pod_name, container)?;
    let total = log.current.len();
    if total <= seen {
        return Some((String::new(), total.max(seen.min(total))));
    }
    let new: Vec<&LogLine> = log.current.iter().skip(seen).collect();
    let opts = LogOptions {
        container: None,
        tail_lines: None,
        previous: false,
        timestamps,
        limit_bytes: None,
    };
    Some((format_lines(&new, &opts), total))
}

fn tail(lines: Vec<&LogLine>, n: Option<usize>) -> Vec<&LogLine> {
    match n {
        Some(n) if lines.len() > n => lines[lines.len() - n..].to_vec(),
        _ => lines,
    }
}
