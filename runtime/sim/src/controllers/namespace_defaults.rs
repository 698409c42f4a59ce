//! What every namespace of a real cluster contains from its creation: the `default`
//! ServiceAccount (service-account controller) and the `kube-root-ca.crt` ConfigMap
//! (root-CA publisher). Pods run as `default` unless they name another account.

use super::objects::create_internal;
use super::Pass;
use crate::store::name_of;
use crate::world::World;
use serde_json::json;

const ROOT_CA: &str = "-----BEGIN CERTIFICATE-----\nMIIBrehearsalclusterrootcaplaceholder\n-----END CERTIFICATE-----\n";

pub fn run(world: &mut World, _pass: &mut Pass<'_>) {
    let active: Vec<String> = world
        .kube
        .list("v1/Namespace", None)
        .filter(|ns| ns["status"]["phase"] == "Active")
        .map(|ns| name_of(ns).to_string())
        .collect();
    for ns in active {
        if world
            .kube
            .get("v1/ServiceAccount", &ns, "default")
            .is_none()
        {
            create_internal(
                world,
                "v1/ServiceAccount",
                json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "default", "namespace": ns}}),
            );
        }
        if world
            .kube
            .get("v1/ConfigMap", &ns, "kube-root-ca.crt")
            .is_none()
        {
            create_internal(
                world,
                "v1/ConfigMap",
                json!({
                    "apiVersion": "v1", "kind": "ConfigMap",
                    "metadata": {"name": "kube-root-ca.crt", "namespace": ns, "annotations": {"kubernetes.io/description": "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters."}},
                    "data": {"ca.crt": ROOT_CA},
                }),
            );
        }
    }
}
