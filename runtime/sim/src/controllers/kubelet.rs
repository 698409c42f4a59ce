//! The kubelet: runs the containers of pods scheduled to a node — pulls images (or fails
//! to: ErrImagePull, ImagePullBackOff), mounts volumes (finishing pending file-system
//! resizes), starts containers, passes readiness after the probe's delay, crash-loops
//! containers that cannot start (CrashLoopBackOff with a doubling back-off), writes their
//! logs, and stops pods being deleted. Everything happens on the virtual clock.

use super::events::{record_at, Source};
use super::objects::{condition, is_terminating};
use super::workload_logs;
use super::Pass;
use crate::clock::{wall_time, VirtualMillis};
use crate::registry::{try_pull, PullOutcome};
use crate::store::{name_of, namespace_of, uid_of};
use crate::world::World;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::BTreeMap;

const SECOND: u64 = 1000;
const PULL_TIME: u64 = 1200;
const START_TIME: u64 = 500;
const CRASH_AFTER: u64 = 3 * SECOND;
const INIT_RUN_TIME: u64 = SECOND;
const LOG_INTERVAL: u64 = 60 * SECOND;
const STOP_TIME: u64 = 2 * SECOND;

/// Where a container is in its life.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Phase {
    /// Not started yet (waiting for volumes or earlier init containers).
    Waiting,
    Pulling,
    /// Pull failed; `reason` is ErrImagePull then ImagePullBackOff.
    PullBackOff {
        reason: String,
        message: String,
    },
    Starting,
    Running,
    /// Exited and waiting to be restarted.
    CrashBackOff,
    /// An init container that finished.
    Completed,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ContainerRuntime {
    pub phase: Phase,
    /// When the next transition is due.
    pub due: VirtualMillis,
    pub restarts: u32,
    pub pull_failures: u32,
    pub pulled: bool,
    pub ready: bool,
    /// Wall-clock start of the running instance.
    pub started_at: String,
    /// `lastState.terminated` of the previous instance.
    pub last_terminated: Option<Value>,
    /// `state.terminated` of a finished init container.
    pub terminated: Option<Value>,
    /// Crash planned for this run (decided at start, re-checked when due).
    pub will_crash: bool,
    pub next_unhealthy_event: VirtualMillis,
}

impl ContainerRuntime {
    fn new() -> Self {
        ContainerRuntime {
            phase: Phase::Waiting,
            due: 0,
            restarts: 0,
            pull_failures: 0,
            pulled: false,
            ready: false,
            started_at: String::new(),
            last_terminated: None,
            terminated: None,
            will_crash: false,
            next_unhealthy_event: 0,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PodRuntime {
    pub ip: String,
    pub start_time: String,
    pub volumes_mounted: bool,
    pub containers: BTreeMap<String, ContainerRuntime>,
    pub terminate_at: Option<VirtualMillis>,
    pub next_log: VirtualMillis,
    pub log_tick: u64,
    /// Wall-clock times of condition transitions, by condition type.
    pub transitions: BTreeMap<String, (String, String)>,
}

fn back_off(n: u32) -> u64 {
    ((10 * SECOND) << n.saturating_sub(1).min(5)).min(300 * SECOND)
}

fn hex_id(seed: &str) -> String {
    format!(
        "{:016x}{:016x}",
        crate::ids::mix(crate::ids::fnv32a(seed.as_bytes()) as u64),
        crate::ids::mix(seed.len() as u64 + 7)
    )
}

fn field_path(list: &str, name: &str) -> String {
    format!("spec.{list}{{{name}}}")
}

fn node_of(pod: &Value) -> &str {
    pod["spec"]["nodeName"].as_str().unwrap_or("")
}

/// Marks a pod for graceful deletion (what a controller's delete call does).
pub fn delete_pod(world: &mut World, pod: &Value) {
    let Some(mut current) = world
        .kube
        .get("v1/Pod", namespace_of(pod), name_of(pod))
        .cloned()
    else {
        return;
    };
    if is_terminating(&current) {
        return;
    }
    if current["spec"]["nodeName"].is_null() {
        forget_pod(world, &current);
        world.kube.remove("v1/Pod", namespace_of(pod), name_of(pod));
        return;
    }
    let grace = current["spec"]["terminationGracePeriodSeconds"]
        .as_i64()
        .unwrap_or(30);
    current["metadata"]["deletionTimestamp"] = json!(wall_time());
    current["metadata"]["deletionGracePeriodSeconds"] = json!(grace);
    begin_termination(world, &current, grace);
    world.kube.replace("v1/Pod", current);
}

/// Starts stopping a pod's containers: it goes away after a short virtual while.
pub fn begin_termination(world: &mut World, pod: &Value, grace_seconds: i64) {
    let now = world.clock.now();
    let stop = (grace_seconds.max(0) as u64 * SECOND).min(STOP_TIME);
    let uid = uid_of(pod).to_string();
    let running: Vec<String> = world
        .controllers
        .pods
        .get(&uid)
        .map(|rt| {
            rt.containers
                .iter()
                .filter(|(_, c)| c.phase == Phase::Running)
                .map(|(n, _)| n.clone())
                .collect()
        })
        .unwrap_or_default();
    if let Some(rt) = world.controllers.pods.get_mut(&uid) {
        rt.terminate_at = Some(now + stop);
    }
    let node = node_of(pod).to_string();
    for name in running {
        record_at(
            world,
            pod,
            Some(&field_path("containers", &name)),
            Source::Kubelet(&node),
            false,
            "Killing",
            &format!("Stopping container {name}"),
        );
    }
}

/// Drops what the kubelet knew about a pod that is gone.
pub fn forget_pod(world: &mut World, pod: &Value) {
    world.controllers.pods.remove(uid_of(pod));
    world.logs.remove_pod(namespace_of(pod), name_of(pod));
}

pub fn run(world: &mut World, pass: &mut Pass<'_>) {
    let pods: Vec<Value> = world.kube.list_owned("v1/Pod", None);
    for pod in pods {
        if node_of(&pod).is_empty() {
            continue;
        }
        if matches!(
            pod["status"]["phase"].as_str(),
            Some("Succeeded") | Some("Failed")
        ) {
            continue;
        }
        step_pod(world, pass, &pod);
    }
    // forget runtimes of pods that no longer exist
    let live: std::collections::BTreeSet<String> = world
        .kube
        .list("v1/Pod", None)
        .map(|p| uid_of(p).to_string())
        .collect();
    world.controllers.pods.retain(|uid, _| live.contains(uid));
}

fn step_pod(world: &mut World, pass: &mut Pass<'_>, pod: &Value) {
    let uid = uid_of(pod).to_string();
    let now = pass.now;
    let node = node_of(pod).to_string();
    if !world.controllers.pods.contains_key(&uid) {
        world.controllers.next_pod_ip += 1;
        let n = world.controllers.next_pod_ip;
        let mut containers = BTreeMap::new();
        for c in all_containers(pod) {
            containers.insert(
                c.1["name"].as_str().unwrap_or("").to_string(),
                ContainerRuntime::new(),
            );
        }
        world.controllers.pods.insert(
            uid.clone(),
            PodRuntime {
                ip: format!("10.244.{}.{}", (n / 250) % 250, n % 250 + 2),
                start_time: wall_time(),
                volumes_mounted: false,
                containers,
                terminate_at: None,
                next_log: now + LOG_INTERVAL,
                log_tick: 0,
                transitions: BTreeMap::new(),
            },
        );
    }
    // being deleted
    if is_terminating(pod) {
        let terminate_at = world
            .controllers
            .pods
            .get(&uid)
            .and_then(|r| r.terminate_at);
        let at = match terminate_at {
            Some(at) => at,
            None => {
                let grace = pod["metadata"]["deletionGracePeriodSeconds"]
                    .as_i64()
                    .unwrap_or(30);
                begin_termination(world, pod, grace);
                world
                    .controllers
                    .pods
                    .get(&uid)
                    .and_then(|r| r.terminate_at)
                    .unwrap_or(now)
            }
        };
        if now >= at {
            forget_pod(world, pod);
            if pod["metadata"]["finalizers"]
                .as_array()
                .is_none_or(|f| f.is_empty())
            {
                world.kube.remove("v1/Pod", namespace_of(pod), name_of(pod));
            } else {
                let mut stopped = pod.clone();
                for c in stopped["status"]["containerStatuses"]
                    .as_array_mut()
                    .into_iter()
                    .flatten()
                {
                    c["ready"] = json!(false);
                }
                world.kube.replace("v1/Pod", stopped);
            }
        } else {
            pass.wake_at(at);
        }
        return;
    }

    // volumes: claims must be bound; mounting finishes pending file-system resizes
    let claims: Vec<String> = pod["spec"]["volumes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| {
            v["persistentVolumeClaim"]["claimName"]
                .as_str()
                .map(String::from)
        })
        .collect();
    let ns = namespace_of(pod).to_string();
    let all_bound = claims.iter().all(|c| {
        world
            .kube
            .get("v1/PersistentVolumeClaim", &ns, c)
            .is_some_and(|pvc| pvc["status"]["phase"] == "Bound")
    });
    let mounted = world
        .controllers
        .pods
        .get(&uid)
        .is_some_and(|r| r.volumes_mounted);
    if all_bound && !mounted {
        for claim in &claims {
            super::volumes::finish_resize_on_mount(world, pod, &ns, claim);
        }
        if let Some(rt) = world.controllers.pods.get_mut(&uid) {
            rt.volumes_mounted = true;
        }
    }

    if all_bound {
        // init containers one after the other, then the main containers together
        let mut init_done = true;
        for (list, container) in all_containers(pod) {
            let name = container["name"].as_str().unwrap_or("").to_string();
            if list == "initContainers" {
                if !init_done {
                    break;
                }
                step_container(world, pass, pod, &node, list, &container, &name);
                let phase = world
                    .controllers
                    .pods
                    .get(&uid)
                    .and_then(|r| r.containers.get(&name))
                    .map(|c| c.phase.clone());
                if phase != Some(Phase::Completed) {
                    init_done = false;
                }
            } else if init_done {
                step_container(world, pass, pod, &node, list, &container, &name);
            }
        }
        periodic_logs(world, pass, pod);
    }
    write_status(world, pod, all_bound);
}

fn all_containers(pod: &Value) -> Vec<(&'static str, Value)> {
    let mut out = Vec::new();
    for c in pod["spec"]["initContainers"]
        .as_array()
        .into_iter()
        .flatten()
    {
        out.push(("initContainers", c.clone()));
    }
    for c in pod["spec"]["containers"].as_array().into_iter().flatten() {
        out.push(("containers", c.clone()));
    }
    out
}

fn readiness_delay(container: &Value) -> u64 {
    let probe = &container["readinessProbe"];
    let startup = container["startupProbe"]["initialDelaySeconds"]
        .as_u64()
        .unwrap_or(0);
    if probe.is_object() {
        (probe["initialDelaySeconds"].as_u64().unwrap_or(0) + 1 + startup) * SECOND
    } else {
        startup * SECOND
    }
}

#[allow(clippy::too_many_arguments)]
fn step_container(
    world: &mut World,
    pass: &mut Pass<'_>,
    pod: &Value,
    node: &str,
    list: &str,
    container: &Value,
    name: &str,
) {
    let uid = uid_of(pod).to_string();
    let now = pass.now;
    let image = container["image"].as_str().unwrap_or("").to_string();
    let fp = field_path(list, name);
    let ns = namespace_of(pod).to_string();
    let pod_name = name_of(pod).to_string();
    let Some(rt) = world
        .controllers
        .pods
        .get(&uid)
        .and_then(|r| r.containers.get(name))
        .cloned()
    else {
        return;
    };
    let mut c = rt;
    let src = Source::Kubelet(node);
    // at most a few transitions per pass, each waiting for its due time
    for _ in 0..6 {
        if now < c.due && c.phase != Phase::Waiting && c.phase != Phase::Running {
            pass.wake_at(c.due);
            break;
        }
        match c.phase.clone() {
            Phase::Waiting | Phase::CrashBackOff => {
                if c.phase == Phase::CrashBackOff && now < c.due {
                    pass.wake_at(c.due);
                    break;
                }
                if c.pulled && container["imagePullPolicy"] != "Always" {
                    record_at(
                        world,
                        pod,
                        Some(&fp),
                        src,
                        false,
                        "Pulled",
                        &format!("Container image \"{image}\" already present on machine"),
                    );
                    c.phase = Phase::Starting;
                    c.due = now + START_TIME;
                } else {
                    record_at(
                        world,
                        pod,
                        Some(&fp),
                        src,
                        false,
                        "Pulling",
                        &format!("Pulling image \"{image}\""),
                    );
                    match try_pull(world, pass.access, &image) {
                        PullOutcome::Pulled => {
                            c.phase = Phase::Pulling;
                            c.due = now + PULL_TIME;
                        }
                        PullOutcome::Failed(message) => {
                            record_at(
                                world,
                                pod,
                                Some(&fp),
                                src,
                                true,
                                "Failed",
                                &format!("Failed to pull image \"{image}\": {message}"),
                            );
                            record_at(
                                world,
                                pod,
                                Some(&fp),
                                src,
                                true,
                                "Failed",
                                "Error: ErrImagePull",
                            );
                            c.pull_failures += 1;
                            c.phase = Phase::PullBackOff {
                                reason: "ErrImagePull".into(),
                                message: message.clone(),
                            };
                            c.due = now + SECOND;
                        }
                    }
                }
            }
            Phase::Pulling => {
                if now < c.due {
                    pass.wake_at(c.due);
                    break;
                }
                c.pulled = true;
                let size =
                    150_000_000 + (crate::ids::fnv32a(image.as_bytes()) as u64 % 400_000_000);
                record_at(world, pod, Some(&fp), src, false, "Pulled", &format!("Successfully pulled image \"{image}\" in 1.2s (1.2s including waiting). Image size: {size} bytes."));
                c.phase = Phase::Starting;
                c.due = now + START_TIME;
            }
            Phase::PullBackOff { reason, message } => {
                if reason == "ErrImagePull" {
                    // the kubelet backs off: ImagePullBackOff until the next attempt
                    record_at(
                        world,
                        pod,
                        Some(&fp),
                        src,
                        false,
                        "BackOff",
                        &format!("Back-off pulling image \"{image}\""),
                    );
                    record_at(
                        world,
                        pod,
                        Some(&fp),
                        src,
                        true,
                        "Failed",
                        "Error: ImagePullBackOff",
                    );
                    c.phase = Phase::PullBackOff {
                        reason: "ImagePullBackOff".into(),
                        message,
                    };
                    c.due = now + back_off(c.pull_failures);
                    pass.wake_at(c.due);
                    break;
                }
                if now < c.due {
                    pass.wake_at(c.due);
                    break;
                }
                c.phase = Phase::Waiting;
            }
            Phase::Starting => {
                if now < c.due {
                    pass.wake_at(c.due);
                    break;
                }
                if c.restarts > 0 || c.started_at.is_empty() {
                    world.logs.rotate(&ns, &pod_name, name);
                }
                record_at(
                    world,
                    pod,
                    Some(&fp),
                    src,
                    false,
                    "Created",
                    &format!("Created container: {name}"),
                );
                record_at(
                    world,
                    pod,
                    Some(&fp),
                    src,
                    false,
                    "Started",
                    &format!("Started container {name}"),
                );
                c.phase = Phase::Running;
                c.started_at = wall_time();
                c.ready = false;
                let failure = workload_logs::startup_failure(world, pod, container);
                c.will_crash = failure.is_some();
                let lines = match failure {
                    Some(lines) => lines,
                    None => workload_logs::startup_lines(world, pod, container),
                };
                for line in lines {
                    world.logs.append(&ns, &pod_name, name, line);
                }
                c.due = if c.will_crash {
                    now + CRASH_AFTER
                } else if list == "initContainers" {
                    now + INIT_RUN_TIME
                } else {
                    now + readiness_delay(container)
                };
            }
            Phase::Running => {
                if now < c.due {
                    pass.wake_at(c.due);
                    break;
                }
                if c.will_crash {
                    if let Some(lines) = workload_logs::startup_failure(world, pod, container) {
                        let _ = lines;
                        c.restarts += 1;
                        c.last_terminated = Some(json!({
                            "exitCode": 1,
                            "reason": "Error",
                            "startedAt": c.started_at,
                            "finishedAt": wall_time(),
                            "containerID": format!("containerd://{}", hex_id(&format!("{uid}{name}{}", c.restarts))),
                        }));
                        c.phase = Phase::CrashBackOff;
                        c.ready = false;
                        c.due = now + back_off(c.restarts);
                        record_at(world, pod, Some(&fp), src, true, "BackOff", &format!("Back-off restarting failed container {name} in pod {pod_name}_{ns}({uid})"));
                        pass.wake_at(c.due);
                        break;
                    }
                    // the dependency came up in time: carry on starting normally
                    c.will_crash = false;
                    for line in workload_logs::startup_lines(world, pod, container) {
                        world.logs.append(&ns, &pod_name, name, line);
                    }
                    c.due = now + readiness_delay(container);
                    continue;
                }
                if list == "initContainers" {
                    c.phase = Phase::Completed;
                    c.terminated = Some(json!({
                        "exitCode": 0,
                        "reason": "Completed",
                        "startedAt": c.started_at,
                        "finishedAt": wall_time(),
                        "containerID": format!("containerd://{}", hex_id(&format!("{uid}{name}"))),
                    }));
                    break;
                }
                match crate::faults::readiness_blocked(world, pod) {
                    Some(message) => {
                        c.ready = false;
                        if now >= c.next_unhealthy_event {
                            record_at(
                                world,
                                pod,
                                Some(&fp),
                                src,
                                true,
                                "Unhealthy",
                                &format!("Readiness probe failed: {message}"),
                            );
                            c.next_unhealthy_event = now + 10 * SECOND;
                        }
                        pass.wake_at(now + 10 * SECOND);
                    }
                    None => c.ready = true,
                }
                break;
            }
            Phase::Completed => break,
        }
    }
    if let Some(r) = world.controllers.pods.get_mut(&uid) {
        r.containers.insert(name.to_string(), c);
    }
}

fn periodic_logs(world: &mut World, pass: &mut Pass<'_>, pod: &Value) {
    let uid = uid_of(pod).to_string();
    let Some(rt) = world.controllers.pods.get(&uid) else {
        return;
    };
    if pass.now < rt.next_log {
        pass.wake_at(rt.next_log);
        return;
    }
    let tick = rt.log_tick;
    let running: Vec<String> = rt
        .containers
        .iter()
        .filter(|(_, c)| c.phase == Phase::Running && !c.will_crash)
        .map(|(n, _)| n.clone())
        .collect();
    let ns = namespace_of(pod).to_string();
    let pod_name = name_of(pod).to_string();
    for container in pod["spec"]["containers"].as_array().into_iter().flatten() {
        let name = container["name"].as_str().unwrap_or("");
        if !running.iter().any(|r| r == name) {
            continue;
        }
        for line in workload_logs::periodic_lines(world, pod, container, tick) {
            world.logs.append(&ns, &pod_name, name, line);
        }
    }
    if let Some(rt) = world.controllers.pods.get_mut(&uid) {
        rt.log_tick += 1;
        rt.next_log = pass.now + LOG_INTERVAL;
        pass.wake_at(rt.next_log);
    }
}

fn container_status(container: &Value, c: &ContainerRuntime, uid: &str) -> Value {
    let name = container["name"].as_str().unwrap_or("");
    let image = container["image"].as_str().unwrap_or("");
    let repo = crate::registry::ImageRef::parse(image).repository();
    let state = match &c.phase {
        Phase::Waiting | Phase::Pulling | Phase::Starting => {
            json!({"waiting": {"reason": if c.restarts > 0 { "CrashLoopBackOff" } else { "ContainerCreating" }}})
        }
        Phase::PullBackOff { reason, message } => {
            let msg = if reason == "ImagePullBackOff" {
                format!("Back-off pulling image \"{image}\": ErrImagePull: {message}")
            } else {
                message.clone()
            };
            json!({"waiting": {"reason": reason, "message": msg}})
        }
        Phase::Running => json!({"running": {"startedAt": c.started_at}}),
        Phase::CrashBackOff => {
            json!({"waiting": {"reason": "CrashLoopBackOff", "message": format!("back-off {}s restarting failed container={name} pod=…", back_off(c.restarts) / 1000)}})
        }
        Phase::Completed => {
            json!({"terminated": c.terminated.clone().unwrap_or(json!({"exitCode": 0, "reason": "Completed"}))})
        }
    };
    let started = c.phase == Phase::Running;
    let mut status = json!({
        "name": name,
        "image": image,
        "imageID": if c.pulled { format!("{repo}@sha256:{}", hex_id(image).repeat(2)) } else { String::new() },
        "ready": c.ready && started,
        "started": started,
        "restartCount": c.restarts,
        "state": state,
        "lastState": match &c.last_terminated { Some(t) => json!({"terminated": t}), None => json!({}) },
    });
    if started || c.phase == Phase::Completed || c.restarts > 0 {
        status["containerID"] = json!(format!(
            "containerd://{}",
            hex_id(&format!("{uid}{name}{}", c.restarts))
        ));
    }
    status
}

fn qos_class(pod: &Value) -> &'static str {
    let containers: Vec<&Value> = pod["spec"]["containers"]
        .as_array()
        .into_iter()
        .flatten()
        .collect();
    let any = containers
        .iter()
        .any(|c| c["resources"]["requests"].is_object() || c["resources"]["limits"].is_object());
    if !any {
        return "BestEffort";
    }
    let guaranteed = containers.iter().all(|c| {
        let l = &c["resources"]["limits"];
        let r = &c["resources"]["requests"];
        ["cpu", "memory"]
            .iter()
            .all(|k| !l[*k].is_null() && (r[*k].is_null() || r[*k] == l[*k]))
    });
    if guaranteed {
        "Guaranteed"
    } else {
        "Burstable"
    }
}

fn write_status(world: &mut World, pod: &Value, volumes_ready: bool) {
    let uid = uid_of(pod).to_string();
    let Some(rt) = world.controllers.pods.get(&uid).cloned() else {
        return;
    };
    let node = node_of(pod).to_string();
    let host_ip = world
        .kube
        .get("v1/Node", "", &node)
        .and_then(|n| {
            n["status"]["addresses"]
                .as_array()
                .and_then(|a| a.iter().find(|x| x["type"] == "InternalIP"))
                .map(|x| x["address"].clone())
        })
        .unwrap_or(json!("10.224.0.4"));
    let lookup = |list: &str| -> Vec<Value> {
        pod["spec"][list]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| {
                let name = c["name"].as_str()?;
                rt.containers
                    .get(name)
                    .map(|r| container_status(c, r, &uid))
            })
            .collect()
    };
    let init_statuses = lookup("initContainers");
    let mut statuses = lookup("containers");
    let init_done = pod["spec"]["initContainers"]
        .as_array()
        .into_iter()
        .flatten()
        .all(|c| {
            c["name"]
                .as_str()
                .and_then(|n| rt.containers.get(n))
                .is_some_and(|r| r.phase == Phase::Completed)
        });
    if !init_done {
        for s in statuses.iter_mut() {
            s["state"] = json!({"waiting": {"reason": "PodInitializing"}});
        }
    }
    let all_started_once = pod["spec"]["containers"]
        .as_array()
        .into_iter()
        .flatten()
        .all(|c| {
            c["name"]
                .as_str()
                .and_then(|n| rt.containers.get(n))
                .is_some_and(|r| r.phase == Phase::Running || r.restarts > 0)
        });
    let all_ready = statuses.iter().all(|s| s["ready"] == true) && !statuses.is_empty();
    let phase = if init_done && all_started_once {
        "Running"
    } else {
        "Pending"
    };

    let old = &pod["status"];
    let mut transitions = rt.transitions.clone();
    let mut make = |kind: &str, ok: bool| -> Value {
        let status = if ok { "True" } else { "False" };
        let previous = condition(old, kind);
        let time = match previous {
            Some(p) if p["status"] == status => {
                p["lastTransitionTime"].as_str().unwrap_or("").to_string()
            }
            _ => wall_time(),
        };
        transitions.insert(kind.to_string(), (status.to_string(), time.clone()));
        let mut c = json!({"type": kind, "status": status, "lastProbeTime": null, "lastTransitionTime": time});
        if !ok && (kind == "Ready" || kind == "ContainersReady") {
            let not_ready: Vec<&str> = statuses
                .iter()
                .filter(|s| s["ready"] != true)
                .filter_map(|s| s["name"].as_str())
                .collect();
            c["reason"] = json!("ContainersNotReady");
            c["message"] = json!(format!(
                "containers with unready status: [{}]",
                not_ready.join(" ")
            ));
        }
        if !ok && kind == "Initialized" {
            let pending: Vec<&str> = init_statuses
                .iter()
                .filter(|s| s["state"]["terminated"].is_null())
                .filter_map(|s| s["name"].as_str())
                .collect();
            c["reason"] = json!("ContainersNotInitialized");
            c["message"] = json!(format!(
                "containers with incomplete status: [{}]",
                pending.join(" ")
            ));
        }
        c
    };
    let conditions = vec![
        make("PodReadyToStartContainers", volumes_ready),
        make("Initialized", init_done),
        make("Ready", all_ready),
        make("ContainersReady", all_ready),
        make("PodScheduled", true),
    ];
    let mut status = json!({
        "phase": phase,
        "conditions": conditions,
        "hostIP": host_ip,
        "hostIPs": [{"ip": host_ip}],
        "podIP": rt.ip,
        "podIPs": [{"ip": rt.ip}],
        "startTime": rt.start_time,
        "containerStatuses": statuses,
        "qosClass": qos_class(pod),
    });
    if !init_statuses.is_empty() {
        status["initContainerStatuses"] = json!(init_statuses);
    }
    if let Some(r) = world.controllers.pods.get_mut(&uid) {
        r.transitions = transitions;
    }
    super::objects::set_status(world, "v1/Pod", pod, status);
}
