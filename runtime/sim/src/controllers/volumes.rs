//! Persistent volumes: dynamic provisioning and binding of claims (a PV per claim from
//! its StorageClass; `WaitForFirstConsumer` classes wait for a scheduled pod), claim
//! protection on delete, reclaiming released volumes, and expansion.
//!
//! Expansion follows Azure Disk's CSI driver: when a bound claim asks for more storage,
//! the external resizer grows the disk (the PV's capacity changes at once) and the claim
//! gets the `FileSystemResizePending` condition; the file system is grown when a pod next
//! mounts the volume, i.e. after the pod using it restarts. Only then does the claim's
//! `status.capacity` show the new size.

use super::events::{record, record_once, Source};
use super::objects::{is_terminating, set_status};
use super::Pass;
use crate::clock::wall_time;
use crate::quantity::value_bytes;
use crate::store::{name_of, namespace_of, uid_of};
use crate::world::World;
use serde_json::{json, Value};

const PVC: &str = "v1/PersistentVolumeClaim";
const PV: &str = "v1/PersistentVolume";
const PROTECTION: &str = "kubernetes.io/pvc-protection";

fn used_by_pod(world: &World, namespace: &str, claim: &str, scheduled_only: bool) -> bool {
    world.kube.list("v1/Pod", Some(namespace)).any(|p| {
        (!scheduled_only || p["spec"]["nodeName"].is_string())
            && p["spec"]["volumes"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|v| v["persistentVolumeClaim"]["claimName"] == claim)
    })
}

pub fn run(world: &mut World, _pass: &mut Pass<'_>) {
    for pvc in world.kube.list_owned(PVC, None) {
        let ns = namespace_of(&pvc).to_string();
        let name = name_of(&pvc).to_string();
        if is_terminating(&pvc) {
            if !used_by_pod(world, &ns, &name, false) {
                let mut p = pvc.clone();
                if let Some(f) = p["metadata"]["finalizers"].as_array_mut() {
                    f.retain(|x| x != PROTECTION);
                }
                if p["metadata"]["finalizers"]
                    .as_array()
                    .is_none_or(|f| f.is_empty())
                {
                    world.kube.remove(PVC, &ns, &name);
                    release(world, &pvc);
                } else if p != pvc {
                    world.kube.replace(PVC, p);
                }
            }
            continue;
        }
        match pvc["status"]["phase"].as_str() {
            Some("Bound") => expand(world, &pvc),
            _ => provision(world, &pvc),
        }
    }
}

fn provision(world: &mut World, pvc: &Value) {
    let ns = namespace_of(pvc).to_string();
    let name = name_of(pvc).to_string();
    let class_name = pvc["spec"]["storageClassName"]
        .as_str()
        .unwrap_or("")
        .to_string();
    let Some(class) = world
        .kube
        .get("storage.k8s.io/v1/StorageClass", "", &class_name)
        .cloned()
    else {
        let msg = if class_name.is_empty() {
            "no persistent volumes available for this claim and no storage class is set".to_string()
        } else {
            format!("storageclass.storage.k8s.io \"{class_name}\" not found")
        };
        record_once(
            world,
            pvc,
            Source::Controller("persistentvolume-controller"),
            true,
            "ProvisioningFailed",
            &msg,
        );
        return;
    };
    let provisioner = class["provisioner"]
        .as_str()
        .unwrap_or("disk.csi.azure.com")
        .to_string();
    if class["volumeBindingMode"] == "WaitForFirstConsumer" && !used_by_pod(world, &ns, &name, true)
    {
        record_once(
            world,
            pvc,
            Source::Controller("persistentvolume-controller"),
            false,
            "WaitForFirstConsumer",
            "waiting for first consumer to be created before binding",
        );
        return;
    }
    record(
        world,
        pvc,
        Source::Controller("persistentvolume-controller"),
        false,
        "ExternalProvisioning",
        &format!("Waiting for a volume to be created either by the external provisioner '{provisioner}' or manually by the system administrator. If volume creation is delayed, please verify that your external provisioner is running and correctly registered."),
    );
    record(
        world,
        pvc,
        Source::Controller(leak(&provisioner)),
        false,
        "Provisioning",
        &format!("External provisioner is provisioning volume for claim \"{ns}/{name}\""),
    );
    let pv_name = format!("pvc-{}", uid_of(pvc));
    let size = pvc["spec"]["resources"]["requests"]["storage"].clone();
    let pv = json!({
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {
            "name": pv_name,
            "annotations": {"pv.kubernetes.io/provisioned-by": provisioner, "volume.kubernetes.io/provisioner-deletion-secret-name": "", "volume.kubernetes.io/provisioner-deletion-secret-namespace": ""},
            "finalizers": ["external-provisioner.volume.kubernetes.io/finalizer", "kubernetes.io/pv-protection"],
        },
        "spec": {
            "accessModes": pvc["spec"]["accessModes"],
            "capacity": {"storage": size},
            "claimRef": {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "name": name, "namespace": ns, "uid": uid_of(pvc), "resourceVersion": pvc["metadata"]["resourceVersion"]},
            "csi": {"driver": provisioner, "volumeHandle": format!("/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/mc_rehearsal/providers/Microsoft.Compute/disks/{pv_name}"), "fsType": "ext4", "volumeAttributes": {"csi.storage.k8s.io/pv/name": pv_name, "csi.storage.k8s.io/pvc/name": name, "csi.storage.k8s.io/pvc/namespace": ns, "skuname": class["parameters"]["skuname"].as_str().unwrap_or("StandardSSD_LRS"), "storage.kubernetes.io/csiProvisionerIdentity": "rehearsal-disk.csi.azure.com"}},
            "persistentVolumeReclaimPolicy": class["reclaimPolicy"].as_str().unwrap_or("Delete"),
            "storageClassName": class_name,
            "volumeMode": pvc["spec"]["volumeMode"].as_str().unwrap_or("Filesystem"),
        },
        "status": {"phase": "Bound", "lastPhaseTransitionTime": wall_time()},
    });
    if world.kube.get(PV, "", &pv_name).is_none() {
        super::objects::create_internal(world, PV, pv);
    }
    let Some(mut claim) = world.kube.get(PVC, &ns, &name).cloned() else {
        return;
    };
    claim["spec"]["volumeName"] = json!(pv_name);
    let ann = &mut claim["metadata"]["annotations"];
    ann["pv.kubernetes.io/bind-completed"] = json!("yes");
    ann["pv.kubernetes.io/bound-by-controller"] = json!("yes");
    ann["volume.beta.kubernetes.io/storage-provisioner"] = json!(provisioner);
    ann["volume.kubernetes.io/storage-provisioner"] = json!(provisioner);
    if class["volumeBindingMode"] == "WaitForFirstConsumer" {
        if let Some(node) = world
            .kube
            .list("v1/Pod", Some(ns.as_str()))
            .find(|p| {
                p["spec"]["volumes"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|v| v["persistentVolumeClaim"]["claimName"] == name.as_str())
            })
            .and_then(|p| p["spec"]["nodeName"].as_str())
        {
            ann["volume.kubernetes.io/selected-node"] = json!(node);
        }
    }
    let finalizers = claim["metadata"]["finalizers"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if !finalizers.iter().any(|f| f == PROTECTION) {
        let mut f = finalizers;
        f.push(json!(PROTECTION));
        claim["metadata"]["finalizers"] = json!(f);
    }
    claim["status"] = json!({"phase": "Bound", "accessModes": pvc["spec"]["accessModes"], "capacity": {"storage": size}});
    let stored = world.kube.replace(PVC, claim);
    let key = format!("{ns}/{name}");
    let capacity = value_bytes(&size).unwrap_or(0);
    world
        .disk_usage
        .entry(key)
        .or_insert(capacity / 50 + 64 * 1024 * 1024);
    record(
        world,
        &stored,
        Source::Controller(leak(&provisioner)),
        false,
        "ProvisioningSucceeded",
        &format!("Successfully provisioned volume {pv_name}"),
    );
}

/// Component names are static strings in the recorder; provisioners are few and fixed.
fn leak(provisioner: &str) -> &'static str {
    match provisioner {
        "disk.csi.azure.com" => "disk.csi.azure.com_csi-azuredisk-controller",
        "file.csi.azure.com" => "file.csi.azure.com_csi-azurefile-controller",
        _ => "external-provisioner",
    }
}

fn release(world: &mut World, pvc: &Value) {
    let Some(pv_name) = pvc["spec"]["volumeName"].as_str() else {
        return;
    };
    world
        .disk_usage
        .remove(&format!("{}/{}", namespace_of(pvc), name_of(pvc)));
    let Some(pv) = world.kube.get(PV, "", pv_name).cloned() else {
        return;
    };
    if pv["spec"]["persistentVolumeReclaimPolicy"] == "Delete" {
        world.kube.remove(PV, "", pv_name);
    } else {
        let mut pv = pv;
        pv["status"] = json!({"phase": "Released", "lastPhaseTransitionTime": wall_time()});
        world.kube.replace(PV, pv);
    }
}

fn expand(world: &mut World, pvc: &Value) {
    let requested = value_bytes(&pvc["spec"]["resources"]["requests"]["storage"]);
    let capacity = value_bytes(&pvc["status"]["capacity"]["storage"]);
    let (Some(requested), Some(capacity)) = (requested, capacity) else {
        return;
    };
    let pending = pvc["status"]["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|c| c["type"] == "FileSystemResizePending");
    let allocated =
        value_bytes(&pvc["status"]["allocatedResources"]["storage"]).unwrap_or(capacity);
    if requested <= capacity || (pending && allocated >= requested) {
        return;
    }
    let new_size = pvc["spec"]["resources"]["requests"]["storage"].clone();
    let pv_name = pvc["spec"]["volumeName"].as_str().unwrap_or("").to_string();
    record(
        world,
        pvc,
        Source::Controller("volume_expand"),
        false,
        "ExternalExpanding",
        "waiting for an external controller to expand this PVC",
    );
    record(
        world,
        pvc,
        Source::Controller("external-resizer disk.csi.azure.com"),
        false,
        "Resizing",
        &format!("External resizer is resizing volume {pv_name}"),
    );
    if let Some(mut pv) = world.kube.get(PV, "", &pv_name).cloned() {
        pv["spec"]["capacity"]["storage"] = new_size.clone();
        world.kube.replace(PV, pv);
    }
    record(
        world,
        pvc,
        Source::Controller("external-resizer disk.csi.azure.com"),
        false,
        "FileSystemResizeRequired",
        "Require file system resize of volume on node",
    );
    let mut status = pvc["status"].clone();
    status["allocatedResources"] = json!({"storage": new_size});
    status["allocatedResourceStatuses"] = json!({"storage": "NodeResizePending"});
    status["conditions"] = json!([{
        "type": "FileSystemResizePending",
        "status": "True",
        "lastProbeTime": null,
        "lastTransitionTime": wall_time(),
        "message": "Waiting for user to (re-)start a pod to finish file system resize of volume on node.",
    }]);
    set_status(world, PVC, pvc, status);
}

/// Called by the kubelet when a pod mounts `claim`: a pending file-system resize
/// completes, and the claim's capacity becomes the requested size.
pub fn finish_resize_on_mount(world: &mut World, pod: &Value, namespace: &str, claim: &str) {
    let Some(pvc) = world.kube.get(PVC, namespace, claim).cloned() else {
        return;
    };
    let pending = pvc["status"]["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|c| c["type"] == "FileSystemResizePending");
    if !pending {
        return;
    }
    let new_size = pvc["status"]["allocatedResources"]["storage"].clone();
    let mut status = pvc["status"].clone();
    status["capacity"] = json!({"storage": new_size});
    if let Some(m) = status.as_object_mut() {
        m.remove("conditions");
        m.remove("allocatedResourceStatuses");
    }
    set_status(world, PVC, &pvc, status);
    let pv = pvc["spec"]["volumeName"].as_str().unwrap_or("");
    let node = pod["spec"]["nodeName"].as_str().unwrap_or("");
    let message = format!("MountVolume.NodeExpandVolume succeeded for volume \"{pv}\" {node}");
    record(
        world,
        &pvc,
        Source::Kubelet(node),
        false,
        "FileSystemResizeSuccessful",
        &message,
    );
    record(
        world,
        pod,
        Source::Kubelet(node),
        false,
        "FileSystemResizeSuccessful",
        &message,
    );
}
