//! Starting, attaching to and stopping the rehearsal environment: the API the lfrun CLI
//! uses.
//!
//! One process serves a state dir at a time (it holds the dir's lock). `Sim::start`
//! either becomes that process — loading the persisted world or building one from a
//! scenario, serving the Kubernetes API on loopback, running the controllers and saving
//! the world as it changes — or, when a `sim serve` already serves the dir, returns a
//! handle *attached* to it, with the same kubeconfig and URLs. Attached handles steer the
//! server through its `/_sim/` control API.

use crate::api_faults::ApiFaults;
use crate::clock::DEFAULT_TIME_SCALE;
use crate::control::ControlApi;
use crate::error::SimError;
use crate::kube::server::KubeServer;
use crate::request_log::{RequestLog, RequestRecord};
use crate::scenario;
use crate::state_dir::{pid_alive, ServeInfo, StateDir};
use crate::world::{SharedWorld, World};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;

/// How to start the rehearsal environment.
#[derive(Debug, Clone)]
pub struct SimOptions {
    /// Where the state lives; the lfrun CLI passes `<cwd>/.lfrun/sim`.
    pub state_dir: PathBuf,
    /// Start from this scenario (shipped name or path to a YAML file) instead of the
    /// persisted state. Implies `fresh`.
    pub scenario: Option<String>,
    /// Port for the Kubernetes API on 127.0.0.1; None picks a free one.
    pub port: Option<u16>,
    /// Ignore the persisted state and start from the scenario (default `healthy`).
    pub fresh: bool,
    /// Virtual seconds per real second (default 200).
    pub time_scale: f64,
    /// True for `lfrun sim serve`: other processes may attach to this server.
    pub serve: bool,
    /// Attach to a running `sim serve` of the same dir when there is one (default true).
    pub attach: bool,
}

impl SimOptions {
    pub fn new(state_dir: impl Into<PathBuf>) -> SimOptions {
        SimOptions {
            state_dir: state_dir.into(),
            scenario: None,
            port: None,
            fresh: false,
            time_scale: DEFAULT_TIME_SCALE,
            serve: false,
            attach: true,
        }
    }
}

/// The running server's parts, when this process serves the dir.
struct Owned {
    world: SharedWorld,
    log: RequestLog,
    stop: tokio::sync::watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    _lock: File,
}

/// A running rehearsal environment (served here, or attached to another process).
pub struct Sim {
    dir: StateDir,
    kube_url: String,
    kubeconfig: PathBuf,
    owned: Option<Owned>,
}

async fn attachable(dir: &StateDir) -> Option<ServeInfo> {
    let info = dir.read_serve_info()?;
    if info.mode != "serve" || !pid_alive(info.pid) {
        return None;
    }
    crate::remote::healthy(&info.kube_url).await.then_some(info)
}

impl Sim {
    /// A handle steering the `sim serve` described by `info`, reset to `scenario` if given.
    async fn attached(
        dir: StateDir,
        info: ServeInfo,
        scenario: Option<&str>,
    ) -> Result<Sim, SimError> {
        let sim = Sim {
            dir,
            kube_url: info.kube_url,
            kubeconfig: info.kubeconfig,
            owned: None,
        };
        if let Some(name) = scenario {
            sim.reset_to(name).await?;
        }
        Ok(sim)
    }

    /// Starts (or attaches to) the rehearsal environment for `opts.state_dir`.
    pub async fn start(opts: SimOptions) -> Result<Sim, SimError> {
        let dir = StateDir::new(&opts.state_dir);
        dir.create()?;
        if opts.attach {
            if let Some(info) = attachable(&dir).await {
                return Sim::attached(dir, info, opts.scenario.as_deref()).await;
            }
        }
        // take the dir, waiting a little for a process that is just finishing
        let mut lock = None;
        for _ in 0..100 {
            if let Some(l) = dir.try_lock()? {
                lock = Some(l);
                break;
            }
            if opts.attach {
                if let Some(info) = attachable(&dir).await {
                    return Sim::attached(dir, info, opts.scenario.as_deref()).await;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let Some(lock) = lock else {
            let who = dir
                .read_serve_info()
                .map(|i| format!(" (pid {}, {})", i.pid, i.mode))
                .unwrap_or_default();
            return Err(SimError::Locked {
                path: dir.lock_file(),
                message: format!("another lfrun process is using this rehearsal state{who}; wait for it to finish or stop it"),
            });
        };

        let mut world = match (&opts.scenario, opts.fresh) {
            (Some(name), _) => scenario::build_world(&scenario::load(name)?)?,
            (None, true) => scenario::build_world(&scenario::load("healthy")?)?,
            (None, false) => match dir.load_world()? {
                Some(w) => w,
                None => scenario::build_world(&scenario::load("healthy")?)?,
            },
        };
        world.clock.resume(opts.time_scale);
        world.kube.reset_history();
        let world = SharedWorld::new(world);
        if opts.scenario.is_some() || opts.fresh {
            // a fresh world replaces the old state at once
            dir.save_bytes(&world.snapshot().map_err(|e| SimError::Corrupt {
                path: dir.state_file(),
                message: e.to_string(),
            })?)?;
            let _ = std::fs::remove_file(dir.requests_file());
        }
        let log = RequestLog::with_file(&dir.requests_file())
            .map_err(|e| SimError::io(dir.requests_file(), e))?;
        let faults = Arc::new(ApiFaults::default());

        let address = format!("127.0.0.1:{}", opts.port.unwrap_or(0));
        let listener =
            tokio::net::TcpListener::bind(&address)
                .await
                .map_err(|e| SimError::Bind {
                    address: address.clone(),
                    source: e,
                })?;
        let local = listener.local_addr().map_err(|e| SimError::Bind {
            address: address.clone(),
            source: e,
        })?;
        let kube_url = format!("http://{local}");
        let kubeconfig = dir.kubeconfig();
        StateDir::write_kubeconfig(&kubeconfig, &kube_url)?;

        let server = KubeServer {
            world: world.clone(),
            log: log.clone(),
            faults: faults.clone(),
            address: local.to_string(),
            control: Arc::new(ControlApi {
                world: world.clone(),
                log: log.clone(),
                faults,
            }),
        };
        let (stop, stop_rx) = tokio::sync::watch::channel(false);
        let mut tasks = Vec::new();
        let app = axum::Router::new().fallback(move |req: axum::extract::Request| {
            let server = server.clone();
            async move { server.handle(req).await }
        });
        let mut shutdown_rx = stop_rx.clone();
        tasks.push(tokio::spawn(async move {
            let serve = axum::serve(listener, app).with_graceful_shutdown(async move {
                let _ = shutdown_rx.changed().await;
            });
            if let Err(e) = serve.await {
                tracing::error!("rehearsal API server stopped: {e}");
            }
        }));
        tasks.push(tokio::spawn(crate::controllers::run_loop(
            world.clone(),
            stop_rx.clone(),
        )));
        tasks.push(tokio::spawn(persist_loop(
            world.clone(),
            dir.clone(),
            stop_rx.clone(),
        )));
        tasks.push(
            crate::azure::start_in_sim(world.clone(), &dir.path, &kubeconfig, stop_rx.clone())
                .await?,
        );
        tokio::task::spawn_blocking(crate::kube::openapi::warm_up);

        dir.write_serve_info(&ServeInfo {
            pid: std::process::id(),
            mode: if opts.serve {
                "serve".into()
            } else {
                "embedded".into()
            },
            kube_url: kube_url.clone(),
            kubeconfig: kubeconfig.clone(),
            started: crate::clock::wall_time(),
            extra: Default::default(),
        })?;
        Ok(Sim {
            dir,
            kube_url,
            kubeconfig,
            owned: Some(Owned {
                world,
                log,
                stop,
                tasks,
                _lock: lock,
            }),
        })
    }

    /// `http://127.0.0.1:<port>`
    pub fn kube_url(&self) -> &str {
        &self.kube_url
    }

    /// The kubeconfig pointing at the API server.
    pub fn kubeconfig_path(&self) -> &Path {
        &self.kubeconfig
    }

    pub fn state_dir(&self) -> &Path {
        &self.dir.path
    }

    /// True when another process serves the dir and this handle only steers it.
    pub fn is_attached(&self) -> bool {
        self.owned.is_none()
    }

    /// The world, when served by this process (None when attached).
    pub fn world(&self) -> Option<&SharedWorld> {
        self.owned.as_ref().map(|o| &o.world)
    }

    /// The request log, when served by this process (see `requests` for both cases).
    pub fn request_log(&self) -> Option<&RequestLog> {
        self.owned.as_ref().map(|o| &o.log)
    }

    async fn control(&self, method: &str, path: &str) -> Result<serde_json::Value, SimError> {
        let (status, body) = crate::remote::request(&self.kube_url, method, path, b"").await?;
        let value: serde_json::Value =
            serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
        if status >= 400 {
            return Err(SimError::Remote {
                url: format!("{}{path}", self.kube_url),
                message: value["message"]
                    .as_str()
                    .map(String::from)
                    .unwrap_or_else(|| format!("HTTP {status}")),
            });
        }
        Ok(value)
    }

    /// The requests answered so far (since the last clear).
    pub async fn requests(&self) -> Result<Vec<RequestRecord>, SimError> {
        match &self.owned {
            Some(o) => Ok(o.log.records()),
            None => {
                let v = self.control("GET", "/_sim/requests").await?;
                serde_json::from_value(v).map_err(|e| SimError::Remote {
                    url: self.kube_url.clone(),
                    message: e.to_string(),
                })
            }
        }
    }

    /// Whether the world was created from a `deployed: true` scenario and still waits for
    /// the CLI to install Langfuse and call [`Sim::apply_faults`].
    pub async fn deploy_pending(&self) -> Result<bool, SimError> {
        match &self.owned {
            Some(o) => Ok(o.world.read(|w| w.deploy_pending)),
            None => Ok(self.control("GET", "/_sim/info").await?["deploy_pending"]
                .as_bool()
                .unwrap_or(false)),
        }
    }

    /// Applies the scenario's post-deploy faults; returns what each did.
    pub async fn apply_faults(&self) -> Result<Vec<String>, SimError> {
        match &self.owned {
            Some(o) => {
                let applied = o.world.write(crate::faults::apply_pending).map_err(|m| {
                    SimError::Scenario {
                        name: o.world.read(|w| w.scenario.clone()),
                        message: m,
                    }
                })?;
                o.world.wake_controllers();
                Ok(applied)
            }
            None => {
                let v = self.control("POST", "/_sim/faults/apply").await?;
                Ok(v["applied"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|s| s.as_str().map(String::from))
                    .collect())
            }
        }
    }

    /// Adds an image tag to the rehearsal registry (what a rehearsal `docker push` does).
    pub async fn push_image(&self, image: &str) -> Result<(), SimError> {
        match &self.owned {
            Some(o) => {
                o.world.write(|w| w.registry.push(image));
                o.world.wake_controllers();
                Ok(())
            }
            None => self
                .control(
                    "POST",
                    &format!("/_sim/registry?image={}", encode_query(image)),
                )
                .await
                .map(|_| ()),
        }
    }

    /// Moves virtual time forward (tests: progress deadlines, back-offs).
    pub async fn advance_clock(&self, by: Duration) -> Result<(), SimError> {
        match &self.owned {
            Some(o) => {
                o.world.write(|w| w.clock.advance(by));
                o.world.wake_controllers();
                Ok(())
            }
            None => self
                .control(
                    "POST",
                    &format!("/_sim/clock/advance?seconds={}", by.as_secs_f64()),
                )
                .await
                .map(|_| ()),
        }
    }

    /// Replaces the world with a scenario's (served here or remotely).
    pub async fn reset_to(&self, scenario_name: &str) -> Result<(), SimError> {
        match &self.owned {
            Some(o) => {
                let world = scenario::build_world(&scenario::load(scenario_name)?)?;
                o.world.replace(world);
                o.log.clear();
                Ok(())
            }
            None => self
                .control(
                    "POST",
                    &format!("/_sim/reset?scenario={}", encode_query(scenario_name)),
                )
                .await
                .map(|_| ()),
        }
    }

    /// Copies the kubeconfig to `path` (`sim serve --kubeconfig-out`).
    pub fn write_kubeconfig(&self, path: &Path) -> Result<(), SimError> {
        StateDir::write_kubeconfig(path, &self.kube_url)
    }

    /// Stops serving (if this process serves) after saving the world; a no-op when attached.
    pub async fn shutdown(mut self) -> Result<(), SimError> {
        let Some(owned) = self.owned.take() else {
            return Ok(());
        };
        let _ = owned.stop.send(true);
        for task in owned.tasks {
            let _ = tokio::time::timeout(Duration::from_secs(5), task).await;
        }
        let bytes = owned.world.snapshot().map_err(|e| SimError::Corrupt {
            path: self.dir.state_file(),
            message: e.to_string(),
        })?;
        self.dir.save_bytes(&bytes)?;
        if self
            .dir
            .read_serve_info()
            .is_some_and(|i| i.pid == std::process::id())
        {
            self.dir.remove_serve_info();
        }
        Ok(())
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        if let Some(owned) = self.owned.take() {
            let _ = owned.stop.send(true);
            if let Ok(bytes) = owned.world.snapshot() {
                let _ = self.dir.save_bytes(&bytes);
            }
            if self
                .dir
                .read_serve_info()
                .is_some_and(|i| i.pid == std::process::id())
            {
                self.dir.remove_serve_info();
            }
        }
    }
}

fn encode_query(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' | b':' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Saves the world at most every 100 ms while it changes.
async fn persist_loop(
    world: SharedWorld,
    dir: StateDir,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(100)) => {}
            _ = stop.changed() => return,
        }
        if world.take_dirty() {
            match world.snapshot() {
                Ok(bytes) => {
                    let dir = dir.clone();
                    let result = tokio::task::spawn_blocking(move || dir.save_bytes(&bytes)).await;
                    if let Ok(Err(e)) = result {
                        tracing::warn!("saving the rehearsal state: {e}");
                        world.mark_dirty();
                    }
                }
                Err(e) => tracing::warn!("serialising the rehearsal state: {e}"),
            }
        }
    }
}

/// Starts `state_dir` afresh from `scenario` (default `healthy`): resets a running
/// `sim serve` of that dir, or rewrites the persisted state.
pub async fn reset(state_dir: &Path, scenario_name: Option<&str>) -> Result<(), SimError> {
    let name = scenario_name.unwrap_or("healthy");
    let dir = StateDir::new(state_dir);
    dir.create()?;
    let scenario = scenario::load(name)?;
    if let Some(info) = attachable(&dir).await {
        let sim = Sim {
            dir,
            kube_url: info.kube_url,
            kubeconfig: info.kubeconfig,
            owned: None,
        };
        return sim.reset_to(name).await;
    }
    let Some(_lock) = dir.try_lock()? else {
        let who = dir
            .read_serve_info()
            .map(|i| format!(" (pid {})", i.pid))
            .unwrap_or_default();
        return Err(SimError::Locked {
            path: dir.lock_file(),
            message: format!("another lfrun process is using this rehearsal state{who}"),
        });
    };
    let world: World = scenario::build_world(&scenario)?;
    dir.save_world(&world)?;
    let _ = std::fs::remove_file(dir.requests_file());
    Ok(())
}
