//! Simulated controllers: what kube-controller-manager, the scheduler and the kubelets
//! would do, on the virtual clock.
//!
//! Each controller is a function from the world to changes in it. The loop runs them in
//! dependency order — garbage collection, workloads (Deployment → ReplicaSet, StatefulSet),
//! scheduling, the kubelet, volumes, endpoints — repeating until nothing changes, so a pod
//! turning Ready propagates to its ReplicaSet's and Deployment's status in the same pass
//! (watchers see the rollout complete within the same millisecond). The loop then sleeps
//! until the next virtual instant something is due (an image pulled, a probe passing, a
//! back-off ending) or until a write wakes it.

pub mod deployment;
pub mod endpoints;
pub mod events;
pub mod garbage_collector;
pub mod kubelet;
pub mod kubelet_stats;
pub mod namespace_defaults;
pub mod objects;
pub mod replicaset;
pub mod scheduler;
pub mod statefulset;
pub mod volumes;
pub mod workload_logs;

use crate::clock::VirtualMillis;
use crate::registry::PrivateRegistryAccess;
use crate::world::{SharedWorld, World};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;

/// What controllers remember between passes (persisted with the world).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ControllerState {
    /// Simulated container runtime state, by pod uid.
    pub pods: BTreeMap<String, kubelet::PodRuntime>,
    /// Virtual time of each Deployment's last progress, by uid (for progressDeadlineSeconds).
    pub deployment_progress: BTreeMap<String, VirtualMillis>,
    /// Counter for pod IPs.
    pub next_pod_ip: u32,
    /// Counter for load balancer IPs.
    pub next_lb_ip: u32,
}

/// One controller pass's view of time and of what it must come back for.
pub struct Pass<'a> {
    pub now: VirtualMillis,
    next_wake: Option<VirtualMillis>,
    pub access: &'a dyn PrivateRegistryAccess,
}

impl Pass<'_> {
    /// Asks for another pass at virtual time `at`.
    pub fn wake_at(&mut self, at: VirtualMillis) {
        self.next_wake = Some(self.next_wake.map_or(at, |n| n.min(at)));
    }
}

/// Runs all controllers until the world is stable; returns when to run again.
pub fn reconcile(world: &mut World, access: &dyn PrivateRegistryAccess) -> Option<VirtualMillis> {
    let mut pass = Pass {
        now: world.clock.now(),
        next_wake: None,
        access,
    };
    for _ in 0..25 {
        let before = world.kube.resource_version;
        garbage_collector::run(world, &mut pass);
        namespace_defaults::run(world, &mut pass);
        deployment::run(world, &mut pass);
        replicaset::run(world, &mut pass);
        statefulset::run(world, &mut pass);
        volumes::run(world, &mut pass);
        scheduler::run(world, &mut pass);
        kubelet::run(world, &mut pass);
        endpoints::run(world, &mut pass);
        if world.kube.resource_version == before {
            break;
        }
    }
    pass.next_wake
}

/// The controller task: reconcile, sleep until due or woken, repeat until stopped.
pub async fn run_loop(world: SharedWorld, mut stop: tokio::sync::watch::Receiver<bool>) {
    loop {
        if *stop.borrow() {
            return;
        }
        let access = world.private_registry_access();
        let next = world.write_if_objects_changed(|w| reconcile(w, access.as_ref()));
        let sleep = match next {
            Some(at) => world
                .read(|w| w.clock.real_until(at))
                .max(Duration::from_micros(200)),
            None => Duration::from_secs(1),
        }
        .min(Duration::from_secs(1));
        tokio::select! {
            _ = world.controllers_woken() => {}
            _ = tokio::time::sleep(sleep) => {}
            _ = stop.changed() => return,
        }
    }
}
