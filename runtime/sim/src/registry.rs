//! The rehearsal container registry and the kubelet's image-pull decision.
//!
//! On AKS, a pod's image is pulled by the kubelet with the node's (kubelet) identity. The
//! pull fails with *not found* when the tag was never pushed, and with *401 Unauthorized*
//! when the registry is private and the kubelet identity lacks AcrPull (ACR not attached).
//! The rehearsal registry records which tags exist (`docker push` in rehearsal adds them);
//! whether the kubelet may pull from a private registry is asked of a pluggable
//! [`PrivateRegistryAccess`], which the Azure part of the rehearsal implements from its
//! role assignments. Images on public registries are assumed to exist.

use crate::world::World;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// Which tags exist in which repository, e.g. `lfrunacr.azurecr.io/langfuse-web` → {`abc1234`}.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Registry {
    pub repositories: BTreeMap<String, BTreeSet<String>>,
}

/// An image reference split into registry host, repository path and tag (or digest).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    /// `lfrunacr.azurecr.io`, `docker.io`, …
    pub host: String,
    /// Path inside the registry: `langfuse-web`, `bitnami/postgresql`.
    pub path: String,
    /// Tag, or `sha256:…` for a digest reference.
    pub tag: String,
}

impl ImageRef {
    /// Parses `host/path:tag`, `path:tag` (Docker Hub), `path@sha256:…`; tag defaults to `latest`.
    pub fn parse(image: &str) -> ImageRef {
        let (name, tag) = if let Some((name, digest)) = image.split_once('@') {
            (name, digest.to_string())
        } else {
            match image.rfind(':') {
                Some(i) if !image[i..].contains('/') => (&image[..i], image[i + 1..].to_string()),
                _ => (image, "latest".to_string()),
            }
        };
        let (host, path) = match name.split_once('/') {
            Some((first, rest))
                if first.contains('.') || first.contains(':') || first == "localhost" =>
            {
                (first.to_string(), rest.to_string())
            }
            _ if name.contains('/') => ("docker.io".to_string(), name.to_string()),
            _ => ("docker.io".to_string(), format!("library/{name}")),
        };
        ImageRef { host, path, tag }
    }

    /// The registry map's key: `host/path`.
    pub fn repository(&self) -> String {
        format!("{}/{}", self.host, self.path)
    }

    /// Whether the image lives on a private registry the kubelet needs rights for.
    pub fn is_private(&self, private_hosts: &BTreeSet<String>) -> bool {
        self.host.ends_with(".azurecr.io") || private_hosts.contains(&self.host)
    }
}

impl Registry {
    pub fn contains(&self, image: &ImageRef) -> bool {
        self.repositories
            .get(&image.repository())
            .is_some_and(|tags| tags.contains(&image.tag))
    }

    /// Adds `repository:tag` (what a rehearsal `docker push` does).
    pub fn push(&mut self, image: &str) {
        let r = ImageRef::parse(image);
        self.repositories
            .entry(r.repository())
            .or_default()
            .insert(r.tag);
    }

    /// Removes one tag; returns whether it was there.
    pub fn remove(&mut self, image: &str) -> bool {
        let r = ImageRef::parse(image);
        let removed = self
            .repositories
            .get_mut(&r.repository())
            .is_some_and(|t| t.remove(&r.tag));
        if self
            .repositories
            .get(&r.repository())
            .is_some_and(|t| t.is_empty())
        {
            self.repositories.remove(&r.repository());
        }
        removed
    }
}

/// Decides whether the kubelet's identity may pull from a private registry host.
///
/// The Azure part of the rehearsal implements this from its state (AcrPull for the kubelet
/// identity on the registry). `Err` carries a short reason used in logs; the pod shows the
/// usual 401 Unauthorized pull error either way.
pub trait PrivateRegistryAccess: Send + Sync {
    fn kubelet_may_pull(&self, world: &World, host: &str, repository: &str) -> Result<(), String>;
}

/// Used until someone installs another policy: every private registry is readable.
pub struct AllowAllPulls;

impl PrivateRegistryAccess for AllowAllPulls {
    fn kubelet_may_pull(&self, _: &World, _: &str, _: &str) -> Result<(), String> {
        Ok(())
    }
}

/// The result of the kubelet trying to pull an image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PullOutcome {
    Pulled,
    /// The message containerd would give, for the pod's `Failed` event.
    Failed(String),
}

/// What the kubelet would get pulling `image` right now.
pub fn try_pull(world: &World, access: &dyn PrivateRegistryAccess, image: &str) -> PullOutcome {
    let r = ImageRef::parse(image);
    if r.is_private(&world.cluster.private_registries) {
        if let Err(reason) = access.kubelet_may_pull(world, &r.host, &r.path) {
            tracing::debug!(image, reason, "kubelet may not pull");
            return PullOutcome::Failed(format!(
                "failed to pull and unpack image \"{image}\": failed to resolve reference \"{image}\": \
                 failed to authorize: failed to fetch anonymous token: unexpected status from GET request to \
                 https://{host}/oauth2/token?scope=repository%3A{path}%3Apull&service={host}: 401 Unauthorized",
                host = r.host,
                path = r.path.replace('/', "%2F"),
            ));
        }
        if !world.registry.contains(&r) {
            return PullOutcome::Failed(format!(
                "rpc error: code = NotFound desc = failed to pull and unpack image \"{image}\": \
                 failed to resolve reference \"{image}\": {image}: not found"
            ));
        }
    } else if world.cluster.missing_public_images.contains(image) {
        return PullOutcome::Failed(format!(
            "rpc error: code = NotFound desc = failed to pull and unpack image \"{image}\": \
             failed to resolve reference \"{image}\": {image}: not found"
        ));
    }
    PullOutcome::Pulled
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_references() {
        let r = ImageRef::parse("lfrunacr.azurecr.io/langfuse-web:abc1234");
        assert_eq!(
            (r.host.as_str(), r.path.as_str(), r.tag.as_str()),
            ("lfrunacr.azurecr.io", "langfuse-web", "abc1234")
        );
        let r = ImageRef::parse("bitnami/postgresql:17");
        assert_eq!(r.repository(), "docker.io/bitnami/postgresql");
        let r = ImageRef::parse("redis");
        assert_eq!(
            (r.repository().as_str(), r.tag.as_str()),
            ("docker.io/library/redis", "latest")
        );
        let r = ImageRef::parse("localhost:5000/x");
        assert_eq!(
            (r.host.as_str(), r.tag.as_str()),
            ("localhost:5000", "latest")
        );
    }
}
