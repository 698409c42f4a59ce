//! The world: everything the rehearsal environment knows, in one serialisable value.
//!
//! A real AKS cluster keeps its state in etcd, container logs on nodes, images in ACR and
//! Azure's state in Resource Manager. The rehearsal keeps all of it in a [`World`], which
//! is persisted as `state.json` in the state dir so a second lfrun process sees what the
//! first one did (see `state_dir.rs`).
//!
//! The running server shares one world between the HTTP handlers, the simulated
//! controllers and the Azure endpoints through [`SharedWorld`]: a mutex plus the
//! side channels that must not be persisted (watch broadcast, controller wake-up, the
//! dirty flag that drives saving).

use crate::api_faults::ApiFaultConfig;
use crate::clock::VirtualClock;
use crate::controllers::ControllerState;
use crate::faults::ActiveFaults;
use crate::logs::PodLogs;
use crate::registry::{AllowAllPulls, PrivateRegistryAccess, Registry};
use crate::store::{Change, ObjectStore};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use tokio::sync::{broadcast, Notify};

/// Bumped when the persisted layout changes incompatibly.
pub const STATE_FORMAT: u32 = 1;

/// Cluster-wide settings that are not Kubernetes objects.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct ClusterSettings {
    /// What `/version` reports, e.g. `v1.33.2`.
    pub kubernetes_version: String,
    /// Registry hosts, besides `*.azurecr.io`, that need the kubelet's credentials.
    pub private_registries: BTreeSet<String>,
    /// Public images that do not exist (a typo'd tag on Docker Hub, say).
    pub missing_public_images: BTreeSet<String>,
}

impl Default for ClusterSettings {
    fn default() -> Self {
        ClusterSettings {
            kubernetes_version: "v1.33.2".into(),
            private_registries: BTreeSet::new(),
            missing_public_images: BTreeSet::new(),
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
pub struct World {
    /// Layout version of `state.json`.
    pub format: u32,
    /// The scenario this world was created from.
    pub scenario: String,
    /// True from the creation of a `deployed: true` scenario world until its faults are
    /// applied: the lfrun CLI then installs Langfuse and calls `Sim::apply_faults`.
    pub deploy_pending: bool,
    pub clock: VirtualClock,
    pub cluster: ClusterSettings,
    /// Kubernetes objects (including Events).
    pub kube: ObjectStore,
    pub logs: PodLogs,
    /// Bytes used on each persistent volume, by `namespace/claim name`.
    pub disk_usage: BTreeMap<String, u64>,
    /// The rehearsal container registry: repository → tags.
    pub registry: Registry,
    /// What the simulated controllers and kubelet remember between ticks.
    #[serde(default)]
    pub controllers: ControllerState,
    /// Faults that keep acting (pods that never become ready, …) and those still to apply.
    #[serde(default)]
    pub faults: ActiveFaults,
    /// Request fault injection (429/500/stalls) for the Kubernetes API, when enabled.
    #[serde(default)]
    pub api_faults: Option<ApiFaultConfig>,
    // ---- Azure -------------------------------------------------------------------------
    /// The Azure part of the rehearsal (Resource Manager, Graph, ACR, Blob state), see `azure/`.
    #[serde(default)]
    pub azure: crate::azure::AzureState,
    /// What the rehearsal's Langfuse keeps (ClickHouse rows, media records), see `langfuse/`.
    #[serde(default)]
    pub langfuse: crate::langfuse::LangfuseState,
}

impl World {
    /// An empty world (no objects yet); scenarios fill it in.
    pub fn empty(scenario: &str) -> World {
        World {
            format: STATE_FORMAT,
            scenario: scenario.to_string(),
            deploy_pending: false,
            clock: VirtualClock::default(),
            cluster: ClusterSettings::default(),
            kube: ObjectStore::default(),
            logs: PodLogs::default(),
            disk_usage: BTreeMap::new(),
            registry: Registry::default(),
            controllers: ControllerState::default(),
            faults: ActiveFaults::default(),
            api_faults: None,
            azure: crate::azure::AzureState::default(),
            langfuse: crate::langfuse::LangfuseState::default(),
        }
    }
}

struct Shared {
    world: Mutex<World>,
    dirty: AtomicBool,
    changes: broadcast::Sender<Change>,
    /// Bumped when the whole world is replaced; open watches end so clients relist.
    epoch: AtomicU64,
    wake_controllers: Notify,
    pull_access: RwLock<Arc<dyn PrivateRegistryAccess>>,
}

/// A handle on the running world, cheap to clone, shared by every part of the server.
#[derive(Clone)]
pub struct SharedWorld {
    inner: Arc<Shared>,
}

impl SharedWorld {
    pub fn new(world: World) -> SharedWorld {
        let (changes, _) = broadcast::channel(8192);
        SharedWorld {
            inner: Arc::new(Shared {
                world: Mutex::new(world),
                dirty: AtomicBool::new(false),
                changes,
                epoch: AtomicU64::new(0),
                wake_controllers: Notify::new(),
                pull_access: RwLock::new(Arc::new(AllowAllPulls)),
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, World> {
        self.inner
            .world
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Reads the world.
    pub fn read<R>(&self, f: impl FnOnce(&World) -> R) -> R {
        f(&self.lock())
    }

    /// Changes the world: marks it dirty (to be saved), then tells watchers and the
    /// controllers about the Kubernetes objects written.
    pub fn write<R>(&self, f: impl FnOnce(&mut World) -> R) -> R {
        let mut world = self.lock();
        let result = f(&mut world);
        self.inner.dirty.store(true, Ordering::Release);
        let changes = world.kube.take_pending();
        if !changes.is_empty() {
            self.inner.wake_controllers.notify_one();
            for change in changes {
                let _ = self.inner.changes.send(change);
            }
        }
        result
    }

    /// Like `write`, but marks the world dirty only when Kubernetes objects changed: the
    /// controller loop runs often and mostly finds nothing to do.
    pub(crate) fn write_if_objects_changed<R>(&self, f: impl FnOnce(&mut World) -> R) -> R {
        let mut world = self.lock();
        let before = world.kube.resource_version;
        let result = f(&mut world);
        if world.kube.resource_version != before {
            self.inner.dirty.store(true, Ordering::Release);
        }
        let changes = world.kube.take_pending();
        for change in changes {
            let _ = self.inner.changes.send(change);
        }
        result
    }

    /// Like `write`, but with the receiver for changes made after it returns, subscribed
    /// while the lock is held so no change can slip between reading and subscribing.
    pub(crate) fn read_and_subscribe<R>(
        &self,
        f: impl FnOnce(&World) -> R,
    ) -> (R, broadcast::Receiver<Change>, u64) {
        let world = self.lock();
        let rx = self.inner.changes.subscribe();
        (f(&world), rx, self.epoch())
    }

    /// Replaces the whole world (reset to a scenario while serving). resourceVersions
    /// keep increasing so clients never see one go backwards; open watches end.
    pub fn replace(&self, mut world: World) {
        let mut current = self.lock();
        world.kube.resource_version = world
            .kube
            .resource_version
            .max(current.kube.resource_version + 1);
        world.kube.reset_history();
        world.clock.resume(current.clock.scale());
        *current = world;
        self.inner.epoch.fetch_add(1, Ordering::AcqRel);
        self.inner.dirty.store(true, Ordering::Release);
        self.inner.wake_controllers.notify_one();
    }

    pub(crate) fn epoch(&self) -> u64 {
        self.inner.epoch.load(Ordering::Acquire)
    }

    /// Clears the dirty flag, returning whether it was set.
    pub(crate) fn take_dirty(&self) -> bool {
        self.inner.dirty.swap(false, Ordering::AcqRel)
    }

    pub(crate) fn mark_dirty(&self) {
        self.inner.dirty.store(true, Ordering::Release);
    }

    /// Serialises the world (for `state.json`).
    pub(crate) fn snapshot(&self) -> Result<Vec<u8>, serde_json::Error> {
        let mut world = self.lock();
        world.clock.checkpoint();
        serde_json::to_vec(&*world)
    }

    /// Wakes the controller loop (after a clock jump or a fault).
    pub fn wake_controllers(&self) {
        self.inner.wake_controllers.notify_one();
    }

    pub(crate) async fn controllers_woken(&self) {
        self.inner.wake_controllers.notified().await
    }

    /// Installs the policy deciding whether the kubelet may pull from private registries
    /// (the Azure rehearsal: AcrPull for the kubelet identity).
    pub fn set_private_registry_access(&self, access: Arc<dyn PrivateRegistryAccess>) {
        *self
            .inner
            .pull_access
            .write()
            .unwrap_or_else(|p| p.into_inner()) = access;
        self.wake_controllers();
    }

    pub fn private_registry_access(&self) -> Arc<dyn PrivateRegistryAccess> {
        self.inner
            .pull_access
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}
