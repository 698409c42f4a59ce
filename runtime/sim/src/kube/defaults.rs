//! Defaulting: the fields the real API server fills in when a client leaves them out.
//!
//! Clients read objects back and compare (Helm's three-way merge, `kubectl diff`,
//! `rollout status`), and controllers here rely on them (strategy, probes), so objects
//! must come back with the same defaults a real cluster adds. Only fields that matter to
//! clients or the simulation are covered.

use serde_json::{json, Map, Value};

fn set_default(map: &mut Map<String, Value>, key: &str, value: Value) {
    if map.get(key).is_none_or(Value::is_null) {
        map.insert(key.to_string(), value);
    }
}

fn obj<'a>(v: &'a mut Value, key: &str) -> Option<&'a mut Map<String, Value>> {
    v.get_mut(key).and_then(Value::as_object_mut)
}

/// Applies the defaults of `type_key` to `object`.
pub fn apply_defaults(type_key: &str, object: &mut Value) {
    match type_key {
        "v1/Pod" => {
            if let Some(spec) = obj(object, "spec") {
                pod_spec(spec, true);
            }
        }
        "apps/v1/Deployment" => {
            if let Some(spec) = obj(object, "spec") {
                set_default(spec, "replicas", json!(1));
                set_default(spec, "revisionHistoryLimit", json!(10));
                set_default(spec, "progressDeadlineSeconds", json!(600));
                let strategy = spec.entry("strategy").or_insert_with(|| json!({}));
                if let Some(s) = strategy.as_object_mut() {
                    set_default(s, "type", json!("RollingUpdate"));
                    if s["type"] == "RollingUpdate" {
                        let ru = s.entry("rollingUpdate").or_insert_with(|| json!({}));
                        if let Some(ru) = ru.as_object_mut() {
                            set_default(ru, "maxSurge", json!("25%"));
                            set_default(ru, "maxUnavailable", json!("25%"));
                        }
                    }
                }
                template(spec);
            }
        }
        "apps/v1/ReplicaSet" => {
            if let Some(spec) = obj(object, "spec") {
                set_default(spec, "replicas", json!(1));
                template(spec);
            }
        }
        "apps/v1/StatefulSet" => {
            if let Some(spec) = obj(object, "spec") {
                set_default(spec, "replicas", json!(1));
                set_default(spec, "podManagementPolicy", json!("OrderedReady"));
                set_default(spec, "revisionHistoryLimit", json!(10));
                set_default(
                    spec,
                    "persistentVolumeClaimRetentionPolicy",
                    json!({"whenDeleted": "Retain", "whenScaled": "Retain"}),
                );
                let strategy = spec.entry("updateStrategy").or_insert_with(|| json!({}));
                if let Some(s) = strategy.as_object_mut() {
                    set_default(s, "type", json!("RollingUpdate"));
                    if s["type"] == "RollingUpdate" {
                        let ru = s.entry("rollingUpdate").or_insert_with(|| json!({}));
                        if let Some(ru) = ru.as_object_mut() {
                            set_default(ru, "partition", json!(0));
                        }
                    }
                }
                if let Some(templates) = spec
                    .get_mut("volumeClaimTemplates")
                    .and_then(Value::as_array_mut)
                {
                    for t in templates.iter_mut().filter_map(Value::as_object_mut) {
                        set_default(t, "apiVersion", json!("v1"));
                        set_default(t, "kind", json!("PersistentVolumeClaim"));
                        if let Some(s) = t.get_mut("spec").and_then(Value::as_object_mut) {
                            set_default(s, "volumeMode", json!("Filesystem"));
                        }
                        set_default(t, "status", json!({"phase": "Pending"}));
                    }
                }
                template(spec);
            }
        }
        "apps/v1/DaemonSet" => {
            if let Some(spec) = obj(object, "spec") {
                set_default(spec, "revisionHistoryLimit", json!(10));
                set_default(
                    spec,
                    "updateStrategy",
                    json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 0, "maxUnavailable": 1}}),
                );
                template(spec);
            }
        }
        "batch/v1/Job" => {
            if let Some(spec) = obj(object, "spec") {
                set_default(spec, "backoffLimit", json!(6));
                set_default(spec, "completions", json!(1));
                set_default(spec, "parallelism", json!(1));
                set_default(spec, "completionMode", json!("NonIndexed"));
                set_default(spec, "suspend", json!(false));
                set_default(spec, "podReplacementPolicy", json!("TerminatingOrFailed"));
                template(spec);
            }
        }
        "batch/v1/CronJob" => {
            if let Some(spec) = obj(object, "spec") {
                set_default(spec, "concurrencyPolicy", json!("Allow"));
                set_default(spec, "suspend", json!(false));
                set_default(spec, "successfulJobsHistoryLimit", json!(3));
                set_default(spec, "failedJobsHistoryLimit", json!(1));
                if let Some(job) = spec
                    .get_mut("jobTemplate")
                    .and_then(|j| j.get_mut("spec"))
                    .and_then(Value::as_object_mut)
                {
                    set_default(job, "backoffLimit", json!(6));
                    template(job);
                }
            }
        }
        "v1/Service" => {
            if let Some(spec) = obj(object, "spec") {
                set_default(spec, "type", json!("ClusterIP"));
                set_default(spec, "sessionAffinity", json!("None"));
                if spec["type"] != "ExternalName" {
                    set_default(spec, "internalTrafficPolicy", json!("Cluster"));
                    set_default(spec, "ipFamilies", json!(["IPv4"]));
                    set_default(spec, "ipFamilyPolicy", json!("SingleStack"));
                }
                if spec["type"] == "LoadBalancer" || spec["type"] == "NodePort" {
                    set_default(spec, "externalTrafficPolicy", json!("Cluster"));
                }
                if spec["type"] == "LoadBalancer" {
                    set_default(spec, "allocateLoadBalancerNodePorts", json!(true));
                }
                if let Some(ports) = spec.get_mut("ports").and_then(Value::as_array_mut) {
                    for p in ports.iter_mut().filter_map(Value::as_object_mut) {
                        set_default(p, "protocol", json!("TCP"));
                        if let Some(port) = p.get("port").cloned() {
                            set_default(p, "targetPort", port);
                        }
                    }
                }
            }
        }
        "v1/PersistentVolumeClaim" => {
            if let Some(spec) = obj(object, "spec") {
                set_default(spec, "volumeMode", json!("Filesystem"));
            }
        }
        "v1/PersistentVolume" => {
            if let Some(spec) = obj(object, "spec") {
                set_default(spec, "persistentVolumeReclaimPolicy", json!("Retain"));
                set_default(spec, "volumeMode", json!("Filesystem"));
            }
        }
        "v1/Secret" => {
            if let Some(map) = object.as_object_mut() {
                set_default(map, "type", json!("Opaque"));
            }
            fold_string_data(object);
        }
        "v1/Namespace" => {
            let name = crate::store::name_of(object).to_string();
            if let Some(map) = object.as_object_mut() {
                let spec = map.entry("spec").or_insert_with(|| json!({}));
                if let Some(spec) = spec.as_object_mut() {
                    set_default(spec, "finalizers", json!(["kubernetes"]));
                }
                let meta = map.entry("metadata").or_insert_with(|| json!({}));
                if let Some(meta) = meta.as_object_mut() {
                    let labels = meta.entry("labels").or_insert_with(|| json!({}));
                    if let Some(labels) = labels.as_object_mut() {
                        labels.insert("kubernetes.io/metadata.name".into(), json!(name));
                    }
                }
            }
        }
        "storage.k8s.io/v1/StorageClass" => {
            if let Some(map) = object.as_object_mut() {
                set_default(map, "reclaimPolicy", json!("Delete"));
                set_default(map, "volumeBindingMode", json!("Immediate"));
            }
        }
        "networking.k8s.io/v1/NetworkPolicy" => {
            if let Some(spec) = obj(object, "spec") {
                if spec.get("policyTypes").is_none() {
                    let mut types = vec![json!("Ingress")];
                    if spec.get("egress").is_some() {
                        types.push(json!("Egress"));
                    }
                    spec.insert("policyTypes".into(), Value::Array(types));
                }
                for rule_kind in ["ingress", "egress"] {
                    for rule in spec
                        .get_mut(rule_kind)
                        .and_then(Value::as_array_mut)
                        .into_iter()
                        .flatten()
                    {
                        for port in rule
                            .get_mut("ports")
                            .and_then(Value::as_array_mut)
                            .into_iter()
                            .flatten()
                        {
                            if let Some(p) = port.as_object_mut() {
                                set_default(p, "protocol", json!("TCP"));
                            }
                        }
                    }
                }
            }
        }
        _ => {}
    }
}

/// `stringData` is write-only: merged into `data` (base64) on the way in.
fn fold_string_data(object: &mut Value) {
    use base64::Engine;
    let Some(map) = object.as_object_mut() else {
        return;
    };
    let Some(Value::Object(string_data)) = map.remove("stringData") else {
        return;
    };
    let data = map.entry("data").or_insert_with(|| json!({}));
    if let Some(data) = data.as_object_mut() {
        for (k, v) in string_data {
            let text = v.as_str().unwrap_or_default();
            data.insert(
                k,
                json!(base64::engine::general_purpose::STANDARD.encode(text)),
            );
        }
    }
}

fn template(spec: &mut Map<String, Value>) {
    if let Some(pod_spec) = spec
        .get_mut("template")
        .and_then(|t| t.get_mut("spec"))
        .and_then(Value::as_object_mut)
    {
        pod_spec_defaults(pod_spec, false);
    }
}

fn pod_spec(spec: &mut Map<String, Value>, is_pod: bool) {
    pod_spec_defaults(spec, is_pod);
}

fn pod_spec_defaults(spec: &mut Map<String, Value>, is_pod: bool) {
    set_default(spec, "restartPolicy", json!("Always"));
    set_default(spec, "terminationGracePeriodSeconds", json!(30));
    set_default(spec, "dnsPolicy", json!("ClusterFirst"));
    set_default(spec, "securityContext", json!({}));
    set_default(spec, "schedulerName", json!("default-scheduler"));
    if let Some(sa) = spec.get("serviceAccountName").cloned() {
        set_default(spec, "serviceAccount", sa);
    }
    if is_pod {
        set_default(spec, "serviceAccountName", json!("default"));
        set_default(spec, "serviceAccount", json!("default"));
        set_default(spec, "enableServiceLinks", json!(true));
        set_default(spec, "priority", json!(0));
        set_default(spec, "preemptionPolicy", json!("PreemptLowerPriority"));
        set_default(
            spec,
            "tolerations",
            json!([
                {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
                {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}
            ]),
        );
    }
    for list in ["containers", "initContainers"] {
        if let Some(containers) = spec.get_mut(list).and_then(Value::as_array_mut) {
            for c in containers.iter_mut().filter_map(Value::as_object_mut) {
                container(c);
            }
        }
    }
    if let Some(volumes) = spec.get_mut("volumes").and_then(Value::as_array_mut) {
        for v in volumes.iter_mut().filter_map(Value::as_object_mut) {
            for source in ["secret", "configMap", "projected", "downwardAPI"] {
                if let Some(s) = v.get_mut(source).and_then(Value::as_object_mut) {
                    set_default(s, "defaultMode", json!(420));
                }
            }
        }
    }
}

fn probe(p: &mut Map<String, Value>) {
    set_default(p, "timeoutSeconds", json!(1));
    set_default(p, "periodSeconds", json!(10));
    set_default(p, "successThreshold", json!(1));
    set_default(p, "failureThreshold", json!(3));
    if let Some(h) = p.get_mut("httpGet").and_then(Value::as_object_mut) {
        set_default(h, "scheme", json!("HTTP"));
    }
}

fn container(c: &mut Map<String, Value>) {
    set_default(c, "terminationMessagePath", json!("/dev/termination-log"));
    set_default(c, "terminationMessagePolicy", json!("File"));
    set_default(c, "resources", json!({}));
    let image = c
        .get("image")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let tag = crate::registry::ImageRef::parse(&image).tag;
    let policy = if tag == "latest" {
        "Always"
    } else {
        "IfNotPresent"
    };
    set_default(c, "imagePullPolicy", json!(policy));
    if let Some(ports) = c.get_mut("ports").and_then(Value::as_array_mut) {
        for p in ports.iter_mut().filter_map(Value::as_object_mut) {
            set_default(p, "protocol", json!("TCP"));
        }
    }
    for name in ["livenessProbe", "readinessProbe", "startupProbe"] {
        if let Some(p) = c.get_mut(name).and_then(Value::as_object_mut) {
            probe(p);
        }
    }
    if let Some(env) = c.get_mut("env").and_then(Value::as_array_mut) {
        for e in env.iter_mut() {
            if let Some(field_ref) = e
                .get_mut("valueFrom")
                .and_then(|v| v.get_mut("fieldRef"))
                .and_then(Value::as_object_mut)
            {
                set_default(field_ref, "apiVersion", json!("v1"));
            }
        }
    }
}
